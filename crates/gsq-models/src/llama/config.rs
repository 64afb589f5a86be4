//! [`LlamaConfig`]: the hyper-parameters of a Llama-architecture model, from a GGUF file's
//! metadata or written out (SmolLM2-135M, tiny test configs).

use crate::gguf::Gguf;

use super::LlamaError;

/// Shapes and constants of a Llama-family decoder (pre-norm RMSNorm blocks, RoPE, grouped-query
/// attention, SwiGLU MLP, output head tied to the token embedding).
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    /// Tokens in the vocabulary (rows of `token_embd`).
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Inner width of the SwiGLU MLP.
    pub intermediate_size: usize,
    /// Decoder blocks.
    pub num_layers: usize,
    /// Query heads.
    pub num_heads: usize,
    /// Key/value heads (grouped-query attention: `num_heads` is a multiple of it).
    pub num_kv_heads: usize,
    /// `hidden_size / num_heads`.
    pub head_dim: usize,
    /// RoPE base (`rope.freq_base`).
    pub rope_theta: f64,
    /// RMSNorm epsilon.
    pub rms_eps: f64,
    /// Longest sequence the RoPE tables cover.
    pub max_seq_len: usize,
}

/// GGUF metadata keys read by [`LlamaConfig::from_gguf`] (`{arch}` is `llama`).
pub const ARCH: &str = "llama";

impl LlamaConfig {
    /// SmolLM2-135M: 30 blocks of width 576, 9 query / 3 KV heads of 64, FFN 1536, vocab 49152.
    pub fn smollm2_135m() -> Self {
        Self {
            vocab_size: 49152,
            hidden_size: 576,
            intermediate_size: 1536,
            num_layers: 30,
            num_heads: 9,
            num_kv_heads: 3,
            head_dim: 64,
            rope_theta: 100_000.0,
            rms_eps: 1e-5,
            max_seq_len: 2048,
        }
    }

    /// A tiny config for tests: 2 blocks of width 32, 4 query / 2 KV heads of 8.
    pub fn tiny(vocab_size: usize) -> Self {
        Self {
            vocab_size,
            hidden_size: 32,
            intermediate_size: 48,
            num_layers: 2,
            num_heads: 4,
            num_kv_heads: 2,
            head_dim: 8,
            rope_theta: 10_000.0,
            rms_eps: 1e-5,
            max_seq_len: 64,
        }
    }

    pub fn with_max_seq_len(mut self, max_seq_len: usize) -> Self {
        self.max_seq_len = max_seq_len;
        self
    }

    /// Query heads per KV head.
    pub fn group_size(&self) -> usize {
        self.num_heads / self.num_kv_heads.max(1)
    }

    /// Width of the key and value projections: `num_kv_heads · head_dim`.
    pub fn kv_dim(&self) -> usize {
        self.num_kv_heads * self.head_dim
    }

    /// Checks the shapes fit together.
    pub fn validate(&self) -> Result<(), LlamaError> {
        let bad = |key: &str, reason: String| {
            Err(LlamaError::BadConfig {
                key: key.to_string(),
                reason,
            })
        };
        for (key, v) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_layers", self.num_layers),
            ("num_heads", self.num_heads),
            ("num_kv_heads", self.num_kv_heads),
            ("max_seq_len", self.max_seq_len),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1".into());
            }
        }
        if !self.num_heads.is_multiple_of(self.num_kv_heads) {
            return bad(
                "num_kv_heads",
                format!(
                    "{} query heads are not a multiple of {} KV heads",
                    self.num_heads, self.num_kv_heads
                ),
            );
        }
        if self.head_dim == 0 || !self.head_dim.is_multiple_of(2) {
            return bad(
                "head_dim",
                format!(
                    "{} must be even and positive (RoPE rotates pairs)",
                    self.head_dim
                ),
            );
        }
        if self.num_heads * self.head_dim != self.hidden_size {
            return bad(
                "head_dim",
                format!(
                    "{} heads of {} do not make the hidden size {}",
                    self.num_heads, self.head_dim, self.hidden_size
                ),
            );
        }
        if !(self.rope_theta.is_finite() && self.rope_theta > 1.0) {
            return bad("rope_theta", format!("{} must be above 1", self.rope_theta));
        }
        if !(self.rms_eps.is_finite() && self.rms_eps > 0.0) {
            return bad("rms_eps", format!("{} must be positive", self.rms_eps));
        }
        Ok(())
    }

    /// Reads `llama.*` metadata: `general.architecture` must be `llama`; the vocabulary size is
    /// `llama.vocab_size` or else the length of `tokenizer.ggml.tokens`.
    pub fn from_gguf(gguf: &Gguf, max_seq_len: usize) -> Result<Self, LlamaError> {
        let arch = gguf.str("general.architecture")?;
        if arch != ARCH {
            return Err(LlamaError::BadConfig {
                key: "general.architecture".into(),
                reason: format!("is {arch:?}, expected \"llama\""),
            });
        }
        let u = |key: &str| -> Result<usize, LlamaError> {
            Ok(gguf.u32(&format!("{ARCH}.{key}"))? as usize)
        };
        let f = |key: &str| -> Result<f64, LlamaError> {
            Ok(f64::from(f32::from_bits(
                gguf.f32_bits(&format!("{ARCH}.{key}"))?,
            )))
        };
        let hidden_size = u("embedding_length")?;
        let num_heads = u("attention.head_count")?;
        let num_kv_heads = match gguf.get(&format!("{ARCH}.attention.head_count_kv")) {
            Some(_) => u("attention.head_count_kv")?,
            None => num_heads,
        };
        let vocab_size = match gguf.get(&format!("{ARCH}.vocab_size")) {
            Some(_) => u("vocab_size")?,
            None => gguf.array("tokenizer.ggml.tokens")?.items.len(),
        };
        let head_dim = hidden_size.checked_div(num_heads).unwrap_or(0);
        if gguf.get(&format!("{ARCH}.rope.dimension_count")).is_some() {
            let rope_dims = u("rope.dimension_count")?;
            if rope_dims != head_dim {
                return Err(LlamaError::BadConfig {
                    key: format!("{ARCH}.rope.dimension_count"),
                    reason: format!(
                        "is {rope_dims}; only full-head RoPE (head dim {head_dim}) is supported"
                    ),
                });
            }
        }
        let config = Self {
            vocab_size,
            hidden_size,
            intermediate_size: u("feed_forward_length")?,
            num_layers: u("block_count")?,
            num_heads,
            num_kv_heads,
            head_dim,
            rope_theta: match gguf.get(&format!("{ARCH}.rope.freq_base")) {
                Some(_) => f("rope.freq_base")?,
                None => 10_000.0,
            },
            rms_eps: f("attention.layer_norm_rms_epsilon")?,
            max_seq_len,
        };
        config.validate()?;
        Ok(config)
    }
}
