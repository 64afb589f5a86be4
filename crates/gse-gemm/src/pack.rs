//! Packing: operand lines read from any strided view, re-quantized to the operand format in
//! K-groups, pre-aligned per K-block and laid out as i16-pair panels for the micro-kernel.
//!
//! An operand is seen as `lines` vectors of length K: the rows of A, the columns of B. A panel
//! is `W` consecutive lines (`MR` for A, `NR` for B; missing lines are zero). For every K-group
//! it holds `gs / 2` k-pairs of `W` u32, each two i16: `data[g][t][w] = (q[2t][w], q[2t+1][w])`
//! for the K indices `g*gs + 2t, +1` of line `w` (low half first).
//!
//! **Work order.** A group is gathered into a `[k][lane]` buffer (lanes = lines, padded to a
//! multiple of 8), so every later pass (exponent range, alignment, per-line maximum, rounding
//! with a per-line shift, pairing) is a loop over lanes that the compiler vectorizes; reads
//! come in contiguous runs whenever the view has a unit stride along K or along the lines.
//!
//! **Re-quantization** (see `quant.rs`): when the group's values fit i32 at their smallest
//! exponent (magnitude bits + exponent spread <= 31) they are shifted there and each line is
//! rounded with one shift; otherwise (or with stochastic rounding) each line takes the general
//! per-element path. Both give exactly [`gse::quantize_group`]'s result.
//!
//! **Alignment.** Group `g` of line `w` has mantissas `q` and scale `s`. For every K-block
//! (see `bounds.rs`) a line whose non-zero groups' scales lie within `shift` steps of their
//! minimum `lo` is *aligned*: its mantissas are stored as `q << (s - lo)` (exact, still i16),
//! so the whole block shares exponent `lo` and the kernel sums it without shifts. Other lines
//! keep `q`, and their tiles flush group by group.
//!
//! **Exponents kept per line** (relative to the line's base `L`, its smallest non-zero group
//! scale, so the flush shifts are small and non-negative):
//! - `block_exp[b][w] = lo - L` for aligned blocks,
//! - `group_exp[g][w] = x - L` with `x = lo` when the block is aligned, else `s`,
//! - `spread = max(s) - L` over the panel's lines (for the i64 bound).
//!
//! All-zero groups are excluded from every min/max: they contribute nothing whatever exponent
//! is assumed for them.

use gse::{GseBlocks, Rounding, SCALE_MAX, SCALE_MIN};
use rayon::prelude::*;

use crate::bounds::Plan;
use crate::kernel::{Kernel, MR, NR};
use crate::pack_stream::{GroupAt, quantize_lanes, quantize_runs};
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

/// Which operand a packing is for: its panel width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// Rows of A, `MR` per panel.
    A,
    /// Columns of B, `NR` per panel.
    B,
}

impl Side {
    pub fn width(self) -> usize {
        match self {
            Side::A => MR,
            Side::B => NR,
        }
    }
}

/// Packed panels of consecutive lines, with their exponent tables.
#[derive(Debug, Default)]
pub(crate) struct Panels {
    pub width: usize,
    pub count: usize,
    groups: usize,
    group: usize,
    blocks: usize,
    data: Vec<u32>,
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
    /// `groups * group / 2 * width` i16 pairs.
    pub data: &'a [u32],
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
    /// Pairs from group `g` on.
    #[inline]
    pub fn group_data(&self, g: usize) -> &[u32] {
        &self.data[g * self.group / 2 * self.width..]
    }
}

impl Panels {
    /// Bytes allocated by the panel data (the exponent tables are small beside it).
    pub fn capacity_bytes(&self) -> usize {
        self.data.capacity() * core::mem::size_of::<u32>()
    }

    pub fn panel(&self, p: usize) -> Panel<'_> {
        let w = self.width;
        let glen = self.groups * self.group / 2 * w;
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
    data: &'a mut [u32],
    base: &'a mut [i32],
    spread: &'a mut i32,
    aligned: &'a mut [bool],
    block_exp: &'a mut [i32],
    group_exp: &'a mut [i32],
}

