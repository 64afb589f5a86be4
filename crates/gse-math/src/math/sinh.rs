//! Hyperbolic sine.
//!
//! Method: with `m = e^|x| - 1` from the expm1 kernel, `sinh|x| = (m + m/(m + 1)) / 2`: both
//! terms are positive, so nothing cancels near 0 and the formula also holds for large `|x|`.

use gse::Dyadic;

use super::exp::expm1_norm;
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// Below `2^TINY_LOG2`, `sinh x = x` to within a relative `2^-65`.
const TINY_LOG2: i64 = -32;

/// `sinh(x)`: relative error below `2^-52`; `Infinite` once `|sinh x| >= 2^128`
/// (`|x| > 89.4`). Measured maximum against mpmath: `2^-54.2`.
pub fn sinh(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    if x.top() <= TINY_LOG2 {
        return Outcome::Finite(x.to_dyadic());
    }
    let m = expm1_norm(x.abs());
    let ratio = m.div(m.add(Norm::ONE)).unwrap_or(Norm::ZERO);
    Outcome::from_norm(m.add(ratio).shl(-1).with_sign(x.negative))
}
