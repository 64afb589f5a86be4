//! How a tensor's logical elements map onto its storage: shape, signed strides, offset.
//!
//! GSE groups are *physical*: element `p` of the storage belongs to group `p / group_size`
//! whatever view looks at it. So reshape (of contiguous data), permute, slice, flip and expand
//! are metadata-only, exactly as in burn-flex; only ops that write produce new groups.

/// Shape, strides (in elements, negative for flipped axes, 0 for expanded ones) and offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    shape: Vec<usize>,
    strides: Vec<isize>,
    offset: usize,
}

/// One axis of a slice: `start..end` (clamped to the axis) taken every `step` elements;
/// a negative step walks the range backwards, as burn's `Slice` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisSlice {
    pub start: usize,
    pub end: usize,
    pub step: isize,
}

pub fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![1isize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1] as isize;
    }
    strides
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Self {
        Self {
            strides: contiguous_strides(shape),
            shape: shape.to_vec(),
            offset: 0,
        }
    }

    pub fn new(shape: Vec<usize>, strides: Vec<isize>, offset: usize) -> Self {
        debug_assert_eq!(shape.len(), strides.len());
        Self {
            shape,
            strides,
            offset,
        }
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Row-major with unit innermost stride and no gaps.
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1isize;
        for (&dim, &stride) in self.shape.iter().zip(&self.strides).rev() {
            if dim != 1 && stride != expected {
                return false;
            }
            expected *= dim as isize;
        }
        true
    }

    /// The storage range of a contiguous layout.
    pub fn contiguous_range(&self) -> Option<core::ops::Range<usize>> {
        self.is_contiguous()
            .then(|| self.offset..self.offset + self.num_elements())
    }

    pub fn permute(&self, axes: &[usize]) -> Self {
        Self {
            shape: axes.iter().map(|&a| self.shape[a]).collect(),
            strides: axes.iter().map(|&a| self.strides[a]).collect(),
            offset: self.offset,
        }
    }

    pub fn swap_dims(&self, a: usize, b: usize) -> Self {
        let mut out = self.clone();
        out.shape.swap(a, b);
        out.strides.swap(a, b);
        out
    }

    /// Reverses the listed axes.
    pub fn flip(&self, axes: &[usize]) -> Self {
        let mut out = self.clone();
        for &a in axes {
            if out.shape[a] > 0 {
                out.offset =
                    (out.offset as isize + (out.shape[a] as isize - 1) * out.strides[a]) as usize;
            }
            out.strides[a] = -out.strides[a];
        }
        out
    }

    /// Slices every axis (axes beyond `slices` are kept whole).
    pub fn slice(&self, slices: &[AxisSlice]) -> Self {
        let mut out = self.clone();
        for (a, s) in slices.iter().enumerate() {
            let dim = self.shape[a];
            let start = s.start.min(dim);
            let end = s.end.clamp(start, dim);
            let span = end - start;
            let signed_step = if s.step == 0 { 1 } else { s.step };
            let step = signed_step.unsigned_abs();
            let count = span.div_ceil(step);
            let first = if signed_step > 0 {
                start
            } else {
                end.saturating_sub(1)
            };
            if count > 0 {
                out.offset = (out.offset as isize + first as isize * self.strides[a]) as usize;
            }
            out.shape[a] = count;
            out.strides[a] = self.strides[a] * signed_step;
        }
        out
    }

    /// Broadcasts size-1 axes (and new leading axes) to `shape` with stride 0.
    pub fn expand(&self, shape: &[usize]) -> Self {
        let lead = shape.len() - self.rank();
        let mut strides = vec![0isize; shape.len()];
        for (i, &dim) in shape.iter().enumerate().skip(lead) {
            let src = i - lead;
            strides[i] = if self.shape[src] == dim {
                self.strides[src]
            } else {
                0
            };
        }
        Self {
            shape: shape.to_vec(),
            strides,
            offset: self.offset,
        }
    }

    /// The same elements under a new shape, when the strides allow it without a copy
    /// (contiguous data, or a shape change that only splits/merges compatible axes).
    pub fn reshape(&self, shape: &[usize]) -> Option<Self> {
        if self.is_contiguous() {
            return Some(Self {
                strides: contiguous_strides(shape),
                shape: shape.to_vec(),
                offset: self.offset,
            });
        }
        None
    }

    /// Calls `f` with the storage indices of logical elements `start..start + len`, written
    /// into a buffer the calling thread keeps: kernels call this once per run of a few
    /// thousand elements, and a fresh (zeroed) buffer per run costs as much as the indices.
    pub fn with_indices<R>(&self, start: usize, len: usize, f: impl FnOnce(&[usize]) -> R) -> R {
        with_index_buffers(len, |[a, _]| {
            self.fill_indices(start, a);
            f(a)
        })
    }

    /// Storage index of each logical element `start..start + out.len()` in row-major order.
    pub fn fill_indices(&self, start: usize, out: &mut [usize]) {
        if out.is_empty() {
            return;
        }
        if let Some(range) = self.contiguous_range() {
            for (k, o) in out.iter_mut().enumerate() {
                *o = range.start + start + k;
            }
            return;
        }
        let rank = self.rank();
        let mut coord = vec![0usize; rank];
        let mut rest = start;
        for a in (0..rank).rev() {
            coord[a] = rest % self.shape[a];
            rest /= self.shape[a];
        }
        let mut pos = self.offset as isize
            + coord
                .iter()
                .zip(&self.strides)
                .map(|(&c, &s)| c as isize * s)
                .sum::<isize>();
        let inner = rank - 1;
        let (inner_dim, inner_stride) = (self.shape[inner], self.strides[inner]);
        for o in out.iter_mut() {
            *o = pos as usize;
            coord[inner] += 1;
            pos += inner_stride;
            if coord[inner] < inner_dim {
                continue;
            }
            // Carry into the outer axes.
            coord[inner] = 0;
            pos -= inner_stride * inner_dim as isize;
            let mut a = inner;
            while a > 0 {
                a -= 1;
                coord[a] += 1;
                pos += self.strides[a];
                if coord[a] < self.shape[a] {
                    break;
                }
                pos -= self.strides[a] * self.shape[a] as isize;
                coord[a] = 0;
            }
        }
    }
}

