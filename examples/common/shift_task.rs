//! A task that needs attention: predict the token seen `SHIFT` positions earlier.
//!
//! A one-layer burn-nn `TransformerEncoder` with a causal mask and learned positions is trained
//! with burn's AdamW. Nothing in a single position tells what the target is; the model has to
//! attend exactly `SHIFT` steps back. Shared by `examples/train_transformer.rs` and
//! `tests/training.rs` so that both run the very same program on any backend.

use burn::module::Module;
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

pub const VOCAB: usize = 8;
pub const SEQ: usize = 10;
pub const SHIFT: usize = 2;

#[derive(Module, Debug)]
pub struct ShiftModel<B: Backend> {
    tokens: Embedding<B>,
    positions: Embedding<B>,
    encoder: TransformerEncoder<B>,
    head: Linear<B>,
}

impl<B: Backend> ShiftModel<B> {
    pub fn new(device: &B::Device) -> Self {
        let d_model = 32;
        Self {
            tokens: EmbeddingConfig::new(VOCAB, d_model).init(device),
            positions: EmbeddingConfig::new(SEQ, d_model).init(device),
            encoder: TransformerEncoderConfig::new(d_model, 64, 2, 1)
                .with_dropout(0.0)
                .with_norm_first(true)
                .init(device),
            head: LinearConfig::new(d_model, VOCAB).init(device),
        }
    }

    /// Logits `[batch, SEQ, VOCAB]`.
    pub fn forward(&self, input: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        let [batch, seq] = input.dims();
        let device = input.device();
        let positions = Tensor::<B, 1, Int>::arange(0..seq as i64, &device)
            .reshape([1, seq])
            .repeat_dim(0, batch);
        let x = self.tokens.forward(input) + self.positions.forward(positions);
        let mask = generate_autoregressive_mask::<B>(batch, seq, &device);
        let h = self
            .encoder
            .forward(TransformerEncoderInput::new(x).mask_attn(mask));
        self.head.forward(h)
    }
}

/// A deterministic batch: random tokens and their targets (`input[t - SHIFT]`, or `input[t]`
/// for the first positions).
pub fn batch<B: Backend>(
    step: u64,
    size: usize,
    device: &B::Device,
) -> (Tensor<B, 2, Int>, Tensor<B, 1, Int>) {
    let mut state = step.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % VOCAB as u64) as i64
    };
    let inputs: Vec<i64> = (0..size * SEQ).map(|_| next()).collect();
    let targets: Vec<i64> = (0..size * SEQ)
        .map(|i| {
            let t = i % SEQ;
            if t >= SHIFT {
                inputs[i - SHIFT]
            } else {
                inputs[i]
            }
        })
        .collect();
    (
        Tensor::from_data(TensorData::new(inputs, [size, SEQ]), device),
        Tensor::from_data(TensorData::new(targets, [size * SEQ]), device),
    )
}

/// Trains for `steps` steps from a seeded initialization and returns the loss of every step.
pub fn train<B: AutodiffBackend>(device: &B::Device, steps: usize, seed: u64) -> Vec<f32> {
    B::seed(device, seed);
    let mut model = ShiftModel::<B>::new(device);
    let mut optim = AdamWConfig::new().with_weight_decay(0.0).init();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut losses = Vec::with_capacity(steps);
    for step in 0..steps {
        let (input, targets) = batch::<B>(step as u64, 16, device);
        let logits = model.forward(input).reshape([16 * SEQ, VOCAB]);
        let loss = loss_fn.forward(logits, targets);
        losses.push(loss.clone().into_scalar().elem::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(5e-3, model, grads);
    }
    losses
}

use burn::tensor::ElementConversion;
