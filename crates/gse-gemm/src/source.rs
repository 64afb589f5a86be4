//! Reading `(mantissa, lsb exponent)` pairs out of [`GseBlocks`] with the container dispatch
//! hoisted out of the element loop: packing is generic over [`Source`] and monomorphized once
//! per container, so the per-element cost is two loads and a few integer ops.

use gse::{GseBlocks, Mantissas, SCALE_BIAS};

use crate::pack_stream::Stream16;

/// Random access to the values of one [`GseBlocks`]; value `i` is `mant(i) * 2^lsb(i)`.
pub(crate) trait Source {
    fn mant(&self, i: usize) -> i32;
    fn lsb(&self, i: usize) -> i32;

    /// The raw arrays when the values are STREAM16 (packing has a fast path for them).
    fn stream16(&self) -> Option<Stream16<'_>> {
        None
    }

    /// Values `i0 .. i0 + m.len()` (contiguous storage) into `m` and `l`.
    #[inline(always)]
    fn read_run(&self, i0: usize, m: &mut [i32], l: &mut [i32]) {
        for (k, (mv, lv)) in m.iter_mut().zip(l.iter_mut()).enumerate() {
            (*mv, *lv) = (self.mant(i0 + k), self.lsb(i0 + k));
        }
    }
}

/// A source over one mantissa container.
pub(crate) struct Src<'a, M: ?Sized> {
    mant: &'a M,
    scales: &'a [u8],
    group_log2: u32,
    /// `lsb = scale_byte - lsb_offset`: the scale bias plus the magnitude bits.
    lsb_offset: i32,
}

/// Reading one mantissa container.
pub(crate) trait Container {
    fn at(&self, i: usize) -> i32;

    /// The container as i16 mantissas, if it is one.
    fn as_i16(&self) -> Option<&[i16]> {
        None
    }

    /// `out[k] = at(i0 + k)`.
    #[inline(always)]
    fn run(&self, i0: usize, out: &mut [i32]) {
        for (k, o) in out.iter_mut().enumerate() {
            *o = self.at(i0 + k);
        }
    }
}

macro_rules! slice_container {
    ($t:ty $(, $as_i16:ident)?) => {
        impl Container for [$t] {
            #[inline(always)]
            fn at(&self, i: usize) -> i32 {
                self[i] as i32
            }

            $(
                fn $as_i16(&self) -> Option<&[i16]> {
                    Some(self)
                }
            )?

            #[inline(always)]
            fn run(&self, i0: usize, out: &mut [i32]) {
                let n = out.len();
                for (o, &v) in out.iter_mut().zip(&self[i0..i0 + n]) {
                    *o = v as i32;
                }
            }
        }
    };
}

slice_container!(i8);
slice_container!(i16, as_i16);
slice_container!(i32);

/// Two's complement nibbles, element `2i` in the low half of byte `i`.
#[repr(transparent)]
pub(crate) struct Nibbles([u8]);

impl Container for Nibbles {
    #[inline(always)]
    fn at(&self, i: usize) -> i32 {
        let byte = self.0[i >> 1];
        // Move the wanted nibble to the top, then sign-extend with an arithmetic shift.
        let top = if i & 1 == 0 { byte << 4 } else { byte & 0xf0 };
        ((top as i8) >> 4) as i32
    }
}

