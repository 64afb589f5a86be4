//! [`Outcome`]: what a math function returns, with the range policy shared by all of them.

use gse::Dyadic;
use gse::f32_bits::{F32Class, dyadic_to_f32_bits};

use crate::support::norm::Norm;

/// Finite results are below `2^OVERFLOW_LOG2` in magnitude; a function whose exact result
/// reaches `2^128` returns [`Outcome::Infinite`] instead, like f32 overflow (no f32 and no GSE
/// value reaches `2^128`). A finite result just below can still round up to infinity later.
pub const OVERFLOW_LOG2: i32 = 128;

/// The exponential family (exp, sigmoid, erfc, pow, GELU tails) returns 0 where its exact result
/// is below `2^UNDERFLOW_LOG2` in magnitude: such values round to 0 in every f32 (smallest
/// subnormal `2^-149`) and GSE format (smallest quantum `2^-151`). Other functions return tiny
/// results unflushed (sin of `2^-140` is `2^-140`).
pub const UNDERFLOW_LOG2: i32 = -160;

/// Result of a math function: a finite value, or what IEEE-754 would have produced instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Finite(Dyadic),
    Nan,
    Infinite { negative: bool },
}

impl Outcome {
    /// The finite value, if any.
    pub const fn finite(self) -> Option<Dyadic> {
        match self {
            Outcome::Finite(v) => Some(v),
            _ => None,
        }
    }

    /// The finite value, or `fallback` for NaN and infinities.
    pub const fn finite_or(self, fallback: Dyadic) -> Dyadic {
        match self {
            Outcome::Finite(v) => v,
            _ => fallback,
        }
    }

    /// The finite value; NaN becomes `nan`, infinities become `±max` (a saturating policy).
    pub const fn finite_or_saturate(self, nan: Dyadic, max: Dyadic) -> Dyadic {
        match self {
            Outcome::Finite(v) => v,
            Outcome::Nan => nan,
            Outcome::Infinite { negative: false } => max,
            Outcome::Infinite { negative: true } => max.neg(),
        }
    }

    pub const fn is_nan(self) -> bool {
        matches!(self, Outcome::Nan)
    }

    pub const fn is_finite(self) -> bool {
        matches!(self, Outcome::Finite(_))
    }

    /// The nearest f32 (ties to even) as a bit pattern; NaN is the quiet NaN `0x7fc0_0000`.
    pub fn to_f32_bits(self) -> u32 {
        match self {
            Outcome::Finite(v) => dyadic_to_f32_bits(v),
            Outcome::Nan => 0x7fc0_0000,
            Outcome::Infinite { negative } => {
                if negative {
                    0xff80_0000
                } else {
                    0x7f80_0000
                }
            }
        }
    }

    /// Applies the overflow policy to a computed value.
    #[inline]
    pub(crate) fn from_norm(value: Norm) -> Self {
        if value.top() > OVERFLOW_LOG2 as i64 {
            Outcome::Infinite {
                negative: value.negative,
            }
        } else {
            Outcome::Finite(value.to_dyadic())
        }
    }
}

impl From<F32Class> for Outcome {
    fn from(class: F32Class) -> Self {
        match class {
            F32Class::Finite(v) => Outcome::Finite(v),
            F32Class::Nan => Outcome::Nan,
            F32Class::Infinite { negative } => Outcome::Infinite { negative },
        }
    }
}

/// Zero for values below `2^UNDERFLOW_LOG2`; see [`UNDERFLOW_LOG2`].
#[inline]
pub(crate) fn flush_underflow(value: Norm) -> Norm {
    if value.top() <= UNDERFLOW_LOG2 as i64 {
        Norm::ZERO
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_threshold_is_two_to_the_128() {
        let below = Norm::from_dyadic(Dyadic::new((1 << 62) - 1, 128 - 62));
        assert!(Outcome::from_norm(below).is_finite());
        let at = Norm::from_dyadic(Dyadic::new(1, 128));
        assert_eq!(
            Outcome::from_norm(at.neg()),
            Outcome::Infinite { negative: true }
        );
    }

    #[test]
    fn f32_bits_of_specials() {
        assert_eq!(Outcome::Nan.to_f32_bits(), 0x7fc0_0000);
        assert_eq!(
            Outcome::Infinite { negative: true }.to_f32_bits(),
            0xff80_0000
        );
        assert_eq!(Outcome::Finite(Dyadic::ONE).to_f32_bits(), 0x3f80_0000);
        assert_eq!(Outcome::Nan.finite_or(Dyadic::ONE), Dyadic::ONE);
    }
}
