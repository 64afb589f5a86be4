//! A small GGUF writer, for tests that need files with known contents (here and in the crates
//! that build models from GGUF files). Not a general-purpose exporter: it writes whatever it is
//! given, consistent or not, so tests can also build files that a reader must refuse.

use crate::gguf::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT, GgmlType, MAGIC, Value};

/// Collects metadata and tensors, then lays them out as a GGUF file.
#[derive(Debug, Clone)]
pub struct GgufWriter {
    version: u32,
    metadata: Vec<(String, Value)>,
    tensors: Vec<PendingTensor>,
}

#[derive(Debug, Clone)]
struct PendingTensor {
    name: String,
    dims: Vec<u64>,
    ty: GgmlType,
    data: Vec<u8>,
}

impl Default for GgufWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl GgufWriter {
    /// An empty version-3 file.
    pub fn new() -> Self {
        Self {
            version: 3,
            metadata: Vec::new(),
            tensors: Vec::new(),
        }
    }

    pub fn with_version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    pub fn metadata(&mut self, key: &str, value: Value) -> &mut Self {
        self.metadata.push((key.to_string(), value));
        self
    }

    /// A tensor with ggml dims (`[ne0, ne1, ..]`, fastest first) and its raw block bytes.
    pub fn tensor(&mut self, name: &str, dims: &[u64], ty: GgmlType, data: Vec<u8>) -> &mut Self {
        self.tensors.push(PendingTensor {
            name: name.to_string(),
            dims: dims.to_vec(),
            ty,
            data,
        });
        self
    }

    /// An F32 tensor from values in row-major order of the ggml dims.
    pub fn f32_tensor(&mut self, name: &str, dims: &[u64], values: &[f32]) -> &mut Self {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensor(name, dims, GgmlType::F32, data)
    }

    /// The alignment the data section will use: `general.alignment` when it is a u32.
    fn alignment(&self) -> u64 {
        self.metadata
            .iter()
            .rev()
            .find_map(|(k, v)| match v {
                Value::U32(a) if k == ALIGNMENT_KEY && *a > 0 => Some(u64::from(*a)),
                _ => None,
            })
            .unwrap_or(DEFAULT_ALIGNMENT)
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let alignment = self.alignment();
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.metadata.len() as u64).to_le_bytes());
        for (key, value) in &self.metadata {
            write_string(&mut out, key);
            out.extend_from_slice(&value.value_type().id().to_le_bytes());
            write_value(&mut out, value);
        }
        let mut offset = 0u64;
        let mut offsets = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            write_string(&mut out, &t.name);
            out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.extend_from_slice(&t.ty.id().to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            offsets.push(offset);
            offset = (offset + t.data.len() as u64).next_multiple_of(alignment);
        }
        if !self.tensors.is_empty() {
            pad_to(&mut out, alignment);
        }
        let data_start = out.len() as u64;
        for (t, offset) in self.tensors.iter().zip(offsets) {
            out.resize((data_start + offset) as usize, 0);
            out.extend_from_slice(&t.data);
        }
        out
    }
}

fn pad_to(out: &mut Vec<u8>, alignment: u64) {
    let len = (out.len() as u64).next_multiple_of(alignment);
    out.resize(len as usize, 0);
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::U8(v) => out.push(*v),
        Value::I8(v) => out.push(*v as u8),
        Value::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::U32(v) | Value::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::U64(v) | Value::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
        Value::Bool(v) => out.push(u8::from(*v)),
        Value::String(s) => write_string(out, s),
        Value::Array(a) => {
            out.extend_from_slice(&a.elem_type.id().to_le_bytes());
            out.extend_from_slice(&(a.items.len() as u64).to_le_bytes());
            for item in &a.items {
                write_value(out, item);
            }
        }
    }
}

/// A Q8_0 block: f16 scale bits `d` and 32 signed codes; values `d * q`.
pub fn q8_0_block(d: u16, q: &[i8; 32]) -> Vec<u8> {
    let mut out = d.to_le_bytes().to_vec();
    out.extend(q.iter().map(|&v| v as u8));
    out
}

/// Packs 32 4-bit codes: byte `j` holds code `j` low and code `j + 16` high.
fn pack_nibbles(codes: &[u8; 32]) -> impl Iterator<Item = u8> + '_ {
    (0..16).map(|j| (codes[j] & 0x0f) | (codes[j + 16] << 4))
}

/// A Q4_0 block: f16 scale bits `d` and 32 codes in `0..16`; values `d * (q - 8)`.
pub fn q4_0_block(d: u16, codes: &[u8; 32]) -> Vec<u8> {
    let mut out = d.to_le_bytes().to_vec();
    out.extend(pack_nibbles(codes));
    out
}

/// A Q4_1 block: f16 scale bits `d`, f16 minimum bits `m` and 32 codes in `0..16`;
/// values `d * q + m`.
pub fn q4_1_block(d: u16, m: u16, codes: &[u8; 32]) -> Vec<u8> {
    let mut out = d.to_le_bytes().to_vec();
    out.extend_from_slice(&m.to_le_bytes());
    out.extend(pack_nibbles(codes));
    out
}
