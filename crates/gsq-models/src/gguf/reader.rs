//! A bounds-checked little-endian cursor over the bytes of a GGUF file.
//!
//! Every read says how many bytes it needs; a read past the end is a [`ShortRead`] that the
//! parser turns into an error naming what it was reading. Nothing here can index out of range.

/// A read that needed more bytes than the file has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortRead {
    pub offset: u64,
    pub needed: u64,
    pub available: u64,
}

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left after the cursor.
    pub fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    /// The next `n` bytes, advancing past them.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], ShortRead> {
        let short = ShortRead {
            offset: self.pos as u64,
            needed: n,
            available: self.remaining(),
        };
        if n > self.remaining() {
            return Err(short);
        }
        let end = self.pos + n as usize;
        let slice = self.bytes.get(self.pos..end).ok_or(short)?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ShortRead> {
        let slice = self.take(N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, ShortRead> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, ShortRead> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn u32(&mut self) -> Result<u32, ShortRead> {
        self.array().map(u32::from_le_bytes)
    }

    pub fn u64(&mut self) -> Result<u64, ShortRead> {
        self.array().map(u64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_stops_at_the_end() {
        let mut r = Reader::new(&[1, 0, 2, 0, 0, 0, 9]);
        assert_eq!(r.u16(), Ok(1));
        assert_eq!(r.u32(), Ok(2));
        assert_eq!(
            r.u32(),
            Err(ShortRead {
                offset: 6,
                needed: 4,
                available: 1
            })
        );
        assert_eq!(r.u8(), Ok(9));
        assert_eq!(r.take(u64::MAX).unwrap_err().available, 0);
    }
}
