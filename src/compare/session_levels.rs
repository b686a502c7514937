//! The session-scaling sweep of one scheme × repeat: at each level of stored sessions, `/api/me`
//! at a fixed arrival rate with credentials drawn uniformly from every stored session.
//!
//! Design, and why:
//! - **One session per distinct user.** Level N holds exactly one session (or one issued
//!   credential, for the stateless schemes) for each of users 1..=N; a larger level grows from
//!   the one before (users N₁+1..=N₂ are added), a smaller one starts again from nothing. Several
//!   sessions per user would share one per-user index and understate the memory a logged-in user
//!   costs.
//! - **Levels in a random order per repeat** (the hot level 0 first), so that the change from the
//!   smallest stored level to the largest (claim 4) is not always a change in time too.
//! - **Uniform lookups over the whole key space.** What the preload issued is kept as the
//!   generator's credential pool; each open-model arrival draws one uniformly (loadgen
//!   `credentials`). A level reports how many distinct sessions it touched. Level 0 has nothing
//!   stored, so there the pool's users log in (the old behaviour) and those sessions are deleted
//!   before the next level, so every later level holds exactly its N.
//! - **Memory at rest.** After the preload, wait until Redis has no dictionary rehashing
//!   ([`store_probe`](super::store_probe)), then read `used_memory`, the key count and the
//!   server's RSS, before any lookup runs; `MEMORY USAGE` of ~1,000 session records and ~1,000
//!   user indexes (spread evenly over the users) splits the per-user cost.
//! - **The lookup's own cost.** `INFO commandstats` of the lookup command (`GETEX`) before and
//!   after the level: Δusec ÷ Δcalls is Redis's time per lookup at this level; `keyspace_hits`
//!   likewise. Nothing is reset.
//! - **The cache, for the cached schemes.** After the level's lookups, every replica's `/metrics`
//!   (entries held, their estimated bytes; summed) and Redis's `tracking_total_keys` (the keys its
//!   tracking table holds for `session-tracked`'s servers). The table is not cleared by a level's
//!   end: the next level's memory at rest carries it, so it is part of that level's `used_memory`.
//! - **On a Redis Cluster** the same readings are summed over the primaries (memory per session is
//!   the data's cost; each replica holds a copy on top), and each primary's keys and
//!   `used_memory` at rest are kept per level: how evenly the hash-tagged keys spread.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_loadgen::Endpoint;
use authbench_loadgen::LoadConfig;
use authbench_loadgen::Scheme;
use authbench_loadgen::Summary;
use authbench_loadgen::{CredentialPool, CredentialsBuilder};
use authbench_loadgen::{LoadModel, Ramp};
use authbench_servers::SchemeKind;
use authbench_servers::direct::SessionStore;
use authbench_servers::facts::CacheReading;
use tokio_util::sync::CancellationToken;

use super::keys::IssueKeys;
use super::preload;
use super::state_store::{Shard, Store};
use super::store_probe::{RestSignal, StoreProbe};

/// The Redis command one session lookup is (see the `one_store_lookup_per_request` check).
pub const LOOKUP_COMMAND: &str = "getex";

/// The commands a scheme's per-request store check sends (`jwt-revocable`: one `MGET`): a
/// request that sent one of them was not answered from a cache.
pub fn lookup_commands(scheme: SchemeKind) -> &'static [&'static str] {
    match scheme {
        SchemeKind::JwtRevocable => &["mget"],
        // A miss reads with GET (+ PTTL) on the tracking connection; while tracking is down the
        // request goes uncached through the session scheme's GETEX, which is no hit either.
        SchemeKind::SessionTracked => &["get", LOOKUP_COMMAND],
        _ => &[LOOKUP_COMMAND],
    }
}
/// Keys of each kind whose `MEMORY USAGE` is read per level.
pub const MEMORY_SAMPLES: u64 = 1_000;
/// Longest wait for rehashing to finish before memory is read anyway (and flagged).
pub const REST_LIMIT: Duration = Duration::from_secs(30);

/// What one sweep needs: the running server, Redis, the issuing keys and the levels.
pub struct Sweep<'a> {
    pub scheme: SchemeKind,
    pub server_addr: SocketAddr,
    pub server_pid: u32,
    /// Further replicas behind a load balancer (summed with `server_pid`), and the balancer.
    pub replica_pids: &'a [u32],
    pub proxy_pid: Option<u32>,
    /// Every server's own address (the one server's, or each replica's behind the proxy): where
    /// `/metrics` is read.
    pub replica_addrs: &'a [SocketAddr],
    pub store: &'a Store,
    /// This unit's key prefix: everything under it is this server's (cleared before the sweep).
    pub prefix: &'a str,
    pub keys: &'a IssueKeys,
    /// Stored-session levels in the order to run them (the repeat's
    /// [`super::plan::Plan::level_orders`]): a level below the one before it starts from nothing.
    pub levels: &'a [u64],
    pub rate: f64,
    pub duration: Duration,
    /// Connections sharing the arrivals (and, at level 0, the users who log in).
    pub vus: u64,
    /// `sessions-<level>/` run folders go here.
    pub out_dir: &'a Path,
}

