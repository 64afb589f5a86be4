//! Zero-copy views (reshape of contiguous data, permute, flip, slice, expand, unfold) and cat.

use burn_std::{Shape, Slice};
use gse_kernels::{AxisSlice, Layout};

use crate::GsqTensor;

fn to_axis_slices(dims: &[usize], slices: &[Slice]) -> Vec<AxisSlice> {
    slices
        .iter()
        .zip(dims)
        .map(|(s, &dim)| {
            let range = s.to_range(dim);
            AxisSlice {
                start: range.start,
                end: range.end,
                step: s.step,
            }
        })
        .collect()
}

pub(crate) fn slice(t: GsqTensor, slices: &[Slice]) -> GsqTensor {
    let s = to_axis_slices(t.dims(), slices);
    let v = t.tensor.slice(&s);
    t.derive(v)
}

pub(crate) fn reshape(t: GsqTensor, shape: Shape) -> GsqTensor {
    let dims: Vec<usize> = shape.iter().copied().collect();
    let v = t.tensor.reshape(&dims);
    t.derive(v)
}

pub(crate) fn expand(t: GsqTensor, shape: Shape) -> GsqTensor {
    let dims: Vec<usize> = shape.iter().copied().collect();
    let v = t.tensor.expand(&dims);
    t.derive(v)
}

/// Sliding windows of `size` every `step` along `dim`, as a new last axis; a view.
pub(crate) fn unfold(t: GsqTensor, dim: usize, size: usize, step: usize) -> GsqTensor {
    let layout = t.tensor.layout();
    let mut shape = layout.shape().to_vec();
    let mut strides = layout.strides().to_vec();
    let len = shape[dim];
    let windows = if len >= size {
        (len - size) / step + 1
    } else {
        0
    };
    let along = strides[dim];
    shape[dim] = windows;
    strides[dim] = along * step as isize;
    shape.push(size);
    strides.push(along);
    let view = gse_kernels::GseTensor::new(
        t.tensor.blocks().clone(),
        Layout::new(shape, strides, layout.offset()),
    );
    t.derive(view)
}

/// Concatenation along `dim`: one pass writing every input's values once.
pub(crate) fn cat(tensors: Vec<GsqTensor>, dim: usize) -> GsqTensor {
    let first = tensors[0].clone();
    let mut shape = first.dims().to_vec();
    shape[dim] = tensors.iter().map(|t| t.dims()[dim]).sum();
    let inner: usize = shape[dim + 1..].iter().product();
    let parts: Vec<(usize, Vec<usize>, &GsqTensor)> = tensors
        .iter()
        .map(|t| {
            let mut idx = vec![0usize; t.tensor.num_elements()];
            t.tensor.layout().fill_indices(0, &mut idx);
            (t.dims()[dim] * inner, idx, t)
        })
        .collect();
    let row: usize = shape[dim] * inner;
    let (format, rounding) = first.out();
    let out = gse_kernels::generate(&shape, format, rounding, |i| {
        let (outer, mut within) = (i / row, i % row);
        for (width, idx, t) in &parts {
            if within < *width {
                return t.tensor.storage_value(idx[outer * width + within]);
            }
            within -= width;
        }
        unreachable!("cat: index past the concatenated row")
    });
    first.derive(out)
}
