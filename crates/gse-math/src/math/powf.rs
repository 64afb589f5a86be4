//! `x^y` with the C `powf` rules for finite arguments.
//!
//! Method: integer exponents up to 64 in magnitude by binary powering (at most 12 roundings of
//! `2^-64`, then one reciprocal for negative exponents), so squares and cubes stay within a
//! few units of the 62nd bit; every other exponent as `e^(y ln|x|)`, where `ln|x|` has absolute
//! error `2^-61` (relative `2^-59` near 1) and the product `t = y ln|x|` is only formed where
//! `|t| < 2^8` matters, so `t` is good to about `2^-53` absolute and `x^y` to about `2^-52`
//! relative.

use gse::Dyadic;

use super::exp::exp_norm;
use super::log::ln_norm;
use crate::outcome::{Outcome, flush_underflow};
use crate::support::norm::Norm;

/// Largest integer exponent done by repeated multiplication.
const MAX_POWI: u64 = 64;

/// `None` when `y` is not an integer, else whether it is odd.
fn integer_parity(y: Dyadic) -> Option<bool> {
    let mag = y.mant.unsigned_abs();
    if y.exp > 0 || mag == 0 {
        return Some(false);
    }
    if y.exp == 0 {
        return Some(mag & 1 == 1);
    }
    let shift = y.exp.unsigned_abs();
    if shift >= 64 || mag & ((1u64 << shift) - 1) != 0 {
        return None;
    }
    Some((mag >> shift) & 1 == 1)
}

/// `|y|` when `y` is an integer no larger than [`MAX_POWI`] in magnitude.
fn small_integer_magnitude(y: Norm) -> Option<u64> {
    if y.top() > 7 {
        return None;
    }
    let mag = y.abs().to_fixed(0) as u64;
    let exact = Norm::from_u128(false, mag as u128, 0) == y.abs();
    (exact && mag <= MAX_POWI).then_some(mag)
}

/// `base^k` by binary powering; `k >= 1`.
fn powi(base: Norm, mut k: u64) -> Norm {
    let mut acc = Norm::ONE;
    let mut square = base;
    while k > 0 {
        if k & 1 == 1 {
            acc = acc.mul(square);
        }
        k >>= 1;
        if k > 0 {
            square = square.mul(square);
        }
    }
    acc
}

/// `x^y` for finite `x`, `y`, following C `powf`: `x^0 = 1` (even `0^0`), `1^y = 1`,
/// `0^y = 0` for `y > 0` and `+Infinite` for `y < 0` (our zero is +0), a negative base needs an
/// integer exponent (else `Nan`) and is negative for odd ones. `Infinite` when `|x^y| >= 2^128`,
/// 0 below `2^-160`. Relative error below `2^-57` for integer `|y| <= 64` and below `2^-52`
/// otherwise (measured maximum against mpmath over `x` in `[2^-20, 2^20]`, `y` in `[-40, 40]`: `2^-55.5`).
pub fn powf(x: Dyadic, y: Dyadic) -> Outcome {
    let (base, exponent) = (Norm::from_dyadic(x), Norm::from_dyadic(y));
    if exponent.is_zero() {
        return Outcome::Finite(Dyadic::ONE);
    }
    if base.is_zero() {
        return if exponent.negative {
            Outcome::Infinite { negative: false }
        } else {
            Outcome::Finite(Dyadic::ZERO)
        };
    }
    let parity = integer_parity(y);
    if base.negative && parity.is_none() {
        return Outcome::Nan;
    }
    let negative = base.negative && parity == Some(true);
    let base = base.abs();
    let magnitude = if base.is_one() {
        Norm::ONE
    } else if let Some(k) = small_integer_magnitude(exponent) {
        let power = powi(base, k);
        if exponent.negative {
            Norm::ONE.div(power).unwrap_or(Norm::ZERO)
        } else {
            power
        }
    } else {
        exp_norm(exponent.mul(ln_norm(base)))
    };
    Outcome::from_norm(flush_underflow(magnitude).with_sign(negative))
}
