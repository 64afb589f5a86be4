//! Reciprocal and inverse square root of a normalized 64-bit mantissa by Newton's iteration,
//! multiplications only. Seeds come from 8-bit tables; three iterations take the error from
//! `2^-9` to the Q62 rounding floor (a few units of `2^-62`). Callers then fix the last units
//! exactly against the remainder, so these only need to be close.

use crate::tables::seeds::{RECIP_SEED_Q15, RSQRT_SEED_Q15};

const NEWTON_STEPS: usize = 3;

/// `~2^126 / d` for `d` in `[2^63, 2^64)`: `1 / (d / 2^64)` in Q62, never above the true value
/// by more than a unit (Newton's reciprocal step approaches from below).
#[inline]
pub(crate) fn recip_q62(d: u64) -> u64 {
    let index = ((d >> 55) as usize).saturating_sub(256);
    let seed = RECIP_SEED_Q15.get(index).copied().unwrap_or(1 << 15);
    let mut y = (seed as u64) << 47;
    for _ in 0..NEWTON_STEPS {
        // t = (d / 2^64) * y, which tends to 1 (2^62 in Q62); y <- y (2 - t).
        let t = ((d as u128 * y as u128) >> 64) as u64;
        let two_minus_t = (1u64 << 63).wrapping_sub(t);
        y = ((y as u128 * two_minus_t as u128) >> 62) as u64;
    }
    y
}

/// `~1 / sqrt(a / 2^64)` in Q62 for `a` in `[2^62, 2^64)` (so the result is in `(1, 2]`).
#[inline]
pub(crate) fn rsqrt_q62(a: u64) -> u64 {
    let index = ((a >> 56) as usize).saturating_sub(64);
    let seed = RSQRT_SEED_Q15.get(index).copied().unwrap_or(1 << 15);
    let mut y = (seed as u128) << 47;
    for _ in 0..NEWTON_STEPS {
        // y <- y (3 - (a / 2^64) y^2) / 2
        let y2 = (y * y) >> 62;
        let t = (a as u128 * y2) >> 64;
        let three_minus_t = (3u128 << 62).saturating_sub(t);
        y = (y * three_minus_t) >> 63;
    }
    y.min(1 << 63) as u64
}