impl<M: Container + ?Sized> Source for Src<'_, M> {
    #[inline(always)]
    fn mant(&self, i: usize) -> i32 {
        self.mant.at(i)
    }

    #[inline(always)]
    fn lsb(&self, i: usize) -> i32 {
        self.scales[i >> self.group_log2] as i32 - self.lsb_offset
    }

    fn stream16(&self) -> Option<Stream16<'_>> {
        let stream = self.group_log2 == 0 && self.lsb_offset == SCALE_BIAS + 15;
        let mant = self.mant.as_i16().filter(|_| stream)?;
        Some(Stream16 {
            mant,
            scale: self.scales,
        })
    }

    /// Mantissas in one contiguous loop; exponents per storage group (a fill per group), or
    /// one contiguous loop over the scale bytes for one-element groups.
    #[inline(always)]
    fn read_run(&self, i0: usize, m: &mut [i32], l: &mut [i32]) {
        let n = m.len();
        let l = &mut l[..n];
        self.mant.run(i0, m);
        if self.group_log2 == 0 {
            for (lv, &s) in l.iter_mut().zip(&self.scales[i0..i0 + n]) {
                *lv = s as i32 - self.lsb_offset;
            }
            return;
        }
        let mut k = 0;
        while k < n {
            let i = i0 + k;
            let g = i >> self.group_log2;
            let end = (((g + 1) << self.group_log2) - i0).min(n);
            l[k..end].fill(self.scales[g] as i32 - self.lsb_offset);
            k = end;
        }
    }
}

/// Work that needs a [`Source`], run with the concrete container type of some blocks.
pub(crate) trait WithSource {
    type Out;
    fn run<S: Source>(self, src: &S) -> Self::Out;
}

/// Calls `work.run` with a source over `blocks`.
pub(crate) fn with_source<W: WithSource>(blocks: &GseBlocks, work: W) -> W::Out {
    let format = blocks.format();
    let scales = blocks.scale_bytes();
    let group_log2 = format.group_log2();
    let lsb_offset = SCALE_BIAS + format.magnitude_bits() as i32;
    macro_rules! go {
        ($m:expr) => {
            work.run(&Src {
                mant: $m,
                scales,
                group_log2,
                lsb_offset,
            })
        };
    }
    match blocks.mantissas() {
        Mantissas::I8(v) => go!(v.as_slice()),
        Mantissas::I16(v) => go!(v.as_slice()),
        Mantissas::I32(v) => go!(v.as_slice()),
        Mantissas::Nibble(v) => {
            let nibbles: &Nibbles = nibbles(v);
            go!(nibbles)
        }
    }
}

fn nibbles(bytes: &[u8]) -> &Nibbles {
    // SAFETY: `Nibbles` is a `repr(transparent)` newtype over `[u8]`, so the
    // fat pointer has the same layout and metadata.
    unsafe { &*(bytes as *const [u8] as *const Nibbles) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::{Dyadic, GseFormat, Rounding, encode_dyadics};

    struct Collect(usize);
    impl WithSource for Collect {
        type Out = Vec<Dyadic>;
        fn run<S: Source>(self, src: &S) -> Vec<Dyadic> {
            (0..self.0)
                .map(|i| Dyadic::new(src.mant(i) as i64, src.lsb(i)))
                .collect()
        }
    }

    struct Run(usize, usize);
    impl WithSource for Run {
        type Out = (Vec<i32>, Vec<i32>);
        fn run<S: Source>(self, src: &S) -> Self::Out {
            let (mut m, mut l) = (vec![0; self.1], vec![0; self.1]);
            src.read_run(self.0, &mut m, &mut l);
            (m, l)
        }
    }

    #[test]
    fn every_container_reads_like_get() {
        let vals: Vec<Dyadic> = (0..77)
            .map(|i| Dyadic::new((i * 37 % 29) as i64 - 14, (i % 7) - 3))
            .collect();
        for format in [
            GseFormat::INT4,
            GseFormat::INT8,
            GseFormat::WIDE16,
            GseFormat::EXACT,
        ] {
            let blocks = encode_dyadics(format, &vals, Rounding::NearestEven);
            let read = with_source(&blocks, Collect(vals.len()));
            for (i, d) in read.iter().enumerate() {
                assert_eq!(*d, blocks.get(i), "{format} element {i}");
            }
            for i0 in [0, 5, 31, 32, 40] {
                let n = vals.len() - i0;
                let (m, l) = with_source(&blocks, Run(i0, n));
                for k in 0..n {
                    assert_eq!(Dyadic::new(m[k] as i64, l[k]), blocks.get(i0 + k));
                }
            }
        }
    }
}
