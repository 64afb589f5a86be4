//! Compact storage of GSE values: packed mantissas plus one scale byte per group.

use crate::dyadic::Dyadic;
use crate::format::{Container, GseFormat, SCALE_BIAS, SCALE_MAX, SCALE_MIN};
use crate::pages::zeroed;

/// `count` scale bytes of the smallest scale (byte 0), the scale of an all-zero group.
fn zeroed_scales(count: usize) -> Vec<u8> {
    const { assert!(SCALE_MIN + SCALE_BIAS == 0) };
    zeroed(count)
}

/// Mantissas in the narrowest container their width allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mantissas {
    /// Two 4-bit two's complement mantissas per byte; element `2i` in the low nibble.
    Nibble(Vec<u8>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
}

impl Mantissas {
    fn zeros(container: Container, len: usize) -> Self {
        match container {
            Container::Nibble => Mantissas::Nibble(zeroed(len.div_ceil(2))),
            Container::I8 => Mantissas::I8(zeroed(len)),
            Container::I16 => Mantissas::I16(zeroed(len)),
            Container::I32 => Mantissas::I32(zeroed(len)),
        }
    }

    /// The raw bytes, for files and checksums (little-endian on every supported target).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Mantissas::Nibble(v) => v,
            Mantissas::I8(v) => bytemuck::cast_slice(v),
            Mantissas::I16(v) => bytemuck::cast_slice(v),
            Mantissas::I32(v) => bytemuck::cast_slice(v),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> i32 {
        match self {
            Mantissas::Nibble(v) => {
                let byte = v[i >> 1];
                let nibble = if i & 1 == 0 { byte << 4 } else { byte & 0xf0 };
                (nibble as i8 >> 4) as i32
            }
            Mantissas::I8(v) => v[i] as i32,
            Mantissas::I16(v) => v[i] as i32,
            Mantissas::I32(v) => v[i],
        }
    }

    /// Writes `values` (already in range) starting at element `start`.
    fn write(&mut self, start: usize, values: &[i32]) {
        match self {
            Mantissas::Nibble(v) => {
                for (k, &m) in values.iter().enumerate() {
                    let i = start + k;
                    let byte = &mut v[i >> 1];
                    let nib = (m as u8) & 0x0f;
                    *byte = if i & 1 == 0 {
                        (*byte & 0xf0) | nib
                    } else {
                        (*byte & 0x0f) | (nib << 4)
                    };
                }
            }
            Mantissas::I8(v) => {
                for (d, &m) in v[start..start + values.len()].iter_mut().zip(values) {
                    *d = m as i8;
                }
            }
            Mantissas::I16(v) => {
                for (d, &m) in v[start..start + values.len()].iter_mut().zip(values) {
                    *d = m as i16;
                }
            }
            Mantissas::I32(v) => v[start..start + values.len()].copy_from_slice(values),
        }
    }
}

/// `len` GSE values of one format, stored group after group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GseBlocks {
    format: GseFormat,
    len: usize,
    mantissas: Mantissas,
    /// Biased scales, one per group: `scale = byte - SCALE_BIAS`.
    scales: Vec<u8>,
}

/// Why raw parts do not make valid [`GseBlocks`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("{format} needs {expected} mantissa bytes for {len} values, got {actual}")]
    MantissaBytes {
        format: GseFormat,
        len: usize,
        expected: usize,
        actual: usize,
    },
    #[error("{format} needs {expected} scale bytes for {len} values, got {actual}")]
    ScaleBytes {
        format: GseFormat,
        len: usize,
        expected: usize,
        actual: usize,
    },
    #[error("mantissa {value} at element {index} is outside {format}'s range ±{max}")]
    MantissaRange {
        format: GseFormat,
        index: usize,
        value: i32,
        max: i32,
    },
}

impl GseBlocks {
    /// Blocks from storage that holds `len` values of `format` (sizes checked by the caller).
    pub(crate) fn from_parts(
        format: GseFormat,
        len: usize,
        mantissas: Mantissas,
        scales: Vec<u8>,
    ) -> Self {
        debug_assert_eq!(scales.len(), format.group_count(len));
        Self {
            format,
            len,
            mantissas,
            scales,
        }
    }

    /// `len` zeros.
    pub fn zeros(format: GseFormat, len: usize) -> Self {
        Self {
            format,
            len,
            mantissas: Mantissas::zeros(format.container(), len),
            scales: zeroed_scales(format.group_count(len)),
        }
    }

