//! Lines: the 1-D fibers of a tensor along one axis, the unit of work of every reduction, scan,
//! sort and row-wise fused kernel.
//!
//! A tensor of shape `[.., n, ..]` seen along `dim` is `outer * inner` lines of `n` elements,
//! numbered in the row-major order of the reduced shape (the shape with `dim` set to 1), which
//! is also the order burn returns reduced values and indices in. Each line is processed by one
//! task with a fixed algorithm, so splitting lines between threads never changes a result.

use gse::{Dyadic, GseBlocks, GseFormat, Mantissas, Rounding, SCALE_BIAS, SpecialCounts};
use rayon::prelude::*;

use crate::layout::Layout;
use crate::produce::{produce, quantize_run, with_scratch};
use crate::tensor::GseTensor;

/// Elements per parallel run of output, as in [`produce`].
const RUN_ELEMENTS: usize = 8192;

/// Where the lines of a tensor along one axis are in its storage.
pub(crate) struct Lines {
    /// Elements per line.
    pub len: usize,
    /// Storage stride along the line (negative for flipped, 0 for expanded axes).
    pub stride: isize,
    /// Storage index of each line's first element.
    bases: Vec<usize>,
}

impl Lines {
    /// The lines of `x` along `dim`; `op` names the calling op in the panic message for an
    /// out-of-range `dim` (burn validates dims before calling a backend).
    pub fn new(x: &GseTensor, dim: usize, op: &str) -> Self {
        let layout = x.layout();
        let rank = layout.rank();
        assert!(
            dim < rank,
            "{op}: dim {dim} is out of range for a tensor of rank {rank}"
        );
        let mut shape = layout.shape().to_vec();
        let len = shape[dim];
        shape[dim] = 1;
        let reduced = Layout::new(shape, layout.strides().to_vec(), layout.offset());
        let mut bases = vec![0; reduced.num_elements()];
        if len > 0 {
            reduced.fill_indices(0, &mut bases);
        }
        Self {
            len,
            stride: layout.strides()[dim],
            bases,
        }
    }

    /// All of `x` as lines along its last axis (any order of elements will do for the caller).
    pub fn all(x: &GseTensor, op: &str) -> Self {
        if x.rank() == 0 {
            panic!("{op}: tensor of rank 0");
        }
        match x.layout().contiguous_range() {
            Some(range) => Self {
                len: range.len(),
                stride: 1,
                bases: vec![range.start],
            },
            None => Self::new(x, x.rank() - 1, op),
        }
    }

    /// Number of lines.
    pub fn count(&self) -> usize {
        self.bases.len()
    }

    /// Storage index of element `k` of line `line`.
    #[inline]
    pub fn position(&self, line: usize, k: usize) -> usize {
        (self.bases[line] as isize + k as isize * self.stride) as usize
    }

    /// Calls `f(mantissa, lsb)` for elements `range` of line `line`, in order.
    #[inline]
    pub fn visit<F: FnMut(i32, i32)>(
        &self,
        blocks: &GseBlocks,
        line: usize,
        range: core::ops::Range<usize>,
        f: F,
    ) {
        if range.is_empty() {
            return;
        }
        let base = self.position(line, range.start);
        visit(blocks, base, self.stride, range.len(), f);
    }

    /// Line `line` into `mants` and `lsbs` (resized to the line's length).
    pub fn read(&self, blocks: &GseBlocks, line: usize, mants: &mut Vec<i32>, lsbs: &mut Vec<i32>) {
        mants.clear();
        lsbs.clear();
        self.visit(blocks, line, 0..self.len, |m, e| {
            mants.push(m);
            lsbs.push(e);
        });
    }

    /// Line `line` as dyadics into `out` (resized to the line's length).
    pub fn read_dyadics(&self, blocks: &GseBlocks, line: usize, out: &mut Vec<Dyadic>) {
        out.clear();
        self.visit(blocks, line, 0..self.len, |m, e| {
            out.push(Dyadic::new(m as i64, e))
        });
    }
}

