//! Decoding ggml blocks to exact [`Dyadic`] values with integer arithmetic.
//!
//! | type | block                                   | value                     |
//! |------|-----------------------------------------|---------------------------|
//! | F32  | 4-byte float                            | the float                 |
//! | F16  | 2-byte half                             | the half                  |
//! | Q8_0 | f16 `d`, 32 x i8 `q`                    | `d * q`                   |
//! | Q4_0 | f16 `d`, 16 bytes of nibbles            | `d * (q - 8)`             |
//! | Q4_1 | f16 `d`, f16 `m`, 16 bytes of nibbles   | `d * q + m`               |
//!
//! In Q4_0/Q4_1 blocks byte `j` holds element `j` in its low nibble and element `j + 16` in
//! its high nibble. Every value is exact: `d * q` has at most 11 + 8 significant bits, and
//! `d * q + m` aligned to the smaller exponent at most 11 + 4 + 39 (the f16 exponent span) bits.

use gse::Dyadic;
use gse::f32_bits::{F32Class, classify_f32};

use super::f16::f16_bits_to_dyadic;
use super::ggml_type::GgmlType;

/// Values in one Q4/Q8 block.
pub const QK: usize = 32;
const HALF_QK: usize = QK / 2;

/// A NaN or infinity where a value or scale should be: the index of the element (for F32/F16)
/// or block (for quantized types) that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFinite {
    Element(u64),
    BlockScale(u64),
}

/// Appends the values of whole blocks of `ty` in `bytes` to `out`. `first_block` is the index
/// of the first block in the tensor, for error locations. `None` for types this crate cannot
/// decode; bytes past the last whole block are ignored (callers pass whole blocks).
pub fn decode_blocks(
    ty: GgmlType,
    bytes: &[u8],
    first_block: u64,
    out: &mut Vec<Dyadic>,
) -> Option<Result<(), NonFinite>> {
    Some(match ty {
        GgmlType::F32 => decode_f32(bytes, first_block, out),
        GgmlType::F16 => decode_f16(bytes, first_block, out),
        GgmlType::Q8_0 | GgmlType::Q4_0 | GgmlType::Q4_1 => {
            decode_quantized(ty, bytes, first_block, out)
        }
        _ => return None,
    })
}

fn decode_f32(bytes: &[u8], first: u64, out: &mut Vec<Dyadic>) -> Result<(), NonFinite> {
    for (i, raw) in bytes.chunks_exact(4).enumerate() {
        let bits = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
        match classify_f32(bits) {
            F32Class::Finite(d) => out.push(d),
            _ => return Err(NonFinite::Element(first + i as u64)),
        }
    }
    Ok(())
}

fn decode_f16(bytes: &[u8], first: u64, out: &mut Vec<Dyadic>) -> Result<(), NonFinite> {
    for (i, raw) in bytes.chunks_exact(2).enumerate() {
        let bits = u16::from_le_bytes([raw[0], raw[1]]);
        out.push(f16_bits_to_dyadic(bits).ok_or(NonFinite::Element(first + i as u64))?);
    }
    Ok(())
}

/// The f16 scale at byte `at` of `block`.
fn scale(block: &[u8], at: usize, block_index: u64) -> Result<Dyadic, NonFinite> {
    let bits = u16::from_le_bytes([block[at], block[at + 1]]);
    f16_bits_to_dyadic(bits).ok_or(NonFinite::BlockScale(block_index))
}

/// One quantized block's values as integers over a shared exponent:
/// `value[k] = mants[k] * 2^exp`. Every value of a Q8_0/Q4_0/Q4_1 block has this form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInts {
    pub mants: [i64; QK],
    pub exp: i32,
}

/// Code `k` (0..32) of a Q4 block's 16 nibble bytes: low nibbles first, then high nibbles.
fn nibble(packed: &[u8], k: usize) -> i64 {
    let byte = packed[k % HALF_QK];
    i64::from(if k < HALF_QK { byte & 0x0f } else { byte >> 4 })
}

/// Decodes block number `index` (`block` is its bytes) of a quantized type; `None` for types
/// that are not Q8_0, Q4_0 or Q4_1.
pub fn decode_block_ints(
    ty: GgmlType,
    block: &[u8],
    index: u64,
) -> Option<Result<BlockInts, NonFinite>> {
    let decode = match ty {
        GgmlType::Q8_0 => q8_0_ints,
        GgmlType::Q4_0 => q4_0_ints,
        GgmlType::Q4_1 => q4_1_ints,
        _ => return None,
    };
    Some(decode(block, index))
}

fn q8_0_ints(block: &[u8], index: u64) -> Result<BlockInts, NonFinite> {
    let d = scale(block, 0, index)?;
    let codes = &block[2..];
    Ok(BlockInts {
        mants: std::array::from_fn(|k| d.mant * i64::from(codes[k] as i8)),
        exp: d.exp,
    })
}

fn q4_0_ints(block: &[u8], index: u64) -> Result<BlockInts, NonFinite> {
    let d = scale(block, 0, index)?;
    let packed = &block[2..];
    Ok(BlockInts {
        mants: std::array::from_fn(|k| d.mant * (nibble(packed, k) - 8)),
        exp: d.exp,
    })
}

fn q4_1_ints(block: &[u8], index: u64) -> Result<BlockInts, NonFinite> {
    let d = scale(block, 0, index)?;
    let m = scale(block, 2, index)?;
    // Align `d` and `m` to the smaller exponent so that `d * q + m` is one integer sum.
    let exp = d.exp.min(m.exp);
    let d_mant = d.mant << (d.exp - exp);
    let m_mant = m.mant << (m.exp - exp);
    let packed = &block[4..];
    Ok(BlockInts {
        mants: std::array::from_fn(|k| d_mant * nibble(packed, k) + m_mant),
        exp,
    })
}

fn decode_quantized(
    ty: GgmlType,
    bytes: &[u8],
    first: u64,
    out: &mut Vec<Dyadic>,
) -> Result<(), NonFinite> {
    for (b, block) in bytes.chunks_exact(ty.block_bytes() as usize).enumerate() {
        if let Some(ints) = decode_block_ints(ty, block, first + b as u64) {
            let ints = ints?;
            out.extend(ints.mants.iter().map(|&m| Dyadic::new(m, ints.exp)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_1_values_are_d_times_q_plus_m() {
        // d = 0.5 (0x3800), m = -1.0 (0xbc00); byte j = (j+16 code) << 4 | (j code).
        let mut block = vec![0x00, 0x38, 0x00, 0xbc];
        block.extend((0..16u8).map(|j| (15 - j) << 4 | j));
        let mut out = Vec::new();
        decode_blocks(GgmlType::Q4_1, &block, 0, &mut out)
            .unwrap()
            .unwrap();
        let expect: Vec<i64> = (0..16).chain((0..16).map(|j| 15 - j)).collect();
        for (v, q) in out.iter().zip(expect) {
            // 0.5 q - 1 = (q - 2) / 2
            assert_eq!(v.sub(Dyadic::new(q - 2, -1)).mant, 0);
        }
    }

    #[test]
    fn a_nan_scale_is_reported_with_its_block() {
        let mut bytes = vec![0u8; 2 * 34];
        bytes[34] = 0x00;
        bytes[35] = 0x7e; // NaN
        let mut out = Vec::new();
        let r = decode_blocks(GgmlType::Q8_0, &bytes, 10, &mut out).unwrap();
        assert_eq!(r, Err(NonFinite::BlockScale(11)));
    }
}
