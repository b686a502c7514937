//! `authbench serve` options, parsed once at the edge into typed values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use authbench_util::parse::{parse_count, parse_duration};
use clap::Args;

use crate::kind::{JwtAlg, SameSite, SchemeKind};

/// A credential lifetime: whole seconds from 1 s to 10 years (expiry times are Unix seconds).
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(10 * 365 * 24 * 3600) {
        return Err(format!("`{s}`: a lifetime must be between 1s and 10 years"));
    }
    Ok(d)
}

/// `serve --redis-url`'s and `--redis-cluster`'s environment variables: a parent passes the
/// store's URLs (which may carry a password) there, not on the command line.
pub const REDIS_URL_ENV: &str = "AUTHBENCH_REDIS_URL";
pub const REDIS_CLUSTER_ENV: &str = "AUTHBENCH_REDIS_CLUSTER";

/// Options of `authbench serve`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[command(
    about = "Run one auth server (cookie, session, jwt, jwt-revocable, jwt-pubsub, session-cached, session-tracked) on loopback (another address with a warning)",
    after_help = "Routes: GET /healthz, POST /auth/login, GET /api/me, POST /auth/refresh, POST /auth/logout, \
                  POST /auth/logout-all; and GET /metrics (no credential): OpenMetrics text for Prometheus. \
                  session-cached and session-tracked expose their cache there (authbench_cache_hits_total, \
                  _misses_total, session-tracked's _invalidations_total, _untracked_total, _flushes_total; \
                  the gauges authbench_cache_entries, _capacity and _bytes, estimated as entries x a measured \
                  per-entry size); the other schemes answer an empty exposition."
)]
pub struct ServeArgs {
    /// Auth design to serve.
    #[arg(value_enum)]
    pub scheme: SchemeKind,

    /// Address to listen on. Port 0 picks a free port; the first stdout line says which:
    /// `listening on http://IP:PORT`. A non-loopback address (for generators on other hosts,
    /// `load --allow-remote`) is bound with a warning.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,

    /// Serve HTTPS (rustls, TLS 1.2/1.3, ALPN h2 and http/1.1) instead of clear text; the first
    /// line says `listening on https://IP:PORT`. The cookie schemes then name their cookie with
    /// the `__Host-` prefix and mark it `Secure`. Without --cert/--key a self-signed certificate
    /// for localhost, 127.0.0.1 and ::1 is generated at start and written (PEM) to --cert-out,
    /// for the client to trust (`load --ca FILE`). Clear text serves HTTP/1.1 and HTTP/2 with
    /// prior knowledge (h2c) on the same port either way.
    #[arg(long)]
    pub tls: bool,

    /// With --tls: the certificate chain (PEM) to serve, instead of a generated one.
    #[arg(long, requires_all = ["tls", "key"])]
    pub cert: Option<PathBuf>,

    /// With --tls: the private key (PEM, PKCS#8 or SEC1 or PKCS#1) of --cert.
    #[arg(long, requires_all = ["tls", "cert"])]
    pub key: Option<PathBuf>,

    /// With --tls and no --cert: where the generated certificate is written for clients to trust.
    /// Default: `$TMPDIR/authbench-serve-<pid>-cert.pem` (said on stderr at start, removed at
    /// exit).
    #[arg(long, requires = "tls", conflicts_with = "cert")]
    pub cert_out: Option<PathBuf>,

    /// Redis for the schemes with a store (session, jwt-revocable, jwt-pubsub). Without it, they start their
    /// own redis-server on a free loopback port with persistence off and a generated password,
    /// and stop it on exit. A URL with a password (`redis://:PASS@host:port/`) is better given in
    /// the environment, which other users cannot read, than on the command line, which they can.
    #[arg(long, env = REDIS_URL_ENV)]
    pub redis_url: Option<String>,

    /// A Redis Cluster for the session scheme instead: `URL[,URL…]`, any of its nodes (several
    /// survive one being down). Same key layout as a single Redis; keys hash-tagged per user.
    #[arg(long, value_name = "URL[,URL…]", conflicts_with = "redis_url", env = REDIS_CLUSTER_ENV)]
    pub redis_cluster: Option<String>,

    /// Put a network hop between this server and its Redis: a private `authbench delay-proxy`
    /// child (dying with the server) holds each direction for half this round-trip time, from a
    /// precise clock (`250us`, `1ms`; `0` goes through the proxy without delay, so its own cost is
    /// in both arms of a comparison). One Redis only: a Cluster's nodes must announce the
    /// proxies' ports (`cluster-announce-port`), which `compare --store cluster --store-rtt` does.
    #[arg(long, value_parser = authbench_util::parse::parse_duration)]
    pub store_rtt: Option<Duration>,

