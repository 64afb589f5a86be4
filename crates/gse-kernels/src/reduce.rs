//! Reductions: sum, mean, product, max/min (with indices) and variance, along one axis or over
//! the whole tensor. Reductions along `dim` keep it with size 1, as burn does; indices come
//! back in row-major order of that reduced shape.
//!
//! Accuracy, for every output format and rounding:
//! - `sum_*`: exact integer accumulation ([`LongAcc`]), one final rounding: the result is the
//!   exact sum correctly rounded (error at most half a quantum of the output, nearest rounding).
//! - `mean_*`: the exact sum divided exactly by the count, correctly rounded likewise.
//! - `max_*`/`min_*`: exact (the chosen element, re-rounded only if the format is narrower).
//! - `prod_*`: 62-bit products in a fixed order: relative error below `n * 2^-61` before the
//!   final rounding (e.g. under 2^-38 of the value for n = 8M, far below one f32 ulp).
//! - `var_dim`: exact mean, then squared deviations with 62-bit arithmetic in a fixed order:
//!   relative error below `(n + 4) * 2^-60` before the final rounding.
//!
//! GSE has no NaN: a mean of zero elements and a variance with `correction >= n` give 0 and are
//! counted as NaN in [`gse::special`].

use gse::sort_key::order_key;
use gse::{Dyadic, GseFormat, Rounding};
use rayon::prelude::*;

use crate::accumulate::LongAcc;
use crate::key::value_key;
use crate::lines::{Lines, from_values, record_nan, with_dim};
use crate::tensor::GseTensor;

/// Elements of one line summed by one task; longer lines are split (sums are exact, so the
/// split cannot change the result).
const SUM_CHUNK: usize = 1 << 16;
/// Elements multiplied (or squared and added) in sequence before the partial results are
/// combined in order: fixed, so results do not depend on the thread count.
const ORDERED_CHUNK: usize = 4096;
/// Products whose exponent leaves `±2^24` are clamped there: every format flushes or
/// saturates them anyway, and clamping keeps the exponent arithmetic far from `i32` overflow.
const PROD_EXP_LIMIT: i32 = 1 << 24;

// ---------------------------------------------------------------- sum and mean

/// The exact sum of elements `range` of line `line`.
fn line_acc(x: &GseTensor, lines: &Lines, line: usize, range: core::ops::Range<usize>) -> LongAcc {
    let blocks = x.blocks();
    if range.len() <= SUM_CHUNK {
        let mut acc = LongAcc::new();
        lines.visit(blocks, line, range, |m, e| acc.add(m, e));
        return acc;
    }
    let starts: Vec<usize> = range.clone().step_by(SUM_CHUNK).collect();
    starts
        .into_par_iter()
        .map(|s| line_acc(x, lines, line, s..(s + SUM_CHUNK).min(range.end)))
        .reduce(LongAcc::new, |mut a, b| {
            a.merge(&b);
            a
        })
}

/// The exact sum of every element of `x`.
fn total_acc(x: &GseTensor, op: &str) -> (LongAcc, usize) {
    let lines = Lines::all(x, op);
    let acc = (0..lines.count())
        .into_par_iter()
        .map(|l| line_acc(x, &lines, l, 0..lines.len))
        .reduce(LongAcc::new, |mut a, b| {
            a.merge(&b);
            a
        });
    (acc, x.num_elements())
}

/// Per-line values along `dim`, rounded into the reduced shape.
fn reduce_lines<F>(
    x: &GseTensor,
    dim: usize,
    op: &str,
    format: GseFormat,
    rounding: Rounding,
    f: F,
) -> GseTensor
where
    F: Fn(&Lines, usize) -> Dyadic + Sync,
{
    let lines = Lines::new(x, dim, op);
    let values: Vec<Dyadic> = (0..lines.count())
        .into_par_iter()
        .map(|l| f(&lines, l))
        .collect();
    from_values(&with_dim(x.shape(), dim, 1), &values, format, rounding)
}

/// Sum along `dim`, correctly rounded to `format`.
pub fn sum_dim(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    reduce_lines(x, dim, "sum_dim", format, rounding, |lines, l| {
        line_acc(x, lines, l, 0..lines.len).to_dyadic()
    })
}

/// Sum of all elements (shape `[1]`), correctly rounded to `format`.
pub fn sum_all(x: &GseTensor, format: GseFormat, rounding: Rounding) -> GseTensor {
    let (acc, _) = total_acc(x, "sum_all");
    from_values(&[1], &[acc.to_dyadic()], format, rounding)
}

