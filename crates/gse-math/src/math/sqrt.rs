//! Square root.
//!
//! Method: integer Newton iteration for `1/sqrt` (8-bit table seed, three multiply-only steps),
//! one multiplication for the root estimate, then an exact fix-up against the remainder
//! `n - root^2`, so the 64-bit root is the exact floor plus a sticky bit.

use gse::Dyadic;

use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// `sqrt(x)`, correctly rounded to odd at 62 bits: exactly [`Dyadic::sqrt`], so rounding the
/// result once more to 25 bits or fewer is the correctly rounded root. `Nan` for `x < 0`.
pub fn sqrt(x: Dyadic) -> Outcome {
    match Norm::from_dyadic(x).sqrt() {
        Some(root) => Outcome::from_norm(root),
        None => Outcome::Nan,
    }
}
