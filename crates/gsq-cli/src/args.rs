//! Command-line arguments of `gsq` (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gse::GseFormat;

#[derive(Parser, Debug)]
#[command(
    name = "gsq",
    version,
    about = "Integer-only LoRA fine-tuning of SmolLM2 on burn (Autodiff<Gsq>) next to f32"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// LoRA fine-tune on a text (default: SmolLM2-135M on Moby Dick, Gsq and Flex side by side).
    Finetune(FinetuneArgs),
    /// Held-out perplexity and a generated continuation, with or without an adapter.
    Eval(EvalArgs),
    /// Download the model and corpora into the asset cache (pinned sha256).
    Fetch(FetchArgs),
}

/// The backends a run can use.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn-gsq: GSE integers, integer arithmetic only.
    Gsq,
    /// burn-flex, f32.
    Flex,
    /// burn-ndarray, f32.
    Ndarray,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Gsq => "gsq",
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
        }
    }
}

/// GSE formats selectable on the command line.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Int8,
    Int6,
    Int5,
    Int4,
}

impl Format {
    pub fn gse(self) -> GseFormat {
        match self {
            Self::Int8 => GseFormat::INT8,
            Self::Int6 => GseFormat::INT6,
            Self::Int5 => GseFormat::INT5,
            Self::Int4 => GseFormat::INT4,
        }
    }

    /// The same mantissa width with `group_size` values per shared exponent.
    pub fn gse_grouped(self, group_size: u32) -> Result<GseFormat, gse::FormatError> {
        GseFormat::new(self.gse().mantissa_bits(), group_size)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Int8 => "int8",
            Self::Int6 => "int6",
            Self::Int5 => "int5",
            Self::Int4 => "int4",
        }
    }
}

/// Model, text and precision, shared by `finetune` and `eval`.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// GGUF model file (default: SmolLM2-135M-Instruct Q4_1 from the asset cache, fetched if
    /// missing).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// UTF-8 training/evaluation text; the last 10% is held out (default: Moby Dick).
    #[arg(long)]
    pub text: Option<PathBuf>,
    /// GSE format of the linear layers' matmul operands on Gsq (weights, activations and
    /// gradients of q/k/v/o/gate/up/down and the head); attention's products stay at INT8.
    #[arg(long, value_enum, default_value = "int8")]
    pub format: Format,
    /// Values per shared exponent in the linear layers' operands (a power of two, 2..=256);
    /// smaller groups keep an outlier channel from flushing its neighbours.
    #[arg(long, default_value_t = 32, value_parser = parse_group)]
    pub group: u32,
    /// GSE format of the frozen base weights on Gsq.
    #[arg(long, value_enum, default_value = "int8")]
    pub base_format: Format,
    /// Tokens per sequence (training windows and evaluation windows).
    #[arg(long, default_value_t = 64)]
    pub seq_len: usize,
    /// Held-out tokens scored for perplexity.
    #[arg(long, default_value_t = 512)]
    pub eval_tokens: usize,
    /// Prompt of the generated continuation.
    #[arg(
        long,
        default_value = "Call me Ishmael. Some years ago, never mind how long precisely,"
    )]
    pub prompt: String,
    /// Tokens generated after the prompt (0: none).
    #[arg(long, default_value_t = 12)]
    pub gen_tokens: usize,
    /// Sampling temperature of the generation; 0 is greedy.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Seed of data order, LoRA initialization and sampling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Args, Debug, Clone)]
pub struct FinetuneArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Backends to run, one after the other (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [BackendKind::Gsq, BackendKind::Flex])]
    pub backend: Vec<BackendKind>,
    /// LoRA rank.
    #[arg(long, default_value_t = 8)]
    pub rank: usize,
    /// LoRA alpha (the update is scaled by alpha / rank).
    #[arg(long, default_value_t = 16.0)]
    pub alpha: f64,
    /// Projections that get adapters (comma-separated): q_proj k_proj v_proj o_proj gate_proj
    /// up_proj down_proj.
    #[arg(long, value_delimiter = ',', default_values_t = ["q_proj".to_string(), "v_proj".to_string()])]
    pub targets: Vec<String>,
    /// Optimizer steps.
    #[arg(long, default_value_t = 24)]
    pub steps: usize,
    /// Sequences per step.
    #[arg(long, default_value_t = 4)]
    pub batch: usize,
    /// AdamW learning rate (no weight decay).
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,
    /// Output folder: report.json, loss.png, adapters.
    #[arg(long, default_value = "runs/finetune")]
    pub out: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Backend to evaluate on.
    #[arg(long, value_enum, default_value = "gsq")]
    pub backend: BackendKind,
    /// A LoRA adapter: a PEFT folder (adapter_config.json + adapter_model.safetensors) or a
    /// GSE-native `.gse` file.
    #[arg(long)]
    pub adapter: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct FetchArgs {
    /// Cache folder (default: $GSQ_ASSETS or assets-cache/ at the workspace root).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

fn parse_group(text: &str) -> Result<u32, String> {
    let group: u32 = text.parse().map_err(|e| format!("{e}"))?;
    if !(2..=256).contains(&group) || !group.is_power_of_two() {
        return Err(format!(
            "group size must be a power of two in 2..=256, got {group}"
        ));
    }
    Ok(group)
}
