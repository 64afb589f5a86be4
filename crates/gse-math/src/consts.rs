//! Mathematical constants as 62-bit [`gse::Dyadic`]s (nearest, relative error below `2^-62`),
//! generated with mpmath by `tools/gen_tables.py`.

pub use crate::tables::consts::{
    E, FRAC_1_SQRT_2, FRAC_1_SQRT_2PI, FRAC_2_SQRT_PI, FRAC_PI_2, FRAC_PI_4, GELU_TANH_CUBIC, LN2,
    LOG2_E, PI, SQRT_2, SQRT_2_OVER_PI,
};
