//! Redis memory against logout rate, for the JWT variants (`jwt-revocable`, `jwt-pubsub`): their
//! Redis keeps an entry per revoked token until the token would have expired, so memory grows
//! with logouts × the tokens' lifetime, not with users (issue 12). Bytes per revoked token
//! ([`super::revocation_cost`]) give the size of one; this phase shows the steady state a rate
//! reaches, and so that memory follows the live entries.
//!
//! Once per scheme, after the revocation phase, on a server of its own started with the shortest
//! lifetimes (`--ttl 1s --refresh-ttl 1s`): every entry then lives at most 1 s + the verifier's
//! 5 s leeway, so a rate held 6 s reaches its plateau (shorter lifetimes are impossible, the
//! leeway is added to every entry). At each rate, rising, logouts are paced (each right after its
//! own login, so both tokens are fresh: the entries live their whole lifetime, the upper bound)
//! while Redis `used_memory` is sampled; at the end of the rate, memory and key count above the
//! pre-run baseline and the revocation entries under the server's prefix (`SCAN`) are recorded
//! against what the logouts' times predict. The report projects each rate to the default
//! lifetimes ([`authbench_report::revocation_entries`]).
//!
//! Levels follow each other without a pause: with `--quick`'s short levels (no plateau) a level's
//! figures include the previous level's entries still alive, which the expected count includes too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use authbench_contract::path;
use authbench_report::revocation_entries::{RevocationMemoryRow, live_entries};
use authbench_servers::SchemeKind;
use authbench_servers::ServeArgs;
use authbench_servers::facts::JWT_LEEWAY_SECS as LEEWAY_SECS;
use tokio::task::JoinSet;

use crate::compare::ctx::Ctx;
use crate::compare::plan::logout::{ACCESS_TTL, REFRESH_TTL, keeps_revocation_entries};
use crate::compare::schedule::Phase;
use crate::harness::credential::login;
use crate::harness::http;
use crate::harness::server::ServerProcess;

/// Login + logout pairs in flight at once (a slow answer must not hold the pacing back).
const IN_FLIGHT: usize = 16;
/// How often Redis `used_memory` is read during a level.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// Whether `scheme` keeps revocation entries in Redis (the JWT variants).
pub fn applies(scheme: SchemeKind) -> bool {
    keeps_revocation_entries(scheme)
}

/// Entries one logout stores that live the access token's lifetime (its `jti`; `jwt-pubsub` also
/// its family marker) and the refresh token's (its `jti`): the servers' logout scripts.
pub fn entries_per_logout(scheme: SchemeKind) -> (u32, u32) {
    match scheme {
        SchemeKind::JwtPubsub => (2, 1),
        _ => (1, 1),
    }
}

/// Measure `scheme` at every planned rate, pushing a row per rate into `rows` as it is measured
/// (so a failure keeps the rates already done); the server's keys are deleted afterwards.
pub async fn run(ctx: &Ctx, scheme: SchemeKind, rows: &mut Vec<RevocationMemoryRow>) -> Result<()> {
    ctx.progress.enter(scheme, 0, Phase::LogoutMemory, None);
    let prefix = format!("{}{scheme}:logout-memory:", ctx.prefix);
    let args = ServeArgs { refresh_ttl: REFRESH_TTL, ..ctx.server_args(scheme, &prefix, Some(ACCESS_TTL)) };
    let server = ServerProcess::spawn(&args)?;
    let result = measure(ctx, scheme, server.addr, &prefix, rows).await;
    server.stop();
    ctx.store.clear_prefix(&prefix).await?;
    result.with_context(|| format!("{scheme}: memory against logout rate"))
}