/// `acc / count`, or 0 (counted as NaN) for an empty reduction.
fn mean_of(acc: &LongAcc, count: usize) -> Dyadic {
    if count == 0 {
        record_nan(1);
        return Dyadic::ZERO;
    }
    acc.div_to_dyadic(count as u64)
}

/// Mean along `dim`: the exact sum divided by the count, correctly rounded to `format`.
pub fn mean_dim(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    reduce_lines(x, dim, "mean_dim", format, rounding, |lines, l| {
        mean_of(&line_acc(x, lines, l, 0..lines.len), lines.len)
    })
}

/// Mean of all elements (shape `[1]`), correctly rounded to `format`.
pub fn mean_all(x: &GseTensor, format: GseFormat, rounding: Rounding) -> GseTensor {
    let (acc, count) = total_acc(x, "mean_all");
    from_values(&[1], &[mean_of(&acc, count)], format, rounding)
}

// ---------------------------------------------------------------- product

/// `a * b` with the exponent clamped to `±PROD_EXP_LIMIT` (see the constant).
#[inline]
pub(crate) fn mul_clamped(a: Dyadic, b: Dyadic) -> Dyadic {
    let p = a.mul(b);
    if p.is_zero() {
        return Dyadic::ZERO;
    }
    let top = p.top();
    if top > PROD_EXP_LIMIT {
        Dyadic::new(p.mant.signum(), PROD_EXP_LIMIT)
    } else if top < -PROD_EXP_LIMIT {
        Dyadic::new(p.mant.signum(), -PROD_EXP_LIMIT)
    } else {
        p
    }
}

/// Product of `count` values fetched by `value(i)`, in chunks of [`ORDERED_CHUNK`] whose
/// partial products are combined in order.
fn ordered_product<V>(count: usize, value: V) -> Dyadic
where
    V: Fn(core::ops::Range<usize>) -> Dyadic + Sync,
{
    if count <= ORDERED_CHUNK {
        return value(0..count);
    }
    let partials: Vec<Dyadic> = (0..count.div_ceil(ORDERED_CHUNK))
        .into_par_iter()
        .map(|c| value(c * ORDERED_CHUNK..((c + 1) * ORDERED_CHUNK).min(count)))
        .collect();
    partials.into_iter().fold(Dyadic::ONE, mul_clamped)
}

/// Product along `dim`. Zeros give exact zeros and signs are exact; see the module docs for
/// the error bound.
pub fn prod_dim(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    reduce_lines(x, dim, "prod_dim", format, rounding, |lines, l| {
        ordered_product(lines.len, |range| {
            let mut p = Dyadic::ONE;
            lines.visit(x.blocks(), l, range, |m, e| {
                p = mul_clamped(p, Dyadic::new(m as i64, e))
            });
            p
        })
    })
}

/// Product of all elements in row-major order (shape `[1]`), whatever the layout.
pub fn prod_all(x: &GseTensor, format: GseFormat, rounding: Rounding) -> GseTensor {
    let layout = x.layout();
    let blocks = x.blocks();
    let p = ordered_product(x.num_elements(), |range| {
        let mut idx = vec![0usize; range.len()];
        layout.fill_indices(range.start, &mut idx);
        idx.iter()
            .fold(Dyadic::ONE, |p, &i| mul_clamped(p, blocks.get(i)))
    });
    from_values(&[1], &[p], format, rounding)
}

// ---------------------------------------------------------------- max and min

/// Which extreme a search looks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extreme {
    Max,
    Min,
}

/// The extreme element of a line and its first index, compared exactly through
/// [`value_key`]. Panics (naming `op`) on an empty line.
fn line_extreme(
    x: &GseTensor,
    lines: &Lines,
    line: usize,
    which: Extreme,
    op: &str,
) -> (Dyadic, i64) {
    assert!(lines.len > 0, "{op}: cannot reduce an empty dimension");
    let mut best = (i64::MIN, (0, 0), 0i64);
    let mut k = 0i64;
    lines.visit(x.blocks(), line, 0..lines.len, |m, e| {
        let key = match which {
            Extreme::Max => value_key(m, e),
            Extreme::Min => -value_key(m, e),
        };
        // Strictly better only: ties keep the first index, as burn-ndarray does.
        if key > best.0 || k == 0 {
            best = (key, (m, e), k);
        }
        k += 1;
    });
    let (m, e) = best.1;
    (Dyadic::new(m as i64, e), best.2)
}

