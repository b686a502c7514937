//! The validation phase, the run's last (`validation.csv`): for session, jwt, session-cached and
//! session-tracked (those in the run), the capacity answer computed from this run's own rows
//! ([`super::prediction`]) for a workload this machine holds, then exactly that workload run and
//! measured, predicted beside measured with the error.
//!
//! Per scheme, on a private redis-server of its own and a fresh server (one process, pinned like
//! every server): `--validate-users` sessions (200k) written through the real key layout
//! (`SessionStore::create_many`, as the sweep does; Redis `used_memory` read before and after,
//! at rest), then the open model at the plan's utilisation of the scheme's maximum in this run,
//! from as many active users at 0.1 req/s as that takes (`--validate-active` × `--validate-rate`
//! fix it instead), the credential pool drawing the active users uniformly (jwt: the
//! pool's own logins — a token holds no server state, so who is active changes nothing). After a
//! warm-up of three cache TTLs a second run of the same load is the window (15 s): server CPU
//! (`/proc`, ns) and Redis CPU (`INFO`) read around it, in cores; the caches' hits and misses
//! from `/metrics`; the window's p99. Where |error| > 15% the note names the input that is off.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use authbench_loadgen::{CredentialsBuilder, LoadModel, Ramp};
use authbench_report::plan_inputs::ValidationRow;
use authbench_servers::SchemeKind;
use authbench_servers::direct::{SessionStore, StoreTarget};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Unit;
use super::prediction::{Predicted, maximum, predict, workload};
use crate::compare::ctx::Ctx;
use crate::compare::plan::validate::{ValidationPlan, validates};
use crate::compare::rate_step::pool_size;
use crate::compare::schedule::Phase;
use crate::harness::metrics;
use crate::harness::redis::{RedisInfo, RedisServer, commands_per_read};
use crate::harness::replicas::Replicated;

/// An error beyond this share gets a note naming the input that is off.
pub const TOLERANCE_PCT: f64 = 15.0;

/// What the window measured.
#[derive(Debug, Clone, Copy, Default)]
struct Measured {
    app_cpu_cores: f64,
    redis_cpu_cores: f64,
    redis_memory_bytes: f64,
    hit_ratio: Option<f64>,
    p99_us: Option<f64>,
    achieved_rps: f64,
    /// Commands Redis found per read of a socket over the window: the servers' own batching, to
    /// set beside the direct drive's (`redis_direct.csv` `commands_per_read`).
    commands_per_read: Option<f64>,
}

/// Run the phase for every validated scheme of the run; rows appended to `rows`.
pub async fn run(
    ctx: &Ctx,
    plan: &ValidationPlan,
    stop: &CancellationToken,
    rows: &mut Vec<ValidationRow>,
) -> Result<()> {
    let utilisation = ctx.plan.saturation.utilization;
    for &scheme in ctx.plan.schemes.iter().filter(|&&s| validates(s)) {
        if stop.is_cancelled() {
            break;
        }
        let v = &plan.at_utilisation(maximum(&ctx.plan.out, scheme.as_str(), utilisation)?, utilisation);
        let w = workload(v, utilisation, ctx.plan.redis_utilisation);
        let Some(p) = predict(&ctx.plan.out, scheme.as_str(), v, &w)? else {
            ctx.progress
                .note(&format!("{scheme}: validation: no prediction (no CPU step at the utilisation)"));
            continue;
        };
        let m = measure(ctx, scheme, v, stop).await?;
        let new = compare(scheme, v, &p, &m);
        for r in &new {
            ctx.progress.note(&format!(
                "{scheme}: validation {}: predicted {:.4} measured {:.4} ({:+.1}%){}",
                r.figure,
                r.predicted,
                r.measured,
                r.error_pct,
                if r.note.is_empty() { String::new() } else { format!(" — {}", r.note) }
            ));
        }
        rows.extend(new);
    }
    Ok(())
}

