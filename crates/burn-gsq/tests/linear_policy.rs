//! `linear_operand` governs the linear layers' products (forward and both backward products)
//! and only them; with the default policy `linear` is bit-identical to matmul + bias.

use burn::backend::Autodiff;
use burn::tensor::module::linear;
use burn::tensor::{Distribution, Tensor};
use burn_gsq::{GseFormat, Gsq, GsqDevice, PrecisionPolicy};

fn bits<const D: usize, B: burn::tensor::backend::Backend>(t: Tensor<B, D>) -> Vec<u32> {
    t.into_data()
        .into_vec::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

fn inputs<B: burn::tensor::backend::Backend>(
    device: &B::Device,
) -> (Tensor<B, 3>, Tensor<B, 2>, Tensor<B, 1>) {
    B::seed(device, 11);
    (
        Tensor::random([2, 5, 70], Distribution::Normal(0.0, 1.0), device),
        Tensor::random([70, 9], Distribution::Normal(0.0, 0.3), device),
        Tensor::random([9], Distribution::Normal(0.0, 1.0), device),
    )
}

#[test]
fn default_linear_is_matmul_plus_bias_bit_for_bit() {
    let device = GsqDevice::default();
    let (x, w, b) = inputs::<Gsq>(&device);
    let fused = linear(x.clone(), w.clone(), Some(b.clone()));
    let composed = x.matmul(w.unsqueeze::<3>()) + b.unsqueeze::<3>();
    assert_eq!(bits(fused), bits(composed));
}

#[test]
fn linear_operand_changes_linear_and_its_gradients_but_not_other_matmuls() {
    type B = Autodiff<Gsq>;
    let run = |device: &GsqDevice| {
        let (x, w, b) = inputs::<B>(device);
        let (x, w) = (x.require_grad(), w.require_grad());
        let y = linear(x.clone(), w.clone(), Some(b));
        let grads = (y.clone() * y.clone()).sum().backward();
        let other = x.clone().matmul(w.clone().unsqueeze::<3>());
        (
            bits(y.inner()),
            bits(x.grad(&grads).unwrap()),
            bits(w.grad(&grads).unwrap()),
            bits(other.inner()),
        )
    };
    let paper = run(&GsqDevice::default());
    let int4 = run(&GsqDevice::new(
        PrecisionPolicy::PAPER.with_linear_operand(GseFormat::INT4),
    ));
    assert_ne!(paper.0, int4.0, "forward");
    assert_ne!(paper.1, int4.1, "dX");
    assert_ne!(paper.2, int4.2, "dW");
    assert_eq!(paper.3, int4.3, "a plain matmul keeps matmul_operand");
    // And `with_matmul_operand` sets both.
    let all4 = PrecisionPolicy::PAPER.with_matmul_operand(GseFormat::INT4);
    assert_eq!(
        (all4.matmul_operand, all4.linear_operand),
        (GseFormat::INT4, GseFormat::INT4)
    );
}