    /// Persistence of the private redis-server `serve` starts without --redis-url: none (in memory
    /// only: a crash or restart loses every session) or aof (appendonly yes, appendfsync
    /// everysec, in its own directory: a crash of the Redis process loses nothing it answered; an
    /// OS crash or power loss could lose the last second of writes).
    #[arg(long, value_enum, default_value = "none")]
    pub redis_persistence: authbench_procs::redis_server::Persistence,

    /// Session logout and logout-all wait for one replica to acknowledge the delete (`WAIT 1`)
    /// before answering; no acknowledgement within 250 ms answers 503. Needs replicas.
    #[arg(long)]
    pub durable_logout: bool,

    /// Prefix of every Redis key this server writes; keys outside it are never read or deleted.
    /// Default: `authbench:<pid>:`.
    #[arg(long)]
    pub redis_prefix: Option<String>,

    /// Number of synthetic users: user1..userN, password of user{i} is password{i}.
    #[arg(long, default_value = "10000", value_parser = parse_count)]
    pub users: u64,

    /// Cheap argon2id cost (m=64 KiB, t=1, p=1) for large ramps; reported as such. Default cost is
    /// OWASP's minimum for argon2id: m=19 MiB, t=2, p=1.
    #[arg(long)]
    pub fast_login: bool,

    /// Lifetime of the credential: cookie expiry, session idle timeout, JWT access-token lifetime.
    #[arg(long, default_value = "15m", value_parser = parse_ttl)]
    pub ttl: Duration,

    /// Absolute lifetime of a login, however often it is refreshed (OWASP's absolute timeout):
    /// nothing it issued is accepted, nor refreshed, this long after the login. Every scheme: the
    /// session record, the cookie and the JWT refresh token keep the login's time through each
    /// refresh. Default: 24h for cookie and the session schemes; for the JWT schemes the
    /// refresh-token lifetime (--refresh-ttl, default 7d). Session schemes: also how long a
    /// user's session index lives after their last login, so that logout-all reaches every
    /// session still in use. At least --ttl.
    #[arg(long, value_parser = parse_ttl)]
    pub max_age: Option<Duration>,

    /// session schemes: most sessions one user may hold at once; a login beyond it ends the
    /// user's oldest session. Each login also prunes the user's index of sessions that are gone,
    /// so the index (and logout-all's work) stays bounded by this.
    #[arg(long, default_value = "32", value_parser = parse_count)]
    pub max_sessions: u64,

    /// Logins that may wait for a password-hashing slot (one hash per core runs at once); a login
    /// beyond it answers 503 with Retry-After at once, so a login flood holds bounded memory.
    #[arg(long, default_value = "1024", value_parser = parse_count)]
    pub login_queue: u64,

    /// Longest one login request may take, hashing queue and store included; past it 503 with
    /// Retry-After.
    #[arg(long, default_value = "10s", value_parser = authbench_util::parse::parse_duration)]
    pub login_timeout: Duration,

    /// Failed logins (wrong password or unknown user) per account within --login-window; past it
    /// every login for that account answers 429 with Retry-After until the window ends, before any
    /// hashing. 0: no limit. Counted in process for cookie and jwt, in Redis (shared by replicas)
    /// for the schemes with a store. Successful logins (the load generator's) count nothing.
    #[arg(long, default_value = "10")]
    pub login_failures: u32,

    /// Failed logins per source address within --login-window; past it 429 as above. Every local
    /// client shares 127.0.0.1, hence a higher default. 0: no limit.
    #[arg(long, default_value = "100")]
    pub login_source_failures: u32,

    /// The login throttle's window, counted from a key's first failure.
    #[arg(long, default_value = "15m", value_parser = authbench_util::parse::parse_duration)]
    pub login_window: Duration,

    /// Bound on one session-store call (Redis round trip included); past it the request answers
    /// 503 rather than wait. Raise it on an overloaded machine whose Redis replies late.
    #[arg(long, default_value = "400ms", value_parser = authbench_util::parse::parse_duration)]
    pub store_timeout: Duration,

    /// session-cached, session-tracked: how long a session record read from Redis is served from
    /// this server's cache. session-cached: another server's logout takes up to this long to reach
    /// this one. session-tracked: Redis's invalidation push ends a copy at once; this bounds a copy
    /// only while no push can arrive (Redis frozen). session-tracked's idle expiry: a miss sends
    /// GET + PTTL (read-only, tracked) and refreshes the expiry (EXPIRE, which invalidates every
    /// copy) only when less than half of --ttl remains, so an idle session ends between
    /// --ttl/2 − --cache-ttl and --ttl after its last request (session: exactly --ttl); so
    /// session-tracked needs --cache-ttl below --ttl/2.
    #[arg(long, default_value = "1s", value_parser = authbench_util::parse::parse_duration)]
    pub cache_ttl: Duration,

