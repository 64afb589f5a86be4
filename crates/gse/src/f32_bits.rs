//! f32 <-> [`Dyadic`] through the IEEE-754 bit pattern, with integer operations only.

use crate::dyadic::Dyadic;
use crate::rounding::shr_nearest_even;

/// What an f32 bit pattern holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum F32Class {
    Finite(Dyadic),
    Infinite { negative: bool },
    Nan,
}

const SIGN: u32 = 0x8000_0000;
const EXP_MASK: u32 = 0x7f80_0000;
const FRAC_MASK: u32 = 0x007f_ffff;
const HIDDEN: u32 = 0x0080_0000;
/// `value = significand * 2^(biased_exp - F32_EXP_OFFSET)` for normals.
const F32_EXP_OFFSET: i32 = 150;

/// Splits an f32 bit pattern into an exact dyadic value (or says it is NaN/Inf).
#[inline]
pub const fn classify_f32(bits: u32) -> F32Class {
    let negative = bits & SIGN != 0;
    let biased = ((bits & EXP_MASK) >> 23) as i32;
    let frac = bits & FRAC_MASK;
    let (sig, exp) = match biased {
        0xff if frac == 0 => return F32Class::Infinite { negative },
        0xff => return F32Class::Nan,
        0 => (frac, 1 - F32_EXP_OFFSET),
        _ => (frac | HIDDEN, biased - F32_EXP_OFFSET),
    };
    let mant = sig as i64;
    F32Class::Finite(Dyadic::new(if negative { -mant } else { mant }, exp))
}

/// The exact value of a finite f32; NaN gives zero and infinities the largest finite magnitude
/// (callers that must tell these apart use [`classify_f32`]).
#[inline]
pub const fn f32_to_dyadic(bits: u32) -> Dyadic {
    match classify_f32(bits) {
        F32Class::Finite(d) => d,
        F32Class::Infinite { negative } => {
            let max = Dyadic::new(0x00ff_ffff, 127 - 23);
            if negative { max.neg() } else { max }
        }
        F32Class::Nan => Dyadic::ZERO,
    }
}

/// The f32 nearest to `value` (ties to even), as a bit pattern. Magnitudes past `f32::MAX`
/// after rounding give infinity, as IEEE-754 does.
pub fn dyadic_to_f32_bits(value: Dyadic) -> u32 {
    if value.mant == 0 {
        return 0;
    }
    let sign = if value.mant < 0 { SIGN } else { 0 };
    let mag = value.mant.unsigned_abs() as u128;
    let top = value.top(); // |value| in [2^(top-1), 2^top)
    // Normal f32s have lsb 2^(top-24); subnormals a fixed lsb 2^-149.
    let lsb = (top - 24).max(-149);
    let shift = lsb - value.exp;
    let sig = if shift >= 0 {
        shr_nearest_even(mag, shift as u32)
    } else {
        mag << (-shift) as u32
    };
    // Rounding may carry into a new bit: 2^24 at lsb means the next binade.
    let (sig, lsb) = if sig >> 24 != 0 {
        (sig >> 1, lsb + 1)
    } else {
        (sig, lsb)
    };
    if sig & HIDDEN as u128 == 0 {
        // Subnormal (lsb == -149) or rounded up into the smallest normal.
        return sign | sig as u32;
    }
    let biased = lsb + F32_EXP_OFFSET;
    if biased >= 0xff {
        return sign | EXP_MASK;
    }
    sign | ((biased as u32) << 23) | (sig as u32 & FRAC_MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(bits: u32) -> u32 {
        match classify_f32(bits) {
            F32Class::Finite(d) => dyadic_to_f32_bits(d),
            _ => bits,
        }
    }

    #[test]
    fn every_finite_f32_class_round_trips() {
        for bits in [
            0x0000_0001u32, // smallest subnormal
            0x007f_ffff,    // largest subnormal
            0x0080_0000,    // smallest normal
            0x3f80_0000,    // 1.0
            0xbf80_0001,
            0x7f7f_ffff, // f32::MAX
            0xff7f_ffff,
        ] {
            assert_eq!(round_trip(bits), bits, "{bits:#x}");
        }
        let mut x = 0x1234_5678u32;
        for _ in 0..200_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            if x & EXP_MASK != EXP_MASK {
                assert_eq!(round_trip(x), x, "{x:#x}");
            }
        }
    }

    #[test]
    fn rounding_ties_to_even_and_overflows_to_inf() {
        // 1 + 2^-24 is a tie between 1 and 1 + 2^-23: even is 1.
        assert_eq!(
            dyadic_to_f32_bits(Dyadic::new((1 << 24) + 1, -24)),
            0x3f80_0000
        );
        assert_eq!(
            dyadic_to_f32_bits(Dyadic::new((1 << 24) + 3, -24)),
            0x3f80_0002
        );
        assert_eq!(dyadic_to_f32_bits(Dyadic::new(1, 128)), 0x7f80_0000);
        assert_eq!(
            dyadic_to_f32_bits(Dyadic::new(1, -150)),
            0,
            "half of the smallest subnormal ties to 0"
        );
        assert_eq!(dyadic_to_f32_bits(Dyadic::new(3, -151)), 1);
    }
}
