//! `ln(1 + x)`, accurate for tiny `x`.
//!
//! Method: for `|x| < 2^-7`, `x L(x)` with the logarithm's polynomial `L(z) = ln(1+z)/z`
//! (relative error below `2^-60`); otherwise `ln` of `1 + x` rounded to 64 bits, whose
//! relative rounding error `2^-63` turns into an absolute error `2^-63` on a result of
//! magnitude at least `2^-7.01`.

use gse::Dyadic;

use super::log::ln_1p_norm;
use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// `ln(1 + x)`: `Nan` below -1, `-Infinite` at -1. Relative error below `2^-54` everywhere
/// (`2^-60` for `|x| < 2^-7`); measured maximum against mpmath: `2^-54.4`.
pub fn log1p(x: Dyadic) -> Outcome {
    let t = Norm::from_dyadic(x);
    if t.negative {
        match t.cmp_abs(Norm::ONE) {
            core::cmp::Ordering::Greater => return Outcome::Nan,
            core::cmp::Ordering::Equal => return Outcome::Infinite { negative: true },
            core::cmp::Ordering::Less => {}
        }
    }
    Outcome::Finite(ln_1p_norm(t).to_dyadic())
}
