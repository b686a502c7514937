//! Server-side session: a session id (the user's opaque tag + 128 random bits) in the cookie, the
//! record in Redis — one server or a Redis Cluster, one key layout for both ([`crate::session_key`]).
//!
//! Redis layout (all keys under the server's prefix, `{tag}` the user's hash tag):
//! - `{tag}s:<random>` → `{"uid":…,"iat":…}` with the idle TTL, refreshed by `GETEX … EX ttl` on
//!   every authenticated request: one round trip, no extra `EXPIRE`.
//! - `{tag}u:<uid>` → that user's session ids (random parts), a sorted set scored by login time
//!   (µs, Redis's clock), for logout-all; its TTL is the absolute lifetime from the newest login. At most
//!   `--max-sessions` members: a login beyond it ends the oldest, and each login prunes members
//!   that are gone, so logout-all's script never walks an unbounded index.
//! - `{tag}r:<random>` → a rotated-away id's `<uid>:<family>` (reuse detection), `{tag}f:<family>`
//!   → the family's current id: written by refresh only (see [`ROTATE_LUA`]).
//!
//! A new id on every login and refresh (no fixation); an id that is not in Redis is never adopted.
//! Every store call is bounded by the store timeout (`serve --store-timeout`, default
//! [`STORE_TIMEOUT`]): a dead Redis gives 503 within about that long, and the multiplexed
//! `ConnectionManager` reconnects by itself when Redis is back.

use std::sync::Arc;
use std::time::Duration;

use authbench_contract::CookieIssued;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::api::{self, Principal, Scheme};
use crate::error::{Error, Result};
use crate::kind::SameSite;
use crate::session_key::{Layout, check_prefix, is_well_formed, key_slot};
use crate::store_target::{StoreConn, StoreTarget};
use crate::users::Users;

/// Name of the session-id cookie: the contract's session-cookie name.
pub const COOKIE_NAME: &str = authbench_contract::credential::SESSION_COOKIE;
/// Default upper bound on one store operation as the client sees it (`serve --store-timeout`).
pub const STORE_TIMEOUT: Duration = Duration::from_millis(400);

/// The record kept in Redis per session.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub uid: u64,
    pub iat: u64,
}

/// A request's authenticated session.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    pub sid: String,
    pub uid: u64,
}

impl Principal for SessionAuth {
    fn user_id(&self) -> u64 {
        self.uid
    }
}

/// How long a `--durable-logout` logout waits for one replica to acknowledge the delete (`WAIT 1`)
/// before answering 503; inside the store timeout (default [`STORE_TIMEOUT`]).
pub const DURABLE_WAIT: Duration = Duration::from_millis(250);

/// A session's absolute lifetime unless `serve --max-age` says otherwise: however active, a
/// session is refused this long after it was created (OWASP's absolute timeout).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Session records in Redis (one server or a Cluster, one key layout: see [`crate::session_key`]).
/// Also used by the harness to preload sessions through the same code.
#[derive(Clone)]
pub struct SessionStore {
    conn: StoreConn,
    layout: Layout,
    ttl_secs: u64,
    /// Absolute lifetime of a session, and the TTL a login gives the user's session index: every
    /// session a request can still use was created less than this long ago, when its index was
    /// given this TTL, so logout-all always finds it. (An index with the idle TTL would expire
    /// under a session kept alive by its requests, which logout-all would then miss.)
    max_age_secs: u64,
    /// Bound on one store call; past it the request answers 503.
    timeout: Duration,
    logout_all: redis::Script,
    login: redis::Script,
    rotate: redis::Script,
    /// Sessions one user may hold (`serve --max-sessions`); a login beyond it ends the oldest.
    max_sessions: u64,
    /// `--durable-logout`: logout and logout-all wait for one replica (`WAIT 1 <ms>`), sent in the
    /// same pipeline as the delete so that it reaches that key's primary.
    durable_wait: Option<Duration>,
}

/// Default of `serve --max-sessions`: sessions one user may hold at once; a login beyond it ends
/// the user's oldest session.
pub const DEFAULT_MAX_SESSIONS: u64 = 32;

/// The logout-all script: KEYS[1] the user's index, ARGV[1] the key prefix of the user's sessions
/// (same hash tag, same slot).
const LOGOUT_ALL_LUA: &str = "local ids = redis.call('ZRANGE', KEYS[1], 0, -1) \
     for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id) end \
     redis.call('DEL', KEYS[1]) return #ids";

