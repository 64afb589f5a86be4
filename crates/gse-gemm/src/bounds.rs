//! The integer ranges that make every accumulation exact, derived in one place.
//!
//! Notation: `P` magnitude bits of the operand format, `mmax = 2^P - 1`, `gs` its group size,
//! `G = ceil(K / gs)` groups along K. The exact product of one group pair is
//! `D * 2^(sA + sB - 2P)` with `|D| <= Dmax = gs * mmax^2` (INT8: 32 * 127^2 = 516128 < 2^19).
//!
//! 1. **i16 operands.** Packing may pre-shift a mantissa left by `rho` bits (to align the groups
//!    of one K-block to a common exponent). It stays an i16 while `mmax * 2^rho <= 32767`.
//! 2. **i32 block accumulator.** A K-block of `T` groups whose A line spreads at most `HA`
//!    scale steps and whose B line at most `HB` sums products worth at most
//!    `T * Dmax * 2^(HA + HB)`; that is kept `<= 2^31 - 1`, so every partial sum (a sum over a
//!    subset of the same products) fits too. `vpmaddwd` pairs are at most `2 * 32767^2 < 2^31`.
//! 3. **i64 accumulator.** Relative to `LA + LB` (the smallest non-zero group scales of the A row
//!    and the B column), group `g` is shifted left by `(sA - LA) + (sB - LB) <= SA + SB`, the two
//!    lines' full spreads. All `G` groups sum to at most `G * Dmax * 2^(SA + SB)`, kept
//!    `<= 2^63 - 1` by requiring `SA + SB <= spread_limit`. Tiles beyond that take the
//!    dyadic path (see `tile.rs`).

use gse::GseFormat;

/// K values per block, aimed at. A tile sums all of K either way; blocks only bound the i32
/// sums, and a tile of one block is rounded straight from the kernel's registers, while more
/// blocks add i64 flushes and an i64 rounding. Long blocks leave less headroom for
/// pre-aligning a line's groups (INT8: shifts 4 + 4 at 512, 4 + 3 at 1024, 3 + 3 at 2048), but
/// neither random nor SmolLM2 LoRA operands missed it: 2048 against 512 took 1024^3 from 10.1
/// to 9.4 ms, `[8192x576]x[576x1536]` from 70.5 to 60.3 ms and `[8192x1536]x[1536x576]` from
/// 62 to 56.5 ms, and a LoRA step from 7.8 to 7.6 s.
pub(crate) const KC_TARGET: usize = 2048;

/// How one product is blocked and how far exponents may spread on each path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// `P`: operand magnitude bits.
    pub p: u32,
    /// `gs`: operand group size along K.
    pub group: usize,
    /// `G`: groups along K (the last may be partial; it is zero-padded).
    pub groups: usize,
    /// `T`: groups per K-block.
    pub block_groups: usize,
    /// Largest per-block spread of an A line that is pre-shifted into one block exponent.
    pub shift_a: i32,
    /// The same for B lines.
    pub shift_b: i32,
    /// Largest `SA + SB` the i64 accumulator holds exactly; `-1` when even 0 does not fit.
    pub spread_limit: i32,
}

impl Plan {
    /// The plan for operand `format` and inner dimension `k`, or `None` when the format is
    /// outside what the i16/i32 engine can hold (more than 16 bits, groups of 1, or a group dot
    /// product that overflows i32); those go to the reference path.
    pub fn new(format: GseFormat, k: usize) -> Option<Self> {
        let p = format.magnitude_bits();
        let group = format.group_size();
        if p > 15 || group < 2 {
            return None;
        }
        let mmax = (1u128 << p) - 1;
        let dmax = group as u128 * mmax * mmax;
        let i32_max = i32::MAX as u128;
        if dmax > i32_max {
            return None;
        }
        let groups = k.div_ceil(group);
        let mut block_groups = (KC_TARGET / group).clamp(1, groups.max(1));
        while block_groups > 1 && block_groups as u128 * dmax > i32_max {
            block_groups /= 2;
        }
        let headroom = largest_shift(block_groups as u128 * dmax, i32_max);
        let rho16 = largest_shift(mmax, i16::MAX as u128);
        let shift_a = ((headroom + 1) / 2).min(rho16);
        let shift_b = (headroom - shift_a).min(rho16);
        let spread_limit = if groups as u128 * dmax > i64::MAX as u128 {
            -1
        } else {
            largest_shift(groups.max(1) as u128 * dmax, i64::MAX as u128).min(62)
        };
        Some(Self {
            p,
            group,
            groups,
            block_groups,
            shift_a,
            shift_b,
            spread_limit,
        })
    }

