//! `session-tracked`: the session scheme with Redis server-assisted client-side caching (RESP3
//! `CLIENT TRACKING`, default mode) in front of the records.
//!
//! Each server keeps one RESP3 *tracking connection* to Redis with `CLIENT TRACKING ON`, and a
//! bounded in-process cache (moka: `--cache-capacity` records, each served for at most
//! `--cache-ttl`, both set explicitly, not redis-rs's 10k / 30 min). A cache miss reads the record
//! on the tracking connection, so Redis remembers that this server holds the key; any write to the
//! key afterwards (logout's `DEL`, logout-all, refresh's `GETDEL`, expiry, an `EXPIRE`) makes Redis
//! push an `invalidate` for it, and the server drops its copy: the revocation window across
//! servers is one push, about a millisecond.
//!
//! **Expiry semantics, stated.** Only read-only commands are tracked, so the session scheme's
//! sliding `GETEX … EX ttl` on every request cannot be kept: refreshing an expiry is a write that
//! invalidates every server's copy. Instead a miss sends `GET` + `PTTL` (one round trip, both
//! read-only, two commands); when less than half the idle TTL (`--ttl`) remains it also sends
//! `EXPIRE key ttl` and does not cache that answer (the `EXPIRE` invalidates every copy, this
//! server's too). A cache hit does not reach Redis, so a busy session's expiry is looked at once
//! per `--cache-ttl` (each miss) and refreshed about once per half TTL; it never expires while
//! used. An idle one ends between TTL/2 − `--cache-ttl` and TTL after its last request (its last
//! read of Redis may be up to `--cache-ttl` older than the request); the session scheme: exactly
//! TTL. `serve` therefore refuses a `--cache-ttl` of TTL/2 or more.
//!
//! **Failure modes, stated.**
//! - The tracking connection drops (Redis restarted, `CLIENT KILL`, network): invalidations may
//!   have been missed, so the whole cache is flushed at once and nothing is cached until a new
//!   tracking connection is up (reconnect every 100 ms); meanwhile requests are answered by the
//!   session scheme's own `GETEX` (uncached). Never stale.
//! - Redis stops answering without closing the connection (frozen, `SIGSTOP`): no invalidation
//!   can arrive, so a record cached before can be served for up to `--cache-ttl` after it was
//!   cached, even if it was deleted meanwhile; once it expires, a miss waits for Redis and
//!   answers 503 after `--store-timeout`. The stale bound is the client TTL.
//!
//! **Costs beyond the cache hit.** Each cached record costs this server ~450 B with compare's key
//! prefix (moka's entry, the key, the record: [`crate::record_cache`], measured with a counting
//! allocator; `/metrics` reports entries and their estimated bytes). Redis keeps a tracking-table
//! entry per key read by any tracking server, ~150 B each with one tracker (ad hoc, 100k keys),
//! until the key is written. Redis 7's default `tracking-table-max-keys` is 1,000,000: past it
//! Redis evicts tracked keys and pushes their invalidation (a copy dropped early, never a stale
//! one), which the 1M-session sweep level reaches. Each write to a tracked key costs Redis about 1 µs more per tracking server (DEL:
//! 0.68 → 1.66 µs with one tracker, ad hoc).
//!
//! A race between a miss and an invalidation is closed by a counter every push increments as the
//! connection reads it: a miss that saw the counter move between its read and its insert removes
//! what it inserted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Response;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::mpsc;

use crate::api::{self, Scheme};
use crate::error::{Error, Result};
use crate::metrics::CacheReading;
use crate::record_cache::{self, RecordCache};
use crate::session::{Record, SessionAuth, SessionScheme};
use crate::session_key::{SESSION_ID_LEN, is_well_formed};
use crate::redis_conn::redact_url;
use crate::users::Users;

/// Pause between two attempts to bring a lost tracking connection back.
pub const RECONNECT_DELAY: Duration = Duration::from_millis(100);

