//! Converting a tensor's blocks to exact values, to GSE blocks and to f32 bit patterns.
//!
//! Values are decoded a chunk at a time ([`CHUNK_VALUES`]) so that converting the 28M-value
//! embedding of a small model never holds more than a chunk of 16-byte [`Dyadic`]s. A chunk is a
//! multiple of every ggml block length (1 or 32) and every GSE group size (at most 256), so GSE
//! groups never straddle chunks.

use gse::f32_bits::dyadic_to_f32_bits;
use gse::{Dyadic, GseBlocks, GseFormat, Rounding, SpecialCounts, quantize_group};

use super::block_gse::quantize_block;
use super::dequant::{NonFinite, QK, decode_block_ints, decode_blocks};
use super::error::GgufError;
use super::tensor::TensorView;

/// Values decoded at a time.
pub const CHUNK_VALUES: usize = 8192;

impl TensorView<'_> {
    /// Calls `f(first_index, values)` for consecutive chunks of the tensor's exact values.
    fn for_each_chunk(&self, mut f: impl FnMut(usize, &[Dyadic])) -> Result<(), GgufError> {
        let ty = self.ty();
        if !ty.is_convertible() {
            return Err(GgufError::UnsupportedTensorType {
                tensor: self.name().to_string(),
                ty,
            });
        }
        let block_len = ty.block_len() as usize;
        let blocks_per_chunk = CHUNK_VALUES / block_len;
        let chunk_bytes = blocks_per_chunk * ty.block_bytes() as usize;
        let mut values = Vec::with_capacity(CHUNK_VALUES);
        for (c, bytes) in self.data.chunks(chunk_bytes).enumerate() {
            values.clear();
            let first_block = (c * blocks_per_chunk) as u64;
            let decoded = decode_blocks(ty, bytes, first_block, &mut values);
            decoded
                .unwrap_or(Ok(()))
                .map_err(|at| self.non_finite(at))?;
            f(c * CHUNK_VALUES, &values);
        }
        Ok(())
    }

    fn non_finite(&self, at: NonFinite) -> GgufError {
        let location = match at {
            NonFinite::Element(i) => format!("element {i}"),
            NonFinite::BlockScale(b) => format!("the scale of block {b}"),
        };
        GgufError::NonFinite {
            tensor: self.name().to_string(),
            location,
        }
    }

    /// Every value, exactly, in row-major order.
    pub fn to_dyadics(self) -> Result<Vec<Dyadic>, GgufError> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each_chunk(|_, values| out.extend_from_slice(values))?;
        Ok(out)
    }

    /// The values rounded (nearest, ties to even) to GSE `format`. A Q8_0/Q4_0/Q4_1 block is
    /// exactly one GSE group at group size 32, so each group rounds one block's values to its own
    /// power-of-two scale: the error is at most half the group's quantum `2^(scale - bits + 1)`.
    pub fn to_gse(self, format: GseFormat) -> Result<GseBlocks, GgufError> {
        if format.group_size() == QK && self.ty().block_len() == QK as u64 {
            return self.to_gse_blockwise(format);
        }
        let mut blocks = GseBlocks::zeros(format, self.len());
        let group = format.group_size();
        let mut mantissas = vec![0i32; group];
        let mut saturated = 0u64;
        self.for_each_chunk(|first, values| {
            for (k, members) in values.chunks(group).enumerate() {
                let start = first + k * group;
                let (scale, sat) = quantize_group(
                    format,
                    members,
                    Rounding::NearestEven,
                    start as u64,
                    &mut mantissas,
                );
                saturated += u64::from(sat);
                blocks.write_group(start / group, scale, &mantissas[..members.len()]);
            }
        })?;
        record_saturated(saturated);
        Ok(blocks)
    }

    /// [`Self::to_gse`] for a quantized type at group size 32: each ggml block is rounded to
    /// its GSE group in integer arithmetic ([`quantize_block`]), the same result as the generic
    /// path.
    fn to_gse_blockwise(self, format: GseFormat) -> Result<GseBlocks, GgufError> {
        let ty = self.ty();
        let mut blocks = GseBlocks::zeros(format, self.len());
        let mut mantissas = [0i32; QK];
        let mut saturated = 0u64;
        for (b, bytes) in self
            .data
            .chunks_exact(ty.block_bytes() as usize)
            .enumerate()
        {
            let Some(ints) = decode_block_ints(ty, bytes, b as u64) else {
                return Err(GgufError::UnsupportedTensorType {
                    tensor: self.name().to_string(),
                    ty,
                });
            };
            let ints = ints.map_err(|at| self.non_finite(at))?;
            let scale = match quantize_block(format, &ints, &mut mantissas) {
                Some(scale) => scale,
                None => {
                    let values = ints.mants.map(|m| Dyadic::new(m, ints.exp));
                    let first = (b * QK) as u64;
                    let (scale, sat) = quantize_group(
                        format,
                        &values,
                        Rounding::NearestEven,
                        first,
                        &mut mantissas,
                    );
                    saturated += u64::from(sat);
                    scale
                }
            };
            blocks.write_group(b, scale, &mantissas);
        }
        record_saturated(saturated);
        Ok(blocks)
    }

    /// The values as the nearest f32s (ties to even), for float backends and references.
    /// This equals ggml's own f32 dequantization: its `d * q` is exact and `+ m` rounds once.
    pub fn to_f32_vec(self) -> Result<Vec<f32>, GgufError> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each_chunk(|_, values| {
            out.extend(
                values
                    .iter()
                    .map(|&d| f32::from_bits(dyadic_to_f32_bits(d))),
            );
        })?;
        Ok(out)
    }
}

/// Adds saturated values to GSE's process-wide special-value counts, as `gse::encode_dyadics`
/// does.
fn record_saturated(saturated: u64) {
    if saturated > 0 {
        gse::special::record(SpecialCounts {
            saturated,
            ..SpecialCounts::default()
        });
    }
}