    /// session-cached, session-tracked: most session records the cache holds (then it evicts).
    #[arg(long, default_value = "100k", value_parser = parse_count)]
    pub cache_capacity: u64,

    /// How long a keep-alive connection may stay idle (and a request head take to arrive) before
    /// the server closes it. Raise it above the generator's think time plus its lag when holding
    /// many mostly idle users.
    #[arg(long, default_value = "10s", value_parser = authbench_util::parse::parse_duration)]
    pub idle_timeout: Duration,

    /// Lifetime of a JWT refresh token.
    #[arg(long, default_value = "7d", value_parser = parse_ttl)]
    pub refresh_ttl: Duration,

    /// JWT signature algorithm (pinned).
    #[arg(long, value_enum, default_value_t)]
    pub jwt_alg: JwtAlg,

    /// Key material instead of a key generated at start-up. cookie, jwt HS256: a secret of at
    /// least 32 random bytes (`head -c 32 /dev/urandom > key`), from which the key is derived with
    /// HKDF-SHA256; a shorter file, or one that is all printable ASCII (a passphrase), is refused.
    /// jwt EdDSA/ES256/RS256: a PKCS#8 PEM private key.
    #[arg(long)]
    pub key_file: Option<PathBuf>,

    /// SameSite attribute of the credential cookie.
    #[arg(long, value_enum, default_value_t)]
    pub same_site: SameSite,

    /// Tokio worker threads (default: one per core). Same for every scheme.
    #[arg(long)]
    pub workers: Option<usize>,

    /// Requests (logins aside) in progress at once; past it a request waits for one to finish
    /// before its handler runs, so a burst cannot queue Redis's replies behind thousands of
    /// handlers past --store-timeout. Default: 64 per worker thread.
    #[arg(long, value_parser = parse_count)]
    pub max_in_flight: Option<u64>,
}

impl ServeArgs {
    /// `--max-age`, or the scheme's default: the refresh-token lifetime for the JWT schemes,
    /// [`crate::session::DEFAULT_MAX_AGE`] (24 h) for the others.
    pub fn max_age(&self) -> Duration {
        self.max_age.unwrap_or(match self.scheme.parent() {
            SchemeKind::Jwt => self.refresh_ttl,
            _ => crate::session::DEFAULT_MAX_AGE,
        })
    }

    /// `--max-in-flight`, or its default for `--workers` (one per core when unset).
    pub fn max_in_flight(&self) -> usize {
        match self.max_in_flight {
            Some(n) => n as usize,
            None => crate::in_flight::default_limit(self.workers),
        }
    }

    /// `--login-queue`, `--login-timeout`.
    pub fn login_limits(&self) -> crate::users::LoginLimits {
        crate::users::LoginLimits { queue: self.login_queue as usize, timeout: self.login_timeout }
    }

    /// `--login-failures`, `--login-source-failures`, `--login-window`.
    pub fn throttle_limits(&self) -> crate::throttle::Limits {
        crate::throttle::Limits {
            account_failures: self.login_failures,
            source_failures: self.login_source_failures,
            window: self.login_window,
        }
    }

    /// Options with defaults, for tests and the harness.
    pub fn new(scheme: SchemeKind) -> Self {
        ServeArgs {
            scheme,
            addr: "127.0.0.1:0".parse().expect("literal address"),
            tls: false,
            cert: None,
            key: None,
            cert_out: None,
            redis_url: None,
            redis_cluster: None,
            store_rtt: None,
            redis_persistence: authbench_procs::redis_server::Persistence::None,
            durable_logout: false,
            redis_prefix: None,
            users: 10_000,
            fast_login: false,
            ttl: Duration::from_secs(15 * 60),
            max_age: None,
            max_sessions: crate::session::DEFAULT_MAX_SESSIONS,
            login_queue: crate::users::DEFAULT_QUEUE as u64,
            login_timeout: crate::users::DEFAULT_TIMEOUT,
            login_failures: crate::throttle::DEFAULT_ACCOUNT_FAILURES,
            login_source_failures: crate::throttle::DEFAULT_SOURCE_FAILURES,
            login_window: crate::throttle::DEFAULT_WINDOW,
            refresh_ttl: Duration::from_secs(7 * 24 * 3600),
            store_timeout: crate::session::STORE_TIMEOUT,
            cache_ttl: crate::session_cached::DEFAULT_CACHE_TTL,
            cache_capacity: crate::session_cached::DEFAULT_CACHE_CAPACITY,
            idle_timeout: crate::limits::HEADER_READ_TIMEOUT,
            jwt_alg: JwtAlg::Hs256,
            key_file: None,
            same_site: SameSite::Lax,
            workers: None,
            max_in_flight: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_whole_seconds_up_to_ten_years() {
        assert!(parse_ttl("500ms").is_err());
        assert!(parse_ttl("100000000y").is_err());
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(7 * 86400));
    }
}
