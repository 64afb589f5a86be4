//! Hyperbolic cosine.
//!
//! Method: `(e + 1/e) / 2` with `e = e^|x|`: two positive terms, no cancellation.

use gse::Dyadic;

use super::exp::exp_norm;
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// `cosh(x)`: relative error below `2^-59`; `Infinite` once `cosh x >= 2^128` (`|x| > 89.4`).
/// Measured maximum against mpmath: `2^-60.2`.
pub fn cosh(x: Dyadic) -> Outcome {
    let e = exp_norm(Norm::from_dyadic(x).abs());
    let inverse = Norm::ONE.div(e).unwrap_or(Norm::ZERO);
    Outcome::from_norm(e.add(inverse).shl(-1))
}
