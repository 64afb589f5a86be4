//! Indexed reads and writes: gather, select, scatter/select add, slice assign, masks.
//! Reads go straight to storage through the layout; accumulations (`*_add`) are exact and
//! rounded once.

use burn_flex::FlexTensor;
use burn_std::Slice;
use gse::Dyadic;
use gse_kernels::{GseTensor, generate};

use crate::GsqTensor;
use crate::convert::{bool_values, int_values};

fn row_major_strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

/// Logical coordinates of row-major index `i`.
fn unravel(mut i: usize, dims: &[usize], out: &mut [usize]) {
    for a in (0..dims.len()).rev() {
        out[a] = i % dims[a];
        i /= dims[a];
    }
}

/// Storage index of logical coordinates `coord` of `t`.
fn physical(t: &GseTensor, coord: &[usize]) -> usize {
    let l = t.layout();
    (l.offset() as isize
        + coord
            .iter()
            .zip(l.strides())
            .map(|(&c, &s)| c as isize * s)
            .sum::<isize>()) as usize
}

fn check_index(op: &str, index: i64, dim_size: usize) -> usize {
    let i = if index < 0 {
        index + dim_size as i64
    } else {
        index
    };
    assert!(
        (0..dim_size as i64).contains(&i),
        "burn-gsq: {op}: index {index} is out of bounds for a dimension of size {dim_size}"
    );
    i as usize
}

fn build(
    like: &GsqTensor,
    dims: &[usize],
    f: impl Fn(usize, &mut [usize]) -> Dyadic + Sync,
) -> GsqTensor {
    let (format, rounding) = like.out();
    let rank = dims.len();
    let t = generate(dims, format, rounding, |i| {
        let mut coord = [0usize; 8];
        let coord = &mut coord[..rank];
        unravel(i, dims, coord);
        f(i, coord)
    });
    like.derive(t)
}

pub(crate) fn gather(dim: usize, t: GsqTensor, indices: FlexTensor) -> GsqTensor {
    let idx_dims: Vec<usize> = indices.layout().shape().iter().copied().collect();
    let idx = int_values(indices);
    let size = t.dims()[dim];
    build(&t, &idx_dims, |i, coord| {
        coord[dim] = check_index("gather", idx[i], size);
        t.tensor.storage_value(physical(&t.tensor, coord))
    })
}

pub(crate) fn select(t: GsqTensor, dim: usize, indices: FlexTensor) -> GsqTensor {
    let idx = int_values(indices);
    let size = t.dims()[dim];
    let mut dims = t.dims().to_vec();
    dims[dim] = idx.len();
    build(&t, &dims, |_, coord| {
        coord[dim] = check_index("select", idx[coord[dim]], size);
        t.tensor.storage_value(physical(&t.tensor, coord))
    })
}

/// `base` with `updates` (value, flat destination) added exactly, rounded once.
fn add_at(base: GsqTensor, updates: impl Iterator<Item = (usize, Dyadic)>) -> GsqTensor {
    let mut acc = base.values();
    for (dest, v) in updates {
        acc[dest] = acc[dest].add(v);
    }
    let dims = base.dims().to_vec();
    build(&base, &dims, |i, _| acc[i])
}

pub(crate) fn scatter_add(
    dim: usize,
    t: GsqTensor,
    indices: FlexTensor,
    value: GsqTensor,
) -> GsqTensor {
    let idx_dims: Vec<usize> = indices.layout().shape().iter().copied().collect();
    let idx = int_values(indices);
    let out_strides = row_major_strides(t.dims());
    let size = t.dims()[dim];
    let mut coord = vec![0usize; idx_dims.len()];
    let updates: Vec<(usize, Dyadic)> = (0..idx.len())
        .map(|i| {
            unravel(i, &idx_dims, &mut coord);
            let v = value.tensor.storage_value(physical(&value.tensor, &coord));
            coord[dim] = check_index("scatter_add", idx[i], size);
            let dest = coord.iter().zip(&out_strides).map(|(c, s)| c * s).sum();
            (dest, v)
        })
        .collect();
    add_at(t, updates.into_iter())
}

pub(crate) fn select_add(
    t: GsqTensor,
    dim: usize,
    indices: FlexTensor,
    value: GsqTensor,
) -> GsqTensor {
    let idx = int_values(indices);
    let out_strides = row_major_strides(t.dims());
    let size = t.dims()[dim];
    let vdims = value.dims().to_vec();
    let mut coord = vec![0usize; vdims.len()];
    let n: usize = vdims.iter().product();
    let updates: Vec<(usize, Dyadic)> = (0..n)
        .map(|i| {
            unravel(i, &vdims, &mut coord);
            let v = value.tensor.storage_value(physical(&value.tensor, &coord));
            coord[dim] = check_index("select_add", idx[coord[dim]], size);
            let dest = coord.iter().zip(&out_strides).map(|(c, s)| c * s).sum();
            (dest, v)
        })
        .collect();
    add_at(t, updates.into_iter())
}

