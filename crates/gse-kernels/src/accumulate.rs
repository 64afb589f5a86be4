//! An exact accumulator for sums of GSE values (a "long accumulator", after Kulisch).
//!
//! Every GSE value is `m * 2^lsb` with `|m| < 2^25` and `lsb` in `[SCALE_MIN - 24, SCALE_MAX)`,
//! so all of them are integer multiples of `2^FLOOR` below `2^(SCALE_MAX + 1)`. The accumulator
//! holds the running sum as a fixed-point integer over that whole range in 32-bit digits, so
//! additions never round: the sum is exact, independent of the order of the additions, and so
//! independent of how the work is split between threads. The only rounding happens once, when
//! the sum (or the sum divided by a count) is read out as a 62-bit [`Dyadic`] rounded to odd,
//! which the output quantizer then rounds correctly to any width up to 60 bits.

use gse::{Dyadic, SCALE_MAX, SCALE_MIN};

/// Exponent of the accumulator's lowest bit; below the smallest lsb of any format
/// (`SCALE_MIN - 24`) so every value aligns exactly.
const FLOOR: i32 = SCALE_MIN - 33;
/// Bits per digit; digits are kept in `i64`s so additions may overflow a digit freely
/// until the next carry propagation.
const DIGIT_BITS: u32 = 32;
const DIGIT_MASK: i64 = (1 << DIGIT_BITS) - 1;
/// Enough digits for values below `2^(SCALE_MAX + 1)` plus 40 bits of growth (2^40 additions)
/// and a signed top digit.
const DIGITS: usize = ((SCALE_MAX + 1 + 40 - FLOOR) as usize).div_ceil(DIGIT_BITS as usize) + 1;
/// Additions between carry propagations: each adds below `2^32` to a digit, so `2^30` of them
/// keep every digit far from `i64` overflow.
const ADDS_PER_CARRY: u32 = 1 << 30;
/// Zero digits appended below the sum before dividing, so that quotients keep at least 64
/// significant bits for any divisor below `2^32`.
const GUARD_DIGITS: usize = 3;

/// The exact sum of GSE values.
#[derive(Clone, Debug)]
pub struct LongAcc {
    digits: [i64; DIGITS],
    pending: u32,
}

impl Default for LongAcc {
    fn default() -> Self {
        Self::new()
    }
}

impl LongAcc {
    pub const fn new() -> Self {
        Self {
            digits: [0; DIGITS],
            pending: 0,
        }
    }

    /// Adds `mant * 2^lsb`, exactly. `|mant| < 2^31` and `lsb >= SCALE_MIN - 33` (every GSE
    /// value qualifies); the sum must stay below `2^(SCALE_MAX + 41)`.
    #[inline]
    pub fn add(&mut self, mant: i32, lsb: i32) {
        debug_assert!(lsb >= FLOOR, "value below the accumulator's floor");
        let offset = (lsb - FLOOR) as u32;
        let digit = (offset / DIGIT_BITS) as usize;
        // |mant| < 2^31 and the shift < 32, so the aligned value fits an i64.
        let aligned = (mant as i64) << (offset % DIGIT_BITS);
        // Low part non-negative below 2^32, high part signed: their sum is `aligned` exactly.
        self.digits[digit] += aligned & DIGIT_MASK;
        self.digits[digit + 1] += aligned >> DIGIT_BITS;
        self.pending += 1;
        if self.pending == ADDS_PER_CARRY {
            self.propagate();
        }
    }

    /// Adds another accumulator's sum.
    pub fn merge(&mut self, other: &LongAcc) {
        self.propagate();
        let mut other = other.clone();
        other.propagate();
        for (d, o) in self.digits.iter_mut().zip(other.digits) {
            *d += o;
        }
        self.propagate();
    }

    /// Moves each digit's overflow into the next one: afterwards every digit but the top one
    /// is in `[0, 2^32)` and the top one carries the sign.
    fn propagate(&mut self) {
        for i in 0..DIGITS - 1 {
            let carry = self.digits[i] >> DIGIT_BITS;
            self.digits[i] &= DIGIT_MASK;
            self.digits[i + 1] += carry;
        }
        self.pending = 0;
    }

    /// The sum's sign and magnitude as little-endian 32-bit digits.
    fn magnitude(&self) -> (bool, [u32; DIGITS]) {
        let mut acc = self.clone();
        acc.propagate();
        let negative = acc.digits[DIGITS - 1] < 0;
        let mut out = [0u32; DIGITS];
        // Two's complement negation over the digits: invert and add one.
        let mut carry = negative as i64;
        for (o, &d) in out.iter_mut().zip(&acc.digits) {
            let v = if negative {
                (!d & DIGIT_MASK) + carry
            } else {
                d
            };
            carry = v >> DIGIT_BITS;
            *o = (v & DIGIT_MASK) as u32;
        }
        (negative, out)
    }

