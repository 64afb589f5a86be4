//! Recycled `into_data` buffers.
//!
//! Reading a float tensor back decodes it into a new `Vec<f32>`. On the reference machine a
//! fresh 4 KiB page costs ~2 us to fault in, and the allocator hands out fresh pages whenever
//! the heap was trimmed in between (another backend's products in the same process provoke
//! it): reading back a 1024 x 1024 product then took ~2 ms of faults, as much as a fifth of
//! the product itself (`gse-gemm/PERF.md`). So large readback buffers come from a small pool
//! and go back to it when the returned [`TensorData`] is dropped. [`TensorData::into_vec`]
//! still takes the buffer over without a copy (the pool's buffers are ordinary `Vec<f32>`
//! allocations, detached whole).

use std::mem::{ManuallyDrop, MaybeUninit};
use std::ptr::NonNull;
use std::sync::Mutex;

use burn_backend::{DType, Shape, TensorData};
use burn_std::{AllocationController, AllocationProperty, Bytes};
use gse_kernels::GseTensor;

/// Values below which a readback allocates plainly (small buffers fault little).
const POOLED_MIN: usize = 64 * 1024;
/// Bytes of idle buffers kept at most, and how many.
const KEEP_BYTES: usize = 64 << 20;
const KEEP_COUNT: usize = 8;

static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// `tensor` as f32 [`TensorData`] of `shape`.
pub(crate) fn f32_data(tensor: &GseTensor, shape: Shape) -> TensorData {
    let n = tensor.num_elements();
    if n < POOLED_MIN {
        return TensorData::new(tensor.to_f32(), shape);
    }
    let mut buf = take(n);
    tensor.to_f32_into(&mut buf);
    let len = buf.len() * size_of::<f32>();
    // SAFETY: the first `len` bytes are the `n` decoded f32 values.
    let bytes = unsafe { Bytes::from_controller(Box::new(Pooled { buf }), len) };
    TensorData::from_bytes(bytes, shape, DType::F32)
}

/// The smallest idle buffer that holds `len` values without wasting more than half, or a new
/// one.
fn take(len: usize) -> Vec<f32> {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let fits = |v: &Vec<f32>| (len..=2 * len).contains(&v.capacity());
    let best = (0..pool.len())
        .filter(|&i| fits(&pool[i]))
        .min_by_key(|&i| pool[i].capacity());
    match best {
        Some(i) => pool.swap_remove(i),
        None => Vec::with_capacity(len),
    }
}

/// Keeps `buf` for later readbacks, newest first, within the limits.
fn give_back(buf: Vec<f32>) {
    let bytes = |v: &Vec<f32>| v.capacity() * size_of::<f32>();
    if bytes(&buf) > KEEP_BYTES || buf.capacity() < POOLED_MIN {
        return;
    }
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    pool.push(buf);
    while pool.len() > KEEP_COUNT || pool.iter().map(bytes).sum::<usize>() > KEEP_BYTES {
        pool.remove(0);
    }
}

/// A pooled `Vec<f32>` behind [`Bytes`]: returned to the pool on drop unless detached.
struct Pooled {
    buf: Vec<f32>,
}

impl AllocationController for Pooled {
    fn alloc_align(&self) -> usize {
        align_of::<f32>()
    }

    fn property(&self) -> AllocationProperty {
        AllocationProperty::Native
    }

    unsafe fn memory_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        let len = self.buf.capacity() * size_of::<f32>();
        // SAFETY: the whole capacity of the vector, seen as possibly uninitialized bytes.
        unsafe { core::slice::from_raw_parts_mut(self.buf.as_mut_ptr().cast(), len) }
    }

    fn memory(&self) -> &[MaybeUninit<u8>] {
        let len = self.buf.capacity() * size_of::<f32>();
        // SAFETY: as above, read-only.
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr().cast(), len) }
    }

    /// Hands the allocation over whole: it was made by the global allocator as an array of
    /// `capacity` f32, the layout [`Bytes::try_into_vec`] rebuilds the `Vec` with.
    fn try_detach(&mut self) -> Option<NonNull<u8>> {
        let mut buf = ManuallyDrop::new(std::mem::take(&mut self.buf));
        NonNull::new(buf.as_mut_ptr().cast())
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gse::{GseFormat, Rounding, SpecialPolicy};

    fn tensor(n: usize, seed: u32) -> (GseTensor, Vec<f32>) {
        let values: Vec<f32> = (0..n)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as i32 as f32)
            .collect();
        let (t, _) = GseTensor::from_f32(
            &values,
            &[n],
            GseFormat::EXACT,
            Rounding::NearestEven,
            SpecialPolicy::default(),
        )
        .unwrap();
        (t, values)
    }

    #[test]
    fn pooled_readback_round_trips_reuses_and_detaches() {
        let n = POOLED_MIN + 3;
        let (a, va) = tensor(n, 1);
        let data = f32_data(&a, Shape::new([n]));
        assert_eq!(data.as_slice::<f32>().unwrap(), &va[..]);
        let ptr = data.as_slice::<f32>().unwrap().as_ptr();
        drop(data); // back to the pool
        let (b, vb) = tensor(n, 2);
        let data = f32_data(&b, Shape::new([n]));
        assert_eq!(
            data.as_slice::<f32>().unwrap(),
            &vb[..],
            "reused buffer, new values"
        );
        assert_eq!(
            data.as_slice::<f32>().unwrap().as_ptr(),
            ptr,
            "the pooled buffer"
        );
        let cloned = data.clone();
        let vec = data.into_vec::<f32>().unwrap();
        assert_eq!(
            vec.as_ptr(),
            ptr,
            "into_vec takes the buffer over without a copy"
        );
        assert_eq!(vec, vb);
        assert_eq!(cloned.as_slice::<f32>().unwrap(), &vb[..]);
        // Small tensors do not go through the pool; the values are the same either way.
        let (c, vc) = tensor(10, 3);
        assert_eq!(f32_data(&c, Shape::new([10])).to_vec::<f32>().unwrap(), vc);
    }
}
