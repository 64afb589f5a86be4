//! 2-D pooling: average (fixed and adaptive windows) and max, with their backward passes.
//!
//! Averages sum their window's values as dyadics (62-bit, rounded to odd, in a fixed order) and
//! divide once; the output is rounded once to the stream format. Maxima compare values exactly.
//! Average windows are separable — a row range times a column range, divided by a row count
//! times a column count, as burn-ndarray counts them — so both directions are described by
//! per-axis [`Window`]s, and the backward passes gather, for each input element, the windows that
//! cover it: every output element is computed on its own, in a fixed order.

use burn_std::{IntDType, Shape};
use gse::Dyadic;
use gse_kernels::generate;
use rayon::prelude::*;

use crate::convert::{int_tensor, int_values, saturated};
use crate::{GsqIntTensor, GsqTensor};

/// An average-pooling window along one axis: input range `start..end` and its divisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    start: usize,
    end: usize,
    count: usize,
}

/// Output length of a pooling window sweep (burn's `calculate_pool_output_size`, checked).
fn pool_out_len(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    ceil_mode: bool,
    op: &str,
) -> usize {
    assert!(
        kernel > 0 && stride > 0 && dilation > 0,
        "burn-gsq {op}: kernel, stride and dilation must be non-zero"
    );
    let span = dilation * (kernel - 1) + 1;
    let padded = input + 2 * padding;
    assert!(
        padded >= span,
        "burn-gsq {op}: the window (extent {span}) is larger than the padded input ({padded})"
    );
    let room = padded - span;
    if ceil_mode {
        room.div_ceil(stride) + 1
    } else {
        room / stride + 1
    }
}

/// Fixed windows of `avg_pool2d` along one axis, `out` of them. Coordinates are taken in the
/// padded input; the divisor counts the window's positions inside the padded input
/// (`count_include_pad`) or inside the input itself. Positions past the padded input, which
/// `ceil_mode` can add, are never counted.
fn fixed_windows(
    input: usize,
    out: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    include_pad: bool,
) -> Vec<Window> {
    (0..out)
        .map(|o| {
            let lo = o * stride;
            let hi = lo + kernel;
            let start = lo.max(padding).min(input + padding) - padding;
            let end = hi
                .min(input + padding)
                .max(lo.max(padding).min(input + padding))
                - padding;
            let padded = hi.min(input + 2 * padding).saturating_sub(lo);
            let count = if include_pad { padded } else { end - start };
            Window { start, end, count }
        })
        .collect()
}

/// Adaptive windows along one axis: `floor(o * in / out) .. ceil((o + 1) * in / out)`.
fn adaptive_windows(input: usize, out: usize) -> Vec<Window> {
    (0..out)
        .map(|o| {
            let start = o * input / out;
            let end = ((o + 1) * input).div_ceil(out);
            Window {
                start,
                end,
                count: end - start,
            }
        })
        .collect()
}

/// For each input index, the windows (by output index, ascending) that cover it.
fn covering(windows: &[Window], input: usize) -> Vec<Vec<usize>> {
    let mut lists = vec![Vec::new(); input];
    for (o, w) in windows.iter().enumerate() {
        for list in &mut lists[w.start..w.end] {
            list.push(o);
        }
    }
    lists
}

/// `[B, C, H, W]` of a pooling input.
fn dims4(t: &GsqTensor, op: &str, what: &str) -> [usize; 4] {
    let d = t.dims();
    assert!(
        d.len() == 4,
        "burn-gsq {op}: {what} must be [batch, channels, height, width], got {d:?}"
    );
    [d[0], d[1], d[2], d[3]]
}

/// `sum / count` with `count` at least 1 (windows entirely outside the input average to 0).
#[inline]
fn average(sum: Dyadic, count: usize) -> Dyadic {
    sum.div(Dyadic::from_int(count.max(1) as i64))
        .unwrap_or(Dyadic::ZERO)
}

/// Forward average pooling over separable windows.
fn average_pool(x: &GsqTensor, rows: &[Window], cols: &[Window]) -> GsqTensor {
    let [b, c, h, w] = dims4(x, "avg_pool2d", "input");
    let values = x.values();
    let (oh, ow) = (rows.len(), cols.len());
    let value = |i: usize| {
        let plane = i / (oh * ow);
        let (r, q) = (rows[(i / ow) % oh], cols[i % ow]);
        let base = plane * h * w;
        let mut sum = Dyadic::ZERO;
        for y in r.start..r.end {
            for v in &values[base + y * w + q.start..base + y * w + q.end] {
                sum = sum.add(*v);
            }
        }
        average(sum, r.count * q.count)
    };
    let (fmt, rounding) = x.out();
    x.derive(generate(&[b, c, oh, ow], fmt, rounding, value))
}

