//! Dyadic rationals `m * 2^e`: the unpacked form every kernel computes in.
//!
//! A GSE value, an f32 and every intermediate of the math library is a [`Dyadic`]. Arithmetic
//! keeps at most [`Dyadic::PRECISION`] mantissa bits and rounds *to odd* when it must drop bits
//! (the dropped part is folded into the lowest bit). Rounding a round-to-odd result once more to
//! at most `PRECISION - 2` bits (25 for the exact format) then gives the correctly rounded result,
//! so `add`, `mul`, `div` and `sqrt` followed by quantization round exactly like IEEE-754.

use core::cmp::Ordering;

/// A number `mant * 2^exp` held in integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dyadic {
    pub mant: i64,
    pub exp: i32,
}

/// Exponent given to zero by [`Dyadic::ZERO`]; any exponent is a valid zero.
const ZERO_EXP: i32 = 0;

// `add`, `sub`, `mul` and `div` are named methods rather than operator impls on purpose: each
// rounds to odd at 62 bits (and `div` can fail), which `a + b` would hide.
#[allow(clippy::should_implement_trait)]
impl Dyadic {
    /// Mantissa bits kept by arithmetic (sign excluded).
    pub const PRECISION: u32 = 62;
    pub const ZERO: Self = Self {
        mant: 0,
        exp: ZERO_EXP,
    };
    pub const ONE: Self = Self { mant: 1, exp: 0 };

    pub const fn new(mant: i64, exp: i32) -> Self {
        Self { mant, exp }
    }

    pub const fn from_int(value: i64) -> Self {
        Self::from_i128(value as i128, 0)
    }

    /// `mant * 2^exp` from a 128-bit mantissa, rounded to odd at [`Self::PRECISION`] bits.
    pub const fn from_i128(mant: i128, exp: i32) -> Self {
        let negative = mant < 0;
        let mag = mant.unsigned_abs();
        let bits = 128 - mag.leading_zeros();
        let (mag, exp) = if bits > Self::PRECISION {
            let drop = bits - Self::PRECISION;
            let kept = mag >> drop;
            let sticky = (mag & ((1u128 << drop) - 1) != 0) as u128;
            (kept | sticky, exp + drop as i32)
        } else {
            (mag, exp)
        };
        let mant = mag as i64;
        Self {
            mant: if negative { -mant } else { mant },
            exp,
        }
    }

    pub const fn is_zero(self) -> bool {
        self.mant == 0
    }

    pub const fn is_negative(self) -> bool {
        self.mant < 0
    }

    pub const fn neg(self) -> Self {
        Self {
            mant: -self.mant,
            exp: self.exp,
        }
    }

    pub const fn abs(self) -> Self {
        Self {
            mant: self.mant.abs(),
            exp: self.exp,
        }
    }

    /// Significant bits of the mantissa's magnitude.
    pub const fn bit_length(self) -> u32 {
        64 - self.mant.unsigned_abs().leading_zeros()
    }

    /// The smallest `t` with `|self| < 2^t`; `i32::MIN` for zero.
    pub const fn top(self) -> i32 {
        if self.mant == 0 {
            i32::MIN
        } else {
            self.exp + self.bit_length() as i32
        }
    }

    /// `self * 2^k`, exactly.
    pub const fn shl(self, k: i32) -> Self {
        Self {
            mant: self.mant,
            exp: self.exp + k,
        }
    }

    /// Same value with the mantissa shifted left so that it has exactly `bits` significant bits
    /// (or fewer bits by rounding to odd if it had more). Zero stays zero.
    pub const fn normalized(self, bits: u32) -> Self {
        if self.mant == 0 {
            return Self::ZERO;
        }
        let len = self.bit_length();
        if len <= bits {
            let up = bits - len;
            Self {
                mant: self.mant << up,
                exp: self.exp - up as i32,
            }
        } else {
            let drop = len - bits;
            let mag = self.mant.unsigned_abs();
            let kept = (mag >> drop) | ((mag & ((1u64 << drop) - 1) != 0) as u64);
            let mant = kept as i64;
            Self {
                mant: if self.mant < 0 { -mant } else { mant },
                exp: self.exp + drop as i32,
            }
        }
    }

