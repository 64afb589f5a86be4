//! Parsing the GGUF layout: header, metadata, tensor infos, then the aligned data section.
//!
//! ```text
//! "GGUF" | version u32 | tensor_count u64 | kv_count u64
//! kv_count  x (key: string, type: u32, value)
//! tensor_count x (name: string, n_dims: u32, dims: n_dims x u64, type: u32, offset: u64)
//! padding to general.alignment | tensor data (offsets relative to here)
//! ```
//! A string is a u64 byte length and UTF-8 bytes; an array a u32 element type, a u64 count and
//! the elements. Every count is checked against the bytes left before anything is allocated.

use super::error::GgufError;
use super::ggml_type::GgmlType;
use super::reader::Reader;
use super::tensor::TensorInfo;
use super::value::{Array, Value, ValueType};

pub const MAGIC: &[u8; 4] = b"GGUF";
pub const DEFAULT_ALIGNMENT: u64 = 32;
pub const ALIGNMENT_KEY: &str = "general.alignment";
/// ggml tensors have at most this many dimensions.
pub const MAX_DIMS: u32 = 4;
/// Arrays of arrays deeper than this are refused rather than risking the stack on a crafted file.
pub const MAX_NESTING: usize = 16;
/// Bytes of the smallest key/value pair: empty key, type tag, one-byte value.
const MIN_KV_BYTES: u64 = 8 + 4 + 1;
/// Bytes of the smallest tensor info: empty name, zero dims, type, offset.
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 4 + 8;

/// The parsed layout of a file, its data section given as a range of the file's bytes.
pub struct Layout {
    pub version: u32,
    pub metadata: Vec<(String, Value)>,
    pub tensors: Vec<TensorInfo>,
    pub alignment: u64,
    pub data_start: usize,
}

pub fn parse(bytes: &[u8]) -> Result<Layout, GgufError> {
    let mut r = Reader::new(bytes);
    let version = read_header(&mut r)?;
    let tensor_count = r
        .u64()
        .map_err(|e| GgufError::truncated(e, "the tensor count"))?;
    let kv_count = r
        .u64()
        .map_err(|e| GgufError::truncated(e, "the metadata count"))?;
    check_count(
        &r,
        kv_count,
        MIN_KV_BYTES,
        "the header's metadata count",
        "key/value pairs",
    )?;
    let metadata = (0..kv_count)
        .map(|i| read_key_value(&mut r, i))
        .collect::<Result<Vec<_>, _>>()?;
    let alignment = alignment_of(&metadata)?;
    check_count(
        &r,
        tensor_count,
        MIN_TENSOR_INFO_BYTES,
        "the header's tensor count",
        "tensor infos",
    )?;
    let tensors = (0..tensor_count)
        .map(|i| read_tensor_info(&mut r, i, alignment))
        .collect::<Result<Vec<_>, _>>()?;
    let (data_start, data_len) = data_section(&r, bytes.len(), alignment, !tensors.is_empty())?;
    for t in &tensors {
        check_bounds(t, data_len)?;
    }
    Ok(Layout {
        version,
        metadata,
        tensors,
        alignment,
        data_start,
    })
}

fn read_header(r: &mut Reader<'_>) -> Result<u32, GgufError> {
    let magic = r
        .take(4)
        .map_err(|e| GgufError::truncated(e, "the magic"))?;
    if magic != MAGIC {
        return Err(GgufError::BadMagic {
            found: magic.to_vec(),
        });
    }
    let version = r
        .u32()
        .map_err(|e| GgufError::truncated(e, "the version"))?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::UnsupportedVersion { version });
    }
    Ok(version)
}

/// Refuses a count of items that cannot fit in the bytes left, before allocating for them.
fn check_count(
    r: &Reader<'_>,
    count: u64,
    min_item_bytes: u64,
    what: &str,
    unit: &'static str,
) -> Result<(), GgufError> {
    if count > r.remaining() / min_item_bytes {
        return Err(GgufError::CountBeyondFile {
            what: what.to_string(),
            count,
            unit,
            remaining: r.remaining(),
        });
    }
    Ok(())
}

fn read_string(r: &mut Reader<'_>, what: &dyn Fn() -> String) -> Result<String, GgufError> {
    let len = r
        .u64()
        .map_err(|e| GgufError::truncated(e, format!("the length of {}", what())))?;
    if len > r.remaining() {
        return Err(GgufError::CountBeyondFile {
            what: format!("the length of {}", what()),
            count: len,
            unit: "bytes",
            remaining: r.remaining(),
        });
    }
    let raw = r.take(len).map_err(|e| GgufError::truncated(e, what()))?;
    String::from_utf8(raw.to_vec()).map_err(|_| GgufError::InvalidUtf8 { what: what() })
}

fn read_key_value(r: &mut Reader<'_>, index: u64) -> Result<(String, Value), GgufError> {
    let key = read_string(r, &|| format!("metadata key #{index}"))?;
    let what = || format!("metadata key {key:?}");
    let type_id = r
        .u32()
        .map_err(|e| GgufError::truncated(e, format!("the type of {}", what())))?;
    let ty = ValueType::from_id(type_id).ok_or_else(|| GgufError::UnknownValueType {
        what: what(),
        type_id,
    })?;
    let value = read_value(r, ty, &what, 0)?;
    Ok((key, value))
}