    /// Rebuilds blocks from the bytes of [`Self::mantissa_bytes`] and [`Self::scale_bytes`],
    /// checking sizes and that every mantissa is within the format's symmetric range.
    pub fn from_bytes(
        format: GseFormat,
        len: usize,
        mantissa_bytes: &[u8],
        scale_bytes: &[u8],
    ) -> Result<Self, StorageError> {
        let expected = format.container().bytes_for(len);
        if mantissa_bytes.len() != expected {
            return Err(StorageError::MantissaBytes {
                format,
                len,
                expected,
                actual: mantissa_bytes.len(),
            });
        }
        let groups = format.group_count(len);
        if scale_bytes.len() != groups {
            return Err(StorageError::ScaleBytes {
                format,
                len,
                expected: groups,
                actual: scale_bytes.len(),
            });
        }
        let mantissas = match format.container() {
            Container::Nibble => Mantissas::Nibble(mantissa_bytes.to_vec()),
            Container::I8 => Mantissas::I8(bytemuck::cast_slice(mantissa_bytes).to_vec()),
            Container::I16 => Mantissas::I16(
                mantissa_bytes
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            ),
            Container::I32 => Mantissas::I32(
                mantissa_bytes
                    .chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
        };
        let blocks = Self {
            format,
            len,
            mantissas,
            scales: scale_bytes.to_vec(),
        };
        let max = format.max_mantissa();
        if let Some(index) = (0..len).find(|&i| blocks.mantissa(i).abs() > max) {
            return Err(StorageError::MantissaRange {
                format,
                index,
                value: blocks.mantissa(index),
                max,
            });
        }
        Ok(blocks)
    }

    pub fn format(&self) -> GseFormat {
        self.format
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn group_count(&self) -> usize {
        self.scales.len()
    }

    pub fn mantissas(&self) -> &Mantissas {
        &self.mantissas
    }

    /// Mutable access for kernels that write mantissas in place; they must keep each value
    /// within `±max_mantissa` and set the group scales to match.
    pub fn mantissas_mut(&mut self) -> &mut Mantissas {
        &mut self.mantissas
    }

    pub fn mantissa_bytes(&self) -> &[u8] {
        self.mantissas.as_bytes()
    }

    pub fn scale_bytes(&self) -> &[u8] {
        &self.scales
    }

    pub fn scale_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.scales
    }

    /// Bytes held: mantissas plus scales.
    pub fn storage_bytes(&self) -> usize {
        self.mantissa_bytes().len() + self.scales.len()
    }

    /// Scale of group `g`: the group's values are below `2^scale`.
    #[inline]
    pub fn scale(&self, g: usize) -> i32 {
        self.scales[g] as i32 - SCALE_BIAS
    }

    /// Exponent of the quantum of the group holding element `i`.
    #[inline]
    pub fn lsb_of(&self, i: usize) -> i32 {
        self.format
            .lsb_exponent(self.scale(i >> self.format.group_log2()))
    }

    #[inline]
    pub fn mantissa(&self, i: usize) -> i32 {
        self.mantissas.get(i)
    }

    /// Element `i` as an exact dyadic value.
    #[inline]
    pub fn get(&self, i: usize) -> Dyadic {
        Dyadic::new(self.mantissa(i) as i64, self.lsb_of(i))
    }

    /// Mantissas of group `g` into `out` (which must hold the group), returning the group's
    /// lsb exponent and its length (the last group may be short).
    pub fn read_group(&self, g: usize, out: &mut [i32]) -> (i32, usize) {
        let start = g << self.format.group_log2();
        let n = self.format.group_size().min(self.len - start);
        match &self.mantissas {
            Mantissas::I8(v) => {
                for (o, &m) in out[..n].iter_mut().zip(&v[start..start + n]) {
                    *o = m as i32;
                }
            }
            Mantissas::I16(v) => {
                for (o, &m) in out[..n].iter_mut().zip(&v[start..start + n]) {
                    *o = m as i32;
                }
            }
            Mantissas::I32(v) => out[..n].copy_from_slice(&v[start..start + n]),
            Mantissas::Nibble(_) => {
                for (k, o) in out[..n].iter_mut().enumerate() {
                    *o = self.mantissas.get(start + k);
                }
            }
        }
        (self.format.lsb_exponent(self.scale(g)), n)
    }

    /// Stores group `g`: mantissas (within `±max_mantissa`) and the scale they are relative to.
    pub fn write_group(&mut self, g: usize, scale: i32, mantissas: &[i32]) {
        debug_assert!((SCALE_MIN..=SCALE_MAX).contains(&scale));
        debug_assert!(
            mantissas
                .iter()
                .all(|m| m.abs() <= self.format.max_mantissa())
        );
        self.scales[g] = (scale + SCALE_BIAS) as u8;
        self.mantissas
            .write(g << self.format.group_log2(), mantissas);
    }

    /// All values as dyadics.
    pub fn to_dyadics(&self) -> Vec<Dyadic> {
        (0..self.len).map(|i| self.get(i)).collect()
    }
}

/// A run of whole groups of a [`GseBlocks`], writable independently of the other runs so that
/// threads can fill an output in parallel.
pub struct GroupsMut<'a> {
    format: GseFormat,
    first_group: usize,
    len: usize,
    mantissas: MantissasMut<'a>,
    scales: &'a mut [u8],
}