pub(crate) fn slice_assign(t: GsqTensor, slices: &[Slice], value: GsqTensor) -> GsqTensor {
    let dims = t.dims().to_vec();
    // Per axis: (start, step, count) of the assigned region.
    let region: Vec<(isize, isize, usize)> = dims
        .iter()
        .enumerate()
        .map(|(a, &d)| match slices.get(a) {
            Some(s) => {
                let r = s.to_range(d);
                let step = if s.step == 0 { 1 } else { s.step };
                let count = (r.end.saturating_sub(r.start)).div_ceil(step.unsigned_abs());
                let first = if step > 0 {
                    r.start as isize
                } else {
                    r.end as isize - 1
                };
                (first, step, count)
            }
            None => (0, 1, d),
        })
        .collect();
    build(&t, &dims, |_, coord| {
        let mut inside = [0usize; 8];
        let mut hit = true;
        for (a, &(first, step, count)) in region.iter().enumerate() {
            let off = coord[a] as isize - first;
            if off % step != 0 || off / step < 0 || (off / step) as usize >= count {
                hit = false;
                break;
            }
            inside[a] = (off / step) as usize;
        }
        if hit {
            value
                .tensor
                .storage_value(physical(&value.tensor, &inside[..dims.len()]))
        } else {
            t.tensor.storage_value(physical(&t.tensor, coord))
        }
    })
}

/// The mask broadcast to `dims`, in row-major order.
fn broadcast_mask(mask: FlexTensor, dims: &[usize]) -> Vec<bool> {
    let mdims: Vec<usize> = mask.layout().shape().iter().copied().collect();
    let values = bool_values(mask);
    if mdims == dims {
        return values;
    }
    let mstrides = row_major_strides(&mdims);
    let lead = dims.len() - mdims.len();
    let n: usize = dims.iter().product();
    let mut coord = vec![0usize; dims.len()];
    (0..n)
        .map(|i| {
            unravel(i, dims, &mut coord);
            let src: usize = (0..mdims.len())
                .map(|a| {
                    if mdims[a] == 1 {
                        0
                    } else {
                        coord[a + lead] * mstrides[a]
                    }
                })
                .sum();
            values[src]
        })
        .collect()
}

pub(crate) fn mask_where(t: GsqTensor, mask: FlexTensor, value: GsqTensor) -> GsqTensor {
    let dims = gse_kernels::broadcast_shape(t.dims(), value.dims())
        .and_then(|d| {
            let m: Vec<usize> = mask.layout().shape().iter().copied().collect();
            gse_kernels::broadcast_shape(&d, &m)
        })
        .unwrap_or_else(|| panic!("burn-gsq: mask_where: shapes do not broadcast"));
    let mask = broadcast_mask(mask, &dims);
    let (tv, vv) = (t.tensor.expand(&dims), value.tensor.expand(&dims));
    build(&t, &dims, |i, coord| {
        let src = if mask[i] { &vv } else { &tv };
        src.storage_value(physical(src, coord))
    })
}

pub(crate) fn mask_fill(t: GsqTensor, mask: FlexTensor, value: Dyadic) -> GsqTensor {
    let dims = t.dims().to_vec();
    let mask = broadcast_mask(mask, &dims);
    build(&t, &dims, |i, coord| {
        if mask[i] {
            value
        } else {
            t.tensor.storage_value(physical(&t.tensor, coord))
        }
    })
}

/// `data[indices[..., :]]` with the last axis of `indices` indexing the leading axes of `data`.
pub(crate) fn gather_nd(t: GsqTensor, indices: FlexTensor) -> GsqTensor {
    let idims: Vec<usize> = indices.layout().shape().iter().copied().collect();
    let idx = int_values(indices);
    let depth = *idims.last().unwrap_or(&0);
    let data_dims = t.dims().to_vec();
    let tail = &data_dims[depth..];
    let tail_len: usize = tail.iter().product();
    let mut out_dims = idims[..idims.len().saturating_sub(1)].to_vec();
    out_dims.extend_from_slice(tail);
    let rank = data_dims.len();
    let (format, rounding) = t.out();
    let out = generate(&out_dims, format, rounding, |i| {
        let (point, within) = (i / tail_len.max(1), i % tail_len.max(1));
        let mut coord = [0usize; 8];
        for a in 0..depth {
            coord[a] = check_index("gather_nd", idx[point * depth + a], data_dims[a]);
        }
        unravel(within, tail, &mut coord[depth..rank]);
        t.tensor.storage_value(physical(&t.tensor, &coord[..rank]))
    });
    t.derive(out)
}

/// Writes (or reduces) `values` at the points `indices` of `data`.
pub(crate) fn scatter_nd(
    t: GsqTensor,
    indices: FlexTensor,
    values: GsqTensor,
    op: burn_backend::tensor::IndexingUpdateOp,
) -> GsqTensor {
    use burn_backend::tensor::IndexingUpdateOp as Op;
    let idims: Vec<usize> = indices.layout().shape().iter().copied().collect();
    let idx = int_values(indices);
    let depth = *idims.last().unwrap_or(&0);
    let data_dims = t.dims().to_vec();
    let strides = row_major_strides(&data_dims);
    let tail_len: usize = data_dims[depth..].iter().product();
    let points = idx.len() / depth.max(1);
    let vals = values.values();
    let mut acc = t.values();
    for p in 0..points {
        let base: usize = (0..depth)
            .map(|a| check_index("scatter_nd", idx[p * depth + a], data_dims[a]) * strides[a])
            .sum();
        for w in 0..tail_len {
            let (dest, v) = (base + w, vals[p * tail_len + w]);
            acc[dest] = match op {
                Op::Assign => v,
                Op::Add => acc[dest].add(v),
                Op::Mul => acc[dest].mul(v),
                Op::Min => super::math::min(acc[dest], v),
                Op::Max => super::math::max(acc[dest], v),
            };
        }
    }
    build(&t, &data_dims, |i, _| acc[i])
}
