//! `session-cached`: the session scheme with an in-process cache (moka) in front of Redis.
//!
//! A session record read from Redis is served from this server's cache for up to T
//! (`--cache-ttl`, default 1 s); the cache holds at most `--cache-capacity` records (default
//! 100k, TinyLFU admission, LRU eviction). Redis layout and every write are the session scheme's
//! ([`crate::session`]).
//!
//! Semantics, stated: a logout through *this* server evicts its own copy at once, but every
//! *other* server that cached the record keeps accepting it for up to T: the revocation window
//! across servers is up to T (measured by compare's revocation phase, server A → server B).
//! The idle expiry still slides by `GETEX`, but only on a cache miss — at least once per T for a
//! user who keeps making requests, so with T far below the idle TTL nothing changes for them.
//! Lookups per request: one `GETEX` per miss, none per hit; the hit ratio is the share of
//! authenticated requests that sent no command (`1 - GETEX calls / requests`).
//!
//! A miss races this server's own evictions: it can read a record from Redis just before a
//! concurrent logout (refresh, logout-all) deletes it and drops this server's copy, and insert it
//! after. A generation counter closes that, as `session-tracked`'s push counter does: every
//! eviction bumps it after its Redis write and before dropping the copy, and a miss that sees it
//! moved between its read and its insert removes what it inserted ([`CachedScheme::read`],
//! [`Miss::keep`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::api::{self, Scheme};
use crate::error::Result;
use crate::metrics::CacheReading;
use crate::record_cache::{self, RecordCache};
use crate::session::{Record, SessionAuth, SessionScheme};
use crate::session_key::SESSION_ID_LEN;
use crate::users::Users;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Response;

/// Default of `--cache-ttl`.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(1);
/// Default of `--cache-capacity`.
pub const DEFAULT_CACHE_CAPACITY: u64 = 100_000;

/// Hits and misses of one server's cache since it started.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

/// The `session-cached` scheme's state.
#[derive(Clone)]
pub struct CachedScheme {
    inner: Arc<Inner>,
}

struct Inner {
    base: SessionScheme,
    /// Session id → record.
    cache: RecordCache,
    capacity: u64,
    stats: CacheStats,
    /// Bumped by every eviction of this server's (after its Redis write, before the copy is
    /// dropped): a miss that saw it move cannot keep what it read.
    evictions: AtomicU64,
}

/// A cache miss between its read of Redis and its insert: [`CachedScheme::read`], then
/// [`Miss::keep`]. Two steps so that a test can run a logout between them.
pub struct Miss {
    sid: String,
    record: Record,
    /// The eviction generation before Redis was read.
    seen: u64,
}

impl CachedScheme {
    pub fn new(base: SessionScheme, ttl: Duration, capacity: u64) -> Self {
        let cache = record_cache::build(capacity, ttl, true);
        let stats = CacheStats::default();
        CachedScheme { inner: Arc::new(Inner { base, cache, capacity, stats, evictions: AtomicU64::new(0) }) }
    }

    /// The first half of a cache miss: read `sid`'s record from Redis (one `GETEX`), noting the
    /// eviction generation before.
    pub async fn read(&self, sid: &str) -> Result<Miss> {
        let seen = self.inner.evictions.load(Ordering::SeqCst);
        let record = self.inner.base.store().lookup(sid).await?;
        Ok(Miss { sid: sid.to_owned(), record, seen })
    }

    /// Drop this server's copies of `sids` after a Redis write ended them: the generation first,
    /// so a miss that read them before the write cannot put them back after.
    async fn evict(&self, sids: &[String]) {
        self.inner.evictions.fetch_add(1, Ordering::SeqCst);
        for sid in sids {
            self.inner.cache.invalidate(sid).await;
        }
    }

    pub fn base(&self) -> &SessionScheme {
        &self.inner.base
    }

    pub fn stats(&self) -> &CacheStats {
        &self.inner.stats
    }

    /// Records in the cache now (moka's count may lag pending maintenance by a little).
    pub fn cached(&self) -> u64 {
        self.inner.cache.entry_count()
    }
}

impl FromRequestParts<CachedScheme> for SessionAuth {
    type Rejection = crate::error::Error;

    async fn from_request_parts(parts: &mut Parts, scheme: &CachedScheme) -> Result<Self> {
        let sid = api::single_cookie(&parts.headers, scheme.inner.base.cookie_name())?;
        let inner = &scheme.inner;
        if let Some(record) = inner.cache.get(sid).await {
            inner.stats.hits.fetch_add(1, Ordering::Relaxed);
            return inner.base.store().admit(sid, &record);
        }
        inner.stats.misses.fetch_add(1, Ordering::Relaxed);
        scheme.read(sid).await?.keep(scheme).await
    }
}

impl Miss {
    /// The second half of a cache miss: cache the record read, unless one of this server's
    /// evictions ran since the read (it may have ended this very session: the copy is removed
    /// again, the next request reads Redis); then admit the request as the record allows.
    pub async fn keep(self, scheme: &CachedScheme) -> Result<SessionAuth> {
        let inner = &scheme.inner;
        inner.cache.insert(self.sid.clone(), self.record).await;
        if inner.evictions.load(Ordering::SeqCst) != self.seen {
            inner.cache.invalidate(&self.sid).await;
        }
        inner.base.store().admit(&self.sid, &self.record)
    }
}

impl Scheme for CachedScheme {
    type Principal = SessionAuth;

    fn users(&self) -> &Arc<Users> {
        self.inner.base.users()
    }

    async fn login(&self, user_id: u64) -> Result<Response> {
        self.inner.base.login(user_id).await
    }

    async fn refresh(&self, headers: HeaderMap, _body: Bytes) -> Result<Response> {
        // Whatever id was presented (invalidating an id that is not cached is a no-op), and on a
        // detected reuse the family's current session, which this server may hold too.
        let (resp, ended) = self.inner.base.rotate(&headers).await;
        self.evict(&ended).await;
        resp
    }

    async fn logout(&self, who: SessionAuth) -> Result<Response> {
        let sid = who.sid.clone();
        let resp = self.inner.base.logout(who).await;
        self.evict(&[sid]).await;
        resp
    }

    async fn logout_all(&self, who: SessionAuth) -> Result<Response> {
        let uid = who.uid;
        let resp = self.inner.base.logout_all(who).await;
        // This server's copies of the user's other sessions; other servers keep theirs up to T.
        self.evict(&[]).await;
        let _ = self.inner.cache.invalidate_entries_if(move |_, r| r.uid == uid);
        resp
    }

    async fn cache(&self) -> Option<CacheReading> {
        let inner = &self.inner;
        // Keyed by a copy of the session id (`to_owned`: allocated at its length; only ids Redis
        // knew are inserted, all of that length).
        let (entries, bytes) = record_cache::held(&inner.cache, SESSION_ID_LEN).await;
        Some(CacheReading {
            hits: inner.stats.hits.load(Ordering::Relaxed),
            misses: inner.stats.misses.load(Ordering::Relaxed),
            entries,
            capacity: inner.capacity,
            bytes,
            ..CacheReading::default()
        })
    }
}
