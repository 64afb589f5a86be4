//! burn's quantization API on GSE: [`GsqQTensor`] and `QTensorOps<Gsq>`.
//!
//! A burn [`QuantScheme`] whose values are symmetric 8/4/2-bit integers (`Q8S`, `Q4S`, `Q2S`),
//! whose scales are powers of two (`QuantParam::UE8M0`) and whose blocks are one-dimensional
//! (`QuantLevel::Block([b])`, `b` a power of two, leading block dims of 1 allowed) *is* a GSE
//! format: `GseFormat::new(bits, b)`. A burn block's scale `2^e` is the GSE group scale
//! `e + (bits - 1)`, a burn value `q` is the GSE mantissa. Such tensors are stored natively,
//! byte for byte, and never pass through f32.
//!
//! # What is held, and what `scheme()` / `into_data` report
//!
//! Every quantized tensor is held as GSE blocks of a *held scheme*: `Q{bits}S`, `UE8M0`,
//! `QuantStore::Native` (one `i8` per value in `TensorData`, as burn-flex and burn-ndarray do),
//! symmetric, `Block([g])` along the flattened row-major order (burn's own block layout:
//! `compute_range` and every CPU backend take blocks as consecutive chunks of `numel / b`).
//!
//! * **Native** (the scheme above): the held scheme is the requested one with `store: Native`.
//! * **Converted** (documented, never silent about it: `scheme()`, the tensor's `dtype()` and
//!   `into_data` all report the held scheme):
//!   - `Q8F`/`Q4F`/`Q2F` (full range, e.g. `-128..=127`) become `Q8S`/`Q4S`/`Q2S` of the same width;
//!   - `QuantLevel::Tensor`, `F32`/`F16`/`BF16`/`UE4M3` scales and non-power-of-two or
//!     multi-dimensional blocks become blocks of `b` (the block's element count when it is a
//!     power of two <= 128, else 32) with power-of-two scales chosen by the GSE quantizer
//!     (group scale from the largest magnitude, nearest-even);
//!   - in every case the group is then lowered to the largest power of two that divides the
//!     number of elements (burn's data layout has `numel / b` scales, so blocks must tile the
//!     tensor); a slice, select or expand whose element count no longer splits into whole
//!     groups is re-grouped the same way.
//!
//!   Error bound of a conversion: each value is within half a quantum of its GSE group,
//!   `2^(scale - bits)`; for `q_from_data` of Q8S/Q4S/Q2S data that is at most the data's own
//!   scale (one burn quantum), for full-range Q8F/Q4F/Q2F data at most two (their `-2^(bits-1)`
//!   can carry a group to the next power of two).
//! * **Refused** (clear panics): minifloat values (`E4M3`, `E5M2`, `E2M1`); in `q_from_data`,
//!   `QuantStore::PackedNative`, `QuantStore::PackedU32(d)` with `d != 0`, NaN/infinite scales,
//!   and block data whose element count is not a whole number of blocks.
//!
//! `quantize`/`quantize_dynamic` ignore burn's float scales (they are checked for shape only):
//! the GSE quantizer picks each group's power-of-two scale. `dequantize` converts to the
//! device's stream format (exact for the default STREAM16 and for EXACT: every 8-bit value with
//! a power-of-two scale fits). View ops (reshape, expand, swap_dims, permute, flip, slice) only
//! change the layout — GSE groups are physical; `q_into_data` of a view re-forms the groups
//! (which rounds, like a requantization). `select` and `gather` write new groups directly in
//! the held format. The other ~65 ops keep burn's default dequantize -> float op -> quantize.

use burn_backend::ops::QTensorOps;
use burn_backend::quantization::{
    BlockSize, QuantLevel, QuantMode, QuantParam, QuantScheme, QuantStore, QuantValue,
    QuantizationParametersPrimitive, QuantizedBytes, params_shape,
};
use burn_backend::tensor::{Device, FloatTensor, IntTensor, QuantizedTensor};
use burn_backend::{DType, ExecutionError, QTensorPrimitive, TensorData, TensorMetadata};
use burn_std::{FloatDType, Shape, Slice};
use gse::f32_bits::{F32Class, classify_f32, dyadic_to_f32_bits};
use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SCALE_MAX, SCALE_MIN};
use gse_kernels::{GseTensor, Layout, generate, produce};

use crate::convert::int_values;
use crate::{Gsq, GsqDevice, GsqTensor};

/// Largest group a held scheme reports: `BlockSize` stores each block dim in a `u8`.
const MAX_BLOCK: usize = 128;
/// Group of converted schemes whose block is not a usable power of two.
const DEFAULT_GROUP: usize = 32;

