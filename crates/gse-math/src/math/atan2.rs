//! Two-argument arctangent.
//!
//! Method: the ratio of the smaller to the larger magnitude (in `[0, 1]`, one correctly rounded
//! division) goes through the atan kernel; the octant and quadrant fix-ups (`pi/2 - a`,
//! `pi - a`) happen in Q61 fixed point, where they are at least `pi/4` in size.

use core::cmp::Ordering;

use gse::Dyadic;

use super::atan::{atan_kernel, complement};
use crate::outcome::Outcome;
use crate::support::norm::Norm;
use crate::tables::consts::{FRAC_PI_2_Q61, PI_Q61};

/// The angle of the point `(x, y)`, in `[-pi, pi]`, with the C quadrant rules for finite
/// arguments and an unsigned zero: `atan2(0, x) = 0` for `x >= 0` (including `atan2(0, 0)`),
/// `pi` for `x < 0`; `atan2(y, 0) = ±pi/2`. Relative error below `2^-58` (measured maximum against mpmath:
/// `2^-59.8`).
pub fn atan2(y: Dyadic, x: Dyadic) -> Outcome {
    let (y, x) = (Norm::from_dyadic(y), Norm::from_dyadic(x));
    let angle = if y.is_zero() {
        if x.negative {
            Norm::from_q61(PI_Q61)
        } else {
            Norm::ZERO
        }
    } else if x.is_zero() {
        Norm::from_q61(FRAC_PI_2_Q61)
    } else {
        let first_octant = y.cmp_abs(x) != Ordering::Greater;
        let (small, large) = if first_octant { (y, x) } else { (x, y) };
        let ratio = small.abs().div(large.abs()).unwrap_or(Norm::ZERO);
        let a = atan_kernel(ratio);
        let a = if first_octant { a } else { complement(a) };
        if x.negative {
            Norm::from_q61(PI_Q61 - a.to_fixed(61) as i64)
        } else {
            a
        }
    };
    Outcome::Finite(angle.with_sign(y.negative).to_dyadic())
}
