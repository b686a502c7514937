//! A pool of ready credentials for the open model: each arrival sends `/api/me` with one drawn
//! uniformly at random from the pool, instead of the credential of a logged-in virtual user.
//!
//! Why a pool: a lookup spread over the whole key space needs as many distinct credentials as
//! there are stored sessions (up to millions), far more than there are connections. The
//! generator knows only the contract — which header carries a credential (`Cookie: name=value`
//! or `Authorization: Bearer …`) — not how a server issues one; whoever built the pool (e.g.
//! `compare`'s preload, which issues them through the schemes' own code) did that.
//!
//! Layout in memory: header values back to back in a few shared buffers (one per batch sealed,
//! e.g. one per sweep level) plus each value's end offset, so ten million JWTs cost their bytes
//! plus 4 B each, not a `String` or `HeaderValue` apiece, and a growing sweep freezes one pool
//! per level without copying what earlier levels issued. A draw slices a shared buffer (a
//! reference-count increment, no allocation). Which entries were drawn is kept in an atomic
//! bitset, so a run can report how many distinct credentials it used.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use http::{HeaderName, HeaderValue};

/// Header values appended one by one, then frozen into [`CredentialPool`]s.
#[derive(Debug, Default)]
pub struct CredentialsBuilder {
    /// Sealed buffers, and the index of the first entry of each.
    chunks: Vec<Bytes>,
    chunk_starts: Vec<usize>,
    /// Values appended since the last seal.
    pending: BytesMut,
    /// End offset of every entry within its chunk.
    ends: Vec<u32>,
}

impl CredentialsBuilder {
    pub fn new() -> CredentialsBuilder {
        CredentialsBuilder::default()
    }

    /// Append one complete header value (e.g. `ab_sid=0123…` or `Bearer eyJ…`).
    pub fn push(&mut self, value: &[u8]) {
        self.push_parts(b"", value);
    }

    /// Append `prefix` followed by `value` as one header value (no intermediate allocation).
    pub fn push_parts(&mut self, prefix: &[u8], value: &[u8]) {
        if self.pending.len() + prefix.len() + value.len() > u32::MAX as usize {
            self.seal();
        }
        if self.pending.is_empty() {
            self.chunk_starts.push(self.ends.len());
        }
        self.pending.extend_from_slice(prefix);
        self.pending.extend_from_slice(value);
        self.ends.push(self.pending.len() as u32);
    }

    /// Append everything `other` holds, in order.
    pub fn append(&mut self, mut other: CredentialsBuilder) {
        other.seal();
        for (k, chunk) in other.chunks.iter().enumerate() {
            let first = other.chunk_starts[k];
            let last = other.chunk_starts.get(k + 1).copied().unwrap_or(other.ends.len());
            let mut start = 0usize;
            for &end in &other.ends[first..last] {
                self.push(&chunk[start..end as usize]);
                start = end as usize;
            }
        }
    }

    fn seal(&mut self) {
        if !self.pending.is_empty() {
            self.chunks.push(self.pending.split().freeze());
        }
    }

    /// Keep the first `n` values only (a sweep going down to a smaller level).
    pub fn truncate(&mut self, n: usize) {
        self.seal();
        if n >= self.ends.len() {
            return;
        }
        self.ends.truncate(n);
        let chunks = self.chunk_starts.partition_point(|&s| s < n);
        self.chunk_starts.truncate(chunks);
        self.chunks.truncate(chunks);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// A pool of the first `n` values (all of them if `n` is larger), sent in `header`. The
    /// builder keeps its values (shared, not copied), so a growing sweep can freeze one pool per
    /// level. Values that are not valid header bytes are refused here, once, not on every draw.
    pub fn pool(&mut self, header: HeaderName, n: usize) -> Result<CredentialPool, InvalidCredential> {
        self.seal();
        let n = n.min(self.ends.len());
        let chunks_used = self.chunk_starts.partition_point(|&s| s < n);
        let pool = CredentialPool {
            header,
            chunks: self.chunks[..chunks_used].to_vec(),
            chunk_starts: self.chunk_starts[..chunks_used].to_vec(),
            ends: self.ends[..n].to_vec(),
            used: (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        };
        for i in 0..n {
            HeaderValue::from_bytes(&pool.bytes(i)).map_err(|_| InvalidCredential(i))?;
        }
        Ok(pool)
    }
}

/// Entry `.0` of a credential list is not a valid header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("credential {0} is not a valid HTTP header value")]
pub struct InvalidCredential(pub usize);

/// Ready-to-send credentials, drawn uniformly; shared by every virtual user of a run.
pub struct CredentialPool {
    header: HeaderName,
    chunks: Vec<Bytes>,
    chunk_starts: Vec<usize>,
    ends: Vec<u32>,
    /// Bit i set once entry i has been drawn.
    used: Vec<AtomicU64>,
}

impl std::fmt::Debug for CredentialPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialPool").field("header", &self.header).field("len", &self.len()).finish()
    }
}

impl CredentialPool {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The header every credential of this pool travels in.
    pub fn header(&self) -> &HeaderName {
        &self.header
    }

    /// Entry `i`'s bytes: a slice of its shared chunk.
    fn bytes(&self, i: usize) -> Bytes {
        let c = self.chunk_starts.partition_point(|&s| s <= i) - 1;
        let start = if i == self.chunk_starts[c] { 0 } else { self.ends[i - 1] as usize };
        self.chunks[c].slice(start..self.ends[i] as usize)
    }