/// A quantized tensor of the `Gsq` backend: GSE blocks in the format of [`Self::scheme`].
///
/// `values` holds GSE values whose format is `GseFormat::new(bits, block)` of the held scheme
/// (possibly seen through a view); `scheme` is the held scheme (see the module docs), which is
/// what `into_data` writes and what `dtype()` reports.
#[derive(Clone, Debug)]
pub struct GsqQTensor {
    pub(crate) values: GsqTensor,
    pub(crate) scheme: QuantScheme,
}

impl GsqQTensor {
    /// The GSE values (exact, possibly a view).
    pub fn values(&self) -> &GsqTensor {
        &self.values
    }

    /// The GSE format the values are grouped in.
    pub fn format(&self) -> GseFormat {
        self.values.tensor.format()
    }

    fn with_view(&self, tensor: GseTensor) -> Self {
        let scheme = refit(&self.scheme, tensor.num_elements());
        Self {
            values: self.values.derive(tensor),
            scheme,
        }
    }
}

impl TensorMetadata for GsqQTensor {
    fn dtype(&self) -> DType {
        DType::QFloat(self.scheme)
    }

    fn shape(&self) -> Shape {
        Shape::from(self.values.dims().to_vec())
    }

    fn rank(&self) -> usize {
        self.values.dims().len()
    }
}

impl QTensorPrimitive for GsqQTensor {
    fn scheme(&self) -> &QuantScheme {
        &self.scheme
    }