async fn measure(
    ctx: &Ctx,
    scheme: SchemeKind,
    v: &ValidationPlan,
    stop: &CancellationToken,
) -> Result<Measured> {
    ctx.progress.enter(scheme, 0, Phase::Validation, Some("private redis-server"));
    let redis = tokio::task::spawn_blocking(RedisServer::start)
        .await?
        .context("validation: a private redis-server")?;
    let url = redis.url();
    let info = RedisInfo::connect(&url).await?;
    let prefix = format!("{}val:", ctx.unit_prefix(scheme, 0));
    let mut args = ctx.server_args(scheme, &prefix, None);
    if scheme.uses_store() {
        (args.redis_url, args.redis_cluster) = (Some(url.clone()), None);
    }
    args.workers = None;
    // One process: no HAProxy, so no scratch folder; the phase's loads write no run files.
    let dir = ctx.plan.out.clone();
    let server = Replicated::spawn(&args, 1, &dir)?;
    let u = Unit { ctx, scheme, repeat: 0, server: &server, prefix: &prefix, dir, stop };
    let measured = window(&u, v, &url, &info).await;
    server.stop();
    drop(redis);
    measured
}

async fn window(u: &Unit<'_>, v: &ValidationPlan, url: &str, info: &RedisInfo) -> Result<Measured> {
    let scheme = u.scheme;
    let memory0 = info.sample().await?.used_memory;
    let mut pool = None;
    if scheme.uses_store() {
        u.enter_at(Phase::Validation, &format!("{} stored sessions", v.users));
        let target = StoreTarget::Single(url.to_owned());
        let store = SessionStore::connect_bulk_to(&target, u.prefix, Duration::from_secs(3600)).await?;
        let mut issued = CredentialsBuilder::new();
        let cookie = format!("{}=", authbench_contract::credential::SESSION_COOKIE);
        let mut first = 1;
        while first <= v.users {
            let last = (first + 1999).min(v.users);
            let sids = store.create_many(first..=last).await.map_err(|e| anyhow!("{e} while preloading"))?;
            for sid in sids.iter().take(v.active.saturating_sub(first - 1) as usize) {
                issued.push_parts(cookie.as_bytes(), sid.as_bytes());
            }
            first = last + 1;
        }
        pool = Some(Arc::new(
            issued
                .pool(http::header::COOKIE, v.active as usize)
                .context("a session id is no header value")?,
        ));
    }
    // At rest: the preload's writes done before memory is read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let memory1 = info.sample().await?.used_memory;

    let rps = v.total_rps();
    let config = |length: Duration| {
        let model = LoadModel::Open { rate_stages: Ramp::constant(rps, length), vus: pool_size(rps) };
        let mut c = u.load(Some(scheme), model, None);
        c.redis_url = Some(url.to_owned());
        c.credentials = pool.clone();
        c
    };
    u.enter_at(Phase::Validation, &format!("warm-up at {rps:.0} req/s"));
    u.run_load(config(v.warm), Phase::Validation, None).await?;
    u.enter_at(Phase::Validation, &format!("{rps:.0} req/s for {:.0} s", v.window.as_secs_f64()));
    let replicas = u.server.replica_addrs();
    let cache0 = metrics::cache(&replicas).await?;
    let (cpu0, redis0) = (authbench_loadgen::read_proc(u.server.pid())?, info.sample().await?.cpu);
    let io0 = info.io().await.ok();
    let t0 = Instant::now();
    let summary = u.run_load(config(v.window), Phase::Validation, None).await?;
    let elapsed = t0.elapsed().as_secs_f64();
    let (cpu1, redis1) = (authbench_loadgen::read_proc(u.server.pid())?, info.sample().await?.cpu);
    let io1 = info.io().await.ok();
    let cache1 = metrics::cache(&replicas).await?;
    let hit_ratio = match (cache0, cache1) {
        (Some(a), Some(b)) => {
            let (hits, misses) = (b.hits.saturating_sub(a.hits), b.misses.saturating_sub(a.misses));
            (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64)
        }
        _ => None,
    };
    Ok(Measured {
        app_cpu_cores: cpu1.cpu_since(&cpu0).as_secs_f64() / elapsed,
        redis_cpu_cores: redis1.saturating_sub(redis0).as_secs_f64() / elapsed,
        redis_memory_bytes: memory1 as f64 - memory0 as f64,
        hit_ratio,
        p99_us: summary.total.latency_us.as_ref().map(|l| l.p99 as f64),
        achieved_rps: summary.total.rps,
        commands_per_read: io0.zip(io1).and_then(|(a, b)| commands_per_read(a, b)),
    })
}

