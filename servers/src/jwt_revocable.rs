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
//!   renewed on each rotation but never past the login's absolute end (`auth_time + --max-age`,
//!   which the refresh token carries; a refresh at or after it is refused). Memory grows with
//!   logged-in users (one family per login) *and* with revocations (`j:` keys).
//!
//! - `x:<fid>` → `1` (`jwt-pubsub` only): a revoked family, kept for the access-token lifetime
//!   (+ leeway) so a server that reloads its denylist finds it without scanning live families.
//!
//! Every authenticated request checks all three with **one** `MGET` (one round trip, one command).
//! Refresh is one Lua script: the presented refresh token must be its family's current one; an
//! already-rotated one (a replay of a stolen copy, or the legitimate client's after the thief
//! refreshed) revokes the family — its current refresh token and every access token it issued.
//! Logout writes the access token's and the family's current refresh token's `jti`, and marks the
//! family revoked, in one script. Store failures answer 503 within the store timeout.
//!
//! `jwt-pubsub` shares this store, family code included ([`RevocationStore::with_announce`]): the
//! same scripts then also write the family's `x:` marker and `PUBLISH` the revocation in the same
//! atomic call, so a revocation is never stored without being announced, nor announced without
//! being stored.

use std::sync::Arc;

use authbench_contract::{RefreshRequest, TokenPair};
use axum::Json;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::api::{self, Principal, Scheme};
use crate::error::{Error, Result};
use crate::id::new_sid;
use crate::jwt::{Claims, Codec, TokenType, bearer};
use crate::users::Users;

pub use crate::revocation_store::{RevocationStore, Rotation, token};

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
pub(crate) struct Ids {
    pub uid: u64,
    pub jti: String,
    pub fid: String,
    pub iat_ms: u64,
    pub exp: u64,
}

pub(crate) fn ids(claims: Claims) -> Result<Ids> {
    let uid = claims.sub.parse().map_err(|_| Error::InvalidCredential)?;
    match (claims.jti, claims.fid, claims.iat_ms) {
        (Some(jti), Some(fid), Some(iat_ms)) => Ok(Ids { uid, jti, fid, iat_ms, exp: claims.exp }),
        _ => Err(Error::InvalidCredential),
    }
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

    #[cfg(feature = "testing")]
    pub fn codec(&self) -> &Codec {
        &self.inner.codec
    }

    #[cfg(feature = "testing")]
    pub fn store(&self) -> &RevocationStore {
        &self.inner.store
    }
}

/// The pair a login or a rotation answers with; `refresh_jti` is already the family's current one.
pub(crate) fn pair(
    c: &Codec,
    uid: u64,
    fid: &str,
    refresh_jti: String,
    now_ms: u64,
    auth_time: u64,
) -> Result<Response> {
    let now = now_ms / 1000;
    let body = TokenPair {
        access_token: token(c, uid, TokenType::Access, fid, new_sid(), now_ms, auth_time)?,
        expires_in: c.capped_exp(now, c.access_ttl(), auth_time).saturating_sub(now),
        refresh_token: token(c, uid, TokenType::Refresh, fid, refresh_jti, now_ms, auth_time)?,
        token_type: authbench_contract::credential::BEARER.into(),
    };
    Ok(Json(body).into_response())
}

/// Login with a new family: one script (a `SET`; the issue time from Redis), then the pair.
pub(crate) async fn login(c: &Codec, store: &RevocationStore, uid: u64) -> Result<Response> {
    let (fid, refresh_jti) = (new_sid(), new_sid());
    let iat_ms = store.open_family(uid, &fid, &refresh_jti).await?;
    pair(c, uid, &fid, refresh_jti, iat_ms, iat_ms / 1000)
}

/// Rotate the presented refresh token (`{"refresh_token"}` body): the new pair, or 401 with the
/// rotation's outcome (a reuse revokes the family).
pub(crate) async fn refresh(
    c: &Codec,
    store: &RevocationStore,
    headers: &HeaderMap,
    body: &Bytes,
) -> std::result::Result<Response, (Error, Rotation)> {
    let parsed = api::parse_json::<RefreshRequest>(headers, body).and_then(|r: RefreshRequest| {
        let claims = c.verify_claims(&r.refresh_token, TokenType::Refresh)?;
        // The chain ends at login + --max-age: refused before the family is looked at.
        let auth_time = c.refreshable(&claims)?;
        Ok((ids(claims)?, auth_time))
    });
    let (ids, auth_time) = parsed.map_err(|e| (e, Rotation::Refused))?;
    let next = new_sid();
    let ends_at = auth_time.saturating_add(c.max_age());
    match store
        .rotate(ids.uid, &ids.fid, &ids.jti, ids.iat_ms, &next, ends_at)
        .await
        .map_err(|e| (e, Rotation::Refused))?
    {
        Rotation::Rotated { iat_ms } => {
            pair(c, ids.uid, &ids.fid, next, iat_ms, auth_time).map_err(|e| (e, Rotation::Refused))
        }
        other => Err((Error::InvalidCredential, other)),
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
        login(&self.inner.codec, &self.inner.store, user_id).await
    }

    async fn refresh(&self, headers: HeaderMap, body: Bytes) -> Result<Response> {
        refresh(&self.inner.codec, &self.inner.store, &headers, &body).await.map_err(|(e, _)| e)
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
