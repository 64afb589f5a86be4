//! `LoraLinear` on NdArray (f32) and Gsq (GSE integers): output, merge/unmerge, frozen base.

mod common;

use burn::module::{AutodiffModule, Module};
use burn::nn::LinearConfig;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::module::linear;
use burn_gsq::GsqDevice;
use common::*;
use gsq_lora::{LoraConfig, LoraError, LoraLinear};

/// With `B = 0` the layer's output is bit for bit the base layer's.
fn zero_b_is_base<B: Backend>(device: &B::Device) {
    let layer = layer::<B>(16, 12, &config(), 1, device);
    assert_eq!(bits(layer.lora_b.val()), vec![0u32; 4 * 12]);
    let x = tensor::<B, 2>([5, 16], 7, device);
    let base = linear(
        x.clone(),
        layer.weight.val(),
        layer.bias.as_ref().map(|b| b.val()),
    );
    assert_eq!(bits(layer.forward(x)), bits(base));
}

#[test]
fn zero_init_b_gives_base_output_ndarray() {
    zero_b_is_base::<Nd>(&Default::default());
}

#[test]
fn zero_init_b_gives_base_output_gsq() {
    zero_b_is_base::<Gq>(&GsqDevice::default());
    zero_b_is_base::<Gq>(&GsqDevice::exact());
}

/// A is drawn like PEFT's kaiming_uniform_(a = sqrt(5)): within ±1/sqrt(d_in), not constant.
#[test]
fn a_is_kaiming_uniform() {
    let device = Default::default();
    let layer = layer::<Nd>(64, 8, &config(), 3, &device);
    let a = to_vec(layer.lora_a.val());
    assert_eq!(a.len(), 64 * 4);
    let bound = 1.0 / 8.0;
    assert!(a.iter().all(|v| v.abs() <= bound), "A outside ±1/sqrt(64)");
    assert!(max_abs(&a) > bound / 2.0, "A looks degenerate");
}

/// Merged and unmerged forward agree within `tol · max|y|`; unmerge restores W within the
/// same relative tolerance.
fn merge_matches<B: Backend>(device: &B::Device, tol: f32) {
    let layer = randomize_b(layer::<B>(24, 20, &config(), 2, device), 9);
    let w0 = to_vec(layer.weight.val());
    let x3 = tensor::<B, 3>([2, 3, 24], 11, device);
    let x2 = tensor::<B, 2>([6, 24], 12, device);
    let y3 = to_vec(layer.forward(x3.clone()));
    let y2 = to_vec(layer.forward(x2.clone()));
    assert!(max_abs(&y3) > 0.5, "adapter output too small to test");

    let merged = layer.merge();
    assert!(merged.is_merged());
    let m3 = to_vec(merged.forward(x3));
    let m2 = to_vec(merged.forward(x2));
    let d3 = max_diff(&y3, &m3);
    let d2 = max_diff(&y2, &m2);
    assert!(d3 <= tol * max_abs(&y3), "3D merged differs by {d3}");
    assert!(d2 <= tol * max_abs(&y2), "2D merged differs by {d2}");
    // The merge did change W.
    assert!(max_diff(&w0, &to_vec(merged.weight.val())) > 1e-3);
    // Merging twice is a no-op.
    let merged = merged.merge();
    assert_eq!(
        to_vec(merged.forward(tensor::<B, 2>([6, 24], 12, device))),
        m2
    );

    let unmerged = merged.unmerge();
    assert!(!unmerged.is_merged());
    let w1 = to_vec(unmerged.weight.val());
    let dw = max_diff(&w0, &w1);
    assert!(dw <= tol * max_abs(&w0), "unmerge differs from W by {dw}");
}

#[test]
fn merge_then_forward_matches_unmerged_ndarray() {
    // f32: the merged product rounds differently, ~1e-6 relative.
    merge_matches::<Nd>(&Default::default(), 1e-5);
}

#[test]
fn merge_then_forward_matches_unmerged_gsq_exact() {
    // Integer-emulated f32: same tolerance as f32.
    merge_matches::<Gq>(&GsqDevice::exact(), 1e-5);
}

