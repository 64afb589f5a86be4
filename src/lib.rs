//! Facade over the burn-gsq layers: the GSE format, its integer math, the tensor kernels and the GEMM.
pub use gse;
pub use gse_gemm as gemm;
pub use gse_kernels as kernels;
pub use gse_math as math;
