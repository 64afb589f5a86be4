//! One `MR x NR` output tile over the whole of K: the kernel per K-block (or per group when a
//! block is not aligned), the flushes into i64, or the dyadic path for extreme spreads.

use gse::Dyadic;

use crate::bounds::Plan;
use crate::kernel::{Kernel, MR, NR, Tile32, Tile64};
use crate::pack::Panel;
use crate::requant::TileOut;
#[cfg(target_arch = "x86_64")]
use crate::requant::{dot_and_store_i16, tile_in_range};
use crate::stats::PathCounts;
use crate::wide::Wide;

/// The exact tile: `value[i][j] = acc[i][j] * 2^(exp_a[i] + exp_b[j])` (bias not included),
/// or round-to-odd dyadics of the exact values with the bias already included.
pub(crate) enum TileValue<'a> {
    /// A single aligned K-block: the kernel's i32 sums need no flush.
    Exact32 {
        acc: &'a Tile32,
        exp_a: [i32; MR],
        exp_b: [i32; NR],
    },
    Exact {
        acc: &'a Tile64,
        exp_a: [i32; MR],
        exp_b: [i32; NR],
    },
    Dyadic(&'a [Dyadic; MR * NR]),
}

/// Scratch reused across the tiles of one task.
pub(crate) struct TileScratch {
    /// Paths taken so far.
    pub counts: PathCounts,
    d: Tile32,
    acc: Tile64,
    dyadic: [Dyadic; MR * NR],
    wide: Vec<Wide>,
}

impl Default for TileScratch {
    fn default() -> Self {
        Self {
            counts: PathCounts::default(),
            d: [0; MR * NR],
            acc: [0; MR * NR],
            dyadic: [Dyadic::ZERO; MR * NR],
            wide: Vec::new(),
        }
    }
}

/// Computes the tile of A panel `a` and B panel `b`; `bias` holds the tile's columns' biases
/// (used by the dyadic path only, which must add them before its single rounding).
#[inline(always)]
pub(crate) fn compute<'s>(
    kernel: Kernel,
    plan: &Plan,
    a: &Panel<'_>,
    b: &Panel<'_>,
    bias: Option<&[Dyadic]>,
    scratch: &'s mut TileScratch,
) -> TileValue<'s> {
    let gs = plan.group;
    let two_p = 2 * plan.p as i32;
    if a.spread + b.spread > plan.spread_limit {
        scratch.counts.dyadic_tiles += 1;
        return TileValue::Dyadic(dyadic_tile(kernel, plan, a, b, bias, scratch));
    }
    let TileScratch { d, acc, counts, .. } = scratch;
    if let Some((exp_a, exp_b)) = one_block_exponents(plan, a, b) {
        counts.aligned_blocks += 1;
        kernel.dot(plan.groups * gs / 2, a.data, b.data, d);
        return TileValue::Exact32 {
            acc: d,
            exp_a,
            exp_b,
        };
    }
    // The first flush stores, so the accumulators need no clearing (unless K is empty).
    let mut first = true;
    for blk in 0..plan.blocks() {
        let range = plan.block_range(blk);
        if a.aligned[blk] && b.aligned[blk] {
            counts.aligned_blocks += 1;
            let kpairs = range.len() * gs / 2;
            kernel.dot(
                kpairs,
                a.group_data(range.start),
                b.group_data(range.start),
                d,
            );
            let (ea, eb) = (&a.block_exp[blk * MR..], &b.block_exp[blk * NR..]);
            kernel.flush(acc, d, ea, eb, first);
            first = false;
        } else {
            counts.group_blocks += 1;
            for g in range {
                kernel.dot(gs / 2, a.group_data(g), b.group_data(g), d);
                let (ea, eb) = (&a.group_exp[g * MR..], &b.group_exp[g * NR..]);
                kernel.flush(acc, d, ea, eb, first);
                first = false;
            }
        }
    }
    if first {
        acc.fill(0);
    }
    TileValue::Exact {
        acc,
        exp_a: sum_exp(&a.base[..MR], &[0; MR], -two_p),
        exp_b: sum_exp(&b.base[..NR], &[0; NR], 0),
    }
}

