//! GSE storage allocated but not yet written, for kernels that produce every element: zeroing
//! a buffer only for the kernel to overwrite it moved every byte through memory twice (a
//! `[8192x256]x[256x1024]` product's 24 MB output: 21.3 -> 20.2 ms without the zeroing).

use std::mem::MaybeUninit;

use crate::format::{Container, GseFormat};
use crate::pages::advise_huge_pages;
use crate::storage::{GseBlocks, Mantissas};

/// Mantissa storage in one of the containers, not yet written.
pub enum UninitMantissas {
    /// Two 4-bit mantissas per byte, as in [`Mantissas::Nibble`].
    Nibble(Vec<MaybeUninit<u8>>),
    I8(Vec<MaybeUninit<i8>>),
    I16(Vec<MaybeUninit<i16>>),
    I32(Vec<MaybeUninit<i32>>),
}

/// The buffers of `len` values of `format` (advised for huge pages like [`GseBlocks::zeros`]),
/// to be written completely and then turned into [`GseBlocks`] by [`Self::assume_init`].
pub struct UninitBlocks {
    format: GseFormat,
    len: usize,
    mantissas: UninitMantissas,
    scales: Vec<MaybeUninit<u8>>,
}

/// `len` uninitialized elements (a `Vec<MaybeUninit<T>>` is valid at any length).
fn uninit<T>(len: usize) -> Vec<MaybeUninit<T>> {
    let mut v = Vec::with_capacity(len);
    // SAFETY: the capacity is `len`, and `MaybeUninit` needs no initialization.
    unsafe { v.set_len(len) };
    advise_huge_pages(&mut v);
    v
}

/// `Vec<T>` from a fully written `Vec<MaybeUninit<T>>`, without copying.
///
/// # Safety
/// Every element of `v` is initialized.
unsafe fn assume_init<T>(v: Vec<MaybeUninit<T>>) -> Vec<T> {
    let mut v = std::mem::ManuallyDrop::new(v);
    // SAFETY: `MaybeUninit<T>` has the size and alignment of `T`; the allocation, length and
    // capacity are handed over unchanged; per the contract every element is a valid `T`.
    unsafe { Vec::from_raw_parts(v.as_mut_ptr() as *mut T, v.len(), v.capacity()) }
}

impl UninitBlocks {
    pub fn new(format: GseFormat, len: usize) -> Self {
        let mantissas = match format.container() {
            Container::Nibble => UninitMantissas::Nibble(uninit(len.div_ceil(2))),
            Container::I8 => UninitMantissas::I8(uninit(len)),
            Container::I16 => UninitMantissas::I16(uninit(len)),
            Container::I32 => UninitMantissas::I32(uninit(len)),
        };
        Self {
            format,
            len,
            mantissas,
            scales: uninit(format.group_count(len)),
        }
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

    pub fn mantissas_mut(&mut self) -> &mut UninitMantissas {
        &mut self.mantissas
    }

    /// One byte per group: the biased scale.
    pub fn scale_bytes_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.scales
    }

    /// The written blocks.
    ///
    /// # Safety
    /// Every mantissa element and scale byte has been written, each mantissa within the
    /// format's symmetric range (what [`GseBlocks::from_bytes`] checks).
    pub unsafe fn assume_init(self) -> GseBlocks {
        // SAFETY: per the contract.
        unsafe {
            let mantissas = match self.mantissas {
                UninitMantissas::Nibble(v) => Mantissas::Nibble(assume_init(v)),
                UninitMantissas::I8(v) => Mantissas::I8(assume_init(v)),
                UninitMantissas::I16(v) => Mantissas::I16(assume_init(v)),
                UninitMantissas::I32(v) => Mantissas::I32(assume_init(v)),
            };
            GseBlocks::from_parts(self.format, self.len, mantissas, assume_init(self.scales))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_buffers_become_the_blocks_written() {
        for format in [
            GseFormat::STREAM16,
            GseFormat::INT8,
            GseFormat::EXACT,
            GseFormat::INT4,
        ] {
            let len = 1000;
            let mut raw = UninitBlocks::new(format, len);
            assert_eq!(
                (raw.format(), raw.len(), raw.is_empty()),
                (format, len, false)
            );
            let mant = |i: usize| (i % 7) as i32 - 3;
            match raw.mantissas_mut() {
                UninitMantissas::Nibble(v) => {
                    for (i, b) in v.iter_mut().enumerate() {
                        let (lo, hi) = (mant(2 * i) as u8 & 0xf, mant(2 * i + 1) as u8 & 0xf);
                        b.write(lo | hi << 4);
                    }
                }
                UninitMantissas::I8(v) => v.iter_mut().enumerate().for_each(|(i, m)| {
                    m.write(mant(i) as i8);
                }),
                UninitMantissas::I16(v) => v.iter_mut().enumerate().for_each(|(i, m)| {
                    m.write(mant(i) as i16);
                }),
                UninitMantissas::I32(v) => v.iter_mut().enumerate().for_each(|(i, m)| {
                    m.write(mant(i));
                }),
            }
            for (g, s) in raw.scale_bytes_mut().iter_mut().enumerate() {
                s.write(100 + (g % 50) as u8);
            }
            // SAFETY: every element and scale byte was written above, mantissas in -3..=3.
            let blocks = unsafe { raw.assume_init() };
            let scales: Vec<u8> = (0..format.group_count(len))
                .map(|g| 100 + (g % 50) as u8)
                .collect();
            for i in 0..len {
                assert_eq!(blocks.mantissa(i), mant(i), "{format} element {i}");
            }
            assert_eq!(blocks.scale_bytes(), scales, "{format}");
            assert_eq!(blocks.len(), len);
        }
    }
}
