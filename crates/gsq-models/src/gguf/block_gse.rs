//! Rounding one ggml block straight to one GSE group, in `i64` arithmetic.
//!
//! At group size 32 a Q8_0/Q4_0/Q4_1 block is exactly one GSE group, and all its values share
//! one exponent ([`BlockInts`]). Rounding the integer mantissas with one shift is several times
//! faster than going through a [`gse::Dyadic`] per value, and gives the same result as
//! [`gse::quantize_group`] (the tests compare them): scale from the largest magnitude, nearest
//! with ties to even, one scale step up when rounding carries past the largest mantissa.

use gse::{GseFormat, SCALE_MAX, SCALE_MIN};

use super::dequant::BlockInts;

/// Widest mantissa shift handled here; blocks decoded from f16 scales need at most 56.
const MAX_SHIFT: i32 = 62;

/// `round(a / 2^shift)` with ties to even, for `a >= 0` and `1 <= shift <= 62`.
fn shr_nearest_even(a: i64, shift: i32) -> i64 {
    let kept = a >> shift;
    let rest = a & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    kept + i64::from(rest > half || (rest == half && kept & 1 == 1))
}

/// Rounds `block` to mantissas of `format` (whose group size must be 32) into `out`, returning
/// the group's scale; `None` when the block falls outside the fast path's range (a scale at
/// the ends of GSE's range), for the caller to use [`gse::quantize_group`] instead.
pub fn quantize_block(format: GseFormat, block: &BlockInts, out: &mut [i32]) -> Option<i32> {
    let widest = block
        .mants
        .iter()
        .map(|m| m.unsigned_abs())
        .max()
        .unwrap_or(0);
    if widest == 0 {
        out.fill(0);
        return Some(SCALE_MIN);
    }
    if widest > 1 << MAX_SHIFT {
        return None;
    }
    let top = block.exp + (64 - widest.leading_zeros()) as i32;
    if !(SCALE_MIN..SCALE_MAX).contains(&top) {
        return None;
    }
    let max = i64::from(format.max_mantissa());
    for scale in [top, top + 1] {
        let shift = format.lsb_exponent(scale) - block.exp;
        if shift > MAX_SHIFT {
            return None;
        }
        let mut overflow = false;
        for (o, &m) in out.iter_mut().zip(&block.mants) {
            // `shift <= 0` only when the values have fewer bits than the format keeps; the
            // scale bounds them below 2^P, so the left shift cannot overflow.
            let magnitude = if shift <= 0 {
                m.unsigned_abs() as i64 * (1 << -shift)
            } else {
                shr_nearest_even(m.unsigned_abs() as i64, shift)
            };
            overflow |= magnitude > max;
            *o = (if m < 0 { -magnitude } else { magnitude }) as i32;
        }
        if !overflow {
            return Some(scale);
        }
    }
    // Values below 2^top round to at most 2^top, which scale top + 1 always holds.
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::{Dyadic, Rounding, SplitMix64, quantize_group};

    fn generic(format: GseFormat, block: &BlockInts) -> (i32, Vec<i32>) {
        let values: Vec<Dyadic> = block
            .mants
            .iter()
            .map(|&m| Dyadic::new(m, block.exp))
            .collect();
        let mut out = vec![0; 32];
        let (scale, saturated) =
            quantize_group(format, &values, Rounding::NearestEven, 0, &mut out);
        assert_eq!(saturated, 0);
        (scale, out)
    }

    #[test]
    fn matches_the_generic_quantizer() {
        let formats = [
            GseFormat::INT8,
            GseFormat::INT6,
            GseFormat::INT4,
            GseFormat::WIDE16,
        ];
        let mut rng = SplitMix64::new(7);
        for case in 0..20_000 {
            let bits = 1 + rng.below(54) as u32;
            let exp = rng.below(60) as i32 - 40;
            let mut mants: [i64; 32] = std::array::from_fn(|_| {
                let m = (rng.next_u64() >> (64 - bits)) as i64;
                if rng.below(2) == 0 { -m } else { m }
            });
            if case % 7 == 0 {
                // Ties and carries: odd multiples of a half quantum and all-ones mantissas.
                mants[0] = (1 << bits) - 1;
                mants[1] = 3 << (bits / 2);
            }
            if case % 11 == 0 {
                mants = [0; 32];
                mants[5] = -1;
            }
            let block = BlockInts { mants, exp };
            for format in formats {
                let mut out = vec![0; 32];
                let Some(scale) = quantize_block(format, &block, &mut out) else {
                    continue;
                };
                assert_eq!((scale, out), generic(format, &block), "{format} {block:?}");
            }
        }
    }

    #[test]
    fn all_zero_blocks_and_out_of_range_scales() {
        let mut out = vec![9; 32];
        let zero = BlockInts {
            mants: [0; 32],
            exp: 3,
        };
        assert_eq!(
            quantize_block(GseFormat::INT8, &zero, &mut out),
            Some(SCALE_MIN)
        );
        assert_eq!(out, vec![0; 32]);
        let huge = BlockInts {
            mants: [1; 32],
            exp: SCALE_MAX,
        };
        assert_eq!(quantize_block(GseFormat::INT8, &huge, &mut out), None);
    }
}
