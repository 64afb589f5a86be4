//! Rounding 8 i32 results at once to a one-element-group format, for tiles whose exact sums
//! are i32 (or narrowed to i32). The same results as `round_one`, lane-wise: bit length by
//! nibble tables (AVX2 has no vector `lzcnt`), a normalizing left shift, one nearest-even
//! right shift by a constant, and the carry fix-up.

use core::arch::x86_64::*;

use gse::{SCALE_BIAS, SCALE_MAX, SCALE_MIN};

use crate::kernel::{MR, NR};

/// Bit length of each lane, read as u32: per byte from two 16-entry nibble tables
/// (`vpshufb`), then the highest non-zero byte's length plus its bit offset (AVX2 has no
/// vector `lzcnt`; a float conversion would be floating point).
#[inline]
#[target_feature(enable = "avx2")]
fn bit_length(x: __m256i) -> __m256i {
    #[rustfmt::skip]
    let low_lut = _mm256_setr_epi8(
        0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4,
        0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4,
    );
    #[rustfmt::skip]
    let high_lut = _mm256_setr_epi8(
        0, 5, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8,
        0, 5, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8,
    );
    let nibble = _mm256_set1_epi8(0x0f);
    let low = _mm256_shuffle_epi8(low_lut, _mm256_and_si256(x, nibble));
    let high = _mm256_shuffle_epi8(
        high_lut,
        _mm256_and_si256(_mm256_srli_epi32::<4>(x), nibble),
    );
    let byte_len = _mm256_max_epu8(low, high); // 0..=8 per byte
    // Byte i of a lane counts from bit 8i, where it is non-zero.
    let offsets = _mm256_set1_epi32(0x1810_0800);
    let empty = _mm256_cmpeq_epi8(byte_len, _mm256_setzero_si256());
    let t = _mm256_add_epi8(byte_len, _mm256_andnot_si256(empty, offsets));
    let t = _mm256_max_epu8(t, _mm256_srli_epi32::<8>(t));
    let t = _mm256_max_epu8(t, _mm256_srli_epi32::<16>(t));
    _mm256_and_si256(t, _mm256_set1_epi32(0xff))
}

/// Rounds lanes `acc * 2^exp` to `p` magnitude bits: `(biased scale, mantissa)` per lane, or
/// `None` when some lane's scale clamps, `|acc| = 2^31`, or `p > 30` (the caller redoes those
/// 8 in scalar code).
///
/// Each magnitude is first normalized with its leading one at bit 30 (an exact left shift by
/// `31 - bits`), so the rounding to `p` bits is one right shift by the constant `31 - p`,
/// nearest-even; values that already fit have zeros there and come out unchanged.
///
/// Safe to call only where AVX2 is enabled (a `target_feature` function).
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn round8(acc: __m256i, exp: __m256i, p: u32) -> Option<(__m256i, __m256i)> {
    round8_with::<true>(acc, exp, RoundTo::new(p)?)
}

/// What [`round8_with`] needs of the output format, set up once for a run of outputs.
#[derive(Clone, Copy)]
pub(crate) struct RoundTo {
    /// `31 - p`: the right shift from bit 30 to `p` bits.
    shift: __m128i,
    /// `p`: the shift that finds a carry to `2^p`.
    p: __m128i,
    /// `2^(30 - p) - 1`.
    half_minus_one: __m256i,
}

impl RoundTo {
    /// For `p` magnitude bits, or `None` when `p > 30` (left to the scalar path).
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn new(p: u32) -> Option<Self> {
        (p <= 30).then(|| Self {
            shift: _mm_cvtsi32_si128(31 - p as i32),
            p: _mm_cvtsi32_si128(p as i32),
            half_minus_one: _mm256_set1_epi32((1i32 << (30 - p)) - 1),
        })
    }
}

/// [`round8`] with the format's constants set up already; with `CHECK = false` the caller
/// guarantees what the checks would find: every lane's scale `exp + bits(acc)` in
/// `SCALE_MIN..SCALE_MAX` and `|acc| < 2^31` (then it never declines).
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn round8_with<const CHECK: bool>(
    acc: __m256i,
    exp: __m256i,
    to: RoundTo,
) -> Option<(__m256i, __m256i)> {
    let lanes = Lanes::new(acc, exp);
    if CHECK && lanes.declined() {
        return None;
    }
    Some(lanes.round(to))
}

