//! [`Norm`], the working number of the library: a sign, a 64-bit mantissa with its top bit set,
//! and an `i64` exponent. It is a [`Dyadic`] with two more mantissa bits and an exponent that
//! cannot overflow in any chain of operations done here.
//!
//! Every operation keeps 64 bits and rounds *to odd* (truncate, then set the lowest bit if
//! anything nonzero was dropped): the relative error of one step is below `2^-63`, and exact
//! results (a representable quotient, a perfect square) stay exact. [`Norm::to_dyadic`] rounds to
//! odd once more at [`Dyadic::PRECISION`] bits, which composes with the earlier rounding, so
//! `div` and `sqrt` give exactly what [`Dyadic::div`] and [`Dyadic::sqrt`] give.

use core::cmp::Ordering;

use gse::Dyadic;

use super::newton::{recip_q62, rsqrt_q62};

/// `(-1)^negative * mant * 2^exp`, with `mant`'s top bit set, or `mant == 0` for zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Norm {
    pub(crate) negative: bool,
    pub(crate) mant: u64,
    pub(crate) exp: i64,
}

/// Correction steps allowed after a Newton estimate; the estimates are within a few units, so
/// this bound is never reached and only guarantees termination.
const MAX_FIXUPS: usize = 64;

impl Norm {
    pub(crate) const ZERO: Self = Self {
        negative: false,
        mant: 0,
        exp: 0,
    };
    pub(crate) const ONE: Self = Self {
        negative: false,
        mant: 1 << 63,
        exp: -63,
    };
    pub(crate) const TWO: Self = Self {
        negative: false,
        mant: 1 << 63,
        exp: -62,
    };

    #[inline]
    pub(crate) fn from_dyadic(d: Dyadic) -> Self {
        let mag = d.mant.unsigned_abs();
        if mag == 0 {
            return Self::ZERO;
        }
        let lz = mag.leading_zeros();
        Self {
            negative: d.mant < 0,
            mant: mag << lz,
            exp: d.exp as i64 - lz as i64,
        }
    }

    /// `(-1)^negative * mag * 2^exp`, rounded to odd at 64 bits.
    #[inline]
    pub(crate) fn from_u128(negative: bool, mag: u128, exp: i64) -> Self {
        if mag == 0 {
            return Self::ZERO;
        }
        let lz = mag.leading_zeros();
        if lz >= 64 {
            let up = lz - 64;
            return Self {
                negative,
                mant: (mag as u64) << up,
                exp: exp - up as i64,
            };
        }
        let drop = 64 - lz;
        let sticky = (mag << (128 - drop) != 0) as u64;
        Self {
            negative,
            mant: (mag >> drop) as u64 | sticky,
            exp: exp + drop as i64,
        }
    }

    #[inline]
    pub(crate) fn from_i128(value: i128, exp: i64) -> Self {
        Self::from_u128(value < 0, value.unsigned_abs(), exp)
    }

    /// A Q62 fixed-point value.
    #[inline]
    pub(crate) fn from_q62(value: i64) -> Self {
        Self::from_i128(value as i128, -62)
    }

    /// A Q61 fixed-point value (angles up to 4 in magnitude).
    #[inline]
    pub(crate) fn from_q61(value: i64) -> Self {
        Self::from_i128(value as i128, -61)
    }

    /// Rounds to odd at [`Dyadic::PRECISION`] bits. An exponent beyond `i32` saturates to the
    /// largest magnitude (callers check for overflow first) or flushes to zero.
    #[inline]
    pub(crate) fn to_dyadic(self) -> Dyadic {
        if self.mant == 0 {
            return Dyadic::ZERO;
        }
        let drop = 64 - Dyadic::PRECISION as i64;
        let mut exp = self.exp + drop;
        let mut kept = (self.mant >> drop) | (self.mant & ((1 << drop) - 1) != 0) as u64;
        if exp < i32::MIN as i64 {
            let more = i32::MIN as i64 - exp;
            if more >= 63 {
                return Dyadic::ZERO;
            }
            kept = (kept >> more) | (kept & ((1 << more) - 1) != 0) as u64;
            exp = i32::MIN as i64;
        }
        if exp > i32::MAX as i64 {
            kept = (1 << Dyadic::PRECISION) - 1;
            exp = i32::MAX as i64;
        }
        let mant = kept as i64;
        Dyadic::new(if self.negative { -mant } else { mant }, exp as i32)
    }

    #[inline]
    pub(crate) fn is_zero(self) -> bool {
        self.mant == 0
    }

    /// The `t` with `2^(t-1) <= |self| < 2^t`; `i64::MIN` for zero.
    #[inline]
    pub(crate) fn top(self) -> i64 {
        if self.mant == 0 {
            i64::MIN
        } else {
            self.exp + 64
        }
    }

    #[inline]
    pub(crate) fn neg(self) -> Self {
        Self {
            negative: !self.negative && self.mant != 0,
            ..self
        }
    }

    #[inline]
    pub(crate) fn abs(self) -> Self {
        Self {
            negative: false,
            ..self
        }
    }