/// What a packing call does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PackSpec {
    pub side: Side,
    /// First line and number of lines to pack.
    pub first: usize,
    pub count: usize,
    /// Largest per-block spread that is pre-aligned (`Plan::shift_a` / `shift_b`).
    pub shift: i32,
    /// Pack panels on the rayon pool.
    pub parallel: bool,
    /// Instruction set the loops are compiled for (resolved).
    pub kernel: Kernel,
}

/// Packs `spec.count` lines from `spec.first` into `out` (panels of `spec.side.width()`).
pub(crate) fn pack(lines: &Lines<'_>, plan: &Plan, spec: PackSpec, out: &mut Panels) {
    let width = spec.side.width();
    let count = spec.count.div_ceil(width);
    let (groups, group, blocks) = (plan.groups, plan.group, plan.blocks());
    let glen = groups * group / 2 * width;
    out.width = width;
    out.count = count;
    out.groups = groups;
    out.group = group;
    out.blocks = blocks;
    out.saturated = 0;
    resize(&mut out.data, count * glen);
    resize(&mut out.base, count * width);
    resize(&mut out.spread, count);
    resize(&mut out.aligned, count * blocks);
    resize(&mut out.block_exp, count * blocks * width);
    resize(&mut out.group_exp, count * groups * width);
    if count == 0 || groups == 0 {
        // Nothing to pack (K = 0): tables of a reused buffer must not keep the last product's.
        out.base.fill(0);
        out.spread.fill(0);
        out.aligned.fill(true);
        return;
    }
    let job = Job {
        lines,
        plan,
        spec,
        end: spec.first + spec.count,
    };
    let parts = out
        .data
        .chunks_mut(glen)
        .zip(out.base.chunks_mut(width))
        .zip(out.spread.iter_mut())
        .zip(out.aligned.chunks_mut(blocks))
        .zip(out.block_exp.chunks_mut(blocks * width))
        .zip(out.group_exp.chunks_mut(groups * width))
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
    let one = |scratch: &mut Scratch, (p, panel): (usize, PanelMut<'_>)| {
        with_source(
            lines.blocks,
            PanelJob {
                job: &job,
                p,
                panel,
                scratch,
            },
        )
    };
    out.saturated = if spec.parallel {
        let parts: Vec<_> = parts.collect();
        parts.into_par_iter().map_init(Scratch::default, one).sum()
    } else {
        let mut scratch = Scratch::default();
        parts.map(|part| one(&mut scratch, part)).sum()
    };
}

/// Sets the length, keeping the allocation and without clearing: every caller overwrites all
/// `len` elements (panels, exponent tables and the per-group scratch) before reading them, so
/// zero-filling them again for every panel was pure cost.
fn resize<T: Copy + Default>(v: &mut Vec<T>, len: usize) {
    if len > v.len() {
        v.resize(len, T::default());
    } else {
        v.truncate(len);
    }
}

/// What every panel of one packing shares.
struct Job<'a> {
    lines: &'a Lines<'a>,
    plan: &'a Plan,
    spec: PackSpec,
    end: usize,
}

/// Buffers reused across the panels one thread packs.
#[derive(Default)]
struct Scratch {
    /// `[k][lane]` mantissas (aligned in place), exponents and quantized mantissas of a block.
    m: Vec<i32>,
    l: Vec<i32>,
    q: Vec<i32>,
    /// One line's group, for the per-element path and k-contiguous reads.
    col_m: Vec<i32>,
    col_l: Vec<i32>,
    col_q: Vec<i32>,
    /// The layout of each group of the block in `q`.
    layout: Vec<Layout>,
    /// `[group][line]` scales and flush exponents, `[block][line]` block exponents.
    scale: Vec<i32>,
    x: Vec<i32>,
    lo: Vec<i32>,
}

struct PanelJob<'a, 'b, 'c> {
    job: &'a Job<'a>,
    p: usize,
    panel: PanelMut<'b>,
    scratch: &'c mut Scratch,
}