/// Calls `f(mantissa, lsb)` for the `n` storage elements `base, base + stride, ...`, with the
/// container dispatch hoisted out of the loop.
#[inline]
pub(crate) fn visit<F: FnMut(i32, i32)>(
    blocks: &GseBlocks,
    base: usize,
    stride: isize,
    n: usize,
    mut f: F,
) {
    let format = blocks.format();
    let lsb_offset = SCALE_BIAS + format.magnitude_bits() as i32;
    let group_log2 = format.group_log2();
    let scales = blocks.scale_bytes();
    let lsb = |p: usize| scales[p >> group_log2] as i32 - lsb_offset;
    match blocks.mantissas() {
        Mantissas::I8(v) => walk(v, base, stride, n, |p, m| f(m as i32, lsb(p))),
        Mantissas::I16(v) => walk(v, base, stride, n, |p, m| f(m as i32, lsb(p))),
        Mantissas::I32(v) => walk(v, base, stride, n, |p, m| f(m, lsb(p))),
        Mantissas::Nibble(_) => {
            for k in 0..n {
                let p = (base as isize + k as isize * stride) as usize;
                f(blocks.mantissa(p), lsb(p));
            }
        }
    }
}

/// Calls `g(position, value)` for `n` elements of `v` from `base` by `stride`.
#[inline(always)]
fn walk<T: Copy, G: FnMut(usize, T)>(v: &[T], base: usize, stride: isize, n: usize, mut g: G) {
    if stride == 1 {
        for (k, &m) in v[base..base + n].iter().enumerate() {
            g(base + k, m);
        }
    } else {
        let mut p = base as isize;
        for _ in 0..n {
            g(p as usize, v[p as usize]);
            p += stride;
        }
    }
}

/// The shape `shape` with axis `dim` set to `size`.
pub(crate) fn with_dim(shape: &[usize], dim: usize, size: usize) -> Vec<usize> {
    let mut out = shape.to_vec();
    out[dim] = size;
    out
}

/// A contiguous tensor of `shape` holding `values` (row-major), rounded to `format`.
pub(crate) fn from_values(
    shape: &[usize],
    values: &[Dyadic],
    format: GseFormat,
    rounding: Rounding,
) -> GseTensor {
    debug_assert_eq!(values.len(), shape.iter().product::<usize>());
    produce(shape, format, rounding, |start, out| {
        out.copy_from_slice(&values[start..start + out.len()]);
    })
}

/// Builds a contiguous tensor of `shape` whose lines along `dim` are written by
/// `fill(line, out)` (line numbering of [`Lines`]). `fill` is cloned per worker, so it may own
/// scratch buffers.
pub(crate) fn produce_lines<F>(
    shape: &[usize],
    dim: usize,
    format: GseFormat,
    rounding: Rounding,
    fill: F,
) -> GseTensor
where
    F: FnMut(usize, &mut [Dyadic]) + Clone + Send + Sync,
{
    let total: usize = shape.iter().product();
    let n = shape[dim];
    if total == 0 {
        return GseTensor::from_blocks(GseBlocks::zeros(format, 0), shape);
    }
    let inner: usize = shape[dim + 1..].iter().product();
    if inner == 1 {
        produce_rows(shape, n, format, rounding, fill)
    } else {
        produce_transposed(shape, n, inner, format, rounding, fill)
    }
}

/// Lines are contiguous rows of the output: runs of whole rows and whole groups are filled
/// and quantized in parallel, each row computed exactly once.
fn produce_rows<F>(
    shape: &[usize],
    n: usize,
    format: GseFormat,
    rounding: Rounding,
    fill: F,
) -> GseTensor
where
    F: FnMut(usize, &mut [Dyadic]) + Clone + Send + Sync,
{
    let total: usize = shape.iter().product();
    let gs = format.group_size();
    // A run must hold whole rows and whole groups (and an even count of nibbles).
    let mut unit = lcm(n, gs);
    if format.container() == gse::Container::Nibble {
        unit = lcm(unit, 2);
    }
    let run_elements = unit * (RUN_ELEMENTS / unit).max(1);
    let mut blocks = GseBlocks::zeros(format, total);
    let saturated: u64 = blocks
        .runs_mut(run_elements / gs)
        .into_par_iter()
        .map_with(fill, |fill, mut run| {
            with_scratch(|scratch| {
                let first = run.first_element();
                scratch.values.resize(run.len(), Dyadic::ZERO);
                for (r, row) in scratch.values.chunks_mut(n).enumerate() {
                    fill(first / n + r, row);
                }
                quantize_run(&mut run, scratch, format, rounding)
            })
        })
        .sum();
    record_saturated(saturated);
    GseTensor::from_blocks(blocks, shape)
}

