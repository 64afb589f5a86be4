//! Sine.

use gse::Dyadic;

use super::trig_kernel::{cos_kernel, sin_kernel, square_q62};
use super::trig_reduce::reduce;
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// `sin(x)`, via the Payne-Hanek reduction of `trig_reduce` and the kernels of `trig_kernel`.
///
/// Accuracy: `|error| <= 2^-59 |sin x| + 2^-124` for `|x| < 2^1024` (relative `2^-59` for every
/// f32 input, none of which comes within `2^-30` of a multiple of pi; measured maximum against mpmath: `2^-59.7`
/// relative, arguments up to `2^1000` included). `Nan` for `|x| >= 2^1024`, like `sin(inf)`.
pub fn sin(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    let Some(red) = reduce(x) else {
        return Outcome::Nan;
    };
    let w = square_q62(red.r);
    let value = match red.quadrant {
        0 => sin_kernel(red.r, w),
        1 => cos_kernel(w),
        2 => sin_kernel(red.r, w).neg(),
        _ => cos_kernel(w).neg(),
    };
    Outcome::Finite(value.with_sign(value.negative != x.negative).to_dyadic())
}