/// Counters of one server's tracked cache since it started.
#[derive(Debug, Default)]
pub struct TrackedStats {
    /// Requests answered from the cache (no Redis command).
    pub hits: AtomicU64,
    /// Requests that read Redis on the tracking connection (`GET` + `PTTL`).
    pub misses: AtomicU64,
    /// Requests answered by the session scheme's `GETEX` while tracking was down.
    pub untracked: AtomicU64,
    /// Keys Redis told this server to drop (`invalidate` pushes, one per key).
    pub invalidations: AtomicU64,
    /// Whole-cache flushes (tracking connection lost, or Redis flushed its keyspace).
    pub flushes: AtomicU64,
}

/// The `session-tracked` scheme's state.
#[derive(Clone)]
pub struct TrackedScheme {
    inner: Arc<Inner>,
}

struct Inner {
    base: SessionScheme,
    /// Redis key → record.
    cache: RecordCache,
    capacity: u64,
    /// Allocation of one of this server's Redis keys (prefix + tag + id, all alike), for the
    /// cache's estimated bytes.
    key_bytes: usize,
    /// The tracking connection and its "still connected" flag (cleared by the connection's reader
    /// the moment it sees the connection end); `None` while it is being re-established.
    tracker: RwLock<Option<(MultiplexedConnection, Arc<AtomicBool>)>>,
    /// Incremented by every push (invalidation, disconnection) as the connection reads it.
    pushes: Arc<AtomicU64>,
    stats: TrackedStats,
    client: redis::Client,
    timeout: Duration,
    ttl_secs: u64,
}

impl TrackedScheme {
    /// Connect the tracking connection to `url` (the session store's Redis) and start the task
    /// that applies its invalidations and re-establishes it when it drops. Must run inside a
    /// tokio runtime.
    pub async fn connect(
        base: SessionScheme,
        url: &str,
        ttl: Duration,
        cache_ttl: Duration,
        capacity: u64,
        timeout: Duration,
    ) -> Result<Self> {
        let failed = |source| Error::RedisConnect { url: redact_url(url), source };
        let info = url.into_connection_info().map_err(failed)?;
        let resp3 = info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(resp3)).map_err(failed)?;
        let cache = record_cache::build(capacity, cache_ttl, false);
        let key_bytes = base.store().session_key(&"0".repeat(SESSION_ID_LEN)).capacity();
        let inner = Arc::new(Inner {
            base,
            cache,
            capacity,
            key_bytes,
            tracker: RwLock::new(None),
            pushes: Arc::new(AtomicU64::new(0)),
            stats: TrackedStats::default(),
            client,
            timeout,
            ttl_secs: ttl.as_secs().max(1),
        });
        let pushes = inner.track().await.map_err(failed)?;
        tokio::spawn(maintain(Arc::downgrade(&inner), pushes));
        Ok(TrackedScheme { inner })
    }

    pub fn base(&self) -> &SessionScheme {
        &self.inner.base
    }

    pub fn stats(&self) -> &TrackedStats {
        &self.inner.stats
    }

    /// Records in the cache now (moka's count may lag pending maintenance by a little).
    pub fn cached(&self) -> u64 {
        self.inner.cache.entry_count()
    }

    /// Whether the tracking connection is up (records are cached only then).
    pub fn tracking(&self) -> bool {
        self.inner.current().is_some()
    }

    /// Drop every cached record now (the benches use it to measure the miss path).
    pub fn clear(&self) {
        self.inner.cache.invalidate_all();
    }
}

impl Inner {
    /// The tracking connection, if it is up.
    fn current(&self) -> Option<MultiplexedConnection> {
        let slot = self.tracker.read().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().filter(|(_, up)| up.load(Ordering::SeqCst)).map(|(conn, _)| conn.clone())
    }

    fn set(&self, conn: Option<(MultiplexedConnection, Arc<AtomicBool>)>) {
        *self.tracker.write().unwrap_or_else(|e| e.into_inner()) = conn;
    }