fn read_value(
    r: &mut Reader<'_>,
    ty: ValueType,
    what: &dyn Fn() -> String,
    depth: usize,
) -> Result<Value, GgufError> {
    let short = |e| GgufError::truncated(e, format!("the value of {}", what()));
    Ok(match ty {
        ValueType::U8 => Value::U8(r.u8().map_err(short)?),
        ValueType::I8 => Value::I8(r.u8().map_err(short)? as i8),
        ValueType::U16 => Value::U16(r.u16().map_err(short)?),
        ValueType::I16 => Value::I16(r.u16().map_err(short)? as i16),
        ValueType::U32 => Value::U32(r.u32().map_err(short)?),
        ValueType::I32 => Value::I32(r.u32().map_err(short)? as i32),
        ValueType::F32 => Value::F32(r.u32().map_err(short)?),
        ValueType::U64 => Value::U64(r.u64().map_err(short)?),
        ValueType::I64 => Value::I64(r.u64().map_err(short)? as i64),
        ValueType::F64 => Value::F64(r.u64().map_err(short)?),
        ValueType::Bool => match r.u8().map_err(short)? {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            byte => return Err(GgufError::InvalidBool { what: what(), byte }),
        },
        ValueType::String => Value::String(read_string(r, what)?),
        ValueType::Array => Value::Array(read_array(r, what, depth)?),
    })
}

fn read_array(
    r: &mut Reader<'_>,
    what: &dyn Fn() -> String,
    depth: usize,
) -> Result<Array, GgufError> {
    if depth >= MAX_NESTING {
        return Err(GgufError::NestingTooDeep {
            what: what(),
            limit: MAX_NESTING,
        });
    }
    let type_id = r
        .u32()
        .map_err(|e| GgufError::truncated(e, format!("the element type of {}", what())))?;
    let elem_type = ValueType::from_id(type_id).ok_or_else(|| GgufError::UnknownValueType {
        what: format!("an array element of {}", what()),
        type_id,
    })?;
    let count = r
        .u64()
        .map_err(|e| GgufError::truncated(e, format!("the array length of {}", what())))?;
    check_count(
        r,
        count,
        elem_type.min_size(),
        &format!("the array length of {}", what()),
        "array elements",
    )?;
    let mut items = Vec::with_capacity(count as usize);
    for i in 0..count {
        let elem_what = || format!("element {i} of {}", what());
        items.push(read_value(r, elem_type, &elem_what, depth + 1)?);
    }
    Ok(Array { elem_type, items })
}

fn alignment_of(metadata: &[(String, Value)]) -> Result<u64, GgufError> {
    let Some((_, value)) = metadata.iter().find(|(k, _)| k == ALIGNMENT_KEY) else {
        return Ok(DEFAULT_ALIGNMENT);
    };
    let Value::U32(a) = *value else {
        return Err(GgufError::WrongType {
            key: ALIGNMENT_KEY.to_string(),
            expected: "u32",
            found: value.type_description(),
        });
    };
    if !a.is_power_of_two() {
        return Err(GgufError::BadAlignment { value: a.into() });
    }
    Ok(a.into())
}

fn read_tensor_info(
    r: &mut Reader<'_>,
    index: u64,
    alignment: u64,
) -> Result<TensorInfo, GgufError> {
    let name = read_string(r, &|| format!("the name of tensor #{index}"))?;
    let short = |e, part: &str| GgufError::truncated(e, format!("the {part} of tensor {name:?}"));
    let n_dims = r.u32().map_err(|e| short(e, "dimension count"))?;
    if n_dims > MAX_DIMS {
        return Err(GgufError::TooManyDims {
            tensor: name,
            n_dims,
        });
    }
    let dims = (0..n_dims)
        .map(|_| r.u64().map_err(|e| short(e, "dimensions")))
        .collect::<Result<Vec<_>, _>>()?;
    let type_id = r.u32().map_err(|e| short(e, "type"))?;
    let ty = GgmlType::from_id(type_id).ok_or_else(|| GgufError::UnknownTensorType {
        tensor: name.clone(),
        type_id,
    })?;
    let offset = r.u64().map_err(|e| short(e, "data offset"))?;
    if offset % alignment != 0 {
        return Err(GgufError::MisalignedTensor {
            tensor: name,
            offset,
            alignment,
        });
    }
    TensorInfo::new(name, dims, ty, offset)
}

/// Where the data section starts (the end of the infos, rounded up to the alignment) and how
/// long it is. A file without tensors may end before the padding.
fn data_section(
    r: &Reader<'_>,
    file_len: usize,
    alignment: u64,
    has_tensors: bool,
) -> Result<(usize, u64), GgufError> {
    let end = r.position() as u64;
    let start = end.div_ceil(alignment).saturating_mul(alignment);
    if start > file_len as u64 {
        if has_tensors {
            return Err(GgufError::Truncated {
                what: "the padding before the tensor data".to_string(),
                offset: end,
                needed: start - end,
                available: file_len as u64 - end,
            });
        }
        return Ok((file_len, 0));
    }
    Ok((start as usize, file_len as u64 - start))
}

fn check_bounds(t: &TensorInfo, data_len: u64) -> Result<(), GgufError> {
    let end = t.offset.checked_add(t.byte_len);
    match end {
        Some(end) if end <= data_len => Ok(()),
        _ => Err(GgufError::TensorOutOfBounds {
            tensor: t.name.clone(),
            offset: t.offset,
            end: end.unwrap_or(u64::MAX),
            data_len,
        }),
    }
}
