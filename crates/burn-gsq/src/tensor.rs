//! [`GsqTensor`], the float tensor primitive: a GSE tensor, its device (policy) and the float
//! dtype burn believes it has.

use burn_backend::{DType, TensorMetadata};
use burn_flex::FlexTensor;
use burn_std::{FloatDType, Shape};
use gse::{Dyadic, GseFormat, Rounding};
use gse_kernels::GseTensor;

use crate::device::GsqDevice;
use crate::policy::PrecisionPolicy;

/// A float tensor of the `Gsq` backend. The values are GSE integers; `dtype` is the nominal
/// float type reported to burn (F32 unless cast) and used by `into_data`.
#[derive(Clone, Debug)]
pub struct GsqTensor {
    pub(crate) tensor: GseTensor,
    pub(crate) device: GsqDevice,
    pub(crate) dtype: FloatDType,
}

impl GsqTensor {
    pub(crate) fn new(tensor: GseTensor, device: GsqDevice) -> Self {
        Self {
            tensor,
            device,
            dtype: FloatDType::F32,
        }
    }

    /// A result of an op on `self`: same device and nominal dtype.
    pub(crate) fn derive(&self, tensor: GseTensor) -> Self {
        Self {
            tensor,
            device: self.device,
            dtype: self.dtype,
        }
    }

    pub(crate) fn policy(&self) -> PrecisionPolicy {
        self.device.policy()
    }

    /// Format and rounding of this tensor's op results.
    pub(crate) fn out(&self) -> (GseFormat, Rounding) {
        let p = self.policy();
        (p.stream, p.rounding)
    }

    /// A float primitive over existing GSE storage (e.g. blocks read back from a file), on
    /// `device`. Wrap it with `Tensor::from_primitive(TensorPrimitive::Float(..))`.
    pub fn from_gse(tensor: GseTensor, device: GsqDevice) -> Self {
        Self::new(tensor, device)
    }

    /// The GSE tensor inside.
    pub fn gse(&self) -> &GseTensor {
        &self.tensor
    }

    pub fn device(&self) -> GsqDevice {
        self.device
    }

    pub(crate) fn dims(&self) -> &[usize] {
        self.tensor.shape()
    }

    /// Values in row-major order.
    pub(crate) fn values(&self) -> Vec<Dyadic> {
        self.tensor.to_dyadics()
    }
}

impl TensorMetadata for GsqTensor {
    fn dtype(&self) -> DType {
        self.dtype.into()
    }

    fn shape(&self) -> Shape {
        Shape::from(self.tensor.shape().to_vec())
    }

    fn rank(&self) -> usize {
        self.tensor.rank()
    }
}

/// An int tensor of the `Gsq` backend: burn-flex's tensor and the [`GsqDevice`] it lives on,
/// so that `Tensor::from_data(ints, &device).float()` lands on `device` (and computes at its
/// policy) like every other tensor created there.
#[derive(Clone, Debug)]
pub struct GsqIntTensor {
    pub(crate) flex: FlexTensor,
    pub(crate) device: GsqDevice,
}

/// A bool tensor of the `Gsq` backend: burn-flex's tensor and its [`GsqDevice`].
#[derive(Clone, Debug)]
pub struct GsqBoolTensor {
    pub(crate) flex: FlexTensor,
    pub(crate) device: GsqDevice,
}

macro_rules! flex_wrapper {
    ($t:ident) => {
        impl $t {
            pub(crate) fn new(flex: FlexTensor, device: GsqDevice) -> Self {
                Self { flex, device }
            }

            /// burn-flex's tensor inside.
            pub fn flex(&self) -> &FlexTensor {
                &self.flex
            }

            pub fn device(&self) -> GsqDevice {
                self.device
            }
        }

        impl TensorMetadata for $t {
            fn dtype(&self) -> DType {
                self.flex.dtype()
            }

            fn shape(&self) -> Shape {
                self.flex.shape()
            }

            fn rank(&self) -> usize {
                self.flex.rank()
            }
        }
    };
}

flex_wrapper!(GsqIntTensor);
flex_wrapper!(GsqBoolTensor);
