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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::api::{self, Scheme};
use crate::error::Result;
use crate::metrics::CacheReading;
use crate::record_cache::{self, RecordCache};
use crate::session::{COOKIE_NAME, SessionAuth, SessionScheme};
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
}

impl CachedScheme {
    pub fn new(base: SessionScheme, ttl: Duration, capacity: u64) -> Self {
        let cache = record_cache::build(capacity, ttl, true);
        CachedScheme { inner: Arc::new(Inner { base, cache, capacity, stats: CacheStats::default() }) }
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
        let sid = api::single_cookie(&parts.headers, COOKIE_NAME)?;
        let inner = &scheme.inner;
        if let Some(record) = inner.cache.get(sid).await {
            inner.stats.hits.fetch_add(1, Ordering::Relaxed);
            return inner.base.store().admit(sid, &record);
        }
        inner.stats.misses.fetch_add(1, Ordering::Relaxed);
        let record = inner.base.store().lookup(sid).await?;
        inner.cache.insert(sid.to_owned(), record).await;
        inner.base.store().admit(sid, &record)
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
        for sid in &ended {
            self.inner.cache.invalidate(sid).await;
        }
        resp
    }

    async fn logout(&self, who: SessionAuth) -> Result<Response> {
        let sid = who.sid.clone();
        let resp = self.inner.base.logout(who).await;
        self.inner.cache.invalidate(&sid).await;
        resp
    }

    async fn logout_all(&self, who: SessionAuth) -> Result<Response> {
        let uid = who.uid;
        let resp = self.inner.base.logout_all(who).await;
        // This server's copies of the user's other sessions; other servers keep theirs up to T.
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