fn extreme_dim(
    x: &GseTensor,
    dim: usize,
    which: Extreme,
    op: &str,
) -> (Vec<Dyadic>, Vec<i64>, Vec<usize>) {
    let lines = Lines::new(x, dim, op);
    let (values, indices) = (0..lines.count())
        .into_par_iter()
        .map(|l| line_extreme(x, &lines, l, which, op))
        .unzip();
    (values, indices, with_dim(x.shape(), dim, 1))
}

fn extreme_all(
    x: &GseTensor,
    which: Extreme,
    op: &str,
    format: GseFormat,
    rounding: Rounding,
) -> GseTensor {
    let lines = Lines::all(x, op);
    let best = (0..lines.count())
        .into_par_iter()
        .map(|l| line_extreme(x, &lines, l, which, op).0)
        .reduce_with(|a, b| {
            let a_wins = match which {
                Extreme::Max => order_key(a) >= order_key(b),
                Extreme::Min => order_key(a) <= order_key(b),
            };
            if a_wins { a } else { b }
        });
    let best = best.unwrap_or_else(|| panic!("{op}: cannot reduce an empty tensor"));
    from_values(&[1], &[best], format, rounding)
}

/// Maximum along `dim` (exact; rounded only if `format` is narrower than the input).
pub fn max_dim(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    max_dim_with_indices(x, dim, format, rounding).0
}

/// Minimum along `dim`.
pub fn min_dim(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    min_dim_with_indices(x, dim, format, rounding).0
}

/// Maximum of all elements, shape `[1]`.
pub fn max_all(x: &GseTensor, format: GseFormat, rounding: Rounding) -> GseTensor {
    extreme_all(x, Extreme::Max, "max_all", format, rounding)
}

/// Minimum of all elements, shape `[1]`.
pub fn min_all(x: &GseTensor, format: GseFormat, rounding: Rounding) -> GseTensor {
    extreme_all(x, Extreme::Min, "min_all", format, rounding)
}

/// Index of the maximum along `dim` (the first one on ties).
pub fn argmax_dim(x: &GseTensor, dim: usize) -> Vec<i64> {
    extreme_dim(x, dim, Extreme::Max, "argmax_dim").1
}

/// Index of the minimum along `dim` (the first one on ties).
pub fn argmin_dim(x: &GseTensor, dim: usize) -> Vec<i64> {
    extreme_dim(x, dim, Extreme::Min, "argmin_dim").1
}

/// Maximum along `dim` and its index (the first one on ties).
pub fn max_dim_with_indices(
    x: &GseTensor,
    dim: usize,
    format: GseFormat,
    rounding: Rounding,
) -> (GseTensor, Vec<i64>) {
    let (values, indices, shape) = extreme_dim(x, dim, Extreme::Max, "max_dim");
    (from_values(&shape, &values, format, rounding), indices)
}

/// Minimum along `dim` and its index (the first one on ties).
pub fn min_dim_with_indices(
    x: &GseTensor,
    dim: usize,
    format: GseFormat,
    rounding: Rounding,
) -> (GseTensor, Vec<i64>) {
    let (values, indices, shape) = extreme_dim(x, dim, Extreme::Min, "min_dim");
    (from_values(&shape, &values, format, rounding), indices)
}

// ---------------------------------------------------------------- variance

/// Variance along `dim` with Bessel-style `correction`: `sum((x - mean)^2) / (n - correction)`.
/// Two passes: the mean is the exact sum divided by `n` (62 bits, rounded to odd), then the
/// squared deviations are summed with 62-bit arithmetic in fixed-size chunks combined in
/// order. See the module docs for the bound; `n <= correction` gives 0 counted as NaN.
pub fn var_dim(
    x: &GseTensor,
    dim: usize,
    correction: usize,
    format: GseFormat,
    rounding: Rounding,
) -> GseTensor {
    reduce_lines(x, dim, "var_dim", format, rounding, |lines, l| {
        let n = lines.len;
        if n <= correction {
            record_nan(1);
            return Dyadic::ZERO;
        }
        let mean = line_acc(x, lines, l, 0..n).div_to_dyadic(n as u64);
        let partials: Vec<Dyadic> = (0..n.div_ceil(ORDERED_CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut s = Dyadic::ZERO;
                let range = c * ORDERED_CHUNK..((c + 1) * ORDERED_CHUNK).min(n);
                lines.visit(x.blocks(), l, range, |m, e| {
                    let d = Dyadic::new(m as i64, e).sub(mean);
                    s = s.add(d.mul(d));
                });
                s
            })
            .collect();
        let ssq = partials.into_iter().fold(Dyadic::ZERO, Dyadic::add);
        ssq.div(Dyadic::from_int((n - correction) as i64))
            .unwrap_or(Dyadic::ZERO)
    })
}
