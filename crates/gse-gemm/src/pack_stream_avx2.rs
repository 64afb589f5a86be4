//! The STREAM16 packing fast path for a whole K-block of one panel, in AVX2 intrinsics: the
//! same mantissas, scales and pairs as `pack_stream.rs` followed by `write_block`, in two
//! passes over the source, sixteen values per vector and no buffer of quantized values.
//!
//! **Pass 1 (scales).** Per group and line: the largest scale byte of the non-zero members,
//! whether the group carries, and whether a member is unnormalized. A carry can only come
//! from a member at the largest scale, where the shift is `d0 = 15 - P`: it rounds up to `2^P`
//! exactly when its magnitude is at least `2^15 - 2^(d0 - 1)` (at the half-way point bit `d0`
//! is set, so nearest-even rounds up too). Each member is keyed `2 (e + 1) + big` (0 for zero
//! members); the largest key gives the largest scale byte and, in its low bit, the carry.
//! Unnormalized members or a scale byte of 255 decline the whole block before anything is
//! written to the panel.
//!
//! **Pass 2 (mantissas).** Every member is rounded nearest-even by a right shift of
//! `d = emax + carry + d0 - e` in 16-bit lanes. AVX2 has no 16-bit variable shift, so the
//! shift is a multiply by `2^(17 - d)` (looked up with `vpshufb`): the high half of the product
//! is the value with one extra bit (the guard bit), the low half is non-zero exactly when a
//! bit below the guard is set (the sticky bit). Then the sign, the shift to the block
//! exponent (a multiply by `2^up`: exact, the result fits i16 by `bounds.rs`) and the pairing
//! into the panel.
//!
//! Both source layouts are covered: lines contiguous (a row-major B, a transposed A: one load
//! gives the panel's lines at one K index) and K contiguous (a row-major A, a transposed B: one
//! load gives sixteen K indices of one line, already in pair order, transposed into the
//! panel's `[pair][line]` order in registers). Anything else declines and the caller takes
//! the portable code, whose results are identical.

use core::arch::x86_64::*;
use core::ops::Range;

use gse::SCALE_BIAS;

use crate::pack::{Lines, ZERO, block_alignment};
use crate::pack_stream::Stream16;

/// Magnitude bits of STREAM16 mantissas.
const STREAM_BITS: u32 = 15;

/// One K-block of one panel: where it lies and how it is quantized.
pub(crate) struct BlockJob<'a> {
    pub src: Stream16<'a>,
    pub lines: &'a Lines<'a>,
    /// First line of the panel and how many of its lines exist (the rest are zero).
    pub line0: usize,
    pub live: usize,
    /// The block's groups.
    pub groups: Range<usize>,
    pub gs: usize,
    /// Operand magnitude bits.
    pub p: u32,
    /// Largest spread of a line's group scales that is pre-aligned to the block exponent.
    pub shift: i32,
}

/// The panel's tables and data that packing one block fills.
pub(crate) struct BlockOut<'a> {
    /// `[group][line]` scales (`ZERO` for all-zero groups) and flush exponents, whole panel.
    pub scale: &'a mut [i32],
    pub x: &'a mut [i32],
    /// This block's per-line exponent `lo`.
    pub lo: &'a mut [i32],
    /// The panel's pair data, whole panel.
    pub data: &'a mut [u32],
}

/// How the block's values lie in storage.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `line_stride == 1`: the panel's lines at one K index per load.
    Lanes,
    /// `k_stride == 1`: sixteen K indices of one line per load.
    Runs,
}

impl BlockJob<'_> {
    fn index(&self, line: usize, k: usize) -> usize {
        let l = self.lines;
        (l.offset + (self.line0 + line) as isize * l.line_stride + k as isize * l.k_stride) as usize
    }

    /// The layout, if this block can take the vector path: panels of 16 lines or of at most
    /// 8, shifts `d >= 2` (`P <= 13`) and groups of a multiple of 8.
    fn layout<const W: usize>(&self) -> Option<Layout> {
        let l = self.lines;
        let widths = W == 16 || W <= 8;
        if !widths || !(1..STREAM_BITS - 1).contains(&self.p) || !self.gs.is_multiple_of(8) {
            return None;
        }
        if l.line_stride == 1 {
            // Whole vectors of lines are read, so they must exist; every line of the panel
            // must be live (the vector path does not zero the others).
            let whole = self.line0 + lanes::<W>() <= l.lines && self.live == W;
            whole.then_some(Layout::Lanes)
        } else if l.k_stride == 1 {
            // Runs are read in whole groups, so the block must not end in a partial one.
            (self.groups.end * self.gs <= l.k).then_some(Layout::Runs)
        } else {
            None
        }
    }

    /// K indices of group `g` inside the matrix.
    fn kn(&self, g: usize) -> usize {
        self.gs.min(self.lines.k - g * self.gs)
    }
}