/// The login script, one round trip: store the record, add it to the user's index (scored by login
/// time in microseconds, Redis's clock: logins in the same second keep their order), prune the
/// index of sessions that are gone (expired, logged out) or past the absolute lifetime, end the
/// oldest beyond the cap, and give the index the absolute lifetime.
/// KEYS[1] the new session, KEYS[2] the index. ARGV: record, idle TTL, member, (unused), max age
/// (s), cap, the user's session-key prefix. Pruning reads each member once (`EXISTS`): bounded by
/// the cap, so a login's cost in Redis never grows with the user's history.
const LOGIN_LUA: &str = "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) \
     local t = redis.call('TIME') \
     local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) \
     local cutoff = now - tonumber(ARGV[5]) * 1000000 \
     local all = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES') \
     for i = 1, #all, 2 do \
       local m, at = all[i], tonumber(all[i + 1]) \
       if at <= cutoff or redis.call('EXISTS', ARGV[7] .. m) == 0 then \
         redis.call('DEL', ARGV[7] .. m) redis.call('ZREM', KEYS[2], m) end \
     end \
     redis.call('ZADD', KEYS[2], string.format('%d', now), ARGV[3]) \
     local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6]) \
     if over > 0 then \
       for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do \
         redis.call('DEL', ARGV[7] .. m) redis.call('ZREM', KEYS[2], m) end \
     end \
     redis.call('EXPIRE', KEYS[2], ARGV[5]) return 1";

/// The rotation script, one atomic step: the old id's end, the new id's start and the index
/// change in one script, so a logout-all can never run between them and miss the new id (it did
/// when rotation was a `GETDEL` and then a `MULTI`: a thief refreshing in a loop survived the
/// victim's logout-all in about a third of tries).
/// KEYS[1] the presented session, KEYS[2] the new session, KEYS[3] the presented session's
/// tombstone. ARGV: now (s), max age (s), idle TTL (s), presented member, new member, the user's
/// key prefix `<prefix>{<tag>}` (the index, family and session keys are built on it: one slot).
/// Returns the user id (a string) on success; 0 when refused (unknown, gone, or past the absolute
/// lifetime, which it also ends); `{-1, <member>}` when the presented id had already been rotated
/// away: a copy is being replayed, so the family's current session (`<member>`, empty if none)
/// ends too (reuse detection, RFC 9700 §4.14.2, as the JWT variants do). The member is returned
/// so that a server with a cache of its own drops its copy of that session at once.
/// The new record keeps the login's `iat`, so the absolute lifetime counts from the login however
/// often the session is refreshed, and names its family (the first session's random part); the
/// new member keeps the old one's place (score) in the index. The
/// tombstone (`<uid>:<family>`) lives as long as the rotated-away session could have.
const ROTATE_LUA: &str = "local raw = redis.call('GET', KEYS[1]) \
     if not raw then \
       local t = redis.call('GET', KEYS[3]) \
       if not t then return 0 end \
       local tuid, fam = string.match(t, '^(%d+):(%x+)$') \
       if not fam then return 0 end \
       local fk = ARGV[6] .. 'f:' .. fam \
       local cur = redis.call('GET', fk) \
       if cur then redis.call('DEL', ARGV[6] .. 's:' .. cur) \
         redis.call('ZREM', ARGV[6] .. 'u:' .. tuid, cur) end \
       redis.call('DEL', fk, KEYS[3]) return {-1, cur or ''} end \
     local uid = string.match(raw, '\"uid\":(%d+)') \
     local iat = string.match(raw, '\"iat\":(%d+)') \
     if not uid or not iat then return 0 end \
     local index = ARGV[6] .. 'u:' .. uid \
     local score = redis.call('ZSCORE', index, ARGV[4]) or string.format('%d', tonumber(iat) * 1000000) \
     redis.call('DEL', KEYS[1]) redis.call('ZREM', index, ARGV[4]) \
     local left = tonumber(iat) + tonumber(ARGV[2]) - tonumber(ARGV[1]) \
     if left <= 0 then return 0 end \
     local fam = string.match(raw, '\"fam\":\"(%x+)\"') or ARGV[4] \
     local rec = '{\"uid\":' .. uid .. ',\"iat\":' .. iat .. ',\"fam\":\"' .. fam .. '\"}' \
     local ttl = math.min(tonumber(ARGV[3]), left) \
     redis.call('SET', KEYS[2], rec, 'EX', ttl) \
     redis.call('ZADD', index, score, ARGV[5]) \
     redis.call('SET', ARGV[6] .. 'f:' .. fam, ARGV[5], 'EX', left) \
     redis.call('SET', KEYS[3], uid .. ':' .. fam, 'EX', ttl) \
     return uid";

