//! `jwt-pubsub`: the JWT scheme plus an in-memory denylist on every server, kept current through
//! Redis pub/sub. No Redis call per authenticated request: the check is the signature plus a
//! lookup in [`Denylist`].
//!
//! Tokens, families and refresh-token rotation with reuse detection are `jwt-revocable`'s
//! ([`crate::jwt_revocable`]: same token format, same [`RevocationStore`] and scripts), with
//! announcements on: logout stores the access token's `jti` and the family's revocation in Redis
//! with a TTL (the token's remaining lifetime; the family's marker one access lifetime) and
//! publishes them in the same script; logout-all stores and publishes the user's epoch; a detected
//! refresh-token reuse stores and publishes the family, so its live access tokens die everywhere.
//! The server that handles a revocation also applies it to its own list at once.
//!
//! Semantics, stated: another server rejects a revoked token once the message reaches it (about a
//! pub/sub delivery, ~1 ms on loopback). A server whose subscription is down, or which is
//! (re)loading the stored revocations, answers every authenticated request 503 ([`crate::subscriber`]):
//! a missed message never lets a revoked token through. A silently dead connection is noticed
//! within one ping ([`crate::subscriber::PING_EVERY`]) plus the store timeout. Memory: the list
//! holds revocations, not users, each entry dropped once no token it matches can still be valid.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::api::{Principal, Scheme};
use crate::denylist::Denylist;
use crate::error::{Error, Result};
use crate::jwt::{Codec, TokenType, bearer};
use crate::jwt_revocable::{self as revocable, RevocationStore, Rotation};
use crate::subscriber::Subscriber;
use crate::users::Users;

/// The channel revocations are published on, under the server's key prefix.
pub fn channel(prefix: &str) -> String {
    format!("{prefix}revocations")
}

/// An authenticated access token not on the denylist.
#[derive(Debug, Clone)]
pub struct PubsubAuth {
    pub uid: u64,
    pub jti: String,
    pub fid: String,
    pub exp: u64,
}

impl Principal for PubsubAuth {
    fn user_id(&self) -> u64 {
        self.uid
    }
}

/// The `jwt-pubsub` scheme's state.
#[derive(Clone)]
pub struct PubsubScheme {
    inner: Arc<Inner>,
}

struct Inner {
    users: Arc<Users>,
    codec: Codec,
    store: RevocationStore,
    list: Arc<Denylist>,
}

impl PubsubScheme {
    /// Connect to `url` under `prefix`, subscribe, load the stored revocations and only then
    /// return (the server listens after this): an error if that does not complete within `wait`.
    pub async fn connect(
        users: Arc<Users>,
        codec: Codec,
        url: &str,
        prefix: &str,
        timeout: Duration,
        wait: Duration,
    ) -> Result<PubsubScheme> {
        let channel = channel(prefix);
        let store = RevocationStore::connect(url, prefix, codec.family_ttl(), timeout)
            .await?
            .with_announce(&channel, codec.access_ttl());
        let client = redis::Client::open(url)
            .map_err(|source| Error::RedisConnect { url: crate::redis_conn::redact_url(url), source })?;
        let list = Arc::new(Denylist::new());
        let sub = Subscriber {
            client,
            store: store.clone(),
            list: list.clone(),
            channel,
            access_ttl: codec.access_ttl(),
            timeout,
        };
        crate::subscriber::start(sub, wait).await?;
        Ok(PubsubScheme { inner: Arc::new(Inner { users, codec, store, list }) })
    }

    #[cfg(feature = "testing")]
    pub fn codec(&self) -> &Codec {
        &self.inner.codec
    }

    #[cfg(feature = "testing")]
    pub fn store(&self) -> &RevocationStore {
        &self.inner.store
    }

    /// This server's denylist.
    #[cfg(feature = "testing")]
    pub fn denylist(&self) -> &Arc<Denylist> {
        &self.inner.list
    }
}

impl FromRequestParts<PubsubScheme> for PubsubAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, scheme: &PubsubScheme) -> Result<Self> {
        let token = bearer(&parts.headers)?;
        let ids = revocable::ids(scheme.inner.codec.verify_claims(token, TokenType::Access)?)?;
        scheme.inner.list.check(&ids.jti, &ids.fid, ids.uid, ids.iat_ms)?;
        Ok(PubsubAuth { uid: ids.uid, jti: ids.jti, fid: ids.fid, exp: ids.exp })
    }
}

impl Scheme for PubsubScheme {
    type Principal = PubsubAuth;

    fn users(&self) -> &Arc<Users> {
        &self.inner.users
    }

    async fn login(&self, user_id: u64) -> Result<Response> {
        revocable::login(&self.inner.codec, &self.inner.store, user_id).await
    }

    async fn refresh(&self, headers: HeaderMap, body: Bytes) -> Result<Response> {
        match revocable::refresh(&self.inner.codec, &self.inner.store, &headers, &body).await {
            Ok(r) => Ok(r),
            Err((e, Rotation::ReuseDetected(Some(entry)))) => {
                self.inner.list.insert(entry);
                Err(e)
            }
            Err((e, _)) => Err(e),
        }
    }

    async fn logout(&self, who: PubsubAuth) -> Result<Response> {
        for entry in self.inner.store.logout(&who.jti, who.exp, &who.fid).await? {
            self.inner.list.insert(entry);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    async fn logout_all(&self, who: PubsubAuth) -> Result<Response> {
        if let Some(entry) = self.inner.store.logout_all(who.uid).await? {
            self.inner.list.insert(entry);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}
