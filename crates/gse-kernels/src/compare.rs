//! Elementwise comparisons, exact on values (not on storage bits): GSE values compare through
//! [`value_key`], an exact total-order integer key for them.

use core::cmp::Ordering;

use gse::Dyadic;
use rayon::prelude::*;

use crate::elementwise::BroadcastError;
use crate::key::value_key;
use crate::layout::{Layout, broadcast_shape, with_index_pair};
use crate::tensor::GseTensor;

/// Outputs per parallel task.
const CHUNK: usize = 8192;
/// [`value_key`] takes values with at most this many significant bits...
const KEY_EXACT_BITS: u32 = 31;
/// ...and tops in this range (every GSE value qualifies; a scalar may not).
const KEY_EXACT_TOPS: core::ops::RangeInclusive<i32> = -480..=480;

/// The [`value_key`] of storage element `p`.
#[inline(always)]
fn key_at(blocks: &gse::GseBlocks, p: usize) -> i64 {
    value_key(blocks.mantissa(p), blocks.lsb_of(p))
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparison {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Comparison {
    /// Whether `lhs <op> rhs` holds when `lhs.cmp(rhs)` is `ordering`.
    #[inline]
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            Comparison::Eq => ordering.is_eq(),
            Comparison::Ne => ordering.is_ne(),
            Comparison::Gt => ordering.is_gt(),
            Comparison::Ge => ordering.is_ge(),
            Comparison::Lt => ordering.is_lt(),
            Comparison::Le => ordering.is_le(),
        }
    }
}

/// Compares the storage elements behind `layout` (logical order) with `f`, in parallel.
fn compare_layout<F>(layout: &Layout, f: F) -> Vec<bool>
where
    F: Fn(usize) -> bool + Sync,
{
    let mut out = vec![false; layout.num_elements()];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
        layout.with_indices(c * CHUNK, out.len(), |idx| {
            for (o, &p) in out.iter_mut().zip(idx) {
                *o = f(p);
            }
        })
    });
    out
}

/// `a <cmp> b` elementwise with broadcasting: the broadcast shape and the results in its
/// row-major order.
pub fn compare(
    a: &GseTensor,
    b: &GseTensor,
    cmp: Comparison,
) -> Result<(Vec<usize>, Vec<bool>), BroadcastError> {
    let shape = broadcast_shape(a.shape(), b.shape()).ok_or_else(|| BroadcastError {
        lhs: a.shape().to_vec(),
        rhs: b.shape().to_vec(),
    })?;
    let (la, lb) = (a.layout().expand(&shape), b.layout().expand(&shape));
    let (ba, bb) = (a.blocks(), b.blocks());
    let mut out = vec![false; la.num_elements()];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
        with_index_pair(&la, &lb, c * CHUNK, out.len(), |ia, ib| {
            for ((o, &pa), &pb) in out.iter_mut().zip(ia).zip(ib) {
                *o = cmp.holds(key_at(ba, pa).cmp(&key_at(bb, pb)));
            }
        })
    });
    Ok((shape, out))
}

/// `a <cmp> s` elementwise, in row-major order of `a`'s shape. Exact for any dyadic `s`.
pub fn compare_scalar(a: &GseTensor, s: Dyadic, cmp: Comparison) -> Vec<bool> {
    let blocks = a.blocks();
    let key_is_exact =
        s.is_zero() || (s.bit_length() <= KEY_EXACT_BITS && KEY_EXACT_TOPS.contains(&s.top()));
    if key_is_exact {
        let ks = value_key(s.mant as i32, s.exp);
        compare_layout(a.layout(), |p| cmp.holds(key_at(blocks, p).cmp(&ks)))
    } else {
        compare_layout(a.layout(), |p| cmp.holds(blocks.get(p).cmp_value(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::{GseFormat, Rounding};

    fn ints(values: &[i64], shape: &[usize]) -> GseTensor {
        crate::generate(shape, GseFormat::EXACT, Rounding::NearestEven, |i| {
            Dyadic::from_int(values[i])
        })
    }

    #[test]
    fn broadcasts_and_compares_values() {
        let a = ints(&[1, 2, 3, 4, 5, 6], &[2, 3]);
        let b = ints(&[2, 5], &[2, 1]);
        let (shape, out) = compare(&a, &b, Comparison::Ge).unwrap();
        assert_eq!(shape, [2, 3]);
        assert_eq!(out, [false, true, true, false, true, true]);
        assert!(compare(&a, &ints(&[1, 2], &[2]), Comparison::Eq).is_err());
    }

    #[test]
    fn scalars_beyond_the_key_range_compare_exactly() {
        let a = ints(&[-1, 0, 1], &[3]);
        let huge = Dyadic::new(1, 900);
        assert_eq!(compare_scalar(&a, huge, Comparison::Lt), [true, true, true]);
        // 1 + 2^-60 has 61 significant bits: 1 is below it, not equal.
        let just_above_one = Dyadic::new((1 << 60) + 1, -60);
        assert_eq!(
            compare_scalar(&a, just_above_one, Comparison::Ge),
            [false, false, false]
        );
        assert_eq!(
            compare_scalar(&a, Dyadic::new(2, -1), Comparison::Eq),
            [false, false, true]
        );
    }
}
