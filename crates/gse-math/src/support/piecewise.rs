//! Piecewise polynomials over equal-width pieces, evaluated in Q62.
//!
//! The tables come from `tools/gen_tables.py`: on piece `i` (covering
//! `[lo + i w, lo + (i + 1) w)`, `w = 2^log2_width`) the function is a polynomial in the local
//! variable `u = 2 (v - centre_i) / w`, which spans `[-1, 1]`. Keeping `|u| <= 1` makes every
//! evaluation step (Estrin's scheme, see `fixed`) lose at most half a Q62 unit. The number of
//! coefficients `N` is a type parameter so each table gets its own fully unrolled evaluator.

use super::fixed::{ONE_Q62, estrin_q62};

/// A generated piecewise polynomial table with `N` coefficients (degree `N - 1`) per piece.
#[derive(Debug)]
pub(crate) struct Piecewise<const N: usize> {
    /// Fraction bits of the input `v` (which is `v / 2^frac`).
    pub(crate) frac: u32,
    /// Left end of piece 0, in the input's fixed point.
    pub(crate) lo: i64,
    /// Width of a piece is `2^log2_width`.
    pub(crate) log2_width: i32,
    /// Q62 coefficients of each piece, constant term first.
    pub(crate) coeffs: &'static [[i64; N]],
}

impl<const N: usize> Piecewise<N> {
    /// The polynomial at `v` (fixed point with `frac` fraction bits), in Q62. Inputs left of the
    /// table use piece 0 and inputs right of it the last piece, with `u` clamped to `[-1, 1]`,
    /// so any input gives a bounded answer; callers keep `v` inside the fitted domain.
    #[inline(always)]
    pub(crate) fn eval(&self, v: i64) -> i64 {
        let piece_bits = (self.frac as i32 + self.log2_width).clamp(0, 63) as u32;
        let offset = v.saturating_sub(self.lo).max(0) as u64;
        let last = self.coeffs.len().saturating_sub(1);
        let piece = ((offset >> piece_bits) as usize).min(last);
        let within = offset - ((piece as u64) << piece_bits);
        // u = 2 * within / width - 1, in Q62.
        let u = ((within as i128) << (63 - piece_bits)) - ONE_Q62 as i128;
        let u = u.clamp(-(ONE_Q62 as i128), ONE_Q62 as i128) as i64;
        match self.coeffs.get(piece) {
            Some(coeffs) => estrin_q62(coeffs, u),
            None => 0,
        }
    }
}