enum MantissasMut<'a> {
    Nibble(&'a mut [u8]),
    I8(&'a mut [i8]),
    I16(&'a mut [i16]),
    I32(&'a mut [i32]),
}

impl GroupsMut<'_> {
    /// Index of this run's first group in the whole tensor.
    pub fn first_group(&self) -> usize {
        self.first_group
    }

    /// Index of this run's first element in the whole tensor.
    pub fn first_element(&self) -> usize {
        self.first_group << self.format.group_log2()
    }

    pub fn group_count(&self) -> usize {
        self.scales.len()
    }

    /// Elements in this run.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores the whole run at once: one scale per group and every mantissa.
    pub fn write_all(&mut self, scales: &[i32], mantissas: &[i32]) {
        for (d, &s) in self.scales.iter_mut().zip(scales) {
            *d = (s + SCALE_BIAS) as u8;
        }
        match &mut self.mantissas {
            MantissasMut::I8(v) => {
                for (d, &m) in v.iter_mut().zip(mantissas) {
                    *d = m as i8;
                }
            }
            MantissasMut::I16(v) => {
                for (d, &m) in v.iter_mut().zip(mantissas) {
                    *d = m as i16;
                }
            }
            MantissasMut::I32(v) => v[..mantissas.len()].copy_from_slice(mantissas),
            MantissasMut::Nibble(v) => {
                for (d, pair) in v.iter_mut().zip(mantissas.chunks(2)) {
                    let hi = pair.get(1).copied().unwrap_or(0);
                    *d = ((pair[0] as u8) & 0x0f) | ((hi as u8) << 4);
                }
            }
        }
    }

    /// Stores local group `g` of this run (see [`GseBlocks::write_group`]).
    pub fn write_group(&mut self, g: usize, scale: i32, mantissas: &[i32]) {
        debug_assert!((SCALE_MIN..=SCALE_MAX).contains(&scale));
        self.scales[g] = (scale + SCALE_BIAS) as u8;
        let start = g << self.format.group_log2();
        match &mut self.mantissas {
            MantissasMut::Nibble(v) => {
                for (k, &m) in mantissas.iter().enumerate() {
                    let i = start + k;
                    let byte = &mut v[i >> 1];
                    let nib = (m as u8) & 0x0f;
                    *byte = if i & 1 == 0 {
                        (*byte & 0xf0) | nib
                    } else {
                        (*byte & 0x0f) | (nib << 4)
                    };
                }
            }
            MantissasMut::I8(v) => {
                for (d, &m) in v[start..start + mantissas.len()].iter_mut().zip(mantissas) {
                    *d = m as i8;
                }
            }
            MantissasMut::I16(v) => {
                for (d, &m) in v[start..start + mantissas.len()].iter_mut().zip(mantissas) {
                    *d = m as i16;
                }
            }
            MantissasMut::I32(v) => v[start..start + mantissas.len()].copy_from_slice(mantissas),
        }
    }
}

impl GseBlocks {
    /// Splits the blocks into runs of `groups_per_run` groups (the last may be shorter).
    /// For the nibble container `groups_per_run * group_size` must be even, which holds
    /// for every group size above 1 and is enforced by rounding the run up otherwise.
    pub fn runs_mut(&mut self, groups_per_run: usize) -> Vec<GroupsMut<'_>> {
        let format = self.format;
        let gs = format.group_size();
        let mut per_run = groups_per_run.max(1);
        if gs == 1 && format.container() == Container::Nibble && per_run % 2 == 1 {
            per_run += 1;
        }
        let elems = per_run * gs;
        let len = self.len;
        let scales = self.scales.chunks_mut(per_run);
        let runs_len = (0..scales.len()).map(move |r| (len - r * elems).min(elems));
        let mantissas: Vec<MantissasMut<'_>> = match &mut self.mantissas {
            Mantissas::Nibble(v) => v.chunks_mut(elems / 2).map(MantissasMut::Nibble).collect(),
            Mantissas::I8(v) => v.chunks_mut(elems).map(MantissasMut::I8).collect(),
            Mantissas::I16(v) => v.chunks_mut(elems).map(MantissasMut::I16).collect(),
            Mantissas::I32(v) => v.chunks_mut(elems).map(MantissasMut::I32).collect(),
        };
        scales
            .zip(mantissas)
            .zip(runs_len)
            .enumerate()
            .map(|(r, ((scales, mantissas), len))| GroupsMut {
                format,
                first_group: r * per_run,
                len,
                mantissas,
                scales,
            })
            .collect()
    }
}
