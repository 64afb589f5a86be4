//! GSE, Group-Shared-Exponent integers: the number format of burn-gsq.
//!
//! A group of values shares one power-of-two scale and each value is a small signed integer
//! mantissa ([`GseFormat`]). This crate holds the format, its compact storage ([`GseBlocks`]),
//! the exact integer form every kernel computes in ([`Dyadic`]), conversion to and from f32 bit
//! patterns, rounding (nearest-even and reproducible stochastic), the group quantizer and the
//! special-value policy. It never performs floating-point arithmetic: f32 values are only read
//! and written as IEEE-754 bit patterns.
#![deny(clippy::float_arithmetic)]

pub mod dyadic;
pub mod f32_bits;
pub mod format;
pub mod pages;
pub mod quantize;
pub mod rounding;
pub mod sort_key;
pub mod special;
pub mod storage;
pub mod uninit;

pub use dyadic::Dyadic;
pub use format::{Container, FormatError, GseFormat, SCALE_BIAS, SCALE_MAX, SCALE_MIN};
pub use quantize::{decode_f32, encode_dyadics, encode_f32, quantize_group};
pub use rounding::{Rounding, SplitMix64};
pub use special::{SpecialCounts, SpecialPolicy, SpecialValueError};
pub use storage::{GroupsMut, GseBlocks, Mantissas, StorageError};
pub use uninit::{UninitBlocks, UninitMantissas};