/// The rows of one scheme: each figure the prediction has, beside its measurement.
fn compare(scheme: SchemeKind, v: &ValidationPlan, p: &Predicted, m: &Measured) -> Vec<ValidationRow> {
    let rps = m.achieved_rps.max(1e-9);
    let mut figures: Vec<(&str, f64, f64, String)> = vec![(
        "app_cpu_cores",
        p.app_cpu_cores,
        m.app_cpu_cores,
        format!(
            "server CPU per request: the utilisation step's {:.1} µs (cpu_vs_load.csv) against {:.1} µs at {:.0} req/s \
             here — likely because the cost per request is not constant in load (per-second work such as timers and connection \
             upkeep weighs more at a low rate)",
            p.server_us,
            m.app_cpu_cores * 1e6 / rps,
            rps
        ),
    )];
    if let Some(pred) = p.redis_cpu_cores {
        figures.push((
            "redis_cpu_cores",
            pred,
            m.redis_cpu_cores,
            format!(
                "Redis CPU per lookup: {:.1} µs driven directly at the shard's utilisation (redis_direct.csv, with its \
                 commands per read) against {:.1} µs per request here at {:.0}% busy, {} commands per read — likely because \
                 Redis's cost per command falls with how many it finds per read and how busy it is, and here it shares its core \
                 with the server",
                p.redis_lookup_us.unwrap_or(f64::NAN),
                m.redis_cpu_cores * 1e6 / rps,
                m.redis_cpu_cores * 100.0,
                m.commands_per_read.map_or_else(|| "?".to_owned(), |c| format!("{c:.1}"))
            ),
        ));
    }
    if let Some(pred) = p.redis_memory_bytes {
        figures.push((
            "redis_memory_bytes",
            pred,
            m.redis_memory_bytes,
            format!(
                "Redis bytes per session: {:.0} B (store_bytes.csv, measured at other levels) against {:.0} B for {} \
                 here — likely because the main hash table's size doubles at powers of two, so bytes per key depend on the level",
                p.bytes_per_user.unwrap_or(f64::NAN),
                m.redis_memory_bytes / v.users as f64,
                v.users
            ),
        ));
    }
    if let (Some(pred), Some(meas)) = (p.hit_ratio, m.hit_ratio) {
        figures.push((
            "hit_ratio",
            pred,
            meas,
            format!(
                "hit ratio: hit_ratio.csv or the model (at {} req/s per user) against the window's /metrics — likely because the \
                 warm-up or the window is too short for the cache's steady state, or the draws are not Poisson per user",
                v.rate_per_user
            ),
        ));
    }
    if let (Some(pred), Some(meas)) = (p.p99_us, m.p99_us) {
        let read = if p.p99_share > p.share {
            format!(
                "read at the lowest measured share {:.2} (this workload is {:.3} of the maximum)",
                p.p99_share, p.share
            )
        } else {
            format!("read at {:.3} of the maximum", p.share)
        };
        figures.push((
            "p99_us",
            pred,
            meas,
            format!(
                "p99: the CPU-against-load curve (cpu_vs_load.csv) {read}; a short window's p99 rests on few requests \
                 and a light load's on scheduler wake-ups"
            ),
        ));
    }
    figures
        .into_iter()
        .map(|(figure, predicted, measured, why)| {
            let error_pct = (predicted - measured) / measured * 100.0;
            ValidationRow {
                scheme: scheme.to_string(),
                figure: figure.to_owned(),
                predicted,
                measured,
                error_pct,
                note: if error_pct.abs() > TOLERANCE_PCT || !error_pct.is_finite() {
                    why
                } else {
                    String::new()
                },
            }
        })
        .collect()
}
