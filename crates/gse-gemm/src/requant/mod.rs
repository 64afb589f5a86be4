//! Rounding exact results to the output format, and writing them into the output blocks.
//!
//! Every result reaches this module as `acc * 2^exp` with `|acc| < 2^63`: exact for the
//! shifted-accumulator paths, a 62-bit round-to-odd [`Dyadic`] for the dyadic path and for
//! biases that do not fit the accumulator. Rounding that once more, nearest-even, to at most
//! 25 bits is then correctly rounded (round-to-odd keeps the sticky information).

#[cfg(target_arch = "x86_64")]
mod avx2;

use gse::{
    Container, Dyadic, GseBlocks, GseFormat, SCALE_MAX, SCALE_MIN, UninitBlocks, UninitMantissas,
};

use crate::kernel::{Kernel, MR, NR};

/// `acc * 2^exp` as a one-element group of a format with `p` magnitude bits: `(scale, mantissa)`
/// exactly as [`gse::quantize_group`] gives it, and whether it saturated.
///
/// Branch-free except for the rare clamped scales: scale `top = exp + bits(acc)` keeps all P
/// bits; the shift is left (exact) or right (nearest-even); a carry to `2^P` means scale
/// `top + 1`, where the value (within a quarter of `2^(P-1)` by then) is exactly `2^(P-1)`.
#[inline(always)]
pub(crate) fn round_one(acc: i64, exp: i32, p: u32) -> (i32, i32, bool) {
    let mag = acc.unsigned_abs();
    let bits = 64 - mag.leading_zeros() as i32;
    let top = exp + bits;
    if acc != 0 && !(SCALE_MIN..SCALE_MAX).contains(&top) {
        return round_one_slow(acc, exp, p);
    }
    let d = bits - p as i32;
    let up = (-d).max(0) as u32;
    let dn = d.max(0) as u32;
    let rounding = dn > 0;
    // 2^(dn-1) - 1 when rounding, else 0; mag <= 2^63 so the sums stay below 2^64.
    let half_minus_one = ((1u64 << dn) >> 1).wrapping_sub(rounding as u64);
    let odd = (mag >> dn) & rounding as u64;
    let r = ((mag << up) + half_minus_one + odd) >> dn;
    let carry = (r >> p) as u32; // 0 or 1
    let r = (r >> carry) as i32;
    let sign = (acc >> 63) as i32;
    let scale = if acc == 0 {
        SCALE_MIN
    } else {
        top + carry as i32
    };
    (scale, (r ^ sign) - sign, false)
}

/// [`round_one`] where the scale clamps (zero, tiny, huge or at the top of the range).
#[cold]
fn round_one_slow(acc: i64, exp: i32, p: u32) -> (i32, i32, bool) {
    if acc == 0 {
        return (SCALE_MIN, 0, false);
    }
    let max = (1i64 << p) - 1;
    let top = exp + (64 - acc.unsigned_abs().leading_zeros() as i32);
    if top > SCALE_MAX {
        // |value| >= 2^128 exceeds every format's largest magnitude.
        return (SCALE_MAX, if acc < 0 { -max } else { max } as i32, true);
    }
    let mut scale = top.max(SCALE_MIN);
    loop {
        let q = shift_nearest(acc, scale - p as i32 - exp);
        if q.abs() <= max {
            return (scale, q as i32, false);
        }
        if scale == SCALE_MAX {
            return (scale, q.clamp(-max, max) as i32, true);
        }
        scale += 1;
    }
}

/// `acc * 2^-d`, nearest with ties to even. `d < 0` only happens when the result still fits
/// (`scale >= top`), so the left shift is exact.
#[inline(always)]
fn shift_nearest(acc: i64, d: i32) -> i64 {
    if d <= 0 {
        return acc << (-d).min(63);
    }
    if d >= 64 {
        return 0; // |acc| <= 2^63 <= 2^(d-1): below half a quantum
    }
    let d = d as u32;
    let mag = acc.unsigned_abs();
    // mag <= 2^63 and the addend < 2^63: no u64 overflow.
    let r = ((mag + (1u64 << (d - 1)) - 1 + ((mag >> d) & 1)) >> d) as i64;
    if acc < 0 { -r } else { r }
}