    /// GSE-INT8 with groups of 32 and power-of-two scales: the paper's format, held natively.
    fn default_scheme() -> QuantScheme {
        QuantScheme {
            value: QuantValue::Q8S,
            param: QuantParam::UE8M0,
            store: QuantStore::Native,
            level: QuantLevel::Block(BlockSize::new([DEFAULT_GROUP as u8])),
            mode: QuantMode::Symmetric,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schemes
// ---------------------------------------------------------------------------------------------

/// Bit width of the scheme's values; minifloats are refused.
fn value_bits(scheme: &QuantScheme, op: &str) -> u32 {
    match scheme.value {
        QuantValue::Q8S | QuantValue::Q8F => 8,
        QuantValue::Q4S | QuantValue::Q4F => 4,
        QuantValue::Q2S | QuantValue::Q2F => 2,
        QuantValue::E4M3 | QuantValue::E5M2 | QuantValue::E2M1 => panic!(
            "burn-gsq: quantization ({op}): minifloat value types (E4M3, E5M2, E2M1) are not \
             supported, got {:?}; use Q8S/Q4S/Q2S with block UE8M0 scales",
            scheme.value
        ),
    }
}

fn symmetric_value(bits: u32) -> QuantValue {
    match bits {
        8 => QuantValue::Q8S,
        4 => QuantValue::Q4S,
        _ => QuantValue::Q2S,
    }
}

/// The single non-unit block dim of a block that only spans the last axis.
fn last_axis_block(block: &BlockSize) -> Option<usize> {
    let dims = block.as_slice();
    match dims.split_last() {
        None => Some(1),
        Some((&last, lead)) if lead.iter().all(|&d| d == 1) => Some(last as usize),
        Some(_) => None,
    }
}

/// `Some(b)` when `scheme` is stored natively (before fitting to a tensor's size).
fn native_block(scheme: &QuantScheme) -> Option<usize> {
    if scheme.param != QuantParam::UE8M0 || !scheme.value.is_symmetric() {
        return None;
    }
    match scheme.level {
        QuantLevel::Block(block) => {
            last_axis_block(&block).filter(|b| b.is_power_of_two() && *b <= MAX_BLOCK)
        }
        QuantLevel::Tensor => None,
    }
}

/// The group a scheme asks for, before fitting: the native block, else the block's element
/// count when that is a usable power of two, else [`DEFAULT_GROUP`].
fn target_group(scheme: &QuantScheme) -> usize {
    native_block(scheme).unwrap_or(match scheme.level {
        QuantLevel::Block(block) => {
            let n = block.num_elements();
            if n.is_power_of_two() && n <= MAX_BLOCK {
                n
            } else {
                DEFAULT_GROUP
            }
        }
        QuantLevel::Tensor => DEFAULT_GROUP,
    })
}

/// The largest power of two `<= group` that divides `numel` (blocks must tile the tensor).
fn fit_group(group: usize, numel: usize) -> usize {
    if numel == 0 {
        group
    } else {
        group.min(1usize << numel.trailing_zeros())
    }
}

/// The scheme a tensor of `numel` elements quantized with `requested` is held in.
fn held_scheme(requested: &QuantScheme, numel: usize, op: &str) -> QuantScheme {
    let bits = value_bits(requested, op);
    let group = fit_group(target_group(requested), numel);
    let level = if native_block(requested) == Some(group) {
        requested.level
    } else {
        QuantLevel::Block(BlockSize::new([group as u8]))
    };
    QuantScheme {
        value: symmetric_value(bits),
        param: QuantParam::UE8M0,
        store: QuantStore::Native,
        level,
        mode: QuantMode::Symmetric,
    }
}

/// A held scheme re-fitted to a new element count (after a slice, select or expand).
fn refit(held: &QuantScheme, numel: usize) -> QuantScheme {
    held_scheme(held, numel, "refit")
}

/// The GSE format of a held scheme.
fn held_format(held: &QuantScheme) -> GseFormat {
    let bits = value_bits(held, "format");
    let group = match held.level {
        QuantLevel::Block(block) => block.num_elements(),
        QuantLevel::Tensor => DEFAULT_GROUP,
    };
    GseFormat::new(bits, group as u32).unwrap_or_else(|e| {
        panic!("burn-gsq: quantization: held scheme {held:?} is not a GSE format: {e}")
    })
}

// ---------------------------------------------------------------------------------------------
// Scales as bit patterns
// ---------------------------------------------------------------------------------------------

/// `k` when the f32 bit pattern is exactly `+2^k`.
fn pow2_exponent(bits: u32) -> Option<i32> {
    match classify_f32(bits) {
        F32Class::Finite(d) if d.mant > 0 && (d.mant as u64).is_power_of_two() => {
            Some(d.exp + d.mant.trailing_zeros() as i32)
        }
        _ => None,
    }
}

/// The exact value of a scale read from `TensorData`; NaN and infinities are refused.
fn scale_value(bits: u32, block: usize) -> Dyadic {
    match classify_f32(bits) {
        F32Class::Finite(d) => d,
        other => panic!(
            "burn-gsq: q_from_data: the scale of block {block} is {other:?}; quantized data \
             needs finite scales"
        ),
    }
}

/// burn's f32 scale of a GSE group: `2^(scale - (bits - 1))`, exact for every GSE scale.
fn burn_scale(format: GseFormat, scale: i32) -> f32 {
    f32::from_bits(dyadic_to_f32_bits(Dyadic::new(
        1,
        format.lsb_exponent(scale),
    )))
}

// ---------------------------------------------------------------------------------------------
// Index helpers
// ---------------------------------------------------------------------------------------------

fn unravel(mut i: usize, dims: &[usize], out: &mut [usize]) {
    for a in (0..dims.len()).rev() {
        out[a] = i % dims[a];
        i /= dims[a];
    }
}

fn physical(layout: &Layout, coord: &[usize]) -> usize {
    (layout.offset() as isize
        + coord
            .iter()
            .zip(layout.strides())
            .map(|(&c, &s)| c as isize * s)
            .sum::<isize>()) as usize
}

fn check_index(op: &str, index: i64, dim_size: usize) -> usize {
    let i = if index < 0 {
        index + dim_size as i64
    } else {
        index
    };
    assert!(
        (0..dim_size as i64).contains(&i),
        "burn-gsq: {op}: index {index} is out of bounds for a dimension of size {dim_size}"
    );
    i as usize
}

/// A new quantized tensor of `dims` whose element at output coordinate `c` is the source's
/// element at `source(i, c)` (which rewrites `c` in place), grouped afresh in the held format.
fn regroup(
    t: &GsqQTensor,
    dims: &[usize],
    source: impl Fn(usize, &mut [usize]) + Sync + Send + Clone,
) -> GsqQTensor {
    let numel: usize = dims.iter().product();
    let scheme = refit(&t.scheme, numel);
    let src = &t.values.tensor;
    let rank = dims.len();
    let out = produce(
        dims,
        held_format(&scheme),
        Rounding::NearestEven,
        move |start, buf: &mut [Dyadic]| {
            let mut coord = vec![0usize; rank];
            for (k, o) in buf.iter_mut().enumerate() {
                unravel(start + k, dims, &mut coord);
                source(start + k, &mut coord);
                *o = src.storage_value(physical(src.layout(), &coord));
            }
        },
    );
    GsqQTensor {
        values: t.values.derive(out),
        scheme,
    }
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

fn q_from_data(data: TensorData, device: &GsqDevice) -> GsqQTensor {
    let scheme = match data.dtype {
        DType::QFloat(scheme) => scheme,
        other => panic!("burn-gsq: q_from_data: expected quantized data, got {other:?}"),
    };
    value_bits(&scheme, "q_from_data");
    match scheme.store {
        QuantStore::Native | QuantStore::PackedU32(0) => {}
        store => panic!(
            "burn-gsq: q_from_data: {store:?} storage is not supported; use \
             QuantStore::Native or QuantStore::PackedU32(0)"
        ),
    }
    let shape = data.shape.clone();
    let numel = shape.num_elements();
    let block = match scheme.level {
        QuantLevel::Tensor => numel.max(1),
        QuantLevel::Block(b) => {
            let b = b.num_elements();
            assert!(
                b > 0 && numel.is_multiple_of(b),
                "burn-gsq: q_from_data: {numel} values are not a whole number of blocks of {b} \
                 (burn's quantized layout stores numel / block scales)"
            );
            b
        }
    };
    let (q, qparams) = QuantizedBytes {
        bytes: data.bytes,
        scheme,
        num_elements: numel,
    }
    .into_vec_i8();
    let scale_bits: Vec<u32> = qparams.scales.iter().map(|s| s.to_bits()).collect();
    let held = held_scheme(&scheme, numel, "q_from_data");
    let format = held_format(&held);
    let dims: Vec<usize> = shape.iter().copied().collect();

    // Native: every scale a power of two in GSE's range, every value within ±max, blocks equal
    // to groups. The bytes are stored as they are.
    if native_block(&scheme) == Some(format.group_size()) {
        let p = format.magnitude_bits() as i32;
        let max = format.max_mantissa();
        let scales: Option<Vec<i32>> = scale_bits
            .iter()
            .map(|&s| {
                pow2_exponent(s)
                    .map(|k| k + p)
                    .filter(|s| (SCALE_MIN..=SCALE_MAX).contains(s))
            })
            .collect();
        if let Some(scales) = scales
            && q.iter().all(|&m| (m as i32).abs() <= max)
        {
            let mut blocks = GseBlocks::zeros(format, numel);
            let mut mantissas = vec![0i32; format.group_size()];
            for (g, chunk) in q.chunks(format.group_size()).enumerate() {
                for (o, &m) in mantissas.iter_mut().zip(chunk) {
                    *o = m as i32;
                }
                blocks.write_group(g, scales[g], &mantissas[..chunk.len()]);
            }
            let tensor = GseTensor::from_blocks(blocks, &dims);
            return GsqQTensor {
                values: GsqTensor::new(tensor, *device),
                scheme: held,
            };
        }
    }

    // Converted: exact values q * scale, regrouped by the GSE quantizer.
    let scales: Vec<Dyadic> = scale_bits
        .iter()
        .enumerate()
        .map(|(g, &s)| scale_value(s, g))
        .collect();
    let tensor = generate(&dims, format, Rounding::NearestEven, |i| {
        Dyadic::from_int(q[i] as i64).mul(scales[i / block])
    });
    GsqQTensor {
        values: GsqTensor::new(tensor, *device),
        scheme: held,
    }
}

fn q_into_data(tensor: GsqQTensor) -> TensorData {
    let shape = Shape::from(tensor.values.dims().to_vec());
    let numel = shape.num_elements();
    let scheme = refit(&tensor.scheme, numel);
    let format = held_format(&scheme);
    let t = tensor
        .values
        .tensor
        .to_contiguous(format, Rounding::NearestEven);
    // A contiguous view may be returned as is: read from its offset (a group boundary).
    let offset = t.layout().offset();
    let blocks = t.blocks();
    let g = format.group_size();
    let values: Vec<i8> = (0..numel)
        .map(|i| blocks.mantissa(offset + i) as i8)
        .collect();
    let scales: Vec<f32> = (0..numel.div_ceil(g))
        .map(|k| burn_scale(format, blocks.scale((offset + k * g) / g)))
        .collect();
    TensorData::quantized(values, shape, scheme, &scales)
}

// ---------------------------------------------------------------------------------------------
// The trait
// ---------------------------------------------------------------------------------------------

fn quantize_gse(tensor: GsqTensor, scheme: &QuantScheme, op: &str) -> GsqQTensor {
    let numel = tensor.tensor.num_elements();
    let held = held_scheme(scheme, numel, op);
    let q = tensor
        .tensor
        .to_contiguous(held_format(&held), Rounding::NearestEven);
    GsqQTensor {
        values: tensor.derive(q),
        scheme: held,
    }
}

impl QTensorOps<Gsq> for Gsq {
    fn q_from_data(data: TensorData, device: &Device<Gsq>) -> QuantizedTensor<Gsq> {
        q_from_data(data, device)
    }

    /// Quantizes with the GSE quantizer; burn's `qparams` are only checked for shape.
    fn quantize(
        tensor: FloatTensor<Gsq>,
        scheme: &QuantScheme,
        qparams: QuantizationParametersPrimitive<Gsq>,
    ) -> QuantizedTensor<Gsq> {
        value_bits(scheme, "quantize");
        let shape = tensor.shape();
        let expected = params_shape(&shape, scheme.level).num_elements();
        let given = qparams.scales.shape().num_elements();
        assert!(
            given == expected,
            "burn-gsq: quantize: {given} scales given for a {shape:?} tensor at level {:?}; \
             expected {expected}",
            scheme.level
        );
        quantize_gse(tensor, scheme, "quantize")
    }

    /// Skips burn's float min/max/scale computation: the GSE quantizer picks its own scales.
    fn quantize_dynamic(tensor: FloatTensor<Gsq>, scheme: &QuantScheme) -> QuantizedTensor<Gsq> {
        quantize_gse(tensor, scheme, "quantize_dynamic")
    }

    fn dequantize(tensor: QuantizedTensor<Gsq>, dtype: FloatDType) -> FloatTensor<Gsq> {
        let values = tensor.values;
        let (format, rounding) = values.out();
        let out = values.tensor.to_contiguous(format, rounding);
        super::creation::cast(values.derive(out), dtype)
    }

    fn q_device(tensor: &QuantizedTensor<Gsq>) -> Device<Gsq> {
        tensor.values.device
    }

    fn q_to_device(tensor: QuantizedTensor<Gsq>, device: &Device<Gsq>) -> QuantizedTensor<Gsq> {
        GsqQTensor {
            values: GsqTensor {
                device: *device,
                ..tensor.values
            },
            scheme: tensor.scheme,
        }
    }

    fn q_reshape(tensor: QuantizedTensor<Gsq>, shape: Shape) -> QuantizedTensor<Gsq> {
        let dims: Vec<usize> = shape.iter().copied().collect();
        let v = tensor.values.tensor.reshape(&dims);
        tensor.with_view(v)
    }

    async fn q_into_data(tensor: QuantizedTensor<Gsq>) -> Result<TensorData, ExecutionError> {
        Ok(q_into_data(tensor))
    }

    fn q_expand(tensor: QuantizedTensor<Gsq>, shape: Shape) -> QuantizedTensor<Gsq> {
        let dims: Vec<usize> = shape.iter().copied().collect();
        let v = tensor.values.tensor.expand(&dims);
        tensor.with_view(v)
    }

    fn q_swap_dims(tensor: QuantizedTensor<Gsq>, dim1: usize, dim2: usize) -> QuantizedTensor<Gsq> {
        let v = tensor.values.tensor.swap_dims(dim1, dim2);
        tensor.with_view(v)
    }

    fn q_permute(tensor: QuantizedTensor<Gsq>, axes: &[usize]) -> QuantizedTensor<Gsq> {
        let v = tensor.values.tensor.permute(axes);
        tensor.with_view(v)
    }

    fn q_flip(tensor: QuantizedTensor<Gsq>, axes: &[usize]) -> QuantizedTensor<Gsq> {
        let v = tensor.values.tensor.flip(axes);
        tensor.with_view(v)
    }

    fn q_select(
        tensor: QuantizedTensor<Gsq>,
        dim: usize,
        indices: IntTensor<Gsq>,
    ) -> QuantizedTensor<Gsq> {
        let idx = int_values(indices.flex);
        let size = tensor.values.dims()[dim];
        let mut dims = tensor.values.dims().to_vec();
        dims[dim] = idx.len();
        let idx = &idx;
        regroup(&tensor, &dims, move |_, coord| {
            coord[dim] = check_index("q_select", idx[coord[dim]], size);
        })
    }

    fn q_slice(tensor: QuantizedTensor<Gsq>, slices: &[Slice]) -> QuantizedTensor<Gsq> {
        let values = super::shape::slice(tensor.values.clone(), slices);
        tensor.with_view(values.tensor)
    }

    fn q_gather(
        dim: usize,
        tensor: QuantizedTensor<Gsq>,
        indices: IntTensor<Gsq>,
    ) -> QuantizedTensor<Gsq> {
        let dims: Vec<usize> = indices.flex.layout().shape().iter().copied().collect();
        let idx = int_values(indices.flex);
        let size = tensor.values.dims()[dim];
        let idx = &idx;
        regroup(&tensor, &dims, move |i, coord| {
            coord[dim] = check_index("q_gather", idx[i], size);
        })
    }
}
