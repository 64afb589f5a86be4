//! Integer GEMM over GSE operands.
//!
//! `C = A * B` where A (`M x K`) and B (`K x N`) are strided views ([`MatRef`]) over
//! [`GseBlocks`] of any format. No floating-point arithmetic anywhere.
//!
//! # What is computed
//! 1. **Operand quantization.** Each row of A and each column of B is cut into K-groups of the
//!    operand format's group size (32 for the presets) and re-quantized to it exactly as
//!    [`gse::quantize_group`] would (scale from the largest magnitude, nearest-even, or
//!    stochastic with [`GemmConfig::rounding`]), during packing, with integer shifts.
//!    Stochastic rounding of A element `(r, k)` uses random index `r * K + k`, of B element
//!    `(k, c)` index `c * K + k`, with seeds derived from the configured seed per batch entry
//!    and operand.
//! 2. **Exact accumulation.** Within a K-group, mantissa products are summed in i32; groups
//!    are aligned by the sum of their two scales into an i64 accumulator. Both steps are exact
//!    (the headroom proofs are in `bounds.rs`) whenever the non-zero group scales of the A row
//!    and of the B column span at most `spread_limit` steps together (39 at INT8, K = 1024;
//!    ~30 at K = 2^20). Beyond that the tile falls back to summing 62-bit round-to-odd dyadics.
//! 3. **Output.** Each result (plus the bias of [`linear`], added exactly or round-to-odd at
//!    62 bits) is rounded once, nearest-even, to [`GemmConfig::out_format`].
//!
//! # Error bounds
//! Against the exact product of the *quantized* operands, each output is the correctly rounded
//! value: error at most half a quantum of its output group (for one-element-group formats,
//! `|err| <= 2^-P_out * |result|`, e.g. `2^-15` relative for STREAM16), except in dyadic
//! tiles, which add at most `G * 2^-61` times the largest partial sum (G = K-groups).
//!
//! Against f64 of the original values, add the operand quantization: with nearest-even each
//! operand value moves by at most half its group quantum. The quantum is `2^(sA - P)` where
//! `2^sA > max |a|` over the group, or twice that when rounding carried the group's largest
//! member to `2^sA` and raised the scale by one, so `|da| <= 2^(sA - P)` in every case and
//! `|err| <= sum_g gs * (2^(sA_g - P) * 2^sB_g + 2^sA_g * 2^(sB_g - P) + 2^(sA_g + sB_g - 2P))`
//! `= sum_g gs * 2^(sA_g + sB_g) * (2^(1-P) + 2^(-2P))`, i.e. about `2^(1-P)` times
//! `sum_k 4 * max|a| * max|b|` over each group (`P = 7` for INT8), plus the output rounding.
//! `tests/error_bound.rs` checks this bound for INT8, INT6, INT5 and INT4 operands.
//!
//! # Engine
//! Packing re-quantizes into i16 panels pre-aligned per K-block (`pack.rs`); an `MR x NR`
//! micro-kernel (`kernel/`) with an AVX2 `vpmaddwd` implementation selected at run time and a
//! bit-identical portable one; `rayon` over output tiles. See `PERF.md`.
#![deny(clippy::float_arithmetic)]

mod bounds;
mod driver;
mod error;
mod kernel;
mod pack;
mod pack_stream;
#[cfg(target_arch = "x86_64")]
mod pack_stream_avx2;
mod quant;
mod reference;
mod requant;
mod source;
#[doc(hidden)]
pub mod stats;
mod tile;
mod view;
mod wide;

pub use error::GemmError;
pub use gse::{GseBlocks, GseFormat, Rounding};
#[doc(hidden)]
pub use kernel::Kernel;
pub use view::MatRef;

use driver::{Batch, run};

/// Formats and rounding of one product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmConfig {
    /// Format the operands are re-quantized to, in groups along K. The i16 engine takes up
    /// to 16-bit mantissas with groups of 2 or more (INT8/6/5/4 presets); others run on a slow
    /// scalar path.
    pub operand_format: GseFormat,
    /// Format of the `M x N` result (row-major). One-element-group formats (STREAM16, EXACT)
    /// are rounded per element as tiles finish; grouped formats after all tiles.
    pub out_format: GseFormat,
    /// Rounding of the operand quantization. The output is always rounded nearest-even.
    pub rounding: Rounding,
}

