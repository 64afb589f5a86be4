//! [`GseTensor`]: shared GSE storage seen through a [`Layout`].

use std::sync::Arc;

use gse::{
    Dyadic, GseBlocks, GseFormat, Rounding, SpecialCounts, SpecialPolicy, SpecialValueError,
};

use crate::decode::decode_run;
use crate::layout::{AxisSlice, Layout};
use crate::produce::produce;

/// An n-dimensional tensor of GSE values. Cloning shares the storage; views share it too.
#[derive(Clone, Debug)]
pub struct GseTensor {
    blocks: Arc<GseBlocks>,
    layout: Layout,
}

impl GseTensor {
    /// A view of `blocks` through `layout`; every index the layout can produce must be in range.
    pub fn new(blocks: Arc<GseBlocks>, layout: Layout) -> Self {
        Self { blocks, layout }
    }

    /// Contiguous row-major tensor over all of `blocks`.
    pub fn from_blocks(blocks: GseBlocks, shape: &[usize]) -> Self {
        debug_assert_eq!(blocks.len(), shape.iter().product::<usize>());
        Self {
            blocks: Arc::new(blocks),
            layout: Layout::contiguous(shape),
        }
    }

    /// Encodes row-major f32 values (special values per `policy`).
    pub fn from_f32(
        values: &[f32],
        shape: &[usize],
        format: GseFormat,
        rounding: Rounding,
        policy: SpecialPolicy,
    ) -> Result<(Self, SpecialCounts), SpecialValueError> {
        let (blocks, counts) = gse::encode_f32(format, values, rounding, policy)?;
        Ok((Self::from_blocks(blocks, shape), counts))
    }

    /// Logical elements in row-major order as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        let mut out = Vec::new();
        self.to_f32_into(&mut out);
        out
    }

    /// [`Self::to_f32`] into `out` (cleared first), reusing its allocation when it is large
    /// enough.
    pub fn to_f32_into(&self, out: &mut Vec<f32>) {
        use rayon::prelude::*;
        const CHUNK: usize = 4096;
        let n = self.num_elements();
        out.clear();
        out.reserve(n);
        // Decoded straight into the buffer's capacity: zero-filling it first (what
        // `vec![0.0; n]` does whenever the allocator recycles memory) was a serial pass over
        // the whole output before the parallel one.
        let spare = &mut out.spare_capacity_mut()[..n];
        gse::pages::advise_huge_pages(spare);
        spare
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                if let Some(range) = self.layout.contiguous_range() {
                    decode_run(&self.blocks, range.start + c * CHUNK, chunk);
                    return;
                }
                self.layout.with_indices(c * CHUNK, chunk.len(), |idx| {
                    for (o, &p) in chunk.iter_mut().zip(idx) {
                        let bits = gse::f32_bits::small_to_f32_bits(
                            self.blocks.mantissa(p),
                            self.blocks.lsb_of(p),
                        );
                        o.write(f32::from_bits(bits));
                    }
                })
            });
        // SAFETY: every chunk of the first `n` elements was written above: `decode_run`
        // writes each element of its output, and `with_indices` hands out one index per
        // element of the chunk.
        unsafe { out.set_len(n) };
    }

    /// Logical elements in row-major order.
    pub fn to_dyadics(&self) -> Vec<Dyadic> {
        let mut idx = vec![0usize; self.num_elements()];
        self.layout.fill_indices(0, &mut idx);
        idx.into_iter().map(|p| self.blocks.get(p)).collect()
    }

    pub fn shape(&self) -> &[usize] {
        self.layout.shape()
    }

    pub fn rank(&self) -> usize {
        self.layout.rank()
    }

    pub fn num_elements(&self) -> usize {
        self.layout.num_elements()
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn blocks(&self) -> &Arc<GseBlocks> {
        &self.blocks
    }

    pub fn format(&self) -> GseFormat {
        self.blocks.format()
    }

    /// Whether the storage is this tensor's alone (so it may be written in place).
    pub fn is_unique(&self) -> bool {
        Arc::strong_count(&self.blocks) == 1
    }

    /// Storage element `p` (an index produced by the layout).
    #[inline]
    pub fn storage_value(&self, p: usize) -> Dyadic {
        self.blocks.get(p)
    }

    fn with_layout(&self, layout: Layout) -> Self {
        Self {
            blocks: self.blocks.clone(),
            layout,
        }
    }

    pub fn permute(&self, axes: &[usize]) -> Self {
        self.with_layout(self.layout.permute(axes))
    }

    pub fn swap_dims(&self, a: usize, b: usize) -> Self {
        self.with_layout(self.layout.swap_dims(a, b))
    }

    pub fn flip(&self, axes: &[usize]) -> Self {
        self.with_layout(self.layout.flip(axes))
    }

    pub fn slice(&self, slices: &[AxisSlice]) -> Self {
        self.with_layout(self.layout.slice(slices))
    }

    pub fn expand(&self, shape: &[usize]) -> Self {
        self.with_layout(self.layout.expand(shape))
    }

    /// A view under `shape` when the layout allows, else a contiguous copy. The copy keeps the
    /// format; for formats with groups larger than 1 it re-forms the groups (and so rounds).
    pub fn reshape(&self, shape: &[usize]) -> Self {
        match self.layout.reshape(shape) {
            Some(layout) => self.with_layout(layout),
            None => {
                let copy = self.to_contiguous(self.format(), Rounding::NearestEven);
                copy.with_layout(Layout::contiguous(shape))
            }
        }
    }

    /// This tensor's values in a fresh contiguous tensor of `format`. A contiguous tensor
    /// already in `format` and starting at a group boundary is returned as is.
    pub fn to_contiguous(&self, format: GseFormat, rounding: Rounding) -> Self {
        if format == self.format()
            && self.layout.is_contiguous()
            && self.layout.offset().is_multiple_of(format.group_size())
            && (self.layout.offset() + self.num_elements() == self.blocks.len()
                || self.num_elements().is_multiple_of(format.group_size()))
        {
            return self.clone();
        }
        let (layout, blocks) = (&self.layout, &self.blocks);
        produce(self.shape(), format, rounding, move |start, out| {
            layout.with_indices(start, out.len(), |idx| {
                for (o, &p) in out.iter_mut().zip(idx) {
                    *o = blocks.get(p);
                }
            })
        })
    }
}
