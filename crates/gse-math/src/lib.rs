//! Integer-only scalar math over [`gse::Dyadic`], shaped like the `libm` crate.
//!
//! Every function takes exact dyadic values and returns an [`Outcome`]: a finite dyadic with a
//! 62-bit mantissa, or the NaN/infinity IEEE-754 would have produced. Callers (the tensor
//! kernels) round the result to a GSE format afterwards. No floating-point arithmetic is used
//! anywhere: fixed point in `i64`/`i128`, integer Newton iterations, and constant tables
//! generated offline by `tools/gen_tables.py`.
//!
//! # Accuracy
//!
//! Each function documents its method, its error bound and the maximum error measured against
//! mpmath at 256 bits on inputs with full 62-bit mantissas (`examples/dump_samples.rs` feeds
//! `tools/check_mpmath.py`). Relative errors are below `2^-52` everywhere by analysis and
//! measure between `2^-54` and `2^-61`: far inside the `2^-30` contract that puts results,
//! once rounded to 25 bits, within one unit of correctly rounded f32. sqrt, recip and div are
//! correctly rounded to odd at 62 bits (bit-identical to [`gse::Dyadic::sqrt`] and
//! [`gse::Dyadic::div`]), so rounding them once more is exactly IEEE-754 rounding. Where a
//! function vanishes at a nonzero input the error stays relative because the small quantity is
//! computed directly (log and log1p near 1, acos near 1, acosh near 1, atanh, asin, sin and cos
//! near multiples of pi up to the `2^-124` reduction error); the GELU derivative, whose two terms
//! cancel near `x = -0.7518`, is bounded relative to its larger term. The f64 sweeps in `tests/`
//! (100k to 1M points per function) assert bounds between `2^-44` and `2^-51`, set by the f64
//! reference's own rounding, not by this library.
//!
//! # Range
//!
//! Finite results are below `2^128` ([`OVERFLOW_LOG2`]); beyond, `Infinite`. The exponential
//! family flushes results below `2^-160` to zero ([`UNDERFLOW_LOG2`]). Inputs may be any dyadic:
//! huge and tiny magnitudes are handled without overflow and without panicking. sin, cos and tan
//! reduce exactly for `|x| < 2^1024` and return `Nan` beyond.
#![deny(clippy::float_arithmetic)]

pub mod consts;
mod math;
mod outcome;
mod support;
mod tables;

pub use consts::{FRAC_PI_2, LN2, PI};
pub use math::acos::acos;
pub use math::acosh::acosh;
pub use math::asin::asin;
pub use math::asinh::asinh;
pub use math::atan::atan;
pub use math::atan2::atan2;
pub use math::atanh::atanh;
pub use math::ceil::ceil;
pub use math::cos::cos;
pub use math::cosh::cosh;
pub use math::erf::{erf, erfc};
pub use math::exp::{exp, exp_nonpositive, expm1};
pub use math::floor::floor;
pub use math::gelu::{gelu_erf, gelu_erf_derivative, gelu_tanh};
pub use math::log::log;
pub use math::log1p::log1p;
pub use math::powf::powf;
pub use math::recip::{div, recip};
pub use math::remainder::remainder;
pub use math::round_half_even::round_half_even;
pub use math::sigmoid::sigmoid;
pub use math::sin::sin;
pub use math::sinh::sinh;
pub use math::sqrt::sqrt;
pub use math::tan::tan;
pub use math::tanh::tanh;
pub use math::trunc::trunc;
pub use outcome::{OVERFLOW_LOG2, Outcome, UNDERFLOW_LOG2};
