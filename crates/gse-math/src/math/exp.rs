//! The exponential: `exp`, the softmax variant `exp_nonpositive`, and the crate-internal
//! kernels (`exp_norm`, `expm1_norm`) that tanh, sigmoid, erfc, pow and the hyperbolic functions
//! build on.
//!
//! Method: `x = n ln2/64 + r` with `n = round(64 x / ln2)` (x in Q100, ln2/64 to 100 bits), so
//! `|r| <= ln2/128`; then `e^x = 2^(n >> 6) * 2^((n & 63)/64) * (1 + r q(r))` with the 64
//! powers `2^(j/64)` in Q62 and `q` a degree-6 polynomial (Chebyshev fit, error 2^-63.7).
//!
//! Accuracy: the reduction error is below `2^-86`, the table and polynomial below `2^-62`, so
//! `e^x` has relative error below `2^-60`.

use gse::Dyadic;

use crate::outcome::{Outcome, flush_underflow};
use crate::support::fixed::{ONE_Q62, mul_q62};
use crate::support::norm::Norm;
use crate::tables::consts::{INV_LN2_64_Q32, LN2_64_Q100};
use crate::tables::exp::{EXP_Q, EXP2_64};

/// Arguments at or above `2^EXP_DOMAIN_LOG2` in magnitude over- or underflow outright.
const EXP_DOMAIN_LOG2: i64 = 8;
/// Below `2^TINY_LOG2`, `e^x = 1 + x` to within `2^-124`.
const TINY_LOG2: i64 = -62;

/// `x = n ln2/64 + r`.
#[derive(Clone, Copy)]
struct Reduced {
    n: i64,
    r_q62: i64,
}

/// Requires `|x| < 2^8`.
#[inline]
fn reduce(x: Norm) -> Reduced {
    let x_q100 = x.to_fixed(100);
    // n from x in Q32 times 64/ln2 in Q32: exact to within one of round(64 x / ln2), which
    // only widens |r| by a hair; the polynomial is fitted on the widened range.
    let n = (((x_q100 >> 68) * INV_LN2_64_Q32 as i128 + (1i128 << 63)) >> 64) as i64;
    let r_q100 = x_q100 - n as i128 * LN2_64_Q100;
    Reduced {
        n,
        r_q62: (r_q100 >> 38) as i64,
    }
}

/// `(e^r - 1) / r` in Q62.
#[inline]
fn q_of(r_q62: i64) -> i64 {
    EXP_Q.eval(r_q62)
}

#[inline]
fn exp_reduced(red: Reduced) -> Norm {
    let j = (red.n & 63) as usize;
    let one_plus = ONE_Q62 + mul_q62(red.r_q62, q_of(red.r_q62));
    let v = mul_q62(EXP2_64[j], one_plus); // in [0.99, 2) as Q62
    Norm::from_q62(v).shl(red.n >> 6)
}

/// `e^x` without the range policy. Relative error below `2^-60` for `|x| < 2^8`; beyond, `2^400`
/// (which every caller's overflow check turns into infinity) or zero.
#[inline]
pub(crate) fn exp_norm(x: Norm) -> Norm {
    if x.top() <= TINY_LOG2 {
        return Norm::ONE.add(x);
    }
    if x.top() > EXP_DOMAIN_LOG2 {
        return if x.negative {
            Norm::ZERO
        } else {
            Norm::ONE.shl(400)
        };
    }
    exp_reduced(reduce(x))
}

/// `e^x - 1` for `|x| < 2^8` (larger: as [`exp_norm`] minus one). Relative error below `2^-60`
/// for `|x| <= ln2/128` (where `r = x` and the result is `x q(x)`), below `2^-53` elsewhere.
#[inline]
pub(crate) fn expm1_norm(x: Norm) -> Norm {
    if x.top() > EXP_DOMAIN_LOG2 {
        return exp_norm(x).sub(Norm::ONE);
    }
    let red = reduce(x);
    if red.n == 0 {
        return x.mul_q62(q_of(red.r_q62));
    }
    exp_reduced(red).sub(Norm::ONE)
}

/// `e^x`, relative error below `2^-60` (measured maximum against mpmath: `2^-60.4`). `Infinite` from `x >= 89` (`e^x >= 2^128`), `Finite(0)` where
/// `e^x < 2^-160` (`x < -110.9`).
pub fn exp(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    if x.is_zero() {
        return Outcome::Finite(Dyadic::ONE);
    }
    Outcome::from_norm(flush_underflow(exp_norm(x)))
}

/// `e^min(x, 0)`, in `[0, 1]`: the softmax form `exp(x - max)`, which cannot overflow. Same
/// accuracy as [`exp`]; results below `2^-160` are 0.
pub fn exp_nonpositive(x: Dyadic) -> Dyadic {
    let x = Norm::from_dyadic(x);
    if x.is_zero() || !x.negative {
        return Dyadic::ONE;
    }
    flush_underflow(exp_norm(x)).to_dyadic()
}

/// `e^x - 1`, accurate near 0: relative error below `2^-53` (`2^-60` for `|x| <= ln2/128`;
/// measured maximum against mpmath: `2^-54.2`).
/// `Infinite` from `x >= 89`.
pub fn expm1(x: Dyadic) -> Outcome {
    Outcome::from_norm(expm1_norm(Norm::from_dyadic(x)))
}
