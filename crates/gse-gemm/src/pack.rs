//! Packing: operand lines read from any strided view, re-quantized to the operand format in
//! K-groups, pre-aligned per K-block and laid out as i16 panels for the micro-kernel.
//!
//! An operand is seen as `lines` vectors of length K: the rows of A, the columns of B. A panel
//! is `W` consecutive lines (`MR` for A, `NR` for B; missing lines are zero). For every K-group
//! it holds `gs / 2` k-pairs, each `W` pairs of i16: `data[g][t][w][0..2] = q[w][g*gs + 2t..+2]`.
//!
//! **Alignment.** Group `g` of line `w` is quantized to mantissas `q` and scale `s`. For every
//! K-block (see `bounds.rs`) a line whose non-zero groups' scales lie within `shift` steps of
//! their minimum `lo` is *aligned*: its mantissas are stored as `q << (s - lo)` (exact, still
//! i16), so the whole block shares exponent `lo` and the kernel can sum it without shifts.
//! Other lines keep `q` and their groups are flushed one at a time.
//!
//! **Exponents kept per line** (all relative to the line's base `L`, its smallest non-zero
//! group scale, so the flush shifts are small and non-negative):
//! - `block_exp[b][w] = lo - L` for aligned blocks,
//! - `group_exp[g][w] = x - L` with `x = lo` when the block is aligned, else `s`,
//! - `spread = max(s) - L` over the panel's lines (for the i64 bound).
//!
//! All-zero groups are excluded from every min/max: they contribute nothing whatever exponent
//! is assumed for them.

use gse::{GseBlocks, Rounding};
use rayon::prelude::*;

use crate::bounds::Plan;
use crate::kernel::Kernel;
use crate::quant::{quantize, quantize_uniform};
use crate::source::{Source, WithSource, with_source};

/// An operand as lines of K values.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lines<'a> {
    pub blocks: &'a GseBlocks,
    pub offset: isize,
    pub line_stride: isize,
    pub k_stride: isize,
    pub lines: usize,
    pub k: usize,
    /// Operand rounding; stochastic rounding of element `(line, k)` uses index `line * K + k`.
    pub rounding: Rounding,
}

/// Packed panels of consecutive lines, with their exponent tables.
#[derive(Debug, Default)]
pub(crate) struct Panels {
    pub width: usize,
    pub count: usize,
    groups: usize,
    group: usize,
    blocks: usize,
    data: Vec<i16>,
    base: Vec<i32>,
    spread: Vec<i32>,
    aligned: Vec<bool>,
    block_exp: Vec<i32>,
    group_exp: Vec<i32>,
    /// Values that saturated at the largest scale while packing.
    pub saturated: u64,
}

/// One packed panel, borrowed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Panel<'a> {
    pub width: usize,
    pub group: usize,
    /// `groups * group * width` mantissas.
    pub data: &'a [i16],
    /// Per line: the base scale `L`.
    pub base: &'a [i32],
    /// Largest `max(s) - L` over the lines.
    pub spread: i32,
    /// Per block: every line aligned.
    pub aligned: &'a [bool],
    /// `[block][line]`.
    pub block_exp: &'a [i32],
    /// `[group][line]`.
    pub group_exp: &'a [i32],
}

impl Panel<'_> {
    /// Mantissas from group `g` on.
    #[inline]
    pub fn group_data(&self, g: usize) -> &[i16] {
        &self.data[g * self.group * self.width..]
    }
}

impl Panels {
    pub fn panel(&self, p: usize) -> Panel<'_> {
        let w = self.width;
        let glen = self.groups * self.group * w;
        Panel {
            width: w,
            group: self.group,
            data: &self.data[p * glen..(p + 1) * glen],
            base: &self.base[p * w..(p + 1) * w],
            spread: self.spread[p],
            aligned: &self.aligned[p * self.blocks..(p + 1) * self.blocks],
            block_exp: &self.block_exp[p * self.blocks * w..(p + 1) * self.blocks * w],
            group_exp: &self.group_exp[p * self.groups * w..(p + 1) * self.groups * w],
        }
    }
}

