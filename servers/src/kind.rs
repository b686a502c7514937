//! The basic types of a server's options: which scheme ([`SchemeKind`], and the credential kind
//! it issues), the JWT signature algorithm and the cookies' `SameSite`. Every module may use them;
//! they use nothing of the crate.

use authbench_contract::CredentialKind;
use clap::ValueEnum;

/// Which auth design a server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemeKind {
    /// Stateless: the user's claims sealed in an AES-256-GCM encrypted cookie.
    Cookie,
    /// Server-side: a random session id in the cookie, the record in Redis.
    Session,
    /// Stateless: short-lived signed access token plus a rotating refresh token.
    Jwt,
    /// JWT plus revocation in Redis: `jti` on both tokens, one MGET per request (revoked jti,
    /// logout-all epoch, refresh family); refresh rotation with reuse detection.
    #[serde(rename = "jwt-revocable")]
    #[value(name = "jwt-revocable")]
    JwtRevocable,
    /// JWT plus an in-memory denylist on every server, kept current through Redis pub/sub: no Redis
    /// call per request; 503 while the subscription is down or reloading; rotation as jwt-revocable.
    #[serde(rename = "jwt-pubsub")]
    #[value(name = "jwt-pubsub")]
    JwtPubsub,
    /// The session scheme with an in-process cache (moka) in front of Redis: a record is served
    /// from the cache for up to --cache-ttl, so another server's logout takes up to that long here.
    #[serde(rename = "session-cached")]
    #[value(name = "session-cached")]
    SessionCached,
    /// The session scheme with Redis server-assisted client-side caching (RESP3 CLIENT TRACKING):
    /// Redis pushes an invalidation when a record changes, so another server's logout reaches this
    /// one in about a millisecond. Idle expiry refreshed only when under half of --ttl remains
    /// (not on every request); a lost tracking connection flushes the cache; with Redis frozen a
    /// copy is served for at most --cache-ttl.
    #[serde(rename = "session-tracked")]
    #[value(name = "session-tracked")]
    SessionTracked,
}

impl SchemeKind {
    /// The three original schemes: compare's default set.
    pub const ORIGINAL: [SchemeKind; 3] = [SchemeKind::Cookie, SchemeKind::Session, SchemeKind::Jwt];
    /// Every scheme (`compare --schemes all`).
    pub const ALL: [SchemeKind; 7] = [
        SchemeKind::Cookie,
        SchemeKind::Session,
        SchemeKind::Jwt,
        SchemeKind::JwtRevocable,
        SchemeKind::JwtPubsub,
        SchemeKind::SessionCached,
        SchemeKind::SessionTracked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SchemeKind::Cookie => "cookie",
            SchemeKind::Session => "session",
            SchemeKind::Jwt => "jwt",
            SchemeKind::JwtRevocable => "jwt-revocable",
            SchemeKind::JwtPubsub => "jwt-pubsub",
            SchemeKind::SessionCached => "session-cached",
            SchemeKind::SessionTracked => "session-tracked",
        }
    }

    /// Whether the scheme keeps state in Redis (and so takes `--redis-url` / `--redis-prefix`).
    pub fn uses_store(self) -> bool {
        matches!(
            self,
            SchemeKind::Session
                | SchemeKind::JwtRevocable
                | SchemeKind::JwtPubsub
                | SchemeKind::SessionCached
                | SchemeKind::SessionTracked
        )
    }

    /// Whether the scheme's store runs on a Redis Cluster (`serve --redis-cluster`): its keys
    /// and commands never cross slots. `jwt-revocable`'s logout script spans slots, and
    /// `session-tracked` refuses one (its tracking connection follows one node), so no.
    pub fn cluster_store(self) -> bool {
        matches!(self, SchemeKind::Session | SchemeKind::SessionCached)
    }

    /// The original scheme a variant builds on (itself for the originals): same credential, same
    /// key material.
    pub fn parent(self) -> SchemeKind {
        match self {
            SchemeKind::JwtRevocable | SchemeKind::JwtPubsub => SchemeKind::Jwt,
            SchemeKind::SessionCached | SchemeKind::SessionTracked => SchemeKind::Session,
            s => s,
        }
    }

    /// The kind of credential the scheme issues: all a client (the load generator) needs to know.
    pub fn credential(self) -> CredentialKind {
        match self {
            SchemeKind::Cookie => CredentialKind::SealedCookie,
            SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked => {
                CredentialKind::SessionCookie
            }
            SchemeKind::Jwt | SchemeKind::JwtRevocable | SchemeKind::JwtPubsub => CredentialKind::Bearer,
        }
    }
}

impl std::fmt::Display for SchemeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// JWT signature algorithm. Pinned: a token whose header names another algorithm is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum JwtAlg {
    /// HMAC-SHA256 with a 256-bit random secret.
    #[default]
    #[value(name = "HS256")]
    Hs256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
    /// ECDSA P-256 with SHA-256.
    #[value(name = "ES256")]
    Es256,
    /// RSA PKCS#1 v1.5 with SHA-256, 2048-bit key.
    #[value(name = "RS256")]
    Rs256,
}

impl JwtAlg {
    pub fn algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            JwtAlg::Hs256 => jsonwebtoken::Algorithm::HS256,
            JwtAlg::EdDsa => jsonwebtoken::Algorithm::EdDSA,
            JwtAlg::Es256 => jsonwebtoken::Algorithm::ES256,
            JwtAlg::Rs256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

/// `SameSite` attribute of the credential cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SameSite {
    #[default]
    Lax,
    Strict,
}
