//! The scheme dispatch: from `authbench serve` options to the Router of the chosen scheme, with
//! what it needs (users, keys, for `session` a Redis connection or a private redis-server).

use std::sync::Arc;

use axum::Router;

use crate::config::ServeArgs;
use crate::cookie::{CookieScheme, Sealer};
use crate::error::{Error, Result};
use crate::jwt::{Codec, JwtScheme};
use crate::jwt_pubsub::PubsubScheme;
use crate::jwt_revocable::{RevocableScheme, RevocationStore};
use crate::kind::SchemeKind;
use crate::redis_conn::redact_url;
use crate::session::{DURABLE_WAIT, SessionScheme, SessionStore};
use crate::session_cached::CachedScheme;
use crate::session_tracked::TrackedScheme;
use crate::store_target::{StoreConn, StoreTarget};
use crate::throttle::Throttle;
use crate::users::{PasswordCost, Users};
use authbench_procs::delay_proxy::{self, DelayProxy};
use authbench_procs::redis_server::RedisServer;

/// How long `jwt-pubsub` may take to subscribe and load the stored revocations before `serve`
/// gives up (it listens only after that).
const SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A built server: its Router plus whatever must live as long as it (a private redis-server).
pub struct Built {
    pub router: Router,
    pub scheme: SchemeKind,
    pub users: Arc<Users>,
    pub redis_url: Option<String>,
    pub redis_prefix: Option<String>,
    /// Kept alive for the server's lifetime; dropping it stops redis-server.
    pub redis: Option<RedisServer>,
    /// `--store-rtt`: the delay proxy every store connection goes through (stopped on drop).
    pub store_proxy: Option<DelayProxy>,
}

/// Build a scheme's Router from options: users, keys, and for `session` the Redis connection
/// (starting a private redis-server when no URL is given; it is kept in [`Built::redis`] and
/// stops when that is dropped, or with authbench: see [`crate::child`]).
pub async fn build(args: &ServeArgs) -> Result<Built> {
    check(args)?;
    let key_material = match &args.key_file {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| Error::KeyFile { path: path.display().to_string(), reason: e.to_string() })?,
        ),
        None => None,
    };
    // A refused key file's error names the file (the key code knows only its bytes).
    let named = |e: Error| match (e, &args.key_file) {
        (Error::KeyFile { reason, .. }, Some(path)) => {
            Error::KeyFile { path: path.display().to_string(), reason }
        }
        (e, _) => e,
    };
    // Keys first: a bad key file is refused before a private redis-server is started.
    let sealer = match (args.scheme, &key_material) {
        (SchemeKind::Cookie, Some(m)) => Some(Sealer::from_key_file(m).map_err(named)?),
        (SchemeKind::Cookie, None) => Some(Sealer::generate()),
        _ => None,
    };
    let codec = match args.scheme.parent() {
        SchemeKind::Jwt => Some(jwt_codec(args, key_material.as_deref()).map_err(named)?),
        _ => None,
    };
    let cost = if args.fast_login { PasswordCost::FAST } else { PasswordCost::OWASP };
    let users = Arc::new(Users::synthetic(args.users, cost).with_login(args.login_limits()));
    let mut built = Built {
        router: Router::new(),
        scheme: args.scheme,
        users: users.clone(),
        redis_url: None,
        redis_prefix: None,
        redis: None,
        store_proxy: None,
    };
    let store = match args.scheme.uses_store() {
        true => Some(store_location(args, &mut built)?),
        false => None,
    };
    // The login throttle: in process, or in Redis on the store's own connection.
    let limits = args.throttle_limits();
    let in_store = |conn: StoreConn, prefix: &str| Throttle::redis(conn, prefix, args.store_timeout, limits);
    built.router = match (args.scheme, store, sealer, codec) {
        (SchemeKind::Cookie, _, Some(sealer), _) => {
            users.throttle_with(Throttle::local(limits));
            let scheme =
                CookieScheme::new(users, sealer, args.ttl, args.same_site)
                    .with_max_age(args.max_age())
                    .over_tls(args.tls);
            crate::api::router(scheme)
        }
        (SchemeKind::Jwt, _, _, Some(codec)) => {
            users.throttle_with(Throttle::local(limits));
            crate::api::router(JwtScheme::new(users, codec))
        }
        (
            SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked,
            Some((target, prefix)),
            ..,
        ) => {
            let store = SessionStore::connect_to(&target, &prefix, args.ttl, args.store_timeout)
                .await?
                .with_durable_logout(args.durable_logout.then_some(DURABLE_WAIT))
                .with_max_age(args.max_age())
                .with_max_sessions(args.max_sessions);
            users.throttle_with(in_store(store.conn().clone(), &prefix));
            let session = SessionScheme::new(users, store, args.same_site).over_tls(args.tls);
            match (args.scheme, &target) {
                (SchemeKind::SessionCached, _) => {
                    crate::api::router(CachedScheme::new(session, args.cache_ttl, args.cache_capacity))
                }
                (SchemeKind::SessionTracked, StoreTarget::Single(url)) => {
                    let tracked = TrackedScheme::connect(
                        session,
                        url,
                        args.ttl,
                        args.cache_ttl,
                        args.cache_capacity,
                        args.store_timeout,
                    )
                    .await?;
                    crate::api::router(tracked)
                }
                _ => crate::api::router(session),
            }
        }
        (SchemeKind::JwtPubsub, Some((StoreTarget::Single(url), prefix)), _, Some(codec)) => {
            let scheme =
                PubsubScheme::connect(users, codec, &url, &prefix, args.store_timeout, SYNC_WAIT).await?;
            crate::api::router(scheme)
        }
        (SchemeKind::JwtRevocable, Some((StoreTarget::Single(url), prefix)), _, Some(codec)) => {
            let store =
                RevocationStore::connect(&url, &prefix, codec.family_ttl(), args.store_timeout).await?;
            users.throttle_with(in_store(store.conn().clone(), &prefix));
            crate::api::router(RevocableScheme::new(users, codec, store))
        }
        _ => unreachable!("the scheme's parts are built above, and check() refused the rest"),
    };
    Ok(built)
}

