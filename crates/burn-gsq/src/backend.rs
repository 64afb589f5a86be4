//! The `Gsq` backend type.

use burn_backend::{Backend, BackendTypes, DType, DTypeUsage, DTypeUsageSet};
use burn_flex::{Flex, FlexDevice};

use crate::device::GsqDevice;
use crate::ops::qtensor::GsqQTensor;
use crate::tensor::{GsqBoolTensor, GsqIntTensor, GsqTensor};

/// A burn backend whose float tensors are GSE integers and whose every float op is computed
/// with integer arithmetic. Int and bool tensors are burn-flex's, tagged with their device.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gsq;

impl BackendTypes for Gsq {
    type Device = GsqDevice;

    type FloatTensorPrimitive = GsqTensor;
    type FloatElem = f32;

    type IntTensorPrimitive = GsqIntTensor;
    type IntElem = i32;

    type BoolTensorPrimitive = GsqBoolTensor;
    type BoolElem = bool;

    type QuantizedTensorPrimitive = GsqQTensor;
}

impl Backend for Gsq {
    fn name(device: &Self::Device) -> String {
        format!("gsq<{device}>")
    }

    fn seed(_device: &Self::Device, seed: u64) {
        crate::ops::random::seed(seed);
        Flex::seed(&FlexDevice, seed);
    }

    fn device_count(_type_id: u16) -> usize {
        1
    }

    fn dtype_usage(_device: &Self::Device, dtype: DType) -> DTypeUsageSet {
        match dtype {
            // Float dtypes are nominal: values are GSE integers, read and written as these types.
            DType::F64 | DType::F32 | DType::F16 | DType::BF16 => {
                DTypeUsage::Storage | DTypeUsage::Arithmetic
            }
            other => Flex::dtype_usage(&FlexDevice, other),
        }
    }
}