/// Eight results `acc * 2^exp` on their way to [`round8_with`]: what the range checks and the
/// rounding both need.
#[derive(Clone, Copy)]
struct Lanes {
    acc: __m256i,
    is_zero: __m256i,
    /// `|acc|` (`i32::MIN` gives `2^31`, read as u32).
    mag: __m256i,
    bits: __m256i,
    /// The scale before a carry: `exp + bits`.
    top: __m256i,
}

impl Lanes {
    #[inline]
    #[target_feature(enable = "avx2")]
    fn new(acc: __m256i, exp: __m256i) -> Self {
        let mag = _mm256_abs_epi32(acc);
        let bits = bit_length(mag);
        Self {
            acc,
            is_zero: _mm256_cmpeq_epi32(acc, _mm256_setzero_si256()),
            mag,
            bits,
            top: _mm256_add_epi32(exp, bits),
        }
    }

    /// Whether some non-zero lane's scale clamps or some `|acc| = 2^31`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn declined(self) -> bool {
        let low = _mm256_cmpgt_epi32(_mm256_set1_epi32(SCALE_MIN), self.top);
        let high = _mm256_cmpgt_epi32(self.top, _mm256_set1_epi32(SCALE_MAX - 1));
        let wide = _mm256_cmpgt_epi32(self.bits, _mm256_set1_epi32(31));
        let bad = _mm256_or_si256(
            _mm256_andnot_si256(self.is_zero, _mm256_or_si256(low, high)),
            wide,
        );
        _mm256_movemask_epi8(bad) != 0
    }

    /// `(biased scale, mantissa)` per lane, for lanes the checks accept.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn round(self, to: RoundTo) -> (__m256i, __m256i) {
        let one = _mm256_set1_epi32(1);
        let normal =
            _mm256_sllv_epi32(self.mag, _mm256_sub_epi32(_mm256_set1_epi32(31), self.bits));
        let odd = _mm256_and_si256(_mm256_srl_epi32(normal, to.shift), one);
        // `normal < 2^31` and the addend `<= 2^29`: the u32 sum does not wrap.
        let sum = _mm256_add_epi32(_mm256_add_epi32(normal, to.half_minus_one), odd);
        let r = _mm256_srl_epi32(sum, to.shift);
        let carry = _mm256_srl_epi32(r, to.p); // 0 or 1
        let r = _mm256_srlv_epi32(r, carry);
        let mant = _mm256_sign_epi32(r, self.acc);
        let scale = _mm256_blendv_epi8(
            _mm256_add_epi32(self.top, carry),
            _mm256_set1_epi32(SCALE_MIN),
            self.is_zero,
        );
        (_mm256_add_epi32(scale, _mm256_set1_epi32(SCALE_BIAS)), mant)
    }
}

/// Rounds a micro-tile held in registers (row `i`'s 16 columns in `c[2i]`, `c[2i + 1]`) and
/// stores its first `rows` rows, row `i` at `mant + i * stride` and `scales + i * stride`.
/// The caller guarantees what `CHECK = false` asks of [`round8_with`] for every lane
/// (`tile_in_range`), so no lane is declined: straight-line code whose twelve rounding
/// chains overlap, and no round trip of the tile through memory.
///
/// # Safety
/// AVX2; `exp_a` valid for `MR` reads, and the first `rows` rows' 16 outputs inside the
/// buffers.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_tile_i16(
    c: &[__m256i; 2 * MR],
    rows: usize,
    exp_a: *const i32,
    exp_b: &[i32; NR],
    to: RoundTo,
    (mant, scales, stride): (*mut i16, *mut u8, usize),
) {
    // SAFETY: per the contract.
    unsafe {
        let eb0 = _mm256_loadu_si256(exp_b.as_ptr() as *const __m256i);
        let eb1 = _mm256_loadu_si256(exp_b.as_ptr().add(8) as *const __m256i);
        // All MR rows are rounded (a constant trip count keeps `c` in registers); only the
        // real ones are stored.
        for i in 0..MR {
            let ea = _mm256_set1_epi32(*exp_a.add(i));
            let lo = Lanes::new(c[2 * i], _mm256_add_epi32(ea, eb0)).round(to);
            let hi = Lanes::new(c[2 * i + 1], _mm256_add_epi32(ea, eb1)).round(to);
            if i < rows {
                store16_i16(scales.add(i * stride), mant.add(i * stride), lo, hi);
            }
        }
    }
}