/// Lines read per load in the lines-contiguous layout.
const fn lanes<const W: usize>() -> usize {
    if W > 8 { 16 } else { 8 }
}

/// Packs the block as the portable path would, or returns `None` (having written nothing to
/// the panel data) when it must take that path. `Some(all)`: whether every line is aligned.
///
/// # Safety
/// AVX2 must be available.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn pack_block<const W: usize>(
    job: &BlockJob<'_>,
    out: BlockOut<'_>,
) -> Option<bool> {
    let layout = job.layout::<W>()?;
    for g in job.groups.clone() {
        let scales = &mut out.scale[g * W..(g + 1) * W];
        let ok = match layout {
            Layout::Lanes => group_scales_lanes::<W>(job, g, scales),
            Layout::Runs => group_scales_runs::<W>(job, g, scales),
        };
        if !ok {
            return None;
        }
    }
    let BlockOut { scale, x, lo, data } = out;
    let (all, aligned) = block_alignment::<W>(scale, job.groups.clone(), job.shift, lo);
    let d0 = (STREAM_BITS - job.p) as i32;
    for g in job.groups.clone() {
        // Per line: `base - 2` of the shift `d = base - e`, and `2^up`. All-zero groups round
        // to zero whatever they are.
        let mut base_m2 = [0u16; W];
        let mut up = [1u16; W];
        for w in 0..W {
            let s = scale[g * W + w];
            if s == ZERO {
                continue;
            }
            x[g * W + w] = if aligned[w] { lo[w] } else { s };
            base_m2[w] = (s + SCALE_BIAS + d0 - 2) as u16;
            if aligned[w] {
                up[w] = 1 << (s - lo[w]);
            }
        }
        let dst = &mut data[g * job.gs / 2 * W..(g + 1) * job.gs / 2 * W];
        match layout {
            Layout::Lanes => write_group_lanes::<W>(job, g, &base_m2, &up, dst),
            Layout::Runs => write_group_runs::<W>(job, g, &base_m2, &up, dst),
        }
    }
    Some(all)
}

/// Per-lane statistics of a group in u16 lanes: the largest key `2 (e + 1) + big` of the
/// non-zero members, and the smallest `|m| - 1` (wrapping, so zeros count as 0xffff).
struct Stats {
    key: __m256i,
    mag_m1: __m256i,
    threshold_m1: __m256i,
}

impl Stats {
    #[target_feature(enable = "avx2")]
    fn new(p: u32) -> Self {
        let d0 = STREAM_BITS - p;
        let threshold = (1u32 << STREAM_BITS) - (1u32 << (d0 - 1));
        Self {
            key: _mm256_setzero_si256(),
            mag_m1: _mm256_set1_epi16(-1),
            threshold_m1: _mm256_set1_epi16((threshold - 1) as u16 as i16),
        }
    }

    /// Adds sixteen members: mantissas `m` (i16) and scale bytes `e` (widened to u16).
    #[target_feature(enable = "avx2")]
    fn add(&mut self, m: __m256i, e: __m256i) {
        let one = _mm256_set1_epi16(1);
        // Unsigned from here on: `|i16::MIN|` is 0x8000 and counts as large.
        let mag = _mm256_abs_epi16(m);
        let zero = _mm256_cmpeq_epi16(m, _mm256_setzero_si256());
        let big = _mm256_min_epu16(_mm256_subs_epu16(mag, self.threshold_m1), one);
        let key = _mm256_or_si256(
            _mm256_add_epi16(_mm256_slli_epi16::<1>(e), _mm256_set1_epi16(2)),
            big,
        );
        self.key = _mm256_max_epu16(self.key, _mm256_andnot_si256(zero, key));
        self.mag_m1 = _mm256_min_epu16(self.mag_m1, _mm256_sub_epi16(mag, one));
    }
}

