//! The integer machinery every function is built from.

pub(crate) mod fixed;
mod newton;
pub(crate) mod norm;
pub(crate) mod piecewise;
