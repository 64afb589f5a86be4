//! Loading a [`LlamaModel`] from a GGUF file.
//!
//! On `Gsq` (and `Autodiff<Gsq>`) the frozen weights go straight from the file's Q4_1/Q8_0 blocks
//! into GSE blocks at [`LoadOptions::base_format`] with integer arithmetic
//! ([`crate::gguf::TensorView::to_gse`]); a ggml block of 32 values is one GSE group, laid along
//! the reduction axis of the matmul. The `[out, in]` row-major storage is used through a
//! transposed view as burn's `[in, out]` linear weight, so nothing is copied. On every other
//! backend the weights are the file's values as f32 ([`crate::gguf::TensorView::to_f32_vec`]).

use std::any::Any;

use burn::backend::Autodiff;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};
use burn_gsq::{Gsq, GsqDevice, GsqTensor};
use gse::GseFormat;
use gse_kernels::GseTensor;

use crate::gguf::{Gguf, TensorView};

use super::LlamaError;
use super::attention::Attention;
use super::config::LlamaConfig;
use super::linear::{Projection, frozen};
use super::mlp::Mlp;
use super::model::{Block, LlamaModel, rms_norm};
use super::rope::Rope;

/// How the GGUF weights become tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// GSE format of the frozen linear weights on `Gsq` (INT4 or INT8 in practice).
    pub base_format: GseFormat,
    /// GSE format of the token embedding (also the tied output head) on `Gsq`.
    pub embed_format: GseFormat,
    /// Positions the RoPE tables cover.
    pub max_seq_len: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            base_format: GseFormat::INT8,
            embed_format: GseFormat::INT8,
            max_seq_len: 2048,
        }
    }
}

/// Reads the config from `gguf`'s metadata and every tensor from its data.
pub fn load_llama<B: Backend>(
    gguf: &Gguf,
    options: &LoadOptions,
    device: &B::Device,
) -> Result<(LlamaConfig, LlamaModel<B>), LlamaError> {
    let config = LlamaConfig::from_gguf(gguf, options.max_seq_len)?;
    let (h, kv, f) = (
        config.hidden_size,
        config.kv_dim(),
        config.intermediate_size,
    );
    let base = options.base_format;
    let proj = |name: String, d_in: usize, d_out: usize| -> Result<Projection<B>, LlamaError> {
        Ok(Projection::frozen(linear_weight::<B>(
            gguf, &name, d_in, d_out, base, device,
        )?))
    };
    let norm = |name: &str| -> Result<_, LlamaError> {
        Ok(rms_norm(
            vector::<B>(gguf, name, h, device)?,
            config.rms_eps,
        ))
    };
    let mut layers = Vec::with_capacity(config.num_layers);
    for i in 0..config.num_layers {
        let n = |s: &str| format!("blk.{i}.{s}.weight");
        layers.push(Block {
            attn_norm: norm(&n("attn_norm"))?,
            attn: Attention {
                q_proj: proj(n("attn_q"), h, h)?,
                k_proj: proj(n("attn_k"), h, kv)?,
                v_proj: proj(n("attn_v"), h, kv)?,
                o_proj: proj(n("attn_output"), h, h)?,
                num_heads: config.num_heads,
                num_kv_heads: config.num_kv_heads,
                head_dim: config.head_dim,
            },
            ffn_norm: norm(&n("ffn_norm"))?,
            mlp: Mlp {
                gate_proj: proj(n("ffn_gate"), h, f)?,
                up_proj: proj(n("ffn_up"), h, f)?,
                down_proj: proj(n("ffn_down"), f, h)?,
            },
        });
    }
    let embed = matrix::<B>(
        gguf,
        "token_embd.weight",
        [config.vocab_size, h],
        options.embed_format,
        device,
    )?;
    let head = match gguf.tensor_info("output.weight") {
        Some(_) => Some(frozen(linear_weight::<B>(
            gguf,
            "output.weight",
            h,
            config.vocab_size,
            options.embed_format,
            device,
        )?)),
        None => None,
    };
    let model = LlamaModel {
        embed: frozen(embed),
        layers,
        norm: norm("output_norm.weight")?,
        head,
        rope: Rope::new(
            config.head_dim,
            config.max_seq_len,
            config.rope_theta,
            device,
        ),
    };
    Ok((config, model))
}

