//! `FloatTensorOps` for `Gsq`: one line per method, the work is in the family modules.

use burn_backend::ops::FloatTensorOps;
use burn_backend::tensor::{BoolTensor, Device, FloatTensor, IndexingUpdateOp, IntTensor};
use burn_backend::{Distribution, ExecutionError, Scalar, TensorData};
use burn_std::{BoolDType, FloatDType, IntDType, Shape, Slice};
use gse::Dyadic;
use gse_kernels::{self as k, Comparison};

use super::math::{binary, binary_math, div, unary, unary_math};
use super::{creation, index, matmul, random, reduce, shape};
use crate::convert::{bool_tensor, int_tensor, scalar_to_dyadic};
use crate::{Gsq, GsqTensor};

fn scalar(t: &GsqTensor, s: Scalar) -> Dyadic {
    scalar_to_dyadic(s, t.policy().special)
}

impl FloatTensorOps<Gsq> for Gsq {
    fn float_from_data(data: TensorData, device: &Device<Gsq>) -> FloatTensor<Gsq> {
        creation::from_data(data, device)
    }

    fn float_random(
        shape: Shape,
        distribution: Distribution,
        device: &Device<Gsq>,
        dtype: FloatDType,
    ) -> FloatTensor<Gsq> {
        random::random(shape, distribution, device, dtype)
    }

    fn float_zeros(shape: Shape, device: &Device<Gsq>, dtype: FloatDType) -> FloatTensor<Gsq> {
        creation::full(shape, Scalar::Int(0), device, dtype)
    }

    fn float_ones(shape: Shape, device: &Device<Gsq>, dtype: FloatDType) -> FloatTensor<Gsq> {
        creation::full(shape, Scalar::Int(1), device, dtype)
    }

    fn float_full(
        shape: Shape,
        fill_value: Scalar,
        device: &Device<Gsq>,
        dtype: FloatDType,
    ) -> FloatTensor<Gsq> {
        creation::full(shape, fill_value, device, dtype)
    }

    async fn float_into_data(tensor: FloatTensor<Gsq>) -> Result<TensorData, ExecutionError> {
        Ok(creation::into_data(tensor))
    }

    fn float_device(tensor: &FloatTensor<Gsq>) -> Device<Gsq> {
        tensor.device
    }

    fn float_to_device(tensor: FloatTensor<Gsq>, device: &Device<Gsq>) -> FloatTensor<Gsq> {
        GsqTensor {
            device: *device,
            ..tensor
        }
    }

    fn float_into_int(tensor: FloatTensor<Gsq>, out_dtype: IntDType) -> IntTensor<Gsq> {
        creation::into_int(tensor, out_dtype)
    }

    fn float_empty(shape: Shape, device: &Device<Gsq>, dtype: FloatDType) -> FloatTensor<Gsq> {
        creation::full(shape, Scalar::Int(0), device, dtype)
    }

    fn float_add(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary(lhs, rhs, Dyadic::add)
    }