/// A line's group scale from its largest key and smallest `|m| - 1`, or `None` to decline
/// (an unnormalized member, or a scale byte of 255).
fn scale_of(key: u16, mag_m1: u16) -> Option<i32> {
    let top = key >> 1; // e + 1
    if mag_m1 < (1 << (STREAM_BITS - 1)) - 1 || top > 255 {
        return None;
    }
    Some(if top == 0 {
        ZERO
    } else {
        top as i32 - 1 - SCALE_BIAS + (key & 1) as i32
    })
}

/// Reads of consecutive values at `count` positions `stride` apart, checked once against the
/// arrays so the loads below need no per-read bounds check.
#[derive(Clone, Copy)]
struct Walk<'a> {
    src: Stream16<'a>,
    start: isize,
    stride: isize,
}

impl<'a> Walk<'a> {
    /// Positions `start + j * stride` for `j < count`, each followed by `width` values.
    fn new(
        src: Stream16<'a>,
        start: usize,
        stride: isize,
        count: usize,
        width: usize,
    ) -> Option<Self> {
        let len = src.mant.len().min(src.scale.len()) as isize;
        let start = start as isize;
        let last = start.checked_add((count as isize - 1).checked_mul(stride)?)?;
        let ok = count > 0 && start.min(last) >= 0 && start.max(last) + width as isize <= len;
        ok.then_some(Self { src, start, stride })
    }

    fn at(&self, j: usize) -> isize {
        self.start + j as isize * self.stride
    }

    /// Eight mantissas and their scale bytes (low half) at position `j`.
    ///
    /// # Safety
    /// `j < count` and `width >= 8` of [`Walk::new`].
    #[target_feature(enable = "avx2")]
    unsafe fn load8(&self, j: usize) -> (__m128i, __m128i) {
        let i = self.at(j);
        // SAFETY: in bounds by the caller's contract and the check in `new`.
        unsafe {
            (
                _mm_loadu_si128(self.src.mant.as_ptr().offset(i) as *const __m128i),
                _mm_loadl_epi64(self.src.scale.as_ptr().offset(i) as *const __m128i),
            )
        }
    }

    /// Sixteen mantissas and their scale bytes widened to u16, at position `j`.
    ///
    /// # Safety
    /// `j < count` and `width >= 16` of [`Walk::new`].
    #[target_feature(enable = "avx2")]
    unsafe fn load16(&self, j: usize) -> (__m256i, __m256i) {
        let i = self.at(j);
        // SAFETY: as above.
        unsafe {
            (
                _mm256_loadu_si256(self.src.mant.as_ptr().offset(i) as *const __m256i),
                _mm256_cvtepu8_epi16(_mm_loadu_si128(
                    self.src.scale.as_ptr().offset(i) as *const __m128i
                )),
            )
        }
    }

    /// Positions `j` and `j + 1` (zeros past `count`), eight values each, as one vector of
    /// sixteen: position `j` in the low half.
    ///
    /// # Safety
    /// `j < count` and `width >= 8`.
    #[target_feature(enable = "avx2")]
    unsafe fn load8x2(&self, j: usize, count: usize) -> (__m256i, __m256i) {
        // SAFETY: `j < count`, and `j + 1` is read only when below `count`.
        let ((m0, e0), (m1, e1)) = unsafe {
            let second = if j + 1 < count {
                self.load8(j + 1)
            } else {
                (_mm_setzero_si128(), _mm_setzero_si128())
            };
            (self.load8(j), second)
        };
        (
            _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(m0), m1),
            _mm256_cvtepu8_epi16(_mm_unpacklo_epi64(e0, e1)),
        )
    }

    /// The lines-contiguous read of K index `j` for a panel of `W` lines: sixteen lines, or
    /// eight lines at `j` and `j + 1`.
    ///
    /// # Safety
    /// `j < count`, `width >= lanes::<W>()`.
    #[target_feature(enable = "avx2")]
    unsafe fn lanes<const W: usize>(&self, j: usize, count: usize) -> (__m256i, __m256i) {
        // SAFETY: forwarded.
        unsafe {
            if W > 8 {
                self.load16(j)
            } else {
                self.load8x2(j, count)
            }
        }
    }
}

