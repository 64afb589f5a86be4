//! Inverse hyperbolic cosine.
//!
//! Method: with `d = x - 1` (exact for `x < 2^64`), `acosh x = ln(1 + d + sqrt(d (d + 2)))`,
//! which keeps relative precision down to `acosh 1 = 0`; huge arguments use `ln(2x)` (error
//! `1/(4x^2)`).

use core::cmp::Ordering;

use gse::Dyadic;

use super::log::{ln_1p_norm, ln_norm};
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// From `2^HUGE_LOG2` on, `acosh x = ln(2x)` to within `2^-66`.
const HUGE_LOG2: i64 = 33;

/// `acosh(x)` for `x >= 1`, `Nan` below 1. Relative error below `2^-55`, including near
/// `x = 1` where the result vanishes (measured maximum against mpmath: `2^-55.3`).
pub fn acosh(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    if x.cmp_value(Norm::ONE) == Ordering::Less {
        return Outcome::Nan;
    }
    let value = if x.top() >= HUGE_LOG2 {
        ln_norm(x.shl(1))
    } else {
        let d = x.sub(Norm::ONE);
        let root = d.mul(d.add(Norm::TWO)).sqrt().unwrap_or(Norm::ZERO);
        ln_1p_norm(d.add(root))
    };
    Outcome::Finite(value.to_dyadic())
}
