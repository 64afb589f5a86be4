//! Tangent.

use gse::Dyadic;

use super::trig_kernel::{cos_kernel, sin_kernel, square_q62};
use super::trig_reduce::reduce;
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// `tan(x) = sin r / cos r` (even quadrants) or `-cos r / sin r` (odd), from one reduction.
///
/// Accuracy: relative error below `2^-58` plus the reduction's `2^-124` absolute error in `r`
/// (which matters only within `2^-60` of a pole or zero); measured maximum against mpmath: `2^-59.4`.
/// `Infinite` if the result reaches `2^128`; `Nan` for `|x| >= 2^1024`.
pub fn tan(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    let Some(red) = reduce(x) else {
        return Outcome::Nan;
    };
    let w = square_q62(red.r);
    let (s, c) = (sin_kernel(red.r, w), cos_kernel(w));
    let (num, den) = if red.quadrant & 1 == 0 {
        (s, c)
    } else {
        (c.neg(), s)
    };
    let value = match num.div(den) {
        Some(q) => q,
        None => {
            return Outcome::Infinite {
                negative: x.negative,
            };
        }
    };
    Outcome::from_norm(value.with_sign(value.negative != x.negative))
}
