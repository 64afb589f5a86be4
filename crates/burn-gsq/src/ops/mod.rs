//! burn's op traits for `Gsq`, one file per family of ops.

pub(crate) mod activation;
pub(crate) mod attention;
pub(crate) mod bool;
pub(crate) mod conv;
pub(crate) mod creation;
pub(crate) mod cross;
pub(crate) mod deform_conv;
pub(crate) mod fft;
pub(crate) mod float;
pub(crate) mod index;
pub(crate) mod int;
pub(crate) mod interpolate;
pub(crate) mod linear;
pub(crate) mod math;
pub(crate) mod matmul;
pub(crate) mod module;
pub(crate) mod pool;
pub mod qtensor;
pub(crate) mod random;
pub(crate) mod reduce;
pub(crate) mod shape;
pub(crate) mod transaction;
pub(crate) mod unfold;
