//! `ModuleOps::linear` and its backward products on the policy's `linear_operand` format.
//!
//! The same compositions as burn's defaults (weight and bias broadcast over the leading dims,
//! `dX = dY·Wᵀ`, `dW = Xᵀ·dY` summed over the batch dims), with the matmuls' operands
//! re-quantized to `linear_operand` instead of `matmul_operand`: with the default policy the
//! two are the same format and the results are bit-identical to burn's defaults.

use burn_backend::ops::FloatTensorOps;
use burn_backend::tensor::FloatTensor;
use burn_std::Shape;

use super::matmul::matmul_with_operand;
use crate::Gsq;

/// `tensor` with size-1 dims prepended up to `rank`.
fn unsqueeze_leading(tensor: FloatTensor<Gsq>, rank: usize) -> FloatTensor<Gsq> {
    let dims = tensor.dims().to_vec();
    if dims.len() >= rank {
        return tensor;
    }
    let mut shape = vec![1usize; rank - dims.len()];
    shape.extend(dims);
    Gsq::float_reshape(tensor, Shape::from(shape))
}

pub(crate) fn forward(
    x: FloatTensor<Gsq>,
    weight: FloatTensor<Gsq>,
    bias: Option<FloatTensor<Gsq>>,
) -> FloatTensor<Gsq> {
    let rank = x.dims().len();
    let operand = x.policy().linear_operand;
    let output = matmul_with_operand(x, unsqueeze_leading(weight, rank), operand);
    match bias {
        Some(bias) => Gsq::float_add(output, unsqueeze_leading(bias, rank)),
        None => output,
    }
}

pub(crate) fn x_backward(
    weight: FloatTensor<Gsq>,
    output_grad: FloatTensor<Gsq>,
) -> FloatTensor<Gsq> {
    let rank = output_grad.dims().len();
    let operand = output_grad.policy().linear_operand;
    let weight_t = unsqueeze_leading(Gsq::float_swap_dims(weight, 0, 1), rank);
    matmul_with_operand(output_grad, weight_t, operand)
}

pub(crate) fn weight_backward(
    x: FloatTensor<Gsq>,
    output_grad: FloatTensor<Gsq>,
) -> FloatTensor<Gsq> {
    let rank = x.dims().len();
    let operand = x.policy().linear_operand;
    let x_t = Gsq::float_swap_dims(x, rank - 2, rank - 1);
    let mut grad = matmul_with_operand(x_t, output_grad, operand);
    // Sum over the batch dims (sum_dim keeps the rank), then drop them.
    let rank = grad.dims().len();
    if rank > 2 {
        for dim in 0..rank - 2 {
            grad = Gsq::float_sum_dim(grad, dim);
        }
        let dims = grad.dims().to_vec();
        grad = Gsq::float_reshape(grad, Shape::from(dims[rank - 2..].to_vec()));
    }
    grad
}
