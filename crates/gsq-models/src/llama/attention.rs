//! Causal grouped-query self-attention with RoPE.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor};

use super::linear::Projection;
use super::rope::Rope;

/// Score given to masked (future) positions before the softmax.
pub const MASKED_SCORE: f64 = -1.0e4;

/// `num_heads` query heads sharing `num_kv_heads` key/value heads.
#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    pub q_proj: Projection<B>,
    pub k_proj: Projection<B>,
    pub v_proj: Projection<B>,
    pub o_proj: Projection<B>,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
}

/// `mask[i, j]` is true where key `j` is in the future of query `i` (`j > i`).
pub fn causal_mask<B: Backend>(seq: usize, device: &B::Device) -> Tensor<B, 2, Bool> {
    Tensor::<B, 2, Bool>::tril_mask([seq, seq], 0, device)
}

impl<B: Backend> Attention<B> {
    /// `x` `[batch, seq, hidden]` → `[batch, seq, hidden]`; token `i` attends to `0..=i`.
    pub fn forward(&self, x: Tensor<B, 3>, rope: &Rope<B>) -> Tensor<B, 3> {
        let [b, t, _] = x.dims();
        let (h, kvh, d) = (self.num_heads, self.num_kv_heads, self.head_dim);
        let heads = |y: Tensor<B, 3>, n: usize| y.reshape([b, t, n, d]).swap_dims(1, 2);
        let q = rope.apply(heads(self.q_proj.forward(x.clone()), h), 0);
        let k = rope.apply(heads(self.k_proj.forward(x.clone()), kvh), 0);
        let v = heads(self.v_proj.forward(x), kvh);
        let (k, v) = (repeat_kv(k, h / kvh), repeat_kv(v, h / kvh));
        let scores = q.matmul(k.swap_dims(2, 3)).div_scalar((d as f64).sqrt());
        let mask = causal_mask::<B>(t, &scores.device())
            .unsqueeze::<4>()
            .expand([b, h, t, t]);
        let probs = softmax(scores.mask_fill(mask, MASKED_SCORE), 3);
        let out = probs.matmul(v).swap_dims(1, 2).reshape([b, t, h * d]);
        self.o_proj.forward(out)
    }
}

/// `[batch, kv_heads, seq, d]` → `[batch, kv_heads · n_rep, seq, d]`, each KV head repeated for
/// the `n_rep` query heads of its group (query head `j` uses KV head `j / n_rep`).
pub fn repeat_kv<B: Backend>(x: Tensor<B, 4>, n_rep: usize) -> Tensor<B, 4> {
    if n_rep == 1 {
        return x;
    }
    let [b, kvh, t, d] = x.dims();
    x.unsqueeze_dim::<5>(2)
        .expand([b, kvh, n_rep, t, d])
        .reshape([b, kvh * n_rep, t, d])
}
