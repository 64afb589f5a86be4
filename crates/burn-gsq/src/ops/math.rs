//! Elementwise float ops: arithmetic with exponent alignment and broadcasting, and the
//! transcendental functions of `gse-math`, each result rounded once to the policy's format.

use gse::{Dyadic, SpecialCounts};
use gse_kernels::{map_binary, map_unary};
use gse_math::Outcome;

use crate::GsqTensor;
use crate::convert::saturated;

/// A math result as a storable value, per the special-value policy: NaN becomes 0 and
/// infinities saturate, both counted.
pub(crate) fn resolve(outcome: Outcome) -> Dyadic {
    match outcome {
        Outcome::Finite(d) => d,
        Outcome::Nan => {
            gse::special::record(SpecialCounts {
                nan: 1,
                ..SpecialCounts::default()
            });
            Dyadic::ZERO
        }
        Outcome::Infinite { negative } => {
            gse::special::record(SpecialCounts {
                infinite: 1,
                ..SpecialCounts::default()
            });
            saturated(negative)
        }
    }
}

pub(crate) fn unary(x: GsqTensor, f: impl Fn(Dyadic) -> Dyadic + Sync) -> GsqTensor {
    let (format, rounding) = x.out();
    x.derive(map_unary(&x.tensor, format, rounding, f))
}

pub(crate) fn unary_math(x: GsqTensor, f: fn(Dyadic) -> Outcome) -> GsqTensor {
    unary(x, move |d| resolve(f(d)))
}

pub(crate) fn binary(
    a: GsqTensor,
    b: GsqTensor,
    f: impl Fn(Dyadic, Dyadic) -> Dyadic + Sync,
) -> GsqTensor {
    let (format, rounding) = a.out();
    let t = map_binary(&a.tensor, &b.tensor, format, rounding, f)
        .unwrap_or_else(|e| panic!("burn-gsq: elementwise op: {e}"));
    a.derive(t)
}

pub(crate) fn binary_math(
    a: GsqTensor,
    b: GsqTensor,
    f: fn(Dyadic, Dyadic) -> Outcome,
) -> GsqTensor {
    binary(a, b, move |x, y| resolve(f(x, y)))
}

pub(crate) fn div(x: Dyadic, y: Dyadic) -> Dyadic {
    match x.div(y) {
        Some(q) => q,
        None if x.is_zero() => resolve(Outcome::Nan),
        None => resolve(Outcome::Infinite {
            negative: x.is_negative(),
        }),
    }
}

pub(crate) fn max(x: Dyadic, y: Dyadic) -> Dyadic {
    if x.cmp_value(y).is_lt() { y } else { x }
}

pub(crate) fn min(x: Dyadic, y: Dyadic) -> Dyadic {
    if y.cmp_value(x).is_lt() { y } else { x }
}

pub(crate) fn sign(x: Dyadic) -> Dyadic {
    Dyadic::from_int(x.mant.signum())
}