/// Loads 8 i64 and narrows them to i32 lanes, or `None` when one does not fit i32.
///
/// # Safety
/// AVX2; `src` valid for 8 i64 reads.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn narrow8(src: *const i64) -> Option<__m256i> {
    // SAFETY: per the contract.
    let (lo, hi) = unsafe {
        (
            _mm256_loadu_si256(src as *const __m256i),
            _mm256_loadu_si256(src.add(4) as *const __m256i),
        )
    };
    // The low halves of all 8 lanes, in order.
    let pick = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    let l = _mm256_permutevar8x32_epi32(lo, pick);
    let h = _mm256_permutevar8x32_epi32(hi, pick);
    let narrow = _mm256_permute2x128_si256::<0x20>(l, h);
    // Each lane fits when sign-extending its low half gives it back.
    let back_lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(narrow));
    let back_hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(narrow));
    let same = _mm256_and_si256(
        _mm256_cmpeq_epi64(back_lo, lo),
        _mm256_cmpeq_epi64(back_hi, hi),
    );
    (_mm256_movemask_epi8(same) == -1).then_some(narrow)
}

/// Stores 16 rounded outputs, `(scales, mantissas)` of two [`round8`] results, as scale bytes
/// at `scales` and i16 mantissas at `mant`: one pack chain for both halves.
///
/// # Safety
/// AVX2; `scales` valid for 16 bytes and `mant` for 16 i16.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store16_i16(
    scales: *mut u8,
    mant: *mut i16,
    (s0, m0): (__m256i, __m256i),
    (s1, m1): (__m256i, __m256i),
) {
    // Per 128-bit lane the packs interleave the two halves; one permute restores the order.
    let order = |v: __m256i| _mm256_permute4x64_epi64::<0b1101_1000>(v);
    let m = order(_mm256_packs_epi32(m0, m1));
    let w = order(_mm256_packus_epi32(s0, s1));
    let b = _mm256_packus_epi16(w, w); // per lane: bytes 0..7 twice | 8..15 twice
    let b = _mm256_permute4x64_epi64::<0b1000>(b);
    // SAFETY: per the contract.
    unsafe {
        _mm256_storeu_si256(mant as *mut __m256i, m);
        _mm_storeu_si128(scales as *mut __m128i, _mm256_castsi256_si128(b));
    }
}

/// Stores 8 biased scales (each in `0..=255`) as bytes at `dst`.
///
/// # Safety
/// AVX2; `dst` valid for 8 bytes.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_u8(dst: *mut u8, v: __m256i) {
    let w = _mm256_packus_epi32(v, v); // per 128-bit lane: s0..3 s0..3 | s4..7 s4..7
    let b = _mm256_packus_epi16(w, w); // per lane: s0..3 x4 | s4..7 x4
    let lo = _mm256_castsi256_si128(b);
    let hi = _mm256_extracti128_si256::<1>(b);
    let both = _mm_unpacklo_epi32(lo, hi); // s0..3 s4..7 ...
    // SAFETY: per the contract.
    unsafe { _mm_storel_epi64(dst as *mut __m128i, both) };
}

/// Stores 8 i16-range lanes as i16 at `dst`.
///
/// # Safety
/// AVX2; `dst` valid for 8 i16.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_i16(dst: *mut i16, v: __m256i) {
    let w = _mm256_packs_epi32(v, v); // m0..3 m0..3 | m4..7 m4..7
    let w = _mm256_permute4x64_epi64::<0b1000>(w); // m0..3 m4..7 in the low 128 bits
    // SAFETY: per the contract.
    unsafe { _mm_storeu_si128(dst as *mut __m128i, _mm256_castsi256_si128(w)) };
}