/// `acc * 2^exp + bias`, as an i64 at a common exponent when both fit in 62 bits, else as a
/// dyadic rounded to odd (still correctly rounded by [`round_one`]).
#[inline]
pub(crate) fn add_bias(acc: i64, exp: i32, bias: Dyadic) -> (i64, i32) {
    if bias.mant == 0 {
        return (acc, exp);
    }
    if acc == 0 {
        return (bias.mant, bias.exp);
    }
    let e = exp.min(bias.exp);
    let (ua, ub) = (exp - e, bias.exp - e);
    let bits = |v: i64| 64 - v.unsigned_abs().leading_zeros() as i32;
    if bits(acc) + ua <= 62 && bits(bias.mant) + ub <= 62 {
        return ((acc << ua) + (bias.mant << ub), e);
    }
    let sum = Dyadic::new(acc, exp).add(bias);
    (sum.mant, sum.exp)
}

/// Whether every non-zero i32 result `acc * 2^(ea + eb)` of a tile with row exponents `ea`
/// and column exponents `eb` gets a scale inside `SCALE_MIN..SCALE_MAX`: its scale is
/// `ea + eb + bits(acc)` with `1 <= bits <= 31` (i32 tile sums are below `2^31` in magnitude,
/// `bounds.rs`).
pub(crate) fn tile_in_range(ea: &[i32], eb: &[i32]) -> bool {
    let min_max = |v: &[i32]| {
        v.iter()
            .fold((i32::MAX, i32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
    };
    let ((amin, amax), (bmin, bmax)) = (min_max(ea), min_max(eb));
    let (lo, hi) = (
        amin as i64 + bmin as i64 + 1,
        amax as i64 + bmax as i64 + 31,
    );
    lo >= SCALE_MIN as i64 && hi < SCALE_MAX as i64
}

/// Where results go. Direct writers round each element as it is produced (one-element-group
/// formats whose mantissas have their own bytes); others stage exact values and round groups
/// once every element is known.
pub(crate) enum Writer {
    Direct {
        mant: DirectMant,
        scales: *mut u8,
        p: u32,
    },
    Staged(*mut Dyadic),
}

/// Stores eight outputs that [`avx2::round8`] rounded (scales and mantissas) at `idx`; false
/// when it declined them, for the caller's scalar path.
///
/// # Safety
/// AVX2 is enabled and the eight outputs from `idx` are inside the writer's buffers.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store_rounded8(
    mant: &DirectMant,
    scales: *mut u8,
    idx: usize,
    rounded: Option<(core::arch::x86_64::__m256i, core::arch::x86_64::__m256i)>,
) -> bool {
    let Some((scale, m)) = rounded else {
        return false;
    };
    // SAFETY: per the contract.
    unsafe {
        avx2::store_u8(scales.add(idx), scale);
        match mant {
            DirectMant::I8(v) => avx2::store_i8(v.add(idx), m),
            DirectMant::I16(v) => avx2::store_i16(v.add(idx), m),
            DirectMant::I32(v) => avx2::store_i32(v.add(idx), m),
        }
    }
    true
}

/// Rounds and stores a whole tile row of 16 i32 results to i16 mantissas; false (nothing
/// written) when [`avx2::round8`] declines either half. `in_range` skips its per-lane checks:
/// the caller has bounded every scale and magnitude (see [`avx2::round8_with`]).
///
/// # Safety
/// AVX2 is enabled; `acc` and `exp_b` hold 16 values and the 16 outputs from `idx` are inside
/// the writer's buffers.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn round16_i16(
    (mant, scales): (*mut i16, *mut u8),
    idx: usize,
    acc: &[i32],
    exp_row: i32,
    exp_b: &[i32],
    p: u32,
    in_range: bool,
) -> bool {
    use core::arch::x86_64::*;
    let (acc, exp_b) = (&acc[..16], &exp_b[..16]);
    let row = _mm256_set1_epi32(exp_row);
    let Some(to) = avx2::RoundTo::new(p) else {
        return false;
    };
    // SAFETY: the slices above hold the 16 values read.
    let half = |h: usize| unsafe {
        let a = _mm256_loadu_si256(acc.as_ptr().add(8 * h) as *const __m256i);
        let e = _mm256_add_epi32(
            _mm256_loadu_si256(exp_b.as_ptr().add(8 * h) as *const __m256i),
            row,
        );
        if in_range {
            avx2::round8_with::<false>(a, e, to)
        } else {
            avx2::round8_with::<true>(a, e, to)
        }
    };
    let (Some(lo), Some(hi)) = (half(0), half(1)) else {
        return false;
    };
    // SAFETY: per the contract.
    unsafe { avx2::store16_i16(scales.add(idx), mant.add(idx), lo, hi) };
    true
}

