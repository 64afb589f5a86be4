//! The AVX2 micro-kernel: `vpbroadcastd` an A pair, `vpmaddwd` it with two B vectors of
//! 8 column pairs, `vpaddd` into 12 accumulator registers (6 rows x 16 columns).
//!
//! i16 x i16 `vpmaddwd` was chosen over the u8 x s8 `vpmaddubsw` paths for 8-bit operands:
//! `vpmaddubsw` saturates at i16 and INT8 x INT8 pairs reach `2 * 255 * 127` with the usual
//! +128 offset; the sign trick (`vpsignb`) avoids that but measured no faster here (see PERF.md).

use core::arch::x86_64::*;

use super::{MR, NR, Tile32, Tile64};

/// # Safety
/// AVX2 must be available; `a` must be valid for `kpairs * MR` reads and `b` for
/// `kpairs * NR` reads (u32 pairs of i16).
#[target_feature(enable = "avx2")]
pub(super) unsafe fn dot(kpairs: usize, a: *const u32, b: *const u32, out: &mut Tile32) {
    // SAFETY: per the contract.
    let c = unsafe { dot_registers(kpairs, a, b) };
    let dst = out.as_mut_ptr() as *mut __m256i;
    for (k, v) in c.iter().enumerate() {
        // SAFETY: `out` holds MR * NR = 2 * MR vectors of 8 i32.
        unsafe { _mm256_storeu_si256(dst.add(k), *v) };
    }
}

/// The tile of [`dot`] left in registers, row `i`'s columns 0..8 in `c[2i]` and 8..16 in
/// `c[2i + 1]`, for callers that round it straight from there.
///
/// # Safety
/// As [`dot`].
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn dot_registers(
    kpairs: usize,
    a: *const u32,
    b: *const u32,
) -> [__m256i; 2 * MR] {
    let mut c = [_mm256_setzero_si256(); 2 * MR];
    let (mut a, mut b) = (a, b);
    // One k-pair: two B vectors, each A pair broadcast and multiplied with both.
    let step = |c: &mut [__m256i; 2 * MR], a: *const u32, b: *const u32| {
        // SAFETY: within the bounds the caller guarantees; unaligned loads throughout.
        unsafe {
            let b0 = _mm256_loadu_si256(b as *const __m256i);
            let b1 = _mm256_loadu_si256(b.add(8) as *const __m256i);
            for i in 0..MR {
                let av = _mm256_set1_epi32(*a.add(i) as i32);
                c[2 * i] = _mm256_add_epi32(c[2 * i], _mm256_madd_epi16(av, b0));
                c[2 * i + 1] = _mm256_add_epi32(c[2 * i + 1], _mm256_madd_epi16(av, b1));
            }
        }
    };
    // Two k-pairs per iteration: the loop's own instructions (pointer steps, the branch)
    // compete with the 12 `vpmaddwd` + 12 `vpaddd` for the 6-wide dispatch.
    for _ in 0..kpairs / 2 {
        step(&mut c, a, b);
        // SAFETY: as above.
        unsafe {
            step(&mut c, a.add(MR), b.add(NR));
            a = a.add(2 * MR);
            b = b.add(2 * NR);
        }
    }
    if kpairs % 2 == 1 {
        step(&mut c, a, b);
    }
    c
}

/// # Safety
/// AVX2 must be available; `ea` must be valid for `MR` reads and `eb` for `NR` reads.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn flush<const ADD: bool>(
    acc: &mut Tile64,
    d: &Tile32,
    ea: *const i32,
    eb: *const i32,
) {
    // SAFETY: every pointer below stays inside `acc`, `d`, `ea[..MR]` or `eb[..NR]`.
    unsafe {
        let ebv: [__m256i; NR / 4] = core::array::from_fn(|q| {
            _mm256_cvtepi32_epi64(_mm_loadu_si128(eb.add(4 * q) as *const __m128i))
        });
        let dp = d.as_ptr();
        let accp = acc.as_mut_ptr();
        for i in 0..MR {
            let e = _mm256_set1_epi64x(*ea.add(i) as i64);
            for (q, ebq) in ebv.iter().enumerate() {
                let at = i * NR + 4 * q;
                let v = _mm256_cvtepi32_epi64(_mm_loadu_si128(dp.add(at) as *const __m128i));
                let v = _mm256_sllv_epi64(v, _mm256_add_epi64(e, *ebq));
                let slot = accp.add(at) as *mut __m256i;
                let v = if ADD {
                    _mm256_add_epi64(_mm256_loadu_si256(slot), v)
                } else {
                    v
                };
                _mm256_storeu_si256(slot, v);
            }
        }
    }
}
