//! Bridges to the `Gsq` backend: the GSE blocks behind a tensor, and tensors from blocks.
//!
//! `burn-gsq` exposes a tensor's storage (`GsqTensor::gse()`) but no public constructor from
//! GSE blocks, so [`gsq_from_blocks`] goes through `TensorData` of the blocks' exact f32 values
//! and then checks that the device re-encoded them into the very same blocks. That holds when
//! the blocks are in the device's stream format and in canonical form (each group's scale taken
//! from its largest member, as every GSE encoder and kernel writes them).

use std::any::Any;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};
use burn_gsq::{Gsq, GsqDevice};
use gse::{GseBlocks, GseFormat, Rounding};
use gse_kernels::GseTensor;

use crate::LoraError;

/// The tensor as a `Tensor<Gsq, D>` when `B` is `Gsq` or `Autodiff<Gsq>` (either checkpointing
/// strategy); `None` for every other backend.
pub fn as_gsq<B: Backend, const D: usize>(tensor: &Tensor<B, D>) -> Option<Tensor<Gsq, D>> {
    let any: &dyn Any = tensor;
    if let Some(t) = any.downcast_ref::<Tensor<Gsq, D>>() {
        return Some(t.clone());
    }
    if let Some(t) = any.downcast_ref::<Tensor<Autodiff<Gsq>, D>>() {
        return Some(t.clone().inner());
    }
    if let Some(t) = any.downcast_ref::<Tensor<Autodiff<Gsq, BalancedCheckpointing>, D>>() {
        return Some(t.clone().inner());
    }
    None
}

/// The GSE tensor (storage and layout) of a `Gsq` tensor.
pub fn gse_tensor<const D: usize>(tensor: &Tensor<Gsq, D>) -> GseTensor {
    match tensor.clone().into_primitive() {
        TensorPrimitive::Float(t) => t.gse().clone(),
        TensorPrimitive::QFloat(q) => q.values().gse().clone(),
    }
}

/// A `Gsq` tensor's values as contiguous row-major blocks.
///
/// A tensor that spans its whole storage in row-major order (every op result, every parameter
/// after an optimizer step) gives its blocks exactly as stored, bit for bit. A view (a
/// transpose, a slice) is re-encoded without loss: in its own format when that has one scale per
/// value, else at [`GseFormat::EXACT`], which holds every value of a narrower format exactly.
pub fn gsq_blocks<const D: usize>(tensor: &Tensor<Gsq, D>) -> GseBlocks {
    blocks_of(&gse_tensor(tensor))
}

pub(crate) fn blocks_of(t: &GseTensor) -> GseBlocks {
    let layout = t.layout();
    let blocks = t.blocks();
    if layout.is_contiguous() && layout.offset() == 0 && t.num_elements() == blocks.len() {
        return GseBlocks::clone(blocks);
    }
    let format = t.format();
    let target = if format.group_size() == 1 {
        format
    } else {
        GseFormat::EXACT
    };
    gse::encode_dyadics(target, &t.to_dyadics(), Rounding::NearestEven)
}

/// The GSE blocks behind any backend's tensor: `Some` for `Gsq` and `Autodiff<Gsq>` (see
/// [`gsq_blocks`]), `None` for other backends.
pub fn gse_blocks_of<B: Backend, const D: usize>(tensor: &Tensor<B, D>) -> Option<GseBlocks> {
    as_gsq(tensor).map(|t| gsq_blocks(&t))
}

/// A `Gsq` tensor of `shape` holding exactly `blocks` (checked bit for bit).
///
/// Fails with [`LoraError::NotBitExact`] when the blocks are not in the device's stream format
/// or not in canonical form, and with [`LoraError::ElementCount`] when `shape` does not hold
/// `blocks.len()` elements.
pub fn gsq_from_blocks<const D: usize>(
    blocks: &GseBlocks,
    shape: [usize; D],
    device: &GsqDevice,
) -> Result<Tensor<Gsq, D>, LoraError> {
    let expected = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if expected != Some(blocks.len()) {
        return Err(LoraError::ElementCount {
            name: String::new(),
            shape: shape.to_vec(),
            expected: expected.map_or(u64::MAX, |n| n as u64),
            found: blocks.len() as u64,
        });
    }
    let stream = device.policy().stream;
    if blocks.format() != stream {
        return Err(LoraError::NotBitExact {
            format: blocks.format(),
            stream,
            detail: "",
        });
    }
    let data = TensorData::new(gse::decode_f32(blocks), shape);
    let tensor = Tensor::<Gsq, D>::from_data(data, device);
    if gsq_blocks(&tensor) != *blocks {
        return Err(LoraError::NotBitExact {
            format: blocks.format(),
            stream,
            detail: " (the blocks are not in canonical form or hold values f32 cannot)",
        });
    }
    Ok(tensor)
}

/// Row-major f32 values of any backend's float tensor.
pub(crate) fn tensor_f32<B: Backend, const D: usize>(
    tensor: &Tensor<B, D>,
) -> Result<Vec<f32>, LoraError> {
    let data = tensor
        .clone()
        .try_into_data()
        .map_err(|e| LoraError::TensorData(format!("{e:?}")))?;
    let data = match data.dtype {
        burn::tensor::DType::F32 => data,
        burn::tensor::DType::F64 | burn::tensor::DType::F16 | burn::tensor::DType::BF16 => {
            data.convert::<f32>()
        }
        other => {
            return Err(LoraError::TensorData(format!(
                "a float tensor came back as {other:?}"
            )));
        }
    };
    data.into_vec::<f32>()
        .map_err(|e| LoraError::TensorData(format!("{e:?}")))
}
