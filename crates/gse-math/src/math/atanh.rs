//! Inverse hyperbolic tangent.
//!
//! Method: `atanh|x| = ln(1 + 2|x|/(1 - |x|)) / 2` by the log1p kernel: the argument of log1p
//! is a product and quotient of exact or correctly rounded terms, so relative precision holds
//! at both ends (`x -> 0` and `|x| -> 1`). Tiny arguments return `x` (error `x^3/3`).

use core::cmp::Ordering;

use gse::Dyadic;

use super::log::ln_1p_norm;
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// Below `2^TINY_LOG2`, `atanh x = x` to within a relative `2^-65`.
const TINY_LOG2: i64 = -32;

/// `atanh(x)`: `±Infinite` at `±1`, `Nan` beyond. Relative error below `2^-55` (measured maximum against mpmath:
/// `2^-55.6`).
pub fn atanh(x: Dyadic) -> Outcome {
    let x = Norm::from_dyadic(x);
    match x.cmp_abs(Norm::ONE) {
        Ordering::Greater => return Outcome::Nan,
        Ordering::Equal => {
            return Outcome::Infinite {
                negative: x.negative,
            };
        }
        Ordering::Less => {}
    }
    if x.top() <= TINY_LOG2 {
        return Outcome::Finite(x.to_dyadic());
    }
    let a = x.abs();
    let t = a.shl(1).div(Norm::ONE.sub(a)).unwrap_or(Norm::ZERO);
    Outcome::Finite(ln_1p_norm(t).shl(-1).with_sign(x.negative).to_dyadic())
}
