//! Tensor kernels on GSE data: views, elementwise maps with broadcasting, reductions, scans,
//! sorting, comparisons and the fused softmax/normalization/activation kernels. Everything is
//! integer arithmetic; results do not depend on the number of threads.
#![deny(clippy::float_arithmetic)]

pub mod accumulate;
pub mod compare;
mod decode;
pub mod elementwise;
mod fixed_exp;
pub mod gelu;
mod key;
pub mod layout;
mod lines;
mod nearest;
pub mod norm;
mod produce;
pub mod reduce;
pub mod scan;
pub mod sigmoid;
pub mod softmax;
pub mod sort;
pub mod tensor;

pub use accumulate::LongAcc;
pub use compare::{Comparison, compare, compare_scalar};
pub use elementwise::{BroadcastError, generate, map_binary, map_unary};
pub use gelu::{gelu, gelu_backward};
pub use layout::{AxisSlice, Layout, broadcast_shape};
pub use norm::{layer_norm, rms_norm};
pub use produce::produce;
pub use reduce::{
    argmax_dim, argmin_dim, max_all, max_dim, max_dim_with_indices, mean_all, mean_dim, min_all,
    min_dim, min_dim_with_indices, prod_all, prod_dim, sum_all, sum_dim, var_dim,
};
pub use scan::{cummax, cummin, cumprod, cumsum};
pub use sigmoid::sigmoid;
pub use softmax::{log_softmax, softmax};
pub use sort::{argsort, sort, sort_with_indices, topk};
pub use tensor::GseTensor;
