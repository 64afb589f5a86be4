//! Hyperbolic tangent.
//!
//! Method: with `m = e^(-2|x|) - 1` in `(-1, 0]` from the expm1 kernel,
//! `tanh|x| = -m / (2 + m)`: no cancellation anywhere (near 0, `m` carries `x`'s relative
//! precision; for large `|x|`, `2 + m` is near 1). `|x| >= 32` gives `±1` (error below `2^-91`).

use gse::Dyadic;

use super::exp::expm1_norm;
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// From `2^SATURATION_LOG2` on, `1 - tanh|x| < 2^-91`.
const SATURATION_LOG2: i64 = 5;

pub(crate) fn tanh_norm(x: Norm) -> Norm {
    if x.is_zero() {
        return Norm::ZERO;
    }
    if x.top() > SATURATION_LOG2 {
        return Norm::ONE.with_sign(x.negative);
    }
    let m = expm1_norm(x.abs().shl(1).neg());
    let t = m.neg().div(Norm::TWO.add(m)).unwrap_or(Norm::ONE);
    t.with_sign(x.negative)
}

/// `tanh(x)`: relative error below `2^-52` (measured maximum against mpmath: `2^-53.9`).
pub fn tanh(x: Dyadic) -> Outcome {
    Outcome::Finite(tanh_norm(Norm::from_dyadic(x)).to_dyadic())
}