#[test]
fn merge_then_forward_matches_unmerged_gsq_paper() {
    // INT8 matmul operands (groups of 32): merged W + ΔW is quantized as one operand, so the
    // outputs agree to the INT8 quantization error, a few percent of max |y|.
    merge_matches::<Gq>(&GsqDevice::default(), 5e-2);
}

/// D = 3 input gives the same rows as the flattened D = 2 input.
#[test]
fn forward_3d_equals_2d_rows() {
    let device = Default::default();
    let layer = randomize_b(layer::<Nd>(8, 6, &config(), 4, &device), 5);
    let x = tensor::<Nd, 3>([2, 5, 8], 13, &device);
    let y3 = to_vec(layer.forward(x.clone()));
    let y2 = to_vec(layer.forward(x.reshape([10, 8])));
    assert!(max_diff(&y3, &y2) <= 1e-6);
}

/// The adapter term is exactly (alpha/rank)·x·A·B on f32.
#[test]
fn adapter_term_is_scaled_low_rank_product() {
    let device = Default::default();
    let cfg = LoraConfig::new().with_rank(2).with_alpha(6.0);
    let layer = randomize_b(layer::<Nd>(5, 3, &cfg, 8, &device), 6);
    let x = tensor::<Nd, 2>([4, 5], 21, &device);
    let y = to_vec(layer.forward(x.clone()));
    let base = linear(
        x.clone(),
        layer.weight.val(),
        layer.bias.as_ref().map(|b| b.val()),
    );
    let want = base
        + x.matmul(layer.lora_a.val())
            .matmul(layer.lora_b.val())
            .mul_scalar(3.0);
    assert!(max_diff(&y, &to_vec(want)) <= 1e-5);
}

#[test]
fn from_linear_keeps_weight_and_bias() {
    let device = Default::default();
    let lin = LinearConfig::new(7, 5).init::<Nd>(&device);
    let w = bits(lin.weight.val());
    let b = bits(lin.bias.as_ref().unwrap().val());
    let layer = LoraLinear::from_linear(lin, &config()).unwrap();
    assert_eq!(bits(layer.weight.val()), w);
    assert_eq!(bits(layer.bias.as_ref().unwrap().val()), b);
    assert_eq!(layer.lora_a_shape(), [7, 4]);
    assert_eq!(layer.lora_b_shape(), [4, 5]);
    assert_eq!((layer.d_input(), layer.d_output()), (7, 5));
}

#[test]
fn bad_configs_are_errors() {
    let device = Default::default();
    let w = || tensor::<Nd, 2>([4, 3], 1, &device);
    for cfg in [
        LoraConfig::new().with_rank(0),
        LoraConfig::new().with_dropout(1.0),
        LoraConfig::new().with_dropout(-0.1),
        LoraConfig::new().with_dropout(f64::NAN),
        LoraConfig::new().with_alpha(f64::INFINITY),
    ] {
        let err = LoraLinear::from_weight(w(), None, &cfg, &device).unwrap_err();
        assert!(matches!(err, LoraError::InvalidConfig(_)), "{err}");
    }
    let bias = tensor::<Nd, 1>([4], 2, &device);
    let err = LoraLinear::from_weight(w(), Some(bias), &config(), &device).unwrap_err();
    assert!(matches!(err, LoraError::Layer { .. }), "{err}");
}

#[test]
fn defaults_and_targets() {
    let cfg = LoraConfig::new();
    assert_eq!(cfg.rank, 8);
    assert_eq!(cfg.alpha, 16.0);
    assert_eq!(cfg.dropout, 0.0);
    assert_eq!(cfg.target_modules, ["q_proj", "v_proj"]);
    assert!(cfg.is_target("model.layers.0.self_attn.q_proj"));
    assert!(cfg.is_target("v_proj"));
    assert!(!cfg.is_target("model.layers.0.self_attn.k_proj"));
    assert!(!cfg.is_target("model.layers.0.self_attn.xq_proj"));
}