/// Group `g`'s scales, lines contiguous.
#[target_feature(enable = "avx2")]
fn group_scales_lanes<const W: usize>(job: &BlockJob<'_>, g: usize, scales: &mut [i32]) -> bool {
    let (k0, kn) = (g * job.gs, job.kn(g));
    let stride = job.lines.k_stride;
    let Some(walk) = Walk::new(job.src, job.index(0, k0), stride, kn, lanes::<W>()) else {
        return false;
    };
    let mut st = Stats::new(job.p);
    let step = if W > 8 { 1 } else { 2 };
    for kk in (0..kn).step_by(step) {
        // SAFETY: `kk < kn`.
        let (m, e) = unsafe { walk.lanes::<W>(kk, kn) };
        st.add(m, e);
    }
    let (mut key, mut mag_m1) = ([0u16; 16], [0u16; 16]);
    // SAFETY: both arrays hold one 256-bit vector.
    unsafe {
        _mm256_storeu_si256(key.as_mut_ptr() as *mut __m256i, st.key);
        _mm256_storeu_si256(mag_m1.as_mut_ptr() as *mut __m256i, st.mag_m1);
    }
    for w in 0..W {
        // With eight lanes per load, lanes `w` and `w + 8` are the same line at two K indices.
        let (k, m) = if W > 8 {
            (key[w], mag_m1[w])
        } else {
            (key[w].max(key[w + 8]), mag_m1[w].min(mag_m1[w + 8]))
        };
        match scale_of(k, m) {
            Some(s) => scales[w] = s,
            None => return false,
        }
    }
    true
}

/// Largest and smallest u16 lanes of `max_of` and `min_of`.
#[target_feature(enable = "avx2")]
fn hmax_hmin_u16(max_of: __m256i, min_of: __m256i) -> (u16, u16) {
    let fmax = _mm_max_epu16(
        _mm256_castsi256_si128(max_of),
        _mm256_extracti128_si256::<1>(max_of),
    );
    let fmin = _mm_min_epu16(
        _mm256_castsi256_si128(min_of),
        _mm256_extracti128_si256::<1>(min_of),
    );
    // `phminposuw` finds the smallest lane; the largest is the smallest of the complement.
    let inverted = _mm_xor_si128(fmax, _mm_set1_epi16(-1));
    let max = !(_mm_cvtsi128_si32(_mm_minpos_epu16(inverted)) as u16);
    let min = _mm_cvtsi128_si32(_mm_minpos_epu16(fmin)) as u16;
    (max, min)
}

/// Group `g`'s scales, K contiguous.
#[target_feature(enable = "avx2")]
fn group_scales_runs<const W: usize>(job: &BlockJob<'_>, g: usize, scales: &mut [i32]) -> bool {
    let (k0, gs) = (g * job.gs, job.gs);
    for (w, s) in scales.iter_mut().enumerate().take(W) {
        if w >= job.live {
            *s = ZERO;
            continue;
        }
        let Some(run) = Walk::new(job.src, job.index(w, k0), 1, gs, 1) else {
            return false;
        };
        let mut st = Stats::new(job.p);
        for kk in (0..gs).step_by(16) {
            // SAFETY: the run holds `gs` values and `gs` is a multiple of 8.
            let (m, e) = unsafe {
                if kk + 16 <= gs {
                    run.load16(kk)
                } else {
                    let (m, e) = run.load8(kk);
                    (
                        _mm256_zextsi128_si256(m),
                        _mm256_zextsi128_si256(_mm_cvtepu8_epi16(e)),
                    )
                }
            };
            st.add(m, e);
        }
        let (key, mag_m1) = hmax_hmin_u16(st.key, st.mag_m1);
        match scale_of(key, mag_m1) {
            Some(v) => *s = v,
            None => return false,
        }
    }
    true
}