    fn float_add_scalar(lhs: FloatTensor<Gsq>, rhs: Scalar) -> FloatTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        unary(lhs, move |x| x.add(s))
    }

    fn float_clamp_min(tensor: FloatTensor<Gsq>, min: Scalar) -> FloatTensor<Gsq> {
        let m = scalar(&tensor, min);
        unary(tensor, move |x| super::math::max(x, m))
    }

    fn float_clamp_max(tensor: FloatTensor<Gsq>, max: Scalar) -> FloatTensor<Gsq> {
        let m = scalar(&tensor, max);
        unary(tensor, move |x| super::math::min(x, m))
    }

    fn float_clamp(tensor: FloatTensor<Gsq>, min: Scalar, max: Scalar) -> FloatTensor<Gsq> {
        let (lo, hi) = (scalar(&tensor, min), scalar(&tensor, max));
        unary(tensor, move |x| {
            super::math::min(super::math::max(x, lo), hi)
        })
    }

    fn float_sub(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary(lhs, rhs, Dyadic::sub)
    }

    fn float_sub_scalar(lhs: FloatTensor<Gsq>, rhs: Scalar) -> FloatTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        unary(lhs, move |x| x.sub(s))
    }

    fn float_mul(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary(lhs, rhs, Dyadic::mul)
    }

    fn float_mul_scalar(lhs: FloatTensor<Gsq>, rhs: Scalar) -> FloatTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        unary(lhs, move |x| x.mul(s))
    }

    fn float_div(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary(lhs, rhs, div)
    }

    fn float_div_scalar(lhs: FloatTensor<Gsq>, rhs: Scalar) -> FloatTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        unary(lhs, move |x| div(x, s))
    }

    fn float_remainder(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary_math(lhs, rhs, gse_math::remainder)
    }

    fn float_remainder_scalar(lhs: FloatTensor<Gsq>, rhs: Scalar) -> FloatTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        unary(lhs, move |x| {
            super::math::resolve(gse_math::remainder(x, s))
        })
    }

    fn float_matmul(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        matmul::matmul(lhs, rhs)
    }

    fn float_cross(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        super::cross::cross(lhs, rhs, dim)
    }

    fn float_neg(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, Dyadic::neg)
    }

    fn float_recip(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::recip)
    }

    fn float_swap_dims(tensor: FloatTensor<Gsq>, dim1: usize, dim2: usize) -> FloatTensor<Gsq> {
        let v = tensor.tensor.swap_dims(dim1, dim2);
        tensor.derive(v)
    }

    fn float_permute(tensor: FloatTensor<Gsq>, axes: &[usize]) -> FloatTensor<Gsq> {
        let v = tensor.tensor.permute(axes);
        tensor.derive(v)
    }

    fn float_flip(tensor: FloatTensor<Gsq>, axes: &[usize]) -> FloatTensor<Gsq> {
        let v = tensor.tensor.flip(axes);
        tensor.derive(v)
    }

    fn float_reshape(tensor: FloatTensor<Gsq>, shape: Shape) -> FloatTensor<Gsq> {
        shape::reshape(tensor, shape)
    }

    fn float_gather(
        dim: usize,
        tensor: FloatTensor<Gsq>,
        indices: IntTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        index::gather(dim, tensor, indices.flex)
    }

    fn float_scatter_add(
        dim: usize,
        tensor: FloatTensor<Gsq>,
        indices: IntTensor<Gsq>,
        value: FloatTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        index::scatter_add(dim, tensor, indices.flex, value)
    }

    fn float_scatter_nd(
        data: FloatTensor<Gsq>,
        indices: IntTensor<Gsq>,
        values: FloatTensor<Gsq>,
        reduction: IndexingUpdateOp,
    ) -> FloatTensor<Gsq> {
        index::scatter_nd(data, indices.flex, values, reduction)
    }

    fn float_gather_nd(data: FloatTensor<Gsq>, indices: IntTensor<Gsq>) -> FloatTensor<Gsq> {
        index::gather_nd(data, indices.flex)
    }

    fn float_select(
        tensor: FloatTensor<Gsq>,
        dim: usize,
        indices: IntTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        index::select(tensor, dim, indices.flex)
    }

    fn float_select_add(
        tensor: FloatTensor<Gsq>,
        dim: usize,
        indices: IntTensor<Gsq>,
        value: FloatTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        index::select_add(tensor, dim, indices.flex, value)
    }

    fn float_slice(tensor: FloatTensor<Gsq>, slices: &[Slice]) -> FloatTensor<Gsq> {
        shape::slice(tensor, slices)
    }

    fn float_slice_assign(
        tensor: FloatTensor<Gsq>,
        slices: &[Slice],
        value: FloatTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        index::slice_assign(tensor, slices, value)
    }

    fn float_mask_where(
        tensor: FloatTensor<Gsq>,
        mask: BoolTensor<Gsq>,
        value: FloatTensor<Gsq>,
    ) -> FloatTensor<Gsq> {
        index::mask_where(tensor, mask.flex, value)
    }

    fn float_mask_fill(
        tensor: FloatTensor<Gsq>,
        mask: BoolTensor<Gsq>,
        value: Scalar,
    ) -> FloatTensor<Gsq> {
        let v = scalar(&tensor, value);
        index::mask_fill(tensor, mask.flex, v)
    }

    fn float_equal(
        lhs: FloatTensor<Gsq>,
        rhs: FloatTensor<Gsq>,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        reduce::compare(lhs, rhs, Comparison::Eq, out_dtype)
    }

    fn float_not_equal(
        lhs: FloatTensor<Gsq>,
        rhs: FloatTensor<Gsq>,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        reduce::compare(lhs, rhs, Comparison::Ne, out_dtype)
    }

    fn float_equal_elem(
        lhs: FloatTensor<Gsq>,
        rhs: Scalar,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        reduce::compare_scalar(lhs, s, Comparison::Eq, out_dtype)
    }

    fn float_not_equal_elem(
        lhs: FloatTensor<Gsq>,
        rhs: Scalar,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        reduce::compare_scalar(lhs, s, Comparison::Ne, out_dtype)
    }

    fn float_greater(
        lhs: FloatTensor<Gsq>,
        rhs: FloatTensor<Gsq>,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        reduce::compare(lhs, rhs, Comparison::Gt, out_dtype)
    }

    fn float_greater_elem(
        lhs: FloatTensor<Gsq>,
        rhs: Scalar,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        reduce::compare_scalar(lhs, s, Comparison::Gt, out_dtype)
    }

    fn float_greater_equal(
        lhs: FloatTensor<Gsq>,
        rhs: FloatTensor<Gsq>,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        reduce::compare(lhs, rhs, Comparison::Ge, out_dtype)
    }

    fn float_greater_equal_elem(
        lhs: FloatTensor<Gsq>,
        rhs: Scalar,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        reduce::compare_scalar(lhs, s, Comparison::Ge, out_dtype)
    }

    fn float_lower(
        lhs: FloatTensor<Gsq>,
        rhs: FloatTensor<Gsq>,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        reduce::compare(lhs, rhs, Comparison::Lt, out_dtype)
    }

    fn float_lower_elem(
        lhs: FloatTensor<Gsq>,
        rhs: Scalar,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        reduce::compare_scalar(lhs, s, Comparison::Lt, out_dtype)
    }

    fn float_lower_equal(
        lhs: FloatTensor<Gsq>,
        rhs: FloatTensor<Gsq>,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        reduce::compare(lhs, rhs, Comparison::Le, out_dtype)
    }

    fn float_lower_equal_elem(
        lhs: FloatTensor<Gsq>,
        rhs: Scalar,
        out_dtype: BoolDType,
    ) -> BoolTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        reduce::compare_scalar(lhs, s, Comparison::Le, out_dtype)
    }

    fn float_sum(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        reduce::all(tensor, k::sum_all)
    }

    fn float_sum_dim(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::sum_dim)
    }

    fn float_prod(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        reduce::all(tensor, k::prod_all)
    }

    fn float_prod_dim(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::prod_dim)
    }

    fn float_mean(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        reduce::all(tensor, k::mean_all)
    }

    fn float_mean_dim(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::mean_dim)
    }

    fn float_cumsum(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::cumsum)
    }

    fn float_cumprod(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::cumprod)
    }

    fn float_cummin(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::cummin)
    }

    fn float_cummax(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::cummax)
    }

    fn float_cast(tensor: FloatTensor<Gsq>, dtype: FloatDType) -> FloatTensor<Gsq> {
        creation::cast(tensor, dtype)
    }

    fn float_exp(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::exp)
    }

    fn float_log(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::log)
    }

    fn float_log1p(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::log1p)
    }

    fn float_powf(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary_math(lhs, rhs, gse_math::powf)
    }

    fn float_powi(lhs: FloatTensor<Gsq>, rhs: IntTensor<Gsq>) -> FloatTensor<Gsq> {
        let exponent = creation::from_exact_values(rhs.flex, lhs.device, FloatDType::F32);
        binary_math(lhs, exponent, gse_math::powf)
    }

    fn float_powi_scalar_impl(lhs: FloatTensor<Gsq>, rhs: Scalar) -> FloatTensor<Gsq> {
        let s = scalar(&lhs, rhs);
        unary(lhs, move |x| super::math::resolve(gse_math::powf(x, s)))
    }

    fn float_powf_scalar_impl(tensor: FloatTensor<Gsq>, value: Scalar) -> FloatTensor<Gsq> {
        let s = scalar(&tensor, value);
        unary(tensor, move |x| super::math::resolve(gse_math::powf(x, s)))
    }

    fn float_sqrt(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::sqrt)
    }

    fn float_abs(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, Dyadic::abs)
    }

    fn float_cos(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::cos)
    }

    fn float_sin(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::sin)
    }

    fn float_tan(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::tan)
    }

    fn float_cosh(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::cosh)
    }

    fn float_sinh(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::sinh)
    }

    fn float_tanh(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::tanh)
    }

    fn float_acos(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::acos)
    }

    fn float_acosh(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::acosh)
    }

    fn float_asin(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::asin)
    }

    fn float_asinh(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::asinh)
    }

    fn float_atan(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::atan)
    }

    fn float_atanh(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::atanh)
    }

    fn float_atan2(lhs: FloatTensor<Gsq>, rhs: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary_math(lhs, rhs, gse_math::atan2)
    }

    fn float_round(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, gse_math::round_half_even)
    }

    fn float_floor(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, gse_math::floor)
    }

    fn float_ceil(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, gse_math::ceil)
    }

    fn float_trunc(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, gse_math::trunc)
    }

    fn float_erf(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary_math(tensor, gse_math::erf)
    }

    fn float_cat(tensors: Vec<FloatTensor<Gsq>>, dim: usize) -> FloatTensor<Gsq> {
        shape::cat(tensors, dim)
    }

    fn float_argmax(tensor: FloatTensor<Gsq>, dim: usize, out_dtype: IntDType) -> IntTensor<Gsq> {
        reduce::arg(tensor, dim, out_dtype, k::argmax_dim)
    }

    fn float_argtopk(
        tensor: FloatTensor<Gsq>,
        dim: usize,
        k: usize,
        out_dtype: IntDType,
    ) -> IntTensor<Gsq> {
        let device = tensor.device;
        let (_, indices, shape) = reduce::topk(tensor, dim, k);
        crate::GsqIntTensor::new(int_tensor(indices, shape, out_dtype), device)
    }

    fn float_topk(tensor: FloatTensor<Gsq>, dim: usize, k: usize) -> FloatTensor<Gsq> {
        reduce::topk(tensor, dim, k).0
    }

    fn float_argmin(tensor: FloatTensor<Gsq>, dim: usize, out_dtype: IntDType) -> IntTensor<Gsq> {
        reduce::arg(tensor, dim, out_dtype, k::argmin_dim)
    }

    fn float_max(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        reduce::all(tensor, k::max_all)
    }

    fn float_max_dim(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::max_dim)
    }

    fn float_max_dim_with_indices(
        tensor: FloatTensor<Gsq>,
        dim: usize,
        indices_dtype: IntDType,
    ) -> (FloatTensor<Gsq>, IntTensor<Gsq>) {
        reduce::with_indices(tensor, dim, indices_dtype, k::max_dim_with_indices)
    }

    fn float_min(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        reduce::all(tensor, k::min_all)
    }

    fn float_min_dim(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(tensor, dim, k::min_dim)
    }

    fn float_min_dim_with_indices(
        tensor: FloatTensor<Gsq>,
        dim: usize,
        indices_dtype: IntDType,
    ) -> (FloatTensor<Gsq>, IntTensor<Gsq>) {
        reduce::with_indices(tensor, dim, indices_dtype, k::min_dim_with_indices)
    }

    fn float_max_abs(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        reduce::all(unary(tensor, Dyadic::abs), k::max_all)
    }

    fn float_max_abs_dim(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        reduce::along(unary(tensor, Dyadic::abs), dim, k::max_dim)
    }

    fn float_sign(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, super::math::sign)
    }

    fn float_expand(tensor: FloatTensor<Gsq>, shape: Shape) -> FloatTensor<Gsq> {
        shape::expand(tensor, shape)
    }

    fn float_sort(tensor: FloatTensor<Gsq>, dim: usize, descending: bool) -> FloatTensor<Gsq> {
        reduce::sort(tensor, dim, descending)
    }

    fn float_sort_with_indices(
        tensor: FloatTensor<Gsq>,
        dim: usize,
        descending: bool,
        indices_dtype: IntDType,
    ) -> (FloatTensor<Gsq>, IntTensor<Gsq>) {
        reduce::sort_with_indices(tensor, dim, descending, indices_dtype)
    }

    fn float_argsort(
        tensor: FloatTensor<Gsq>,
        dim: usize,
        descending: bool,
        out_dtype: IntDType,
    ) -> IntTensor<Gsq> {
        reduce::argsort(tensor, dim, descending, out_dtype)
    }

    fn float_unfold(
        tensor: FloatTensor<Gsq>,
        dim: usize,
        size: usize,
        step: usize,
    ) -> FloatTensor<Gsq> {
        shape::unfold(tensor, dim, size, step)
    }

    /// GSE has no NaN: NaN input became 0 (see `gse::special`), so nothing is NaN.
    fn float_is_nan(tensor: FloatTensor<Gsq>, out_dtype: BoolDType) -> BoolTensor<Gsq> {
        let shape = Shape::from(tensor.dims().to_vec());
        let flags = bool_tensor(vec![false; shape.num_elements()], shape, out_dtype);
        crate::GsqBoolTensor::new(flags, tensor.device)
    }

    /// GSE has no infinities: they saturate on entry, so nothing is infinite.
    fn float_is_inf(tensor: FloatTensor<Gsq>, out_dtype: BoolDType) -> BoolTensor<Gsq> {
        let shape = Shape::from(tensor.dims().to_vec());
        let flags = bool_tensor(vec![false; shape.num_elements()], shape, out_dtype);
        crate::GsqBoolTensor::new(flags, tensor.device)
    }
}
