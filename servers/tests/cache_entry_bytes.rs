//! The per-entry cost behind `/metrics`' `authbench_cache_bytes` (`record_cache::ENTRY_OVERHEAD_BYTES`),
//! measured: a counting global allocator (this test binary's alone) sums the net bytes allocated
//! while 100k records with keys as long as `session-tracked`'s go into the cache both schemes build;
//! the estimate must be within 25% of that. It fails when moka, the record or the builder change
//! what an entry costs.

// A global allocator can only be written with `unsafe`; this one forwards every call to `System`
// unchanged and only counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use authbench_servers::record_cache;
use authbench_servers::session::Record;
use authbench_servers::session_key::Layout as KeyLayout;

struct Counting;

static NET: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        NET.fetch_add(layout.size() as i64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NET.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        NET.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const ENTRIES: u64 = 100_000;

/// Net bytes allocated per entry by `ENTRIES` inserts into a fresh cache, keys included.
async fn measured(invalidation_closures: bool, key: impl Fn(u64) -> String) -> f64 {
    let cache = record_cache::build(1_000_000, Duration::from_secs(600), invalidation_closures);
    cache.run_pending_tasks().await;
    let before = NET.load(Ordering::SeqCst);
    for i in 0..ENTRIES {
        cache.insert(key(i), Record { uid: i, iat: 1 }).await;
    }
    cache.run_pending_tasks().await;
    assert_eq!(cache.entry_count(), ENTRIES);
    let bytes = (NET.load(Ordering::SeqCst) - before) as f64 / ENTRIES as f64;
    drop(cache);
    bytes
}

#[tokio::test(flavor = "current_thread")]
async fn estimated_entry_bytes_match_a_counting_allocator() {
    // Keys made as the schemes make them: session-tracked's Redis key (a compare-like prefix),
    // session-cached's copy of the presented id.
    let layout =
        KeyLayout::new("authbench:cmp:1a2b3c4d:session-tracked:1:", b"a tag key of 16 bytes or more")
            .unwrap();
    let tracked_key = |i: u64| layout.session_key(&layout.new_session_id(i));
    let cached_key = |i: u64| layout.new_session_id(i).as_str().to_owned();
    for (what, key_bytes, per_entry) in [
        ("session-tracked", tracked_key(0).capacity(), measured(false, tracked_key).await),
        ("session-cached", cached_key(0).capacity(), measured(true, cached_key).await),
    ] {
        let estimate = record_cache::entry_bytes(key_bytes) as f64;
        eprintln!(
            "{what}: measured {per_entry:.0} B per entry, estimated {estimate:.0} B (key {key_bytes} B)"
        );
        assert!(
            (estimate - per_entry).abs() <= 0.25 * per_entry,
            "{what}: the estimate {estimate:.0} B is more than 25% off the measured {per_entry:.0} B per entry"
        );
    }
}
