//! Tensors from data, constants, int/bool crossings, and back to data.

use burn_backend::{Scalar, TensorData};
use burn_flex::FlexTensor;
use burn_std::{FloatDType, IntDType, Shape};
use gse::{Dyadic, GseFormat, Rounding};
use gse_kernels::generate;

use crate::convert::{data_to_dyadics, dyadics_to_data, int_tensor, scalar_to_dyadic};
use crate::{GsqDevice, GsqIntTensor, GsqTensor};

fn dims(shape: &Shape) -> Vec<usize> {
    shape.iter().copied().collect()
}

/// Row-major values rounded to the device's stream format.
pub(crate) fn from_values(values: &[Dyadic], shape: &Shape, device: &GsqDevice) -> GsqTensor {
    let p = device.policy();
    from_values_in(values, shape, device, p.stream, p.rounding)
}

fn from_values_in(
    values: &[Dyadic],
    shape: &Shape,
    device: &GsqDevice,
    format: GseFormat,
    rounding: Rounding,
) -> GsqTensor {
    let t = generate(&dims(shape), format, rounding, |i| values[i]);
    GsqTensor::new(t, *device)
}

pub(crate) fn from_data(data: TensorData, device: &GsqDevice) -> GsqTensor {
    let values = data_to_dyadics(&data, device.policy().special);
    let mut t = from_values(&values, &data.shape, device);
    t.dtype = match data.dtype {
        burn_backend::DType::F64 => FloatDType::F64,
        burn_backend::DType::F16 => FloatDType::F16,
        burn_backend::DType::BF16 => FloatDType::BF16,
        _ => FloatDType::F32,
    };
    t
}

pub(crate) fn into_data(tensor: GsqTensor) -> TensorData {
    let shape = Shape::from(tensor.dims().to_vec());
    if tensor.dtype == FloatDType::F32 {
        return crate::readback::f32_data(&tensor.tensor, shape);
    }
    dyadics_to_data(&tensor.values(), shape, tensor.dtype)
}

pub(crate) fn full(
    shape: Shape,
    value: Scalar,
    device: &GsqDevice,
    dtype: FloatDType,
) -> GsqTensor {
    let p = device.policy();
    let v = scalar_to_dyadic(value, p.special);
    let t = generate(&dims(&shape), p.stream, p.rounding, |_| v);
    GsqTensor {
        dtype,
        ..GsqTensor::new(t, *device)
    }
}

/// An int or bool tensor as float, on its device. Their values are integers, so they are stored
/// at the exact format (as an f32 would hold them) whatever the device's stream format; ops on
/// the result round to the device's policy.
pub(crate) fn from_exact_values(
    tensor: FlexTensor,
    device: GsqDevice,
    dtype: FloatDType,
) -> GsqTensor {
    let data = tensor.into_data();
    let values = data_to_dyadics(&data, gse::SpecialPolicy::Saturate);
    GsqTensor {
        dtype,
        ..from_values_in(
            &values,
            &data.shape,
            &device,
            GseFormat::EXACT,
            Rounding::NearestEven,
        )
    }
}

/// Float to int: truncation toward zero, like a Rust `as` cast.
pub(crate) fn into_int(tensor: GsqTensor, dtype: IntDType) -> GsqIntTensor {
    let shape = Shape::from(tensor.dims().to_vec());
    let values = tensor
        .values()
        .into_iter()
        .map(|d| gse_math::trunc(d).round_at(0))
        .collect();
    GsqIntTensor::new(int_tensor(values, shape, dtype), tensor.device)
}

/// Rounds every value to what `dtype` can hold and records `dtype` as the nominal type.
pub(crate) fn cast(tensor: GsqTensor, dtype: FloatDType) -> GsqTensor {
    use gse::f32_bits::{IeeeFormat, classify_ieee, dyadic_to_ieee_bits};
    let ieee = match dtype {
        FloatDType::F16 => Some(IeeeFormat::F16),
        FloatDType::BF16 => Some(IeeeFormat::BF16),
        _ => None,
    };
    let mut out = match ieee {
        Some(ieee) => super::math::unary(tensor, move |d| {
            match classify_ieee(dyadic_to_ieee_bits(d, ieee), ieee) {
                gse::f32_bits::F32Class::Finite(v) => v,
                _ => crate::convert::saturated(d.is_negative()),
            }
        }),
        None => tensor,
    };
    out.dtype = dtype;
    out
}
