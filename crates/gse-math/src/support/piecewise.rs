//! Piecewise polynomials over equal-width pieces, evaluated in Q62.
//!
//! The tables come from `tools/gen_tables.py`: on piece `i` (covering
//! `[lo + i w, lo + (i + 1) w)`, `w = 2^log2_width`) the function is a polynomial in the local
//! variable `u = 2 (v - centre_i) / w`, which spans `[-1, 1]`. Keeping `|u| <= 1` makes every
//! Horner step lose at most half a Q62 unit.

use super::fixed::{ONE_Q62, horner_q62};

/// A generated piecewise polynomial table.
#[derive(Debug)]
pub(crate) struct Piecewise {
    /// Fraction bits of the input `v` (which is `v / 2^frac`).
    pub(crate) frac: u32,
    /// Left end of piece 0, in the input's fixed point.
    pub(crate) lo: i64,
    /// Width of a piece is `2^log2_width`.
    pub(crate) log2_width: i32,
    pub(crate) pieces: usize,
    pub(crate) degree: usize,
    /// Q62 coefficients, constant term first, `degree + 1` per piece, piece after piece.
    pub(crate) coeffs: &'static [i64],
}

impl Piecewise {
    /// The polynomial at `v` (fixed point with `frac` fraction bits), in Q62. Inputs left of the
    /// table use piece 0 and inputs right of it the last piece, with `u` clamped to `[-1, 1]`,
    /// so any input gives a bounded answer; callers keep `v` inside the fitted domain.
    #[inline]
    pub(crate) fn eval(&self, v: i64) -> i64 {
        let piece_bits = (self.frac as i32 + self.log2_width).clamp(0, 63) as u32;
        let offset = v.saturating_sub(self.lo).max(0) as u64;
        let piece = ((offset >> piece_bits) as usize).min(self.pieces.saturating_sub(1));
        let within = offset - ((piece as u64) << piece_bits);
        // u = 2 * within / width - 1, in Q62.
        let u = ((within as i128) << (63 - piece_bits)) - ONE_Q62 as i128;
        let u = u.clamp(-(ONE_Q62 as i128), ONE_Q62 as i128) as i64;
        let stride = self.degree + 1;
        let start = piece * stride;
        match self.coeffs.get(start..start + stride) {
            Some(coeffs) => horner_q62(coeffs, u),
            None => 0,
        }
    }
}
