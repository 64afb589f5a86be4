//! Adapters in Hugging Face PEFT's layout: a directory with `adapter_config.json` and
//! `adapter_model.safetensors`.
//!
//! Tensor names are PEFT's: `{module_path}.lora_A.weight` of shape `[rank, d_in]` and
//! `{module_path}.lora_B.weight` of shape `[d_out, rank]` (PyTorch's `[out, in]` layout, the
//! transpose of burn's), for module paths such as
//! `base_model.model.model.layers.0.self_attn.q_proj` ([`llama_module_path`]). They are written
//! as F32; F32, BF16 and F16 are read (the latter two exactly widened to f32).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use burn::tensor::backend::Backend;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::gse_file::check_unmerged_unique;
use crate::gsq::tensor_f32;
use crate::{LoraConfig, LoraError, LoraLinear};

/// File name of the PEFT adapter configuration.
pub const PEFT_CONFIG_FILE: &str = "adapter_config.json";
/// File name of the PEFT adapter weights.
pub const PEFT_WEIGHTS_FILE: &str = "adapter_model.safetensors";

/// PEFT's module path of a Llama-family (e.g. SmolLM2) projection in layer `layer`:
/// `q_proj`, `k_proj`, `v_proj`, `o_proj` live under `self_attn`, the others (`gate_proj`,
/// `up_proj`, `down_proj`) under `mlp`.
pub fn llama_module_path(layer: usize, module: &str) -> String {
    let block = match module {
        "q_proj" | "k_proj" | "v_proj" | "o_proj" => "self_attn",
        _ => "mlp",
    };
    format!("base_model.model.model.layers.{layer}.{block}.{module}")
}

/// PEFT's name of a layer's `A` tensor (`[rank, d_in]`).
pub fn peft_lora_a_name(module_path: &str) -> String {
    format!("{module_path}.lora_A.weight")
}

/// PEFT's name of a layer's `B` tensor (`[d_out, rank]`).
pub fn peft_lora_b_name(module_path: &str) -> String {
    format!("{module_path}.lora_B.weight")
}

/// `target_modules` in PEFT's config: a list of names, or one string (a regex or
/// `"all-linear"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PeftTargets {
    List(Vec<String>),
    Pattern(String),
}

fn default_true() -> bool {
    true
}

fn default_init() -> Value {
    Value::Bool(true)
}

/// The keys of PEFT's `adapter_config.json` for a LoRA adapter. Keys this struct does not
/// name are kept in `extra` and written back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeftLoraConfig {
    pub peft_type: String,
    #[serde(default)]
    pub task_type: Option<String>,
    pub r: usize,
    pub lora_alpha: f64,
    #[serde(default)]
    pub lora_dropout: f64,
    pub target_modules: PeftTargets,
    #[serde(default = "none")]
    pub bias: String,
    #[serde(default)]
    pub base_model_name_or_path: Option<String>,
    #[serde(default)]
    pub fan_in_fan_out: bool,
    #[serde(default = "default_true")]
    pub inference_mode: bool,
    #[serde(default = "default_init")]
    pub init_lora_weights: Value,
    #[serde(default)]
    pub modules_to_save: Option<Vec<String>>,
    #[serde(default)]
    pub layers_to_transform: Option<Value>,
    #[serde(default)]
    pub layers_pattern: Option<Value>,
    #[serde(default)]
    pub rank_pattern: Map<String, Value>,
    #[serde(default)]
    pub alpha_pattern: Map<String, Value>,
    #[serde(default)]
    pub use_rslora: bool,
    #[serde(default)]
    pub use_dora: bool,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn none() -> String {
    "none".into()
}

impl PeftLoraConfig {
    /// PEFT's config for `config` on `base_model` (a causal LM, for inference).
    pub fn from_config(config: &LoraConfig, base_model: &str) -> Self {
        Self {
            peft_type: "LORA".into(),
            task_type: Some("CAUSAL_LM".into()),
            r: config.rank,
            lora_alpha: config.alpha,
            lora_dropout: config.dropout,
            target_modules: PeftTargets::List(config.target_modules.clone()),
            bias: none(),
            base_model_name_or_path: Some(base_model.into()),
            fan_in_fan_out: false,
            inference_mode: true,
            init_lora_weights: Value::Bool(true),
            modules_to_save: None,
            layers_to_transform: None,
            layers_pattern: None,
            rank_pattern: Map::new(),
            alpha_pattern: Map::new(),
            use_rslora: false,
            use_dora: false,
            revision: None,
            extra: Map::new(),
        }
    }