/// What a refresh found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotated {
    /// The presented session was live: it is gone and `new` replaces it, for `uid`.
    New { uid: u64, new: String },
    /// Unknown, gone, or past the absolute lifetime: refused.
    Refused,
    /// The presented id had been rotated away already: a copy is being replayed, and the family's
    /// current session (`ended`, if it had one) was ended (reuse detection). Refused.
    ReuseDetected { ended: Option<String> },
}

impl SessionStore {
    /// Connect with a multiplexed, reconnecting connection, each store call bounded by `timeout`
    /// (the server's: [`STORE_TIMEOUT`] unless `serve --store-timeout` says otherwise).
    pub async fn connect(url: &str, prefix: &str, ttl: Duration, timeout: Duration) -> Result<SessionStore> {
        Self::connect_to(&StoreTarget::Single(url.to_owned()), prefix, ttl, timeout).await
    }

    /// [`connect`](Self::connect) to one Redis or a Cluster.
    pub async fn connect_to(
        target: &StoreTarget,
        prefix: &str,
        ttl: Duration,
        timeout: Duration,
    ) -> Result<SessionStore> {
        Self::connect_with(target, prefix, ttl, timeout).await
    }

    /// Connect for bulk work (preloading a million sessions in large pipelines), where one reply
    /// may legitimately take seconds; the request path keeps [`connect`](Self::connect)'s bound.
    pub async fn connect_bulk(url: &str, prefix: &str, ttl: Duration) -> Result<SessionStore> {
        Self::connect_bulk_to(&StoreTarget::Single(url.to_owned()), prefix, ttl).await
    }

    /// [`connect_bulk`](Self::connect_bulk) to one Redis or a Cluster.
    pub async fn connect_bulk_to(target: &StoreTarget, prefix: &str, ttl: Duration) -> Result<SessionStore> {
        Self::connect_with(target, prefix, ttl, Duration::from_secs(60)).await
    }

    async fn connect_with(
        target: &StoreTarget,
        prefix: &str,
        ttl: Duration,
        response_timeout: Duration,
    ) -> Result<SessionStore> {
        check_prefix(prefix)?;
        let mut conn = StoreConn::connect(target, response_timeout).await?;
        // The tag key is shared by every server on this store and prefix: the first writes it.
        let key = Layout::tag_key_key(prefix);
        let failed = |source| Error::RedisConnect { url: target.redacted(), source };
        let _: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(Layout::random_tag_key())
            .arg("NX")
            .query_async(&mut conn)
            .await
            .map_err(failed)?;
        let tag_key: String = redis::cmd("GET").arg(&key).query_async(&mut conn).await.map_err(failed)?;
        Ok(SessionStore {
            conn,
            layout: Layout::new(prefix, tag_key.as_bytes())?,
            ttl_secs: ttl.as_secs().max(1),
            max_age_secs: DEFAULT_MAX_AGE.as_secs().max(ttl.as_secs()),
            timeout: response_timeout,
            logout_all: redis::Script::new(LOGOUT_ALL_LUA),
            login: redis::Script::new(LOGIN_LUA),
            rotate: redis::Script::new(ROTATE_LUA),
            max_sessions: DEFAULT_MAX_SESSIONS,
            durable_wait: None,
        })
    }

    /// Make logout and logout-all wait for one replica's acknowledgement (`--durable-logout`);
    /// one that does not come within `wait` answers 503.
    pub fn with_durable_logout(mut self, wait: Option<Duration>) -> SessionStore {
        self.durable_wait = wait;
        self
    }

    /// Set the absolute lifetime (`serve --max-age`; never below the idle TTL).
    pub fn with_max_age(mut self, max_age: Duration) -> SessionStore {
        self.max_age_secs = max_age.as_secs().max(self.ttl_secs);
        self
    }

    /// Cap the sessions one user may hold (`serve --max-sessions`, at least 1).
    pub fn with_max_sessions(mut self, cap: u64) -> SessionStore {
        self.max_sessions = cap.max(1);
        self
    }

    pub fn max_age_secs(&self) -> u64 {
        self.max_age_secs
    }

    /// The store's one multiplexed connection (the login throttle shares it).
    pub fn conn(&self) -> &StoreConn {
        &self.conn
    }