    /// Number of K-blocks.
    pub fn blocks(&self) -> usize {
        self.groups.div_ceil(self.block_groups)
    }

    /// Groups of block `b` as a range.
    pub fn block_range(&self, b: usize) -> core::ops::Range<usize> {
        let start = b * self.block_groups;
        start..(start + self.block_groups).min(self.groups)
    }

    /// K padded to whole groups.
    pub fn padded_k(&self) -> usize {
        self.groups * self.group
    }
}

/// Largest `h >= 0` with `x * 2^h <= limit` (`x <= limit` assumed; `x == 0` gives 62).
fn largest_shift(x: u128, limit: u128) -> i32 {
    if x == 0 {
        return 62;
    }
    let mut h = 0;
    while h < 62 && (x << (h + 1)) <= limit {
        h += 1;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_plan_has_the_documented_headroom() {
        let plan = Plan::new(GseFormat::INT8, 1024).unwrap();
        assert_eq!((plan.groups, plan.block_groups, plan.blocks()), (32, 32, 1));
        // 32 * 516128 * 2^7 = 2_114_060_288 <= 2^31 - 1 < 32 * 516128 * 2^8.
        assert_eq!((plan.shift_a, plan.shift_b), (4, 3));
        // 32 * 516128 * 2^39 < 2^63 <= ... * 2^40.
        assert_eq!(plan.spread_limit, 39);
        let long = Plan::new(GseFormat::INT8, 4096).unwrap();
        assert_eq!(
            (long.groups, long.block_groups, long.blocks()),
            (128, 64, 2)
        );
        // 64 * 516128 * 2^6 = 2_114_060_288 as above.
        assert_eq!((long.shift_a, long.shift_b), (3, 3));
        let small = Plan::new(GseFormat::INT4, 40).unwrap();
        assert_eq!((small.groups, small.block_groups), (2, 2));
        assert!(small.shift_a >= 8 && small.shift_b >= 8);
    }

    #[test]
    fn wide_or_ungrouped_formats_are_refused() {
        assert!(Plan::new(GseFormat::STREAM16, 64).is_none());
        assert!(Plan::new(GseFormat::WIDE16, 64).is_none());
        assert!(Plan::new(GseFormat::new(12, 32).unwrap(), 64).is_some());
    }

    #[test]
    fn bounds_hold_for_every_supported_format() {
        for bits in 2..=16 {
            for group in [2u32, 8, 32, 256] {
                let format = GseFormat::new(bits, group).unwrap();
                for k in [1usize, 31, 512, 4096, 1 << 20] {
                    let Some(plan) = Plan::new(format, k) else {
                        continue;
                    };
                    let mmax = (1i128 << plan.p) - 1;
                    let dmax = plan.group as i128 * mmax * mmax;
                    let t = plan.block_groups as i128;
                    let h = plan.shift_a + plan.shift_b;
                    assert!((t * dmax) << h <= i32::MAX as i128, "{format} k={k}");
                    assert!(mmax << plan.shift_a <= i16::MAX as i128);
                    assert!(mmax << plan.shift_b <= i16::MAX as i128);
                    if plan.spread_limit >= 0 {
                        assert!(
                            (plan.groups.max(1) as i128 * dmax) << plan.spread_limit
                                <= i64::MAX as i128
                        );
                    }
                }
            }
        }
    }
}
