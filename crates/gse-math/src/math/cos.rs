//! Cosine.

use gse::Dyadic;

use super::trig_kernel::{cos_kernel, sin_kernel, square_q62};
use super::trig_reduce::reduce;
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// `cos(x)`, via the Payne-Hanek reduction of `trig_reduce` and the kernels of `trig_kernel`.
///
/// Accuracy: `|error| <= 2^-59 |cos x| + 2^-124` for `|x| < 2^1024` (measured maximum against mpmath:
/// `2^-60.0` relative, arguments up to `2^1000` included). `Nan` for `|x| >= 2^1024`, like
/// `cos(inf)`.
pub fn cos(x: Dyadic) -> Outcome {
    let Some(red) = reduce(Norm::from_dyadic(x)) else {
        return Outcome::Nan;
    };
    let w = square_q62(red.r);
    let value = match red.quadrant {
        0 => cos_kernel(w),
        1 => sin_kernel(red.r, w).neg(),
        2 => cos_kernel(w).neg(),
        _ => sin_kernel(red.r, w),
    };
    Outcome::Finite(value.to_dyadic())
}
