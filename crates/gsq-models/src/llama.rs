//! A Llama-architecture causal LM (SmolLM2 and relatives) built from burn-nn parts, generic over
//! the backend, with LoRA adapters on any of its projections.
//!
//! - [`LlamaConfig`]: shapes, from GGUF metadata or written out.
//! - [`LlamaModel`]: RMSNorm pre-norm blocks, RoPE on adjacent pairs, grouped-query causal
//!   attention, SwiGLU MLP, output head tied to the token embedding.
//! - [`load_llama`]: weights from a GGUF file; on `Gsq` straight from the file's quantized blocks
//!   into low-bit GSE blocks.
//!
//! All tensor math is burn's Tensor API: on `Gsq` it is the backend's integer arithmetic.

mod attention;
mod config;
mod linear;
mod load;
mod mlp;
mod model;
mod rope;

pub use attention::{Attention, MASKED_SCORE, causal_mask, repeat_kv};
pub use config::LlamaConfig;
pub use linear::Projection;
pub use load::{LoadOptions, load_llama};
pub use mlp::Mlp;
pub use model::{Block, LlamaModel, PROJECTIONS, rms_norm};
pub use rope::Rope;

use crate::gguf::GgufError;

/// What can go wrong building or loading a Llama model.
#[derive(Debug, thiserror::Error)]
pub enum LlamaError {
    #[error("{0}")]
    Gguf(#[from] GgufError),
    #[error("model config: {key} {reason}")]
    BadConfig { key: String, reason: String },
    #[error("tensor {tensor:?} has shape {found:?}, the config needs {expected:?}")]
    TensorShape {
        tensor: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("LoRA: {0}")]
    Lora(#[from] gsq_lora::LoraError),
}