    /// Open a RESP3 connection whose pushes bump the counter and go to the returned channel,
    /// turn tracking on, and install it (flushing the cache first: it may predate a gap).
    async fn track(&self) -> redis::RedisResult<mpsc::UnboundedReceiver<PushInfo>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let pushes = self.pushes.clone();
        let up = Arc::new(AtomicBool::new(true));
        let (flag, cache) = (up.clone(), self.cache.clone());
        // Runs on the connection's reader as it parses each push, before any later reply is
        // handed to its caller: the ordering the miss path's race check relies on. A lost
        // connection empties the cache right here, not when the task below gets to it.
        let sender = move |info: PushInfo| {
            if info.kind == PushKind::Disconnection {
                flag.store(false, Ordering::SeqCst);
                cache.invalidate_all();
            }
            pushes.fetch_add(1, Ordering::SeqCst);
            tx.send(info)
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(300)))
            .set_response_timeout(Some(crate::store_bound::client_timeout(self.timeout)))
            .set_push_sender(sender);
        let mut conn = self.client.get_multiplexed_async_connection_with_config(&config).await?;
        redis::cmd("CLIENT").arg("TRACKING").arg("ON").exec_async(&mut conn).await?;
        self.flush();
        self.set(Some((conn, up)));
        Ok(rx)
    }

    fn flush(&self) {
        self.pushes.fetch_add(1, Ordering::SeqCst);
        self.cache.invalidate_all();
        self.stats.flushes.fetch_add(1, Ordering::Relaxed);
    }

    /// Apply one push: drop the named keys, or everything (a flush, or the connection is gone).
    /// Returns false when the connection is gone.
    async fn apply(&self, push: PushInfo) -> bool {
        match push.kind {
            PushKind::Invalidate => {
                for value in push.data {
                    match value {
                        Value::Array(keys) => {
                            for key in keys {
                                match redis::from_redis_value::<String>(key) {
                                    Ok(key) => {
                                        self.cache.invalidate(&key).await;
                                        self.stats.invalidations.fetch_add(1, Ordering::Relaxed);
                                    }
                                    // A key we cannot read could be any of ours: drop them all.
                                    Err(_) => self.flush(),
                                }
                            }
                        }
                        // `invalidate` with a null list: Redis flushed its keyspace.
                        _ => self.flush(),
                    }
                }
                true
            }
            PushKind::Disconnection => false,
            _ => true,
        }
    }

    /// A cache miss: `GET` + `PTTL` on the tracking connection (so Redis tracks the key for this
    /// server), an `EXPIRE` when less than half the idle TTL remains, and the record cached unless
    /// a push arrived meanwhile.
    async fn miss(&self, key: String, mut conn: MultiplexedConnection) -> Result<Record> {
        let seen = self.pushes.load(Ordering::SeqCst);
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&key).cmd("PTTL").arg(&key);
        let (raw, pttl): (Option<String>, i64) =
            crate::store_bound::bounded(self.timeout, pipe.query_async(&mut conn)).await?;
        let record: Record = serde_json::from_str(&raw.ok_or(Error::InvalidCredential)?)
            .map_err(|_| Error::InvalidCredential)?;
        let ttl_ms = self.ttl_secs as i64 * 1000;
        if pttl >= 0 && pttl < ttl_ms / 2 {
            // A write: Redis invalidates every copy of the key, this server's too. Not cached now.
            let cmd = redis::cmd("EXPIRE").arg(&key).arg(self.ttl_secs).clone();
            crate::store_bound::bounded(self.timeout, cmd.query_async::<i64>(&mut conn)).await?;
            return Ok(record);
        }
        self.cache.insert(key.clone(), record).await;
        if self.pushes.load(Ordering::SeqCst) != seen {
            // An invalidation (maybe of this key) or a disconnection was read after our GET was
            // sent: the copy may be stale. The next request reads again.
            self.cache.invalidate(&key).await;
        }
        Ok(record)
    }
}

