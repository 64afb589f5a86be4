//! The GSE number format: how many mantissa bits, how many values share one exponent.

use core::fmt;

/// Smallest group scale: a group's values are below `2^SCALE_MAX` and its quantum is at least
/// `2^(SCALE_MIN - magnitude_bits)`.
///
/// The scale is stored biased in one byte, like OCP MX's E8M0, so the range covers every finite
/// f32 (normals below `2^128`, subnormals down to `2^-149` at the exact preset).
pub const SCALE_MIN: i32 = -127;
/// Largest group scale; see [`SCALE_MIN`].
pub const SCALE_MAX: i32 = 128;
/// Added to a scale to store it in a `u8`.
pub const SCALE_BIAS: i32 = 127;

/// A Group-Shared-Exponent number format.
///
/// A group of `group_size` consecutive values shares one power-of-two *scale* `s`; each value is a
/// signed integer mantissa `m` with `|m| <= 2^(bits-1) - 1` (symmetric: the most negative two's
/// complement code is never produced). The value is `m * 2^(s - (bits - 1))`, so every value of a
/// group is strictly below `2^s` in magnitude and the group's quantum is `2^(s - bits + 1)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GseFormat {
    mantissa_bits: u8,
    group_log2: u8,
}

/// Why a [`GseFormat`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("GSE mantissa width must be 2..=25 signed bits, got {0}")]
    MantissaBits(u32),
    #[error("GSE group size must be a power of two in 1..=256, got {0}")]
    GroupSize(u32),
}

impl GseFormat {
    /// GSE-INT8, group 32: the paper's main format, used for matmul operands.
    pub const INT8: Self = Self::preset(8, 5);
    /// GSE-INT6, group 32.
    pub const INT6: Self = Self::preset(6, 5);
    /// GSE-INT5, group 32.
    pub const INT5: Self = Self::preset(5, 5);
    /// GSE-INT4, group 32 (packed two values per byte).
    pub const INT4: Self = Self::preset(4, 5);
    /// 16-bit mantissas, group 32: accumulations and residual streams at half the bytes of f32.
    pub const WIDE16: Self = Self::preset(16, 5);
    /// 16-bit mantissas with a scale per value: elementwise streams whose groups must not let
    /// one large value (an attention mask's `-1e4`) flush its neighbours.
    pub const STREAM16: Self = Self::preset(16, 0);
    /// 25-bit signed mantissas, one scale per value: integer-emulated f32. Every finite f32
    /// round-trips bit for bit, so ops can be checked for semantics without quantization error.
    pub const EXACT: Self = Self::preset(25, 0);

    const fn preset(mantissa_bits: u8, group_log2: u8) -> Self {
        Self {
            mantissa_bits,
            group_log2,
        }
    }

    /// A format with `mantissa_bits` signed bits (2..=25) and `group_size` values per scale
    /// (a power of two, 1..=256).
    pub fn new(mantissa_bits: u32, group_size: u32) -> Result<Self, FormatError> {
        if !(2..=25).contains(&mantissa_bits) {
            return Err(FormatError::MantissaBits(mantissa_bits));
        }
        if !group_size.is_power_of_two() || group_size > 256 {
            return Err(FormatError::GroupSize(group_size));
        }
        Ok(Self::preset(
            mantissa_bits as u8,
            group_size.trailing_zeros() as u8,
        ))
    }

    /// Signed mantissa width in bits, sign included.
    pub const fn mantissa_bits(self) -> u32 {
        self.mantissa_bits as u32
    }

    /// Magnitude bits `P = bits - 1`; `|m| < 2^P`.
    pub const fn magnitude_bits(self) -> u32 {
        self.mantissa_bits as u32 - 1
    }

    /// Largest mantissa magnitude, `2^P - 1`.
    pub const fn max_mantissa(self) -> i32 {
        (1 << self.magnitude_bits()) - 1
    }

    /// Values per shared scale.
    pub const fn group_size(self) -> usize {
        1 << self.group_log2
    }

    /// `log2(group_size)`.
    pub const fn group_log2(self) -> u32 {
        self.group_log2 as u32
    }

    /// Number of groups (and stored scales) for `len` values.
    pub const fn group_count(self, len: usize) -> usize {
        len.div_ceil(self.group_size())
    }

    /// How the mantissas are stored.
    pub const fn container(self) -> Container {
        match self.mantissa_bits {
            0..=4 => Container::Nibble,
            5..=8 => Container::I8,
            9..=16 => Container::I16,
            _ => Container::I32,
        }
    }

    /// Bytes that `len` values take: packed mantissas plus one byte per group.
    pub const fn storage_bytes(self, len: usize) -> usize {
        self.container().bytes_for(len) + self.group_count(len)
    }

    /// Exponent of the quantum of a group with scale `scale`.
    pub const fn lsb_exponent(self, scale: i32) -> i32 {
        scale - self.magnitude_bits() as i32
    }
}

impl fmt::Debug for GseFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GSE-INT{}/g{}", self.mantissa_bits, self.group_size())
    }
}

impl fmt::Display for GseFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The integer type a format's mantissas are stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// Two 4-bit two's complement values per byte, the even index in the low nibble.
    Nibble,
    I8,
    I16,
    I32,
}

impl Container {
    /// Bytes for `len` mantissas.
    pub const fn bytes_for(self, len: usize) -> usize {
        match self {
            Container::Nibble => len.div_ceil(2),
            Container::I8 => len,
            Container::I16 => len * 2,
            Container::I32 => len * 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_group32_takes_n_plus_n_over_32_bytes() {
        assert_eq!(GseFormat::INT8.storage_bytes(4096), 4096 + 128);
        assert_eq!(GseFormat::INT4.storage_bytes(4096), 2048 + 128);
    }

    #[test]
    fn rejects_bad_formats() {
        assert_eq!(GseFormat::new(1, 32), Err(FormatError::MantissaBits(1)));
        assert_eq!(GseFormat::new(26, 32), Err(FormatError::MantissaBits(26)));
        assert_eq!(GseFormat::new(8, 48), Err(FormatError::GroupSize(48)));
        assert_eq!(GseFormat::new(8, 512), Err(FormatError::GroupSize(512)));
        assert_eq!(GseFormat::new(8, 0), Err(FormatError::GroupSize(0)));
        assert_eq!(GseFormat::new(8, 32), Ok(GseFormat::INT8));
    }
}
