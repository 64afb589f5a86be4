//! GELU in its exact erf form (burn's `gelu`) and its backward pass, through `gse-math`.
//!
//! Accuracy before the final rounding: `gse_math::gelu_erf` is within `2^-53` relative for every
//! input (left tail included), the derivative within `2^-52` relative away from its zero near
//! `x = -0.7518` and `2^-60` absolute everywhere; the product with the incoming gradient adds a
//! 62-bit rounding. So the exact format is within 1 ulp of f32 (correctly rounded except within
//! `2^-52` of a tie) and STREAM16 within `2^-15` relative (apart from the derivative's zero,
//! where the absolute bound applies).

use gse::{Dyadic, GseFormat, Rounding, SCALE_MAX};
use gse_math::Outcome;

use crate::elementwise::{map_binary, map_unary};
use crate::tensor::GseTensor;

/// A result that overflowed `2^128`: a value past every format's range, which the quantizer
/// saturates and counts.
fn saturating(outcome: Outcome) -> Dyadic {
    let huge = Dyadic::new(1, SCALE_MAX + 1);
    outcome.finite_or_saturate(Dyadic::ZERO, huge)
}

/// `x * Phi(x)`, `Phi` the standard normal CDF.
pub fn gelu(x: &GseTensor, format: GseFormat, rounding: Rounding) -> GseTensor {
    map_unary(x, format, rounding, |v| saturating(gse_math::gelu_erf(v)))
}

/// `grad * gelu'(x)` with `gelu'(x) = Phi(x) + x phi(x)`. Panics (naming the op) if the shapes
/// do not broadcast; burn gives both the same shape.
pub fn gelu_backward(
    x: &GseTensor,
    grad: &GseTensor,
    format: GseFormat,
    rounding: Rounding,
) -> GseTensor {
    map_binary(x, grad, format, rounding, |v, g| {
        if g.is_zero() {
            return Dyadic::ZERO;
        }
        g.mul(saturating(gse_math::gelu_erf_derivative(v)))
    })
    .unwrap_or_else(|e| panic!("gelu_backward: {e}"))
}