/// Apply pushes while the tracking connection lives; when it drops, flush and reconnect. Ends
/// when the scheme is dropped.
async fn maintain(inner: Weak<Inner>, mut pushes: mpsc::UnboundedReceiver<PushInfo>) {
    loop {
        loop {
            let push = pushes.recv().await;
            let Some(inner) = inner.upgrade() else { return };
            let alive = match push {
                Some(push) => inner.apply(push).await,
                None => false,
            };
            if !alive {
                inner.set(None);
                inner.flush();
                break;
            }
        }
        pushes = loop {
            tokio::time::sleep(RECONNECT_DELAY).await;
            let Some(inner) = inner.upgrade() else { return };
            if let Ok(rx) = inner.track().await {
                break rx;
            }
        };
    }
}

impl FromRequestParts<TrackedScheme> for SessionAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, scheme: &TrackedScheme) -> Result<Self> {
        let sid = api::single_cookie(&parts.headers, scheme.inner.base.cookie_name())?;
        if !is_well_formed(sid) {
            return Err(Error::InvalidCredential);
        }
        let inner = &scheme.inner;
        let key = inner.base.store().session_key(sid);
        let tracked = inner.current();
        if let Some(record) = inner.cache.get(&key).await.filter(|_| tracked.is_some()) {
            inner.stats.hits.fetch_add(1, Ordering::Relaxed);
            return inner.base.store().admit(sid, &record);
        }
        let record = match tracked {
            Some(conn) => {
                inner.stats.misses.fetch_add(1, Ordering::Relaxed);
                inner.miss(key, conn).await?
            }
            None => {
                // Tracking is down: no copy could be kept current, so none is kept.
                inner.stats.untracked.fetch_add(1, Ordering::Relaxed);
                inner.base.store().lookup(sid).await?
            }
        };
        inner.base.store().admit(sid, &record)
    }
}

impl Scheme for TrackedScheme {
    type Principal = SessionAuth;

    fn users(&self) -> &Arc<Users> {
        self.inner.base.users()
    }

    async fn login(&self, user_id: u64) -> Result<Response> {
        self.inner.base.login(user_id).await
    }

    // Every write below also makes Redis push an invalidation to every tracking server; this
    // server drops its own copy at once as well, without waiting for the push.
    async fn refresh(&self, headers: HeaderMap, _body: Bytes) -> Result<Response> {
        // The presented id, and on a detected reuse the family's current session: this server's
        // copy goes now, not when Redis's push for the script's DEL comes back.
        let (resp, ended) = self.inner.base.rotate(&headers).await;
        for sid in &ended {
            self.inner.cache.invalidate(&self.inner.base.store().session_key(sid)).await;
        }
        resp
    }

    async fn logout(&self, who: SessionAuth) -> Result<Response> {
        let key = self.inner.base.store().session_key(&who.sid);
        let resp = self.inner.base.logout(who).await;
        self.inner.cache.invalidate(&key).await;
        resp
    }

    async fn logout_all(&self, who: SessionAuth) -> Result<Response> {
        // The presenting session's copy goes at once, as in logout; the user's other sessions by
        // Redis's push (each DEL in the script), about a millisecond later.
        let key = self.inner.base.store().session_key(&who.sid);
        let resp = self.inner.base.logout_all(who).await;
        self.inner.cache.invalidate(&key).await;
        resp
    }

    async fn cache(&self) -> Option<CacheReading> {
        let (inner, stats) = (&self.inner, &self.inner.stats);
        let (entries, bytes) = record_cache::held(&inner.cache, inner.key_bytes).await;
        let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Some(CacheReading {
            hits: count(&stats.hits),
            misses: count(&stats.misses),
            untracked: Some(count(&stats.untracked)),
            invalidations: Some(count(&stats.invalidations)),
            flushes: Some(count(&stats.flushes)),
            entries,
            capacity: inner.capacity,
            bytes,
        })
    }
}
