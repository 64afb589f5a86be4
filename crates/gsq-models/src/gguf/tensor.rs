//! Tensor infos (name, dims, type, where the data is) and views of a tensor's bytes.

use super::error::GgufError;
use super::ggml_type::GgmlType;

/// A tensor as the file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` (ne0) varies fastest, so a linear layer is `[in, out]`.
    pub dims: Vec<u64>,
    pub ty: GgmlType,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
    /// Values in the tensor.
    pub element_count: u64,
    /// Bytes of data.
    pub byte_len: u64,
}

impl TensorInfo {
    /// Checks that the dims describe whole blocks of `ty` and that the sizes fit in a u64.
    pub fn new(name: String, dims: Vec<u64>, ty: GgmlType, offset: u64) -> Result<Self, GgufError> {
        let bad = |reason: &str| GgufError::BadShape {
            tensor: name.clone(),
            dims: dims.clone(),
            ty,
            reason: reason.to_string(),
        };
        let element_count = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .filter(|&n| usize::try_from(n).is_ok())
            .ok_or_else(|| bad("the element count does not fit in memory"))?;
        if dims.iter().any(|&d| usize::try_from(d).is_err()) {
            return Err(bad("a dimension does not fit in memory"));
        }
        let row_len = dims.first().copied().unwrap_or(1);
        if row_len % ty.block_len() != 0 {
            return Err(bad(&format!(
                "the first dimension must be a multiple of the block length {}",
                ty.block_len()
            )));
        }
        let byte_len = (element_count / ty.block_len())
            .checked_mul(ty.block_bytes())
            .ok_or_else(|| bad("the byte size overflows"))?;
        Ok(Self {
            name,
            dims,
            ty,
            offset,
            element_count,
            byte_len,
        })
    }

    /// Row-major shape, slowest dimension first: a linear layer's `[out, in]`, like PyTorch.
    pub fn shape(&self) -> Vec<usize> {
        // Every dim fits a usize (checked in `new`).
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }

    /// Values in the tensor.
    pub fn len(&self) -> usize {
        self.element_count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.element_count == 0
    }
}

/// A tensor's info together with its bytes in the file.
#[derive(Debug, Clone, Copy)]
pub struct TensorView<'a> {
    pub info: &'a TensorInfo,
    pub data: &'a [u8],
}

impl TensorView<'_> {
    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub fn ty(&self) -> GgmlType {
        self.info.ty
    }

    /// Row-major shape, see [`TensorInfo::shape`].
    pub fn shape(&self) -> Vec<usize> {
        self.info.shape()
    }

    pub fn len(&self) -> usize {
        self.info.len()
    }

    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }
}
