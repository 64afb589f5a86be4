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

/// An IEEE-754 binary interchange format, by its field widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IeeeFormat {
    pub exponent_bits: u32,
    pub fraction_bits: u32,
}

impl IeeeFormat {
    pub const F16: Self = Self {
        exponent_bits: 5,
        fraction_bits: 10,
    };
    pub const BF16: Self = Self {
        exponent_bits: 8,
        fraction_bits: 7,
    };
    pub const F32: Self = Self {
        exponent_bits: 8,
        fraction_bits: 23,
    };
    pub const F64: Self = Self {
        exponent_bits: 11,
        fraction_bits: 52,
    };

    const fn bias(self) -> i32 {
        (1 << (self.exponent_bits - 1)) - 1
    }

    const fn max_biased(self) -> u64 {
        (1 << self.exponent_bits) - 1
    }
}

/// Splits a bit pattern of `format` (in the low bits of `bits`) into an exact value.
pub const fn classify_ieee(bits: u64, format: IeeeFormat) -> F32Class {
    let frac_bits = format.fraction_bits;
    let negative = (bits >> (frac_bits + format.exponent_bits)) & 1 == 1;
    let biased = (bits >> frac_bits) & format.max_biased();
    let frac = bits & ((1u64 << frac_bits) - 1);
    if biased == format.max_biased() {
        return if frac == 0 {
            F32Class::Infinite { negative }
        } else {
            F32Class::Nan
        };
    }
    let lsb_offset = format.bias() + frac_bits as i32;
    let (sig, exp) = if biased == 0 {
        (frac, 1 - lsb_offset)
    } else {
        (frac | (1 << frac_bits), biased as i32 - lsb_offset)
    };
    let mant = sig as i64;
    F32Class::Finite(Dyadic::new(if negative { -mant } else { mant }, exp))
}

/// The nearest value of `format` to `value` (ties to even) as a bit pattern; overflow gives
/// infinity, as IEEE-754 rounding does.
pub fn dyadic_to_ieee_bits(value: Dyadic, format: IeeeFormat) -> u64 {
    if value.mant == 0 {
        return 0;
    }
    let frac_bits = format.fraction_bits;
    let sign = if value.mant < 0 {
        1u64 << (frac_bits + format.exponent_bits)
    } else {
        0
    };
    let mag = value.mant.unsigned_abs() as u128;
    let min_lsb = 1 - format.bias() - frac_bits as i32;
    let lsb = (value.top() - frac_bits as i32 - 1).max(min_lsb);
    let shift = lsb - value.exp;
    let sig = if shift >= 0 {
        shr_nearest_even(mag, shift as u32)
    } else {
        mag << (-shift) as u32
    };
    let (sig, lsb) = if sig >> (frac_bits + 1) != 0 {
        (sig >> 1, lsb + 1)
    } else {
        (sig, lsb)
    };
    let hidden = 1u128 << frac_bits;
    if sig & hidden == 0 {
        return sign | sig as u64;
    }
    let biased = (lsb - min_lsb + 1) as u64;
    if biased >= format.max_biased() {
        return sign | (format.max_biased() << frac_bits);
    }
    sign | (biased << frac_bits) | (sig as u64 & (hidden as u64 - 1))
}

/// The exact value of an f64 bit pattern (see [`classify_ieee`]).
pub const fn classify_f64(bits: u64) -> F32Class {
    classify_ieee(bits, IeeeFormat::F64)
}

#[cfg(test)]
mod ieee_tests {
    use super::*;

    #[test]
    fn generic_widths_agree_with_f32_and_round_f16() {
        let mut x = 0x9e37_79b9u32;
        for _ in 0..50_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            if let F32Class::Finite(d) = classify_f32(x) {
                assert_eq!(
                    dyadic_to_ieee_bits(d, IeeeFormat::F32) as u32,
                    dyadic_to_f32_bits(d)
                );
                assert_eq!(classify_ieee(x as u64, IeeeFormat::F32), classify_f32(x));
            }
        }
        // 1.0 and 65504 (f16::MAX) and 2^-24 (smallest f16 subnormal).
        assert_eq!(dyadic_to_ieee_bits(Dyadic::ONE, IeeeFormat::F16), 0x3c00);
        assert_eq!(
            dyadic_to_ieee_bits(Dyadic::from_int(65504), IeeeFormat::F16),
            0x7bff
        );
        assert_eq!(
            dyadic_to_ieee_bits(Dyadic::from_int(65520), IeeeFormat::F16),
            0x7c00
        );
        assert_eq!(
            dyadic_to_ieee_bits(Dyadic::new(1, -24), IeeeFormat::F16),
            0x0001
        );
        assert_eq!(
            dyadic_to_ieee_bits(Dyadic::new(-3, -1), IeeeFormat::F64),
            0xbff8_0000_0000_0000
        );
        assert_eq!(
            classify_f64(0x4009_21fb_5444_2d18),
            F32Class::Finite(Dyadic::new(0x0019_21fb_5444_2d18, -51))
        );
    }
}

/// `mant * 2^lsb` as f32 bits for the values GSE stores (`|mant| < 2^24`): exact with one
/// shift whenever the result is a normal f32, which is every stored value except those below
/// `2^-126` (they take the general rounding path).
#[inline]
pub fn small_to_f32_bits(mant: i32, lsb: i32) -> u32 {
    if mant == 0 {
        return 0;
    }
    let mag = mant.unsigned_abs();
    let len = 32 - mag.leading_zeros() as i32;
    let exponent = lsb + len - 1;
    if len > 24 || !(-126..=127).contains(&exponent) {
        return dyadic_to_f32_bits(Dyadic::new(mant as i64, lsb));
    }
    let sign = if mant < 0 { SIGN } else { 0 };
    let fraction = (mag << (24 - len)) & FRAC_MASK;
    sign | (((exponent + 127) as u32) << 23) | fraction
}

#[cfg(test)]
mod small_tests {
    use super::*;

    #[test]
    fn small_path_matches_general_path() {
        let mut x = 12345u64;
        for _ in 0..100_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mant = ((x >> 33) as i32) >> (x % 20) as u32;
            let lsb = ((x >> 8) % 300) as i32 - 170;
            if mant.unsigned_abs() < 1 << 24 {
                assert_eq!(
                    small_to_f32_bits(mant, lsb),
                    dyadic_to_f32_bits(Dyadic::new(mant as i64, lsb)),
                    "{mant} {lsb}"
                );
            }
        }
    }
}
