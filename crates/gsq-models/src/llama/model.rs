//! [`LlamaModel`]: token embedding, decoder blocks, final RMSNorm and the (tied) output head.

use burn::module::{Module, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{RmsNorm, RmsNormConfig};
use burn::tensor::backend::Backend;
use burn::tensor::module::{embedding, linear};
use burn::tensor::{Int, Tensor};
use gsq_lora::{LoraConfig, LoraLinear, llama_module_path};

use super::LlamaError;
use super::attention::Attention;
use super::config::LlamaConfig;
use super::linear::{Projection, frozen};
use super::mlp::Mlp;
use super::rope::Rope;

/// Names of the seven projections of a block, as LoRA targets (PEFT's names).
pub const PROJECTIONS: [&str; 7] = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
];

/// One pre-norm decoder block: `x + attn(norm(x))`, then `x + mlp(norm(x))`.
#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    pub attn_norm: RmsNorm<B>,
    pub attn: Attention<B>,
    pub ffn_norm: RmsNorm<B>,
    pub mlp: Mlp<B>,
}

impl<B: Backend> Block<B> {
    pub fn forward(&self, x: Tensor<B, 3>, rope: &Rope<B>) -> Tensor<B, 3> {
        let x = x.clone() + self.attn.forward(self.attn_norm.forward(x), rope);
        x.clone() + self.mlp.forward(self.ffn_norm.forward(x))
    }

    /// The projection called `name` (one of [`PROJECTIONS`]).
    pub fn projection(&self, name: &str) -> Option<&Projection<B>> {
        Some(match name {
            "q_proj" => &self.attn.q_proj,
            "k_proj" => &self.attn.k_proj,
            "v_proj" => &self.attn.v_proj,
            "o_proj" => &self.attn.o_proj,
            "gate_proj" => &self.mlp.gate_proj,
            "up_proj" => &self.mlp.up_proj,
            "down_proj" => &self.mlp.down_proj,
            _ => return None,
        })
    }

    pub fn projection_mut(&mut self, name: &str) -> Option<&mut Projection<B>> {
        Some(match name {
            "q_proj" => &mut self.attn.q_proj,
            "k_proj" => &mut self.attn.k_proj,
            "v_proj" => &mut self.attn.v_proj,
            "o_proj" => &mut self.attn.o_proj,
            "gate_proj" => &mut self.mlp.gate_proj,
            "up_proj" => &mut self.mlp.up_proj,
            "down_proj" => &mut self.mlp.down_proj,
            _ => return None,
        })
    }
}

/// A Llama-architecture causal language model. Every base parameter is frozen; only LoRA
/// adapters added by [`LlamaModel::with_lora`] train.
#[derive(Module, Debug)]
pub struct LlamaModel<B: Backend> {
    /// Token embedding `[vocab, hidden]`, also the output head when `head` is `None`.
    pub embed: Param<Tensor<B, 2>>,
    pub layers: Vec<Block<B>>,
    pub norm: RmsNorm<B>,
    /// An untied output head `[hidden, vocab]`; `None` (SmolLM2) ties it to `embed`.
    pub head: Option<Param<Tensor<B, 2>>>,
    pub rope: Rope<B>,
}

/// A frozen RMSNorm over `gamma` `[hidden]`.
pub fn rms_norm<B: Backend>(gamma: Tensor<B, 1>, eps: f64) -> RmsNorm<B> {
    let [hidden] = gamma.dims();
    let mut norm = RmsNormConfig::new(hidden)
        .with_epsilon(eps)
        .init(&gamma.device());
    norm.gamma = frozen(gamma);
    norm
}

impl<B: Backend> LlamaModel<B> {
    /// A model with random weights (burn's default initializers, seeded by `B::seed`), all
    /// frozen: for tests of the architecture.
    pub fn random(config: &LlamaConfig, device: &B::Device) -> Result<Self, LlamaError> {
        config.validate()?;
        let (h, kv, f) = (
            config.hidden_size,
            config.kv_dim(),
            config.intermediate_size,
        );
        let w = |d_in: usize, d_out: usize| {
            let std_normal = burn::tensor::Distribution::Normal(0.0, 1.0);
            Projection::frozen(
                Tensor::random([d_in, d_out], std_normal, device).div_scalar((d_in as f64).sqrt()),
            )
        };
        let ones = || rms_norm(Tensor::ones([h], device), config.rms_eps);
        let layers = (0..config.num_layers)
            .map(|_| Block {
                attn_norm: ones(),
                attn: Attention {
                    q_proj: w(h, h),
                    k_proj: w(h, kv),
                    v_proj: w(h, kv),
                    o_proj: w(h, h),
                    num_heads: config.num_heads,
                    num_kv_heads: config.num_kv_heads,
                    head_dim: config.head_dim,
                },
                ffn_norm: ones(),
                mlp: Mlp {
                    gate_proj: w(h, f),
                    up_proj: w(h, f),
                    down_proj: w(f, h),
                },
            })
            .collect();
        let embed = Tensor::random(
            [config.vocab_size, h],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            device,
        );
        Ok(Self {
            embed: frozen(embed),
            layers,
            norm: ones(),
            head: None,
            rope: Rope::new(
                config.head_dim,
                config.max_seq_len,
                config.rope_theta,
                device,
            ),
        })
    }

