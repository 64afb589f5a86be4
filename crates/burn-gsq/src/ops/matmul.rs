//! `float_matmul`: batched, broadcasting matmul on the integer GEMM.
//!
//! Operands are re-quantized to the policy's `matmul_operand` format with groups along K inside
//! the GEMM's packing, so transposed views (the backward pass's `dY·Wᵀ`, `Xᵀ·dY`) need no copy.
//! Operand formats with a scale per value (the exact preset) take an exact dot-product path:
//! products are exact, their sum is accumulated exactly and rounded once.

use gse::{Dyadic, GseBlocks};
use gse_gemm::{GemmConfig, MatRef};
use gse_kernels::{GseTensor, broadcast_shape};
use rayon::prelude::*;

use crate::GsqTensor;

/// One batch entry's matrix view.
fn mat_ref<'a>(t: &'a GseTensor, batch_offset: isize, rows: usize, cols: usize) -> MatRef<'a> {
    let l = t.layout();
    let r = l.rank();
    MatRef {
        blocks: t.blocks(),
        offset: (l.offset() as isize + batch_offset) as usize,
        row_stride: l.strides()[r - 2],
        col_stride: l.strides()[r - 1],
        rows,
        cols,
    }
}

/// Storage offsets of every batch entry of `t` (expanded to the batch shape), row-major.
fn batch_offsets(t: &GseTensor, batch: &[usize]) -> Vec<isize> {
    let l = t.layout();
    let lead = batch.len() + 2 - l.rank();
    let strides: Vec<isize> = (0..batch.len())
        .map(|a| {
            if a < lead || l.shape()[a - lead] == 1 {
                0
            } else {
                l.strides()[a - lead]
            }
        })
        .collect();
    let count: usize = batch.iter().product();
    (0..count)
        .map(|mut i| {
            let mut off = 0isize;
            for a in (0..batch.len()).rev() {
                off += (i % batch[a]) as isize * strides[a];
                i /= batch[a];
            }
            off
        })
        .collect()
}

pub(crate) fn matmul(lhs: GsqTensor, rhs: GsqTensor) -> GsqTensor {
    let operand = lhs.policy().matmul_operand;
    matmul_with_operand(lhs, rhs, operand)
}

/// [`matmul`] with both operands re-quantized to `operand`.
pub(crate) fn matmul_with_operand(
    lhs: GsqTensor,
    rhs: GsqTensor,
    operand: gse::GseFormat,
) -> GsqTensor {
    let (a, b) = (lhs.dims().to_vec(), rhs.dims().to_vec());
    let (ra, rb) = (a.len(), b.len());
    let (m, k, n) = (a[ra - 2], a[ra - 1], b[rb - 1]);
    assert_eq!(
        k,
        b[rb - 2],
        "burn-gsq: matmul: inner dimensions differ ({a:?} x {b:?})"
    );
    let batch = broadcast_shape(&a[..ra - 2], &b[..rb - 2])
        .unwrap_or_else(|| panic!("burn-gsq: matmul: batch dims {a:?} and {b:?} do not broadcast"));
    let (oa, ob) = (
        batch_offsets(&lhs.tensor, &batch),
        batch_offsets(&rhs.tensor, &batch),
    );
    let a_refs: Vec<MatRef> = oa.iter().map(|&o| mat_ref(&lhs.tensor, o, m, k)).collect();
    let b_refs: Vec<MatRef> = ob.iter().map(|&o| mat_ref(&rhs.tensor, o, k, n)).collect();
    let p = lhs.policy();
    let cfg = GemmConfig {
        operand_format: operand,
        out_format: p.stream,
        rounding: p.rounding,
    };
    let blocks = if operand.group_size() == 1 {
        exact_matmul(&a_refs, &b_refs, &cfg)
    } else {
        gse_gemm::matmul_batched(&a_refs, &b_refs, &cfg)
    };
    let mut shape = batch;
    shape.extend_from_slice(&[m, n]);
    lhs.derive(GseTensor::from_blocks(blocks, &shape))
}

fn element(m: &MatRef, r: usize, c: usize) -> Dyadic {
    let p = m.offset as isize + r as isize * m.row_stride + c as isize * m.col_stride;
    m.blocks.get(p as usize)
}

/// Each output is the exact sum of exact products, rounded once to the output format.
fn exact_matmul(a: &[MatRef], b: &[MatRef], cfg: &GemmConfig) -> GseBlocks {
    let (m, k) = a.first().map_or((0, 0), |x| (x.rows, x.cols));
    let n = b.first().map_or(0, |x| x.cols);
    let values: Vec<Dyadic> = (0..a.len() * m * n)
        .into_par_iter()
        .map(|i| {
            let (e, r, c) = (i / (m * n), (i / n) % m, i % n);
            (0..k).fold(Dyadic::ZERO, |acc, j| {
                acc.add(element(&a[e], r, j).mul(element(&b[e], j, c)))
            })
        })
        .collect();
    gse::encode_dyadics(cfg.out_format, &values, cfg.rounding)
}