/// Sixteen members rounded nearest-even by right shifts of `d = base - e` (passed as
/// `base - 2`), signed and multiplied by `2^up`, in i16 lanes.
#[target_feature(enable = "avx2")]
fn quantize16(m: __m256i, e: __m256i, base_m2: __m256i, up: __m256i) -> __m256i {
    // 2^(15 - i) for i = d - 2 in 0..16, as its low and high bytes.
    let pow_lo = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, -128, 64, 32, 16, 8, 4, 2, 1, //
        0, 0, 0, 0, 0, 0, 0, 0, -128, 64, 32, 16, 8, 4, 2, 1,
    );
    let pow_hi = _mm256_setr_epi8(
        -128, 64, 32, 16, 8, 4, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, //
        -128, 64, 32, 16, 8, 4, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    );
    let one = _mm256_set1_epi16(1);
    // Non-zero members have `d >= d0 >= 2`; shifts of 17 and more all give 0, so `d - 2` is
    // clamped to 15. A zero member's `d` is meaningless (its scale byte is unrelated to the
    // group) but `vpsignw` zeroes it whatever it rounds to.
    let i = _mm256_min_epu16(_mm256_sub_epi16(base_m2, e), _mm256_set1_epi16(15));
    let mult = _mm256_or_si256(
        _mm256_shuffle_epi8(pow_lo, i),
        _mm256_slli_epi16::<8>(_mm256_shuffle_epi8(pow_hi, i)),
    );
    let mag = _mm256_abs_epi16(m);
    // `mag * 2^(17 - d)`: high half `mag >> (d - 1)`, low half the bits below, shifted up.
    let guarded = _mm256_mulhi_epu16(mag, mult);
    let below = _mm256_mullo_epi16(mag, mult);
    let sticky = _mm256_add_epi16(_mm256_cmpeq_epi16(below, _mm256_setzero_si256()), one);
    let lsb = _mm256_and_si256(_mm256_srli_epi16::<1>(guarded), one);
    // Round up iff the guard bit is set and (a lower bit is set or the result is odd).
    let r = _mm256_srli_epi16::<1>(_mm256_add_epi16(guarded, _mm256_or_si256(sticky, lsb)));
    _mm256_mullo_epi16(_mm256_sign_epi16(r, m), up)
}

/// Sixteen u16 from per-line values: `W` lines, or eight lines twice (two K indices).
#[target_feature(enable = "avx2")]
fn per_lane<const W: usize>(v: &[u16; W]) -> __m256i {
    let mut lane = [0u16; 16];
    for (j, l) in lane.iter_mut().enumerate() {
        let w = if W > 8 { j } else { j % 8 };
        if let Some(&x) = v.get(w) {
            *l = x;
        }
    }
    // SAFETY: `lane` holds one 256-bit vector.
    unsafe { _mm256_loadu_si256(lane.as_ptr() as *const __m256i) }
}

/// Group `g`'s pairs, lines contiguous.
#[target_feature(enable = "avx2")]
fn write_group_lanes<const W: usize>(
    job: &BlockJob<'_>,
    g: usize,
    base_m2: &[u16; W],
    up: &[u16; W],
    dst: &mut [u32],
) {
    let (k0, kn) = (g * job.gs, job.kn(g));
    let stride = job.lines.k_stride;
    let walk = Walk::new(job.src, job.index(0, k0), stride, kn, lanes::<W>())
        .expect("pass 1 checked the group's reads");
    let (basev, upv) = (per_lane(base_m2), per_lane(up));
    for (t, out) in dst.chunks_exact_mut(W).take(job.gs / 2).enumerate() {
        let kk = 2 * t;
        if kk >= kn {
            out.fill(0);
            continue;
        }
        // SAFETY (loads): `kk < kn`, and `kk + 1` is read only below `kn`.
        // SAFETY (stores): `out` holds `W` u32 and each store writes within it.
        if W > 8 {
            let (m, e) = unsafe { walk.load16(kk) };
            let even = quantize16(m, e, basev, upv);
            let odd = if kk + 1 < kn {
                let (m, e) = unsafe { walk.load16(kk + 1) };
                quantize16(m, e, basev, upv)
            } else {
                _mm256_setzero_si256()
            };
            let (lo, hi) = (
                _mm256_unpacklo_epi16(even, odd),
                _mm256_unpackhi_epi16(even, odd),
            );
            let first = _mm256_permute2x128_si256::<0x20>(lo, hi);
            let second = _mm256_permute2x128_si256::<0x31>(lo, hi);
            unsafe {
                _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, first);
                _mm256_storeu_si256(out.as_mut_ptr().add(8) as *mut __m256i, second);
            }
        } else {
            let (m, e) = unsafe { walk.load8x2(kk, kn) };
            let q = quantize16(m, e, basev, upv);
            let (even, odd) = (_mm256_castsi256_si128(q), _mm256_extracti128_si256::<1>(q));
            let (lo, hi) = (_mm_unpacklo_epi16(even, odd), _mm_unpackhi_epi16(even, odd));
            store_lanes(out, lo, hi);
        }
    }
}

/// Stores the first `out.len()` (at most 8) u32 of `lo` then `hi`.
#[target_feature(enable = "avx2")]
fn store_lanes(out: &mut [u32], lo: __m128i, hi: __m128i) {
    let mut all = [0u32; 8];
    // SAFETY: `all` holds two 128-bit vectors; `out` at most eight u32.
    unsafe {
        _mm_storeu_si128(all.as_mut_ptr() as *mut __m128i, lo);
        _mm_storeu_si128(all.as_mut_ptr().add(4) as *mut __m128i, hi);
    }
    let n = out.len();
    out.copy_from_slice(&all[..n]);
}

