//! Inverse hyperbolic sine.
//!
//! Method: for `|x| >= 1/16`, `ln(|x| + sqrt(1 + x^2))`: the logarithm's argument is at least
//! `1.06`, so its absolute error `2^-62` is a relative `2^-57` at worst. Below, `ln(1 + t)` with
//! `t = |x| + x^2 / (1 + sqrt(1 + x^2))`, which equals `|x| + sqrt(1 + x^2) - 1` without its
//! cancellation, by the log1p kernel. Huge arguments use `ln(2|x|)` (error `1/(4x^2)`), tiny
//! ones `x` (error `x^3/6`).

use gse::Dyadic;

use super::log::{ln_1p_norm, ln_norm};
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// Below `2^TINY_LOG2`, `asinh x = x` to within a relative `2^-65`.
const TINY_LOG2: i64 = -32;
/// From `2^HUGE_LOG2` on, `asinh|x| = ln(2|x|)` to within `2^-66`.
const HUGE_LOG2: i64 = 33;
/// From `2^DIRECT_LOG2 = 1/16` on, the direct logarithm has no cancellation to fear.
const DIRECT_LOG2: i64 = -3;

/// `asinh(x)`: relative error below `2^-55` (measured maximum against mpmath: `2^-55.7`).
pub fn asinh(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    if x.top() <= TINY_LOG2 {
        return Outcome::Finite(x.to_dyadic());
    }
    let a = x.abs();
    let magnitude = if a.top() >= HUGE_LOG2 {
        ln_norm(a.shl(1))
    } else {
        let square = a.mul(a);
        let root = Norm::ONE.add(square).sqrt().unwrap_or(Norm::ONE);
        if a.top() >= DIRECT_LOG2 {
            ln_norm(a.add(root))
        } else {
            ln_1p_norm(a.add(square.div(Norm::ONE.add(root)).unwrap_or(Norm::ZERO)))
        }
    };
    Outcome::Finite(magnitude.with_sign(x.negative).to_dyadic())
}