/// Mutable parts of one panel while it is packed.
struct PanelMut<'a> {
    data: &'a mut [i16],
    base: &'a mut [i32],
    spread: &'a mut i32,
    aligned: &'a mut [bool],
    block_exp: &'a mut [i32],
    group_exp: &'a mut [i32],
}

/// Packs lines `first..first + count_lines` into panels of `width` lines, pre-aligning blocks
/// whose spread is at most `shift`. With `parallel`, panels are packed on the rayon pool;
/// `kernel` (resolved) picks the instruction set the packing loops are compiled for.
pub(crate) fn pack(
    lines: &Lines<'_>,
    first: usize,
    count_lines: usize,
    width: usize,
    plan: &Plan,
    shift: i32,
    parallel: bool,
    kernel: Kernel,
    out: &mut Panels,
) {
    let count = count_lines.div_ceil(width);
    let (groups, group, blocks) = (plan.groups, plan.group, plan.blocks());
    let glen = groups * group * width;
    out.width = width;
    out.count = count;
    out.groups = groups;
    out.group = group;
    out.blocks = blocks;
    out.saturated = 0;
    resize(&mut out.data, count * glen);
    resize(&mut out.base, count * width);
    resize(&mut out.spread, count);
    out.aligned.clear();
    out.aligned.resize(count * blocks, false);
    resize(&mut out.block_exp, count * blocks * width);
    resize(&mut out.group_exp, count * groups * width);
    if count == 0 {
        return;
    }
    let job = Job {
        kernel,
        lines,
        plan,
        shift,
        width,
        first,
        end: first + count_lines,
    };
    let parts = out
        .data
        .chunks_mut(glen.max(1))
        .zip(out.base.chunks_mut(width))
        .zip(out.spread.iter_mut())
        .zip(out.aligned.chunks_mut(blocks.max(1)))
        .zip(out.block_exp.chunks_mut((blocks * width).max(1)))
        .zip(out.group_exp.chunks_mut((groups * width).max(1)))
        .enumerate()
        .map(
            |(p, (((((data, base), spread), aligned), block_exp), group_exp))| {
                (
                    p,
                    PanelMut {
                        data,
                        base,
                        spread,
                        aligned,
                        block_exp,
                        group_exp,
                    },
                )
            },
        );
    out.saturated = if parallel {
        let parts: Vec<_> = parts.collect();
        parts
            .into_par_iter()
            .map(|(p, panel)| with_source(lines.blocks, PanelJob { job: &job, p, panel }))
            .sum()
    } else {
        parts
            .map(|(p, panel)| with_source(lines.blocks, PanelJob { job: &job, p, panel }))
            .sum()
    };
}

/// Sets the length, keeping the allocation (contents are overwritten by packing).
fn resize<T: Copy + Default>(v: &mut Vec<T>, len: usize) {
    v.clear();
    v.resize(len, T::default());
}

/// What every panel of one packing shares.
struct Job<'a> {
    kernel: Kernel,
    lines: &'a Lines<'a>,
    plan: &'a Plan,
    shift: i32,
    width: usize,
    first: usize,
    end: usize,
}

struct PanelJob<'a, 'b> {
    job: &'a Job<'a>,
    p: usize,
    panel: PanelMut<'b>,
}