    /// This crate's config, refusing what it cannot reproduce: a `peft_type` other than
    /// `LORA`, trained biases, rsLoRA, DoRA, per-module rank/alpha patterns, and
    /// `modules_to_save`. A pattern `target_modules` is kept as a one-element list.
    pub fn to_config(&self) -> Result<LoraConfig, LoraError> {
        let unsupported = |what: String| Err(LoraError::UnsupportedPeft(what));
        if self.peft_type != "LORA" {
            return unsupported(format!("peft_type is {:?}, not \"LORA\"", self.peft_type));
        }
        if self.bias != "none" {
            return unsupported(format!("bias is {:?} (only \"none\")", self.bias));
        }
        if self.use_rslora {
            return unsupported("use_rslora (scale alpha/sqrt(r))".into());
        }
        if self.use_dora {
            return unsupported("use_dora".into());
        }
        if !self.rank_pattern.is_empty() || !self.alpha_pattern.is_empty() {
            return unsupported("per-module rank_pattern/alpha_pattern".into());
        }
        if self.modules_to_save.as_ref().is_some_and(|m| !m.is_empty()) {
            return unsupported("modules_to_save (full module weights)".into());
        }
        let targets = match &self.target_modules {
            PeftTargets::List(l) => l.clone(),
            PeftTargets::Pattern(p) => vec![p.clone()],
        };
        let config = LoraConfig::new()
            .with_rank(self.r)
            .with_alpha(self.lora_alpha)
            .with_dropout(self.lora_dropout)
            .with_target_modules(targets);
        config.validate()?;
        Ok(config)
    }
}

/// Layers to save must have distinct paths and `config`'s rank and alpha (merged layers may be
/// saved: their `A` and `B` are intact).
pub(crate) fn check_layers<'a, B: Backend + 'a>(
    config: &LoraConfig,
    layers: impl Iterator<Item = (&'a str, &'a LoraLinear<B>)>,
) -> Result<(), LoraError> {
    let mut seen = BTreeSet::new();
    for (name, layer) in layers {
        if !seen.insert(name) {
            return Err(LoraError::DuplicateName(name.to_string()));
        }
        if layer.rank() != config.rank || layer.alpha().to_bits() != config.alpha.to_bits() {
            return Err(LoraError::Layer {
                name: name.to_string(),
                reason: format!(
                    "rank {} / alpha {} differ from the config's {} / {}",
                    layer.rank(),
                    layer.alpha(),
                    config.rank,
                    config.alpha
                ),
            });
        }
    }
    Ok(())
}

/// Row-major `[rows, cols]` values transposed to `[cols, rows]`.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// The two files of a PEFT adapter, in memory.
#[derive(Clone, Debug)]
pub struct PeftAdapterFiles {
    /// `adapter_config.json`.
    pub config_json: String,
    /// `adapter_model.safetensors`.
    pub safetensors: Vec<u8>,
}

/// The PEFT files of `layers` (`(module path, layer)` pairs, e.g. from [`llama_module_path`]);
/// every layer must have `config`'s rank and alpha.
pub fn peft_files<B: Backend>(
    config: &LoraConfig,
    base_model: &str,
    layers: &[(String, &LoraLinear<B>)],
) -> Result<PeftAdapterFiles, LoraError> {
    config.validate()?;
    check_layers(config, layers.iter().map(|(n, l)| (n.as_str(), *l)))?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(2 * layers.len());
    for (path, layer) in layers {
        let [d_in, r] = layer.lora_a_shape();
        let [_, d_out] = layer.lora_b_shape();
        let a = transpose(&tensor_f32(&layer.lora_a.val())?, d_in, r);
        let b = transpose(&tensor_f32(&layer.lora_b.val())?, r, d_out);
        for (name, shape, values) in [
            (peft_lora_a_name(path), vec![r, d_in], a),
            (peft_lora_b_name(path), vec![d_out, r], b),
        ] {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            tensors.push((name, shape, bytes));
        }
    }
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LoraError::SafeTensors(e.to_string()))?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let safetensors = safetensors::serialize(views, Some(metadata))
        .map_err(|e| LoraError::SafeTensors(e.to_string()))?;
    let config_json =
        serde_json::to_string_pretty(&PeftLoraConfig::from_config(config, base_model))?;
    Ok(PeftAdapterFiles {
        config_json,
        safetensors,
    })
}

/// Writes `adapter_config.json` and `adapter_model.safetensors` of `layers` into `dir`
/// (created if missing); see [`peft_files`].
pub fn save_peft<B: Backend>(
    dir: impl AsRef<Path>,
    config: &LoraConfig,
    base_model: &str,
    layers: &[(String, &LoraLinear<B>)],
) -> Result<(), LoraError> {
    let files = peft_files(config, base_model, layers)?;
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|e| LoraError::io(dir, e))?;
    let config_path = dir.join(PEFT_CONFIG_FILE);
    std::fs::write(&config_path, files.config_json).map_err(|e| LoraError::io(&config_path, e))?;
    let weights_path = dir.join(PEFT_WEIGHTS_FILE);
    std::fs::write(&weights_path, files.safetensors).map_err(|e| LoraError::io(&weights_path, e))
}

