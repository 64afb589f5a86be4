//! Typed metadata values of a GGUF file.
//!
//! Floats are kept as their IEEE-754 bit patterns: this crate never computes with them, and the
//! bits convert exactly to [`gse::Dyadic`] with [`Value::as_dyadic`].

use core::fmt;

use gse::Dyadic;
use gse::f32_bits::{F32Class, classify_f32};

/// The type tag GGUF stores before each metadata value (and before an array's elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    String,
    Array,
    U64,
    I64,
    F64,
}

impl ValueType {
    /// The tag's number in the file; `None` for numbers GGUF does not define.
    pub fn from_id(id: u32) -> Option<Self> {
        Some(match id {
            0 => Self::U8,
            1 => Self::I8,
            2 => Self::U16,
            3 => Self::I16,
            4 => Self::U32,
            5 => Self::I32,
            6 => Self::F32,
            7 => Self::Bool,
            8 => Self::String,
            9 => Self::Array,
            10 => Self::U64,
            11 => Self::I64,
            12 => Self::F64,
            _ => return None,
        })
    }

    pub fn id(self) -> u32 {
        match self {
            Self::U8 => 0,
            Self::I8 => 1,
            Self::U16 => 2,
            Self::I16 => 3,
            Self::U32 => 4,
            Self::I32 => 5,
            Self::F32 => 6,
            Self::Bool => 7,
            Self::String => 8,
            Self::Array => 9,
            Self::U64 => 10,
            Self::I64 => 11,
            Self::F64 => 12,
        }
    }

    /// The fewest bytes one value of this type takes in a file: a string is at least its
    /// 8-byte length, an array its 4-byte element type and 8-byte count. Counts read from a file
    /// are bounded by `remaining / min_size` before anything is allocated for them.
    pub fn min_size(self) -> u64 {
        match self {
            Self::U8 | Self::I8 | Self::Bool => 1,
            Self::U16 | Self::I16 => 2,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 | Self::String => 8,
            Self::Array => 12,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::U8 => "u8",
            Self::I8 => "i8",
            Self::U16 => "u16",
            Self::I16 => "i16",
            Self::U32 => "u32",
            Self::I32 => "i32",
            Self::F32 => "f32",
            Self::Bool => "bool",
            Self::String => "string",
            Self::Array => "array",
            Self::U64 => "u64",
            Self::I64 => "i64",
            Self::F64 => "f64",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    /// IEEE-754 single-precision bits.
    F32(u32),
    Bool(bool),
    String(String),
    Array(Array),
    U64(u64),
    I64(i64),
    /// IEEE-754 double-precision bits.
    F64(u64),
}

/// An array value: its element type (kept even when empty, so that files round-trip) and items.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub elem_type: ValueType,
    pub items: Vec<Value>,
}

impl Value {
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::U8(_) => ValueType::U8,
            Self::I8(_) => ValueType::I8,
            Self::U16(_) => ValueType::U16,
            Self::I16(_) => ValueType::I16,
            Self::U32(_) => ValueType::U32,
            Self::I32(_) => ValueType::I32,
            Self::F32(_) => ValueType::F32,
            Self::Bool(_) => ValueType::Bool,
            Self::String(_) => ValueType::String,
            Self::Array(_) => ValueType::Array,
            Self::U64(_) => ValueType::U64,
            Self::I64(_) => ValueType::I64,
            Self::F64(_) => ValueType::F64,
        }
    }

    /// A description for error messages: the type, and the element type of arrays.
    pub fn type_description(&self) -> String {
        match self {
            Self::Array(a) => format!("array of {}", a.elem_type),
            other => other.value_type().name().to_string(),
        }
    }

    /// Any integer type whose value is non-negative and fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::U64(v) => Some(v),
            Self::I8(v) => u64::try_from(v).ok(),
            Self::I16(v) => u64::try_from(v).ok(),
            Self::I32(v) => u64::try_from(v).ok(),
            Self::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Any integer type whose value fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::I8(v) => Some(v.into()),
            Self::I16(v) => Some(v.into()),
            Self::I32(v) => Some(v.into()),
            Self::I64(v) => Some(v),
            Self::U8(v) => Some(v.into()),
            Self::U16(v) => Some(v.into()),
            Self::U32(v) => Some(v.into()),
            Self::U64(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Self::Bool(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The exact value of a finite F32, F64 or integer value.
    pub fn as_dyadic(&self) -> Option<Dyadic> {
        match *self {
            Self::F32(bits) => match classify_f32(bits) {
                F32Class::Finite(d) => Some(d),
                _ => None,
            },
            Self::F64(bits) => f64_bits_to_dyadic(bits),
            _ => self.as_i64().map(Dyadic::from_int),
        }
    }
}

/// The exact value of a finite f64 bit pattern. f64 has 53 significant bits, which fit the
/// mantissa of a [`Dyadic`]; NaN and infinities give `None`.
pub fn f64_bits_to_dyadic(bits: u64) -> Option<Dyadic> {
    const FRAC_BITS: u32 = 52;
    const EXP_OFFSET: i32 = 1075; // bias 1023 + 52 fraction bits
    let negative = bits >> 63 != 0;
    let biased = ((bits >> FRAC_BITS) & 0x7ff) as i32;
    let frac = bits & ((1 << FRAC_BITS) - 1);
    let (sig, exp) = match biased {
        0x7ff => return None,
        0 => (frac, 1 - EXP_OFFSET),
        _ => (frac | (1 << FRAC_BITS), biased - EXP_OFFSET),
    };
    let mant = sig as i64;
    Some(Dyadic::new(if negative { -mant } else { mant }, exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_ids_round_trip() {
        for id in 0..13 {
            assert_eq!(ValueType::from_id(id).map(ValueType::id), Some(id));
        }
        assert_eq!(ValueType::from_id(13), None);
    }

    #[test]
    fn f64_bits_are_exact() {
        assert_eq!(
            f64_bits_to_dyadic(1.5f64.to_bits()),
            Some(Dyadic::new(3 << 51, -52))
        );
        assert_eq!(
            f64_bits_to_dyadic((-2.0f64).to_bits()).map(|d| d.mant < 0),
            Some(true)
        );
        assert_eq!(f64_bits_to_dyadic(f64::NAN.to_bits()), None);
        assert_eq!(
            f64_bits_to_dyadic(5e-324f64.to_bits()),
            Some(Dyadic::new(1, -1074))
        );
    }
}
