//! The GSE-native adapter file: LoRA tensors as the GSE blocks they are stored in.
//!
//! # Layout (version 1, every integer little-endian)
//!
//! ```text
//! magic            8 bytes  "GSQLORA\0"
//! version          u32      1
//! rank             u64
//! alpha            u64      f64 bit pattern
//! dropout          u64      f64 bit pattern
//! target count     u32
//!   per target     u32 byte length, UTF-8 bytes
//! tensor count     u32
//!   per tensor
//!     name         u32 byte length, UTF-8 bytes
//!     rank (dims)  u32      at most 8
//!     dims         u64 each
//!     mantissa bits u8      2..=25
//!     group size   u32      power of two, 1..=256
//!     elements     u64      product of dims
//!     mantissas    u64 byte length, bytes as `GseBlocks::mantissa_bytes`
//!     scales       u64 byte length, bytes as `GseBlocks::scale_bytes`
//! checksum         u32      CRC-32 (IEEE) of every byte before it
//! ```
//!
//! Tensors are named `{module_path}.lora_a` (`[d_in, rank]`) and `{module_path}.lora_b`
//! (`[rank, d_out]`): burn's layout, not PEFT's transposed one, so that `Gsq` blocks are written
//! as stored. A `Gsq` (or `Autodiff<Gsq>`) tensor's blocks are written bit for bit (see
//! [`crate::gsq_blocks`]); any other backend's values are encoded at [`GseFormat::EXACT`],
//! which holds every f32 exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use burn::tensor::backend::Backend;
use gse::{Container, GseBlocks, GseFormat, Rounding, SpecialPolicy};

use crate::gsq::{gse_blocks_of, tensor_f32};
use crate::peft::check_layers;
use crate::{LoraConfig, LoraError, LoraLinear};

/// First bytes of a GSE-native adapter file.
pub const GSE_MAGIC: [u8; 8] = *b"GSQLORA\0";
/// The file version this crate writes and reads.
pub const GSE_VERSION: u32 = 1;
/// Most dimensions a tensor in the file may have.
const MAX_DIMS: u32 = 8;

/// One tensor of a GSE-native adapter file.
#[derive(Clone, Debug, PartialEq)]
pub struct GseAdapterTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub blocks: GseBlocks,
}

/// The contents of a GSE-native adapter file.
#[derive(Clone, Debug)]
pub struct GseAdapter {
    /// Rank, alpha, dropout and targets as saved (`init_a` is not saved: default).
    pub config: LoraConfig,
    pub tensors: Vec<GseAdapterTensor>,
}

/// Name of a layer's `A` tensor in the GSE-native file.
pub fn gse_lora_a_name(module_path: &str) -> String {
    format!("{module_path}.lora_a")
}

/// Name of a layer's `B` tensor in the GSE-native file.
pub fn gse_lora_b_name(module_path: &str) -> String {
    format!("{module_path}.lora_b")
}

/// Blocks of a param: as stored on `Gsq`, else its f32 values encoded exactly.
fn param_blocks<B: Backend>(
    tensor: &burn::tensor::Tensor<B, 2>,
    name: &str,
) -> Result<GseBlocks, LoraError> {
    if let Some(blocks) = gse_blocks_of(tensor) {
        return Ok(blocks);
    }
    let values = tensor_f32(tensor)?;
    gse::encode_f32(
        GseFormat::EXACT,
        &values,
        Rounding::NearestEven,
        SpecialPolicy::Error,
    )
    .map(|(blocks, _)| blocks)
    .map_err(|e| LoraError::TensorData(format!("tensor `{name}`: {e}")))
}