    /// Adds a fresh LoRA adapter to every projection whose PEFT path
    /// (`base_model.model.model.layers.N.self_attn.q_proj`, …) is one of `config`'s targets.
    /// `A` is drawn from the backend's generator: call `B::seed` first for reproducibility.
    pub fn with_lora(
        mut self,
        config: &LoraConfig,
        device: &B::Device,
    ) -> Result<Self, LlamaError> {
        config.validate()?;
        let known = |t: &String| {
            PROJECTIONS
                .iter()
                .any(|p| t == p || t.ends_with(&format!(".{p}")))
        };
        if let Some(t) = config.target_modules.iter().find(|t| !known(t)) {
            return Err(LlamaError::BadConfig {
                key: "target_modules".into(),
                reason: format!("{t:?} is not one of {PROJECTIONS:?}"),
            });
        }
        for (i, layer) in self.layers.iter_mut().enumerate() {
            for name in PROJECTIONS {
                if config.is_target(&llama_module_path(i, name))
                    && let Some(p) = layer.projection_mut(name)
                {
                    let taken = std::mem::replace(
                        p,
                        Projection {
                            base: None,
                            lora: None,
                        },
                    );
                    *p = taken.with_lora(config, device)?;
                }
            }
        }
        Ok(self)
    }

    /// The adapters, named by their PEFT module paths (for `gsq_lora::save_peft`/`save_gse`).
    pub fn lora_layers(&self) -> Vec<(String, &LoraLinear<B>)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for name in PROJECTIONS {
                if let Some(l) = layer.projection(name).and_then(|p| p.lora.as_ref()) {
                    out.push((llama_module_path(i, name), l));
                }
            }
        }
        out
    }

    /// The adapters, mutably (for `gsq_lora::load_peft`/`load_gse`).
    pub fn lora_layers_mut(&mut self) -> Vec<(String, &mut LoraLinear<B>)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let Block { attn, mlp, .. } = layer;
            let projections = [
                ("q_proj", &mut attn.q_proj),
                ("k_proj", &mut attn.k_proj),
                ("v_proj", &mut attn.v_proj),
                ("o_proj", &mut attn.o_proj),
                ("gate_proj", &mut mlp.gate_proj),
                ("up_proj", &mut mlp.up_proj),
                ("down_proj", &mut mlp.down_proj),
            ];
            for (name, p) in projections {
                if let Some(l) = p.lora.as_mut() {
                    out.push((llama_module_path(i, name), l));
                }
            }
        }
        out
    }

    pub fn vocab_size(&self) -> usize {
        self.embed.dims()[0]
    }

    pub fn max_seq_len(&self) -> usize {
        self.rope.max_seq_len()
    }

    /// The final hidden states `[batch, seq, hidden]` (after the last RMSNorm) of `ids`
    /// `[batch, seq]`.
    pub fn hidden(&self, ids: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        let mut x = embedding(self.embed.val(), ids);
        for layer in &self.layers {
            x = layer.forward(x, &self.rope);
        }
        self.norm.forward(x)
    }

    /// Logits `[.., vocab]` of hidden states `[.., hidden]`.
    pub fn head<const D: usize>(&self, hidden: Tensor<B, D>) -> Tensor<B, D> {
        match &self.head {
            Some(w) => linear(hidden, w.val(), None),
            None => linear(hidden, self.embed.val().transpose(), None),
        }
    }

    /// Logits `[batch, seq, vocab]` of `ids` `[batch, seq]`.
    pub fn forward(&self, ids: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        self.head(self.hidden(ids))
    }

    /// Logits `[batch, vocab]` of the last position only (for generation).
    pub fn forward_last(&self, ids: Tensor<B, 2, Int>) -> Tensor<B, 2> {
        let h = self.hidden(ids);
        let [b, t, d] = h.dims();
        self.head(h.slice([0..b, t - 1..t, 0..d]).reshape([b, d]))
    }

    /// Mean next-token cross-entropy of `ids` `[batch, seq + 1]`: positions `0..seq` predict
    /// `1..=seq`.
    pub fn loss(&self, ids: Tensor<B, 2, Int>) -> Tensor<B, 1> {
        let [b, n] = ids.dims();
        let inputs = ids.clone().slice([0..b, 0..n - 1]);
        let targets = ids.slice([0..b, 1..n]).reshape([b * (n - 1)]);
        let logits = self.forward(inputs);
        let v = logits.dims()[2];
        let device = logits.device();
        CrossEntropyLossConfig::new()
            .init(&device)
            .forward(logits.reshape([b * (n - 1), v]), targets)
    }
}
