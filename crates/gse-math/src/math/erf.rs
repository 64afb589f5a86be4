//! The error function and its complement, and their crate-internal kernels used by GELU.
//!
//! Method: for `|x| < 1`, `erf x = x E(x^2)` (two pieces of degree 11 in `w = x^2`, error
//! `2^-60.6`), relative to `x` so tiny arguments keep their precision. For `x >= 1`,
//! `erfc x = e^(-x^2) H(x)` with `H(x) = e^(x^2) erfc(x)` smooth and slowly varying (40 pieces of
//! width 1/4 over `[1, 11)`), so erfc keeps *relative* precision deep into its tail, and
//! `erf = 1 - erfc` there. Negative arguments use `erf(-x) = -erf(x)`, `erfc(-x) = 2 - erfc(x)`.

use gse::Dyadic;

use super::exp::exp_norm;
use crate::outcome::{Outcome, flush_underflow};
use crate::support::fixed::mul_q62;
use crate::support::norm::Norm;
use crate::tables::erf::{ERF_E, ERFC_H};

/// Beyond `2^SATURATION_LOG2`, `1 - |erf x| < 2^-95`.
const SATURATION_LOG2: i64 = 3;
/// Fraction bits of `H`'s input (its domain reaches 11).
const H_INPUT_FRAC: u32 = 58;
/// End of `H`'s table, 11, in Q58.
const H_END_Q58: i128 = 11 << H_INPUT_FRAC;

/// `erf x` for `|x| < 1`.
#[inline]
fn erf_small(x: Norm) -> Norm {
    let x_q62 = x.to_q62();
    x.mul_q62(ERF_E.eval(mul_q62(x_q62, x_q62)))
}

/// `erfc x` for `x >= 1`; zero from the end of `H`'s table (`x >= 11`, where
/// `erfc x < 2^-178`). Not flushed: GELU multiplies it by `x` first.
#[inline]
fn erfc_tail(x: Norm) -> Norm {
    erfc_tail_from_gauss(x, |x| exp_norm(x.mul(x).neg()))
}

/// `erfc x = gauss(x) H(x)` for `x >= 1`, where `gauss` yields `e^(-x^2)`: lets a caller that
/// already has the Gaussian (the GELU derivative) skip a second exponential.
#[inline]
pub(crate) fn erfc_tail_from_gauss(x: Norm, gauss: impl FnOnce(Norm) -> Norm) -> Norm {
    let x_q58 = x.to_fixed(H_INPUT_FRAC);
    if x_q58 >= H_END_Q58 {
        return Norm::ZERO;
    }
    gauss(x).mul_q62(ERFC_H.eval(x_q58 as i64))
}

/// `|x| < 1`.
#[inline]
pub(crate) fn is_small(x: Norm) -> bool {
    x.top() <= 0
}

pub(crate) fn erf_norm(x: Norm) -> Norm {
    if is_small(x) {
        return erf_small(x);
    }
    if x.top() > SATURATION_LOG2 {
        return Norm::ONE.with_sign(x.negative);
    }
    Norm::ONE.sub(erfc_tail(x.abs())).with_sign(x.negative)
}

pub(crate) fn erfc_norm(x: Norm) -> Norm {
    if is_small(x) {
        return Norm::ONE.sub(erf_small(x));
    }
    if x.negative {
        Norm::TWO.sub(erfc_tail(x.abs()))
    } else {
        erfc_tail(x)
    }
}

/// `erf(x)`: relative error below `2^-58` (measured maximum against mpmath: `2^-59.7`).
pub fn erf(x: Dyadic) -> Outcome {
    // No flush: |erf x| >= |x| for small x, and it is at least erf(1) otherwise.
    Outcome::Finite(erf_norm(Norm::from_dyadic(x)).to_dyadic())
}

/// `erfc(x) = 1 - erf(x)`, with relative precision in the right tail: relative error below
/// `2^-55`; 0 where below `2^-160` (`x > 10.6`). Measured maximum against mpmath: `2^-56.1`.
pub fn erfc(x: Dyadic) -> Outcome {
    Outcome::Finite(flush_underflow(erfc_norm(Norm::from_dyadic(x))).to_dyadic())
}
