//! `ActivationOps`: fused integer kernels instead of burn's compositions, which would round
//! every intermediate (and build sigmoid from `exp`/`log`).

use burn_backend::Scalar;
use burn_backend::ops::ActivationOps;
use burn_backend::tensor::FloatTensor;
use gse::Dyadic;
use gse_math::Outcome;

use super::math::{binary, resolve, unary};
use crate::convert::scalar_to_dyadic;
use crate::{Gsq, GsqTensor};

fn positive(x: Dyadic) -> bool {
    x.mant > 0
}

/// `log(sigmoid(x)) = -log1p(exp(-|x|)) + min(x, 0)`, which never overflows.
fn log_sigmoid(x: Dyadic) -> Dyadic {
    let e = resolve(gse_math::exp(x.abs().neg()));
    let softplus = resolve(gse_math::log1p(e));
    let min0 = if x.is_negative() { x } else { Dyadic::ZERO };
    min0.sub(softplus)
}

fn fused(
    t: GsqTensor,
    dim: usize,
    kernel: fn(
        &gse_kernels::GseTensor,
        usize,
        gse::GseFormat,
        gse::Rounding,
    ) -> gse_kernels::GseTensor,
) -> GsqTensor {
    let (format, rounding) = t.out();
    let r = kernel(&t.tensor, dim, format, rounding);
    t.derive(r)
}

impl ActivationOps<Gsq> for Gsq {
    fn leaky_relu(tensor: FloatTensor<Gsq>, negative_slope: Scalar) -> FloatTensor<Gsq> {
        let slope = scalar_to_dyadic(negative_slope, tensor.policy().special);
        unary(tensor, move |x| if positive(x) { x } else { x.mul(slope) })
    }

    fn relu(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, |x| if positive(x) { x } else { Dyadic::ZERO })
    }

    fn relu_backward(output: FloatTensor<Gsq>, grad: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary(
            output,
            grad,
            |o, g| if positive(o) { g } else { Dyadic::ZERO },
        )
    }

    fn gelu(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        let (format, rounding) = tensor.out();
        let r = gse_kernels::gelu(&tensor.tensor, format, rounding);
        tensor.derive(r)
    }

    fn gelu_backward(x: FloatTensor<Gsq>, grad: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        let (format, rounding) = x.out();
        let r = gse_kernels::gelu_backward(&x.tensor, &grad.tensor, format, rounding);
        x.derive(r)
    }

    fn sigmoid(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        let (format, rounding) = tensor.out();
        let r = gse_kernels::sigmoid(&tensor.tensor, format, rounding);
        tensor.derive(r)
    }

    fn sigmoid_backward(output: FloatTensor<Gsq>, grad: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        binary(output, grad, |s, g| g.mul(s.mul(Dyadic::ONE.sub(s))))
    }

    fn hard_sigmoid(tensor: FloatTensor<Gsq>, alpha: Scalar, beta: Scalar) -> FloatTensor<Gsq> {
        let special = tensor.policy().special;
        let (a, b) = (
            scalar_to_dyadic(alpha, special),
            scalar_to_dyadic(beta, special),
        );
        unary(tensor, move |x| {
            let y = x.mul(a).add(b);
            super::math::min(super::math::max(y, Dyadic::ZERO), Dyadic::ONE)
        })
    }

    fn log_sigmoid(tensor: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        unary(tensor, log_sigmoid)
    }

    fn log_sigmoid_backward(x: FloatTensor<Gsq>, grad: FloatTensor<Gsq>) -> FloatTensor<Gsq> {
        // d/dx log(sigmoid(x)) = sigmoid(-x)
        binary(x, grad, |x, g| match gse_math::sigmoid(x.neg()) {
            Outcome::Finite(s) => g.mul(s),
            other => g.mul(resolve(other)),
        })
    }

    fn softmax(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        fused(tensor, dim, gse_kernels::softmax)
    }

    fn log_softmax(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        fused(tensor, dim, gse_kernels::log_softmax)
    }

    fn softmin(tensor: FloatTensor<Gsq>, dim: usize) -> FloatTensor<Gsq> {
        let negated = unary(tensor, Dyadic::neg);
        fused(negated, dim, gse_kernels::softmax)
    }
}
