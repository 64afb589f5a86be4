//! The `gsq` command: LoRA fine-tuning and evaluation of a Llama-architecture GGUF model
//! (SmolLM2-135M by default) on `Autodiff<Gsq>` (integer-only) and on f32 backends, side by
//! side. See `gsq --help`.

pub mod args;
pub mod commands;
pub mod data;
pub mod plot;
pub mod report;
pub mod run;

/// The base model named in PEFT adapter configs.
pub const BASE_MODEL: &str = "HuggingFaceTB/SmolLM2-135M-Instruct";
