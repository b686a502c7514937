//! The revocation phase: the time from `logout` (or `logout-all` on another device) until the
//! old credential is rejected, measured by probing a server run with a short TTL so the stateless
//! schemes' window (the credential's remaining lifetime) is observed, not assumed. Once per
//! scheme, after every repeat.
//!
//! Measured across servers: the action goes through server A, the copied credential is probed
//! through server B, which shares A's store and keys and has served the credential before the
//! action (so a per-server cache of B holds it). Probing A itself would show ~0 ms for any design
//! that evicts its own cached copy, and prove nothing about the caches of the other replicas.
//!
//! Measured under load, one probe at a time (issue 21): server B serves an open-model `/api/me`
//! load at the plan's utilisation of the scheme's maximum (the rate of the repeats' utilisation
//! step) while the probes run, so the window is what a revoked credential sees on a busy server.
//! Each probe is polled alone until it is rejected or its scheme's promised window (plus 250 ms)
//! has passed; a copy still accepted then (a stateless credential, valid until it expires) waits
//! for its expiry in the background while the next probe runs, so the stateless schemes wait for
//! expiry about once. Beside each probe, its floor: the median round trip of an always-valid
//! credential through server B just before the action, under the same load (`floor_s`) — a
//! window near the floor is immediate.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use authbench_contract::path;
use authbench_loadgen::{LoadConfig, LoadModel, Ramp, Scheme};
use authbench_report::data::RevocationRow;
use authbench_report::metric::Metric;
use authbench_report::store_rtt::StoreRttRevocationRow;
use authbench_servers::SchemeKind;
use tokio_util::sync::CancellationToken;

use crate::compare::ctx::Ctx;
use crate::compare::rate_step::pool_size;
use crate::compare::schedule::Phase;
use crate::compare::store_hop::Hop;
use crate::harness::credential::{Cred, login, me_status};
use crate::harness::http;
use crate::harness::server::ServerProcess;

/// One probe: becomes a row of `revocation.csv`.
#[derive(Debug, Clone)]
pub struct Revocation {
    pub scheme: SchemeKind,
    pub action: &'static str,
    /// Which of the [`PROBES`] pairs of this scheme (0-based).
    pub probe: u32,
    pub window_s: f64,
    pub rejected: bool,
    pub note: String,
    /// The TTL the probed server ran with, the verifier's leeway after expiry, and the TTL a
    /// server runs with by default: what the window is made of and what it would be in use.
    pub ttl_s: f64,
    pub leeway_s: f64,
    pub default_ttl_s: f64,
    /// The median round trip of an always-valid credential through server B just before the
    /// action, under the same load.
    pub floor_s: f64,
}

impl Revocation {
    pub fn row(self) -> RevocationRow {
        RevocationRow {
            scheme: self.scheme.to_string(),
            action: self.action.to_owned(),
            probe: Some(self.probe),
            window_s: self.window_s,
            rejected: self.rejected,
            note: self.note,
            ttl_s: Some(self.ttl_s),
            leeway_s: Some(self.leeway_s),
            default_ttl_s: Some(self.default_ttl_s),
            floor_s: Some(self.floor_s),
        }
    }
}

/// The first user of the background load's pool: above every probe's user.
const LOAD_FIRST_USER: u64 = 100;
/// The load runs this long before the first probe (its pool logs in meanwhile).
const LOAD_WARMUP: Duration = Duration::from_secs(1);
/// Round trips of the always-valid credential per probe; the floor is their median.
const FLOOR_SAMPLES: usize = 5;

/// Measure one scheme's revocation window on a fresh server started with the plan's short TTL,
/// server B under open-model load at `load_rps` (none when the repeats found no maximum); its
/// Redis keys are deleted afterwards.
pub async fn run(
    ctx: &Ctx,
    scheme: SchemeKind,
    load_rps: Option<f64>,
) -> Result<(Vec<Revocation>, Vec<(Metric, f64)>)> {
    ctx.progress.enter(scheme, 0, Phase::RevocationWindow, None);
    let ttl = ctx.plan.revocation_ttl;
    // Repeat 0 (units count from 1), same length for every scheme: bytes per revoked token compare.
    let prefix = format!("{}rev:", ctx.unit_prefix(scheme, 0));
    let args = ctx.server_args(scheme, &prefix, Some(ttl));
    let a = ServerProcess::spawn(&args)?;
    let b = ServerProcess::spawn(&args)?;
    let rows = match load_rps {
        Some(rate) => {
            // me only, from users above the probes' (a probe's logout-all must not end a pool
            // user's sessions); the pool logs in again when the short TTL expires a credential.
            let vus = pool_size(rate).min(args.users.saturating_sub(LOAD_FIRST_USER).max(1));
            let long = Duration::from_secs_f64(ctx.plan.revocation_seconds() * 4.0 + 60.0);
            let model = LoadModel::Open { rate_stages: Ramp::constant(rate, long), vus };
            let mut config =
                LoadConfig::new(b.addr, Some(Scheme::new(scheme.as_str(), scheme.credential())), model);
            config.mix = super::me_only();
            config.first_user = LOAD_FIRST_USER;
            let done = CancellationToken::new();
            let load = authbench_loadgen::run(config, done.clone());
            let probes = async {
                tokio::time::sleep(LOAD_WARMUP).await;
                let rows = measure(scheme, a.addr, b.addr, ttl).await;
                done.cancel();
                rows
            };
            let (load, rows) = tokio::join!(load, probes);
            let load = load.context("the revocation phase's background load")?;
            let achieved = load.main().map(|e| e.rps);
            ctx.progress.note(&format!(
                "{scheme}: revocation probes one at a time, server B under open-model load at {rate:.0} req/s \
                 (achieved {:.0} req/s)",
                achieved.unwrap_or(f64::NAN)
            ));
            rows.map(|rows| under_load(rows, rate))
        }
        None => {
            ctx.progress
                .note(&format!("{scheme}: revocation probes without load (the repeats found no maximum)"));
            measure(scheme, a.addr, b.addr, ttl).await
        }
    };
    let costs = match (&rows, super::revocation_cost::applies(scheme)) {
        (Ok(_), true) => {
            ctx.progress.enter(scheme, 0, Phase::RevocationCost, None);
            super::revocation_cost::measure(ctx, scheme, a.addr, a.pid()).await
        }
        _ => Ok(Vec::new()),
    };
    a.stop();
    b.stop();
    let (rows, costs) = (rows?, costs?);
    ctx.store.clear_prefix(&prefix).await?;
    Ok((rows, costs))
}

