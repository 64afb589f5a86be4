//! The GEMM driver: validation, packing B once per distinct view, splitting the output into
//! tasks for rayon, and walking each task's micro-tiles.
//!
//! Loop nest of one task (rows `r0..r1` of one batch entry, column panels `c0..c1`):
//! pack A rows `r0..r1` (all of K; stays in L2), then for each B panel (K x NR, reused from
//! L1/L2 across the inner loop) and each A panel, compute the tile over all of K and round it
//! straight into the output. Every output element belongs to exactly one tile of one task, and
//! every tile's value is independent of how tasks are cut (panels start at multiples of MR/NR
//! from row/column 0), so results are bit-identical for any thread count.

use std::cell::RefCell;
use std::collections::HashMap;

use gse::rounding::random_bits;
use gse::{Dyadic, GseBlocks, Rounding, SpecialCounts, UninitBlocks};
use rayon::prelude::*;

use crate::bounds::Plan;
use crate::error::GemmError;
use crate::kernel::{Kernel, MR, NR};
use crate::pack::{Lines, PackSpec, Panels, Side, pack};
use crate::requant::{TileOut, Writer, add_bias, encode_staged, tile_in_range};
use crate::tile::{TileScratch, TileValue, compute, compute_rounded};
use crate::view::MatRef;
use crate::{GemmConfig, reference};

/// A validated batch of products `a[e] * b[e]`, all `m x k` times `k x n`.
pub(crate) struct Batch<'a> {
    pub a: Vec<MatRef<'a>>,
    pub b: Vec<MatRef<'a>>,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// Per output column, when the product is `linear`.
    pub bias: Option<Vec<Dyadic>>,
}

impl<'a> Batch<'a> {
    /// Checks shapes, views and the bias; a side of length 1 is broadcast over the other.
    pub fn new(
        a: &[MatRef<'a>],
        b: &[MatRef<'a>],
        bias: Option<&GseBlocks>,
    ) -> Result<Self, GemmError> {
        let batch = match (a.len(), b.len()) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => return Err(GemmError::BatchLen { a: x, b: y }),
        };
        let pick = |v: &[MatRef<'a>], e: usize| v[if v.len() == 1 { 0 } else { e }];
        let a: Vec<_> = (0..batch).map(|e| pick(a, e)).collect();
        let b: Vec<_> = (0..batch).map(|e| pick(b, e)).collect();
        let (m, k, n) = match (a.first(), b.first()) {
            (Some(a0), Some(b0)) => (a0.rows, a0.cols, b0.cols),
            _ => (0, 0, 0),
        };
        for (e, (ae, be)) in a.iter().zip(&b).enumerate() {
            if ae.cols != be.rows && e == 0 {
                return Err(GemmError::InnerDim {
                    a_cols: ae.cols,
                    b_rows: be.rows,
                });
            }
            if (ae.rows, ae.cols, be.rows, be.cols) != (m, k, k, n) {
                return Err(GemmError::BatchShape {
                    index: e,
                    rows: ae.rows,
                    inner: ae.cols,
                    inner_b: be.rows,
                    cols: be.cols,
                    m,
                    k,
                    n,
                });
            }
            ae.validate("A")?;
            be.validate("B")?;
        }
        let bias = match bias {
            None => None,
            Some(blocks) if blocks.len() == n => Some(blocks.to_dyadics()),
            Some(blocks) => {
                return Err(GemmError::BiasLen {
                    expected: n,
                    actual: blocks.len(),
                });
            }
        };
        let total = batch as u128 * m as u128 * n as u128;
        if total > isize::MAX as u128 / 16 {
            return Err(GemmError::TooLarge(total));
        }
        Ok(Self {
            a,
            b,
            m,
            k,
            n,
            bias,
        })
    }

    pub fn len(&self) -> usize {
        self.a.len()
    }
}

/// Runs a validated batch; the result holds `len * m * n` values, entry after entry.
pub(crate) fn run(batch: &Batch<'_>, cfg: &GemmConfig, kernel: Kernel) -> GseBlocks {
    let kernel = kernel.resolve();
    let total = batch.len() * batch.m * batch.n;
    let format = cfg.out_format;
    let (out, saturated) = if total > 0 && Writer::writes_directly(format) {
        // Written in place, without zeroing the buffers first.
        let mut raw = UninitBlocks::new(format, total);
        let saturated = match Writer::direct(&mut raw) {
            Some(writer) => compute_all(batch, cfg, kernel, &writer),
            None => unreachable!("{format} is written directly"),
        };
        // SAFETY: `compute_all` writes every output element once through a direct writer (the
        // engine's tasks partition the output into tiles and store each tile whole; the
        // reference path writes every element), each rounded into the format's range.
        (unsafe { raw.assume_init() }, saturated)
    } else {
        let mut out = GseBlocks::zeros(format, total);
        if total == 0 {
            return out;
        }
        let mut stage = vec![Dyadic::ZERO; total];
        let saturated = compute_all(batch, cfg, kernel, &Writer::staged(&mut stage));
        let saturated = saturated + encode_staged(&stage, &mut out);
        (out, saturated)
    };
    if saturated > 0 {
        gse::special::record(SpecialCounts {
            saturated,
            ..SpecialCounts::default()
        });
    }
    out
}

/// Every output element of `batch`, through `writer`; returns how many saturated.
fn compute_all(batch: &Batch<'_>, cfg: &GemmConfig, kernel: Kernel, writer: &Writer) -> u64 {
    match Plan::new(cfg.operand_format, batch.k) {
        Some(plan) => run_engine(batch, cfg, kernel, &plan, writer),
        None => reference::run(batch, cfg, writer),
    }
}

/// The rounding of operand `side` (0 for A, 1 for B) of batch entry `e`: stochastic seeds are
/// split per entry and side so no two operands share random bits.
pub(crate) fn operand_rounding(cfg: &GemmConfig, e: usize, side: u64) -> Rounding {
    match cfg.rounding {
        Rounding::NearestEven => Rounding::NearestEven,
        Rounding::Stochastic { seed } => Rounding::Stochastic {
            seed: random_bits(seed, 2 * e as u64 + side),
        },
    }
}

pub(crate) fn a_lines<'a>(view: &MatRef<'a>, rounding: Rounding) -> Lines<'a> {
    Lines {
        blocks: view.blocks,
        offset: view.offset as isize,
        line_stride: view.row_stride,
        k_stride: view.col_stride,
        lines: view.rows,
        k: view.cols,
        rounding,
    }
}

