//! Process-wide counts of which accumulation path computed how much, so tests can show they
//! exercise every path and benchmarks can report how often the slow ones run. Tasks count
//! locally and add once at their end, so the atomics are touched a few times per product.

use core::sync::atomic::{AtomicU64, Ordering};

/// How much work each path did since the process started (or the last [`take`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathCounts {
    /// Tile x K-block steps summed in one kernel call (pre-aligned, the fast path).
    pub aligned_blocks: u64,
    /// Tile x K-block steps flushed group by group (spread too wide to pre-align).
    pub group_blocks: u64,
    /// Tiles summed as round-to-odd dyadics (spread too wide for i64).
    pub dyadic_tiles: u64,
    /// Products computed by the scalar reference path (unsupported operand format).
    pub reference_products: u64,
}

static COUNTS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

pub(crate) fn record(c: &PathCounts) {
    let vals = [
        c.aligned_blocks,
        c.group_blocks,
        c.dyadic_tiles,
        c.reference_products,
    ];
    for (slot, v) in COUNTS.iter().zip(vals) {
        if v > 0 {
            slot.fetch_add(v, Ordering::Relaxed);
        }
    }
}

/// Returns the counts and resets them to zero.
pub fn take() -> PathCounts {
    let v: [u64; 4] = core::array::from_fn(|i| COUNTS[i].swap(0, Ordering::Relaxed));
    PathCounts {
        aligned_blocks: v[0],
        group_blocks: v[1],
        dyadic_tiles: v[2],
        reference_products: v[3],
    }
}