/// The windows again with the store `rtt` away (a delay proxy before Redis, or before each Cluster
/// node), for the schemes with a store (a stateless window is the credential's lifetime, which
/// no RTT changes). The same two servers and probes as [`run`], no costs.
pub async fn with_rtt(ctx: &Ctx, scheme: SchemeKind, rtt: Duration) -> Result<Vec<StoreRttRevocationRow>> {
    if !scheme.uses_store() {
        return Ok(Vec::new());
    }
    ctx.progress.enter(scheme, 0, Phase::RevocationWindow, Some(&format!("{} µs RTT", rtt.as_micros())));
    let ttl = ctx.plan.revocation_ttl;
    let prefix = format!("{}rtt:", ctx.unit_prefix(scheme, 0));
    let mut args = ctx.server_args(scheme, &prefix, Some(ttl));
    let hop = Hop::start(&ctx.store, rtt)?;
    hop.point(&mut args);
    let (a, b) = (ServerProcess::spawn(&args)?, ServerProcess::spawn(&args)?);
    let rows = measure(scheme, a.addr, b.addr, ttl).await;
    a.stop();
    b.stop();
    drop(hop);
    ctx.store.clear_prefix(&prefix).await?;
    Ok(rows?
        .into_iter()
        .map(|r| StoreRttRevocationRow {
            scheme: r.scheme.to_string(),
            rtt_us: rtt.as_micros() as f64,
            action: r.action.to_owned(),
            window_s: r.window_s,
            rejected: r.rejected,
            note: r.note,
        })
        .collect())
}

/// Every probe's note names the load it ran under.
fn under_load(mut rows: Vec<Revocation>, rate: f64) -> Vec<Revocation> {
    for r in &mut rows {
        r.note.push_str(&format!("; under load on server B at {rate:.0} req/s"));
    }
    rows
}

const PROBE_EVERY: Duration = Duration::from_millis(25);

/// Independent logout / logout-all pairs per scheme, probed one at a time (a stateless copy's
/// wait for expiry overlaps the next probes): enough for a 95% interval of the window (the
/// report takes it on log windows: the geometric mean and its t interval).
pub const PROBES: u32 = 5;

/// The user whose credential is always valid (the floor's), below the probes' users.
const FLOOR_USER: u64 = 30;

/// The users of probe pair `k`: one for the single logout, one with two devices for logout-all.
fn probe_users(k: u32) -> (u64, u64) {
    (31 + 2 * k as u64, 32 + 2 * k as u64)
}

/// The revocation window a scheme promises across servers beyond the store's own round trip:
/// `session-cached` serves other servers' cached copies for up to its cache TTL; `session-tracked`
/// promises no more than the store's round trip plus one invalidation push.
pub fn promised_window(scheme: SchemeKind) -> Duration {
    match scheme {
        SchemeKind::SessionCached => authbench_servers::facts::DEFAULT_CACHE_TTL,
        _ => Duration::ZERO,
    }
}

