//! Shared helpers of the gsq-lora tests: deterministic data and layers.
#![allow(dead_code)]

use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use gsq_lora::{LoraConfig, LoraLinear};

pub type Nd = burn::backend::NdArray;
pub type AdNd = burn::backend::Autodiff<Nd>;
pub type Gq = burn_gsq::Gsq;
pub type AdGq = burn::backend::Autodiff<Gq>;

/// `n` deterministic values in `[-1, 1)` (xorshift).
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32) / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

pub fn tensor<B: Backend, const D: usize>(
    shape: [usize; D],
    seed: u64,
    device: &B::Device,
) -> Tensor<B, D> {
    let n = shape.iter().product();
    Tensor::from_data(TensorData::new(values(n, seed), shape), device)
}

/// A LoRA layer over a deterministic base `[d_in, d_out]` (with bias), `B` still zero.
pub fn layer<B: Backend>(
    d_in: usize,
    d_out: usize,
    config: &LoraConfig,
    seed: u64,
    device: &B::Device,
) -> LoraLinear<B> {
    B::seed(device, seed);
    let w = tensor::<B, 2>([d_in, d_out], seed, device).mul_scalar(0.5);
    let b = tensor::<B, 1>([d_out], seed + 1, device).mul_scalar(0.1);
    LoraLinear::from_weight(w, Some(b), config, device).unwrap()
}

/// Gives `B` deterministic non-zero values (keeping it trainable).
pub fn randomize_b<B: Backend>(mut layer: LoraLinear<B>, seed: u64) -> LoraLinear<B> {
    let device = layer.lora_b.device();
    let shape = layer.lora_b_shape();
    layer.lora_b = Param::from_tensor(tensor::<B, 2>(shape, seed, &device).mul_scalar(0.25));
    layer
}

pub fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().into_vec::<f32>().unwrap()
}

pub fn bits<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<u32> {
    to_vec(t).into_iter().map(f32::to_bits).collect()
}

pub fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
}

/// A small config used throughout: rank 4, alpha 8.
pub fn config() -> LoraConfig {
    LoraConfig::new().with_rank(4).with_alpha(8.0)
}