    /// Whether the sum is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.magnitude().1.iter().all(|&d| d == 0)
    }

    /// The sum, rounded to odd at [`Dyadic::PRECISION`] bits.
    pub fn to_dyadic(&self) -> Dyadic {
        let (negative, digits) = self.magnitude();
        let d = top_bits(&digits, FLOOR, false);
        if negative { d.neg() } else { d }
    }

    /// The sum divided by `count` (non-zero), rounded to odd at [`Dyadic::PRECISION`] bits.
    pub fn div_to_dyadic(&self, count: u64) -> Dyadic {
        debug_assert!(count > 0);
        let (negative, digits) = self.magnitude();
        let mut wide = [0u32; DIGITS + GUARD_DIGITS];
        wide[GUARD_DIGITS..].copy_from_slice(&digits);
        // Schoolbook long division by a single word, from the top digit down.
        let divisor = count as u128;
        let mut rem = 0u128;
        for d in wide.iter_mut().rev() {
            let cur = (rem << DIGIT_BITS) | *d as u128;
            *d = (cur / divisor) as u32;
            rem = cur % divisor;
        }
        let floor = FLOOR - (GUARD_DIGITS as u32 * DIGIT_BITS) as i32;
        let q = top_bits(&wide, floor, rem != 0);
        if negative { q.neg() } else { q }
    }
}

/// The number `digits * 2^floor` (little-endian 32-bit digits, plus a sticky flag for
/// non-zero bits below the last digit) rounded to odd at [`Dyadic::PRECISION`] bits.
fn top_bits(digits: &[u32], floor: i32, sticky_below: bool) -> Dyadic {
    let Some(top) = digits.iter().rposition(|&d| d != 0) else {
        return Dyadic::ZERO;
    };
    // Three digits hold at least 65 significant bits, more than the 62 kept.
    let low = top.saturating_sub(2);
    let mut window = 0u128;
    for &d in digits[low..=top].iter().rev() {
        window = (window << DIGIT_BITS) | d as u128;
    }
    let sticky = sticky_below || digits[..low].iter().any(|&d| d != 0);
    // The window has at least 3 bits below the 62 kept whenever it holds 3 digits, so the
    // sticky bit lands among the bits that rounding to odd folds together.
    let window = window | sticky as u128;
    Dyadic::from_i128(window as i128, floor + (low as u32 * DIGIT_BITS) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cmp::Ordering;

    #[test]
    fn sums_exactly_across_the_whole_range() {
        let mut acc = LongAcc::new();
        acc.add(1, SCALE_MAX - 1);
        acc.add(1, SCALE_MIN - 24);
        acc.add(-1, SCALE_MAX - 1);
        assert_eq!(
            acc.to_dyadic().cmp_value(Dyadic::new(1, SCALE_MIN - 24)),
            Ordering::Equal
        );
        let mut acc = LongAcc::new();
        acc.add(3, 0);
        acc.add(-5, 0);
        assert_eq!(acc.to_dyadic(), Dyadic::from_int(-2).normalized(62));
    }

    #[test]
    fn far_apart_terms_leave_a_sticky_bit() {
        let mut acc = LongAcc::new();
        acc.add(1, 100);
        acc.add(1, -100);
        let d = acc.to_dyadic();
        assert_eq!(d.mant & 1, 1);
        assert_eq!(d.top(), 101);
        // Same for a negative sum.
        let mut acc = LongAcc::new();
        acc.add(-1, 100);
        acc.add(1, -100);
        let d = acc.to_dyadic();
        assert!(d.is_negative());
        assert_eq!(d.mant & 1, 1);
    }

    #[test]
    fn division_is_exact_when_representable_and_sticky_otherwise() {
        let mut acc = LongAcc::new();
        for _ in 0..3 {
            acc.add(7, -3);
        }
        let q = acc.div_to_dyadic(3);
        assert_eq!(q.cmp_value(Dyadic::new(7, -3)), Ordering::Equal);
        let third = {
            let mut a = LongAcc::new();
            a.add(1, 0);
            a.div_to_dyadic(3)
        };
        assert_eq!(third.mant & 1, 1);
        // 1/3 = 0.0101...: 62 bits of alternating ones and zeros, the last forced odd.
        assert_eq!(third.round_at(-24), 5_592_405);
    }

    #[test]
    fn many_additions_propagate_carries() {
        let mut acc = LongAcc::new();
        for i in 0..100_000 {
            acc.add(0x00ff_ffff, (i % 7) - 3);
            acc.add(-0x00ff_ffff, (i % 7) - 3);
            acc.add(1, -150);
        }
        assert_eq!(
            acc.to_dyadic().cmp_value(Dyadic::new(100_000, -150)),
            Ordering::Equal
        );
        let mut other = LongAcc::new();
        other.add(-100_000, -150);
        acc.merge(&other);
        assert!(acc.is_zero());
    }
}
