//! gsq-lora: LoRA for any burn backend, so that integer-only fine-tuning on
//! `Autodiff<burn_gsq::Gsq>` can be compared with f32 on the same code.
//!
//! * [`LoraConfig`] — rank, alpha, dropout, target modules, the initializer of `A`.
//! * [`LoraLinear`] — a frozen base linear layer plus `(alpha / rank)·dropout(x)·A·B`, with
//!   [`LoraLinear::merge`] / [`LoraLinear::unmerge`].
//! * PEFT adapter directories ([`save_peft`], [`load_peft`]): `adapter_config.json` and
//!   `adapter_model.safetensors` with PEFT's keys and tensor names.
//! * GSE-native adapter files ([`save_gse`], [`load_gse`], [`GseAdapter`]): the GSE blocks
//!   themselves, bit for bit on `Gsq`, with a checksum.
//! * [`gsq_blocks`], [`gse_blocks_of`], [`gsq_from_blocks`] — the GSE storage behind `Gsq`
//!   tensors.
//!
//! No float arithmetic is done here: the adapter scale is applied as `mul_scalar(alpha)` then
//! `div_scalar(rank)`, computed by the backend.
#![deny(clippy::float_arithmetic)]

mod config;
mod error;
mod gse_file;
mod gsq;
mod linear;
mod peft;

pub use config::LoraConfig;
pub use error::LoraError;
pub use gse_file::{
    GSE_MAGIC, GSE_VERSION, GseAdapter, GseAdapterTensor, gse_lora_a_name, gse_lora_b_name,
    load_gse, save_gse,
};
pub use gsq::{as_gsq, gse_blocks_of, gse_tensor, gsq_blocks, gsq_from_blocks};
pub use linear::LoraLinear;
pub use peft::{
    PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, PeftAdapterFiles, PeftLoraConfig, PeftTargets, apply_peft,
    llama_module_path, load_peft, peft_files, peft_lora_a_name, peft_lora_b_name, save_peft,
};
