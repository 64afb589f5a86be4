//! IEEE-754 half precision bits to exact [`Dyadic`] values, by bit manipulation only.
//!
//! An f16 is 1 sign bit, 5 exponent bits (bias 15) and 10 fraction bits. A normal value is
//! `(1024 + frac) * 2^(exp - 25)`, a subnormal `frac * 2^-24`; both fit a `Dyadic` exactly.

use gse::Dyadic;

const SIGN: u16 = 0x8000;
const FRAC_BITS: u32 = 10;
const FRAC_MASK: u16 = (1 << FRAC_BITS) - 1;
const EXP_MASK: u16 = 0x1f;
const HIDDEN: u16 = 1 << FRAC_BITS;
/// `value = significand * 2^(biased_exp - EXP_OFFSET)`: bias 15 plus 10 fraction bits.
const EXP_OFFSET: i32 = 25;

/// The exact value of a finite f16; `None` for NaN and infinities.
#[inline]
pub const fn f16_bits_to_dyadic(bits: u16) -> Option<Dyadic> {
    let biased = ((bits >> FRAC_BITS) & EXP_MASK) as i32;
    let frac = bits & FRAC_MASK;
    let (sig, exp) = match biased {
        0x1f => return None,
        0 => (frac, 1 - EXP_OFFSET),
        _ => (frac | HIDDEN, biased - EXP_OFFSET),
    };
    let mant = sig as i64;
    Some(Dyadic::new(
        if bits & SIGN != 0 { -mant } else { mant },
        exp,
    ))
}

#[cfg(test)]
#[allow(clippy::float_arithmetic)] // the reference is computed with floats
mod tests {
    use super::*;
    use gse::f32_bits::dyadic_to_f32_bits;

    fn as_f32(bits: u16) -> f32 {
        f32::from_bits(dyadic_to_f32_bits(f16_bits_to_dyadic(bits).unwrap()))
    }

    #[test]
    fn known_half_values() {
        assert_eq!(as_f32(0x3c00), 1.0);
        assert_eq!(as_f32(0xc000), -2.0);
        assert_eq!(as_f32(0x3555), 0.333_251_95);
        assert_eq!(as_f32(0x7bff), 65504.0);
        assert_eq!(
            as_f32(0x0001),
            5.960_464_5e-8,
            "smallest subnormal is 2^-24"
        );
        assert_eq!(as_f32(0x03ff), 6.097_555e-5, "largest subnormal");
        assert_eq!(as_f32(0x0400), 6.103_515_6e-5, "smallest normal is 2^-14");
        assert_eq!(as_f32(0x8000), 0.0);
        assert_eq!(f16_bits_to_dyadic(0x7c00), None);
        assert_eq!(f16_bits_to_dyadic(0xfe00), None);
    }

    /// Every finite half against an independent float reference (f32 arithmetic, tests only).
    #[test]
    fn every_finite_half_matches_a_float_reference() {
        for bits in 0..=u16::MAX {
            let exp = i32::from((bits >> 10) & 0x1f);
            if exp == 0x1f {
                continue;
            }
            let frac = f32::from(bits & 0x3ff);
            let magnitude = if exp == 0 {
                frac * 2f32.powi(-24)
            } else {
                (1024.0 + frac) * 2f32.powi(exp - 25)
            };
            let expected = if bits & 0x8000 != 0 {
                -magnitude
            } else {
                magnitude
            };
            assert_eq!(as_f32(bits), expected, "{bits:#06x}");
        }
    }
}
