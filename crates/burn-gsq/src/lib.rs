//! burn-gsq: a [burn](https://burn.dev) 0.21 backend whose float tensors are GSE
//! (group-shared exponent) integers. Every float op — forward, backward and the optimizer's —
//! runs as integer arithmetic in the `gse` crates.
//!
//! ```ignore
//! type B = burn::backend::Autodiff<burn_gsq::Gsq>;
//! let device = burn_gsq::GsqDevice::default();
//! ```
#![deny(clippy::float_arithmetic)]

mod backend;
mod convert;
mod device;
pub mod ops;
mod policy;
mod readback;
mod tensor;

pub use backend::Gsq;
pub use device::GsqDevice;
pub use gse::{GseFormat, Rounding, SpecialPolicy};
pub use policy::PrecisionPolicy;
pub use tensor::{GsqBoolTensor, GsqIntTensor, GsqTensor};

/// How often NaN, infinities and out-of-range values were mapped since the process started.
pub fn special_value_counts() -> gse::SpecialCounts {
    gse::special::totals()
}
