//! A parsed GGUF file: its bytes, metadata and tensor directory.

use std::collections::HashMap;
use std::path::Path;

use gse::Dyadic;

use super::error::GgufError;
use super::parse::parse;
use super::tensor::{TensorInfo, TensorView};
use super::value::{Array, Value};

/// A GGUF file held in memory.
pub struct Gguf {
    bytes: Vec<u8>,
    version: u32,
    metadata: Vec<(String, Value)>,
    key_index: HashMap<String, usize>,
    tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
    alignment: u64,
    data_start: usize,
}

impl std::fmt::Debug for Gguf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gguf")
            .field("bytes", &self.bytes.len())
            .field("version", &self.version)
            .field("metadata", &self.metadata.len())
            .field("tensors", &self.tensors.len())
            .field("alignment", &self.alignment)
            .finish()
    }
}

impl Gguf {
    /// Reads and parses the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GgufError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| GgufError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(bytes)
    }

    /// Parses a whole file given as bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, GgufError> {
        let layout = parse(&bytes)?;
        let key_index = index_unique(layout.metadata.iter().map(|(k, _)| k.as_str()))
            .map_err(|key| GgufError::DuplicateKey { key })?;
        let tensor_index = index_unique(layout.tensors.iter().map(|t| t.name.as_str()))
            .map_err(|name| GgufError::DuplicateTensor { name })?;
        Ok(Self {
            bytes,
            version: layout.version,
            metadata: layout.metadata,
            key_index,
            tensors: layout.tensors,
            tensor_index,
            alignment: layout.alignment,
            data_start: layout.data_start,
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Alignment of the tensor data (`general.alignment`, 32 by default).
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Offset of the data section in the file.
    pub fn data_offset(&self) -> usize {
        self.data_start
    }

    /// Metadata in file order.
    pub fn metadata(&self) -> &[(String, Value)] {
        &self.metadata
    }

    /// Tensor infos in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        let i = *self.key_index.get(key)?;
        self.metadata.get(i).map(|(_, v)| v)
    }

    /// The value of `key`, or an error naming the missing key.
    pub fn require(&self, key: &str) -> Result<&Value, GgufError> {
        self.get(key).ok_or_else(|| GgufError::MissingKey {
            key: key.to_string(),
        })
    }

    fn typed<'a, T>(
        &'a self,
        key: &str,
        expected: &'static str,
        pick: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<T, GgufError> {
        let value = self.require(key)?;
        pick(value).ok_or_else(|| GgufError::WrongType {
            key: key.to_string(),
            expected,
            found: value.type_description(),
        })
    }

    /// A non-negative integer of any width that fits a `u32`.
    pub fn u32(&self, key: &str) -> Result<u32, GgufError> {
        self.typed(key, "an integer in u32 range", |v| {
            v.as_u64().and_then(|n| u32::try_from(n).ok())
        })
    }

    /// A non-negative integer of any width.
    pub fn u64(&self, key: &str) -> Result<u64, GgufError> {
        self.typed(key, "a non-negative integer", Value::as_u64)
    }

    pub fn bool(&self, key: &str) -> Result<bool, GgufError> {
        self.typed(key, "a bool", Value::as_bool)
    }

    pub fn str(&self, key: &str) -> Result<&str, GgufError> {
        self.typed(key, "a string", Value::as_str)
    }

    pub fn array(&self, key: &str) -> Result<&Array, GgufError> {
        self.typed(key, "an array", Value::as_array)
    }

    /// The exact value of a finite float (or integer) metadata value, e.g. `rope.freq_base`.
    pub fn dyadic(&self, key: &str) -> Result<Dyadic, GgufError> {
        self.typed(key, "a finite number", Value::as_dyadic)
    }

    /// A float metadata value as its f32 bit pattern (f64 values are rounded to nearest).
    pub fn f32_bits(&self, key: &str) -> Result<u32, GgufError> {
        match self.require(key)? {
            Value::F32(bits) => Ok(*bits),
            _ => self.dyadic(key).map(gse::f32_bits::dyadic_to_f32_bits),
        }
    }

    /// An array whose elements are all strings.
    pub fn string_array(&self, key: &str) -> Result<Vec<&str>, GgufError> {
        self.typed(key, "an array of strings", |v| {
            v.as_array()?.items.iter().map(Value::as_str).collect()
        })
    }

    /// An array whose elements are all integers that fit an `i64`.
    pub fn int_array(&self, key: &str) -> Result<Vec<i64>, GgufError> {
        self.typed(key, "an array of integers", |v| {
            v.as_array()?.items.iter().map(Value::as_i64).collect()
        })
    }

    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        let i = *self.tensor_index.get(name)?;
        self.tensors.get(i)
    }

    /// A tensor's info and bytes, or an error naming the missing tensor.
    pub fn tensor(&self, name: &str) -> Result<TensorView<'_>, GgufError> {
        let info = self
            .tensor_info(name)
            .ok_or_else(|| GgufError::MissingTensor {
                name: name.to_string(),
            })?;
        // Offsets were checked against the data section when the file was parsed.
        let start = self.data_start + info.offset as usize;
        let data = self
            .bytes
            .get(start..start + info.byte_len as usize)
            .ok_or_else(|| GgufError::TensorOutOfBounds {
                tensor: info.name.clone(),
                offset: info.offset,
                end: info.offset.saturating_add(info.byte_len),
                data_len: (self.bytes.len() - self.data_start) as u64,
            })?;
        Ok(TensorView { info, data })
    }
}

/// A map from each name to its position, or the first name that appears twice.
fn index_unique<'a>(
    names: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, usize>, String> {
    let mut index = HashMap::new();
    for (i, name) in names.enumerate() {
        if index.insert(name.to_string(), i).is_some() {
            return Err(name.to_string());
        }
    }
    Ok(index)
}
