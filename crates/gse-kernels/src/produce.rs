//! The one place where new tensors are written: values are produced run by run (in parallel),
//! each group is quantized as soon as its values exist.

use std::cell::RefCell;

use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SpecialCounts};
use rayon::prelude::*;

use crate::tensor::GseTensor;

/// Elements per parallel run: large enough to amortize scheduling, small enough to balance.
const RUN_ELEMENTS: usize = 4096;

/// Builds a contiguous tensor of `shape` whose element `i` is produced by `fill`: it is called
/// with the first logical index of a run and a buffer to fill with that run's values. `fill`
/// is cloned per worker, so it may carry scratch buffers.
pub fn produce<F>(shape: &[usize], format: GseFormat, rounding: Rounding, fill: F) -> GseTensor
where
    F: FnMut(usize, &mut [Dyadic]) + Clone + Send + Sync,
{
    let len: usize = shape.iter().product();
    let mut blocks = GseBlocks::zeros(format, len);
    let groups_per_run = (RUN_ELEMENTS >> format.group_log2()).max(1);
    let saturated: u64 = blocks
        .runs_mut(groups_per_run)
        .into_par_iter()
        .map_with(fill, |fill, mut run| {
            with_scratch(|scratch| {
                scratch.values.resize(run.len(), Dyadic::ZERO);
                fill(run.first_element(), &mut scratch.values);
                quantize_run(&mut run, scratch, format, rounding)
            })
        })
        .sum();
    if saturated > 0 {
        gse::special::record(SpecialCounts {
            saturated,
            ..SpecialCounts::default()
        });
    }
    GseTensor::from_blocks(blocks, shape)
}

/// Calls `f` with the calling thread's [`Scratch`] (a fresh one if it is already in use
/// further up the stack). rayon clones per-job state at every split, so state carried by
/// `map_with` would start empty, be allocated and zeroed, for nearly every run.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    thread_local! {
        static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
    }
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// Buffers reused from run to run by one thread. The values buffer is resized, never cleared:
/// producers write every value, so zeroing it per run would be wasted work.
#[derive(Default, Clone)]
pub(crate) struct Scratch {
    pub(crate) values: Vec<Dyadic>,
    mantissas: Vec<i32>,
    scales: Vec<i32>,
}

/// `scratch.values` (one run) quantized group by group and written to `run`; returns how many
/// members saturated.
pub(crate) fn quantize_run(
    run: &mut gse::GroupsMut<'_>,
    scratch: &mut Scratch,
    format: GseFormat,
    rounding: Rounding,
) -> u64 {
    let gs = format.group_size();
    let values = &scratch.values;
    scratch.mantissas.resize(values.len(), 0);
    scratch.scales.resize(values.len().div_ceil(gs), 0);
    if rounding == Rounding::NearestEven {
        // Same results as `gse::quantize_group`, in 64-bit arithmetic (see `nearest`).
        let saturated = crate::nearest::quantize_nearest(
            format,
            values,
            &mut scratch.mantissas,
            &mut scratch.scales,
        );
        run.write_all(&scratch.scales, &scratch.mantissas[..values.len()]);
        return saturated;
    }
    let mut saturated = 0u64;
    let first = run.first_element() as u64;
    let groups = values.chunks(gs).zip(scratch.mantissas.chunks_mut(gs));
    for (g, (group, out)) in groups.enumerate() {
        let (scale, sat) =
            gse::quantize_group(format, group, rounding, first + (g * gs) as u64, out);
        saturated += sat as u64;
        scratch.scales[g] = scale;
    }
    run.write_all(&scratch.scales, &scratch.mantissas[..values.len()]);
    saturated
}