impl GseAdapter {
    /// Collects the adapters of `layers` (`(module path, layer)` pairs); every layer must have
    /// `config`'s rank and alpha.
    pub fn from_layers<B: Backend>(
        config: &LoraConfig,
        layers: &[(String, &LoraLinear<B>)],
    ) -> Result<Self, LoraError> {
        config.validate()?;
        check_layers(config, layers.iter().map(|(n, l)| (n.as_str(), *l)))?;
        let mut tensors = Vec::with_capacity(2 * layers.len());
        for (path, layer) in layers {
            for (name, param, shape) in [
                (gse_lora_a_name(path), &layer.lora_a, layer.lora_a_shape()),
                (gse_lora_b_name(path), &layer.lora_b, layer.lora_b_shape()),
            ] {
                let blocks = param_blocks(&param.val(), &name)?;
                tensors.push(GseAdapterTensor {
                    name,
                    shape: shape.to_vec(),
                    blocks,
                });
            }
        }
        Ok(Self {
            config: config.clone(),
            tensors,
        })
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&GSE_MAGIC);
        out.extend_from_slice(&GSE_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.config.rank as u64).to_le_bytes());
        out.extend_from_slice(&self.config.alpha.to_bits().to_le_bytes());
        out.extend_from_slice(&self.config.dropout.to_bits().to_le_bytes());
        out.extend_from_slice(&(self.config.target_modules.len() as u32).to_le_bytes());
        for target in &self.config.target_modules {
            put_str(&mut out, target);
        }
        out.extend_from_slice(&(self.tensors.len() as u32).to_le_bytes());
        for t in &self.tensors {
            put_str(&mut out, &t.name);
            out.extend_from_slice(&(t.shape.len() as u32).to_le_bytes());
            for &d in &t.shape {
                out.extend_from_slice(&(d as u64).to_le_bytes());
            }
            let format = t.blocks.format();
            out.push(format.mantissa_bits() as u8);
            out.extend_from_slice(&(format.group_size() as u32).to_le_bytes());
            out.extend_from_slice(&(t.blocks.len() as u64).to_le_bytes());
            put_bytes(&mut out, t.blocks.mantissa_bytes());
            put_bytes(&mut out, t.blocks.scale_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses a file's bytes, checking magic, version, checksum and every count and size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoraError> {
        if bytes.len() < GSE_MAGIC.len() {
            return Err(if GSE_MAGIC.starts_with(bytes) {
                truncated("magic", 0, GSE_MAGIC.len() as u64, bytes.len())
            } else {
                LoraError::BadMagic
            });
        }
        if bytes[..GSE_MAGIC.len()] != GSE_MAGIC {
            return Err(LoraError::BadMagic);
        }
        let mut header = Reader::new(bytes, GSE_MAGIC.len(), bytes.len());
        let version = header.u32("version")?;
        if version != GSE_VERSION {
            return Err(LoraError::UnsupportedVersion {
                found: version,
                supported: GSE_VERSION,
            });
        }
        let body_start = header.pos;
        if bytes.len() < body_start + 4 {
            return Err(truncated(
                "checksum",
                body_start,
                4,
                bytes.len() - body_start,
            ));
        }
        let end = bytes.len() - 4;
        let mut stored = [0u8; 4];
        stored.copy_from_slice(&bytes[end..]);
        let stored = u32::from_le_bytes(stored);
        let computed = crc32fast::hash(&bytes[..end]);
        if stored != computed {
            return Err(LoraError::Checksum { stored, computed });
        }

        let mut r = Reader::new(bytes, body_start, end);
        let rank = r.u64("rank")?;
        let rank = usize::try_from(rank)
            .map_err(|_| LoraError::Corrupt(format!("rank {rank} does not fit this machine")))?;
        let alpha = f64::from_bits(r.u64("alpha")?);
        let dropout = f64::from_bits(r.u64("dropout")?);
        let target_count = r.u32("target count")?;
        let mut target_modules = Vec::new();
        for _ in 0..target_count {
            target_modules.push(r.string("target name")?);
        }
        let config = LoraConfig::new()
            .with_rank(rank)
            .with_alpha(alpha)
            .with_dropout(dropout)
            .with_target_modules(target_modules);
        config.validate()?;

        let tensor_count = r.u32("tensor count")?;
        let mut tensors = Vec::new();
        let mut names = BTreeSet::new();
        for _ in 0..tensor_count {
            let t = r.tensor()?;
            if !names.insert(t.name.clone()) {
                return Err(LoraError::Corrupt(format!(
                    "tensor `{}` appears twice",
                    t.name
                )));
            }
            tensors.push(t);
        }
        if r.pos != end {
            return Err(LoraError::Corrupt(format!(
                "{} unexplained bytes before the checksum",
                end - r.pos
            )));
        }
        Ok(Self { config, tensors })
    }

    /// Loads the adapters into `layers` (`(module path, layer)` pairs): every layer's
    /// `{path}.lora_a` / `{path}.lora_b` must be present with the layer's shapes, and every
    /// tensor of the file must belong to a given layer. Nothing is changed unless all of them
    /// fit. The layers take the file's alpha and dropout.
    ///
    /// Values reach the backend as exact f32 `TensorData`; on a `Gsq` device whose stream
    /// format is the file's, the layer then holds exactly the file's blocks.
    pub fn apply<B: Backend>(
        &self,
        layers: &mut [(String, &mut LoraLinear<B>)],
    ) -> Result<(), LoraError> {
        check_unmerged_unique(layers.iter().map(|(n, l)| (n.as_str(), &**l)))?;
        let by_name: BTreeMap<&str, &GseAdapterTensor> =
            self.tensors.iter().map(|t| (t.name.as_str(), t)).collect();
        let mut used = BTreeSet::new();
        let mut values = Vec::with_capacity(layers.len());
        for (path, layer) in layers.iter() {
            if layer.rank() != self.config.rank {
                return Err(LoraError::Layer {
                    name: path.clone(),
                    reason: format!(
                        "rank {} differs from the file's {}",
                        layer.rank(),
                        self.config.rank
                    ),
                });
            }
            let mut pair = Vec::with_capacity(2);
            for (name, shape) in [
                (gse_lora_a_name(path), layer.lora_a_shape()),
                (gse_lora_b_name(path), layer.lora_b_shape()),
            ] {
                let t = by_name
                    .get(name.as_str())
                    .ok_or_else(|| LoraError::MissingTensor(name.clone()))?;
                if t.shape != shape {
                    return Err(LoraError::ShapeMismatch {
                        name,
                        expected: shape.to_vec(),
                        found: t.shape.clone(),
                    });
                }
                let expected = (shape[0] * shape[1]) as u64;
                if t.blocks.len() as u64 != expected {
                    return Err(LoraError::ElementCount {
                        name,
                        shape: shape.to_vec(),
                        expected,
                        found: t.blocks.len() as u64,
                    });
                }
                pair.push(gse::decode_f32(&t.blocks));
                used.insert(t.name.as_str());
            }
            values.push(pair);
        }
        if let Some(extra) = self
            .tensors
            .iter()
            .find(|t| !used.contains(t.name.as_str()))
        {
            return Err(LoraError::UnexpectedTensor(extra.name.clone()));
        }
        for ((_, layer), mut pair) in layers.iter_mut().zip(values) {
            let b = pair.pop().unwrap_or_default();
            let a = pair.pop().unwrap_or_default();
            layer.set_adapter(a, b);
            layer.set_hyper(self.config.alpha, self.config.dropout);
        }
        Ok(())
    }
}