/// Lines are strided in the output: they are computed into a line-major scratch buffer, then
/// gathered into row-major order while quantizing.
fn produce_transposed<F>(
    shape: &[usize],
    n: usize,
    inner: usize,
    format: GseFormat,
    rounding: Rounding,
    fill: F,
) -> GseTensor
where
    F: FnMut(usize, &mut [Dyadic]) + Clone + Send + Sync,
{
    let total: usize = shape.iter().product();
    let mut scratch = vec![Dyadic::ZERO; total];
    scratch
        .par_chunks_mut(n)
        .enumerate()
        .for_each_with(fill, |fill, (line, out)| fill(line, out));
    let scratch = &scratch;
    produce(shape, format, rounding, move |start, out| {
        for (j, o) in (start..).zip(out.iter_mut()) {
            let (rest, i) = (j / inner, j % inner);
            let (outer, k) = (rest / n, rest % n);
            *o = scratch[(outer * inner + i) * n + k];
        }
    })
}

/// Values in row-major order of `shape` from a buffer holding the lines along `dim`
/// line-major (each line contiguous); used for index outputs.
pub(crate) fn lines_to_row_major<T: Copy + Send + Sync>(
    shape: &[usize],
    dim: usize,
    line_major: Vec<T>,
) -> Vec<T> {
    let inner: usize = shape[dim + 1..].iter().product();
    if inner == 1 {
        return line_major;
    }
    let n = shape[dim];
    (0..line_major.len())
        .into_par_iter()
        .map(|j| {
            let (rest, i) = (j / inner, j % inner);
            let (outer, k) = (rest / n, rest % n);
            line_major[(outer * inner + i) * n + k]
        })
        .collect()
}

pub(crate) fn record_saturated(saturated: u64) {
    if saturated > 0 {
        gse::special::record(SpecialCounts {
            saturated,
            ..SpecialCounts::default()
        });
    }
}

/// Records values whose exact result is NaN (mapped to zero by the special-value policy).
pub(crate) fn record_nan(count: u64) {
    if count > 0 {
        gse::special::record(SpecialCounts {
            nan: count,
            ..SpecialCounts::default()
        });
    }
}

const fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

const fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b) * b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::AxisSlice;

    fn iota(shape: &[usize]) -> GseTensor {
        crate::generate(shape, GseFormat::EXACT, Rounding::NearestEven, |i| {
            Dyadic::from_int(i as i64)
        })
    }

    fn line_ints(x: &GseTensor, lines: &Lines, line: usize) -> Vec<i64> {
        let mut out = Vec::new();
        lines.read_dyadics(x.blocks(), line, &mut out);
        out.iter().map(|d| d.round_at(0)).collect()
    }

    #[test]
    fn lines_follow_the_reduced_shape_order() {
        let x = iota(&[2, 3, 4]);
        let lines = Lines::new(&x, 1, "test");
        assert_eq!(lines.count(), 8);
        assert_eq!(line_ints(&x, &lines, 0), [0, 4, 8]);
        assert_eq!(line_ints(&x, &lines, 5), [13, 17, 21]);
        let t = x.swap_dims(0, 2); // shape [4, 3, 2]
        let lines = Lines::new(&t, 2, "test");
        assert_eq!(line_ints(&t, &lines, 1), [4, 16]);
        let f = x.flip(&[2]).slice(&[AxisSlice {
            start: 1,
            end: 2,
            step: 1,
        }]);
        let lines = Lines::new(&f, 2, "test");
        assert_eq!(line_ints(&f, &lines, 2), [23, 22, 21, 20]);
    }

    #[test]
    fn produce_lines_writes_rows_and_columns() {
        for dim in 0..3 {
            let shape = [3, 5, 7];
            let y = produce_lines(
                &shape,
                dim,
                GseFormat::INT8,
                Rounding::NearestEven,
                |line, out| {
                    for (k, o) in out.iter_mut().enumerate() {
                        *o = Dyadic::from_int((line * 10 + k) as i64);
                    }
                },
            );
            let vals = y.to_dyadics();
            let lines = Lines::new(&y, dim, "test");
            for l in 0..lines.count() {
                for k in 0..shape[dim] {
                    let p = lines.position(l, k);
                    assert_eq!(vals[p], y.storage_value(p));
                    let expect = Dyadic::from_int((l * 10 + k) as i64);
                    // INT8 groups of 32 may round; the value must be within half a quantum.
                    let q = y.blocks().lsb_of(p);
                    let err = vals[p].sub(expect).abs();
                    assert!(err.top() <= q, "dim {dim} line {l} k {k}");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "sum_dim: dim 3 is out of range")]
    fn bad_dim_names_the_op() {
        Lines::new(&iota(&[2, 2]), 3, "sum_dim");
    }
}
