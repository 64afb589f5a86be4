//! The reference micro-kernel in plain Rust: same layout and the same exact integers as the
//! AVX2 one, for other targets and as its bit-identity oracle.

use super::{MR, NR, Tile32, Tile64};

/// The two i16 halves of a packed pair.
#[inline(always)]
fn halves(pair: u32) -> (i32, i32) {
    (pair as u16 as i16 as i32, (pair >> 16) as u16 as i16 as i32)
}

pub(super) fn dot(kpairs: usize, a: &[u32], b: &[u32], out: &mut Tile32) {
    let mut acc = [[0i32; NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)).take(kpairs) {
        for (row, &pa) in acc.iter_mut().zip(ap) {
            let (a0, a1) = halves(pa);
            for (c, &pb) in row.iter_mut().zip(bp) {
                let (b0, b1) = halves(pb);
                *c += a0 * b0 + a1 * b1;
            }
        }
    }
    for (dst, row) in out.chunks_exact_mut(NR).zip(&acc) {
        dst.copy_from_slice(row);
    }
}

pub(super) fn flush<const ADD: bool>(acc: &mut Tile64, d: &Tile32, ea: &[i32], eb: &[i32]) {
    for ((acc_row, d_row), &ei) in acc.chunks_exact_mut(NR).zip(d.chunks_exact(NR)).zip(ea) {
        for ((c, &v), &ej) in acc_row.iter_mut().zip(d_row).zip(eb) {
            let shifted = (v as i64) << (ei + ej);
            *c = if ADD { *c + shifted } else { shifted };
        }
    }
}
