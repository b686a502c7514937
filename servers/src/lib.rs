//! Equivalent auth servers over one API contract: the three original designs and their variants.
//!
//! - [`api`]: the Router every scheme shares — routes, body limits, the [`api::Scheme`] trait every
//!   design implements, the shared handlers (`/healthz`, `/metrics`, login, `/api/me`) and cookie helpers. The
//!   wire contract itself (paths, cookie names, JSON bodies, the `listening on` line) is
//!   `authbench_contract`'s, shared with the load generator.
//! - [`body`]: request bodies with a read deadline, and the extractor that answers 408.
//! - [`cookie`]: stateless AES-256-GCM encrypted cookie ([`cookie::Sealer`] seals and opens).
//! - [`session`]: Redis-backed session ([`session::SessionStore`] is every Redis call).
//! - [`session_key`]: the session id (user tag + random part) and the hash-tagged key layout,
//!   one for a single Redis and a Redis Cluster.
//! - [`store_target`]: the session store's target (one Redis or a Cluster) and its one connection
//!   type.
//! - [`jwt`]: stateless access + refresh JWTs ([`jwt::Codec`] signs and verifies).
//! - [`jwt_revocable`]: JWT plus revocation in Redis (one `MGET` per request) and refresh-token
//!   rotation with reuse detection.
//! - [`revocation_store`]: the JWT variants' state in Redis — revoked `jti`s, epochs, families,
//!   the per-request `MGET` and the logout / rotation scripts (every Redis call of both).
//! - [`jwt_pubsub`]: JWT plus an in-memory denylist on every server kept current through Redis
//!   pub/sub (no Redis call per request); families and rotation are `jwt_revocable`'s.
//! - [`denylist`]: `jwt_pubsub`'s in-process list of revocations (jti, family, epoch), pruned at
//!   expiry, and whether it is known complete.
//! - [`subscriber`]: the task that subscribes, reloads the stored revocations, and marks the
//!   denylist not ready while it cannot know it — and for good should the task end or panic.
//! - [`session_cached`]: the session scheme behind an in-process moka cache (`--cache-ttl`,
//!   `--cache-capacity`): a record is served from the cache for up to T; a miss racing this
//!   server's own logout keeps no copy (an eviction generation).
//! - [`session_tracked`]: the session scheme with Redis server-assisted client-side caching
//!   (RESP3 `CLIENT TRACKING`, invalidation pushes, a bounded moka cache; stated expiry and
//!   failure semantics).
//! - [`record_cache`]: the record cache both cached schemes keep (one builder), and its entries'
//!   estimated bytes (entries × a measured per-entry cost).
//! - [`metrics`]: `GET /metrics`, the OpenMetrics exposition of a scheme's cache counters and
//!   gauges (empty for schemes without a cache), and its parser for `compare`.
//! - [`redis_conn`]: the bounded, reconnecting Redis connection `jwt_revocable` and `jwt_pubsub`
//!   use, and the redaction of a store URL.
//! - [`in_flight`]: the bound on requests in progress (`--max-in-flight`), so a burst cannot queue
//!   Redis's replies behind thousands of handlers.
//! - [`store_bound`]: the store bound (`--store-timeout`), which measures Redis, not a burst
//!   queued on the server's own runtime.
//! - [`id`]: random 128-bit ids (session ids, refresh-token ids).
//! - [`key_file`]: `--key-file` checked (32 bytes at least, not a passphrase) and the symmetric
//!   keys derived from it with HKDF, one function for the servers and the credential issuers.
//! - [`users`]: the synthetic user directory, argon2id password verification, and the login's
//!   bounds (hashing queue, timeout).
//! - [`throttle`]: failed logins counted per account and per source address (in process, or in
//!   Redis where the scheme has a store): 429 past the limit.
//! - [`kind`]: [`SchemeKind`] and its credential kind, [`JwtAlg`], [`SameSite`]: the options' basic types.
//! - [`config`]: `authbench serve` options ([`ServeArgs`]), typed at the edge.
//! - [`argv`]: those options back into the command line, for the parents that start `serve`.
//! - [`build`]: the scheme dispatch — options to the chosen scheme's Router.
//! - [`serve`]: the hyper accept loop, limits, and `serve`'s start-up.
//! - [`tls`]: `serve --tls`: rustls (aws-lc-rs), ALPN h2 + http/1.1, the certificate given or
//!   generated (rcgen), session tickets and the resumption count.
//! - [`limits`]: body, head and credential size limits; header and body read timeouts.
//! - [`linger`]: request bodies read within the limit; oversized ones drained (bounded) before 413.
//! - The processes `serve` starts (its own Redis) are `authbench_procs`'s.
//! - [`error`]: the crate's one error enum and its mapping to HTTP status + JSON.
//! - `testing` (feature `testing`, tests and `fuzz/` only): credential mutations, one copy shared by
//!   the property tests and the cargo-fuzz targets.
//! - [`facts`], [`direct`]: what a process outside the servers may rely on (below).
//!
//! Imports go one way (`tests/layout.rs` checks it): `serve` → `tls`, `build` → `config`, `argv` → the
//! schemes (`jwt_pubsub` → `subscriber` → `jwt_revocable` → `revocation_store` → `jwt`;
//! `session_cached`, `session_tracked` → `record_cache` → `session` → `session_key`, `store_target`
//! → `redis_conn`; `cookie`) → `api` → `body` → `linger`, `users`; every module → `kind`, `limits`,
//! `error`, `id`, `metrics`.
//!
//! # The face
//! The modules are private; what other crates use is named here, on one screen.
//! - `serve` and the benches: the [`Scheme`] trait, [`ServeArgs`] (and [`SERVE_COMMAND`], its
//!   subcommand), [`SchemeKind`], [`JwtAlg`], [`SameSite`], the app builder [`build()`] /
//!   [`Built`], `serve`'s start-up [`run`] / [`runtime`] and the accept loop [`serve()`] /
//!   [`ServeLimits`], [`Error`].
//! - [`facts`]: constants and readers a harness relies on (the verifier's leeway, the session id's
//!   shape, the cache's default TTL, the `/metrics` reader, URL redaction).
//! - [`direct`]: a scheme's credentials and store reached without HTTP, for `compare`'s
//!   preloading and probes: the cookie sealer, the JWT codec, the session and revocation stores,
//!   the denylist, the store's target and connection.
//! - Feature `testing` (never in a normal build): every module public as well, for the crate's
//!   white-box tests, the benches and `fuzz/`.

