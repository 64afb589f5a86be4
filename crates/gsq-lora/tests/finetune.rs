//! A tiny LoRA fine-tune: a frozen linear layer learns a low-rank correction toward a target
//! linear map, on `Autodiff<Gsq>` (integer-only) and `Autodiff<NdArray>` (f32).

mod common;

use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::ElementConversion;
use burn::tensor::backend::AutodiffBackend;
use burn_gsq::GsqDevice;
use common::*;
use gsq_lora::LoraConfig;

/// Trains for `steps` steps; returns the losses and whether W stayed bit-identical.
fn train<B: AutodiffBackend>(device: &B::Device, steps: usize) -> (Vec<f32>, bool) {
    let (d_in, d_out, n) = (16, 12, 64);
    let cfg = LoraConfig::new().with_rank(4).with_alpha(4.0);
    let mut layer = layer::<B>(d_in, d_out, &cfg, 1, device);
    let w0 = bits(layer.weight.val());
    // Target: the base map plus a rank-2 correction u·v.
    let u = tensor::<B, 2>([d_in, 2], 31, device);
    let v = tensor::<B, 2>([2, d_out], 32, device);
    let x = tensor::<B, 2>([n, d_in], 33, device);
    let target =
        (layer.forward(x.clone()) + x.clone().matmul(u.matmul(v).mul_scalar(0.5))).detach();
    let mut optim = AdamWConfig::new().with_weight_decay(0.0).init();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let loss = (layer.forward(x.clone()) - target.clone())
            .powi_scalar(2)
            .mean();
        losses.push(loss.clone().into_scalar().elem::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &layer);
        layer = optim.step(2e-2, layer, grads);
    }
    (losses, bits(layer.weight.val()) == w0)
}

fn check(losses: &[f32], frozen: bool, what: &str) {
    let (first, last) = (losses[0], *losses.last().unwrap());
    eprintln!("{what}: loss {first:.5} -> {last:.5} ({losses:?})");
    assert!(frozen, "{what}: the base weight changed");
    assert!(
        last.is_finite() && last < 0.02 * first,
        "{what}: loss {first} -> {last}"
    );
}

#[test]
fn lora_finetune_lowers_the_loss_on_autodiff_gsq() {
    let (losses, frozen) = train::<AdGq>(&GsqDevice::default(), 60);
    check(&losses, frozen, "Autodiff<Gsq>");
}

#[test]
fn lora_finetune_lowers_the_loss_on_autodiff_ndarray() {
    let (losses, frozen) = train::<AdNd>(&Default::default(), 60);
    check(&losses, frozen, "Autodiff<NdArray>");
}
