//! Rotary position embedding on ADJACENT pairs `(2i, 2i+1)`.
//!
//! llama.cpp's converter permutes the rows of `attn_q` and `attn_k` so that the pairs rotated
//! together are adjacent (GPT-J style) instead of HF's halves (`rotate_half`). Pair `i` of a head
//! at position `p` rotates by `p · theta^(-2i / head_dim)`.
//!
//! The cos/sin tables are computed by the backend (on `Gsq` with its integer exp, sin and cos),
//! once, for `max_seq_len` positions.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// Cached `cos` and `sin` tables, `[max_seq_len, head_dim]`, each angle repeated for both
/// members of its pair.
#[derive(Module, Debug)]
pub struct Rope<B: Backend> {
    pub cos: Tensor<B, 2>,
    pub sin: Tensor<B, 2>,
}

impl<B: Backend> Rope<B> {
    pub fn new(head_dim: usize, max_seq_len: usize, theta: f64, device: &B::Device) -> Self {
        let half = head_dim / 2;
        // exponent 2i / head_dim, then inv_freq = exp(-exponent · ln theta).
        let two_i: Vec<f32> = (0..half).map(|i| (2 * i) as f32).collect();
        let exponent = Tensor::<B, 1>::from_data(TensorData::new(two_i, [half]), device)
            .div_scalar(head_dim as f64);
        let inv_freq = exponent.mul_scalar(theta.ln()).neg().exp();
        let positions: Vec<f32> = (0..max_seq_len).map(|p| p as f32).collect();
        let positions =
            Tensor::<B, 1>::from_data(TensorData::new(positions, [max_seq_len]), device);
        let angles: Tensor<B, 2> = positions.unsqueeze_dim::<2>(1) * inv_freq.unsqueeze_dim(0);
        let pairwise = |t: Tensor<B, 2>| {
            t.unsqueeze_dim::<3>(2)
                .repeat_dim(2, 2)
                .reshape([max_seq_len, head_dim])
        };
        Self {
            cos: pairwise(angles.clone().cos()),
            sin: pairwise(angles.sin()),
        }
    }

    /// Positions covered.
    pub fn max_seq_len(&self) -> usize {
        self.cos.dims()[0]
    }

    /// Rotates `x` `[batch, heads, seq, head_dim]` whose first token is at position `start`:
    /// `x·cos + rot(x)·sin` with `rot(x0, x1) = (-x1, x0)` on each adjacent pair.
    pub fn apply(&self, x: Tensor<B, 4>, start: usize) -> Tensor<B, 4> {
        let [b, h, t, d] = x.dims();
        assert!(
            start + t <= self.max_seq_len(),
            "RoPE tables cover {} positions, asked for {}..{}",
            self.max_seq_len(),
            start,
            start + t
        );
        let cos = self.cos.clone().slice(start..start + t).unsqueeze::<4>();
        let sin = self.sin.clone().slice(start..start + t).unsqueeze::<4>();
        let pairs = x.clone().reshape([b, h, t, d / 2, 2]);
        let x0 = pairs.clone().slice([0..b, 0..h, 0..t, 0..d / 2, 0..1]);
        let x1 = pairs.slice([0..b, 0..h, 0..t, 0..d / 2, 1..2]);
        let rotated = Tensor::cat(vec![x1.neg(), x0], 4).reshape([b, h, t, d]);
        x * cos + rotated * sin
    }
}