impl Default for GemmConfig {
    /// INT8 operands, STREAM16 output, nearest-even.
    fn default() -> Self {
        Self {
            operand_format: GseFormat::INT8,
            out_format: GseFormat::STREAM16,
            rounding: Rounding::NearestEven,
        }
    }
}

/// `a * b` as `a.rows x b.cols` row-major values.
///
/// # Panics
/// If `a.cols != b.rows` or a view reaches outside its blocks; see [`try_matmul`].
pub fn matmul(a: MatRef<'_>, b: MatRef<'_>, cfg: &GemmConfig) -> GseBlocks {
    try_matmul(a, b, cfg).unwrap_or_else(|e| panic!("gse_gemm::matmul: {e}"))
}

/// [`matmul`], returning malformed requests as errors.
pub fn try_matmul(a: MatRef<'_>, b: MatRef<'_>, cfg: &GemmConfig) -> Result<GseBlocks, GemmError> {
    matmul_with(a, b, cfg, Kernel::detect())
}

/// The products `a[e] * b[e]`, stacked entry after entry (`len x M x N`, row-major). A side
/// with exactly one view is broadcast over the other. Entries that share a view (same blocks,
/// offset, strides and shape) share one packing of it.
///
/// # Panics
/// On malformed requests; see [`try_matmul_batched`].
pub fn matmul_batched(a: &[MatRef<'_>], b: &[MatRef<'_>], cfg: &GemmConfig) -> GseBlocks {
    try_matmul_batched(a, b, cfg).unwrap_or_else(|e| panic!("gse_gemm::matmul_batched: {e}"))
}

/// [`matmul_batched`], returning malformed requests as errors.
pub fn try_matmul_batched(
    a: &[MatRef<'_>],
    b: &[MatRef<'_>],
    cfg: &GemmConfig,
) -> Result<GseBlocks, GemmError> {
    matmul_batched_with(a, b, cfg, Kernel::detect())
}

/// `x * w + bias` (bias broadcast over rows, added before the single output rounding).
///
/// # Panics
/// On malformed requests; see [`try_linear`].
pub fn linear(
    x: MatRef<'_>,
    w: MatRef<'_>,
    bias: Option<&GseBlocks>,
    cfg: &GemmConfig,
) -> GseBlocks {
    try_linear(x, w, bias, cfg).unwrap_or_else(|e| panic!("gse_gemm::linear: {e}"))
}

/// [`linear`], returning malformed requests (including a bias whose length is not N) as errors.
pub fn try_linear(
    x: MatRef<'_>,
    w: MatRef<'_>,
    bias: Option<&GseBlocks>,
    cfg: &GemmConfig,
) -> Result<GseBlocks, GemmError> {
    linear_with(x, w, bias, cfg, Kernel::detect())
}

/// [`try_matmul`] with a chosen micro-kernel (an unavailable one falls back to portable).
#[doc(hidden)]
pub fn matmul_with(
    a: MatRef<'_>,
    b: MatRef<'_>,
    cfg: &GemmConfig,
    kernel: Kernel,
) -> Result<GseBlocks, GemmError> {
    let batch = Batch::new(&[a], &[b], None)?;
    Ok(run(&batch, cfg, kernel))
}

/// [`try_matmul_batched`] with a chosen micro-kernel.
#[doc(hidden)]
pub fn matmul_batched_with(
    a: &[MatRef<'_>],
    b: &[MatRef<'_>],
    cfg: &GemmConfig,
    kernel: Kernel,
) -> Result<GseBlocks, GemmError> {
    let batch = Batch::new(a, b, None)?;
    Ok(run(&batch, cfg, kernel))
}

/// [`try_linear`] with a chosen micro-kernel.
#[doc(hidden)]
pub fn linear_with(
    x: MatRef<'_>,
    w: MatRef<'_>,
    bias: Option<&GseBlocks>,
    cfg: &GemmConfig,
    kernel: Kernel,
) -> Result<GseBlocks, GemmError> {
    let batch = Batch::new(&[x], &[w], bias)?;
    Ok(run(&batch, cfg, kernel))
}

/// Packs (re-quantizes) both operands of `a * b` without multiplying, in parallel: the packing
/// cost alone, for benchmarks. Returns false if the operand format runs on the reference path.
#[doc(hidden)]
pub fn pack_only(a: MatRef<'_>, b: MatRef<'_>, cfg: &GemmConfig) -> Result<bool, GemmError> {
    let batch = Batch::new(&[a], &[b], None)?;
    Ok(driver::pack_only(&batch, cfg))
}