/// Layers must be unmerged (loading into a merged weight would be inconsistent) and their
/// module paths distinct.
pub(crate) fn check_unmerged_unique<'a, B: Backend + 'a>(
    layers: impl Iterator<Item = (&'a str, &'a LoraLinear<B>)>,
) -> Result<(), LoraError> {
    let mut seen = BTreeSet::new();
    for (name, layer) in layers {
        if !seen.insert(name) {
            return Err(LoraError::DuplicateName(name.to_string()));
        }
        if layer.is_merged() {
            return Err(LoraError::Layer {
                name: name.to_string(),
                reason: "the adapter is merged into the weight; unmerge before loading".into(),
            });
        }
    }
    Ok(())
}

/// Writes the GSE-native adapter file of `layers` to `path`.
pub fn save_gse<B: Backend>(
    path: impl AsRef<Path>,
    config: &LoraConfig,
    layers: &[(String, &LoraLinear<B>)],
) -> Result<(), LoraError> {
    let bytes = GseAdapter::from_layers(config, layers)?.to_bytes();
    let path = path.as_ref();
    std::fs::write(path, bytes).map_err(|e| LoraError::io(path, e))
}

/// Reads the GSE-native adapter file at `path` into `layers` (see [`GseAdapter::apply`]) and
/// returns its contents.
pub fn load_gse<B: Backend>(
    path: impl AsRef<Path>,
    layers: &mut [(String, &mut LoraLinear<B>)],
) -> Result<GseAdapter, LoraError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| LoraError::io(path, e))?;
    let adapter = GseAdapter::from_bytes(&bytes)?;
    adapter.apply(layers)?;
    Ok(adapter)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