impl WithSource for PanelJob<'_, '_, '_> {
    type Out = u64;
    fn run<S: Source>(self, src: &S) -> u64 {
        let PanelJob {
            job,
            p,
            panel,
            scratch,
        } = self;
        match (job.spec.kernel, job.spec.side) {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernel::Avx2` only arrives here resolved, i.e. with AVX2 detected (the
            // bit-manipulation extensions come with every AVX2 CPU: Haswell, Zen).
            (Kernel::Avx2, Side::A) => unsafe {
                pack_panel_avx2::<S, MR, 8>(src, job, p, panel, scratch)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            (Kernel::Avx2, Side::B) => unsafe {
                pack_panel_avx2::<S, NR, NR>(src, job, p, panel, scratch)
            },
            (_, Side::A) => pack_panel::<S, MR, 8, false>(src, job, p, panel, scratch),
            (_, Side::B) => pack_panel::<S, NR, NR, false>(src, job, p, panel, scratch),
        }
    }
}

/// [`pack_panel`] compiled for AVX2: the same integer code, vectorized wider. Results are
/// identical by construction (no floating point, no target-dependent integer semantics).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt")]
unsafe fn pack_panel_avx2<S: Source, const W: usize, const WP: usize>(
    src: &S,
    job: &Job<'_>,
    p: usize,
    out: PanelMut<'_>,
    scratch: &mut Scratch,
) -> u64 {
    pack_panel::<S, W, WP, true>(src, job, p, out, scratch)
}

/// `x << s` for `s < 32`, lane-wise in vectorized loops. `VSHIFT` says the code is compiled
/// for AVX2, which has a lane-wise variable shift (`vpsllvd`). Without it LLVM emulates one by
/// building `2^s` through an int-to-float conversion (`cvttps2dq`), a floating-point
/// instruction the FP audit rightly rejects; a table lookup and an integer multiply give the
/// same bits with integer instructions only.
#[inline(always)]
pub(crate) fn shl<const VSHIFT: bool>(x: u32, s: u32) -> u32 {
    const POW2: [u32; 32] = {
        let mut t = [0u32; 32];
        let mut i = 0;
        while i < 32 {
            t[i] = 1 << i;
            i += 1;
        }
        t
    };
    if VSHIFT {
        x << s
    } else {
        x.wrapping_mul(POW2[(s & 31) as usize])
    }
}

/// Marks an all-zero group in the scale tables.
pub(crate) const ZERO: i32 = i32::MIN;

/// Packs panel `p` (`W` lines, `WP >= W` buffer lanes); returns the saturated values.
#[inline(always)]
fn pack_panel<S: Source, const W: usize, const WP: usize, const VSHIFT: bool>(
    src: &S,
    job: &Job<'_>,
    p: usize,
    out: PanelMut<'_>,
    scr: &mut Scratch,
) -> u64 {
    let (lines, plan) = (job.lines, job.plan);
    let (gs, groups, blocks) = (plan.group, plan.groups, plan.blocks());
    let line0 = job.spec.first + p * W;
    let live = job.end.saturating_sub(line0).min(W);
    resize(&mut scr.m, gs * WP);
    resize(&mut scr.l, gs * WP);
    resize(&mut scr.q, plan.block_groups * gs * WP);
    resize(&mut scr.layout, plan.block_groups);
    resize(&mut scr.col_m, gs);
    resize(&mut scr.col_l, gs);
    resize(&mut scr.col_q, gs);
    scr.scale.clear();
    scr.scale.resize(groups * W, ZERO);
    scr.x.clear();
    scr.x.resize(groups * W, ZERO);
    scr.lo.clear();
    scr.lo.resize(blocks * W, ZERO);
    let mut saturated = 0u64;
    for b in 0..blocks {
        let range = plan.block_range(b);
        if VSHIFT && let Some(all) = simd_block::<S, W>(src, job, line0, live, b, scr, out.data) {
            out.aligned[b] = all;
            continue;
        }
        for (gi, g) in range.clone().enumerate() {
            let q = &mut scr.q[gi * gs * WP..(gi + 1) * gs * WP];
            let mut scales = [ZERO; WP];
            let at = GroupAt {
                lines,
                line0,
                live,
                k0: g * gs,
                gs,
            };
            if let Some(layout) = fast_group::<S, WP, VSHIFT>(src, at, plan.p, q, &mut scales) {
                scr.scale[g * W..(g + 1) * W].copy_from_slice(&scales[..W]);
                scr.layout[gi] = layout;
                continue;
            }
            scr.layout[gi] = Layout::KLane;
            scales = [ZERO; WP];
            gather::<S, WP>(src, lines, line0, live, g * gs, gs, scr);
            let q = &mut scr.q[gi * gs * WP..(gi + 1) * gs * WP];
            let index0 = |w: usize| (line0 + w) as u64 * lines.k as u64 + (g * gs) as u64;
            let col = (&mut scr.col_m, &mut scr.col_l, &mut scr.col_q);
            saturated += quantize_rows::<WP, VSHIFT>(
                &mut scr.m,
                &scr.l,
                live,
                plan.p,
                lines.rounding,
                index0,
                q,
                &mut scales,
                col,
            );
            scr.scale[g * W..(g + 1) * W].copy_from_slice(&scales[..W]);
        }
        out.aligned[b] = write_block::<W, WP, VSHIFT>(job, b, scr, out.data);
    }
    finish_exponents::<W>(job, scr, out);
    saturated
}

/// The vectorized STREAM16 path for all of block `b` (`pack_stream_avx2.rs`), when it applies;
/// only called from code compiled for AVX2 (`VSHIFT`).
#[inline(always)]
fn simd_block<S: Source, const W: usize>(
    src: &S,
    job: &Job<'_>,
    line0: usize,
    live: usize,
    b: usize,
    scr: &mut Scratch,
    data: &mut [u32],
) -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    {
        let lines = job.lines;
        let stream = src.stream16()?;
        if lines.rounding != Rounding::NearestEven {
            return None;
        }
        let block = crate::pack_stream_avx2::BlockJob {
            src: stream,
            lines,
            line0,
            live,
            groups: job.plan.block_range(b),
            gs: job.plan.group,
            p: job.plan.p,
            shift: job.spec.shift,
        };
        let out = crate::pack_stream_avx2::BlockOut {
            scale: &mut scr.scale,
            x: &mut scr.x,
            lo: &mut scr.lo[b * W..(b + 1) * W],
            data,
        };
        // SAFETY: only `pack_panel_avx2` (compiled for AVX2 and called only once AVX2 was
        // detected) instantiates `pack_panel` with `VSHIFT`, the only caller of this path.
        unsafe { crate::pack_stream_avx2::pack_block::<W>(&block, out) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (src, job, line0, live, b, scr, data);
        None
    }
}

/// The STREAM16 fast path of `pack_stream.rs` for one group, when it applies (nearest-even
/// rounding, a unit stride along the lines or along K): the layout it wrote `q` in, or `None`
/// to leave the group to the general path.
#[inline(always)]
fn fast_group<S: Source, const WP: usize, const VSHIFT: bool>(
    src: &S,
    at: GroupAt<'_>,
    p: u32,
    q: &mut [i32],
    scales: &mut [i32; WP],
) -> Option<Layout> {
    let stream = src.stream16()?;
    let lines = at.lines;
    if lines.rounding != Rounding::NearestEven {
        return None;
    }
    if lines.line_stride == 1 {
        quantize_lanes::<WP, VSHIFT>(stream, at, p, q, scales).then_some(Layout::KLane)
    } else if lines.k_stride == 1 {
        quantize_runs::<WP, VSHIFT>(stream, at, p, q, scales).then_some(Layout::LaneK)
    } else {
        None
    }
}

/// How one group's quantized mantissas lie in the `q` scratch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Layout {
    /// `q[k * WP + lane]`: what the general path and the lines-contiguous fast path write.
    #[default]
    KLane,
    /// `q[lane * gs + k]`: the K-contiguous fast path keeps each line's run as it read it.
    LaneK,
}

/// Reads group `g` (K indices `k0..k0 + gs`) of lines `line0..line0 + live` into the
/// `[k][lane]` buffers; missing lanes and K beyond the end are zeros.
#[inline(always)]
fn gather<S: Source, const WP: usize>(
    src: &S,
    lines: &Lines<'_>,
    line0: usize,
    live: usize,
    k0: usize,
    gs: usize,
    scr: &mut Scratch,
) {
    let kn = gs.min(lines.k - k0);
    let (m, l) = (&mut scr.m[..gs * WP], &mut scr.l[..gs * WP]);
    m.fill(0);
    l.fill(0);
    let (ls, ks) = (lines.line_stride, lines.k_stride);
    let at = |line: usize, k: usize| {
        (lines.offset + (line0 + line) as isize * ls + (k0 + k) as isize * ks) as usize
    };
    if ls == 1 {
        // Lines contiguous (a row-major B): one run of `live` values per k.
        for kk in 0..kn {
            let row = kk * WP;
            src.read_run(at(0, kk), &mut m[row..row + live], &mut l[row..row + live]);
        }
    } else if ks == 1 {
        // K contiguous (a row-major A): one run of `kn` values per line.
        let (cm, cl) = (&mut scr.col_m[..kn], &mut scr.col_l[..kn]);
        for w in 0..live {
            src.read_run(at(w, 0), cm, cl);
            for kk in 0..kn {
                m[kk * WP + w] = cm[kk];
                l[kk * WP + w] = cl[kk];
            }
        }
    } else {
        for kk in 0..kn {
            for w in 0..live {
                let i = at(w, kk);
                m[kk * WP + w] = src.mant(i);
                l[kk * WP + w] = src.lsb(i);
            }
        }
    }
}

/// Quantizes the gathered group line by line into `q` (`[k][lane]`) and `scales` (`ZERO`
/// for all-zero lines); returns the saturated values. `m` may be rewritten (aligned).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn quantize_rows<const WP: usize, const VSHIFT: bool>(
    m: &mut [i32],
    l: &[i32],
    live: usize,
    p: u32,
    rounding: Rounding,
    index0: impl Fn(usize) -> u64,
    q: &mut [i32],
    scales: &mut [i32; WP],
    (col_m, col_l, col_q): (&mut Vec<i32>, &mut Vec<i32>, &mut Vec<i32>),
) -> u64 {
    let gs = q.len() / WP;
    let mut saturated = 0u64;
    if rounding == Rounding::NearestEven
        && let Some(lmin) = align::<VSHIFT>(m, l)
    {
        saturated += round_aligned::<WP, VSHIFT>(m, lmin, live, p, q, scales);
        return saturated;
    }
    // General path: one line at a time, per element.
    for w in 0..live {
        for kk in 0..gs {
            col_m[kk] = m[kk * WP + w];
            col_l[kk] = l[kk * WP + w];
        }
        let s = quantize(col_m, col_l, p, rounding, index0(w), col_q, &mut saturated);
        scales[w] = s.unwrap_or(ZERO);
        for kk in 0..gs {
            q[kk * WP + w] = col_q[kk];
        }
    }
    for w in live..WP {
        for kk in 0..gs {
            q[kk * WP + w] = 0;
        }
    }
    saturated
}

/// Shifts every non-zero value to the group's smallest exponent when the result fits i32
/// (magnitude bits plus exponent spread <= 31); returns that exponent.
#[inline(always)]
fn align<const VSHIFT: bool>(m: &mut [i32], l: &[i32]) -> Option<i32> {
    let (mut lmin, mut lmax, mut mag_or) = (i32::MAX, i32::MIN, 0u32);
    for (&v, &e) in m.iter().zip(l) {
        let nonzero = v != 0;
        lmin = lmin.min(if nonzero { e } else { i32::MAX });
        lmax = lmax.max(if nonzero { e } else { i32::MIN });
        mag_or |= v.unsigned_abs();
    }
    if mag_or == 0 {
        return Some(0); // all zero: any exponent
    }
    let bits = 32 - mag_or.leading_zeros() as i32;
    if lmax - lmin + bits > 31 {
        return None;
    }
    for (v, &e) in m.iter_mut().zip(l) {
        // Zero members may carry any exponent: clamping their (meaningless) shift is harmless.
        *v = shl::<VSHIFT>(*v as u32, (e - lmin).clamp(0, 31) as u32) as i32;
    }
    Some(lmin)
}

/// Nearest-even quantization of aligned values `v[k][w] * 2^lmin`, every line with its own
/// shift (a lane-wise loop). Lines whose scale clamps go through [`quantize_uniform`].
#[inline(always)]
fn round_aligned<const WP: usize, const VSHIFT: bool>(
    v: &[i32],
    lmin: i32,
    live: usize,
    p: u32,
    q: &mut [i32],
    scales: &mut [i32; WP],
) -> u64 {
    let gs = q.len() / WP;
    let mut amax = [0u32; WP];
    for row in v.chunks_exact(WP) {
        for (a, &x) in amax.iter_mut().zip(row) {
            *a = (*a).max(x.unsigned_abs());
        }
    }
    // Per lane: left shift `up` (exact) or right shift `dn` (nearest-even) to P bits.
    let (mut up, mut dn, mut half, mut odd_mask) = ([0u32; WP], [0u32; WP], [0u32; WP], [0u32; WP]);
    let mut slow = [false; WP];
    for w in 0..WP {
        scales[w] = ZERO;
        if amax[w] == 0 || w >= live {
            continue;
        }
        let bits = 32 - amax[w].leading_zeros() as i32;
        let top = lmin + bits;
        if !(SCALE_MIN..SCALE_MAX).contains(&top) {
            slow[w] = true;
            continue;
        }
        scales[w] = top;
        let d = bits - p as i32;
        up[w] = (-d).max(0) as u32;
        dn[w] = d.max(0) as u32;
        half[w] = (shl::<VSHIFT>(1, dn[w]) >> 1).wrapping_sub((dn[w] > 0) as u32);
        odd_mask[w] = (dn[w] > 0) as u32;
    }
    let max = (1u32 << p) - 1;
    let mut over = [0u32; WP];
    for (qrow, vrow) in q.chunks_exact_mut(WP).zip(v.chunks_exact(WP)) {
        for w in 0..WP {
            let x = vrow[w];
            let mag = x.unsigned_abs();
            // mag < 2^31 (aligned), half < 2^30: no u32 overflow; up > 0 only when mag < 2^(P-up).
            let r = (shl::<VSHIFT>(mag, up[w]) + half[w] + ((mag >> dn[w]) & odd_mask[w])) >> dn[w];
            over[w] |= (r > max) as u32;
            qrow[w] = if x < 0 { -(r as i32) } else { r as i32 };
        }
    }
    let mut saturated = 0u64;
    for w in 0..WP {
        if over[w] == 0 && !slow[w] {
            continue;
        }
        // A carry (largest member rounded up to 2^P) or a clamped scale: redo this line.
        let col: Vec<i32> = (0..gs).map(|kk| v[kk * WP + w]).collect();
        let mut out = vec![0i32; gs];
        let s = quantize_uniform(&col, lmin, p, &mut out, &mut saturated);
        scales[w] = s.unwrap_or(ZERO);
        for kk in 0..gs {
            q[kk * WP + w] = out[kk];
        }
    }
    saturated
}

/// A block's per-line alignment: `lo[w]`, the smallest non-zero group scale of line `w` in
/// `groups` (`ZERO` when it has none), and whether its scales spread at most `shift` (then its
/// mantissas are pre-shifted to `lo`). Lines without a non-zero group do not count against
/// the returned "every line aligned".
pub(crate) fn block_alignment<const W: usize>(
    scale: &[i32],
    groups: core::ops::Range<usize>,
    shift: i32,
    lo: &mut [i32],
) -> (bool, [bool; W]) {
    let mut all = true;
    let mut aligned = [false; W];
    for w in 0..W {
        let nonzero = groups
            .clone()
            .map(|g| scale[g * W + w])
            .filter(|&s| s != ZERO);
        let (min, max) = nonzero.fold((i32::MAX, i32::MIN), |(a, c), s| (a.min(s), c.max(s)));
        lo[w] = if max == i32::MIN { ZERO } else { min };
        aligned[w] = max != i32::MIN && max - min <= shift;
        all &= aligned[w] || max == i32::MIN;
    }
    (all, aligned)
}

/// Decides block `b` line by line and writes its groups as i16 pairs, aligned lines shifted
/// to the block exponent; returns whether every line is aligned.
#[inline(always)]
fn write_block<const W: usize, const WP: usize, const VSHIFT: bool>(
    job: &Job<'_>,
    b: usize,
    scr: &mut Scratch,
    data: &mut [u32],
) -> bool {
    let gs = job.plan.group;
    let range = job.plan.block_range(b);
    let lo_out = &mut scr.lo[b * W..(b + 1) * W];
    let (all, aligned) = block_alignment::<W>(&scr.scale, range.clone(), job.spec.shift, lo_out);
    let lo: [i32; W] = core::array::from_fn(|w| lo_out[w]);
    for (gi, g) in range.enumerate() {
        let mut up = [0u32; WP];
        for w in 0..W {
            let s = scr.scale[g * W + w];
            if s == ZERO {
                continue;
            }
            scr.x[g * W + w] = if aligned[w] { lo[w] } else { s };
            if aligned[w] {
                // |q| * 2^up <= mmax * 2^shift <= i16::MAX (bounds.rs, point 1).
                up[w] = (s - lo[w]) as u32;
            }
        }
        let q = &scr.q[gi * gs * WP..(gi + 1) * gs * WP];
        let dst = &mut data[g * gs / 2 * W..(g + 1) * gs / 2 * W];
        if scr.layout[gi] == Layout::LaneK {
            // Each line's run pairs up in place; the pairs go out with a stride of W.
            for (w, run) in q.chunks_exact(gs).take(W).enumerate() {
                for (t, pair) in run.chunks_exact(2).enumerate() {
                    let lo16 = shl::<VSHIFT>(pair[0] as u32, up[w]) & 0xffff;
                    let hi16 = shl::<VSHIFT>(pair[1] as u32, up[w]);
                    dst[t * W + w] = lo16 | (hi16 << 16);
                }
            }
            continue;
        }
        for (pairs, rows) in dst.chunks_exact_mut(W).zip(q.chunks_exact(2 * WP)) {
            let (even, odd) = rows.split_at(WP);
            // All `WP` lanes (a whole vector; lanes past `W` are zero padding), then the `W`
            // real ones: a loop over exactly `W = 6` lanes vectorizes into element inserts.
            let mut lane = [0u32; WP];
            for w in 0..WP {
                let lo16 = shl::<VSHIFT>(even[w] as u32, up[w]) & 0xffff;
                let hi16 = shl::<VSHIFT>(odd[w] as u32, up[w]);
                lane[w] = lo16 | (hi16 << 16);
            }
            pairs.copy_from_slice(&lane[..W]);
        }
    }
    all
}

/// Fills the base, spread and relative exponent tables once every block is packed.
fn finish_exponents<const W: usize>(job: &Job<'_>, scr: &Scratch, out: PanelMut<'_>) {
    let (groups, blocks) = (job.plan.groups, job.plan.blocks());
    let mut spread = 0;
    for w in 0..W {
        let nonzero = (0..groups)
            .map(|g| scr.scale[g * W + w])
            .filter(|&s| s != ZERO);
        let (min, max) = nonzero.fold((i32::MAX, i32::MIN), |(a, b), s| (a.min(s), b.max(s)));
        let base = if max == i32::MIN { 0 } else { min };
        if max != i32::MIN {
            spread = spread.max(max - min);
        }
        out.base[w] = base;
        let rel = |v: i32| if v == ZERO { 0 } else { v - base };
        for b in 0..blocks {
            out.block_exp[b * W + w] = rel(scr.lo[b * W + w]);
        }
        for g in 0..groups {
            out.group_exp[g * W + w] = rel(scr.x[g * W + w]);
        }
    }
    *out.spread = spread;
}