/// Everything measured at one level.
#[derive(Debug, Clone)]
pub struct Level {
    pub sessions: u64,
    pub distinct_sessions_used: u64,
    pub preload: Duration,
    pub rest: Option<RestSignal>,
    pub rest_wait: Duration,
    /// At rest, before the lookups.
    pub redis_used_memory: Option<u64>,
    pub redis_keys: Option<u64>,
    /// Keys and memory of each data-holding node at rest (one entry on one Redis).
    pub shards: Vec<Shard>,
    pub server_rss_bytes: Option<u64>,
    /// Mean `MEMORY USAGE` of sampled session records and user indexes (session scheme, N > 0).
    pub redis_bytes_session_record: Option<f64>,
    pub redis_bytes_user_index: Option<f64>,
    /// Δusec ÷ Δcalls of the lookup command over the level.
    pub redis_usec_per_call: Option<f64>,
    pub redis_lookup_calls: u64,
    pub redis_keyspace_hits: u64,
    /// After the lookups: the servers' caches (summed over replicas; `None` without a cache), and
    /// the keys in Redis's tracking table.
    pub cache: Option<CacheReading>,
    pub redis_tracking_keys: u64,
    /// The load run's summary (latency, CPU, generator health).
    pub summary: Summary,
}

impl Sweep<'_> {
    /// Run every level (stops early, keeping what it has, when `stop` fires). `on_level` is told
    /// each level before it starts. Leaves the last level's sessions in Redis.
    pub async fn run(&self, stop: &CancellationToken, mut on_level: impl FnMut(u64)) -> Result<Vec<Level>> {
        let probe = StoreProbe::connect(self.store).await?;
        let store = match self.scheme {
            SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked => Some(
                SessionStore::connect_bulk_to(&self.store.target, self.prefix, Duration::from_secs(3600))
                    .await?,
            ),
            _ => None,
        };
        let revocable = match self.scheme {
            SchemeKind::JwtRevocable | SchemeKind::JwtPubsub => Some(
                authbench_servers::direct::RevocationStore::connect(
                    single_url(self.store)?,
                    self.prefix,
                    self.keys.jwt.family_ttl(),
                    // Bulk preloading: one pipeline's reply may take seconds.
                    Duration::from_secs(60),
                )
                .await?,
            ),
            _ => None,
        };
        // Sessions left by earlier phases (the ramp's users) are not part of any level.
        self.store.clear_prefix(self.prefix).await?;
        let header = preload::credential_header(self.scheme);
        let mut issued = CredentialsBuilder::new();
        let mut stored = 0u64;
        let mut levels = Vec::new();
        for &n in self.levels {
            on_level(n);
            let mut took = Duration::ZERO;
            if n < stored {
                // Down to a smaller level: a store-backed scheme starts again from nothing (one
                // SCAN + UNLINK pass, about what deleting the extra users one by one costs, and it
                // works on a cluster too); a stateless one just forgets the extra credentials.
                let started = std::time::Instant::now();
                if self.scheme.uses_store() {
                    self.store.clear_prefix(self.prefix).await?;
                    issued.truncate(0);
                    stored = 0;
                } else {
                    issued.truncate(n as usize);
                    stored = n;
                }
                took += started.elapsed();
            }
            took += preload::grow(
                self.scheme,
                stored,
                n,
                preload::Stores { session: store.as_ref(), revocable: revocable.as_ref() },
                self.keys,
                &mut issued,
            )
            .await?;
            stored = n;
            let pool = (n > 0)
                .then(|| issued.pool(header.clone(), n as usize))
                .transpose()
                .context("an issued credential is not a valid header value")?
                .map(Arc::new);
            let level = self.level(n, took, &probe, store.as_ref(), pool, stop).await?;
            levels.push(level);
            if n == 0 {
                // The users who logged in for level 0 are not part of the next level.
                self.store.clear_prefix(self.prefix).await?;
            }
            if stop.is_cancelled() {
                break;
            }
        }
        Ok(levels)
    }

    async fn level(
        &self,
        n: u64,
        preload: Duration,
        probe: &StoreProbe,
        store: Option<&SessionStore>,
        pool: Option<Arc<CredentialPool>>,
        stop: &CancellationToken,
    ) -> Result<Level> {
        let (rest, rest_wait) = probe.wait_at_rest(REST_LIMIT).await?;
        // Every replica's RSS (with --replicas N each holds its own cache), as the load runs sum it.
        let pids: Vec<u32> =
            std::iter::once(self.server_pid).chain(self.replica_pids.iter().copied()).collect();
        let rss = authbench_loadgen::read_procs(&pids).ok().map(|p| p.rss_bytes);
        let redis = probe.sample().await?;
        let shards = self.store.shards().await?;
        let (record, index) = match (store, &pool) {
            (Some(store), Some(pool)) => self.sample_key_memory(probe, store, pool).await?,
            _ => (None, None),
        };

        let calls_before = probe.command_stats(lookup_commands(self.scheme)).await?;
        let hits_before = probe.keyspace_hits().await?;
        let mut c = LoadConfig::new(
            self.server_addr,
            Some(Scheme::new(self.scheme.as_str(), self.scheme.credential())),
            LoadModel::Open { rate_stages: Ramp::constant(self.rate, self.duration), vus: self.vus },
        );
        c.server_pid = Some(self.server_pid);
        c.replica_pids = self.replica_pids.to_vec();
        c.proxy_pid = self.proxy_pid;
        c.redis_url = Some(self.store.sampled_urls());
        c.out_dir = Some(self.out_dir.join(format!("sessions-{n}")));
        c.progress = false;
        c.credentials = pool.clone();
        let summary = authbench_loadgen::run(c, stop.clone()).await.context("load phase `sweep`")?;
        if summary.target_lost {
            bail!("the server stopped answering during the sweep at {n} sessions");
        }
        let calls_after = probe.command_stats(lookup_commands(self.scheme)).await?;
        let hits_after = probe.keyspace_hits().await?;
        let cache = crate::harness::metrics::cache(self.replica_addrs).await?;
        let redis_tracking_keys = probe.tracking_keys().await?;

        let distinct = match &pool {
            Some(pool) => pool.distinct_used(),
            // Level 0: the pool's own logins are the sessions looked up.
            None => summary.endpoint(Endpoint::Login).map_or(0, |e| e.count),
        };
        Ok(Level {
            sessions: n,
            distinct_sessions_used: distinct,
            preload,
            rest: Some(rest),
            rest_wait,
            redis_used_memory: Some(redis.used_memory),
            redis_keys: Some(redis.keys),
            shards,
            server_rss_bytes: rss,
            redis_bytes_session_record: record,
            redis_bytes_user_index: index,
            redis_usec_per_call: (self.scheme.uses_store())
                .then(|| calls_after.usec_per_call_since(calls_before))
                .flatten(),
            redis_lookup_calls: calls_after.calls.saturating_sub(calls_before.calls),
            redis_keyspace_hits: hits_after.saturating_sub(hits_before),
            cache,
            redis_tracking_keys,
            summary,
        })
    }

    /// Mean `MEMORY USAGE` of up to [`MEMORY_SAMPLES`] session records and as many user indexes,
    /// users spread evenly over 1..=N (user i+1 holds pool entry i).
    async fn sample_key_memory(
        &self,
        probe: &StoreProbe,
        store: &SessionStore,
        pool: &CredentialPool,
    ) -> Result<(Option<f64>, Option<f64>)> {
        let n = pool.len() as u64;
        let picks: Vec<u64> = (0..MEMORY_SAMPLES.min(n)).map(|k| k * n / MEMORY_SAMPLES.min(n)).collect();
        let cookie = format!("{}=", authbench_contract::credential::SESSION_COOKIE);
        let records: Vec<String> = picks
            .iter()
            .filter_map(|&i| pool.value(i as usize))
            .filter_map(|v| v.to_str().ok()?.strip_prefix(cookie.as_str()).map(|sid| store.session_key(sid)))
            .collect();
        let indexes: Vec<String> = picks.iter().map(|&i| store.user_key(i + 1)).collect();
        Ok((probe.mean_memory_usage(&records).await?, probe.mean_memory_usage(&indexes).await?))
    }
}

/// The one Redis of a store (`jwt-revocable`'s store does not run on a cluster: compare refuses
/// that combination before anything starts).
fn single_url(store: &Store) -> Result<&str> {
    match &store.target {
        authbench_servers::direct::StoreTarget::Single(url) => Ok(url),
        authbench_servers::direct::StoreTarget::Cluster(_) => {
            bail!("jwt-revocable's revocation store does not run on a Redis Cluster")
        }
    }
}