/// Reads a PEFT adapter directory into `layers` (see [`apply_peft`]) and returns its config.
pub fn load_peft<B: Backend>(
    dir: impl AsRef<Path>,
    layers: &mut [(String, &mut LoraLinear<B>)],
) -> Result<PeftLoraConfig, LoraError> {
    let dir = dir.as_ref();
    let config_path = dir.join(PEFT_CONFIG_FILE);
    let json = std::fs::read_to_string(&config_path).map_err(|e| LoraError::io(&config_path, e))?;
    let weights_path = dir.join(PEFT_WEIGHTS_FILE);
    let weights = std::fs::read(&weights_path).map_err(|e| LoraError::io(&weights_path, e))?;
    apply_peft(&json, &weights, layers)
}

/// A safetensors tensor's values as f32, exactly.
fn view_f32(name: &str, view: &safetensors::tensor::TensorView<'_>) -> Result<Vec<f32>, LoraError> {
    let data = view.data();
    match view.dtype() {
        Dtype::F32 => Ok(data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()),
        Dtype::BF16 => Ok(data
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect()),
        Dtype::F16 => Ok(data
            .chunks_exact(2)
            .map(|c| f32::from_bits(f16_to_f32_bits(u16::from_le_bytes([c[0], c[1]]))))
            .collect()),
        other => Err(LoraError::UnsupportedDType {
            name: name.to_string(),
            dtype: format!("{other:?}"),
        }),
    }
}

/// IEEE binary16 bits widened to binary32 bits (exact; integer operations only).
fn f16_to_f32_bits(h: u16) -> u32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x03ff) as u32;
    match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = frac * 2^-24; normalize into an f32.
            let shift = frac.leading_zeros() - 21; // bring the top bit to position 10
            let frac = (frac << shift) & 0x03ff;
            let exp = 127 - 15 + 1 - shift;
            sign | (exp << 23) | (frac << 13)
        }
        (0x1f, _) => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    }
}

/// Loads PEFT files (the config's JSON text and the safetensors bytes) into `layers`: every
/// layer's `lora_A`/`lora_B` must be present with the layer's (transposed) shapes, and every
/// tensor of the file must belong to a given layer. Nothing is changed unless all of them fit.
/// The layers take the file's alpha and dropout; their rank must be the file's `r`.
pub fn apply_peft<B: Backend>(
    config_json: &str,
    safetensors_bytes: &[u8],
    layers: &mut [(String, &mut LoraLinear<B>)],
) -> Result<PeftLoraConfig, LoraError> {
    let peft: PeftLoraConfig = serde_json::from_str(config_json)?;
    let config = peft.to_config()?;
    check_unmerged_unique(layers.iter().map(|(n, l)| (n.as_str(), &**l)))?;
    let file = SafeTensors::deserialize(safetensors_bytes)
        .map_err(|e| LoraError::SafeTensors(e.to_string()))?;
    let by_name: BTreeMap<&str, safetensors::tensor::TensorView<'_>> = file.iter().collect();
    let mut used = BTreeSet::new();
    let mut values = Vec::with_capacity(layers.len());
    for (path, layer) in layers.iter() {
        if layer.rank() != config.rank {
            return Err(LoraError::Layer {
                name: path.clone(),
                reason: format!(
                    "rank {} differs from the file's r = {}",
                    layer.rank(),
                    config.rank
                ),
            });
        }
        let [d_in, r] = layer.lora_a_shape();
        let [_, d_out] = layer.lora_b_shape();
        let mut pair = Vec::with_capacity(2);
        for (name, shape) in [
            (peft_lora_a_name(path), [r, d_in]),
            (peft_lora_b_name(path), [d_out, r]),
        ] {
            let (key, view) = by_name
                .get_key_value(name.as_str())
                .ok_or_else(|| LoraError::MissingTensor(name.clone()))?;
            if view.shape() != shape {
                return Err(LoraError::ShapeMismatch {
                    name,
                    expected: shape.to_vec(),
                    found: view.shape().to_vec(),
                });
            }
            let values = view_f32(&name, view)?;
            if values.len() != shape[0] * shape[1] {
                return Err(LoraError::SafeTensors(format!(
                    "tensor `{name}` holds {} values for shape {shape:?}",
                    values.len()
                )));
            }
            // PEFT's [rows, cols] back to burn's [cols, rows].
            pair.push(transpose(&values, shape[0], shape[1]));
            used.insert(*key);
        }
        values.push(pair);
    }
    if let Some(extra) = by_name.keys().find(|k| !used.contains(*k)) {
        return Err(LoraError::UnexpectedTensor(extra.to_string()));
    }
    for ((_, layer), mut pair) in layers.iter_mut().zip(values) {
        let b = pair.pop().unwrap_or_default();
        let a = pair.pop().unwrap_or_default();
        layer.set_adapter(a, b);
        layer.set_hyper(config.alpha, config.dropout);
    }
    Ok(peft)
}
