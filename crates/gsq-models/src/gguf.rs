//! GGUF files (versions 2 and 3): parsing, typed metadata and tensor conversion.
//!
//! [`Gguf::open`] reads a file into memory and checks its whole layout up front: every length
//! and count against the bytes left, every tensor's data against the data section. Any
//! malformed file is a [`GgufError`] naming what is wrong; nothing panics and nothing allocates
//! more than the file could hold.
//!
//! [`TensorView`] converts F32, F16, Q8_0, Q4_0 and Q4_1 tensors to exact [`gse::Dyadic`] values,
//! to [`gse::GseBlocks`] of any format and to f32 bit patterns, with integer arithmetic only.
//! Shapes are exposed row-major ([`TensorInfo::shape`]): GGUF's `[ne0 = in, ne1 = out]` is
//! `[out, in]`.

mod block_gse;
mod convert;
mod dequant;
mod error;
pub mod f16;
mod file;
mod ggml_type;
mod parse;
mod reader;
mod tensor;
mod value;

pub use convert::CHUNK_VALUES;
pub use error::GgufError;
pub use file::Gguf;
pub use ggml_type::GgmlType;
pub use parse::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT, MAGIC, MAX_DIMS, MAX_NESTING};
pub use tensor::{TensorInfo, TensorView};
pub use value::{Array, Value, ValueType, f64_bits_to_dyadic};
