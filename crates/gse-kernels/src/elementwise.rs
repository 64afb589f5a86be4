//! Elementwise maps: unary, binary with broadcasting, and generators.

use gse::{Dyadic, GseFormat, Rounding};

use crate::layout::{broadcast_shape, with_index_pair};
use crate::produce::produce;
use crate::tensor::GseTensor;

/// Shapes that do not broadcast.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shapes {lhs:?} and {rhs:?} do not broadcast")]
pub struct BroadcastError {
    pub lhs: Vec<usize>,
    pub rhs: Vec<usize>,
}

/// `f` applied to every element, results rounded to `format`.
pub fn map_unary<F>(x: &GseTensor, format: GseFormat, rounding: Rounding, f: F) -> GseTensor
where
    F: Fn(Dyadic) -> Dyadic + Sync,
{
    let layout = x.layout();
    let blocks = x.blocks();
    let f = &f;
    produce(x.shape(), format, rounding, move |start, out| {
        layout.with_indices(start, out.len(), |idx| {
            for (o, &p) in out.iter_mut().zip(idx) {
                *o = f(blocks.get(p));
            }
        })
    })
}

/// `f` applied to broadcast pairs of elements, results rounded to `format`.
pub fn map_binary<F>(
    a: &GseTensor,
    b: &GseTensor,
    format: GseFormat,
    rounding: Rounding,
    f: F,
) -> Result<GseTensor, BroadcastError>
where
    F: Fn(Dyadic, Dyadic) -> Dyadic + Sync,
{
    let shape = broadcast_shape(a.shape(), b.shape()).ok_or_else(|| BroadcastError {
        lhs: a.shape().to_vec(),
        rhs: b.shape().to_vec(),
    })?;
    let (la, lb) = (a.layout().expand(&shape), b.layout().expand(&shape));
    let (ba, bb) = (a.blocks(), b.blocks());
    let (la, lb, f) = (&la, &lb, &f);
    Ok(produce(&shape, format, rounding, move |start, out| {
        with_index_pair(la, lb, start, out.len(), |ia, ib| {
            for ((o, &pa), &pb) in out.iter_mut().zip(ia).zip(ib) {
                *o = f(ba.get(pa), bb.get(pb));
            }
        })
    }))
}

/// A tensor whose element at logical index `i` is `f(i)`.
pub fn generate<F>(shape: &[usize], format: GseFormat, rounding: Rounding, f: F) -> GseTensor
where
    F: Fn(usize) -> Dyadic + Sync,
{
    produce(shape, format, rounding, |start, out| {
        for (k, o) in out.iter_mut().enumerate() {
            *o = f(start + k);
        }
    })
}