async fn probe_until_rejected(
    addr: SocketAddr,
    cred: &Cred,
    since: Instant,
    limit: Duration,
) -> Result<Option<f64>> {
    loop {
        let status = me_status(addr, cred).await?;
        if status == 401 {
            return Ok(Some(since.elapsed().as_secs_f64()));
        }
        if since.elapsed() > limit {
            return Ok(None);
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

/// Measure logout and logout-all across two servers of one scheme started with `--ttl ttl`
/// (>= 2 s) on the same store and keys, [`PROBES`] times: credentials are issued by and warmed on
/// `probe` (server B), the actions go through `act` (server A), the copies are probed through B.
/// One probe at a time: each copy is polled alone for its scheme's promised window plus 250 ms;
/// one still accepted then waits for its expiry in a task of its own while the next probe runs.
pub async fn measure(
    scheme: SchemeKind,
    act: SocketAddr,
    probe: SocketAddr,
    ttl: Duration,
) -> Result<Vec<Revocation>> {
    // Stateless credentials die at exp; the JWT verifier adds its leeway on top.
    let limit = ttl + Duration::from_secs(authbench_servers::facts::JWT_LEEWAY_SECS + 3);
    let alone = revoked_within(scheme);
    let mut rows = Vec::new();
    let mut waiting = Vec::new();
    for k in 0..PROBES {
        let (single_user, devices_user) = probe_users(k);
        let single = login(act, single_user).await?;
        let device_a = login(act, devices_user).await?;
        let device_b = login(probe, devices_user).await?;
        // Logged in afresh per pair: the phase's short TTL would expire one kept for the phase.
        let valid = login(probe, FLOOR_USER).await?;
        // B serves every credential once before the action: whatever B caches, it now holds.
        for cred in [&single, &device_a, &device_b, &valid] {
            let status = me_status(probe, cred).await?;
            if status != 200 {
                bail!(
                    "{scheme}: server B answered {status} to a credential issued by server A (shared store and keys?)"
                );
            }
        }
        for (action, route, acting, copy) in [
            ("logout", path::LOGOUT, &single, &single),
            ("logout_all", path::LOGOUT_ALL, &device_a, &device_b),
        ] {
            let floor = floor(scheme, probe, &valid).await?;
            let status = http::send(act, "POST", route, &acting.headers(), None).await?.status;
            let at = Instant::now();
            match probe_until_rejected(probe, copy, at, alone).await? {
                Some(w) => rows.push(revocation(scheme, ttl, limit, k, action, status, Some(w), floor)),
                None => {
                    let copy = copy.clone();
                    waiting.push(tokio::spawn(async move {
                        let window = probe_until_rejected(probe, &copy, at, limit).await;
                        (k, action, status, floor, window)
                    }));
                }
            }
        }
    }
    for task in waiting {
        let (k, action, status, floor, window) = task.await.context("a revocation probe's task")?;
        rows.push(revocation(scheme, ttl, limit, k, action, status, window?, floor));
    }
    rows.sort_by_key(|r| (r.probe, r.action));
    Ok(rows)
}

/// How long a copy is polled alone: a rejection by then is the action's doing (the TTL is >= 2 s,
/// a server-side delete takes milliseconds), plus the window the scheme promises.
fn revoked_within(scheme: SchemeKind) -> Duration {
    Duration::from_millis(250) + promised_window(scheme)
}

/// The median round trip of `valid` (a credential nothing revokes) through `probe`, seconds.
async fn floor(scheme: SchemeKind, probe: SocketAddr, valid: &Cred) -> Result<f64> {
    let mut trips = Vec::with_capacity(FLOOR_SAMPLES);
    for _ in 0..FLOOR_SAMPLES {
        let started = Instant::now();
        let status = me_status(probe, valid).await?;
        if status != 200 {
            bail!("{scheme}: server B answered {status} to the always-valid credential");
        }
        trips.push(started.elapsed().as_secs_f64());
    }
    trips.sort_by(f64::total_cmp);
    Ok(trips[trips.len() / 2])
}

/// One probe's row: rejected within [`revoked_within`] (revoked), later (expired), or never.
#[allow(clippy::too_many_arguments)]
fn revocation(
    scheme: SchemeKind,
    ttl: Duration,
    limit: Duration,
    k: u32,
    action: &'static str,
    status: u16,
    window: Option<f64>,
    floor_s: f64,
) -> Revocation {
    let revoked = window.is_some_and(|w| w < revoked_within(scheme).as_secs_f64());
    let note = match window {
        Some(w) if revoked => {
            format!(
                "{action} through server A answered {status}; the copy was rejected by server B {:.1} ms later \
                 (an always-valid credential's round trip: {:.1} ms)",
                w * 1e3,
                floor_s * 1e3
            )
        }
        Some(w) => format!(
            "{action} through server A answered {status}; the copy stayed valid on server B until it expired {w:.1} s later (server run with --ttl {}s{}): \
             the window is the credential's remaining lifetime, up to the TTL (default 15 min)",
            ttl.as_secs(),
            if scheme.parent() == SchemeKind::Jwt { " + the verifier's 5 s leeway" } else { "" }
        ),
        None => format!(
            "{action} through server A answered {status}; server B still accepted the copy after {:.0} s",
            limit.as_secs_f64()
        ),
    };
    Revocation {
        scheme,
        action,
        probe: k,
        window_s: window.unwrap_or(limit.as_secs_f64()),
        rejected: revoked,
        note,
        ttl_s: ttl.as_secs_f64(),
        leeway_s: if scheme.parent() == SchemeKind::Jwt {
            authbench_servers::facts::JWT_LEEWAY_SECS as f64
        } else {
            0.0
        },
        default_ttl_s: authbench_servers::ServeArgs::new(scheme).ttl.as_secs_f64(),
        floor_s,
    }
}