/// [`compute`] for a tile that is one aligned K-block with every scale in range
/// ([`tile_in_range`]) on the AVX2 kernel, rounded straight from the kernel's registers into
/// `out`; false (nothing computed) for any other tile, which then takes [`compute`].
///
/// # Safety
/// `out` addresses `out.rows` rows of 16 outputs inside the writer's buffers that belong to
/// this tile only.
#[inline(always)]
pub(crate) unsafe fn compute_rounded(
    kernel: Kernel,
    plan: &Plan,
    a: &Panel<'_>,
    b: &Panel<'_>,
    scratch: &mut TileScratch,
    out: TileOut,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Avx2
        && let Some((exp_a, exp_b)) = one_block_exponents(plan, a, b)
    {
        // SAFETY: `Kernel::Avx2` only comes resolved, with AVX2 detected; the range check
        // comes first; `out` per the contract.
        if tile_in_range(&exp_a, &exp_b)
            && unsafe {
                dot_and_store_i16(
                    plan.groups * plan.group / 2,
                    a.data,
                    b.data,
                    &exp_a,
                    &exp_b,
                    out,
                )
            }
        {
            scratch.counts.aligned_blocks += 1;
            return true;
        }
    }
    let _ = (kernel, plan, a, b, scratch, out);
    false
}

/// The exponents of the tile's i32 sums when all of K is one K-block aligned in both panels
/// (the kernel's sums then need no flush into i64): `value[i][j] = d[i][j] * 2^(ea[i] + eb[j])`.
#[inline(always)]
fn one_block_exponents(
    plan: &Plan,
    a: &Panel<'_>,
    b: &Panel<'_>,
) -> Option<([i32; MR], [i32; NR])> {
    // No closure (`bool::then`): closures do not inherit the AVX2 target of the caller this
    // inlines into, and the call's narrow stores then stalled the wide reloads of its result.
    if plan.blocks() == 1
        && a.aligned[0]
        && b.aligned[0]
        && a.spread + b.spread <= plan.spread_limit
    {
        let exp_a = sum_exp(&a.base[..MR], &a.block_exp[..MR], -2 * plan.p as i32);
        Some((exp_a, sum_exp(&b.base[..NR], &b.block_exp[..NR], 0)))
    } else {
        None
    }
}

/// `base[i] + rel[i] + offset` for the `W` lines of a panel (slices of exactly `W`: a plain
/// loop without bounds checks, run once per tile).
#[inline(always)]
fn sum_exp<const W: usize>(base: &[i32], rel: &[i32], offset: i32) -> [i32; W] {
    let mut out = [offset; W];
    for ((o, &b), &r) in out.iter_mut().zip(base).zip(rel) {
        *o += b + r;
    }
    out
}

/// Group by group into exact wide accumulators: any exponent spread, exact, ~20 ns a term.
fn dyadic_tile<'s>(
    kernel: Kernel,
    plan: &Plan,
    a: &Panel<'_>,
    b: &Panel<'_>,
    bias: Option<&[Dyadic]>,
    scratch: &'s mut TileScratch,
) -> &'s [Dyadic; MR * NR] {
    let two_p = 2 * plan.p as i32;
    let TileScratch {
        d, dyadic, wide, ..
    } = scratch;
    wide.clear();
    wide.resize(MR * NR, Wide::default());
    for g in 0..plan.groups {
        kernel.dot(plan.group / 2, a.group_data(g), b.group_data(g), d);
        for i in 0..MR {
            let ea = a.base[i] + a.group_exp[g * MR + i] - two_p;
            for j in 0..NR {
                let e = ea + b.base[j] + b.group_exp[g * NR + j];
                wide[i * NR + j].add(d[i * NR + j] as i64, e);
            }
        }
    }
    if let Some(bias) = bias {
        for row in wide.chunks_exact_mut(NR) {
            for (w, v) in row.iter_mut().zip(bias) {
                w.add(v.mant, v.exp);
            }
        }
    }
    for (out, w) in dyadic.iter_mut().zip(wide.iter()) {
        *out = w.to_dyadic();
    }
    dyadic
}
