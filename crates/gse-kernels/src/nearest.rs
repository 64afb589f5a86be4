//! Round-to-nearest-even quantization of a run of values, bit-identical to
//! [`gse::quantize_group`] with [`Rounding::NearestEven`](gse::Rounding) but with 64-bit
//! integer rounding and a dedicated loop for one-value groups (STREAM16, EXACT), where the
//! general routine's per-group setup dominates.

use gse::{Dyadic, GseFormat, SCALE_MAX, SCALE_MIN};

/// `round(v / 2^lsb)`, ties to even, as [`Dyadic::round_at`] computes it.
#[inline(always)]
fn round_at(v: Dyadic, lsb: i32) -> i64 {
    let shift = lsb as i64 - v.exp as i64;
    let mag = v.mant.unsigned_abs();
    let rounded = if (1..63).contains(&shift) {
        let s = shift as u32;
        let kept = mag >> s;
        let rest = mag & ((1 << s) - 1);
        let half = 1u64 << (s - 1);
        kept + ((rest > half) | ((rest == half) & (kept & 1 == 1))) as u64
    } else if shift <= 0 {
        if mag == 0 || ((-shift) as u64) < mag.leading_zeros() as u64 {
            mag.checked_shl((-shift) as u32).unwrap_or(0)
        } else {
            // Far beyond any mantissa: saturate (|i64::MAX| stays negatable).
            i64::MAX as u64
        }
    } else {
        // Shifts of 63 and more: only a magnitude above half of 2^63 rounds to 1.
        (shift == 63 && mag > 1 << 62) as u64
    };
    // Branch-free sign: signs are random in real data.
    let sign = v.mant >> 63;
    (rounded as i64 ^ sign) - sign
}

/// Quantizes `values` (a run of whole groups of `format`) into `mantissas` and one scale per
/// group into `scales`; returns how many values saturated.
pub(crate) fn quantize_nearest(
    format: GseFormat,
    values: &[Dyadic],
    mantissas: &mut [i32],
    scales: &mut [i32],
) -> u64 {
    if format.group_size() == 1 {
        return quantize_singles(format, values, mantissas, scales);
    }
    let gs = format.group_size();
    let mut saturated = 0;
    for ((group, out), s) in values
        .chunks(gs)
        .zip(mantissas.chunks_mut(gs))
        .zip(scales.iter_mut())
    {
        let (scale, sat) = quantize_group(format, group, out);
        *s = scale;
        saturated += sat as u64;
    }
    saturated
}

/// One-value groups (STREAM16, EXACT: every stored result of the default policy). The scale
/// of a lone value is its own top `t` (`|v| < 2^t`), so the value keeps its `P` leading bits:
/// a shift by `bit_length - P`, one nearest-even rounding, and a carry into `t + 1` when the
/// rounding reaches `2^P` (then the mantissa is exactly `2^(P-1)`). Straight-line code for
/// every value whose scale is in range; the rest (zero aside) take the general routine.
fn quantize_singles(
    format: GseFormat,
    values: &[Dyadic],
    mantissas: &mut [i32],
    scales: &mut [i32],
) -> u64 {
    let p = format.magnitude_bits() as i32;
    let mut saturated = 0;
    for ((v, m), s) in values
        .iter()
        .zip(mantissas.iter_mut())
        .zip(scales.iter_mut())
    {
        let mag = v.mant.unsigned_abs();
        let bits = 64 - mag.leading_zeros() as i32;
        let top = v.exp as i64 + bits as i64;
        if mag != 0 && (SCALE_MIN as i64..SCALE_MAX as i64).contains(&top) {
            let shift = bits - p;
            // bits <= 64 and P >= 1: down <= 63; up <= P.
            let (down, up) = (shift.max(0) as u32, (-shift).max(0) as u32);
            let kept = mag >> down;
            let rest = mag & ((1u64 << down) - 1);
            let half = (1u64 << down) >> 1;
            let odd_tie = (rest == half) & (kept & 1 == 1) & (down > 0);
            let r = (kept + ((rest > half) | odd_tie) as u64) << up;
            let carry = (r >> p) as u32; // 1 exactly when rounding reached 2^P
            let sign = v.mant >> 63;
            *m = (((r >> carry) as i64 ^ sign) - sign) as i32;
            *s = top as i32 + carry as i32;
        } else if mag == 0 {
            *m = 0;
            *s = SCALE_MIN;
        } else {
            let (scale, sat) =
                quantize_group(format, core::slice::from_ref(v), core::slice::from_mut(m));
            *s = scale;
            saturated += sat as u64;
        }
    }
    saturated
}

