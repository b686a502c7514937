//! `jwt-revocable`: the JWT scheme plus server-side revocation and refresh-token rotation with
//! reuse detection (RFC 9700 §4.14.2), state in Redis.
//!
//! Tokens are [`crate::jwt`]'s, signed and verified by the same [`Codec`]; both tokens of a login
//! also carry a `jti`, the login's refresh-token family `fid`, and `iat_ms`. Redis layout (all
//! keys under the server's prefix):
//! - `j:<jti>` → `1`: a revoked token, with a TTL of that token's remaining lifetime (+ leeway).
//! - `e:<uid>` → logout-all epoch in ms: every token of the user issued at or before it is revoked;
//!   TTL the refresh lifetime (+ leeway), after which no such token can still be valid.
//! - `f:<fid>` → the family's current refresh `jti`, or `revoked`; TTL the refresh lifetime,
//!   renewed on each rotation. Memory grows with logged-in users (one family per login) *and*
//!   with revocations (`j:` keys).
//!
//! Every authenticated request checks all three with **one** `MGET` (one round trip, one command).
//! Refresh is one Lua script: the presented refresh token must be its family's current one; an
//! already-rotated one (a replay of a stolen copy, or the legitimate client's after the thief
//! refreshed) revokes the family — its current refresh token and every access token it issued.
//! Logout writes the access token's and the family's current refresh token's `jti`, and marks the
//! family revoked, in one script. Store failures answer 503 within the store timeout.

use std::sync::Arc;
use std::time::Duration;

use authbench_contract::{RefreshRequest, TokenPair};
use axum::Json;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use redis::aio::ConnectionManager;

use crate::api::{self, Principal, Scheme};
use crate::error::{Error, Result};
use crate::id::new_sid;
use crate::jwt::{ACCESS_AUDIENCE, Claims, Codec, ISSUER, LEEWAY_SECS, REFRESH_AUDIENCE, TokenType, bearer};
use crate::store::bounded;
use crate::users::Users;

/// The value of `f:<fid>` once the family is revoked.
pub const REVOKED: &str = "revoked";

/// An authenticated, unrevoked access token.
#[derive(Debug, Clone)]
pub struct RevocableAuth {
    pub uid: u64,
    pub jti: String,
    pub fid: String,
    pub exp: u64,
}

impl Principal for RevocableAuth {
    fn user_id(&self) -> u64 {
        self.uid
    }
}

/// The three ids a revocable token must carry, checked after its signature.
struct Ids {
    uid: u64,
    jti: String,
    fid: String,
    iat_ms: u64,
    exp: u64,
}

fn ids(claims: Claims) -> Result<Ids> {
    let uid = claims.sub.parse().map_err(|_| Error::InvalidCredential)?;
    match (claims.jti, claims.fid, claims.iat_ms) {
        (Some(jti), Some(fid), Some(iat_ms)) => Ok(Ids { uid, jti, fid, iat_ms, exp: claims.exp }),
        _ => Err(Error::InvalidCredential),
    }
}

/// What a refresh attempt found in the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The presented token was the family's current one; the family now holds the new one.
    Rotated,
    /// Unknown, expired, logged-out or logout-all'd: refused, nothing changed.
    Refused,
    /// An already-rotated token: the family is revoked now (reuse detection).
    ReuseDetected,
}

/// Revocations and families in Redis.
#[derive(Clone)]
pub struct RevocationStore {
    conn: ConnectionManager,
    prefix: Arc<str>,
    refresh_ttl: u64,
    /// Bound on one store call (`serve --store-timeout`); past it the request answers 503.
    timeout: Duration,
    rotate: redis::Script,
    logout: redis::Script,
}