/// Backward of [`average_pool`]: each input element gathers `grad / count` of the windows
/// covering it.
fn average_pool_backward(
    x: &GsqTensor,
    grad: &GsqTensor,
    rows: &[Window],
    cols: &[Window],
    op: &str,
) -> GsqTensor {
    let [b, c, h, w] = dims4(x, op, "input");
    let [gb, gc, oh, ow] = dims4(grad, op, "grad");
    assert!(
        (gb, gc, oh, ow) == (b, c, rows.len(), cols.len()),
        "burn-gsq {op}: grad {:?} does not match the pooling of {:?}",
        grad.dims(),
        x.dims()
    );
    // Each output's share, divided once; the gather below only adds.
    let g = grad.values();
    let shares: Vec<Dyadic> = g
        .par_iter()
        .enumerate()
        .map(|(i, v)| average(*v, rows[(i / ow) % oh].count * cols[i % ow].count))
        .collect();
    let (by_row, by_col) = (covering(rows, h), covering(cols, w));
    let value = |i: usize| {
        let plane = i / (h * w);
        let base = plane * oh * ow;
        let mut sum = Dyadic::ZERO;
        for &r in &by_row[(i / w) % h] {
            for &q in &by_col[i % w] {
                sum = sum.add(shares[base + r * ow + q]);
            }
        }
        sum
    };
    let (fmt, rounding) = grad.out();
    x.derive(generate(&[b, c, h, w], fmt, rounding, value))
}

/// The fixed windows of an `avg_pool2d` call on an input of spatial size `hw`, as
/// `(rows, columns)`; `flags` is `(count_include_pad, ceil_mode)`.
fn avg_windows(
    hw: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    flags: (bool, bool),
    op: &str,
) -> (Vec<Window>, Vec<Window>) {
    let (include_pad, ceil_mode) = flags;
    let axis = |a: usize| {
        let out = pool_out_len(hw[a], kernel[a], stride[a], padding[a], 1, ceil_mode, op);
        fixed_windows(hw[a], out, kernel[a], stride[a], padding[a], include_pad)
    };
    (axis(0), axis(1))
}

pub(crate) fn avg_pool2d(
    x: GsqTensor,
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    count_include_pad: bool,
    ceil_mode: bool,
) -> GsqTensor {
    let [_, _, h, w] = dims4(&x, "avg_pool2d", "input");
    let flags = (count_include_pad, ceil_mode);
    let (rows, cols) = avg_windows([h, w], kernel_size, stride, padding, flags, "avg_pool2d");
    average_pool(&x, &rows, &cols)
}

pub(crate) fn avg_pool2d_backward(
    x: GsqTensor,
    grad: GsqTensor,
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    count_include_pad: bool,
    ceil_mode: bool,
) -> GsqTensor {
    let op = "avg_pool2d_backward";
    let [_, _, h, w] = dims4(&x, op, "input");
    let flags = (count_include_pad, ceil_mode);
    let (rows, cols) = avg_windows([h, w], kernel_size, stride, padding, flags, op);
    average_pool_backward(&x, &grad, &rows, &cols, op)
}

pub(crate) fn adaptive_avg_pool2d(x: GsqTensor, output_size: [usize; 2]) -> GsqTensor {
    let [_, _, h, w] = dims4(&x, "adaptive_avg_pool2d", "input");
    assert!(
        output_size[0] > 0 && output_size[1] > 0,
        "burn-gsq adaptive_avg_pool2d: output size must be non-zero, got {output_size:?}"
    );
    average_pool(
        &x,
        &adaptive_windows(h, output_size[0]),
        &adaptive_windows(w, output_size[1]),
    )
}

pub(crate) fn adaptive_avg_pool2d_backward(x: GsqTensor, grad: GsqTensor) -> GsqTensor {
    let op = "adaptive_avg_pool2d_backward";
    let [_, _, h, w] = dims4(&x, op, "input");
    let [_, _, oh, ow] = dims4(&grad, op, "grad");
    average_pool_backward(
        &x,
        &grad,
        &adaptive_windows(h, oh),
        &adaptive_windows(w, ow),
        op,
    )
}

/// Max pooling's output values and, per output, the flat `y * W + x` index of the chosen input
/// within its plane (`-1` for a window with no input position, whose value is the most
/// negative one the format holds).
fn max_pool(
    x: &GsqTensor,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil_mode: bool,
    op: &str,
) -> (GsqTensor, Vec<i64>) {
    let [b, c, h, w] = dims4(x, op, "input");
    let oh = pool_out_len(
        h,
        kernel[0],
        stride[0],
        padding[0],
        dilation[0],
        ceil_mode,
        op,
    );
    let ow = pool_out_len(
        w,
        kernel[1],
        stride[1],
        padding[1],
        dilation[1],
        ceil_mode,
        op,
    );
    let taps = |o: usize, axis: usize, size: usize| {
        (0..kernel[axis]).filter_map(move |k| {
            (o * stride[axis] + k * dilation[axis])
                .checked_sub(padding[axis])
                .filter(|&i| i < size)
        })
    };
    let values = x.values();
    // The first strictly greater value wins, scanning rows then columns, as burn's backends do.
    let argmax = |i: usize| -> Option<usize> {
        let base = (i / (oh * ow)) * h * w;
        let mut best: Option<usize> = None;
        for y in taps((i / ow) % oh, 0, h) {
            for q in taps(i % ow, 1, w) {
                let at = y * w + q;
                let better =
                    best.is_none_or(|m| values[base + at].cmp_value(values[base + m]).is_gt());
                if better {
                    best = Some(at);
                }
            }
        }
        best
    };
    let indices: Vec<i64> = (0..b * c * oh * ow)
        .into_par_iter()
        .map(|i| argmax(i).map_or(-1, |at| at as i64))
        .collect();
    let value = |i: usize| match indices[i] {
        -1 => saturated(true),
        at => values[(i / (oh * ow)) * h * w + at as usize],
    };
    let (fmt, rounding) = x.out();
    let out = x.derive(generate(&[b, c, oh, ow], fmt, rounding, value));
    (out, indices)
}