/// `[r0..r7][t]` into `[t][r0..r7]`: an 8 x 8 transpose of u32.
#[target_feature(enable = "avx2")]
fn transpose8(r: [__m256i; 8]) -> [__m256i; 8] {
    let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
    let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
    let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
    let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    let u0 = _mm256_unpacklo_epi64(t0, t2);
    let u1 = _mm256_unpackhi_epi64(t0, t2);
    let u2 = _mm256_unpacklo_epi64(t1, t3);
    let u3 = _mm256_unpackhi_epi64(t1, t3);
    let u4 = _mm256_unpacklo_epi64(t4, t6);
    let u5 = _mm256_unpackhi_epi64(t4, t6);
    let u6 = _mm256_unpacklo_epi64(t5, t7);
    let u7 = _mm256_unpackhi_epi64(t5, t7);
    [
        _mm256_permute2x128_si256::<0x20>(u0, u4),
        _mm256_permute2x128_si256::<0x20>(u1, u5),
        _mm256_permute2x128_si256::<0x20>(u2, u6),
        _mm256_permute2x128_si256::<0x20>(u3, u7),
        _mm256_permute2x128_si256::<0x31>(u0, u4),
        _mm256_permute2x128_si256::<0x31>(u1, u5),
        _mm256_permute2x128_si256::<0x31>(u2, u6),
        _mm256_permute2x128_si256::<0x31>(u3, u7),
    ]
}

/// Sixteen (`n == 16`) or eight K indices from `kk` of one line's run, quantized: eight or
/// four pairs in order. Lines without a run are zero.
#[target_feature(enable = "avx2")]
fn quantize_run(run: Option<Walk<'_>>, kk: usize, n: usize, base_m2: u16, up: u16) -> __m256i {
    let Some(run) = run else {
        return _mm256_setzero_si256();
    };
    // SAFETY: the caller passes `kk + n` within the run's length.
    let (m, e) = unsafe {
        if n == 16 {
            run.load16(kk)
        } else {
            let (m, e) = run.load8(kk);
            (
                _mm256_zextsi128_si256(m),
                _mm256_zextsi128_si256(_mm_cvtepu8_epi16(e)),
            )
        }
    };
    let (basev, upv) = (
        _mm256_set1_epi16(base_m2 as i16),
        _mm256_set1_epi16(up as i16),
    );
    quantize16(m, e, basev, upv)
}

/// Group `g`'s pairs, K contiguous: sixteen K indices of a line are eight pairs already in
/// order; eight lines' pairs are transposed into the panel's `[pair][line]` order.
#[target_feature(enable = "avx2")]
fn write_group_runs<const W: usize>(
    job: &BlockJob<'_>,
    g: usize,
    base_m2: &[u16; W],
    up: &[u16; W],
    dst: &mut [u32],
) {
    let (k0, gs) = (g * job.gs, job.gs);
    let mut runs: [Option<Walk<'_>>; 16] = [None; 16];
    for (w, run) in runs.iter_mut().enumerate().take(W.min(job.live)) {
        *run = Some(
            Walk::new(job.src, job.index(w, k0), 1, gs, 1)
                .expect("pass 1 checked the group's reads"),
        );
    }
    for kk in (0..gs).step_by(16) {
        let n = 16.min(gs - kk);
        let rows = &mut dst[kk / 2 * W..(kk + n) / 2 * W];
        for half in 0..W.div_ceil(8) {
            let mut lines = [_mm256_setzero_si256(); 8];
            for (r, line) in lines.iter_mut().enumerate() {
                let w = 8 * half + r;
                if w < W {
                    *line = quantize_run(runs[w], kk, n, base_m2[w], up[w]);
                }
            }
            let t = transpose8(lines);
            let width = 8.min(W - 8 * half);
            for (pairs, out) in t.iter().zip(rows.chunks_exact_mut(W)) {
                let out = &mut out[8 * half..8 * half + width];
                if width == 8 {
                    // SAFETY: `out` holds eight u32.
                    unsafe { _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, *pairs) };
                } else {
                    let (lo, hi) = (
                        _mm256_castsi256_si128(*pairs),
                        _mm256_extracti128_si256::<1>(*pairs),
                    );
                    store_lanes(out, lo, hi);
                }
            }
        }
    }
}
