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
//! - [`store_conn`]: the store's target (one Redis or a Cluster) and its one connection type.
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
//! - [`store`]: the bounded, reconnecting connection to one Redis (session store, JWT variants).
//! - [`store_io`]: the thread every store connection's I/O runs on, apart from the request
//!   workers, so a burst of requests cannot delay Redis's replies past the store bound.
//! - [`id`]: random 128-bit ids (session ids, refresh-token ids).
//! - [`key_file`]: `--key-file` checked (32 bytes at least, not a passphrase) and the symmetric
//!   keys derived from it with HKDF, one function for the servers and the credential issuers.
//! - [`users`]: the synthetic user directory, argon2id password verification, and the login's
//!   bounds (hashing queue, timeout).
//! - [`throttle`]: failed logins counted per account and per source address (in process, or in
//!   Redis where the scheme has a store): 429 past the limit.
//! - [`config`]: `authbench serve` options, typed at the edge; [`SchemeKind`] and its credential kind.
//! - [`build`]: the scheme dispatch — options to the chosen scheme's Router.
//! - [`serve`]: the hyper accept loop, limits, and `serve`'s start-up.
//! - [`limits`]: body and credential size limits.
//! - [`linger`]: request bodies read within the limit; oversized ones drained (bounded) before 413.
//! - [`redis_server`]: a private `redis-server` child on a free loopback port.
//! - [`haproxy`]: a private HAProxy (generated config, free loopback port) in front of replicas.
//! - [`redis_cluster`]: a private 3-primary/3-replica Redis Cluster of such children.
//! - [`child`]: child processes that die with authbench (parent-death signal), and `kill(2)`.
//! - [`error`]: the crate's one error enum and its mapping to HTTP status + JSON.
//! - `testing` (feature `testing`, tests and `fuzz/` only): credential mutations, one copy shared by
//!   the property tests and the cargo-fuzz targets.
//!
//! Imports go one way: `serve` → `build` → schemes → `api` → `body` → `linger`, `error` → `limits`.

pub mod api;
pub mod body;
pub mod build;
pub mod child;
pub mod config;
pub mod cookie;
pub mod denylist;
pub mod error;
pub mod haproxy;
pub mod id;
pub mod jwt;
pub mod jwt_pubsub;
pub mod jwt_revocable;
pub mod key_file;
pub mod limits;
pub mod linger;
pub mod metrics;
pub mod record_cache;
pub mod redis_cluster;
pub mod redis_server;
pub mod revocation_store;
pub mod serve;
pub mod session;
pub mod session_cached;
pub mod session_key;
pub mod session_tracked;
pub mod store;
pub mod store_conn;
pub mod store_io;
pub mod subscriber;
#[cfg(feature = "testing")]
pub mod testing;
pub mod throttle;
pub mod users;

pub use config::{JwtAlg, SchemeKind, ServeArgs};
pub use error::{Error, Result};