pub(crate) fn max_pool2d(
    x: GsqTensor,
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil_mode: bool,
) -> GsqTensor {
    max_pool(
        &x,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
        "max_pool2d",
    )
    .0
}

/// Output and indices (an `I64` burn-flex tensor, like burn-flex's; flat `y * W + x` within
/// each plane). The lead wraps them in `MaxPool2dWithIndices::new`.
pub(crate) fn max_pool2d_with_indices(
    x: GsqTensor,
    kernel_size: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil_mode: bool,
) -> (GsqTensor, GsqIntTensor) {
    let (out, indices) = max_pool(
        &x,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
        "max_pool2d_with_indices",
    );
    let shape = Shape::from(out.dims().to_vec());
    let indices = GsqIntTensor::new(int_tensor(indices, shape, IntDType::I64), x.device);
    (out, indices)
}

/// The input gradient: each output gradient is added to the input element its index names
/// (negative indices, windows without input, are skipped). The lead wraps it in
/// `MaxPool2dBackward::new`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn max_pool2d_with_indices_backward(
    x: GsqTensor,
    _kernel_size: [usize; 2],
    _stride: [usize; 2],
    _padding: [usize; 2],
    _dilation: [usize; 2],
    _ceil_mode: bool,
    output_grad: GsqTensor,
    indices: GsqIntTensor,
) -> GsqTensor {
    let op = "max_pool2d_with_indices_backward";
    let [b, c, h, w] = dims4(&x, op, "input");
    let [gb, gc, oh, ow] = dims4(&output_grad, op, "output_grad");
    assert!(
        (gb, gc) == (b, c),
        "burn-gsq {op}: output_grad {:?} does not match input {:?}",
        output_grad.dims(),
        x.dims()
    );
    let indices = int_values(indices.flex);
    assert!(
        indices.len() == b * c * oh * ow,
        "burn-gsq {op}: {} indices for an output of shape {:?}",
        indices.len(),
        output_grad.dims()
    );
    let g = output_grad.values();
    let plane_in = h * w;
    let mut sums = vec![Dyadic::ZERO; b * c * plane_in];
    // One plane per task; within a plane, outputs are added in order, so sums are deterministic.
    if plane_in > 0 {
        sums.par_chunks_mut(plane_in)
            .enumerate()
            .for_each(|(plane, dst)| {
                let range = plane * oh * ow..(plane + 1) * oh * ow;
                for (&at, &v) in indices[range.clone()].iter().zip(&g[range]) {
                    if at < 0 {
                        continue;
                    }
                    assert!(
                        (at as usize) < plane_in,
                        "burn-gsq {op}: index {at} is outside the {h}x{w} input plane"
                    );
                    dst[at as usize] = dst[at as usize].add(v);
                }
            });
    }
    let (fmt, rounding) = output_grad.out();
    x.derive(generate(&[b, c, h, w], fmt, rounding, |i| sums[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_windows_count_like_ndarray() {
        // input 5, kernel 3, stride 2, padding 1: windows over padded [-1, 6).
        let w = fixed_windows(5, 3, 3, 2, 1, true);
        assert_eq!(
            w[0],
            Window {
                start: 0,
                end: 2,
                count: 3
            }
        );
        assert_eq!(
            w[2],
            Window {
                start: 3,
                end: 5,
                count: 3
            }
        );
        let w = fixed_windows(5, 3, 3, 2, 1, false);
        assert_eq!(w[0].count, 2);
        // ceil mode: input 5, kernel 2, stride 2: last window [4, 6) has one position.
        let w = fixed_windows(5, 3, 2, 2, 0, true);
        assert_eq!(
            w[2],
            Window {
                start: 4,
                end: 5,
                count: 1
            }
        );
    }

    #[test]
    fn adaptive_windows_overlap_when_needed() {
        let w = adaptive_windows(5, 3);
        assert_eq!(
            w.iter().map(|w| (w.start, w.end)).collect::<Vec<_>>(),
            [(0, 2), (1, 4), (3, 5)]
        );
    }
}