    /// `self + rhs`, rounded to odd at [`Self::PRECISION`] bits.
    pub fn add(self, rhs: Self) -> Self {
        if self.mant == 0 {
            return rhs;
        }
        if rhs.mant == 0 {
            return self;
        }
        // Fast path: GSE mantissas have at most 25 bits, so most sums fit an i64 exactly. Both
        // operands shift (one by zero) rather than being ordered first: which exponent is the
        // larger is a coin flip on real data, and a mispredicted branch costs more than the sum.
        let lo_exp = self.exp.min(rhs.exp);
        let (ga, gb) = (
            (self.exp as i64 - lo_exp as i64) as u64,
            (rhs.exp as i64 - lo_exp as i64) as u64,
        );
        if (ga | gb) <= 30 && fits_bits(self.mant, 32) && fits_bits(rhs.mant, 32) {
            return Self::new((self.mant << ga) + (rhs.mant << gb), lo_exp);
        }
        let (hi, lo) = if self.exp >= rhs.exp {
            (self, rhs)
        } else {
            (rhs, self)
        };
        // Normalizing `hi` to 62 bits keeps every alignment below within an i128.
        let hi = hi.normalized(Self::PRECISION);
        let gap = hi.exp as i64 - lo.exp as i64;
        if gap <= 64 {
            let (wide_hi, wide_lo, exp) = if gap >= 0 {
                ((hi.mant as i128) << gap, lo.mant as i128, lo.exp)
            } else {
                (hi.mant as i128, (lo.mant as i128) << -gap, hi.exp)
            };
            return Self::from_i128(wide_hi + wide_lo, exp);
        }
        // `lo` (below 2^(lo.exp + 62) <= 2^(hi.exp - 2)) only decides a sticky bit under `hi`.
        let nudged = ((hi.mant as i128) << 2) + lo.mant.signum() as i128;
        Self::from_i128(nudged, hi.exp - 2)
    }

    pub fn sub(self, rhs: Self) -> Self {
        self.add(rhs.neg())
    }

    /// `self * rhs`, rounded to odd at [`Self::PRECISION`] bits.
    pub fn mul(self, rhs: Self) -> Self {
        if fits_bits(self.mant, 31) && fits_bits(rhs.mant, 31) {
            return Self::new(self.mant * rhs.mant, self.exp + rhs.exp);
        }
        Self::from_i128(self.mant as i128 * rhs.mant as i128, self.exp + rhs.exp)
    }

    /// `self / rhs` with [`Self::PRECISION`] bits, rounded to odd; `None` when `rhs` is zero.
    pub fn div(self, rhs: Self) -> Option<Self> {
        if rhs.mant == 0 {
            return None;
        }
        if self.mant == 0 {
            return Some(Self::ZERO);
        }
        let negative = (self.mant < 0) != (rhs.mant < 0);
        let num = self.mant.unsigned_abs() as u128;
        let den = rhs.mant.unsigned_abs() as u128;
        // Scale the numerator so the quotient has at least PRECISION + 1 bits.
        let num_bits = 128 - num.leading_zeros();
        let den_bits = 128 - den.leading_zeros();
        let shift = (Self::PRECISION + 1 + den_bits)
            .saturating_sub(num_bits)
            .min(126 - num_bits);
        let scaled = num << shift;
        let quot = scaled / den;
        let sticky = !scaled.is_multiple_of(den) as u128;
        let q = Self::from_i128((quot | sticky) as i128, self.exp - rhs.exp - shift as i32);
        Some(if negative { q.neg() } else { q })
    }

    /// `sqrt(self)` with [`Self::PRECISION`] bits, rounded to odd; `None` for negative values.
    pub fn sqrt(self) -> Option<Self> {
        if self.mant < 0 {
            return None;
        }
        if self.mant == 0 {
            return Some(Self::ZERO);
        }
        // Make the exponent even and the radicand ~124 bits, so the root has 62 bits.
        let mag = self.mant as u128;
        let bits = 128 - mag.leading_zeros();
        let mut shift = 124 - bits;
        if (self.exp - shift as i32) % 2 != 0 {
            shift -= 1;
        }
        let radicand = mag << shift;
        let root = isqrt_u128(radicand);
        let sticky = (root * root != radicand) as u128;
        Some(Self::from_i128(
            (root | sticky) as i128,
            (self.exp - shift as i32) / 2,
        ))
    }

    /// Total order on values (zeros of any exponent are equal).
    pub fn cmp_value(self, rhs: Self) -> Ordering {
        let diff = self.sub(rhs);
        diff.mant.cmp(&0)
    }

