//! An exact accumulator for sums of `d * 2^e` over the whole exponent range of the engine
//! (a Kulisch accumulator): 704-bit two's complement fixed point with its lsb at `2^BASE`.
//!
//! Terms come from group products: `e = sA + sB - 2P` with scales in `[-127, 128]` and
//! `P <= 24` gives `e` in `[-302, 256]`; `|d| < 2^63`. Bits `BASE = -320 ..= 383` hold any
//! sum of up to 2^64 such terms exactly. Used by the slow paths (extreme exponent spreads,
//! unsupported operand formats), where exactness matters more than the ~20 ns per term.

use gse::Dyadic;

const LIMBS: usize = 11;
/// Exponent of bit 0.
const BASE: i32 = -320;

/// An exact sum of dyadic terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wide {
    limbs: [u64; LIMBS],
}

impl Default for Wide {
    fn default() -> Self {
        Self { limbs: [0; LIMBS] }
    }
}

impl Wide {
    /// Adds `d * 2^e`, exactly. `e` must be in `BASE..=256` (debug-checked; the engine's
    /// terms always are).
    pub fn add(&mut self, d: i64, e: i32) {
        if d == 0 {
            return;
        }
        debug_assert!(
            (BASE..=256).contains(&e),
            "exponent {e} outside the accumulator"
        );
        let shift = (e - BASE).clamp(0, 64 * (LIMBS as i32 - 2)) as usize;
        let (limb, bit) = (shift / 64, (shift % 64) as u32);
        let wide = (d as i128) << bit; // |d| < 2^63, bit < 64: fits i128
        let ext = if d < 0 { u64::MAX } else { 0 };
        let mut carry = 0u64;
        for (i, slot) in self.limbs.iter_mut().enumerate().skip(limb) {
            let t = match i - limb {
                0 => wide as u64,
                1 => (wide >> 64) as u64,
                _ => ext,
            };
            let (s1, c1) = slot.overflowing_add(t);
            let (s2, c2) = s1.overflowing_add(carry);
            *slot = s2;
            carry = (c1 | c2) as u64;
            if i >= limb + 2 && ext == 0 && carry == 0 {
                break; // nothing left to propagate
            }
        }
    }

    /// The sum rounded to odd at 62 bits: a [`Dyadic`] that rounds (once more, to at most 60
    /// bits, nearest-even) exactly like the exact sum.
    pub fn to_dyadic(self) -> Dyadic {
        let negative = self.limbs[LIMBS - 1] >> 63 == 1;
        let mut mag = self.limbs;
        if negative {
            let mut carry = 1u64;
            for v in mag.iter_mut() {
                let (s, c) = (!*v).overflowing_add(carry);
                *v = s;
                carry = c as u64;
            }
        }
        let Some(top) = (0..LIMBS).rev().find(|&i| mag[i] != 0) else {
            return Dyadic::ZERO;
        };
        let bits = top * 64 + 64 - mag[top].leading_zeros() as usize;
        let (mant, drop) = if bits <= 62 {
            (mag[0], 0)
        } else {
            let drop = bits - 62;
            let (limb, bit) = (drop / 64, drop % 64);
            // The 62 bits above `drop`, from at most two limbs.
            let lo = mag[limb] >> bit;
            let hi = if bit == 0 || limb + 1 >= LIMBS {
                0
            } else {
                mag[limb + 1] << (64 - bit)
            };
            let kept = (lo | hi) & ((1u64 << 62) - 1);
            let below = mag[..limb].iter().any(|&v| v != 0)
                || (bit > 0 && mag[limb] & ((1u64 << bit) - 1) != 0);
            (kept | below as u64, drop)
        };
        let mant = mant as i64;
        Dyadic::new(if negative { -mant } else { mant }, BASE + drop as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::SplitMix64;

    #[test]
    fn matches_i128_sums_and_rounds_to_odd() {
        let mut rng = SplitMix64::new(5);
        for _ in 0..20_000 {
            let e0 = rng.below(560) as i32 - 310;
            let mut w = Wide::default();
            let mut exact = 0i128;
            for _ in 0..1 + rng.below(12) {
                let d = (rng.next_u64() >> (1 + rng.below(63))) as i64;
                let d = if rng.below(2) == 0 { -d } else { d };
                let up = rng.below(40) as i32;
                let e = (e0 + up).min(256);
                w.add(d, e);
                exact += (d as i128) << (e - e0.min(256));
            }
            let got = w.to_dyadic();
            let want = Dyadic::from_i128(exact, e0.min(256));
            assert_eq!(
                got.cmp_value(want),
                core::cmp::Ordering::Equal,
                "{got:?} {want:?}"
            );
            if want.bit_length() == 62 {
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn tiny_terms_survive_cancellation() {
        let mut w = Wide::default();
        w.add(1, 200);
        w.add(-3, -300);
        w.add(-1, 200);
        let d = w.to_dyadic();
        assert_eq!(
            d.cmp_value(Dyadic::new(-3, -300)),
            core::cmp::Ordering::Equal
        );
        w.add(1, 250);
        let d = w.to_dyadic();
        assert_eq!(d.bit_length(), 62);
        assert_eq!(d.mant & 1, 1, "sticky bit from the tiny term");
        assert!(d.mant > 0);
    }
}