/// After backward the frozen weight and bias have no gradient, A and B do (A's is zero at the
/// first step since B = 0); one AdamW step changes A and B and leaves W and b bit-identical.
fn frozen_base<B: AutodiffBackend>(device: &B::Device) {
    let layer = layer::<B>(16, 8, &config(), 5, device);
    assert!(!layer.weight.is_require_grad());
    assert!(!layer.bias.as_ref().unwrap().is_require_grad());
    assert!(layer.lora_a.is_require_grad() && layer.lora_b.is_require_grad());
    let (w0, b0) = (
        bits(layer.weight.val()),
        bits(layer.bias.as_ref().unwrap().val()),
    );
    let (a0, bb0) = (bits(layer.lora_a.val()), bits(layer.lora_b.val()));

    let x = tensor::<B, 3>([2, 4, 16], 3, device);
    let target = tensor::<B, 3>([2, 4, 8], 4, device);
    let loss = (layer.forward(x) - target).powi_scalar(2).mean();
    let grads = loss.backward();
    assert!(
        layer.weight.grad(&grads).is_none(),
        "frozen W got a gradient"
    );
    assert!(layer.bias.as_ref().unwrap().grad(&grads).is_none());
    assert!(layer.lora_a.grad(&grads).is_some());
    let gb = layer.lora_b.grad(&grads).expect("B has a gradient");
    assert!(max_abs(&to_vec(gb)) > 0.0);

    let grads = GradientsParams::from_grads(grads, &layer);
    assert_eq!(grads.len(), 2, "only A and B are in GradientsParams");
    assert!(grads.get::<B::InnerBackend, 2>(layer.weight.id).is_none());
    let mut optim = AdamWConfig::new().init();
    let layer = optim.step(1e-2, layer, grads);
    assert_eq!(bits(layer.weight.val()), w0, "W changed");
    assert_eq!(bits(layer.bias.as_ref().unwrap().val()), b0, "bias changed");
    assert_ne!(bits(layer.lora_b.val()), bb0, "B did not change");
    assert!(
        !layer.weight.is_require_grad(),
        "W became trainable after the step"
    );

    // A second step: now A gets a real gradient; W still frozen.
    let x = tensor::<B, 3>([2, 4, 16], 6, device);
    let target = tensor::<B, 3>([2, 4, 8], 7, device);
    let loss = (layer.forward(x) - target).powi_scalar(2).mean();
    let grads = loss.backward();
    assert!(layer.weight.grad(&grads).is_none());
    let ga = layer.lora_a.grad(&grads).expect("A has a gradient");
    assert!(
        max_abs(&to_vec(ga)) > 0.0,
        "A's gradient is zero after B moved"
    );
    let grads = GradientsParams::from_grads(grads, &layer);
    let layer = optim.step(1e-2, layer, grads);
    assert_eq!(bits(layer.weight.val()), w0, "W changed at step 2");
    assert_eq!(
        bits(layer.bias.as_ref().unwrap().val()),
        b0,
        "bias changed at step 2"
    );
    assert_ne!(bits(layer.lora_a.val()), a0, "A did not change");

    // The inference copy keeps everything.
    let valid = layer.valid();
    assert_eq!(bits(valid.weight.val()), w0);
    assert_eq!(valid.num_params(), 16 * 8 + 8 + 16 * 4 + 4 * 8);
}

#[test]
fn frozen_base_has_no_grad_and_adamw_changes_only_adapter_ndarray() {
    frozen_base::<AdNd>(&Default::default());
}

#[test]
fn frozen_base_has_no_grad_and_adamw_changes_only_adapter_gsq() {
    frozen_base::<AdGq>(&GsqDevice::default());
}

#[test]
fn dropout_is_used_only_in_training() {
    let device = Default::default();
    let cfg = config().with_dropout(0.5);
    let layer = randomize_b(layer::<AdNd>(16, 8, &cfg, 2, &device), 3);
    assert_eq!(layer.dropout(), 0.5);
    let x = tensor::<AdNd, 2>([4, 16], 9, &device);
    // Inference (inner backend): no dropout, deterministic.
    let valid = layer.valid();
    let xi = x.clone().inner();
    assert_eq!(bits(valid.forward(xi.clone())), bits(valid.forward(xi)));
    // Training: the adapter input is dropped at random, so two passes differ.
    let y1 = to_vec(layer.forward(x.clone()));
    let y2 = to_vec(layer.forward(x));
    assert!(max_diff(&y1, &y2) > 0.0);
}
