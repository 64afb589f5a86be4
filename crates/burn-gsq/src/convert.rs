//! Crossings at the API edge: `TensorData` and `Scalar` into exact integers and back, and the
//! int/bool tensors (burn-flex primitives) that float ops take or return. Float values are only
//! ever read and written as IEEE-754 bit patterns.

use burn_backend::{DType, Scalar, TensorData};
use burn_flex::FlexTensor;
use burn_std::{BoolDType, FloatDType, IntDType, Shape};
use gse::f32_bits::{F32Class, IeeeFormat, classify_ieee, dyadic_to_ieee_bits};
use gse::{Dyadic, SCALE_MAX, SpecialCounts, SpecialPolicy};

/// Magnitude that every format saturates: how ±Inf enters a computation.
pub(crate) fn saturated(negative: bool) -> Dyadic {
    let huge = Dyadic::new(1, SCALE_MAX + 1);
    if negative { huge.neg() } else { huge }
}

/// Resolves a classified IEEE value per the special-value policy (see `gse::special`).
fn resolve(class: F32Class, policy: SpecialPolicy, what: &str) -> Dyadic {
    match class {
        F32Class::Finite(d) => d,
        F32Class::Nan => {
            assert!(
                policy != SpecialPolicy::Error,
                "burn-gsq: NaN in {what}: GSE has no NaN (the device's policy refuses it)"
            );
            gse::special::record(SpecialCounts {
                nan: 1,
                ..SpecialCounts::default()
            });
            Dyadic::ZERO
        }
        F32Class::Infinite { negative } => {
            assert!(
                policy != SpecialPolicy::Error,
                "burn-gsq: infinity in {what}: GSE has no infinities (the device's policy refuses it)"
            );
            gse::special::record(SpecialCounts {
                infinite: 1,
                ..SpecialCounts::default()
            });
            saturated(negative)
        }
    }
}

/// A scalar argument as an exact value.
pub(crate) fn scalar_to_dyadic(scalar: Scalar, policy: SpecialPolicy) -> Dyadic {
    match scalar {
        Scalar::Float(v) => resolve(
            classify_ieee(v.to_bits(), IeeeFormat::F64),
            policy,
            "a scalar",
        ),
        Scalar::Int(v) => Dyadic::from_int(v),
        Scalar::UInt(v) => Dyadic::from_i128(v as i128, 0),
        Scalar::Bool(b) => Dyadic::from_int(b as i64),
    }
}

fn ieee_of(dtype: DType) -> Option<IeeeFormat> {
    match dtype {
        DType::F64 => Some(IeeeFormat::F64),
        DType::F32 | DType::Flex32 => Some(IeeeFormat::F32),
        DType::F16 => Some(IeeeFormat::F16),
        DType::BF16 => Some(IeeeFormat::BF16),
        _ => None,
    }
}

/// Every element of `data` as an exact value, in row-major order.
pub(crate) fn data_to_dyadics(data: &TensorData, policy: SpecialPolicy) -> Vec<Dyadic> {
    let bytes: &[u8] = &data.bytes;
    if let Some(ieee) = ieee_of(data.dtype) {
        let width = ((1 + ieee.exponent_bits + ieee.fraction_bits) / 8) as usize;
        return bytes
            .chunks_exact(width)
            .map(|c| {
                let mut raw = [0u8; 8];
                raw[..width].copy_from_slice(c);
                resolve(
                    classify_ieee(u64::from_le_bytes(raw), ieee),
                    policy,
                    "from_data",
                )
            })
            .collect();
    }
    let signed = |w: usize| -> Vec<Dyadic> {
        bytes
            .chunks_exact(w)
            .map(|c| {
                let mut raw = [0u8; 8];
                raw[..w].copy_from_slice(c);
                let shift = 64 - 8 * w as u32;
                Dyadic::from_int(((u64::from_le_bytes(raw) << shift) as i64) >> shift)
            })
            .collect()
    };
    let unsigned = |w: usize| -> Vec<Dyadic> {
        bytes
            .chunks_exact(w)
            .map(|c| {
                let mut raw = [0u8; 8];
                raw[..w].copy_from_slice(c);
                Dyadic::from_i128(u64::from_le_bytes(raw) as i128, 0)
            })
            .collect()
    };
    match data.dtype {
        DType::I64 => signed(8),
        DType::I32 => signed(4),
        DType::I16 => signed(2),
        DType::I8 => signed(1),
        DType::U64 => unsigned(8),
        DType::U32 => unsigned(4),
        DType::U16 => unsigned(2),
        DType::U8 | DType::Bool(_) => unsigned(1),
        other => panic!("burn-gsq: from_data cannot read {other:?} as a float tensor"),
    }
}

/// Row-major values as `TensorData` of the float dtype `dtype` (bit patterns, rounded to nearest).
pub(crate) fn dyadics_to_data(values: &[Dyadic], shape: Shape, dtype: FloatDType) -> TensorData {
    let dtype: DType = dtype.into();
    let ieee = ieee_of(dtype).unwrap_or(IeeeFormat::F32);
    let width = ((1 + ieee.exponent_bits + ieee.fraction_bits) / 8) as usize;
    let mut bytes = Vec::with_capacity(values.len() * width);
    for v in values {
        let bits = dyadic_to_ieee_bits(*v, ieee);
        bytes.extend_from_slice(&bits.to_le_bytes()[..width]);
    }
    let dtype = if ieee_of(dtype).is_some() {
        dtype
    } else {
        DType::F32
    };
    TensorData::from_bytes_vec(bytes, shape, dtype)
}

/// An int tensor (burn-flex primitive) of `dtype` holding `values`.
pub(crate) fn int_tensor(values: Vec<i64>, shape: Shape, dtype: IntDType) -> FlexTensor {
    let data = TensorData::new(values, shape);
    let tensor = FlexTensor::from_data(data);
    let target: DType = dtype.into();
    if target == DType::I64 {
        tensor
    } else {
        <burn_flex::Flex as burn_backend::ops::IntTensorOps<burn_flex::Flex>>::int_cast(
            tensor, dtype,
        )
    }
}

/// A bool tensor (burn-flex primitive) holding `values`.
pub(crate) fn bool_tensor(values: Vec<bool>, shape: Shape, dtype: BoolDType) -> FlexTensor {
    let data = TensorData::new(values, shape);
    let data = match DType::from(dtype) {
        DType::Bool(_) => TensorData {
            dtype: dtype.into(),
            ..data
        },
        _ => data,
    };
    FlexTensor::from_data(data)
}

/// The values of an int tensor, as i64.
pub(crate) fn int_values(tensor: FlexTensor) -> Vec<i64> {
    let data = tensor.into_data();
    data_to_dyadics(&data, SpecialPolicy::Saturate)
        .into_iter()
        .map(|d| d.round_at(0))
        .collect()
}

/// The values of a bool tensor.
pub(crate) fn bool_values(tensor: FlexTensor) -> Vec<bool> {
    let data = tensor.into_data();
    data.bytes.iter().map(|&b| b != 0).collect()
}