impl RevocationStore {
    pub async fn connect(
        url: &str,
        prefix: &str,
        refresh_ttl: u64,
        timeout: Duration,
    ) -> Result<RevocationStore> {
        Ok(RevocationStore {
            conn: crate::store::connect(url, timeout).await?,
            prefix: prefix.into(),
            refresh_ttl,
            timeout,
            // KEYS: family, presented refresh jti's revocation, user epoch.
            // ARGV: presented jti, new jti, presented iat_ms, family TTL.
            rotate: redis::Script::new(
                "local cur = redis.call('GET', KEYS[1]) \
                 if not cur or cur == 'revoked' then return 0 end \
                 if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end \
                 local e = redis.call('GET', KEYS[3]) \
                 if e and tonumber(e) >= tonumber(ARGV[3]) then return 0 end \
                 if cur ~= ARGV[1] then redis.call('SET', KEYS[1], 'revoked', 'KEEPTTL') return -1 end \
                 redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[4]) return 1",
            ),
            // KEYS: access jti's revocation, family. ARGV: access TTL, leeway, `j:` key prefix.
            logout: redis::Script::new(
                "redis.call('SET', KEYS[1], '1', 'EX', ARGV[1]) \
                 local cur = redis.call('GET', KEYS[2]) \
                 if cur and cur ~= 'revoked' then \
                   local ttl = redis.call('TTL', KEYS[2]) \
                   if ttl > 0 then redis.call('SET', ARGV[3] .. cur, '1', 'EX', ttl + tonumber(ARGV[2])) end \
                   redis.call('SET', KEYS[2], 'revoked', 'KEEPTTL') \
                 end return 1",
            ),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn revoked_key(&self, jti: &str) -> String {
        format!("{}j:{jti}", self.prefix)
    }

    pub fn epoch_key(&self, uid: u64) -> String {
        format!("{}e:{uid}", self.prefix)
    }

    pub fn family_key(&self, fid: &str) -> String {
        format!("{}f:{fid}", self.prefix)
    }

    /// A new family whose current refresh token is `refresh_jti`: one `SET`.
    pub async fn open_family(&self, fid: &str, refresh_jti: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SET")
            .arg(self.family_key(fid))
            .arg(refresh_jti)
            .arg("EX")
            .arg(self.refresh_ttl)
            .clone();
        bounded(self.timeout, cmd.query_async::<()>(&mut conn)).await
    }

    /// The per-request check, exactly one `MGET` of the token's revocation, the user's epoch and
    /// the family: revoked if the `jti` is listed, the token is not newer than the epoch, or the
    /// family is revoked or gone.
    pub async fn check(&self, jti: &str, uid: u64, fid: &str, iat_ms: u64) -> Result<()> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("MGET")
            .arg(self.revoked_key(jti))
            .arg(self.epoch_key(uid))
            .arg(self.family_key(fid))
            .clone();
        let got: (Option<String>, Option<u64>, Option<String>) =
            bounded(self.timeout, cmd.query_async(&mut conn)).await?;
        match got {
            (None, epoch, Some(family)) if epoch.is_none_or(|e| e < iat_ms) && family != REVOKED => Ok(()),
            _ => Err(Error::InvalidCredential),
        }
    }

    /// Rotate a family from `presented` to `next` (one script call).
    pub async fn rotate(
        &self,
        uid: u64,
        fid: &str,
        presented: &str,
        iat_ms: u64,
        next: &str,
    ) -> Result<Rotation> {
        let mut conn = self.conn.clone();
        let mut call = self.rotate.key(self.family_key(fid));
        call.key(self.revoked_key(presented)).key(self.epoch_key(uid));
        call.arg(presented).arg(next).arg(iat_ms).arg(self.refresh_ttl);
        let r: i64 = bounded(self.timeout, call.invoke_async(&mut conn)).await?;
        Ok(match r {
            1 => Rotation::Rotated,
            -1 => Rotation::ReuseDetected,
            _ => Rotation::Refused,
        })
    }

    /// Revoke an access token (`jti`, `exp`) and its family's current refresh token; mark the
    /// family revoked (one script call).
    pub async fn logout(&self, jti: &str, exp: u64, fid: &str) -> Result<()> {
        let ttl = (exp + LEEWAY_SECS).saturating_sub(api::now_secs()).max(1);
        let mut conn = self.conn.clone();
        let mut call = self.logout.key(self.revoked_key(jti));
        call.key(self.family_key(fid));
        call.arg(ttl).arg(LEEWAY_SECS).arg(format!("{}j:", self.prefix));
        bounded(self.timeout, call.invoke_async::<i64>(&mut conn)).await.map(|_| ())
    }

    /// Log many users in at once (preloading): one family per user in one pipeline, through the
    /// same keys and token format as a login. Returns each user's access token, in order.
    pub async fn issue_many(&self, codec: &Codec, uids: &[u64]) -> Result<Vec<String>> {
        let now = now_ms();
        let mut pipe = redis::pipe();
        let mut tokens = Vec::with_capacity(uids.len());
        for &uid in uids {
            let (fid, refresh_jti) = (new_sid(), new_sid());
            pipe.cmd("SET")
                .arg(self.family_key(&fid))
                .arg(&refresh_jti)
                .arg("EX")
                .arg(self.refresh_ttl)
                .ignore();
            tokens.push(token(codec, uid, TokenType::Access, &fid, new_sid(), now)?);
        }
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(Error::Redis)?;
        Ok(tokens)
    }

    /// Revoke every token of `uid` issued until now: one `SET` of the user's epoch.
    pub async fn logout_all(&self, uid: u64) -> Result<()> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SET")
            .arg(self.epoch_key(uid))
            .arg(now_ms())
            .arg("EX")
            .arg(self.refresh_ttl + LEEWAY_SECS)
            .clone();
        bounded(self.timeout, cmd.query_async::<()>(&mut conn)).await
    }
}

/// Sign a token of family `fid` with its own `jti`, issued at `now_ms`.
pub fn token(c: &Codec, uid: u64, typ: TokenType, fid: &str, jti: String, now_ms: u64) -> Result<String> {
    let (aud, ttl) = match typ {
        TokenType::Access => (ACCESS_AUDIENCE, c.access_ttl()),
        TokenType::Refresh => (REFRESH_AUDIENCE, c.refresh_ttl()),
    };
    let iat = now_ms / 1000;
    c.sign(&Claims {
        sub: uid.to_string(),
        iat,
        exp: iat + ttl,
        iss: ISSUER.to_owned(),
        aud: aud.to_owned(),
        typ,
        jti: Some(jti),
        fid: Some(fid.to_owned()),
        iat_ms: Some(now_ms),
    })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The `jwt-revocable` scheme's state.
#[derive(Clone)]
pub struct RevocableScheme {
    inner: Arc<Inner>,
}

struct Inner {
    users: Arc<Users>,
    codec: Codec,
    store: RevocationStore,
}

impl RevocableScheme {
    pub fn new(users: Arc<Users>, codec: Codec, store: RevocationStore) -> Self {
        RevocableScheme { inner: Arc::new(Inner { users, codec, store }) }
    }

    pub fn codec(&self) -> &Codec {
        &self.inner.codec
    }

    pub fn store(&self) -> &RevocationStore {
        &self.inner.store
    }

    /// The pair a login or a rotation answers with; `refresh_jti` is already the family's current one.
    fn pair(&self, uid: u64, fid: &str, refresh_jti: String, now_ms: u64) -> Result<Response> {
        let body = TokenPair {
            access_token: token(&self.inner.codec, uid, TokenType::Access, fid, new_sid(), now_ms)?,
            expires_in: self.inner.codec.access_ttl(),
            refresh_token: token(&self.inner.codec, uid, TokenType::Refresh, fid, refresh_jti, now_ms)?,
            token_type: authbench_contract::credential::BEARER.into(),
        };
        Ok(Json(body).into_response())
    }
}

impl FromRequestParts<RevocableScheme> for RevocableAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, scheme: &RevocableScheme) -> Result<Self> {
        let token = bearer(&parts.headers)?;
        let ids = ids(scheme.inner.codec.verify_claims(token, TokenType::Access)?)?;
        scheme.inner.store.check(&ids.jti, ids.uid, &ids.fid, ids.iat_ms).await?;
        Ok(RevocableAuth { uid: ids.uid, jti: ids.jti, fid: ids.fid, exp: ids.exp })
    }
}