fn truncated(what: &'static str, offset: usize, needed: u64, available: usize) -> LoraError {
    LoraError::Truncated {
        what,
        offset,
        needed,
        available,
    }
}

/// Bytes of `len` mantissas of `container`, without overflow.
fn mantissa_bytes_for(container: Container, len: u64) -> Option<u64> {
    match container {
        Container::Nibble => Some(len.div_ceil(2)),
        Container::I8 => Some(len),
        Container::I16 => len.checked_mul(2),
        Container::I32 => len.checked_mul(4),
    }
}

/// A bounds-checked cursor over `bytes[pos..end]`.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], pos: usize, end: usize) -> Self {
        Self { bytes, pos, end }
    }

    fn take(&mut self, what: &'static str, n: u64) -> Result<&'a [u8], LoraError> {
        let available = self.end - self.pos;
        match usize::try_from(n) {
            Ok(n) if n <= available => {
                let s = &self.bytes[self.pos..self.pos + n];
                self.pos += n;
                Ok(s)
            }
            _ => Err(truncated(what, self.pos, n, available)),
        }
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], LoraError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(what, N as u64)?);
        Ok(a)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, LoraError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, LoraError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, LoraError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn string(&mut self, what: &'static str) -> Result<String, LoraError> {
        let len = self.u32(what)?;
        let at = self.pos;
        let raw = self.take(what, len as u64)?;
        String::from_utf8(raw.to_vec())
            .map_err(|_| LoraError::Corrupt(format!("{what} at offset {at} is not UTF-8")))
    }

    fn tensor(&mut self) -> Result<GseAdapterTensor, LoraError> {
        let name = self.string("tensor name")?;
        let ndims = self.u32("tensor rank")?;
        if ndims > MAX_DIMS {
            return Err(LoraError::Corrupt(format!(
                "tensor `{name}` claims {ndims} dimensions (at most {MAX_DIMS})"
            )));
        }
        let mut shape = Vec::with_capacity(ndims as usize);
        let mut count: Option<u64> = Some(1);
        for _ in 0..ndims {
            let d = self.u64("tensor dimension")?;
            count = count.and_then(|c| c.checked_mul(d));
            let d = usize::try_from(d).map_err(|_| {
                LoraError::Corrupt(format!("tensor `{name}`: dimension {d} is too large"))
            })?;
            shape.push(d);
        }
        let bits = self.u8("mantissa bits")?;
        let group = self.u32("group size")?;
        let format = GseFormat::new(bits as u32, group).map_err(|source| LoraError::Format {
            name: name.clone(),
            source,
        })?;
        let len = self.u64("element count")?;
        let expected = count.ok_or_else(|| {
            LoraError::Corrupt(format!("tensor `{name}`: shape {shape:?} overflows"))
        })?;
        if len != expected {
            return Err(LoraError::ElementCount {
                name,
                shape,
                expected,
                found: len,
            });
        }
        let mantissa_len = self.u64("mantissa length")?;
        let mantissa_expected = mantissa_bytes_for(format.container(), len);
        if mantissa_expected != Some(mantissa_len) {
            return Err(LoraError::Corrupt(format!(
                "tensor `{name}`: {len} values of {format} need {} mantissa bytes, the file says {mantissa_len}",
                mantissa_expected.map_or_else(|| "too many".to_string(), |n| n.to_string())
            )));
        }
        let mantissas = self.take("mantissa bytes", mantissa_len)?;
        let scale_len = self.u64("scale length")?;
        let groups = len.div_ceil(format.group_size() as u64);
        if scale_len != groups {
            return Err(LoraError::Corrupt(format!(
                "tensor `{name}`: {len} values of {format} need {groups} scale bytes, the file says {scale_len}"
            )));
        }
        let scales = self.take("scale bytes", scale_len)?;
        // The mantissa bytes are in the file, so `len` fits in memory (at least 2 per byte).
        let len = usize::try_from(len)
            .map_err(|_| LoraError::Corrupt(format!("tensor `{name}` is too large")))?;
        let blocks = GseBlocks::from_bytes(format, len, mantissas, scales).map_err(|source| {
            LoraError::Storage {
                name: name.clone(),
                source,
            }
        })?;
        Ok(GseAdapterTensor {
            name,
            shape,
            blocks,
        })
    }
}
