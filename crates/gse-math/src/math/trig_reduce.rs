//! Argument reduction for sin, cos and tan: `|x| = (4k + q) pi/2 + r` with `|r| <= pi/4`.
//!
//! Method (Payne-Hanek, integer only): `x = M 2^E` with a 64-bit `M`; only a 192-bit window of
//! the bits of `2/pi` matters, since earlier bits make `x 2/pi` a multiple of 4 and later bits
//! are below `2^-126`. One 64x192-bit product gives the quadrant and 128 bits of the fraction
//! `f = x 2/pi - nearest integer` in `[-1/2, 1/2)`, and `r = f pi/2`.
//!
//! Accuracy: the reduced argument's absolute error is below `2^-124`, for every `|x| < 2^1024`
//! (the table holds 1536 bits of `2/pi`). Relative accuracy of `r` therefore holds to
//! `2^-60` whenever `|r| > 2^-64`. That covers every f32 input: an exhaustive run over all
//! finite f32 from 0.5 up found `|r| >= 2^-30` (closest: `x = 7.729179e28`), so their relative
//! error from reduction is below `2^-94`. 62-bit mantissas can come closer; the absolute bound
//! still holds.

use crate::support::norm::Norm;
use crate::tables::consts::FRAC_PI_2_Q63;
use crate::tables::trig::TWO_OVER_PI;

/// Largest supported `log2 |x|`.
pub(crate) const MAX_ARGUMENT_LOG2: i64 = 1024;

/// `|x| = (4k + quadrant) pi/2 + r`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reduced {
    pub(crate) quadrant: u32,
    /// In `[-pi/4, pi/4]`, signed.
    pub(crate) r: Norm,
}

/// Word `k` of the bits of 2/pi, zero outside the table (bits before the binary point are 0).
#[inline]
fn word(k: i64) -> u64 {
    usize::try_from(k)
        .ok()
        .and_then(|k| TWO_OVER_PI.get(k))
        .copied()
        .unwrap_or(0)
}

/// 64 bits of 2/pi starting at 0-based fraction bit `bit` (bit `p` has weight `2^-(p+1)`).
#[inline]
fn bits_at(word_index: i64, shift: u32) -> u64 {
    if shift == 0 {
        word(word_index)
    } else {
        (word(word_index) << shift) | (word(word_index + 1) >> (64 - shift))
    }
}

/// Reduces `|x|`. `None` when `|x| >= 2^1024`.
pub(crate) fn reduce(x: Norm) -> Option<Reduced> {
    let x = x.abs();
    if x.top() <= -1 {
        // |x| < 1/2 < pi/4: nothing to do.
        return Some(Reduced { quadrant: 0, r: x });
    }
    if x.top() > MAX_ARGUMENT_LOG2 {
        return None;
    }
    // The window starts at fraction bit E - 2 (0-based): with W its 192 bits,
    // x 2/pi = M W 2^-190 (mod 4).
    let start = x.exp - 2;
    let word_index = start.div_euclid(64);
    let shift = start.rem_euclid(64) as u32;
    let w2 = bits_at(word_index, shift);
    let w1 = bits_at(word_index + 1, shift);
    let w0 = bits_at(word_index + 2, shift);
    let m = x.mant as u128;
    let (p0, p1, p2) = (m * w0 as u128, m * w1 as u128, m * w2 as u128);
    // P = top * 2^128 + mid * 2^64 + (p0 mod 2^64).
    let mid_sum = (p0 >> 64) + (p1 as u64 as u128);
    let mid = mid_sum as u64;
    let top = p2.wrapping_add(p1 >> 64).wrapping_add(mid_sum >> 64);
    // Bits 190..191 of P are the quadrant, bits 62..189 the fraction (Q128).
    let quadrant = (top >> 62) as u32 & 3;
    let fraction =
        ((top & ((1u128 << 62) - 1)) << 66) | ((mid as u128) << 2) | ((p0 as u64) >> 62) as u128;
    // Round to the nearest quadrant: a fraction of 1/2 or more belongs to the next one.
    let round_up = (fraction >> 127) as u32;
    let f = fraction as i128; // the signed reading is fraction - 2^128 when rounding up
    let r = Norm::from_i128(f, -128).mul(Norm {
        negative: false,
        mant: FRAC_PI_2_Q63,
        exp: -63,
    });
    Some(Reduced {
        quadrant: (quadrant + round_up) & 3,
        r,
    })
}