/// The tensor `name`, checked to have row-major `shape`.
fn view<'a>(gguf: &'a Gguf, name: &str, shape: &[usize]) -> Result<TensorView<'a>, LlamaError> {
    let view = gguf.tensor(name)?;
    if view.shape() != shape {
        return Err(LlamaError::TensorShape {
            tensor: name.to_string(),
            expected: shape.to_vec(),
            found: view.shape(),
        });
    }
    Ok(view)
}

/// A linear layer's weight stored `[d_out, d_in]` in the file, as burn's `[d_in, d_out]`.
fn linear_weight<B: Backend>(
    gguf: &Gguf,
    name: &str,
    d_in: usize,
    d_out: usize,
    format: GseFormat,
    device: &B::Device,
) -> Result<Tensor<B, 2>, LlamaError> {
    let v = view(gguf, name, &[d_out, d_in])?;
    if let Some(t) = gsq_tensor::<B, 2>(v, [d_out, d_in], format, device) {
        return Ok(t?.transpose());
    }
    let values = v.to_f32_vec()?;
    let mut transposed = vec![0f32; values.len()];
    for (o, row) in values.chunks_exact(d_in).enumerate() {
        for (i, &x) in row.iter().enumerate() {
            transposed[i * d_out + o] = x;
        }
    }
    Ok(Tensor::from_data(
        TensorData::new(transposed, [d_in, d_out]),
        device,
    ))
}

/// A matrix stored with row-major `shape` in the file, as it is.
fn matrix<B: Backend>(
    gguf: &Gguf,
    name: &str,
    shape: [usize; 2],
    format: GseFormat,
    device: &B::Device,
) -> Result<Tensor<B, 2>, LlamaError> {
    let v = view(gguf, name, &shape)?;
    if let Some(t) = gsq_tensor::<B, 2>(v, shape, format, device) {
        return t;
    }
    Ok(Tensor::from_data(
        TensorData::new(v.to_f32_vec()?, shape),
        device,
    ))
}

/// A vector (a norm's gain), as f32 values on any backend.
fn vector<B: Backend>(
    gguf: &Gguf,
    name: &str,
    len: usize,
    device: &B::Device,
) -> Result<Tensor<B, 1>, LlamaError> {
    let v = view(gguf, name, &[len])?;
    Ok(Tensor::from_data(
        TensorData::new(v.to_f32_vec()?, [len]),
        device,
    ))
}

/// On `Gsq` and `Autodiff<Gsq>`: the tensor's blocks converted to `format` (integer
/// arithmetic), without going through f32. `None` on other backends.
fn gsq_tensor<B: Backend, const D: usize>(
    view: TensorView<'_>,
    shape: [usize; D],
    format: GseFormat,
    device: &B::Device,
) -> Option<Result<Tensor<B, D>, LlamaError>> {
    let gsq_device = *(device as &dyn Any).downcast_ref::<GsqDevice>()?;
    let build = || -> Result<Tensor<Gsq, D>, LlamaError> {
        let blocks = view.to_gse(format)?;
        let tensor = GseTensor::from_blocks(blocks, &shape);
        Ok(Tensor::from_primitive(TensorPrimitive::Float(
            GsqTensor::from_gse(tensor, gsq_device),
        )))
    };
    let inner = match build() {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    let boxed: Box<dyn Any> = Box::new(inner);
    let boxed = match boxed.downcast::<Tensor<B, D>>() {
        Ok(t) => return Some(Ok(*t)),
        Err(b) => b,
    };
    let inner = *boxed.downcast::<Tensor<Gsq, D>>().ok()?;
    let autodiff: Box<dyn Any> = Box::new(Tensor::<Autodiff<Gsq>, D>::from_inner(inner));
    autodiff.downcast::<Tensor<B, D>>().ok().map(|t| Ok(*t))
}