pub(crate) fn b_lines<'a>(view: &MatRef<'a>, rounding: Rounding) -> Lines<'a> {
    Lines {
        blocks: view.blocks,
        offset: view.offset as isize,
        line_stride: view.col_stride,
        k_stride: view.row_stride,
        lines: view.cols,
        k: view.rows,
        rounding,
    }
}

/// Indices of the first entry with each distinct view, and each entry's distinct slot.
fn distinct(views: &[MatRef<'_>]) -> (Vec<usize>, Vec<usize>) {
    let mut first = Vec::new();
    let mut slot = Vec::with_capacity(views.len());
    let mut seen: HashMap<(usize, usize, isize, isize, usize, usize), usize> = HashMap::new();
    for (e, v) in views.iter().enumerate() {
        // Strides of length-1 dimensions never matter; normalize them so equal views match.
        let rs = if v.rows <= 1 { 0 } else { v.row_stride };
        let cs = if v.cols <= 1 { 0 } else { v.col_stride };
        let key = (
            v.blocks as *const GseBlocks as usize,
            v.offset,
            rs,
            cs,
            v.rows,
            v.cols,
        );
        let s = *seen.entry(key).or_insert_with(|| {
            first.push(e);
            first.len() - 1
        });
        slot.push(s);
    }
    (first, slot)
}

/// Bytes of packed A a task aims to keep in L2 (half of Zen 3's 512 KiB).
const A_BLOCK_BYTES: usize = 256 * 1024;

/// How the output is cut into tasks.
struct Split {
    rows_per_task: usize, // in A panels
    row_tasks: usize,
    cols_per_task: usize, // in B panels
    col_tasks: usize,
}

fn split(batch: &Batch<'_>, plan: &Plan) -> Split {
    let threads = rayon::current_num_threads();
    let want = if threads > 1 { 8 * threads } else { 1 };
    let row_panels = batch.m.div_ceil(MR);
    let col_panels = batch.n.div_ceil(NR);
    let panel_bytes = MR * plan.padded_k().max(1) * 2;
    let mc_max = (A_BLOCK_BYTES / panel_bytes).max(1);
    let per_entry = want.div_ceil(batch.len());
    let row_tasks = row_panels.div_ceil(mc_max).max(per_entry);
    // Equal tasks in a multiple of the thread count when one entry has several: 17 tasks on
    // 2 threads leave one thread idle for the last (6% of [8192x256]x[256x1024]).
    let row_tasks = if batch.len() == 1 && threads > 1 {
        row_tasks.next_multiple_of(threads)
    } else {
        row_tasks
    };
    let row_tasks = row_tasks.min(row_panels);
    let rows_per_task = row_panels.div_ceil(row_tasks);
    let row_tasks = row_panels.div_ceil(rows_per_task);
    let col_tasks = if batch.len() * row_tasks < want {
        want.div_ceil(batch.len() * row_tasks).min(col_panels)
    } else {
        1
    };
    let cols_per_task = col_panels.div_ceil(col_tasks);
    let col_tasks = col_panels.div_ceil(cols_per_task);
    Split {
        rows_per_task,
        row_tasks,
        cols_per_task,
        col_tasks,
    }
}

/// Packed-panel buffers kept from one product to the next.
///
/// A product packs all of B (and, when column tasks share it, all of A) into fresh panels;
/// allocating them anew for every call makes every page of them fault in again (~2 us a page
/// on the reference machine, megabytes per product) whenever the allocator has returned the
/// last ones to the OS, which another backend's allocations in the same process provoke. The
/// buffers hold no state between products: `pack` overwrites every element it hands out.
mod reuse {
    use std::sync::Mutex;

    use crate::pack::Panels;

    /// Bytes of panel buffers kept at most (a 1024^3 product packs 4 MiB, 8192 x 1536 A 25 MiB).
    const KEEP_BYTES: usize = 64 << 20;
    /// Buffers kept at most (batched products pack one panel set per distinct operand).
    const KEEP_COUNT: usize = 256;

    static KEPT: Mutex<Vec<Panels>> = Mutex::new(Vec::new());

    /// A panel set to pack into: the largest kept one, or a new one.
    pub fn take() -> Panels {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        kept.pop().unwrap_or_default()
    }

    /// Keeps `panels` for later products, within the limits (largest kept first, so a
    /// stream of equal products reuses the same buffers).
    pub fn give_back(panels: Vec<Panels>) {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        kept.extend(panels);
        kept.sort_by_key(Panels::capacity_bytes);
        let mut total = 0;
        let keep = kept
            .iter()
            .rev()
            .take_while(|p| {
                total += p.capacity_bytes();
                total <= KEEP_BYTES
            })
            .count()
            .min(KEEP_COUNT);
        let drop_count = kept.len() - keep;
        kept.drain(..drop_count);
    }
}

thread_local! {
    /// Packed A of the task running on this thread, reused to avoid re-faulting big buffers.
    static A_SCRATCH: RefCell<Panels> = RefCell::new(Panels::default());
}

/// Packs every operand of a validated batch as `run` would (all of A up front) and drops the
/// panels: the packing cost alone, for benchmarks. Returns false when the engine does not run.
pub(crate) fn pack_only(batch: &Batch<'_>, cfg: &GemmConfig) -> bool {
    let kernel = Kernel::detect();
    let Some(plan) = Plan::new(cfg.operand_format, batch.k) else {
        return false;
    };
    let one = |e: usize, side: Side| {
        let (lines, shift) = match side {
            Side::A => (
                a_lines(&batch.a[e], operand_rounding(cfg, e, 0)),
                plan.shift_a,
            ),
            Side::B => (
                b_lines(&batch.b[e], operand_rounding(cfg, e, 1)),
                plan.shift_b,
            ),
        };
        let spec = PackSpec {
            side,
            first: 0,
            count: lines.lines,
            shift,
            parallel: true,
            kernel,
        };
        let mut p = reuse::take();
        pack(&lines, &plan, spec, &mut p);
        let count = p.count;
        reuse::give_back(vec![p]);
        count
    };
    (0..batch.len())
        .map(|e| one(e, Side::A) + one(e, Side::B))
        .sum::<usize>()
        > 0
}

fn run_engine(
    batch: &Batch<'_>,
    cfg: &GemmConfig,
    kernel: Kernel,
    plan: &Plan,
    writer: &Writer,
) -> u64 {
    let threads = rayon::current_num_threads();
    let (b_first, b_slot) = distinct(&batch.b);
    let (a_first, a_slot) = distinct(&batch.a);
    let pack_all = |first: &[usize], views: &[MatRef<'_>], side: Side, shift| {
        let one = |&e: &usize, parallel: bool| {
            let lines = match side {
                Side::A => a_lines(&views[e], operand_rounding(cfg, e, 0)),
                Side::B => b_lines(&views[e], operand_rounding(cfg, e, 1)),
            };
            let spec = PackSpec {
                side,
                first: 0,
                count: lines.lines,
                shift,
                parallel,
                kernel,
            };
            let mut p = reuse::take();
            pack(&lines, plan, spec, &mut p);
            p
        };
        if first.len() >= threads {
            first.par_iter().map(|e| one(e, false)).collect::<Vec<_>>()
        } else {
            first.iter().map(|e| one(e, true)).collect()
        }
    };
    let b_packed = pack_all(&b_first, &batch.b, Side::B, plan.shift_b);
    let split = split(batch, plan);
    let prepack_a = split.col_tasks > 1 || a_first.len() < batch.len();
    let a_packed = if prepack_a {
        pack_all(&a_first, &batch.a, Side::A, plan.shift_a)
    } else {
        Vec::new()
    };
    let tasks = batch.len() * split.row_tasks * split.col_tasks;
    let b_saturated: u64 = b_packed.iter().map(|p| p.saturated).sum();
    let a_saturated: u64 = a_packed.iter().map(|p| p.saturated).sum();
    let out_saturated: u64 = (0..tasks)
        .into_par_iter()
        .map(|t| {
            let e = t / (split.row_tasks * split.col_tasks);
            let rt = t / split.col_tasks % split.row_tasks;
            let ct = t % split.col_tasks;
            let task = Task {
                batch,
                plan,
                kernel,
                writer,
                entry: e,
                rows: rt * split.rows_per_task..((rt + 1) * split.rows_per_task),
                cols: ct * split.cols_per_task..((ct + 1) * split.cols_per_task),
                b: &b_packed[b_slot[e]],
            };
            if prepack_a {
                task.run(&a_packed[a_slot[e]], 0)
            } else {
                A_SCRATCH.with(|cell| {
                    let mut a = cell.borrow_mut();
                    let rounding = operand_rounding(cfg, e, 0);
                    let lines = a_lines(&batch.a[e], rounding);
                    let first = task.rows.start * MR;
                    let spec = PackSpec {
                        side: Side::A,
                        first,
                        count: (task.rows.end * MR).min(batch.m) - first,
                        shift: plan.shift_a,
                        parallel: false,
                        kernel,
                    };
                    pack(&lines, plan, spec, &mut a);
                    task.run(&a, task.rows.start) + a.saturated
                })
            }
        })
        .sum();
    reuse::give_back(b_packed);
    reuse::give_back(a_packed);
    a_saturated + b_saturated + out_saturated
}

/// One rectangle of one entry's output, in panels.
struct Task<'a, 'b> {
    batch: &'a Batch<'b>,
    plan: &'a Plan,
    kernel: Kernel,
    writer: &'a Writer,
    entry: usize,
    rows: core::ops::Range<usize>,
    cols: core::ops::Range<usize>,
    b: &'a Panels,
}

impl Task<'_, '_> {
    /// Computes the task's tiles; `a` holds its A panels from panel index `a_first` on.
    fn run(&self, a: &Panels, a_first: usize) -> u64 {
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernel::Avx2` is only used resolved, i.e. with AVX2 detected.
            Kernel::Avx2 => unsafe { self.run_avx2(a, a_first) },
            _ => self.run_body(a, a_first),
        }
    }

    /// [`Self::run_body`] compiled for AVX2, so the micro-kernel and flush inline into it and
    /// the output rounding uses `lzcnt`; identical integer results.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,bmi1,bmi2,lzcnt")]
    unsafe fn run_avx2(&self, a: &Panels, a_first: usize) -> u64 {
        self.run_body(a, a_first)
    }

    #[inline(always)]
    fn run_body(&self, a: &Panels, a_first: usize) -> u64 {
        let (m, n) = (self.batch.m, self.batch.n);
        let out_base = self.entry * m * n;
        let mut scratch = TileScratch::default();
        let mut saturated = 0u64;
        // Tiles without a bias into i16 mantissas may round straight from the registers.
        let direct = match self.batch.bias {
            None => self.writer.direct_i16(),
            Some(_) => None,
        };
        // The task's A panels, sliced once rather than for every tile.
        let rows = self.rows.start..self.rows.end.min(m.div_ceil(MR));
        let a_panels: Vec<_> = rows.clone().map(|ip| a.panel(ip - a_first)).collect();
        for jp in self.cols.start..self.cols.end.min(self.b.count) {
            let bp = self.b.panel(jp);
            let c0 = jp * NR;
            let cn = NR.min(n - c0);
            let bias = self.batch.bias.as_deref().map(|b| &b[c0..c0 + cn]);
            for (ip, ap) in rows.clone().zip(&a_panels) {
                let r0 = ip * MR;
                let rn = MR.min(m - r0);
                if let (NR, Some((mant, scales, p))) = (cn, direct) {
                    let at = out_base + r0 * n + c0;
                    let out = TileOut {
                        mant: mant.wrapping_add(at),
                        scales: scales.wrapping_add(at),
                        stride: n,
                        rows: rn,
                        p,
                    };
                    // SAFETY: rows r0..r0 + rn, columns c0..c0 + 16 of this entry are inside
                    // the output and belong to this tile only.
                    if unsafe {
                        compute_rounded(self.kernel, self.plan, ap, &bp, &mut scratch, out)
                    } {
                        continue;
                    }
                }
                let value = compute(self.kernel, self.plan, ap, &bp, bias, &mut scratch);
                let in_range = match &value {
                    TileValue::Exact32 { exp_a, exp_b, .. } => tile_in_range(exp_a, exp_b),
                    _ => false,
                };
                for i in 0..rn {
                    let row = out_base + (r0 + i) * n + c0;
                    // SAFETY: row r0 + i, columns c0..c0 + cn of this entry are inside the
                    // output and belong to this tile only.
                    saturated += unsafe {
                        match (&value, bias) {
                            (TileValue::Exact32 { acc, exp_a, exp_b }, Some(bias)) => {
                                self.writer.put_run(row, cn, |j| {
                                    let v = acc[i * NR + j] as i64;
                                    add_bias(v, exp_a[i] + exp_b[j], bias[j])
                                })
                            }
                            (TileValue::Exact32 { acc, exp_a, exp_b }, None) => {
                                self.writer.put_run_i32(
                                    self.kernel,
                                    row,
                                    &acc[i * NR..i * NR + cn],
                                    exp_a[i],
                                    exp_b,
                                    in_range,
                                )
                            }
                            (TileValue::Exact { acc, exp_a, exp_b }, Some(bias)) => {
                                self.writer.put_run(row, cn, |j| {
                                    add_bias(acc[i * NR + j], exp_a[i] + exp_b[j], bias[j])
                                })
                            }
                            (TileValue::Exact { acc, exp_a, exp_b }, None) => {
                                self.writer.put_run_i64(
                                    self.kernel,
                                    row,
                                    &acc[i * NR..i * NR + cn],
                                    exp_a[i],
                                    exp_b,
                                )
                            }
                            (TileValue::Dyadic(d), _) => self.writer.put_run(row, cn, |j| {
                                let v = d[i * NR + j];
                                (v.mant, v.exp)
                            }),
                        }
                    };
                }
            }
        }
        crate::stats::record(&scratch.counts);
        saturated
    }
}