/// Stores 8 i8-range lanes as i8 at `dst`.
///
/// # Safety
/// AVX2; `dst` valid for 8 bytes.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_i8(dst: *mut i8, v: __m256i) {
    let w = _mm256_packs_epi32(v, v);
    let b = _mm256_packs_epi16(w, w);
    let lo = _mm256_castsi256_si128(b);
    let hi = _mm256_extracti128_si256::<1>(b);
    // SAFETY: per the contract.
    unsafe { _mm_storel_epi64(dst as *mut __m128i, _mm_unpacklo_epi32(lo, hi)) };
}

/// Stores 8 i32 at `dst`.
///
/// # Safety
/// AVX2; `dst` valid for 8 i32.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_i32(dst: *mut i32, v: __m256i) {
    // SAFETY: per the contract.
    unsafe { _mm256_storeu_si256(dst as *mut __m256i, v) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_matches_leading_zeros_on_every_bit_position() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        let mut values: Vec<u32> = vec![0, 1, u32::MAX, 1 << 31];
        for b in 0..32 {
            values.extend([1u32 << b, (1u32 << b) | 1, (1u32 << b).wrapping_mul(3) >> 1]);
            values.push(((1u64 << (b + 1)) - 1) as u32);
        }
        let mut x = 0x9e37_79b9u32;
        for _ in 0..4000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            values.push(x >> (x % 32));
        }
        for chunk in values.chunks(8) {
            let mut lanes = [0u32; 8];
            lanes[..chunk.len()].copy_from_slice(chunk);
            // SAFETY: AVX2 detected above; unaligned loads/stores of 8 u32.
            let got = unsafe {
                let v = _mm256_loadu_si256(lanes.as_ptr() as *const __m256i);
                let mut out = [0u32; 8];
                _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, bit_length(v));
                out
            };
            for (l, g) in lanes.iter().zip(got) {
                assert_eq!(g, 32 - l.leading_zeros(), "bit length of {l:#x}");
            }
        }
    }

    #[test]
    fn round8_matches_round_one_lane_by_lane() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        let mut values: Vec<i32> = vec![0, 1, -1, i32::MAX, -i32::MAX, 3, -3];
        for b in 0..31 {
            let v = 1i32 << b;
            values.extend([v, -v, v | 1, v.wrapping_mul(3) >> 1, v - 1, -(v - 1)]);
        }
        // Ties and carries at every width: `(2^q - 1) * 2^k + 2^(k - 1)` and neighbours.
        for q in 1..31 {
            for k in 1..(31 - q) {
                let v = (((1i64 << q) - 1) << k) + (1i64 << (k - 1));
                if v <= i32::MAX as i64 {
                    let v = v as i32;
                    values.extend([v, v - 1, v + 1, -v]);
                }
            }
        }
        let mut x = 0x2545_f491u32;
        for _ in 0..4000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            values.push((x as i32) >> (x % 31));
        }
        for p in [1u32, 7, 15, 24, 30] {
            for (c, chunk) in values.chunks(8).enumerate() {
                let mut acc = [0i32; 8];
                acc[..chunk.len()].copy_from_slice(chunk);
                let exp: [i32; 8] = core::array::from_fn(|j| (c as i32 * 7 + j as i32) % 40 - 60);
                // SAFETY: AVX2 detected above; unaligned loads/stores of 8 i32.
                let got = unsafe {
                    let a = _mm256_loadu_si256(acc.as_ptr() as *const __m256i);
                    let e = _mm256_loadu_si256(exp.as_ptr() as *const __m256i);
                    round8(a, e, p).map(|(s, m)| {
                        let (mut so, mut mo) = ([0i32; 8], [0i32; 8]);
                        _mm256_storeu_si256(so.as_mut_ptr() as *mut __m256i, s);
                        _mm256_storeu_si256(mo.as_mut_ptr() as *mut __m256i, m);
                        (so, mo)
                    })
                };
                let Some((scales, mants)) = got else {
                    continue;
                };
                for j in 0..8 {
                    let (scale, mant, _) = crate::requant::round_one(acc[j] as i64, exp[j], p);
                    assert_eq!(
                        (scales[j] - SCALE_BIAS, mants[j]),
                        (scale, mant),
                        "p {p}: {} * 2^{}",
                        acc[j],
                        exp[j]
                    );
                }
            }
        }
    }
}
