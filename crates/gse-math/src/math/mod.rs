//! One function per file, like the `libm` crate. Shared kernels live next to the function
//! that owns them (`exp_norm` in `exp`, `ln_norm` in `log`, ...) or in `trig_*` and
//! `integer_part`.

pub(crate) mod acos;
pub(crate) mod acosh;
pub(crate) mod asin;
pub(crate) mod asinh;
pub(crate) mod atan;
pub(crate) mod atan2;
pub(crate) mod atanh;
pub(crate) mod ceil;
pub(crate) mod cos;
pub(crate) mod cosh;
pub(crate) mod erf;
pub(crate) mod exp;
pub(crate) mod floor;
pub(crate) mod gelu;
mod integer_part;
pub(crate) mod log;
pub(crate) mod log1p;
pub(crate) mod powf;
pub(crate) mod recip;
pub(crate) mod remainder;
pub(crate) mod round_half_even;
pub(crate) mod sigmoid;
pub(crate) mod sin;
pub(crate) mod sinh;
pub(crate) mod sqrt;
pub(crate) mod tan;
pub(crate) mod tanh;
mod trig_kernel;
mod trig_reduce;
pub(crate) mod trunc;