/// Where [`dot_and_store_i16`] puts a tile: the i16 mantissas and scale bytes of its first
/// element, the distance between its rows, how many rows are real (the last A panel may be
/// short), and the format's magnitude bits.
#[derive(Clone, Copy)]
pub(crate) struct TileOut {
    pub mant: *mut i16,
    pub scales: *mut u8,
    pub stride: usize,
    pub rows: usize,
    pub p: u32,
}

/// The AVX2 micro-kernel's tile of `kpairs` k-pairs, rounded from its registers into `out`
/// with exponents `exp_a[i] + exp_b[j]`: the same values as the kernel's `dot` followed by
/// [`Writer::put_run_i32`]. False (nothing written) when the format has over 30 bits.
///
/// # Safety
/// AVX2 is enabled; [`tile_in_range`] holds for `exp_a`, `exp_b`; `out` addresses
/// `out.rows` rows of 16 outputs inside the writer's buffers.
#[cfg(target_arch = "x86_64")]
#[inline(never)] // its own register allocation: inlined, the kernel loop spilled an accumulator
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn dot_and_store_i16(
    kpairs: usize,
    a: &[u32],
    b: &[u32],
    exp_a: &[i32; MR],
    exp_b: &[i32; NR],
    out: TileOut,
) -> bool {
    let Some(to) = avx2::RoundTo::new(out.p) else {
        return false;
    };
    let (a, b) = (&a[..kpairs * MR], &b[..kpairs * NR]);
    // SAFETY: AVX2 per the contract; the slices above cover every k-pair the kernel reads;
    // the output rows per the contract.
    unsafe {
        let c = crate::kernel::avx2::dot_registers(kpairs, a.as_ptr(), b.as_ptr());
        let dst = (out.mant, out.scales, out.stride);
        avx2::store_tile_i16(&c, out.rows, exp_a.as_ptr(), exp_b, to, dst);
    }
    true
}

pub(crate) enum DirectMant {
    I8(*mut i8),
    I16(*mut i16),
    I32(*mut i32),
}

// SAFETY: the pointers target buffers owned by the caller of `Writer::new`/`staged`, alive for
// the whole parallel phase; every element index is written by exactly one tile (the driver
// partitions the output), so concurrent `put`s never touch the same bytes.
unsafe impl Send for Writer {}
unsafe impl Sync for Writer {}

impl Writer {
    /// Whether results of `format` are written directly (one-element groups whose mantissas
    /// have their own bytes); others are staged.
    pub fn writes_directly(format: GseFormat) -> bool {
        format.group_size() == 1 && format.container() != Container::Nibble
    }

    /// A direct writer into `out` when its format allows, else `None`. The buffers need not
    /// be initialized: the writer's users write every element.
    pub fn direct(out: &mut UninitBlocks) -> Option<Self> {
        let format = out.format();
        if !Self::writes_directly(format) {
            return None;
        }
        let scales = out.scale_bytes_mut().as_mut_ptr() as *mut u8;
        let mant = match out.mantissas_mut() {
            UninitMantissas::I8(v) => DirectMant::I8(v.as_mut_ptr() as *mut i8),
            UninitMantissas::I16(v) => DirectMant::I16(v.as_mut_ptr() as *mut i16),
            UninitMantissas::I32(v) => DirectMant::I32(v.as_mut_ptr() as *mut i32),
            UninitMantissas::Nibble(_) => return None,
        };
        let p = format.magnitude_bits();
        Some(Writer::Direct { mant, scales, p })
    }

    /// The i16 mantissas, scale bytes and magnitude bits of a direct writer with i16
    /// mantissas, the layout [`dot_and_store_i16`] writes.
    pub fn direct_i16(&self) -> Option<(*mut i16, *mut u8, u32)> {
        match self {
            Writer::Direct {
                mant: DirectMant::I16(m),
                scales,
                p,
            } => Some((*m, *scales, *p)),
            _ => None,
        }
    }

    /// A staging writer into `stage` (one dyadic per output element).
    pub fn staged(stage: &mut [Dyadic]) -> Self {
        Writer::Staged(stage.as_mut_ptr())
    }