impl WithSource for PanelJob<'_, '_> {
    type Out = u64;
    fn run<S: Source>(self, src: &S) -> u64 {
        match self.job.kernel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernel::Avx2` only arrives here resolved, i.e. with AVX2 detected (the
            // bit-manipulation extensions come with every AVX2 CPU: Haswell, Zen).
            Kernel::Avx2 => unsafe { pack_panel_avx2(src, self.job, self.p, self.panel) },
            _ => pack_panel(src, self.job, self.p, self.panel),
        }
    }
}

/// [`pack_panel`] compiled for AVX2: the same integer code, vectorized wider. Results are
/// identical by construction (no floating point, no target-dependent integer semantics).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt")]
unsafe fn pack_panel_avx2<S: Source>(src: &S, job: &Job<'_>, p: usize, out: PanelMut<'_>) -> u64 {
    pack_panel(src, job, p, out)
}

/// Marks an all-zero group in the scale tables.
const ZERO: i32 = i32::MIN;

/// Packs panel `p`; returns the number of saturated values.
#[inline(always)]
fn pack_panel<S: Source>(src: &S, job: &Job<'_>, p: usize, out: PanelMut<'_>) -> u64 {
    let Job {
        lines, plan, width: w, ..
    } = *job;
    let (gs, groups) = (plan.group, plan.groups);
    let line0 = job.first + p * w;
    let live = job.end.saturating_sub(line0).min(w);
    let mut mant = vec![0i32; w * gs];
    let mut lsb = vec![0i32; w * gs];
    let mut q = vec![0i32; gs];
    let mut scale = vec![ZERO; groups * w];
    let mut x = vec![ZERO; groups * w];
    let mut lo = vec![ZERO; plan.blocks() * w];
    let mut saturated = 0u64;
    for b in 0..plan.blocks() {
        let range = plan.block_range(b);
        for g in range.clone() {
            let st = gather(src, lines, line0, live, g * gs, gs, &mut mant, &mut lsb);
            let common = match lines.rounding {
                Rounding::NearestEven => align_group(&st, &mut mant[..live * gs], &lsb),
                Rounding::Stochastic { .. } => None,
            };
            let gdata = &mut out.data[g * gs * w..(g + 1) * gs * w];
            for line in 0..w {
                let s = if line < live {
                    let m = &mant[line * gs..(line + 1) * gs];
                    match common {
                        Some(l) => quantize_uniform(m, l, plan.p, &mut q, &mut saturated),
                        None => {
                            let index0 =
                                (line0 + line) as u64 * lines.k as u64 + (g * gs) as u64;
                            let l = &lsb[line * gs..(line + 1) * gs];
                            quantize(m, l, plan.p, lines.rounding, index0, &mut q, &mut saturated)
                        }
                    }
                } else {
                    q.fill(0);
                    None
                };
                scale[g * w + line] = s.unwrap_or(ZERO);
                for (kk, &v) in q.iter().enumerate() {
                    gdata[(kk >> 1) * 2 * w + 2 * line + (kk & 1)] = v as i16;
                }
            }
        }
        out.aligned[b] = align_block(job, b, &scale, &mut x, &mut lo, out.data);
    }
    finish_exponents(job, &scale, &x, &lo, out);
    saturated
}

/// Exponent range and magnitude bits of the non-zero values of one gathered group.
struct GroupStats {
    lmin: i32,
    lmax: i32,
    /// OR of the magnitudes: its bit length bounds every member's.
    mag_or: u32,
}

/// Reads group `g` (K indices `k0..k0 + gs`) of lines `line0..line0 + live` into `mant`/`lsb`
/// (`[line][kk]`); missing lines and K beyond the end are zeros.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn gather<S: Source>(
    src: &S,
    lines: &Lines<'_>,
    line0: usize,
    live: usize,
    k0: usize,
    gs: usize,
    mant: &mut [i32],
    lsb: &mut [i32],
) -> GroupStats {
    let kn = gs.min(lines.k - k0);
    let mut st = GroupStats {
        lmin: i32::MAX,
        lmax: i32::MIN,
        mag_or: 0,
    };
    for line in 0..mant.len() / gs {
        let (m, l) = (
            &mut mant[line * gs..(line + 1) * gs],
            &mut lsb[line * gs..(line + 1) * gs],
        );
        if line >= live {
            m.fill(0);
            l.fill(0);
            continue;
        }
        let ks = lines.k_stride;
        let mut idx =
            lines.offset + (line0 + line) as isize * lines.line_stride + k0 as isize * ks;
        for (mv, lv) in m[..kn].iter_mut().zip(l[..kn].iter_mut()) {
            let (v, e) = (src.mant(idx as usize), src.lsb(idx as usize));
            (*mv, *lv) = (v, e);
            let nonzero = v != 0;
            st.lmin = st.lmin.min(if nonzero { e } else { i32::MAX });
            st.lmax = st.lmax.max(if nonzero { e } else { i32::MIN });
            st.mag_or |= v.unsigned_abs();
            idx += ks;
        }
        // Padding keeps the last exponent so a uniform group stays uniform.
        let last = l[kn - 1];
        m[kn..].fill(0);
        l[kn..].fill(last);
    }
    st
}

/// Rewrites a gathered group as integers at the common exponent `st.lmin` when that is exact
/// in i32 (the magnitudes' bits plus the exponent spread fit in 31 bits); returns the exponent.
/// Every line can then be quantized with one shift ([`quantize_uniform`]).
#[inline(always)]
fn align_group(st: &GroupStats, mant: &mut [i32], lsb: &[i32]) -> Option<i32> {
    if st.mag_or == 0 {
        return Some(0); // all zero: any exponent
    }
    let bits = 32 - st.mag_or.leading_zeros() as i32;
    if st.lmax - st.lmin + bits > 31 {
        return None;
    }
    for (v, &e) in mant.iter_mut().zip(lsb) {
        // Zero members may carry any exponent: clamping their (meaningless) shift is harmless.
        *v <<= (e - st.lmin).clamp(0, 31) as u32;
    }
    Some(st.lmin)
}

/// Decides block `b` line by line, pre-shifting aligned lines in `data`; returns whether
/// every line is aligned.
#[inline(always)]
fn align_block(
    job: &Job<'_>,
    b: usize,
    scale: &[i32],
    x: &mut [i32],
    lo_out: &mut [i32],
    data: &mut [i16],
) -> bool {
    let (w, gs) = (job.width, job.plan.group);
    let range = job.plan.block_range(b);
    let mut all = true;
    for line in 0..w {
        let nonzero = range
            .clone()
            .map(|g| scale[g * w + line])
            .filter(|&s| s != ZERO);
        let (lo, hi) = nonzero.fold((i32::MAX, i32::MIN), |(lo, hi), s| (lo.min(s), hi.max(s)));
        if hi == i32::MIN {
            continue; // no non-zero group: x and lo stay ZERO
        }
        lo_out[b * w + line] = lo;
        let aligned = hi - lo <= job.shift;
        all &= aligned;
        for g in range.clone() {
            let s = scale[g * w + line];
            if s == ZERO {
                continue;
            }
            x[g * w + line] = if aligned { lo } else { s };
            let up = s - lo;
            if aligned && up > 0 {
                let gdata = &mut data[g * gs * w..(g + 1) * gs * w];
                for kk in 0..gs {
                    // |q| * 2^up <= mmax * 2^shift <= i16::MAX (bounds.rs, point 1).
                    gdata[(kk >> 1) * 2 * w + 2 * line + (kk & 1)] <<= up;
                }
            }
        }
    }
    all
}

/// Fills the base, spread and relative exponent tables once every block is packed.
fn finish_exponents(job: &Job<'_>, scale: &[i32], x: &[i32], lo: &[i32], out: PanelMut<'_>) {
    let (w, groups, blocks) = (job.width, job.plan.groups, job.plan.blocks());
    let mut spread = 0;
    for line in 0..w {
        let nonzero = (0..groups)
            .map(|g| scale[g * w + line])
            .filter(|&s| s != ZERO);
        let (min, max) = nonzero.fold((i32::MAX, i32::MIN), |(a, b), s| (a.min(s), b.max(s)));
        let base = if max == i32::MIN { 0 } else { min };
        if max != i32::MIN {
            spread = spread.max(max - min);
        }
        out.base[line] = base;
        let rel = |v: i32| if v == ZERO { 0 } else { v - base };
        for b in 0..blocks {
            out.block_exp[b * w + line] = rel(lo[b * w + line]);
        }
        for g in 0..groups {
            out.group_exp[g * w + line] = rel(x[g * w + line]);
        }
    }
    *out.spread = spread;
}