    /// The request's session from the record found for `sid` (in Redis or a cache): refused
    /// (401) once older than the absolute lifetime. Every session scheme's extractor ends here.
    pub fn admit(&self, sid: &str, record: &Record) -> Result<SessionAuth> {
        if api::now_secs().saturating_sub(record.iat) >= self.max_age_secs {
            return Err(Error::InvalidCredential);
        }
        Ok(SessionAuth { sid: sid.to_owned(), uid: record.uid })
    }

    pub fn prefix(&self) -> &str {
        self.layout.prefix()
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The Redis key of session `sid` (public so a measurement can sample its memory).
    pub fn session_key(&self, sid: &str) -> String {
        self.layout.session_key(sid)
    }

    /// The Redis key of user `uid`'s session index (public for the same reason).
    pub fn user_key(&self, uid: u64) -> String {
        self.layout.user_key(uid)
    }

    /// Run one store call under the timeout; any failure is "store unavailable", never a 500.
    /// A failure also tells the connection (a Cluster one is rebuilt: see [`StoreConn::failed`]).
    async fn bounded<T>(&self, fut: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
        crate::store_bound::bounded(self.timeout, fut).await.inspect_err(|_| self.conn.failed())
    }

    fn record(uid: u64) -> String {
        serde_json::to_string(&Record { uid, iat: api::now_secs() }).expect("record serializes")
    }

    /// A fresh user's first session as plain commands (preloading only: nothing to prune or cap).
    fn create_pipe(&self, pipe: &mut redis::Pipeline, uid: u64, sid: &str) {
        let user_key = self.user_key(uid);
        pipe.cmd("SET")
            .arg(self.session_key(sid))
            .arg(Self::record(uid))
            .arg("EX")
            .arg(self.ttl_secs)
            .ignore();
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        pipe.cmd("ZADD").arg(&user_key).arg(micros).arg(Layout::member(sid)).ignore();
        pipe.cmd("EXPIRE").arg(&user_key).arg(self.max_age_secs).ignore();
    }

    /// Create a session for `uid`: one script in the user's slot (record, index, pruning, cap).
    /// Returns the new id.
    pub async fn create(&self, uid: u64) -> Result<String> {
        let sid = self.layout.new_session_id(uid);
        let (tag, _) = Layout::split(&sid).expect("a new id is well formed");
        let mut call = self.login.key(self.session_key(&sid));
        call.key(self.user_key(uid));
        call.arg(Self::record(uid))
            .arg(self.ttl_secs)
            .arg(Layout::member(&sid))
            .arg(api::now_secs())
            .arg(self.max_age_secs)
            .arg(self.max_sessions)
            .arg(self.layout.session_key_prefix(tag));
        let mut conn = self.conn.clone();
        self.bounded(call.invoke_async::<i64>(&mut conn)).await?;
        Ok(sid)
    }

    /// Create sessions for many users (preloading). Returns the ids, in `uids`' order. On a
    /// single Redis one pipeline; on a Cluster one pipeline per slot (a pipeline never spans
    /// slots), sent concurrently over the multiplexed connection.
    pub async fn create_many(&self, uids: impl IntoIterator<Item = u64>) -> Result<Vec<String>> {
        let uids: Vec<u64> = uids.into_iter().collect();
        let sids: Vec<String> = uids.iter().map(|&uid| self.layout.new_session_id(uid)).collect();
        let mut pipes: Vec<redis::Pipeline> = Vec::new();
        match &self.conn {
            StoreConn::Single(_) => {
                let mut pipe = redis::pipe();
                for (&uid, sid) in uids.iter().zip(&sids) {
                    self.create_pipe(&mut pipe, uid, sid);
                }
                pipes.push(pipe);
            }
            StoreConn::Cluster(_) => {
                let mut by_slot: std::collections::BTreeMap<u16, redis::Pipeline> = Default::default();
                for (&uid, sid) in uids.iter().zip(&sids) {
                    let slot = key_slot(&self.user_key(uid));
                    self.create_pipe(by_slot.entry(slot).or_insert_with(redis::pipe), uid, sid);
                }
                pipes.extend(by_slot.into_values());
            }
        }
        let calls = pipes.iter().map(|pipe| {
            let mut conn = self.conn.clone();
            async move { pipe.query_async::<()>(&mut conn).await }
        });
        for result in futures::future::join_all(calls).await {
            result.map_err(Error::Redis)?;
        }
        Ok(sids)
    }

    /// Look a session up and refresh its idle expiry: exactly one `GETEX`.
    pub async fn lookup(&self, sid: &str) -> Result<Record> {
        if !is_well_formed(sid) {
            return Err(Error::InvalidCredential);
        }
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("GETEX").arg(self.session_key(sid)).arg("EX").arg(self.ttl_secs).clone();
        let raw: Option<String> = self.bounded(cmd.query_async(&mut conn)).await?;
        let raw = raw.ok_or(Error::InvalidCredential)?;
        serde_json::from_str(&raw).map_err(|_| Error::InvalidCredential)
    }

    /// Replace a session by a new one for the same user, in one script and one round trip: the
    /// old id is gone from then on, the new one keeps the login's time (absolute lifetime), and a
    /// replay of an id rotated away before ends the family (see [`ROTATE_LUA`]).
    pub async fn rotate(&self, sid: &str) -> Result<Rotated> {
        let Some((tag, _)) = Layout::split(sid) else {
            return Err(Error::InvalidCredential);
        };
        // Same user, same tag: the new id differs only in its random part.
        let new = format!("{tag}{}", crate::id::new_sid());
        let mut call = self.rotate.key(self.session_key(sid));
        call.key(self.session_key(&new)).key(self.layout.tombstone_key(sid));
        call.arg(api::now_secs())
            .arg(self.max_age_secs)
            .arg(self.ttl_secs)
            .arg(Layout::member(sid))
            .arg(Layout::member(&new))
            .arg(self.layout.tag_prefix(tag));
        let mut conn = self.conn.clone();
        let got: redis::Value = self.bounded(call.invoke_async(&mut conn)).await?;
        Ok(match got {
            redis::Value::Array(reply) if matches!(reply.first(), Some(redis::Value::Int(-1))) => {
                let ended = match reply.get(1) {
                    Some(redis::Value::BulkString(m)) if !m.is_empty() => {
                        std::str::from_utf8(m).ok().map(|m| format!("{tag}{m}"))
                    }
                    _ => None,
                };
                Rotated::ReuseDetected { ended }
            }
            redis::Value::BulkString(b) => match std::str::from_utf8(&b).ok().and_then(|u| u.parse().ok()) {
                Some(uid) => Rotated::New { uid, new },
                None => Rotated::Refused,
            },
            _ => Rotated::Refused,
        })
    }

    /// Append `WAIT 1 <ms>` when logout is durable: it follows the delete to that key's primary.
    fn durable(&self, pipe: &mut redis::Pipeline) -> bool {
        match self.durable_wait {
            Some(wait) => {
                pipe.cmd("WAIT").arg(1).arg(wait.as_millis() as u64);
                true
            }
            None => false,
        }
    }

    /// The replica count `WAIT` answered, last in `replies`: 0 means the delete is not known to
    /// be on a replica, and the client is told so (503).
    fn acknowledged(replies: &[redis::Value]) -> Result<()> {
        match replies.last() {
            Some(redis::Value::Int(n)) if *n >= 1 => Ok(()),
            _ => Err(Error::StoreUnavailable),
        }
    }

    /// End one session.
    pub async fn delete(&self, sid: &str, uid: u64) -> Result<()> {
        let Some((tag, _)) = Layout::split(sid) else {
            return Err(Error::InvalidCredential);
        };
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(self.session_key(sid)).ignore();
        pipe.cmd("ZREM").arg(self.layout.user_key_tagged(tag, uid)).arg(Layout::member(sid)).ignore();
        let mut conn = self.conn.clone();
        if self.durable(&mut pipe) {
            let replies: Vec<redis::Value> = self.bounded(pipe.query_async(&mut conn)).await?;
            return Self::acknowledged(&replies);
        }
        pipe.atomic();
        self.bounded(pipe.query_async::<()>(&mut conn)).await
    }

    /// End every session of a user, atomically (one script in the user's slot). `sid` is the
    /// session asking: its tag names the user's slot.
    pub async fn delete_all(&self, sid: &str, uid: u64) -> Result<u64> {
        let Some((tag, _)) = Layout::split(sid) else {
            return Err(Error::InvalidCredential);
        };
        let index = self.layout.user_key_tagged(tag, uid);
        let sessions = self.layout.session_key_prefix(tag);
        let mut conn = self.conn.clone();
        if self.durable_wait.is_some() {
            let mut pipe = redis::pipe();
            pipe.cmd("EVAL").arg(LOGOUT_ALL_LUA).arg(1).arg(&index).arg(&sessions);
            self.durable(&mut pipe);
            let replies: Vec<redis::Value> = self.bounded(pipe.query_async(&mut conn)).await?;
            Self::acknowledged(&replies)?;
            return match replies.first() {
                Some(redis::Value::Int(n)) => Ok(*n as u64),
                _ => Err(Error::StoreUnavailable),
            };
        }
        let mut call = self.logout_all.key(index);
        call.arg(sessions);
        self.bounded(call.invoke_async(&mut conn)).await
    }
}

/// The session scheme's state.
#[derive(Clone)]
pub struct SessionScheme {
    inner: Arc<Inner>,
}

struct Inner {
    users: Arc<Users>,
    store: SessionStore,
    same_site: SameSite,
    /// [`COOKIE_NAME`], or over HTTPS its `__Host-` form (see [`SessionScheme::over_tls`]).
    cookie: &'static str,
}

impl SessionScheme {
    pub fn new(users: Arc<Users>, store: SessionStore, same_site: SameSite) -> Self {
        SessionScheme { inner: Arc::new(Inner { users, store, same_site, cookie: COOKIE_NAME }) }
    }

