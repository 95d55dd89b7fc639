//! Memory accounting: INFO `used_memory` and the figure `maxmemory` is enforced against.
//!
//! Redis counts what its allocator hands out; so do we, with a global allocator that keeps a
//! running total of the heap footprint of every live allocation (the requested size rounded as
//! glibc's malloc rounds it, header included), so the figure tracks the dataset as keys come and
//! go, where RSS stays high after frees.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counted.
pub struct CountingAllocator;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// glibc's malloc: requests from 128 KiB up are separate page-rounded mappings; smaller ones
/// are 16-byte-aligned chunks with an 8-byte header, 32 bytes at least.
fn footprint(size: usize) -> usize {
    const MMAP_THRESHOLD: usize = 128 * 1024;
    if size >= MMAP_THRESHOLD {
        (size + 16 + 4095) & !4095
    } else {
        ((size + 8 + 15) & !15).max(32)
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is kept.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(footprint(layout.size()), Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(footprint(layout.size()), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        ALLOCATED.fetch_sub(footprint(layout.size()), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            let (old, new) = (footprint(layout.size()), footprint(new_size));
            if new >= old {
                ALLOCATED.fetch_add(new - old, Relaxed);
            } else {
                ALLOCATED.fetch_sub(old - new, Relaxed);
            }
        }
        p
    }
}

/// Bytes the heap holds for live allocations (INFO `used_memory`). Zero when the running binary
/// does not use [`CountingAllocator`] as its global allocator.
pub fn used() -> u64 {
    ALLOCATED.load(Relaxed) as u64
}

static PEAK: AtomicUsize = AtomicUsize::new(0);

/// INFO `used_memory_peak`: the highest [`used`] seen by [`note_peak`] (called by the cron and
/// by INFO itself, as Redis samples it).
pub fn note_peak() -> u64 {
    let now = ALLOCATED.load(Relaxed);
    PEAK.fetch_max(now, Relaxed).max(now) as u64
}

/// Resident memory of the process (INFO `used_memory_rss`).
pub fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::footprint;

    #[test]
    fn footprint_rounds_like_glibc() {
        assert_eq!(footprint(1), 32);
        assert_eq!(footprint(24), 32);
        assert_eq!(footprint(25), 48);
        assert_eq!(footprint(56), 64);
        assert_eq!(footprint(100), 112);
        assert_eq!(footprint(200 * 1024), 200 * 1024 + 4096);
    }
}