    /// [`Self::put_run`] for i32 results `acc[j] * 2^(exp_row + exp_b[j])`, eight at a time
    /// with AVX2 when the writer is direct. Same values as the scalar path. `in_range`: the
    /// caller guarantees `|acc[j]| < 2^31` and every scale `exp_row + exp_b[j] + bits(acc[j])`
    /// in `SCALE_MIN..SCALE_MAX`, so rows of 16 skip the per-lane checks ([`tile_in_range`]).
    ///
    /// # Safety
    /// As [`Self::put_run`] for `idx0 .. idx0 + acc.len()`.
    #[inline(always)]
    pub unsafe fn put_run_i32(
        &self,
        kernel: Kernel,
        idx0: usize,
        acc: &[i32],
        exp_row: i32,
        exp_b: &[i32],
        in_range: bool,
    ) -> u64 {
        let n = acc.len();
        let exp_b = &exp_b[..n];
        let mut done = 0;
        let mut saturated = 0;
        #[cfg(target_arch = "x86_64")]
        if let (Kernel::Avx2, Writer::Direct { mant, scales, p }) = (kernel, self) {
            use core::arch::x86_64::*;
            if n == 16
                && let DirectMant::I16(m) = mant
                // SAFETY: AVX2 is detected (resolved kernel); the 16 lanes are inside `acc`,
                // `exp_b` and, per the contract, the output.
                && unsafe { round16_i16((*m, *scales), idx0, acc, exp_row, exp_b, *p, in_range) }
            {
                return 0;
            }
            while done + 8 <= n {
                // SAFETY: AVX2 is detected (resolved kernel); the 8 lanes are inside `acc`,
                // `exp_b` and, per the contract, the output.
                let ok = unsafe {
                    let a = _mm256_loadu_si256(acc.as_ptr().add(done) as *const __m256i);
                    let e = _mm256_add_epi32(
                        _mm256_loadu_si256(exp_b.as_ptr().add(done) as *const __m256i),
                        _mm256_set1_epi32(exp_row),
                    );
                    store_rounded8(mant, *scales, idx0 + done, avx2::round8(a, e, *p))
                };
                if !ok {
                    // SAFETY: as above.
                    saturated += unsafe {
                        self.put_run(idx0 + done, 8, |j| {
                            (acc[done + j] as i64, exp_row + exp_b[done + j])
                        })
                    };
                }
                done += 8;
            }
        }
        let _ = kernel;
        // SAFETY: per the contract.
        saturated
            + unsafe {
                self.put_run(idx0 + done, n - done, |j| {
                    (acc[done + j] as i64, exp_row + exp_b[done + j])
                })
            }
    }

    /// [`Self::put_run`] for i64 results `acc[j] * 2^(exp_row + exp_b[j])`: runs of 8 that
    /// all fit i32 (the common case) are narrowed in registers and rounded like
    /// [`Self::put_run_i32`]; others take the scalar path. Same values either way.
    ///
    /// # Safety
    /// As [`Self::put_run`] for `idx0 .. idx0 + acc.len()`.
    #[inline(always)]
    pub unsafe fn put_run_i64(
        &self,
        kernel: Kernel,
        idx0: usize,
        acc: &[i64],
        exp_row: i32,
        exp_b: &[i32],
    ) -> u64 {
        let n = acc.len();
        let exp_b = &exp_b[..n];
        let mut done = 0;
        let mut saturated = 0;
        #[cfg(target_arch = "x86_64")]
        if let (Kernel::Avx2, Writer::Direct { mant, scales, p }) = (kernel, self) {
            use core::arch::x86_64::*;
            while done + 8 <= n {
                // SAFETY: AVX2 is detected (resolved kernel); the 8 lanes are inside `acc`,
                // `exp_b` and, per the contract, the output.
                let ok = unsafe {
                    let a = avx2::narrow8(acc.as_ptr().add(done));
                    let e = _mm256_add_epi32(
                        _mm256_loadu_si256(exp_b.as_ptr().add(done) as *const __m256i),
                        _mm256_set1_epi32(exp_row),
                    );
                    store_rounded8(
                        mant,
                        *scales,
                        idx0 + done,
                        a.and_then(|a| avx2::round8(a, e, *p)),
                    )
                };
                if !ok {
                    // SAFETY: as above.
                    saturated += unsafe {
                        self.put_run(idx0 + done, 8, |j| {
                            (acc[done + j], exp_row + exp_b[done + j])
                        })
                    };
                }
                done += 8;
            }
        }
        let _ = kernel;
        // SAFETY: per the contract.
        saturated
            + unsafe {
                self.put_run(idx0 + done, n - done, |j| {
                    (acc[done + j], exp_row + exp_b[done + j])
                })
            }
    }

