//! The reference micro-kernel in plain Rust: same layout and the same exact integers as the
//! AVX2 one, for other targets and as its bit-identity oracle.

use super::{MR, NR, Tile32, Tile64};

pub(super) fn dot(kpairs: usize, a: &[i16], b: &[i16], out: &mut Tile32) {
    let mut acc = [[0i32; NR]; MR];
    for (ap, bp) in a
        .chunks_exact(2 * MR)
        .zip(b.chunks_exact(2 * NR))
        .take(kpairs)
    {
        for (row, pair) in acc.iter_mut().zip(ap.chunks_exact(2)) {
            let (a0, a1) = (pair[0] as i32, pair[1] as i32);
            for (c, bj) in row.iter_mut().zip(bp.chunks_exact(2)) {
                *c += a0 * bj[0] as i32 + a1 * bj[1] as i32;
            }
        }
    }
    for (dst, row) in out.chunks_exact_mut(NR).zip(&acc) {
        dst.copy_from_slice(row);
    }
}

pub(super) fn flush(acc: &mut Tile64, d: &Tile32, ea: &[i32], eb: &[i32]) {
    for ((acc_row, d_row), &ei) in acc.chunks_exact_mut(NR).zip(d.chunks_exact(NR)).zip(ea) {
        for ((c, &v), &ej) in acc_row.iter_mut().zip(d_row).zip(eb) {
            *c += (v as i64) << (ei + ej);
        }
    }
}
