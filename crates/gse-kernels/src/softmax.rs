//! Fused, numerically stable softmax and log-softmax along one axis.
//!
//! Each line is shifted by its exact maximum `M`, so every exponent argument `z = x - M` is
//! `<= 0` and the fixed-point [`exp_neg_q40`] applies. The line sum `S = sum e^z` (in
//! `[1, n]`) is kept in a 128-bit fixed-point integer, exact up to the `2^-90` truncation of
//! each term.
//!
//! Accuracy before the one final rounding to the output format:
//! - `softmax`: relative error below `2^-44` (the `2^-46` of each exponential, the sum, a
//!   62-bit division and a 62-bit product). So with the exact format it is within 1 ulp of f32 (correctly rounded
//!   except within `2^-44` of a tie), and at STREAM16 the relative error is at most `2^-15`.
//!   Outputs below `2^-200` are flushed to 0 (every format flushes them anyway).
//! - `log_softmax`: `z - ln S` with `z` exact when the line's values are below `2^21` and
//!   multiples of `2^-40` (else `z` within `2^-41` absolute, or 62-bit relative for lines with
//!   larger values) and `ln S` within `2^-58` relative: absolute error below `2^-40`, which is
//!   below `2^-39` relative since `|log_softmax| >= ln 2` for all but the maximum element.

use gse::{Dyadic, GseFormat, Rounding};

use crate::fixed_exp::{Z_FRAC_BITS, Z_MIN, exp_neg_q40, ln_at_least_one};
use crate::key::value_key;
use crate::lines::{Lines, produce_lines};
use crate::tensor::GseTensor;

/// Lines whose largest magnitude is below `2^FAST_TOP` take the all-integer fast path:
/// values in Q40 then fit an `i64` with room for the differences.
const FAST_TOP: i32 = 21;
/// Fractional bits of the exponentials' sum.
const SUM_FRAC_BITS: i32 = 90;

/// Softmax along `dim`; see the module docs for the bound.
pub fn softmax(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    run(x, dim, "softmax", format, rounding, false)
}

/// Log-softmax along `dim`; see the module docs for the bound.
pub fn log_softmax(x: &GseTensor, dim: usize, format: GseFormat, rounding: Rounding) -> GseTensor {
    run(x, dim, "log_softmax", format, rounding, true)
}

fn run(
    x: &GseTensor,
    dim: usize,
    op: &str,
    format: GseFormat,
    rounding: Rounding,
    log: bool,
) -> GseTensor {
    let lines = Lines::new(x, dim, op);
    let (blocks, lines) = (x.blocks(), &lines);
    let mut scratch = LineScratch::default();
    produce_lines(x.shape(), dim, format, rounding, move |line, out| {
        lines.read(blocks, line, &mut scratch.mants, &mut scratch.lsbs);
        softmax_line(&mut scratch, out, log);
    })
}

/// Per-worker buffers.
#[derive(Clone, Default)]
struct LineScratch {
    mants: Vec<i32>,
    lsbs: Vec<i32>,
    /// `z = x - M` in Q40 for every element.
    z: Vec<i64>,
}

/// One line: `out` receives softmax (or log-softmax) of the values in `scratch`.
fn softmax_line(scratch: &mut LineScratch, out: &mut [Dyadic], log: bool) {
    let LineScratch { mants, lsbs, z } = scratch;
    if mants.is_empty() {
        return;
    }
    let (max_index, top) = max_and_top(mants, lsbs);
    let max = Dyadic::new(mants[max_index] as i64, lsbs[max_index]);
    z.clear();
    let fast = top < FAST_TOP;
    if fast {
        let xm = to_q40(mants[max_index], lsbs[max_index]);
        z.extend(
            mants
                .iter()
                .zip(lsbs.iter())
                .map(|(&m, &e)| to_q40(m, e) - xm),
        );
    } else {
        // Exact-value differences rounded to Q40; anything below -2^21 is far past Z_MIN.
        z.extend(mants.iter().zip(lsbs.iter()).map(|(&m, &e)| {
            let d = Dyadic::new(m as i64, e).sub(max);
            if d.top() > FAST_TOP {
                i64::MIN
            } else {
                d.round_at(-(Z_FRAC_BITS as i32))
            }
        }));
    }
    // Sum of e^z in Q90: each term below 2^(90 + 1), at most 2^36 terms.
    let mut sum = 0u128;
    for (&zq, o) in z.iter().zip(out.iter_mut()) {
        let (mant, exp) = exp_neg_q40(zq.max(Z_MIN - 1));
        sum += shift_u128(mant as u128, exp + SUM_FRAC_BITS);
        *o = Dyadic::new(mant as i64, exp);
    }
    let s = Dyadic::from_i128(sum as i128, -SUM_FRAC_BITS);
    if log {
        let ln_s = ln_at_least_one(s);
        for (k, o) in out.iter_mut().enumerate() {
            let zk = if fast {
                Dyadic::new(z[k], -(Z_FRAC_BITS as i32))
            } else {
                Dyadic::new(mants[k] as i64, lsbs[k]).sub(max)
            };
            *o = zk.sub(ln_s);
        }
    } else {
        // S >= 1, so the reciprocal exists. Each e^z has a mantissa in [2^62, 2^63) and the
        // reciprocal one in [2^61, 2^62): their product, truncated by 2^62, fits an i64.
        let recip = Dyadic::ONE
            .div(s)
            .unwrap_or(Dyadic::ZERO)
            .normalized(Dyadic::PRECISION);
        let r = recip.mant as u128;
        for o in out.iter_mut() {
            let y = (o.mant as u128 * r) >> 62;
            *o = Dyadic::new(y as i64, o.exp + recip.exp + 62);
        }
    }
}

/// Index of the first maximum (exact, by [`value_key`]) and the top of the largest magnitude.
fn max_and_top(mants: &[i32], lsbs: &[i32]) -> (usize, i32) {
    let mut best = (i64::MIN, 0usize);
    let mut top = i32::MIN;
    for (k, (&m, &e)) in mants.iter().zip(lsbs.iter()).enumerate() {
        let key = value_key(m, e);
        if key > best.0 {
            best = (key, k);
        }
        if m != 0 {
            top = top.max(e + (32 - m.unsigned_abs().leading_zeros()) as i32);
        }
    }
    (best.1, top)
}

/// `m * 2^e` in Q40, rounded to nearest (ties up); requires `|m * 2^e| < 2^21`.
#[inline]
fn to_q40(m: i32, e: i32) -> i64 {
    let shift = e + Z_FRAC_BITS as i32;
    if shift >= 0 {
        (m as i64) << shift
    } else if shift > -63 {
        let s = -shift;
        ((m as i64) + (1 << (s - 1))) >> s
    } else {
        0
    }
}

/// `v * 2^shift` truncated, for a shift of either sign.
#[inline]
fn shift_u128(v: u128, shift: i32) -> u128 {
    if shift >= 0 {
        v << shift
    } else if shift > -128 {
        v >> -shift
    } else {
        0
    }
}
