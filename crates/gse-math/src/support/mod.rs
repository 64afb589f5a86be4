//! The integer machinery every function is built from.

pub(crate) mod fixed;
pub(crate) mod norm;
pub(crate) mod piecewise;
mod newton;
