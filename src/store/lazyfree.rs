//! Freeing large values off the event loop (Redis's lazyfree): UNLINK, FLUSHALL / FLUSHDB ASYNC
//! and a replica's old dataset hand what they drop to one background thread, so a client never
//! waits while millions of allocations are released. Like Redis's lazyfree thread it frees in
//! the order things were handed over, and INFO counts what is pending and what was freed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

/// Redis's LAZYFREE_THRESHOLD: a value whose freeing touches more allocations than this is
/// freed in the background by UNLINK; a smaller one costs less to free than to hand over.
pub const THRESHOLD: usize = 64;

/// Work for the background thread: dropping something, and whatever must follow the drop.
type Job = Box<dyn FnOnce() + Send>;

/// The way to the background thread: a job and how many objects it frees.
type Queue = Mutex<Sender<(Job, u64)>>;

/// Objects handed over and not yet freed (INFO `lazyfree_pending_objects`).
static PENDING: AtomicU64 = AtomicU64::new(0);
/// Objects freed in the background since the start (INFO `lazyfreed_objects`).
static FREED: AtomicU64 = AtomicU64::new(0);

/// The background thread's queue, started on first use; `None` when the thread could not be
/// started (then everything is freed in place, as before lazyfree existed).
fn queue() -> Option<&'static Queue> {
    static QUEUE: OnceLock<Option<Queue>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = channel::<(Job, u64)>();
            std::thread::Builder::new()
                .name("lazyfree".into())
                .spawn(move || {
                    for (job, objects) in rx {
                        job();
                        PENDING.fetch_sub(objects, Ordering::Relaxed);
                        FREED.fetch_add(objects, Ordering::Relaxed);
                    }
                })
                .ok()
                .map(|_| Mutex::new(tx))
        })
        .as_ref()
}

/// Runs `job` (which frees `objects` objects) on the background thread.
fn submit(job: Job, objects: u64) {
    let Some(queue) = queue() else {
        return job();
    };
    PENDING.fetch_add(objects, Ordering::Relaxed);
    let sent = match queue.lock() {
        Ok(tx) => tx.send((job, objects)).map_err(|e| e.0 .0),
        Err(_) => Err(job),
    };
    if let Err(job) = sent {
        PENDING.fetch_sub(objects, Ordering::Relaxed);
        job();
    }
}

/// Frees `value` (holding `objects` of the objects INFO counts: keys of a flushed database,
/// or 1) in the background.
pub fn free_later<T: Send + 'static>(value: T, objects: u64) {
    submit(Box::new(move || drop(value)), objects);
}

/// [`free_later`] for a whole dataset (a replica's old data after a full sync), then hands the
/// freed pages back to the system: glibc's malloc otherwise keeps them in its free lists, and
/// the process stays at its peak size (old + new dataset) until the memory is reused.
pub fn free_dataset_later<T: Send + 'static>(value: T, objects: u64) {
    submit(
        Box::new(move || {
            drop(value);
            release_free_memory();
        }),
        objects,
    );
}

/// INFO `lazyfree_pending_objects`.
pub fn pending() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

/// INFO `lazyfreed_objects`.
pub fn freed() -> u64 {
    FREED.load(Ordering::Relaxed)
}

/// Turns glibc's fast bins off, once at startup before any other thread exists. With them on,
/// small blocks freed by the lazyfree thread pile up unmerged, and the next free of a block
/// over 64 KiB anywhere makes glibc merge the whole pile while it holds the arena's lock: the
/// event loop then waited 60-250 ms on its next allocation after UNLINK of a 1-2M member set
/// (Redis, with jemalloc, 4-7 ms; with fast bins off ours is 2-10 ms). Small blocks are still
/// cached per thread (tcache), so throughput is unchanged: 1.008 / 0.998 of the default at
/// pipeline 1 / 32 over 11 redis-benchmark tests, and SPOP's p99 at pipeline 32 fell from 4.4
/// to 2.7 ms (the same sweep used to stall it).
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// glibc's `M_MXFAST`: the largest request served from fast bins (0: none).
        const M_MXFAST: i32 = 1;
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only changes glibc's allocator parameters; setting M_MXFAST is
        // documented as valid at any time, and this runs before any other thread starts.
        unsafe {
            mallopt(M_MXFAST, 0);
        }
    }
}

/// Returns free heap pages to the system (`malloc_trim(0)`); a no-op off glibc.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only releases free memory glibc's allocator owns; it takes its own
        // arena locks and is safe to call from any thread at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}
