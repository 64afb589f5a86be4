//! Micro-kernels: an `MR x NR` tile of exact i32 dot products over pre-aligned i16 panels, and
//! the flush that adds such a tile, shifted per element, into the i64 accumulators.
//!
//! Panel layout (see `pack.rs`): for each pair of K indices `(2t, 2t+1)`, the A panel holds
//! `MR` pairs `(a[i][2t], a[i][2t+1])` and the B panel `NR` pairs `(b[2t][j], b[2t+1][j])`, so
//! one `vpmaddwd` of a broadcast A pair with a B vector gives 8 columns' two-term sums in i32.
//!
//! Both kernels compute the same exact integers (the bounds in `bounds.rs` exclude overflow),
//! so their results are bit-identical by construction; the tests check it anyway.

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
mod portable;

/// Rows of a micro-tile (A panel width).
pub(crate) const MR: usize = 6;
/// Columns of a micro-tile (B panel width): two AVX2 vectors of 8 i32.
pub(crate) const NR: usize = 16;

/// An `MR x NR` tile of i32, row-major.
pub(crate) type Tile32 = [i32; MR * NR];
/// An `MR x NR` tile of i64, row-major.
pub(crate) type Tile64 = [i64; MR * NR];

/// Which micro-kernel implementation runs. Hidden from the docs: for tests and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Plain Rust, any target.
    Portable,
    /// `std::arch` AVX2 intrinsics (x86_64 with AVX2 detected at run time).
    Avx2,
}

impl Kernel {
    /// The fastest kernel this machine runs.
    pub fn detect() -> Self {
        if Kernel::Avx2.is_available() {
            Kernel::Avx2
        } else {
            Kernel::Portable
        }
    }

    /// Whether this machine can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 => false,
        }
    }

    /// `self` if available, else the portable kernel: the only way a `Kernel` reaches the
    /// dispatch below, which is what makes its `unsafe` calls sound.
    pub(crate) fn resolve(self) -> Self {
        if self.is_available() {
            self
        } else {
            Kernel::Portable
        }
    }

    /// `out[i][j] = sum over kpairs t of a[t][i] . b[t][j]`, each a u32 holding two i16
    /// (low half first): two-term i16 dot products summed in i32.
    #[inline(always)]
    pub(crate) fn dot(self, kpairs: usize, a: &[u32], b: &[u32], out: &mut Tile32) {
        let (a, b) = (&a[..kpairs * MR], &b[..kpairs * NR]);
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `resolve` only yields `Avx2` when AVX2 was detected; the slices above
            // cover every element the kernel reads.
            Kernel::Avx2 => unsafe { avx2::dot(kpairs, a.as_ptr(), b.as_ptr(), out) },
            _ => portable::dot(kpairs, a, b, out),
        }
    }

    /// `acc[i][j] += d[i][j] << (ea[i] + eb[j])` (`=` for the first flush of a tile, `first`);
    /// shifts are in `0..=62` and the sums fit (the i64 bound of `bounds.rs`).
    #[inline(always)]
    pub(crate) fn flush(self, acc: &mut Tile64, d: &Tile32, ea: &[i32], eb: &[i32], first: bool) {
        let (ea, eb) = (&ea[..MR], &eb[..NR]);
        match (self, first) {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `dot`; the arrays have fixed sizes checked by the types.
            (Kernel::Avx2, false) => unsafe {
                avx2::flush::<true>(acc, d, ea.as_ptr(), eb.as_ptr())
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            (Kernel::Avx2, true) => unsafe {
                avx2::flush::<false>(acc, d, ea.as_ptr(), eb.as_ptr())
            },
            (_, false) => portable::flush::<true>(acc, d, ea, eb),
            (_, true) => portable::flush::<false>(acc, d, ea, eb),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every k-pair count, odd ones included (the AVX2 loop takes two per iteration): both
    /// kernels give the same exact sums.
    #[test]
    fn kernels_agree_for_every_kpair_count() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Two i16 in -4096..4096: nine pairs of products stay far inside i32.
            let half = |v: u64| ((v % 8192) as i32 - 4096) as u16 as u32;
            half(x >> 8) | (half(x >> 32) << 16)
        };
        for kpairs in 0..=9 {
            let a: Vec<u32> = (0..kpairs * MR).map(|_| next()).collect();
            let b: Vec<u32> = (0..kpairs * NR).map(|_| next()).collect();
            let mut want = [0; MR * NR];
            Kernel::Portable.dot(kpairs, &a, &b, &mut want);
            let mut got = [0; MR * NR];
            Kernel::Avx2.resolve().dot(kpairs, &a, &b, &mut got);
            assert_eq!(got, want, "{kpairs} k-pairs");
            assert!(kpairs == 0 || want.iter().any(|&v| v != 0));
        }
    }
}
