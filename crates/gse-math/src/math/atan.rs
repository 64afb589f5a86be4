//! Arctangent, and the crate-internal kernel on `[0, 1]` shared with atan2.
//!
//! Method: `atan t = t Q(t^2)` on `[0, 1]` with `Q(w) = atan(sqrt w)/sqrt w` in 16 pieces of
//! degree 10 over `w` (error `2^-61.0`), relative to `t`; beyond 1, `atan x = pi/2 - atan(1/x)`
//! in Q61 fixed point, where the result is at least `pi/4`.

use gse::Dyadic;

use crate::outcome::Outcome;
use crate::support::fixed::{ONE_Q62, mul_q62};
use crate::support::norm::Norm;
use crate::tables::consts::FRAC_PI_2_Q61;
use crate::tables::inverse_trig::ATAN_Q;

/// `atan t` for `0 <= t <= 1`, relative error below `2^-59`.
#[inline]
pub(crate) fn atan_kernel(t: Norm) -> Norm {
    let t_q62 = t.to_q62().min(ONE_Q62);
    t.mul_q62(ATAN_Q.eval(mul_q62(t_q62, t_q62)))
}

/// `pi/2 - a` for an angle `a` in `[0, pi/4]`, from Q61 (absolute error `2^-61`).
#[inline]
pub(crate) fn complement(a: Norm) -> Norm {
    Norm::from_q61(FRAC_PI_2_Q61 - a.to_fixed(61) as i64)
}

/// `atan |x|`.
pub(crate) fn atan_abs(x: Norm) -> Norm {
    let x = x.abs();
    if x.cmp_abs(Norm::ONE) != core::cmp::Ordering::Greater {
        return atan_kernel(x);
    }
    match Norm::ONE.div(x) {
        Some(inv) => complement(atan_kernel(inv)),
        None => Norm::ZERO,
    }
}

/// `atan(x)` in `(-pi/2, pi/2)`: relative error below `2^-58` (measured maximum against mpmath: `2^-59.4`).
pub fn atan(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    Outcome::Finite(atan_abs(x).with_sign(x.negative).to_dyadic())
}
