//! The revocation phase: the time from `logout` (or `logout-all` on another device) until the
//! old credential is rejected, measured by probing a server run with a short TTL so the stateless
//! schemes' window (the credential's remaining lifetime) is observed, not assumed. Once per
//! scheme, after every repeat.
//!
//! Measured across servers: the action goes through server A, the copied credential is probed
//! through server B, which shares A's store and keys and has served the credential before the
//! action (so a per-server cache of B holds it). Probing A itself would show ~0 ms for any design
//! that evicts its own cached copy, and prove nothing about the caches of the other replicas.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use authbench_contract::path;
use authbench_report::data::RevocationRow;
use authbench_report::metric::Metric;
use authbench_report::store_rtt::StoreRttRevocationRow;
use authbench_servers::SchemeKind;

use crate::compare::ctx::Ctx;
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
        }
    }
}

/// Measure one scheme's revocation window on a fresh server started with the plan's short TTL;
/// its Redis keys are deleted afterwards.
pub async fn run(ctx: &Ctx, scheme: SchemeKind) -> Result<(Vec<Revocation>, Vec<(Metric, f64)>)> {
    ctx.progress.enter(scheme, 0, Phase::RevocationWindow, None);
    let ttl = ctx.plan.revocation_ttl;
    // Repeat 0 (units count from 1), same length for every scheme: bytes per revoked token compare.
    let prefix = format!("{}rev:", ctx.unit_prefix(scheme, 0));
    let args = ctx.server_args(scheme, &prefix, Some(ttl));
    let a = ServerProcess::spawn(&args)?;
    let b = ServerProcess::spawn(&args)?;
    let rows = measure(scheme, a.addr, b.addr, ttl).await;
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

const PROBE_EVERY: Duration = Duration::from_millis(25);

/// Independent logout / logout-all pairs per scheme, probed concurrently (so the stateless
/// schemes wait for expiry once): enough for a 95% interval of the window (the report takes it
/// on log windows: the geometric mean and its t interval).
pub const PROBES: u32 = 5;

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
/// Every pair and both actions of a pair run concurrently.
pub async fn measure(
    scheme: SchemeKind,
    act: SocketAddr,
    probe: SocketAddr,
    ttl: Duration,
) -> Result<Vec<Revocation>> {
    let mut rows = Vec::new();
    let pairs =
        futures::future::join_all((0..PROBES).map(|k| measure_pair(scheme, act, probe, ttl, k))).await;
    for pair in pairs {
        rows.extend(pair?);
    }
    Ok(rows)
}

/// One logout and one logout-all (pair `k`), their copies probed through server B.
async fn measure_pair(
    scheme: SchemeKind,
    act: SocketAddr,
    probe: SocketAddr,
    ttl: Duration,
    k: u32,
) -> Result<Vec<Revocation>> {
    // Stateless credentials die at exp; the JWT verifier adds its leeway on top.
    let limit = ttl + Duration::from_secs(authbench_servers::facts::JWT_LEEWAY_SECS + 3);
    let (single_user, devices_user) = probe_users(k);
    let single = login(act, single_user).await?;
    let device_a = login(act, devices_user).await?;
    let device_b = login(probe, devices_user).await?;
    // B serves every credential once before the action: whatever B caches, it now holds.
    for cred in [&single, &device_a, &device_b] {
        let status = me_status(probe, cred).await?;
        if status != 200 {
            bail!(
                "{scheme}: server B answered {status} to a credential issued by server A (shared store and keys?)"
            );
        }
    }

    let out = http::send(act, "POST", path::LOGOUT, &single.headers(), None).await?;
    let logout_at = Instant::now();
    let all = http::send(act, "POST", path::LOGOUT_ALL, &device_a.headers(), None).await?;
    let all_at = Instant::now();
    let (a, b) = tokio::join!(
        probe_until_rejected(probe, &single, logout_at, limit),
        probe_until_rejected(probe, &device_b, all_at, limit)
    );
    // Revoked = the server rejected the copy as a consequence of the action, long before the
    // credential could have expired (the TTL is >= 2 s, a server-side delete takes milliseconds).
    let revoked_within = Duration::from_millis(250) + promised_window(scheme);
    let row = |action: &'static str, status: u16, window: Option<f64>| {
        let revoked = window.is_some_and(|w| w < revoked_within.as_secs_f64());
        let note = match window {
            Some(w) if revoked => {
                format!(
                    "{action} through server A answered {status}; the copy was rejected by server B {:.1} ms later",
                    w * 1e3
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
        }
    };
    Ok(vec![row("logout", out.status, a?), row("logout_all", all.status, b?)])
}