impl Scheme for RevocableScheme {
    type Principal = RevocableAuth;

    fn users(&self) -> &Arc<Users> {
        &self.inner.users
    }

    async fn login(&self, user_id: u64) -> Result<Response> {
        let (fid, refresh_jti, now) = (new_sid(), new_sid(), now_ms());
        self.inner.store.open_family(&fid, &refresh_jti).await?;
        self.pair(user_id, &fid, refresh_jti, now)
    }

    async fn refresh(&self, headers: HeaderMap, body: Bytes) -> Result<Response> {
        let request: RefreshRequest = api::parse_json(&headers, &body)?;
        let ids = ids(self.inner.codec.verify_claims(&request.refresh_token, TokenType::Refresh)?)?;
        let next = new_sid();
        match self.inner.store.rotate(ids.uid, &ids.fid, &ids.jti, ids.iat_ms, &next).await? {
            Rotation::Rotated => self.pair(ids.uid, &ids.fid, next, now_ms()),
            Rotation::Refused | Rotation::ReuseDetected => Err(Error::InvalidCredential),
        }
    }

    async fn logout(&self, who: RevocableAuth) -> Result<Response> {
        self.inner.store.logout(&who.jti, who.exp, &who.fid).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    async fn logout_all(&self, who: RevocableAuth) -> Result<Response> {
        self.inner.store.logout_all(who.uid).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}