    /// `self` with sign `negative` (zero stays unsigned).
    #[inline]
    pub(crate) fn with_sign(self, negative: bool) -> Self {
        Self {
            negative: negative && self.mant != 0,
            ..self
        }
    }

    /// `self * 2^k`, exactly.
    #[inline]
    pub(crate) fn shl(self, k: i64) -> Self {
        Self {
            exp: self.exp.saturating_add(k),
            ..self
        }
    }

    /// Whether the value is exactly one.
    #[inline]
    pub(crate) fn is_one(self) -> bool {
        self == Self::ONE
    }

    #[inline]
    pub(crate) fn mul(self, rhs: Self) -> Self {
        if self.mant == 0 || rhs.mant == 0 {
            return Self::ZERO;
        }
        Self::from_u128(
            self.negative != rhs.negative,
            self.mant as u128 * rhs.mant as u128,
            self.exp + rhs.exp,
        )
    }

    /// `self * c` for a Q62 value `c`.
    #[inline]
    pub(crate) fn mul_q62(self, c: i64) -> Self {
        Self::from_u128(
            self.negative != (c < 0),
            self.mant as u128 * c.unsigned_abs() as u128,
            self.exp - 62,
        )
    }

    /// Magnitude order (zero is smallest).
    #[inline]
    pub(crate) fn cmp_abs(self, rhs: Self) -> Ordering {
        match (self.mant == 0, rhs.mant == 0) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => self
                .exp
                .cmp(&rhs.exp)
                .then_with(|| self.mant.cmp(&rhs.mant)),
        }
    }

    /// Value order.
    pub(crate) fn cmp_value(self, rhs: Self) -> Ordering {
        match (self.negative, rhs.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_abs(rhs),
            (true, true) => rhs.cmp_abs(self),
        }
    }

    /// `self + rhs`, rounded to odd at 64 bits (exact when the sum fits in 64 bits).
    pub(crate) fn add(self, rhs: Self) -> Self {
        if rhs.mant == 0 {
            return self;
        }
        if self.mant == 0 {
            return rhs;
        }
        let (hi, lo) = if self.cmp_abs(rhs) == Ordering::Less {
            (rhs, self)
        } else {
            (self, rhs)
        };
        // hi sits at bits 62..126 of a u128; lo is aligned below it, its shifted-out bits
        // becoming a sticky flag.
        const HEADROOM: u32 = 62;
        let gap = (hi.exp - lo.exp) as u64; // >= 0: |hi| >= |lo| and both are normalized
        let wide_hi = (hi.mant as u128) << HEADROOM;
        let wide_lo_full = (lo.mant as u128) << HEADROOM;
        let (wide_lo, sticky) = if gap >= 127 {
            (0, true)
        } else {
            let g = gap as u32;
            let kept = wide_lo_full >> g;
            (kept, g > 0 && wide_lo_full << (128 - g) != 0)
        };
        let exp = hi.exp - HEADROOM as i64;
        if hi.negative == lo.negative {
            return Self::from_u128(hi.negative, (wide_hi + wide_lo) | sticky as u128, exp);
        }
        // The true difference lies strictly between diff - 1 and diff when bits were dropped:
        // take diff - 1 and mark it inexact, which is rounding to odd.
        let diff = wide_hi - wide_lo;
        let diff = if sticky { (diff - 1) | 1 } else { diff };
        Self::from_u128(hi.negative, diff, exp)
    }

    pub(crate) fn sub(self, rhs: Self) -> Self {
        self.add(rhs.neg())
    }

    /// `self / rhs` rounded to odd at 64 bits; `None` when `rhs` is zero.
    pub(crate) fn div(self, rhs: Self) -> Option<Self> {
        if rhs.mant == 0 {
            return None;
        }
        if self.mant == 0 {
            return Some(Self::ZERO);
        }
        let (a, b) = (self.mant, rhs.mant);
        // Quotient a * 2^shift / b in [2^63, 2^64): one more bit when a < b.
        let shift = if a < b { 64 } else { 63 };
        let y = recip_q62(b); // ~2^126 / b
        let mut q = (a as u128 * y as u128) >> (126 - shift);
        let num = (a as u128) << shift;
        let mut rem = num.wrapping_sub(q.wrapping_mul(b as u128)) as i128;
        // q is within a few units; one multiplicative step, rem/b ~ rem y / 2^126, gets it
        // within one (|rem| < 2^68, so rem >> 6 times y fits an i128).
        let step = ((rem >> 6) * y as i128) >> 120;
        q = q.wrapping_add(step as u128);
        rem -= step * b as i128;
        for _ in 0..MAX_FIXUPS {
            if rem < 0 {
                q -= 1;
                rem += b as i128;
            } else if rem >= b as i128 {
                q += 1;
                rem -= b as i128;
            } else {
                break;
            }
        }
        Some(Self::from_u128(
            self.negative != rhs.negative,
            q | (rem != 0) as u128,
            self.exp - rhs.exp - shift as i64,
        ))
    }

    /// `sqrt(self)` rounded to odd at 64 bits; `None` for negative values.
    pub(crate) fn sqrt(self) -> Option<Self> {
        if self.mant == 0 {
            return Some(Self::ZERO);
        }
        if self.negative {
            return None;
        }
        // Radicand n = mant * 2^shift in [2^126, 2^128) with an even exponent left over, so
        // its root has exactly 64 bits.
        let shift: i64 = if (self.exp - 64) & 1 == 0 { 64 } else { 63 };
        let n = (self.mant as u128) << shift;
        let a = (n >> 64) as u64;
        let y = rsqrt_q62(a); // ~2^62 / sqrt(a / 2^64)
        let mut root = ((a as u128 * y as u128) >> 62).min(u64::MAX as u128);
        let mut rem = n.wrapping_sub(root * root) as i128;
        // root is within a few units; one Newton step, rem / (2 root) ~ rem y / 2^127, gets it
        // within one (|rem| < 2^69, so rem >> 7 times y fits an i128).
        let step = ((rem >> 7) * y as i128) >> 120;
        root = root.wrapping_add(step as u128).min(u64::MAX as u128);
        rem = n.wrapping_sub(root * root) as i128;
        for _ in 0..MAX_FIXUPS {
            if rem < 0 {
                root -= 1;
                rem += (2 * root + 1) as i128;
            } else if rem > (2 * root) as i128 {
                rem -= (2 * root + 1) as i128;
                root += 1;
            } else {
                break;
            }
        }
        Some(Self::from_u128(
            false,
            root | (rem != 0) as u128,
            (self.exp - shift) >> 1,
        ))
    }

    /// `self * 2^frac` truncated toward zero, saturating beyond `2^126` in magnitude.
    #[inline]
    pub(crate) fn to_fixed(self, frac: u32) -> i128 {
        if self.mant == 0 {
            return 0;
        }
        let shift = self.exp + frac as i64;
        let mag: i128 = if shift >= 63 {
            1 << 126
        } else if shift >= 0 {
            (self.mant as i128) << shift
        } else if shift > -64 {
            (self.mant >> -shift) as i128
        } else {
            0
        };
        if self.negative { -mag } else { mag }
    }

    /// [`Self::to_fixed`] at 62 fraction bits for values known to be below 2 in magnitude.
    #[inline]
    pub(crate) fn to_q62(self) -> i64 {
        self.to_fixed(62).clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(mant: i64, exp: i32) -> Norm {
        Norm::from_dyadic(Dyadic::new(mant, exp))
    }

    #[test]
    fn add_is_exact_when_it_fits_and_odd_rounded_otherwise() {
        assert_eq!(
            n(3, 0)
                .add(n(5, 0))
                .to_dyadic()
                .cmp_value(Dyadic::from_int(8)),
            Ordering::Equal
        );
        assert_eq!(
            n(3, 0)
                .add(n(-5, 0))
                .to_dyadic()
                .cmp_value(Dyadic::from_int(-2)),
            Ordering::Equal
        );
        assert!(n(7, 0).add(n(-7, 0)).is_zero());
        let nudged = Norm::ONE.add(n(-1, -300));
        assert_eq!(nudged.cmp_value(Norm::ONE), Ordering::Less);
        assert_eq!(nudged.mant & 1, 1);
    }

    #[test]
    fn div_and_sqrt_match_dyadic() {
        let mut rng = gse::SplitMix64::new(7);
        for _ in 0..20_000 {
            let a = Dyadic::new(
                (rng.next_u64() >> (1 + rng.below(63))) as i64 | 1,
                rng.below(200) as i32 - 100,
            );
            let b = Dyadic::new(
                (rng.next_u64() >> (1 + rng.below(63))) as i64 | 1,
                rng.below(200) as i32 - 100,
            );
            let q = Norm::from_dyadic(a)
                .div(Norm::from_dyadic(b))
                .unwrap()
                .to_dyadic();
            assert_eq!(
                q.cmp_value(a.div(b).unwrap()),
                Ordering::Equal,
                "{a:?} / {b:?}"
            );
            let r = Norm::from_dyadic(a).sqrt().unwrap().to_dyadic();
            assert_eq!(
                r.cmp_value(a.sqrt().unwrap()),
                Ordering::Equal,
                "sqrt {a:?}"
            );
        }
        for (a, b) in [
            (1i64, 1i64),
            (i64::MAX, 1),
            (1, i64::MAX),
            (i64::MIN, 3),
            (1 << 62, (1 << 62) + 1),
        ] {
            let (a, b) = (Dyadic::new(a, 0), Dyadic::new(b, 0));
            let q = Norm::from_dyadic(a)
                .div(Norm::from_dyadic(b))
                .unwrap()
                .to_dyadic();
            assert_eq!(q.cmp_value(a.div(b).unwrap()), Ordering::Equal);
        }
    }

    #[test]
    fn to_dyadic_survives_extreme_exponents() {
        let tiny = Norm {
            negative: false,
            mant: 1 << 63,
            exp: i32::MIN as i64 - 200,
        };
        assert!(tiny.to_dyadic().is_zero());
        let huge = Norm {
            negative: true,
            mant: 1 << 63,
            exp: i32::MAX as i64,
        };
        assert!(huge.to_dyadic().is_negative());
    }
}
