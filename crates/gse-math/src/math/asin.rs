//! Arcsine, and the crate-internal kernel on `[-1/2, 1/2]` shared with acos.
//!
//! Method: `asin t = t P(t^2)` for `|t| <= 1/2` with `P(w) = asin(sqrt w)/sqrt w` in 4 pieces of
//! degree 10 over `w` (error `2^-61.0`), relative to `t`. For `1/2 < |x| <= 1`,
//! `asin x = pi/2 - 2 asin(sqrt((1 - x)/2))` (`1 - x` is exact), in Q61 fixed point where the
//! result is at least `pi/6`.

use core::cmp::Ordering;

use gse::Dyadic;

use crate::outcome::Outcome;
use crate::support::fixed::mul_q62;
use crate::support::norm::Norm;
use crate::tables::consts::FRAC_PI_2_Q61;
use crate::tables::inverse_trig::ASIN_P;

/// `asin t` for `|t| <= 1/2`, relative error below `2^-59`.
#[inline]
pub(crate) fn asin_kernel(t: Norm) -> Norm {
    let t_q62 = t.to_q62();
    t.mul_q62(ASIN_P.eval(mul_q62(t_q62, t_q62)))
}

/// `asin(sqrt((1 - a)/2))` for `a` in `[1/2, 1]`: the half-angle form used near `|x| = 1`.
#[inline]
pub(crate) fn half_angle(a: Norm) -> Norm {
    let s = Norm::ONE.sub(a).shl(-1).sqrt().unwrap_or(Norm::ZERO);
    asin_kernel(s)
}

/// `|x| <= 1/2`.
#[inline]
pub(crate) fn is_small(x: Norm) -> bool {
    x.top() <= -1 || x.abs() == Norm::ONE.shl(-1)
}

/// `asin(x)` in `[-pi/2, pi/2]`, `Nan` for `|x| > 1`. Relative error below `2^-58` (measured maximum against mpmath:
/// `2^-59.6`).
pub fn asin(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    if x.cmp_abs(Norm::ONE) == Ordering::Greater {
        return Outcome::Nan;
    }
    let angle = if is_small(x) {
        asin_kernel(x.abs())
    } else {
        let twice = half_angle(x.abs()).to_fixed(62) as i64; // 2 * angle in Q61
        Norm::from_q61(FRAC_PI_2_Q61 - twice)
    };
    Outcome::Finite(angle.with_sign(x.negative).to_dyadic())
}
