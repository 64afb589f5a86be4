//! Floored remainder `x - y floor(x/y)` (the sign of the divisor: Python `%`, torch
//! `remainder`).
//!
//! Method: exact integer arithmetic. With `x = a 2^ex`, `y = b 2^ey`: when `ex >= ey` the
//! remainder of the magnitudes is `(a 2^(ex-ey) mod b) 2^ey`, with `2^(ex-ey) mod b` by modular
//! powering, so huge exponent gaps cost a few dozen 128-bit operations and no big integers; when
//! `ex < ey` either `|x| < |y|` or the gap is below 64 bits and one 128-bit division does it.

use core::cmp::Ordering;

use gse::Dyadic;

use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// `2^k mod m` for `m >= 1`.
fn pow2_mod(mut k: u64, m: u64) -> u128 {
    let m = m as u128;
    let mut result = 1 % m;
    let mut base = 2 % m;
    while k > 0 {
        if k & 1 == 1 {
            result = result * base % m;
        }
        base = base * base % m;
        k >>= 1;
    }
    result
}

/// `a 2^gap mod b`.
fn shifted_mod(a: u64, gap: u64, b: u64) -> u64 {
    if gap < 64 {
        return (((a as u128) << gap) % b as u128) as u64;
    }
    ((a % b) as u128 * pow2_mod(gap, b) % b as u128) as u64
}

/// `|x|` exactly, also for the mantissa `i64::MIN` (whose negation does not fit an `i64`).
fn exact_abs(x: Dyadic) -> Dyadic {
    match x.mant.checked_abs() {
        Some(mant) => Dyadic::new(mant, x.exp),
        None => Dyadic::new(1 << 62, x.exp.saturating_add(1)),
    }
}

/// `|x| mod |y|` (in `[0, |y|)`), exact.
fn magnitude_remainder(x: Dyadic, y: Dyadic) -> Dyadic {
    let (a, b) = (x.mant.unsigned_abs(), y.mant.unsigned_abs());
    let gap = x.exp as i64 - y.exp as i64;
    if gap >= 0 {
        let r = shifted_mod(a, gap as u64, b);
        return Dyadic::new(r as i64, y.exp); // r < b <= 2^63 fits
    }
    // x has the finer grid: y = b 2^(-gap) units of x's ulp.
    if Norm::from_dyadic(x).cmp_abs(Norm::from_dyadic(y)) == Ordering::Less {
        return exact_abs(x);
    }
    // |y| <= |x| < 2^64 ulps, so the gap is below 64 and b << -gap fits.
    let modulus = (b as u128) << gap.unsigned_abs().min(127);
    let r = (a as u128 % modulus) as u64;
    Dyadic::new(r as i64, x.exp)
}

/// `x - y floor(x/y)`: zero or of the sign of `y`, smaller than `|y|`. Exact when `x` and `y`
/// have the same sign; with opposite signs the result is `|y| - (|x| mod |y|)`, exact whenever
/// it fits in 62 bits (always for 24-bit mantissas whose exponents differ by at most 38) and
/// otherwise rounded to odd at 62 bits. `y == 0` gives `Nan`.
pub fn remainder(x: Dyadic, y: Dyadic) -> Outcome {
    if y.is_zero() {
        return Outcome::Nan;
    }
    if x.is_zero() {
        return Outcome::Finite(Dyadic::ZERO);
    }
    let r = magnitude_remainder(x, y);
    if r.is_zero() {
        return Outcome::Finite(Dyadic::ZERO);
    }
    let same_sign = x.is_negative() == y.is_negative();
    let magnitude = if same_sign {
        r
    } else {
        Norm::from_dyadic(y)
            .abs()
            .sub(Norm::from_dyadic(r))
            .to_dyadic()
    };
    Outcome::Finite(if y.is_negative() {
        magnitude.neg()
    } else {
        magnitude
    })
}