    /// Index in `0..len` from a uniform 64-bit random number (multiply-shift: no modulo bias
    /// worth the name for any pool that fits in memory). `None` for an empty pool.
    pub fn index(&self, random: u64) -> Option<usize> {
        let n = self.ends.len() as u128;
        (n > 0).then(|| ((random as u128 * n) >> 64) as usize)
    }

    /// Entry `i`'s header value, marked as used.
    pub fn take(&self, i: usize) -> HeaderValue {
        self.used[i / 64].fetch_or(1 << (i % 64), Ordering::Relaxed);
        HeaderValue::from_maybe_shared(self.bytes(i)).expect("validated when the pool was built")
    }

    /// Entry `i`'s header value without marking it used (e.g. to sample what was issued).
    pub fn value(&self, i: usize) -> Option<HeaderValue> {
        (i < self.len()).then(|| self.bytes(i)).and_then(|b| HeaderValue::from_maybe_shared(b).ok())
    }

    /// Draw one credential uniformly from `random` (a uniform 64-bit number); `None` if empty.
    pub fn draw(&self, random: u64) -> Option<HeaderValue> {
        self.index(random).map(|i| self.take(i))
    }

    /// How many distinct entries have been drawn since the pool was built (or last reset).
    pub fn distinct_used(&self) -> u64 {
        self.used.iter().map(|w| u64::from(w.load(Ordering::Relaxed).count_ones())).sum()
    }

    /// Forget which entries were drawn.
    pub fn reset_used(&self) {
        for w in &self.used {
            w.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::Rng;

    fn builder(n: usize) -> CredentialsBuilder {
        let mut b = CredentialsBuilder::new();
        for i in 0..n {
            b.push_parts(b"ab_sid=", format!("{i:032x}").as_bytes());
        }
        b
    }

    #[test]
    fn values_round_trip_and_pools_are_prefixes() {
        let mut b = builder(5);
        let pool = b.pool(http::header::COOKIE, 3).unwrap();
        assert_eq!(pool.len(), 3);
        assert_eq!(pool.take(0), format!("ab_sid={:032x}", 0));
        assert_eq!(pool.take(2), format!("ab_sid={:032x}", 2));
        assert_eq!(pool.distinct_used(), 2);
        pool.reset_used();
        assert_eq!(pool.distinct_used(), 0);
        assert_eq!(b.pool(http::header::COOKIE, 99).unwrap().len(), 5);
        let empty = b.pool(http::header::COOKIE, 0).unwrap();
        assert!(empty.is_empty() && empty.draw(7).is_none());
    }

    #[test]
    fn pools_span_chunks_sealed_level_by_level() {
        let mut b = builder(3);
        let first = b.pool(http::header::COOKIE, 3).unwrap();
        let mut more = CredentialsBuilder::new();
        more.push(b"Bearer x.y.z");
        more.push(b"Bearer a.b.c");
        b.append(more);
        b.push(b"last");
        let all = b.pool(http::header::AUTHORIZATION, usize::MAX).unwrap();
        assert_eq!(all.len(), 6);
        let values: Vec<HeaderValue> = (0..6).map(|i| all.take(i)).collect();
        assert_eq!(values[2], format!("ab_sid={:032x}", 2));
        assert_eq!(values[3], "Bearer x.y.z");
        assert_eq!(values[4], "Bearer a.b.c");
        assert_eq!(values[5], "last");
        assert_eq!(first.take(1), format!("ab_sid={:032x}", 1));
        assert_eq!(all.distinct_used(), 6);
    }

    #[test]
    fn truncating_keeps_a_prefix_and_later_values_follow_it() {
        let mut b = builder(3);
        b.append(builder(4));
        b.truncate(5);
        assert_eq!(b.len(), 5);
        b.push(b"after");
        let all = b.pool(http::header::COOKIE, usize::MAX).unwrap();
        assert_eq!(all.len(), 6);
        assert_eq!(all.take(4), format!("ab_sid={:032x}", 1));
        assert_eq!(all.take(5), "after");
        b.truncate(0);
        assert!(b.is_empty() && b.pool(http::header::COOKIE, 9).unwrap().is_empty());
    }

    #[test]
    fn invalid_header_bytes_are_refused_when_building() {
        let mut b = builder(2);
        b.push(b"bad\nvalue");
        assert_eq!(b.pool(http::header::COOKIE, 3).unwrap_err(), InvalidCredential(2));
    }

    #[test]
    fn draws_are_uniform_and_cover_the_pool() {
        // 4,000 entries, 10,000 draws: expected coverage 1 − e^(−2.5) ≈ 91.8%; every bucket of a
        // tenth of the pool gets about a tenth of the draws.
        let n = 4_000;
        let pool = builder(n).pool(http::header::COOKIE, n).unwrap();
        let mut rng = Rng::new(42);
        let mut buckets = [0u32; 10];
        for _ in 0..10_000 {
            let i = pool.index(rng.next_u64()).unwrap();
            buckets[i * 10 / n] += 1;
            pool.take(i);
        }
        let distinct = pool.distinct_used() as f64 / n as f64;
        assert!((0.89..0.94).contains(&distinct), "coverage {distinct}");
        for b in buckets {
            assert!((850..1150).contains(&b), "buckets {buckets:?}");
        }
        assert_eq!(pool.index(u64::MAX), Some(n - 1));
        assert_eq!(pool.index(0), Some(0));
    }
}
