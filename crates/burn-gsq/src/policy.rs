//! The precision policy: which GSE format each kind of result gets.
//!
//! Defaults follow GSQ-Tuning: matmul operands (weights, activations and gradients alike) are
//! quantized to GSE-INT8 with groups of 32 along the reduction axis *at the point of use*;
//! every stored result — matmul outputs, elementwise streams, reductions, gradients and the
//! optimizer's moments, which burn computes with ordinary tensor ops — is kept at
//! [`GseFormat::STREAM16`], a 16-bit mantissa with a scale per value. Stored results use a
//! per-value scale because burn-nn masks attention scores with `-1e4` before the softmax: in a
//! shared-exponent group that one value would flush its 31 neighbours.
//!
//! The [`PrecisionPolicy::exact`] preset makes every format [`GseFormat::EXACT`] (integer-emulated
//! f32), which checks each op's semantics without quantization error in the way.

use gse::{GseFormat, Rounding, SpecialPolicy};

/// Which format each result gets, how results are rounded and what happens to NaN/Inf input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrecisionPolicy {
    /// Both operands of every matmul other than a linear layer's (attention's `Q·Kᵀ` and
    /// `probs·V`, user matmuls) are re-quantized to this format, grouped along K.
    pub matmul_operand: GseFormat,
    /// Both operands of the linear layers' products — `ModuleOps::linear` (burn-nn `Linear`,
    /// `burn::tensor::module::linear`) and its backward products `dY·Wᵀ` and `Xᵀ·dY` — the
    /// weights, activations and gradients GSQ-Tuning quantizes.
    pub linear_operand: GseFormat,
    /// Every op's stored result.
    pub stream: GseFormat,
    /// Rounding of stored results (matmul operands always round to nearest even).
    pub rounding: Rounding,
    /// NaN/Inf in `from_data` and scalars: saturate-and-count, or panic with the element.
    pub special: SpecialPolicy,
}

impl PrecisionPolicy {
    /// GSE-INT8 matmul operands, STREAM16 results: the default.
    pub const PAPER: Self = Self {
        matmul_operand: GseFormat::INT8,
        linear_operand: GseFormat::INT8,
        stream: GseFormat::STREAM16,
        rounding: Rounding::NearestEven,
        special: SpecialPolicy::Saturate,
    };

    /// Integer-emulated f32 everywhere.
    pub const EXACT: Self = Self {
        matmul_operand: GseFormat::EXACT,
        linear_operand: GseFormat::EXACT,
        stream: GseFormat::EXACT,
        rounding: Rounding::NearestEven,
        special: SpecialPolicy::Saturate,
    };

    /// This policy with another operand format for every matmul, linear layers included
    /// (e.g. `GseFormat::INT4`).
    pub const fn with_matmul_operand(self, format: GseFormat) -> Self {
        Self {
            matmul_operand: format,
            linear_operand: format,
            ..self
        }
    }

    /// This policy with another operand format for the linear layers only (GSQ-Tuning's
    /// bits × rank study): attention's activation-by-activation products keep
    /// `matmul_operand`.
    pub const fn with_linear_operand(self, format: GseFormat) -> Self {
        Self {
            linear_operand: format,
            ..self
        }
    }

    pub const fn with_stream(self, format: GseFormat) -> Self {
        Self {
            stream: format,
            ..self
        }
    }

    pub const fn with_rounding(self, rounding: Rounding) -> Self {
        Self { rounding, ..self }
    }

    pub const fn with_special(self, special: SpecialPolicy) -> Self {
        Self { special, ..self }
    }
}

impl Default for PrecisionPolicy {
    fn default() -> Self {
        Self::PAPER
    }
}
