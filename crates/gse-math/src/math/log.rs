//! Natural logarithm, and the crate-internal `ln_norm` kernel shared with log1p, pow and the
//! inverse hyperbolic functions.
//!
//! Method: `x = 2^e m` with `m` in `[181/256, 181/128)` (around 1, so `x` near 1 has `e = 0`);
//! a 91-entry table gives `r ~ 1/m` with 17 bits, making `z = m r - 1` exact with `|z| <= 2^-7`;
//! then `ln x = e ln2 - ln r + z L(z)`, `L(z) = ln(1+z)/z` a degree-7 polynomial (Chebyshev fit,
//! error 2^-62.8). The two table entries around 1 use `r = 1`, so for `x` within `1/128` of 1 the
//! result is `z L(z)` with `z = x - 1` exact: relative accuracy all the way to `ln 1 = 0`.
//!
//! Accuracy: relative error below `2^-59` within `1/128` of 1, absolute error below `2^-61`
//! (relative below `2^-54`) elsewhere.

use gse::Dyadic;

use crate::outcome::Outcome;
use crate::support::norm::Norm;
use crate::tables::consts::LN2_Q64;
use crate::tables::log::{LOG_L, LOG_NEG_LN_RECIP, LOG_RECIP_Q16};

/// Mantissas from `181/128` (just below sqrt 2) up are halved, moving `e` up by one.
const HALVING_THRESHOLD: u64 = 181 << 56;
/// Table index of `m = 90/128`; the table covers `m * 128` in `90..181`.
const FIRST_INDEX: u64 = 90;
/// `r = 1` exactly in this entry's table slot.
const UNIT_RECIP_Q16: u32 = 1 << 16;

/// `ln x` for `x > 0` (the sign is ignored).
#[inline]
pub(crate) fn ln_norm(x: Norm) -> Norm {
    // x = mant * 2^exp = m * 2^e with m = mant / 2^63 (or mant / 2^64 when halved), held in Q64.
    let (m_q64, e) = if x.mant < HALVING_THRESHOLD {
        ((x.mant as u128) << 1, x.exp + 63)
    } else {
        (x.mant as u128, x.exp + 64)
    };
    let index = ((m_q64 >> 57) as u64).wrapping_sub(FIRST_INDEX) as usize;
    let (Some(&recip), Some(&neg_ln_recip)) =
        (LOG_RECIP_Q16.get(index), LOG_NEG_LN_RECIP.get(index))
    else {
        return Norm::ZERO; // unreachable: index is in 0..91 for every normalized mantissa
    };
    // z = m r - 1, exact in Q80.
    let z_q80 = (m_q64 * recip as u128) as i128 - (1i128 << 80);
    let z_q62 = (z_q80 >> 18) as i64;
    let l = LOG_L.eval(z_q62);
    if e == 0 && recip == UNIT_RECIP_Q16 {
        return Norm::from_i128(z_q80, -80).mul_q62(l);
    }
    // e ln2 + (-ln r) + z L(z), summed in Q64; |e| < 2^33 keeps this far inside an i128.
    let sum = e as i128 * LN2_Q64 as i128
        + ((neg_ln_recip as i128) << 2)
        + ((z_q62 as i128 * l as i128) >> 60);
    Norm::from_i128(sum, -64)
}

/// `ln(1 + t)` for `t > -1`.
#[inline]
pub(crate) fn ln_1p_norm(t: Norm) -> Norm {
    if t.top() <= -7 {
        // |t| < 2^-7: the polynomial directly, with t's full relative precision.
        return t.mul_q62(LOG_L.eval(t.to_q62()));
    }
    // 1 + t rounded to odd at 64 bits: its relative error 2^-63 becomes an absolute error of
    // ln, and here |ln(1 + t)| > 2^-7.01.
    ln_norm(Norm::ONE.add(t))
}

/// Natural logarithm. `log(0) = -Infinite`, negative arguments give `Nan`, `log(1) = 0`
/// exactly. Relative error below `2^-54` everywhere, below `2^-59` within 1/128 of 1 (measured maximum against mpmath:
/// `2^-54.5`).
pub fn log(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    if x.is_zero() {
        return Outcome::Infinite { negative: true };
    }
    if x.negative {
        return Outcome::Nan;
    }
    Outcome::Finite(ln_norm(x).to_dyadic())
}
