//! Large zeroed buffers backed by transparent huge pages where the OS offers them.
//!
//! A freshly mapped buffer costs a page fault per 4 KiB on first touch, about 2 us each on the
//! reference machine: writing a new 36 MB result took 24 ms of which ~20 ms were faults, and 9 ms
//! with 2 MiB pages (`PERF.md` of `gse-gemm`). Tensor outputs and `into_data` buffers are that
//! kind of memory, so they ask for huge pages with `madvise(MADV_HUGEPAGE)` — a hint that
//! changes no byte, only how the kernel backs the range (the policy PyTorch's CPU allocator
//! applies to large tensors). Where the OS does not support it the call fails and is ignored.

use std::mem::MaybeUninit;

use bytemuck::Zeroable;
use rayon::prelude::*;

/// 2 MiB: the x86-64 transparent huge page.
pub const HUGE_PAGE: usize = 2 << 20;

/// Buffers of at least this many bytes are zeroed by all threads at once. Zeroing a new
/// GEMM output (the allocator's memset of recycled memory, or the page faults of a fresh
/// mapping) otherwise ran on the calling thread alone while the others waited for the
/// product: 24 MB for `[8192x256]x[256x1024]`, which went from 22.5 to 21.8 ms in parallel.
const PARALLEL_BYTES: usize = 4 << 20;

/// `len` zeros, the buffer's whole 2 MiB-aligned pages advised for huge pages.
///
/// The hint is given before the first write faults the pages in (a recycled, already
/// touched buffer is unaffected); large buffers are then zeroed in parallel.
pub fn zeroed<T: Zeroable + Copy + Send>(len: usize) -> Vec<T> {
    let bytes = len.saturating_mul(core::mem::size_of::<T>());
    if bytes < PARALLEL_BYTES || rayon::current_num_threads() == 1 {
        let mut v = vec![T::zeroed(); len];
        advise_huge_pages(&mut v);
        return v;
    }
    let mut v = Vec::with_capacity(len);
    let spare = &mut v.spare_capacity_mut()[..len];
    advise_huge_pages(spare);
    let chunk = (256 << 10) / core::mem::size_of::<T>().max(1);
    spare
        .par_chunks_mut(chunk)
        .for_each(|c| c.fill(MaybeUninit::new(T::zeroed())));
    // SAFETY: every one of the first `len` elements was written just above.
    unsafe { v.set_len(len) };
    v
}

/// Advises the 2 MiB-aligned pages inside `buf` for transparent huge pages (no-op for buffers
/// without a whole aligned 2 MiB page, and off Linux).
pub fn advise_huge_pages<T>(buf: &mut [T]) {
    let start = buf.as_mut_ptr() as usize;
    let end = start + core::mem::size_of_val(buf);
    let first = start.next_multiple_of(HUGE_PAGE);
    let last = end - end % HUGE_PAGE;
    if last <= first {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: `first..last` lies inside `buf`, memory this process owns; MADV_HUGEPAGE only
    // changes how the range is backed, never its contents.
    unsafe {
        let _ = libc::madvise(
            first as *mut libc::c_void,
            last - first,
            libc::MADV_HUGEPAGE,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `THPeligible` of the mapping that holds `addr`, from `/proc/self/smaps`.
    #[cfg(target_os = "linux")]
    fn thp_eligible(addr: usize) -> Option<bool> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((a, b)) = range.split_once('-')
                && let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            {
                inside = (a..b).contains(&addr);
                continue;
            }
            if inside && let Some(v) = line.strip_prefix("THPeligible:") {
                return Some(v.trim() == "1");
            }
        }
        None
    }

    #[test]
    fn zeroed_buffers_are_zero_and_keep_what_is_written() {
        for len in [0, 1, 1000, 3 << 20, (9 << 20) + 7] {
            let mut v: Vec<u32> = zeroed(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x == 0));
            for (i, x) in v.iter_mut().enumerate() {
                *x = i as u32;
            }
            advise_huge_pages(&mut v);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u32));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn large_buffers_are_advised_where_the_kernel_offers_huge_pages() {
        let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        let offered = mode.contains("[always]") || mode.contains("[madvise]");
        let mut v: Vec<u8> = zeroed(16 << 20);
        let inner = (v.as_mut_ptr() as usize).next_multiple_of(HUGE_PAGE);
        let eligible = thp_eligible(inner);
        if offered {
            assert_eq!(eligible, Some(true), "THP mode {mode:?}");
        } else {
            // No THP here: the advice must have been a harmless no-op.
            assert_ne!(eligible, Some(true), "THP mode {mode:?}");
        }
        assert!(v.iter().all(|&x| x == 0));
    }
}
