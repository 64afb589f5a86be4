//! Choosing a group's shared scale and rounding its members to mantissas.
//!
//! The scale of a group is taken from its largest magnitude: `scale = top(max |x|)`, the
//! smallest `s` with `max |x| < 2^s`, so the largest member keeps all `P = bits - 1` magnitude
//! bits. If rounding carries that member up to `2^P`, the scale is raised by one and the group
//! is rounded again. Members smaller than half the group's quantum `2^(scale - P)` round to zero:
//! that *in-group flush* is the format's normal behaviour, not an error, and it is why the
//! stream formats use small groups. Scales are clamped to `[SCALE_MIN, SCALE_MAX]`: below the
//! range values round at the smallest quantum (underflowing to zero), above it they saturate at
//! `±max_mantissa * 2^(SCALE_MAX - P)` and are counted in [`SpecialCounts::saturated`].

use crate::dyadic::Dyadic;
use crate::f32_bits::{F32Class, classify_f32, dyadic_to_f32_bits};
use crate::format::{GseFormat, SCALE_MAX, SCALE_MIN};
use crate::rounding::{Rounding, random_bits};
use crate::special::{SpecialCounts, SpecialPolicy, SpecialValueError};
use crate::storage::GseBlocks;

/// Rounds `values` (one group) to mantissas of `format`, writing them to `out`; returns the
/// group's scale and how many members saturated. `first_index` is the global index of the
/// group's first element, which seeds stochastic rounding.
pub fn quantize_group(
    format: GseFormat,
    values: &[Dyadic],
    rounding: Rounding,
    first_index: u64,
    out: &mut [i32],
) -> (i32, u32) {
    if values.len() == 1 && rounding == Rounding::NearestEven {
        return quantize_single(format, values[0], &mut out[0]);
    }
    let top = values.iter().map(|v| v.top()).max().unwrap_or(i32::MIN);
    if top == i32::MIN {
        out[..values.len()].fill(0);
        return (SCALE_MIN, 0);
    }
    let max = format.max_mantissa() as i64;
    let mut scale = top.clamp(SCALE_MIN, SCALE_MAX);
    loop {
        let lsb = format.lsb_exponent(scale);
        let mut overflow = false;
        for (k, (v, o)) in values.iter().zip(out.iter_mut()).enumerate() {
            let m = match rounding {
                Rounding::NearestEven => v.round_at(lsb),
                Rounding::Stochastic { seed } => {
                    v.round_at_stochastic(lsb, random_bits(seed, first_index + k as u64))
                }
            };
            overflow |= m.abs() > max;
            *o = m.clamp(-max, max) as i32;
        }
        if !overflow {
            return (scale, 0);
        }
        if scale == SCALE_MAX {
            let saturated = values
                .iter()
                .filter(|v| v.round_at(lsb).abs() > max)
                .count() as u32;
            return (scale, saturated);
        }
        scale += 1;
    }
}

/// [`quantize_group`] for one value rounded to nearest: the scale of per-value formats.
#[inline]
fn quantize_single(format: GseFormat, v: Dyadic, out: &mut i32) -> (i32, u32) {
    if v.is_zero() {
        *out = 0;
        return (SCALE_MIN, 0);
    }
    let max = format.max_mantissa() as i64;
    let scale = v.top().clamp(SCALE_MIN, SCALE_MAX);
    let m = v.round_at(format.lsb_exponent(scale));
    if m.abs() <= max {
        *out = m as i32;
        return (scale, 0);
    }
    if scale < SCALE_MAX {
        // Rounding carried to 2^P: exactly representable one scale up.
        *out = (m / 2) as i32;
        return (scale + 1, 0);
    }
    *out = m.clamp(-max, max) as i32;
    (scale, 1)
}

/// Encodes values given as dyadics into blocks of `format`.
pub fn encode_dyadics(format: GseFormat, values: &[Dyadic], rounding: Rounding) -> GseBlocks {
    let mut blocks = GseBlocks::zeros(format, values.len());
    let mut buf = vec![0i32; format.group_size()];
    let mut saturated = 0u64;
    for (g, chunk) in values.chunks(format.group_size()).enumerate() {
        let first = (g * format.group_size()) as u64;
        let (scale, sat) = quantize_group(format, chunk, rounding, first, &mut buf);
        saturated += sat as u64;
        blocks.write_group(g, scale, &buf[..chunk.len()]);
    }
    if saturated > 0 {
        crate::special::record(SpecialCounts {
            saturated,
            ..SpecialCounts::default()
        });
    }
    blocks
}

/// Encodes f32 values. NaN and ±Inf are handled by `policy`: replaced (NaN by zero, ±Inf by
/// the format's largest magnitude) and counted, or refused with an error naming the first one.
pub fn encode_f32(
    format: GseFormat,
    values: &[f32],
    rounding: Rounding,
    policy: SpecialPolicy,
) -> Result<(GseBlocks, SpecialCounts), SpecialValueError> {
    let mut counts = SpecialCounts::default();
    let mut dyadics = Vec::with_capacity(values.len());
    for (index, v) in values.iter().enumerate() {
        let d = match classify_f32(v.to_bits()) {
            F32Class::Finite(d) => d,
            F32Class::Nan => {
                if policy == SpecialPolicy::Error {
                    return Err(SpecialValueError::Nan { index });
                }
                counts.nan += 1;
                Dyadic::ZERO
            }
            F32Class::Infinite { negative } => {
                if policy == SpecialPolicy::Error {
                    return Err(SpecialValueError::Infinite { index, negative });
                }
                counts.infinite += 1;
                let huge = Dyadic::new(1, SCALE_MAX + 1);
                if negative { huge.neg() } else { huge }
            }
        };
        dyadics.push(d);
    }
    let blocks = encode_dyadics(format, &dyadics, rounding);
    // `huge` stand-ins for infinities always saturate; count them once, as infinities.
    counts.saturated = 0;
    if counts.nan + counts.infinite > 0 {
        crate::special::record(SpecialCounts {
            saturated: 0,
            ..counts
        });
    }
    Ok((blocks, counts))
}

/// Every value as the nearest f32 (exact for all formats whose values fit f32's range; the
/// exact preset's sub-2^-149 quanta round to f32 subnormals).
pub fn decode_f32(blocks: &GseBlocks) -> Vec<f32> {
    (0..blocks.len())
        .map(|i| f32::from_bits(dyadic_to_f32_bits(blocks.get(i))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_comes_from_largest_member_and_small_members_flush() {
        let vals = [
            Dyadic::from_int(100),
            Dyadic::new(1, -10),
            Dyadic::from_int(-3),
        ];
        let mut out = [0; 3];
        let (scale, sat) =
            quantize_group(GseFormat::INT8, &vals, Rounding::NearestEven, 0, &mut out);
        assert_eq!((scale, sat), (7, 0));
        assert_eq!(out, [100, 0, -3]);
    }

    #[test]
    fn carry_raises_the_scale() {
        // 127.6 rounds to 128 = 2^7 at scale 7: one more scale bit is needed.
        let vals = [Dyadic::new(1276, 0).div(Dyadic::from_int(10)).unwrap()];
        let mut out = [0; 1];
        let (scale, _) = quantize_group(GseFormat::INT8, &vals, Rounding::NearestEven, 0, &mut out);
        assert_eq!((scale, out[0]), (8, 64));
    }
}
