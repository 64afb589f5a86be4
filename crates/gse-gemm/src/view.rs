//! Strided matrix views over [`GseBlocks`], and their validation.

use gse::{Dyadic, GseBlocks};

use crate::error::GemmError;

/// A `rows x cols` matrix read out of `blocks`: element `(r, c)` is
/// `blocks.get(offset + r * row_stride + c * col_stride)`.
///
/// Any strides are allowed (negative, zero for broadcasts, transposed), as long as every element
/// of the view is inside `blocks`. A transposed operand is just another view, so the backward
/// products `dY * W^T` and `X^T * dY` need no transpose pass.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    pub blocks: &'a GseBlocks,
    pub offset: usize,
    pub row_stride: isize,
    pub col_stride: isize,
    pub rows: usize,
    pub cols: usize,
}

impl<'a> MatRef<'a> {
    /// The whole of `blocks` as a dense row-major `rows x cols` matrix.
    pub fn row_major(blocks: &'a GseBlocks, rows: usize, cols: usize) -> Self {
        Self {
            blocks,
            offset: 0,
            row_stride: cols as isize,
            col_stride: 1,
            rows,
            cols,
        }
    }

    /// The same elements seen as the transposed matrix.
    pub fn t(self) -> Self {
        Self {
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            rows: self.cols,
            cols: self.rows,
            ..self
        }
    }

    /// Element `(r, c)` as an exact value. Panics if outside the view or the blocks.
    pub fn get(&self, r: usize, c: usize) -> Dyadic {
        assert!(
            r < self.rows && c < self.cols,
            "({r}, {c}) outside the view"
        );
        self.blocks.get(self.index(r, c))
    }

    /// Storage index of `(r, c)`; only meaningful for a validated view.
    #[inline]
    pub(crate) fn index(&self, r: usize, c: usize) -> usize {
        (self.offset as isize + r as isize * self.row_stride + c as isize * self.col_stride)
            as usize
    }

    /// Whether the view has no elements.
    pub fn is_empty(&self) -> bool {
        self.rows == 0 || self.cols == 0
    }

    /// Checks that every element of the view lies inside `blocks` (an empty view always does).
    pub fn validate(&self, operand: &'static str) -> Result<(), GemmError> {
        if self.is_empty() {
            return Ok(());
        }
        // The extreme indices are at corners; i128 keeps the products from overflowing.
        let span = |n: usize, stride: isize| {
            let far = (n as i128 - 1) * stride as i128;
            (far.min(0), far.max(0))
        };
        let (rlo, rhi) = span(self.rows, self.row_stride);
        let (clo, chi) = span(self.cols, self.col_stride);
        let lo = self.offset as i128 + rlo + clo;
        let hi = self.offset as i128 + rhi + chi;
        if lo < 0 || hi >= self.blocks.len() as i128 {
            return Err(GemmError::ViewOutOfBounds {
                operand,
                lowest: lo,
                highest: hi,
                len: self.blocks.len(),
            });
        }
        Ok(())
    }
}
