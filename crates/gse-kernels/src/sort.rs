//! Sorting along one axis on [`gse::sort_key::order_key`]'s order, an exact total-order integer key: stable (equal
//! values keep their order, in both directions), and `topk` takes the largest `k` in
//! descending order, first index first among equals.

use gse::{GseFormat, Rounding};
use rayon::prelude::*;

use crate::key::value_key;
use crate::lines::{Lines, lines_to_row_major, produce_lines, with_dim};
use crate::tensor::GseTensor;

/// For each line, the indices of its first `keep` elements in sorted order, line-major.
fn line_orders(
    x: &GseTensor,
    dim: usize,
    descending: bool,
    keep: usize,
    op: &str,
) -> (Lines, Vec<u32>) {
    let lines = Lines::new(x, dim, op);
    let n = lines.len;
    assert!(
        keep <= n,
        "{op}: k = {keep} exceeds the size {n} of dim {dim}"
    );
    assert!(
        n <= u32::MAX as usize,
        "{op}: dim {dim} is too long to sort"
    );
    let mut orders = vec![0u32; lines.count() * keep];
    if keep > 0 {
        let blocks = x.blocks();
        orders.par_chunks_mut(keep).enumerate().for_each_with(
            Vec::new(),
            |keyed: &mut Vec<(i64, u32)>, (line, out)| {
                keyed.clear();
                let mut k = 0u32;
                lines.visit(blocks, line, 0..n, |m, e| {
                    let key = value_key(m, e);
                    // Negated keys sort descending; pairing with the index makes every pair
                    // distinct, so an unstable sort is stable on the keys.
                    keyed.push((if descending { -key } else { key }, k));
                    k += 1;
                });
                if keep < n {
                    keyed.select_nth_unstable(keep - 1);
                    keyed.truncate(keep);
                }
                keyed.sort_unstable();
                for (o, &(_, i)) in out.iter_mut().zip(keyed.iter()) {
                    *o = i;
                }
            },
        );
    }
    (lines, orders)
}

/// Values of `x` along `dim` rearranged by `orders` (line-major, `keep` per line).
fn gather(
    x: &GseTensor,
    dim: usize,
    lines: &Lines,
    orders: &[u32],
    keep: usize,
    format: GseFormat,
    rounding: Rounding,
) -> GseTensor {
    let blocks = x.blocks();
    let shape = with_dim(x.shape(), dim, keep);
    produce_lines(&shape, dim, format, rounding, |line, out| {
        let order = &orders[line * keep..(line + 1) * keep];
        for (o, &k) in out.iter_mut().zip(order) {
            *o = blocks.get(lines.position(line, k as usize));
        }
    })
}

fn as_indices(x: &GseTensor, dim: usize, keep: usize, orders: Vec<u32>) -> Vec<i64> {
    let shape = with_dim(x.shape(), dim, keep);
    let line_major: Vec<i64> = orders.into_par_iter().map(i64::from).collect();
    lines_to_row_major(&shape, dim, line_major)
}

/// `x` sorted along `dim` (stable).
pub fn sort(
    x: &GseTensor,
    dim: usize,
    descending: bool,
    format: GseFormat,
    rounding: Rounding,
) -> GseTensor {
    let n = x.shape().get(dim).copied().unwrap_or(0);
    let (lines, orders) = line_orders(x, dim, descending, n, "sort");
    gather(x, dim, &lines, &orders, n, format, rounding)
}

/// The indices that sort `x` along `dim` (stable), row-major in `x`'s shape.
pub fn argsort(x: &GseTensor, dim: usize, descending: bool) -> Vec<i64> {
    let n = x.shape().get(dim).copied().unwrap_or(0);
    let (_, orders) = line_orders(x, dim, descending, n, "argsort");
    as_indices(x, dim, n, orders)
}

/// [`sort`] and [`argsort`] together.
pub fn sort_with_indices(
    x: &GseTensor,
    dim: usize,
    descending: bool,
    format: GseFormat,
    rounding: Rounding,
) -> (GseTensor, Vec<i64>) {
    let n = x.shape().get(dim).copied().unwrap_or(0);
    let (lines, orders) = line_orders(x, dim, descending, n, "sort_with_indices");
    let values = gather(x, dim, &lines, &orders, n, format, rounding);
    (values, as_indices(x, dim, n, orders))
}

/// The `k` largest values along `dim` in descending order (first index first among equals)
/// and their indices; `dim` has size `k` in both outputs. Panics if `k` exceeds the dim.
pub fn topk(
    x: &GseTensor,
    dim: usize,
    k: usize,
    format: GseFormat,
    rounding: Rounding,
) -> (GseTensor, Vec<i64>) {
    let (lines, orders) = line_orders(x, dim, true, k, "topk");
    let values = gather(x, dim, &lines, &orders, k, format, rounding);
    (values, as_indices(x, dim, k, orders))
}
