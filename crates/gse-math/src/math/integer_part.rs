//! Shared split of a dyadic into integer part and fraction, for floor, ceil, trunc and
//! round_half_even.

use gse::Dyadic;

/// `|x| = whole + fraction` with a nonzero fraction.
pub(crate) struct Split {
    pub(crate) negative: bool,
    /// `floor(|x|)`.
    pub(crate) whole: u64,
    /// The fraction compared to 1/2.
    pub(crate) half: core::cmp::Ordering,
}

/// `None` when `x` is already an integer (including zero), whose rounding is itself.
pub(crate) fn split(x: Dyadic) -> Option<Split> {
    if x.exp >= 0 || x.mant == 0 {
        return None;
    }
    let mag = x.mant.unsigned_abs() as u128;
    let shift = x.exp.unsigned_abs().min(127);
    let fraction = mag & ((1u128 << shift) - 1);
    if fraction == 0 {
        return None;
    }
    Some(Split {
        negative: x.mant < 0,
        whole: (mag >> shift) as u64,
        half: fraction.cmp(&(1u128 << (shift - 1))),
    })
}

/// `±magnitude` as an integer-valued dyadic. Magnitudes are at most `2^62 + 1` here (a
/// fraction needs a negative exponent, which halves `|mantissa| <= 2^63`), so the clamp never
/// bites.
pub(crate) fn signed(negative: bool, magnitude: u64) -> Dyadic {
    let v = magnitude.min(i64::MAX as u64) as i64;
    Dyadic::new(if negative { -v } else { v }, 0)
}