async fn measure(
    ctx: &Ctx,
    scheme: SchemeKind,
    addr: SocketAddr,
    prefix: &str,
    rows: &mut Vec<RevocationMemoryRow>,
) -> Result<()> {
    let plan = &ctx.plan.logout_memory;
    let (access, refresh) = entries_per_logout(scheme);
    let leeway = LEEWAY_SECS as f64;
    let (access_life, refresh_life) = (ACCESS_TTL.as_secs_f64() + leeway, REFRESH_TTL.as_secs_f64() + leeway);
    let defaults = ServeArgs::new(scheme);
    let memory0 = settled_memory(ctx).await?;
    let keys0 = keys(ctx).await?;
    let mut logouts: Vec<Instant> = Vec::new();
    let mut next_user = 0;
    for &rate in &plan.rates {
        ctx.progress.enter(scheme, 0, Phase::LogoutMemory, Some(&format!("{rate} /s")));
        let started = Instant::now();
        let (done, samples) = tokio::join!(
            pace(addr, scheme, rate, plan.level, ctx.plan.users.max(1), next_user),
            sample(ctx, started + plan.level)
        );
        let done = done?;
        next_user += done.len() as u64;
        let duration = started.elapsed().as_secs_f64();
        let memory = ctx.store.memory().await? as f64 - memory0 as f64;
        let added = keys(ctx).await? as f64 - keys0 as f64;
        let entries = ctx.store.count_matching(&format!("{prefix}j:*")).await?
            + ctx.store.count_matching(&format!("{prefix}x:*")).await?;
        let now = Instant::now();
        let ages: Vec<f64> =
            logouts.iter().chain(&done).map(|t| now.duration_since(*t).as_secs_f64()).collect();
        let peak = samples?.into_iter().map(|m| m as f64 - memory0 as f64).fold(memory, f64::max);
        rows.push(RevocationMemoryRow {
            scheme: scheme.to_string(),
            offered_rps: rate,
            achieved_rps: done.len() as f64 / duration,
            logouts: done.len() as u64,
            duration_s: duration,
            access_ttl_s: ACCESS_TTL.as_secs_f64(),
            refresh_ttl_s: REFRESH_TTL.as_secs_f64(),
            leeway_s: leeway,
            access_entries: access,
            refresh_entries: refresh,
            memory_bytes: memory,
            peak_bytes: peak,
            keys: added,
            entries,
            expected_entries: live_entries(&ages, access, refresh, access_life, refresh_life),
            default_access_ttl_s: defaults.ttl.as_secs_f64(),
            default_refresh_ttl_s: defaults.refresh_ttl.as_secs_f64(),
        });
        logouts.extend(done);
    }
    Ok(())
}

/// `used_memory` once it holds still: the phases before delete their keys, after which Redis
/// shrinks its key tables within a few cron ticks (~10-20 KiB freed at once, as much as the first
/// rate's entries), so a baseline read at once can sit above the run. Reads every 100 ms until two
/// agree within 1 KiB, at most 1 s.
async fn settled_memory(ctx: &Ctx) -> Result<u64> {
    let mut last = ctx.store.memory().await?;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = ctx.store.memory().await?;
        if now.abs_diff(last) < 1024 {
            return Ok(now);
        }
        last = now;
    }
    Ok(last)
}

/// Keys in Redis, summed over the primaries.
async fn keys(ctx: &Ctx) -> Result<u64> {
    Ok(ctx.store.shards().await?.iter().map(|s| s.keys).sum())
}

/// `used_memory` every [`SAMPLE_EVERY`] until `until`.
async fn sample(ctx: &Ctx, until: Instant) -> Result<Vec<u64>> {
    let mut out = Vec::new();
    while Instant::now() < until {
        out.push(ctx.store.memory().await?);
        tokio::time::sleep(SAMPLE_EVERY.min(until.saturating_duration_since(Instant::now()))).await;
    }
    Ok(out)
}

/// `rate` login + logout pairs per second for `level`, users `first + 1…` cycling through the
/// server's `users`; returns when each logout answered. Any answer but `204` stops the level.
async fn pace(
    addr: SocketAddr,
    scheme: SchemeKind,
    rate: f64,
    level: Duration,
    users: u64,
    first: u64,
) -> Result<Vec<Instant>> {
    let start = Instant::now();
    let n = (rate * level.as_secs_f64()).round().max(1.0) as u64;
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut set = JoinSet::new();
    let mut done = Vec::with_capacity(n as usize);
    for i in 0..n {
        tokio::time::sleep_until((start + Duration::from_secs_f64(i as f64 / rate)).into()).await;
        let slot = slots.clone().acquire_owned().await?;
        let uid = 1 + (first + i) % users;
        set.spawn(async move {
            let _slot = slot;
            pair(addr, scheme, rate, uid).await
        });
        while let Some(finished) = set.try_join_next() {
            done.push(finished??);
        }
    }
    while let Some(finished) = set.join_next().await {
        done.push(finished??);
    }
    tokio::time::sleep_until((start + level).into()).await;
    done.sort_unstable();
    Ok(done)
}

/// Log `uid` in and straight out again; when the logout answered `204`.
async fn pair(addr: SocketAddr, scheme: SchemeKind, rate: f64, uid: u64) -> Result<Instant> {
    let cred = login(addr, uid).await.with_context(|| format!("{scheme} at {rate} logouts/s"))?;
    let r = http::send(addr, "POST", path::LOGOUT, &cred.headers(), None).await?;
    if r.status != 204 {
        bail!("{scheme}: POST /auth/logout answered {} (not 204) at {rate} logouts/s", r.status);
    }
    Ok(Instant::now())
}
