//! [`LoraError`]: everything that can go wrong building adapters or reading and writing them.

use std::path::PathBuf;

/// Why a LoRA layer could not be built, or an adapter file could not be written or read.
///
/// Every malformed file (truncated, corrupted, inconsistent) is reported as one of these; the
/// readers never panic on their input.
#[derive(Debug, thiserror::Error)]
pub enum LoraError {
    /// A configuration value is out of range (rank 0, dropout outside `[0, 1)`, non-finite alpha).
    #[error("invalid LoRA configuration: {0}")]
    InvalidConfig(String),

    /// A layer does not fit the operation (merged, or inconsistent with the configuration).
    #[error("layer `{name}`: {reason}")]
    Layer { name: String, reason: String },

    /// The same module path was given twice.
    #[error("module path `{0}` is given more than once")]
    DuplicateName(String),

    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `adapter_config.json` is not valid JSON or lacks a required key.
    #[error("adapter_config.json: {0}")]
    Json(#[from] serde_json::Error),

    /// The PEFT adapter uses a feature this crate does not implement.
    #[error("unsupported PEFT adapter: {0}")]
    UnsupportedPeft(String),

    /// `adapter_model.safetensors` is malformed.
    #[error("adapter_model.safetensors: {0}")]
    SafeTensors(String),

    /// A tensor has a dtype the reader cannot convert exactly.
    #[error("tensor `{name}` has unsupported dtype {dtype}")]
    UnsupportedDType { name: String, dtype: String },

    /// A layer expects a tensor the file does not hold.
    #[error("tensor `{0}` is missing from the adapter file")]
    MissingTensor(String),

    /// The file holds a tensor no layer was given for.
    #[error("the adapter file holds tensor `{0}`, which no given layer expects")]
    UnexpectedTensor(String),

    /// A tensor's shape differs from the layer's.
    #[error("tensor `{name}` has shape {found:?}, the layer expects {expected:?}")]
    ShapeMismatch {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },

    /// A tensor's data could not be read back from the backend.
    #[error("reading tensor data: {0}")]
    TensorData(String),

    /// The GSE-native file does not start with `GSQLORA\0`.
    #[error("not a GSE-native LoRA adapter file (bad magic)")]
    BadMagic,

    /// The GSE-native file has a version this reader does not know.
    #[error("unsupported GSE-native adapter version {found} (this reader knows {supported})")]
    UnsupportedVersion { found: u32, supported: u32 },

    /// The GSE-native file ends before a field it announces.
    #[error("truncated file: {what} needs {needed} bytes at offset {offset}, {available} remain")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: u64,
        available: usize,
    },

    /// The GSE-native file's trailing checksum does not match its contents.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (file corrupted)")]
    Checksum { stored: u32, computed: u32 },

    /// A GSE-native file's field holds an impossible value.
    #[error("corrupt file: {0}")]
    Corrupt(String),

    /// A tensor's GSE format is invalid.
    #[error("tensor `{name}`: {source}")]
    Format {
        name: String,
        #[source]
        source: gse::FormatError,
    },

    /// A tensor's GSE blocks are inconsistent (sizes or mantissa range).
    #[error("tensor `{name}`: {source}")]
    Storage {
        name: String,
        #[source]
        source: gse::StorageError,
    },

    /// A tensor's element count disagrees with its shape.
    #[error("tensor `{name}`: shape {shape:?} has {expected} elements, the file says {found}")]
    ElementCount {
        name: String,
        shape: Vec<usize>,
        expected: u64,
        found: u64,
    },

    /// GSE blocks could not be restored bit for bit on a `Gsq` device.
    #[error(
        "GSE blocks of {format} cannot be restored bit-exactly on a device whose stream format is {stream}{detail}"
    )]
    NotBitExact {
        format: gse::GseFormat,
        stream: gse::GseFormat,
        detail: &'static str,
    },
}

impl LoraError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
