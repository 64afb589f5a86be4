//! Reductions, scans, sorting and comparisons: burn's signatures over `gse-kernels`.

use burn_std::{BoolDType, IntDType, Shape};
use gse::Dyadic;
use gse_kernels::{self as k, Comparison};

use crate::convert::{bool_tensor, int_tensor};
use crate::{GsqBoolTensor, GsqIntTensor, GsqTensor};

fn reduced_shape(t: &GsqTensor, dim: usize) -> Shape {
    let mut dims = t.dims().to_vec();
    dims[dim] = 1;
    Shape::from(dims)
}

pub(crate) fn along(
    t: GsqTensor,
    dim: usize,
    kernel: fn(&k::GseTensor, usize, gse::GseFormat, gse::Rounding) -> k::GseTensor,
) -> GsqTensor {
    let (format, rounding) = t.out();
    let r = kernel(&t.tensor, dim, format, rounding);
    t.derive(r)
}

pub(crate) fn all(
    t: GsqTensor,
    kernel: fn(&k::GseTensor, gse::GseFormat, gse::Rounding) -> k::GseTensor,
) -> GsqTensor {
    let (format, rounding) = t.out();
    let r = kernel(&t.tensor, format, rounding);
    t.derive(r)
}

pub(crate) fn arg(
    t: GsqTensor,
    dim: usize,
    dtype: IntDType,
    kernel: fn(&k::GseTensor, usize) -> Vec<i64>,
) -> GsqIntTensor {
    let shape = reduced_shape(&t, dim);
    GsqIntTensor::new(int_tensor(kernel(&t.tensor, dim), shape, dtype), t.device)
}

/// A kernel returning values and their indices along a dim.
type WithIndicesKernel =
    fn(&k::GseTensor, usize, gse::GseFormat, gse::Rounding) -> (k::GseTensor, Vec<i64>);

pub(crate) fn with_indices(
    t: GsqTensor,
    dim: usize,
    dtype: IntDType,
    kernel: WithIndicesKernel,
) -> (GsqTensor, GsqIntTensor) {
    let (format, rounding) = t.out();
    let shape = reduced_shape(&t, dim);
    let (values, indices) = kernel(&t.tensor, dim, format, rounding);
    let indices = GsqIntTensor::new(int_tensor(indices, shape, dtype), t.device);
    (t.derive(values), indices)
}

pub(crate) fn sort(t: GsqTensor, dim: usize, descending: bool) -> GsqTensor {
    let (format, rounding) = t.out();
    let r = k::sort(&t.tensor, dim, descending, format, rounding);
    t.derive(r)
}

pub(crate) fn sort_with_indices(
    t: GsqTensor,
    dim: usize,
    descending: bool,
    dtype: IntDType,
) -> (GsqTensor, GsqIntTensor) {
    let (format, rounding) = t.out();
    let shape = Shape::from(t.dims().to_vec());
    let (values, indices) = k::sort_with_indices(&t.tensor, dim, descending, format, rounding);
    let indices = GsqIntTensor::new(int_tensor(indices, shape, dtype), t.device);
    (t.derive(values), indices)
}

pub(crate) fn argsort(t: GsqTensor, dim: usize, descending: bool, dtype: IntDType) -> GsqIntTensor {
    let shape = Shape::from(t.dims().to_vec());
    let indices = int_tensor(k::argsort(&t.tensor, dim, descending), shape, dtype);
    GsqIntTensor::new(indices, t.device)
}

pub(crate) fn topk(t: GsqTensor, dim: usize, count: usize) -> (GsqTensor, Vec<i64>, Shape) {
    let (format, rounding) = t.out();
    let mut dims = t.dims().to_vec();
    dims[dim] = count.min(dims[dim]);
    let (values, indices) = k::topk(&t.tensor, dim, count, format, rounding);
    (t.derive(values), indices, Shape::from(dims))
}

pub(crate) fn compare(
    a: GsqTensor,
    b: GsqTensor,
    cmp: Comparison,
    dtype: BoolDType,
) -> GsqBoolTensor {
    let (dims, values) = k::compare(&a.tensor, &b.tensor, cmp)
        .unwrap_or_else(|e| panic!("burn-gsq: comparison: {e}"));
    GsqBoolTensor::new(bool_tensor(values, Shape::from(dims), dtype), a.device)
}

pub(crate) fn compare_scalar(
    a: GsqTensor,
    s: Dyadic,
    cmp: Comparison,
    dtype: BoolDType,
) -> GsqBoolTensor {
    let shape = Shape::from(a.dims().to_vec());
    GsqBoolTensor::new(
        bool_tensor(k::compare_scalar(&a.tensor, s, cmp), shape, dtype),
        a.device,
    )
}
