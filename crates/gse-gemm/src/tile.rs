//! One `MR x NR` output tile over the whole of K: the kernel per K-block (or per group when a
//! block is not aligned), the flushes into i64, or the dyadic path for extreme spreads.

use gse::Dyadic;

use crate::bounds::Plan;
use crate::kernel::{Kernel, MR, NR, Tile32, Tile64};
use crate::pack::Panel;
use crate::stats::PathCounts;

/// The exact tile: `value[i][j] = acc[i][j] * 2^(exp_a[i] + exp_b[j])`, or dyadics.
pub(crate) enum TileValue<'a> {
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
}

impl Default for TileScratch {
    fn default() -> Self {
        Self {
            counts: PathCounts::default(),
            d: [0; MR * NR],
            acc: [0; MR * NR],
            dyadic: [Dyadic::ZERO; MR * NR],
        }
    }
}

/// Computes the tile of A panel `a` and B panel `b`.
pub(crate) fn compute<'s>(
    kernel: Kernel,
    plan: &Plan,
    a: &Panel<'_>,
    b: &Panel<'_>,
    scratch: &'s mut TileScratch,
) -> TileValue<'s> {
    let gs = plan.group;
    let two_p = 2 * plan.p as i32;
    if a.spread + b.spread > plan.spread_limit {
        scratch.counts.dyadic_tiles += 1;
        return TileValue::Dyadic(dyadic_tile(kernel, plan, a, b, scratch));
    }
    let TileScratch { d, acc, counts, .. } = scratch;
    acc.fill(0);
    for blk in 0..plan.blocks() {
        let range = plan.block_range(blk);
        if a.aligned[blk] && b.aligned[blk] {
            counts.aligned_blocks += 1;
            let kpairs = range.len() * gs / 2;
            kernel.dot(kpairs, a.group_data(range.start), b.group_data(range.start), d);
            kernel.flush(
                acc,
                d,
                &a.block_exp[blk * MR..],
                &b.block_exp[blk * NR..],
            );
        } else {
            counts.group_blocks += 1;
            for g in range {
                kernel.dot(gs / 2, a.group_data(g), b.group_data(g), d);
                kernel.flush(acc, d, &a.group_exp[g * MR..], &b.group_exp[g * NR..]);
            }
        }
    }
    TileValue::Exact {
        acc,
        exp_a: core::array::from_fn(|i| a.base[i] - two_p),
        exp_b: core::array::from_fn(|j| b.base[j]),
    }
}

/// Group by group into 62-bit round-to-odd dyadics: any exponent spread, error at most one
/// unit in the 61st bit of the running sum per group (see the crate docs).
fn dyadic_tile<'s>(
    kernel: Kernel,
    plan: &Plan,
    a: &Panel<'_>,
    b: &Panel<'_>,
    scratch: &'s mut TileScratch,
) -> &'s [Dyadic; MR * NR] {
    let two_p = 2 * plan.p as i32;
    let TileScratch { d, dyadic, .. } = scratch;
    dyadic.fill(Dyadic::ZERO);
    for g in 0..plan.groups {
        kernel.dot(plan.group / 2, a.group_data(g), b.group_data(g), d);
        for i in 0..MR {
            let ea = a.base[i] + a.group_exp[g * MR + i] - two_p;
            for j in 0..NR {
                let v = d[i * NR + j];
                if v != 0 {
                    let e = ea + b.base[j] + b.group_exp[g * NR + j];
                    let slot = &mut dyadic[i * NR + j];
                    *slot = slot.add(Dyadic::new(v as i64, e));
                }
            }
        }
    }
    dyadic
}