    /// Stores elements `idx0 .. idx0 + n`, element `idx0 + j` being `value(j) = (acc, exp)`
    /// for `acc * 2^exp`; returns how many saturated. One dispatch for the whole run.
    ///
    /// # Safety
    /// The elements must be inside the output and written by no other concurrent call.
    #[inline(always)]
    pub unsafe fn put_run(
        &self,
        idx0: usize,
        n: usize,
        value: impl Fn(usize) -> (i64, i32),
    ) -> u64 {
        let mut saturated = 0u64;
        match self {
            Writer::Direct { mant, scales, p } => {
                let p = *p;
                for j in 0..n {
                    let (acc, exp) = value(j);
                    let (scale, m, sat) = round_one(acc, exp, p);
                    saturated += sat as u64;
                    let idx = idx0 + j;
                    // SAFETY: per the contract; scale fits a byte, m the container.
                    unsafe {
                        *scales.add(idx) = (scale + gse::SCALE_BIAS) as u8;
                        match mant {
                            DirectMant::I8(v) => *v.add(idx) = m as i8,
                            DirectMant::I16(v) => *v.add(idx) = m as i16,
                            DirectMant::I32(v) => *v.add(idx) = m,
                        }
                    }
                }
            }
            Writer::Staged(stage) => {
                for j in 0..n {
                    let (acc, exp) = value(j);
                    // SAFETY: per the contract.
                    unsafe { *stage.add(idx0 + j) = Dyadic::new(acc, exp) };
                }
            }
        }
        saturated
    }
}

/// Rounds staged exact values group by group into `out` (nearest-even); returns saturations.
pub(crate) fn encode_staged(stage: &[Dyadic], out: &mut GseBlocks) -> u64 {
    let format: GseFormat = out.format();
    let mut buf = vec![0i32; format.group_size()];
    let mut saturated = 0u64;
    for (g, chunk) in stage.chunks(format.group_size()).enumerate() {
        let (scale, sat) =
            gse::quantize_group(format, chunk, gse::Rounding::NearestEven, 0, &mut buf);
        saturated += sat as u64;
        out.write_group(g, scale, &buf[..chunk.len()]);
    }
    saturated
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::{Rounding, SplitMix64, quantize_group};

    #[test]
    fn round_one_matches_quantize_group() {
        let mut rng = SplitMix64::new(3);
        for case in 0..200_000u64 {
            let bits = 1 + rng.below(63) as u32;
            let mut acc = (rng.next_u64() >> (64 - bits)) as i64;
            if case % 2 == 0 {
                acc = -acc;
            }
            let exp = rng.below(560) as i32 - 300;
            if acc != 0 && exp + bits as i32 > 160 {
                // Far beyond 2^128 gse's own rounding can wrap (i64::MIN.abs()); the policy
                // is saturation, checked below.
                let (scale, m, sat) = round_one(acc, exp, 15);
                assert_eq!((scale, m.abs(), sat), (SCALE_MAX, (1 << 15) - 1, true));
                continue;
            }
            for format in [
                GseFormat::STREAM16,
                GseFormat::EXACT,
                GseFormat::new(8, 1).unwrap(),
            ] {
                let mut want = [0];
                let (scale, sat) = quantize_group(
                    format,
                    &[Dyadic::new(acc, exp)],
                    Rounding::NearestEven,
                    0,
                    &mut want,
                );
                let got = round_one(acc, exp, format.magnitude_bits());
                assert_eq!(
                    got,
                    (scale, want[0], sat > 0),
                    "{acc} * 2^{exp} to {format}"
                );
            }
        }
    }

    #[test]
    fn bias_is_added_exactly_or_rounded_to_odd() {
        assert_eq!(add_bias(3, -2, Dyadic::new(1, 0)), (7, -2));
        assert_eq!(add_bias(0, -2, Dyadic::new(5, 3)), (5, 3));
        let (m, e) = add_bias(1 << 60, 0, Dyadic::new(1, -100));
        let exact = Dyadic::new(1 << 60, 0).add(Dyadic::new(1, -100));
        assert_eq!((m, e), (exact.mant, exact.exp));
        assert_eq!(m & 1, 1, "sticky bit kept");
    }
}
