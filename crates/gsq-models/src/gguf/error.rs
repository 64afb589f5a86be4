//! Everything that can be wrong with a GGUF file, each error naming what and where.

use std::path::PathBuf;

use super::ggml_type::GgmlType;
use super::reader::ShortRead;

#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a GGUF file: the magic is {found:02x?}, expected \"GGUF\" (47 47 55 46)")]
    BadMagic { found: Vec<u8> },
    #[error(
        "unsupported GGUF version {version}: only little-endian versions 2 and 3 are read{}",
        if *version > 0xffff { " (a byte-swapped version: a big-endian file?)" } else { "" }
    )]
    UnsupportedVersion { version: u32 },
    #[error(
        "truncated file: {what} needs {needed} bytes at offset {offset}, only {available} left"
    )]
    Truncated {
        what: String,
        offset: u64,
        needed: u64,
        available: u64,
    },
    #[error("{what} says {count} {unit}, more than the {remaining} bytes left in the file hold")]
    CountBeyondFile {
        what: String,
        count: u64,
        unit: &'static str,
        remaining: u64,
    },
    #[error("{what} has unknown value type {type_id} (GGUF defines 0..=12)")]
    UnknownValueType { what: String, type_id: u32 },
    #[error("{what} nests arrays deeper than {limit} levels")]
    NestingTooDeep { what: String, limit: usize },
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 { what: String },
    #[error("{what} is a bool stored as byte {byte}, expected 0 or 1")]
    InvalidBool { what: String, byte: u8 },
    #[error("metadata key {key:?} appears twice")]
    DuplicateKey { key: String },
    #[error("tensor {name:?} appears twice")]
    DuplicateTensor { name: String },
    #[error("general.alignment is {value}; it must be a power of two")]
    BadAlignment { value: u64 },
    #[error("tensor {tensor:?} has {n_dims} dimensions; GGUF allows at most 4")]
    TooManyDims { tensor: String, n_dims: u32 },
    #[error("tensor {tensor:?} has unknown ggml type {type_id}")]
    UnknownTensorType { tensor: String, type_id: u32 },
    #[error("tensor {tensor:?} with dims {dims:?} ({ty}): {reason}")]
    BadShape {
        tensor: String,
        dims: Vec<u64>,
        ty: GgmlType,
        reason: String,
    },
    #[error(
        "tensor {tensor:?} starts at data offset {offset}, not a multiple of the alignment {alignment}"
    )]
    MisalignedTensor {
        tensor: String,
        offset: u64,
        alignment: u64,
    },
    #[error(
        "tensor {tensor:?} data (bytes {offset}..{end} of the data section) is beyond the file: \
         the data section has {data_len} bytes"
    )]
    TensorOutOfBounds {
        tensor: String,
        offset: u64,
        end: u64,
        data_len: u64,
    },
    #[error(
        "tensor {tensor:?} has type {ty}, which cannot be converted (supported: F32, F16, Q8_0, Q4_0, Q4_1)"
    )]
    UnsupportedTensorType { tensor: String, ty: GgmlType },
    #[error("tensor {tensor:?} holds a NaN or infinity at {location}")]
    NonFinite { tensor: String, location: String },
    #[error("no tensor named {name:?}")]
    MissingTensor { name: String },
    #[error("metadata key {key:?} is missing")]
    MissingKey { key: String },
    #[error("metadata key {key:?} is {found}, expected {expected}")]
    WrongType {
        key: String,
        expected: &'static str,
        found: String,
    },
}

impl GgufError {
    /// A [`ShortRead`] while reading `what`.
    pub(crate) fn truncated(short: ShortRead, what: impl Into<String>) -> Self {
        Self::Truncated {
            what: what.into(),
            offset: short.offset,
            needed: short.needed,
            available: short.available,
        }
    }
}