    /// Served over HTTPS (`serve --tls`): the cookie is `__Host-ab_sid`, with `Secure`.
    pub fn over_tls(mut self, tls: bool) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("set before the scheme is shared");
        inner.cookie = authbench_contract::CredentialKind::SessionCookie.cookie_name_over(tls).expect("a cookie kind");
        self
    }

    /// The name of the session cookie this server issues and reads.
    pub fn cookie_name(&self) -> &'static str {
        self.inner.cookie
    }

    pub fn store(&self) -> &SessionStore {
        &self.inner.store
    }

    /// `POST /auth/refresh`: rotate the presented session. Also returns the session ids this
    /// ended — the presented one, and on a detected reuse the family's current one — so that the
    /// cached variants drop their own copies of them at once.
    pub async fn rotate(&self, headers: &HeaderMap) -> (Result<Response>, Vec<String>) {
        let sid = match api::single_cookie(headers, self.inner.cookie) {
            Ok(sid) => sid,
            Err(e) => return (Err(e), Vec::new()),
        };
        let mut ended = vec![sid.to_owned()];
        let answer = match self.inner.store.rotate(sid).await {
            Ok(Rotated::New { new, .. }) => Ok(self.issued_response(new)),
            Ok(Rotated::Refused) => Err(Error::InvalidCredential),
            Ok(Rotated::ReuseDetected { ended: current }) => {
                ended.extend(current);
                Err(Error::InvalidCredential)
            }
            Err(e) => Err(e),
        };
        (answer, ended)
    }

    fn issued_response(&self, sid: String) -> Response {
        // A browser-session cookie: the server, not the browser, enforces the idle expiry.
        let cookie = api::cookie_attrs(self.inner.cookie, sid, self.inner.same_site, None);
        let body = CookieIssued { expires_in: self.inner.store.ttl_secs, token_type: "session".into() };
        api::with_cookie(StatusCode::OK, &cookie, Some(body))
    }
}