/// One group, exactly as [`gse::quantize_group`] does it for nearest rounding.
#[inline(always)]
fn quantize_group(format: GseFormat, values: &[Dyadic], out: &mut [i32]) -> (i32, u32) {
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
        for (v, o) in values.iter().zip(out.iter_mut()) {
            let m = round_at(*v, lsb);
            overflow |= m.abs() > max;
            *o = m.clamp(-max, max) as i32;
        }
        if !overflow {
            return (scale, 0);
        }
        if scale == SCALE_MAX {
            let saturated = values
                .iter()
                .filter(|v| round_at(**v, lsb).abs() > max)
                .count();
            return (scale, saturated as u32);
        }
        // Rounding carried the largest member to 2^P: one more scale bit.
        scale += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::{Rounding, SplitMix64};

    fn random_dyadic(rng: &mut SplitMix64) -> Dyadic {
        let bits = rng.below(64) as u32;
        let mant = (rng.next_u64() >> (64 - bits.max(1))) as i64 >> (bits == 0) as u32;
        let mant = mant & (i64::MAX >> 1);
        let mant = if rng.below(2) == 0 { -mant } else { mant };
        // Exponents around every interesting place: the scale range's ends and beyond.
        let exp = match rng.below(4) {
            0 => rng.below(40) as i32 - 20,
            1 => SCALE_MIN - 90 + rng.below(60) as i32,
            // (Not beyond 2^160 + 2^62: there `gse::Dyadic::round_at` returns i64::MIN, whose
            // `abs` overflows in the reference quantizer.)
            2 => SCALE_MAX - 70 + rng.below(80) as i32,
            _ => rng.below(460) as i32 - 300,
        };
        Dyadic::new(mant, exp)
    }

    #[test]
    fn identical_to_the_reference_quantizer() {
        let mut rng = SplitMix64::new(3);
        let formats = [
            GseFormat::INT4,
            GseFormat::INT8,
            GseFormat::WIDE16,
            GseFormat::STREAM16,
            GseFormat::EXACT,
            GseFormat::new(2, 1).unwrap(),
            GseFormat::new(12, 4).unwrap(),
        ];
        for format in formats {
            let gs = format.group_size();
            for _ in 0..20_000 / gs {
                let n = gs * (1 + rng.below(3) as usize);
                let mut values: Vec<Dyadic> = (0..n).map(|_| random_dyadic(&mut rng)).collect();
                // Values that round up to a power of two exercise the carry into a new scale.
                if rng.below(4) == 0 {
                    values[0] = Dyadic::new((1 << 40) - 1, -40 + rng.below(8) as i32);
                }
                let mut got = vec![0; n];
                let mut scales = vec![0; n / gs];
                let sat = quantize_nearest(format, &values, &mut got, &mut scales);
                let mut want = vec![0; gs];
                let mut want_sat = 0;
                for (g, group) in values.chunks(gs).enumerate() {
                    let (scale, s) =
                        gse::quantize_group(format, group, Rounding::NearestEven, 0, &mut want);
                    want_sat += s as u64;
                    assert_eq!(scales[g], scale, "{format} {group:?}");
                    assert_eq!(&got[g * gs..(g + 1) * gs], &want[..], "{format} {group:?}");
                }
                assert_eq!(sat, want_sat);
            }
        }
    }

    #[test]
    fn far_beyond_the_range_saturates_and_counts() {
        let values = [
            Dyadic::new(-1, 250),
            Dyadic::new(3, 400),
            Dyadic::new(5, -400),
        ];
        let (mut m, mut s) = ([0; 3], [0; 3]);
        let sat = quantize_nearest(GseFormat::STREAM16, &values, &mut m, &mut s);
        assert_eq!(
            (m, s, sat),
            ([-32767, 32767, 0], [SCALE_MAX, SCALE_MAX, SCALE_MIN], 2)
        );
    }
}