/// The broadcast of two shapes of equal rank (size-1 axes stretch), or `None` if they clash.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let pad = |s: &[usize], i: usize| {
        let lead = rank - s.len();
        if i < lead { 1 } else { s[i - lead] }
    };
    (0..rank)
        .map(|i| match (pad(a, i), pad(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indices(l: &Layout) -> Vec<usize> {
        let mut v = vec![0; l.num_elements()];
        l.fill_indices(0, &mut v);
        v
    }

    #[test]
    fn views_map_to_the_right_storage() {
        let l = Layout::contiguous(&[2, 3]);
        assert_eq!(indices(&l.swap_dims(0, 1)), [0, 3, 1, 4, 2, 5]);
        assert_eq!(indices(&l.flip(&[1])), [2, 1, 0, 5, 4, 3]);
        let s = l.slice(&[
            AxisSlice {
                start: 0,
                end: 2,
                step: 1,
            },
            AxisSlice {
                start: 0,
                end: 3,
                step: 2,
            },
        ]);
        assert_eq!(indices(&s), [0, 2, 3, 5]);
        let r = l.slice(&[
            AxisSlice {
                start: 0,
                end: 2,
                step: 1,
            },
            AxisSlice {
                start: 0,
                end: 3,
                step: -2,
            },
        ]);
        assert_eq!(indices(&r), [2, 0, 5, 3]);
        let e = Layout::contiguous(&[1, 3]).expand(&[2, 3]);
        assert_eq!(indices(&e), [0, 1, 2, 0, 1, 2]);
        let mut part = vec![0; 3];
        l.swap_dims(0, 1).fill_indices(2, &mut part);
        assert_eq!(part, [1, 4, 2]);
    }

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shape(&[2, 1, 3], &[1, 4, 3]), Some(vec![2, 4, 3]));
        assert_eq!(broadcast_shape(&[2, 3], &[3, 3]), None);
    }
}

/// [`Layout::with_indices`] for two layouts of the same shape (the operands of a broadcast
/// binary op), in step.
pub fn with_index_pair<R>(
    a: &Layout,
    b: &Layout,
    start: usize,
    len: usize,
    f: impl FnOnce(&[usize], &[usize]) -> R,
) -> R {
    with_index_buffers(len, |[ia, ib]| {
        a.fill_indices(start, ia);
        b.fill_indices(start, ib);
        f(ia, ib)
    })
}

thread_local! {
    static INDEX_BUFFERS: std::cell::RefCell<[Vec<usize>; 2]> =
        const { std::cell::RefCell::new([Vec::new(), Vec::new()]) };
}

/// Two index buffers of `len` entries (contents unspecified) from the calling thread's pair,
/// or fresh ones when the pair is already in use further up the stack.
fn with_index_buffers<R>(len: usize, f: impl FnOnce([&mut [usize]; 2]) -> R) -> R {
    INDEX_BUFFERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut pair) => {
            let [a, b] = &mut *pair;
            if a.len() < len {
                a.resize(len, 0);
                b.resize(len, 0);
            }
            f([&mut a[..len], &mut b[..len]])
        }
        Err(_) => f([&mut vec![0; len], &mut vec![0; len]]),
    })
}