impl FromRequestParts<SessionScheme> for SessionAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, scheme: &SessionScheme) -> Result<Self> {
        let sid = api::single_cookie(&parts.headers, scheme.inner.cookie)?;
        let record = scheme.inner.store.lookup(sid).await?;
        scheme.inner.store.admit(sid, &record)
    }
}

impl Scheme for SessionScheme {
    type Principal = SessionAuth;

    fn users(&self) -> &Arc<Users> {
        &self.inner.users
    }

    async fn login(&self, user_id: u64) -> Result<Response> {
        let sid = self.inner.store.create(user_id).await?;
        Ok(self.issued_response(sid))
    }

    async fn refresh(&self, headers: HeaderMap, _body: Bytes) -> Result<Response> {
        self.rotate(&headers).await.0
    }

    async fn logout(&self, who: SessionAuth) -> Result<Response> {
        self.inner.store.delete(&who.sid, who.uid).await?;
        let removal = api::removal_cookie(self.inner.cookie, self.inner.same_site);
        Ok(api::with_cookie(StatusCode::NO_CONTENT, &removal, None))
    }

    async fn logout_all(&self, who: SessionAuth) -> Result<Response> {
        self.inner.store.delete_all(&who.sid, who.uid).await?;
        let removal = api::removal_cookie(self.inner.cookie, self.inner.same_site);
        Ok(api::with_cookie(StatusCode::NO_CONTENT, &removal, None))
    }
}