/// Combinations of options refused before anything starts.
fn check(args: &ServeArgs) -> Result<()> {
    if args.max_age() < args.ttl {
        return Err(Error::Config(format!(
            "--max-age {:?} is below --ttl {:?}: a credential cannot outlive its absolute lifetime",
            args.max_age(),
            args.ttl
        )));
    }
    if args.store_rtt.is_some() && args.redis_cluster.is_some() {
        return Err(Error::Config(
            "--store-rtt puts one proxy in front of one Redis: a Cluster's nodes must announce their \
             proxies (`compare --store cluster --store-rtt` does); not with --redis-cluster"
                .into(),
        ));
    }
    if args.scheme == SchemeKind::SessionTracked && args.redis_cluster.is_some() {
        return Err(Error::Config(
            "session-tracked tracks keys on one Redis connection: --redis-cluster is not supported".into(),
        ));
    }
    if args.scheme == SchemeKind::SessionTracked && args.cache_ttl * 2 >= args.ttl {
        return Err(Error::Config(format!(
            "session-tracked: --cache-ttl {:?} must be below half of --ttl {:?} (the expiry is refreshed \
             only when a miss finds less than half of it left)",
            args.cache_ttl, args.ttl
        )));
    }
    if args.redis_persistence != authbench_procs::redis_server::Persistence::None
        && (args.redis_url.is_some() || args.redis_cluster.is_some())
    {
        return Err(Error::Config(
            "--redis-persistence applies to the private redis-server serve starts: not with --redis-url or --redis-cluster"
                .into(),
        ));
    }
    if matches!(args.scheme, SchemeKind::JwtRevocable | SchemeKind::JwtPubsub)
        && (args.redis_cluster.is_some() || args.durable_logout)
    {
        return Err(Error::Config(
            "--redis-cluster and --durable-logout are options of the session scheme".into(),
        ));
    }
    Ok(())
}

/// The JWT schemes' keys (generated, or derived from `--key-file`), lifetimes and absolute
/// lifetime.
fn jwt_codec(args: &ServeArgs, key_material: Option<&[u8]>) -> Result<Codec> {
    let codec = match key_material {
        Some(m) => Codec::from_key_file(args.jwt_alg, m, args.ttl, args.refresh_ttl)?,
        None => Codec::generate(args.jwt_alg, args.ttl, args.refresh_ttl)?,
    };
    Ok(codec.with_max_age(args.max_age()))
}

/// Where a scheme with a store keeps it: `--redis-cluster`, `--redis-url`, or a private
/// redis-server started now (kept in `built`); and the key prefix. Both are recorded in `built`.
fn store_location(args: &ServeArgs, built: &mut Built) -> Result<(StoreTarget, String)> {
    let prefix = default_prefix(args);
    built.redis_prefix = Some(prefix.clone());
    if let Some(list) = &args.redis_cluster {
        built.redis_url = Some(list.clone());
        return Ok((StoreTarget::cluster_from_list(list)?, prefix));
    }
    let url = match &args.redis_url {
        Some(url) => url.clone(),
        None => {
            let server = RedisServer::start_with(args.redis_persistence)?;
            let url = server.url();
            built.redis = Some(server);
            url
        }
    };
    built.redis_url = Some(url.clone());
    let Some(rtt) = args.store_rtt else { return Ok((StoreTarget::Single(url), prefix)) };
    let bad = || Error::Config(format!("--store-rtt: cannot read host:port in {}", redact_url(&url)));
    let proxy = DelayProxy::start_here(delay_proxy::url_addr(&url).ok_or_else(bad)?, rtt)?;
    let via = delay_proxy::via(&url, proxy.addr()).ok_or_else(bad)?;
    built.store_proxy = Some(proxy);
    Ok((StoreTarget::Single(via), prefix))
}

/// `--redis-prefix`, or `authbench:<pid>:`.
fn default_prefix(args: &ServeArgs) -> String {
    args.redis_prefix.clone().unwrap_or_else(|| format!("authbench:{}:", std::process::id()))
}
