//! Reciprocal.
//!
//! Method: Newton iteration for `1/d` (8-bit table seed, three multiply-only steps), then the
//! quotient is fixed up exactly against the remainder, so no hardware division is used.

use gse::Dyadic;

use crate::outcome::Outcome;
use crate::support::norm::Norm;

/// `1 / x`, correctly rounded to odd at 62 bits (exactly what [`Dyadic::div`] gives).
/// `recip(0) = +Infinite` (our zero is +0); `Infinite` also when `|1/x| >= 2^128`.
pub fn recip(x: Dyadic) -> Outcome {
    match Norm::ONE.div(Norm::from_dyadic(x)) {
        Some(q) => Outcome::from_norm(q),
        None => Outcome::Infinite { negative: false },
    }
}

/// `x / y`, correctly rounded to odd at 62 bits, with the f32 rules for a zero divisor:
/// `0/0 = Nan`, `x/0 = Infinite` with `x`'s sign; `Infinite` when `|x/y| >= 2^128`.
pub fn div(x: Dyadic, y: Dyadic) -> Outcome {
    let (x, y) = (Norm::from_dyadic(x), Norm::from_dyadic(y));
    match x.div(y) {
        Some(q) => Outcome::from_norm(q),
        None if x.is_zero() => Outcome::Nan,
        None => Outcome::Infinite {
            negative: x.negative,
        },
    }
}