    /// `self` rounded to an integer multiple of `2^lsb`, nearest with ties to even, as the
    /// multiple's count. Saturates at `i64` range; callers pick `lsb` so the result fits.
    pub fn round_at(self, lsb: i32) -> i64 {
        let shift = lsb as i64 - self.exp as i64;
        if shift <= 0 {
            let up = (-shift).min(63) as u32;
            return self
                .mant
                .checked_shl(up)
                .filter(|v| v >> up == self.mant)
                .unwrap_or(if self.mant < 0 {
                    i64::MIN + 1
                } else {
                    i64::MAX
                });
        }
        let mag = self.mant.unsigned_abs();
        let rounded = if shift < 64 {
            crate::rounding::shr_nearest_even_u64(mag, shift as u32) as i64
        } else {
            crate::rounding::shr_nearest_even(mag as u128, shift.min(127) as u32) as i64
        };
        if self.mant < 0 { -rounded } else { rounded }
    }

    /// `floor(self / 2^lsb + u)` for a uniform `u` in `[0, 1)` drawn from `random`: stochastic
    /// rounding to a multiple of `2^lsb`, unbiased in expectation.
    pub fn round_at_stochastic(self, lsb: i32, random: u64) -> i64 {
        let shift = lsb as i64 - self.exp as i64;
        if shift <= 0 {
            return self.round_at(lsb);
        }
        crate::rounding::shr_stochastic(self.mant as i128, shift.min(200) as u32, random) as i64
    }
}

/// Whether `|v| < 2^bits`.
#[inline]
const fn fits_bits(v: i64, bits: u32) -> bool {
    v.unsigned_abs() < (1u64 << bits)
}

/// Integer square root (floor) of a u128 by Newton's iteration from a power-of-two guess.
pub fn isqrt_u128(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    let bits = 128 - n.leading_zeros();
    let mut x = 1u128 << bits.div_ceil(2);
    loop {
        let y = (x + n / x) >> 1;
        if y >= x {
            return x;
        }
        x = y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_aligns_and_keeps_sticky() {
        let a = Dyadic::new(3, 0);
        let b = Dyadic::new(1, -1);
        assert_eq!(a.add(b).cmp_value(Dyadic::new(7, -1)), Ordering::Equal);
        let far = Dyadic::new(1, 0).add(Dyadic::new(1, -500));
        assert!(far.cmp_value(Dyadic::ONE) == Ordering::Greater);
        assert_eq!(far.round_at(-60), 1 << 60);
    }

    #[test]
    fn add_is_exact_for_gse_mantissas_in_either_order() {
        let mut rng = crate::SplitMix64::new(17);
        for _ in 0..100_000 {
            let mut draw = || {
                let m = (rng.next_u64() >> 39) as i64 - (1 << 24); // 25-bit signed
                let e = (rng.next_u64() % 36) as i32 - 18; // sums fit 62 bits: exact
                Dyadic::new(m, e)
            };
            let (a, b) = (draw(), draw());
            let lo = a.exp.min(b.exp);
            let exact = ((a.mant as i128) << (a.exp - lo)) + ((b.mant as i128) << (b.exp - lo));
            for sum in [a.add(b), b.add(a)] {
                let shift = sum.exp - lo;
                let got = if shift >= 0 {
                    (sum.mant as i128) << shift
                } else {
                    assert_eq!(sum.mant & ((1 << -shift) - 1), 0, "{a:?} + {b:?}");
                    (sum.mant as i128) >> -shift
                };
                assert_eq!(got, exact, "{a:?} + {b:?}");
            }
        }
    }

    #[test]
    fn div_and_sqrt_are_exact_when_representable() {
        let q = Dyadic::from_int(10).div(Dyadic::from_int(4)).unwrap();
        assert_eq!(q.cmp_value(Dyadic::new(5, -1)), Ordering::Equal);
        let r = Dyadic::from_int(144).sqrt().unwrap();
        assert_eq!(r.cmp_value(Dyadic::from_int(12)), Ordering::Equal);
        let r2 = Dyadic::from_int(2).sqrt().unwrap();
        assert_eq!(r2.mant & 1, 1, "inexact root must carry its sticky bit");
    }

    #[test]
    fn round_at_is_nearest_even() {
        assert_eq!(Dyadic::new(5, -1).round_at(0), 2);
        assert_eq!(Dyadic::new(7, -1).round_at(0), 4);
        assert_eq!(Dyadic::new(-5, -1).round_at(0), -2);
        assert_eq!(Dyadic::new(-11, -2).round_at(0), -3);
    }
}
