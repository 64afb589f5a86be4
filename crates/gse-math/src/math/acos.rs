//! Arccosine.
//!
//! Method: `pi/2 - asin x` for `|x| <= 1/2` (result at least `pi/3`), `2 asin(sqrt((1-x)/2))`
//! for `x > 1/2`, which keeps relative precision down to `acos 1 = 0`, and
//! `pi - 2 asin(sqrt((1+x)/2))` for `x < -1/2`; the subtractions are in Q61 fixed point.

use core::cmp::Ordering;

use gse::Dyadic;

use super::asin::{asin_kernel, half_angle, is_small};
use crate::outcome::Outcome;
use crate::support::norm::Norm;
use crate::tables::consts::{FRAC_PI_2_Q61, PI_Q61};

/// `acos(x)` in `[0, pi]`, `Nan` for `|x| > 1`. Relative error below `2^-58`, including near
/// `x = 1` where the result vanishes (measured maximum against mpmath: `2^-59.5`).
pub fn acos(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    if x.cmp_abs(Norm::ONE) == Ordering::Greater {
        return Outcome::Nan;
    }
    let angle = if is_small(x) {
        Norm::from_q61(FRAC_PI_2_Q61 - asin_kernel(x).to_fixed(61) as i64)
    } else if !x.negative {
        half_angle(x).shl(1)
    } else {
        Norm::from_q61(PI_Q61 - half_angle(x.abs()).to_fixed(62) as i64)
    };
    Outcome::Finite(angle.to_dyadic())
}