/// Private modules, public only under feature `testing` (the crate's own tests, the benches and
/// `fuzz/`), so that a normal build's face is the `pub use` list below.
macro_rules! private_unless_testing {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(feature = "testing")]
        pub mod $name;
        #[cfg(not(feature = "testing"))]
        mod $name;
    )*};
}

private_unless_testing!(
    api,
    argv,
    body,
    build,
    config,
    cookie,
    denylist,
    error,
    id,
    in_flight,
    jwt,
    jwt_pubsub,
    jwt_revocable,
    key_file,
    kind,
    limits,
    linger,
    metrics,
    record_cache,
    revocation_store,
    serve,
    session,
    session_cached,
    session_key,
    session_tracked,
    redis_conn,
    store_target,
    store_bound,
    subscriber,
    throttle,
    tls,
    users,
);
pub mod direct;
pub mod facts;
#[cfg(feature = "testing")]
pub mod testing;

pub use api::Scheme;
pub use argv::SERVE_COMMAND;
pub use build::{Built, build};
pub use config::{REDIS_CLUSTER_ENV, REDIS_URL_ENV, ServeArgs};
pub use error::{Error, Result};
pub use kind::{JwtAlg, SameSite, SchemeKind};
pub use serve::{ServeLimits, run, runtime, serve};
