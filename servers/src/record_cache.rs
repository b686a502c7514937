//! The in-process cache of session records both cached schemes keep (moka), and what it holds:
//! one builder, so the per-entry cost measured by `tests/cache_entry_bytes.rs` is the cost of the
//! cache that runs.
//!
//! **Memory, estimated and why.** moka does not know the bytes it holds, and a weigher would turn
//! `--cache-capacity` from records into a weight. The records are all alike (a key of fixed length
//! per server, a 16-byte [`Record`]), so bytes = entries × ([`ENTRY_OVERHEAD_BYTES`] + the key's
//! allocation), where the overhead — moka's entry, its access- and write-order nodes, its
//! hash-table slot, the `Arc`s around key and value, the record — was measured with a counting
//! allocator over 100k inserts of keys made as the schemes make them (`tests/cache_entry_bytes.rs`:
//! 441 B per entry with `session-tracked`'s 164-byte key allocation, 325 B with `session-cached`'s
//! 48; ~280 B each beyond the key). That test fails when the estimate is more than 25% off.
//! Not counted: the allocator's own rounding and moka's fixed structures (a few KiB).

use std::time::Duration;

use moka::future::Cache;

use crate::session::Record;

/// Redis key or session id → record.
pub type RecordCache = Cache<String, Record>;

/// Bytes one cached record costs besides its key's allocation (see the module doc; measured with
/// moka 0.12 on x86-64).
pub const ENTRY_OVERHEAD_BYTES: u64 = 285;

/// A cache of at most `capacity` records, each served for at most `ttl`. `invalidation_closures`:
/// whether `invalidate_entries_if` is needed (`session-cached`'s logout-all).
pub fn build(capacity: u64, ttl: Duration, invalidation_closures: bool) -> RecordCache {
    let builder = Cache::builder().max_capacity(capacity).time_to_live(ttl);
    if invalidation_closures { builder.support_invalidation_closures().build() } else { builder.build() }
}

/// Estimated bytes of one entry whose key's allocation is `key_bytes` (its `String::capacity`,
/// which `format!` may make larger than its length).
pub fn entry_bytes(key_bytes: usize) -> u64 {
    ENTRY_OVERHEAD_BYTES + key_bytes as u64
}

/// Entries held now — after moka's pending maintenance (expiries, evictions, counts), so the count
/// is current rather than up to a batch behind — and their estimated bytes.
pub async fn held(cache: &RecordCache, key_bytes: usize) -> (u64, u64) {
    cache.run_pending_tasks().await;
    let entries = cache.entry_count();
    (entries, entries * entry_bytes(key_bytes))
}
