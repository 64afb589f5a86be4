//! Decoding GSE values to f32 bit patterns, for `into_data`: integer bit manipulation only.

use std::mem::MaybeUninit;

use gse::GseBlocks;

/// One-scale-per-value i16 mantissas to f32, assuming each non-zero mantissa's top bit is
/// bit `bits - 1` (as rounding always leaves it): then the f32 comes from shifts by constants
/// only, and the loop vectorizes. Writes every element; false when some value did not fit
/// that assumption (the caller redoes the run one by one).
fn decode_normalized(
    mants: &[i16],
    scales: &[u8],
    bits: u32,
    out: &mut [MaybeUninit<f32>],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        return unsafe { decode_normalized_avx2(mants, scales, bits, out) };
    }
    decode_normalized_body(mants, scales, bits, out)
}

/// [`decode_normalized_body`] compiled for AVX2: eight lanes where the baseline has four, the
/// same integer operations and results.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn decode_normalized_avx2(
    mants: &[i16],
    scales: &[u8],
    bits: u32,
    out: &mut [MaybeUninit<f32>],
) -> bool {
    decode_normalized_body(mants, scales, bits, out)
}

#[inline(always)]
fn decode_normalized_body(
    mants: &[i16],
    scales: &[u8],
    bits: u32,
    out: &mut [MaybeUninit<f32>],
) -> bool {
    let low = 1u32 << (bits - 1);
    let frac_shift = 24 - bits;
    let mut all = true;
    for ((o, &m), &sc) in out.iter_mut().zip(mants).zip(scales) {
        let mag = (m as i32).unsigned_abs();
        // f32 exponent field of `m * 2^(scale - bias - P)`: scale - bias - 1 + 127.
        let field = sc as i32 - gse::SCALE_BIAS + 126;
        let ok = mag >= low && (1..=254).contains(&field);
        let sign = (m as i32 as u32) & 0x8000_0000;
        let b = sign | (field as u32) << 23 | ((mag << frac_shift) & 0x007f_ffff);
        all &= ok | (m == 0);
        o.write(f32::from_bits(if m == 0 { 0 } else { b }));
    }
    all
}

/// `out[i]` = element `p0 + i` of `blocks` as f32: the mantissa container is matched once per
/// run and each value converts without data-dependent branches (random signs made the
/// per-element branches of [`gse::f32_bits::small_to_f32_bits`] mispredict half the time).
/// Identical bits: values outside the fast case take that function.
pub(crate) fn decode_run(blocks: &GseBlocks, p0: usize, out: &mut [MaybeUninit<f32>]) {
    use gse::Mantissas;
    let one = |o: &mut MaybeUninit<f32>, p: usize, mant: i32| {
        let lsb = blocks.lsb_of(p);
        let bits = match fast_f32_bits(mant, lsb) {
            Some(b) => b,
            None => gse::f32_bits::small_to_f32_bits(mant, lsb),
        };
        o.write(f32::from_bits(bits));
    };
    let range = p0..p0 + out.len();
    match blocks.mantissas() {
        Mantissas::I8(v) => {
            for ((o, &m), p) in out.iter_mut().zip(&v[range.clone()]).zip(range) {
                one(o, p, m as i32);
            }
        }
        Mantissas::I16(v) if blocks.format().group_size() == 1 => {
            let bits = blocks.format().magnitude_bits();
            let scales = &blocks.scale_bytes()[range.clone()];
            let mants = &v[range.clone()];
            if !decode_normalized(mants, scales, bits, out) {
                for ((o, &m), p) in out.iter_mut().zip(mants).zip(range) {
                    one(o, p, m as i32);
                }
            }
        }
        Mantissas::I16(v) => {
            for ((o, &m), p) in out.iter_mut().zip(&v[range.clone()]).zip(range) {
                one(o, p, m as i32);
            }
        }
        Mantissas::I32(v) => {
            for ((o, &m), p) in out.iter_mut().zip(&v[range.clone()]).zip(range) {
                one(o, p, m);
            }
        }
        Mantissas::Nibble(_) => {
            for (o, p) in out.iter_mut().zip(range) {
                one(o, p, blocks.mantissa(p));
            }
        }
    }
}

/// [`gse::f32_bits::small_to_f32_bits`] for mantissas below `2^24` whose value is a normal
/// f32 (or zero), computed with selects; `None` otherwise.
#[inline(always)]
fn fast_f32_bits(mant: i32, lsb: i32) -> Option<u32> {
    let mag = mant.unsigned_abs();
    let len = 32 - mag.leading_zeros() as i32;
    let exponent = lsb + len - 1;
    let ok = mag == 0 || (len <= 24 && (-126..=127).contains(&exponent));
    let fraction = (mag << ((24 - len) & 31)) & 0x007f_ffff;
    let sign = (mant as u32) & 0x8000_0000;
    let bits = sign | ((exponent + 127) as u32) << 23 | fraction;
    let bits = if mag == 0 { 0 } else { bits };
    ok.then_some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::{Dyadic, GseFormat, Rounding};

    #[test]
    fn fast_decode_matches_small_to_f32_bits() {
        let mut x = 99u64;
        for i in 0..200_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mant = ((x >> 33) as i32) >> (x % 26) as u32;
            let mant = if i % 7 == 0 { 0 } else { mant };
            let lsb = ((x >> 8) % 320) as i32 - 180;
            if mant.unsigned_abs() >= 1 << 24 {
                continue;
            }
            let want = gse::f32_bits::small_to_f32_bits(mant, lsb);
            if let Some(got) = fast_f32_bits(mant, lsb) {
                assert_eq!(got, want, "mant {mant} lsb {lsb}");
            }
        }
    }

    #[test]
    fn decode_run_matches_get_for_stream_and_exact_blocks() {
        let mut x = 7u64;
        let vals: Vec<Dyadic> = (0..5000)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let mant = ((x >> 33) as i64) >> (x % 30);
                let exp = ((x >> 8) % 330) as i32 - 190;
                if i % 11 == 0 {
                    Dyadic::ZERO
                } else {
                    Dyadic::new(mant, exp)
                }
            })
            .collect();
        for format in [GseFormat::STREAM16, GseFormat::EXACT, GseFormat::INT8] {
            let blocks = gse::encode_dyadics(format, &vals, Rounding::NearestEven);
            let mut out = vec![MaybeUninit::new(f32::NAN); vals.len() - 3];
            decode_run(&blocks, 3, &mut out);
            for (i, o) in out.iter().enumerate() {
                // SAFETY: initialized above (and overwritten by `decode_run`).
                let o = unsafe { o.assume_init() };
                let want =
                    gse::f32_bits::small_to_f32_bits(blocks.mantissa(i + 3), blocks.lsb_of(i + 3));
                assert_eq!(o.to_bits(), want, "{format} element {}", i + 3);
            }
        }
    }
}
