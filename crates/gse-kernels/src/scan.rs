//! Scans along one axis: cumulative sum, product, maximum and minimum.
//!
//! Accuracy: `cumsum` outputs are exact prefix sums correctly rounded to the output format
//! (at most half a quantum of error with nearest rounding); `cumprod` element `k` carries a
//! relative error below `(k + 1) * 2^-61` before its final rounding; `cummax`/`cummin` are
//! exact.

use gse::sort_key::order_key;
use gse::{Dyadic, GseFormat, Rounding};

use crate::accumulate::LongAcc;
use crate::lines::{Lines, produce_lines};
use crate::reduce::mul_clamped;
use crate::tensor::GseTensor;

/// Widest span of bits (from the lowest lsb to the top of the largest prefix) summed in an
/// `i128`; wider lines use the long accumulator.
const I128_SPAN: i32 = 126;

/// A scan: `fill(line values, out)` writes the scanned line.
fn scan<F>(
    x: &GseTensor,
    dim: usize,
    op: &str,
    format: GseFormat,
    rounding: Rounding,
    f: F,
) -> GseTensor
where
    F: Fn(&[Dyadic], &mut [Dyadic]) + Sync,
{
    let lines = Lines::new(x, dim, op);
    let (blocks, lines, f) = (x.blocks(), &lines, &f);
    let mut buf = Vec::new();
    produce_lines(x.shape(), dim, format, rounding, move |line, out| {
        lines.read_dyadics(blocks, line, &mut buf);
        f(&buf, out);
    })
}

/// Cumulative sum along `dim`; every output is the exact prefix sum, correctly rounded.
pub fn cumsum(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    scan(x, dim, "cumsum", format, rounding, prefix_sums)
}

/// Exact prefix sums: in an `i128` on the line's common grid when its span allows (the usual
/// case), else in a [`LongAcc`].
fn prefix_sums(values: &[Dyadic], out: &mut [Dyadic]) {
    let nonzero = values.iter().filter(|v| !v.is_zero());
    let Some(low) = nonzero.clone().map(|v| v.exp).min() else {
        out.fill(Dyadic::ZERO);
        return;
    };
    let high = nonzero.map(|v| v.top()).max().unwrap_or(low);
    let growth = usize::BITS as i32 - values.len().leading_zeros() as i32;
    if high - low + growth < I128_SPAN {
        let mut sum = 0i128;
        for (v, o) in values.iter().zip(out.iter_mut()) {
            if !v.is_zero() {
                sum += (v.mant as i128) << (v.exp - low);
            }
            *o = Dyadic::from_i128(sum, low);
        }
    } else {
        let mut acc = LongAcc::new();
        for (v, o) in values.iter().zip(out.iter_mut()) {
            acc.add(v.mant as i32, v.exp);
            *o = acc.to_dyadic();
        }
    }
}

/// Cumulative product along `dim` (62-bit products in order; see the module docs).
pub fn cumprod(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    scan(x, dim, "cumprod", format, rounding, |values, out| {
        let mut p = Dyadic::ONE;
        for (&v, o) in values.iter().zip(out.iter_mut()) {
            p = mul_clamped(p, v);
            *o = p;
        }
    })
}

/// Running extreme: `better(key, best)` says when a new key replaces the current one.
fn running(values: &[Dyadic], out: &mut [Dyadic], better: fn(i64, i64) -> bool) {
    let mut best: Option<(i64, Dyadic)> = None;
    for (&v, o) in values.iter().zip(out.iter_mut()) {
        let key = order_key(v);
        match best {
            Some((b, _)) if !better(key, b) => {}
            _ => best = Some((key, v)),
        }
        *o = best.map_or(v, |b| b.1);
    }
}

/// Cumulative maximum along `dim` (exact).
pub fn cummax(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    scan(x, dim, "cummax", format, rounding, |values, out| {
        running(values, out, |k, b| k > b)
    })
}

/// Cumulative minimum along `dim` (exact).
pub fn cummin(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    scan(x, dim, "cummin", format, rounding, |values, out| {
        running(values, out, |k, b| k < b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::SCALE_MIN;

    #[test]
    fn wide_and_narrow_prefix_sums_agree() {
        let values = [
            Dyadic::new(3, 100),
            Dyadic::new(-5, SCALE_MIN - 24),
            Dyadic::ZERO,
            Dyadic::new(-3, 100),
        ];
        let mut out = [Dyadic::ZERO; 4];
        prefix_sums(&values, &mut out);
        assert_eq!(
            out[3].cmp_value(Dyadic::new(-5, SCALE_MIN - 24)),
            core::cmp::Ordering::Equal
        );
        let narrow = [Dyadic::new(7, -3), Dyadic::new(1, 0), Dyadic::new(-1, -1)];
        let mut out = [Dyadic::ZERO; 3];
        prefix_sums(&narrow, &mut out);
        assert_eq!(out.map(|d| d.round_at(-3)), [7, 15, 11]);
    }
}
