//! One scheme × one repeat: spawn the server, check it, warm it, then measure — healthz vs me CPU,
//! the ramp of virtual users, and the session-scaling sweep — through the loadgen library.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use authbench_loadgen::Scheme;
use authbench_loadgen::config::LoadConfig;
use authbench_loadgen::mix::Mix;
use authbench_loadgen::ramp::{LoadModel, Ramp};
use authbench_loadgen::summary::Summary;
use authbench_report::data::{CheckRow, RampRow, SessionsRow};
use authbench_servers::SchemeKind;
use tokio_util::sync::CancellationToken;

use super::ctx::Ctx;
use super::checks;
use super::sweep::{Level, Sweep};
use crate::harness::redis;
use crate::harness::server::ServerProcess;

/// What one scheme × repeat produced.
#[derive(Default)]
pub struct UnitResult {
    pub checks: Vec<CheckRow>,
    pub ramp: Vec<RampRow>,
    pub sessions: Vec<SessionsRow>,
    /// (metric, value) pairs for summary.csv.
    pub metrics: Vec<(&'static str, &'static str, f64)>,
    pub me_body: Vec<u8>,
    pub credential: Option<(String, u64, u64)>,
    /// The steady `/api/me` run's histogram log, for the percentile spectrum.
    pub me_hlog: Option<PathBuf>,
    pub interrupted: bool,
    pub attacks: Vec<crate::reliability::AttackRow>,
}

fn load(
    ctx: &Ctx,
    server: &ServerProcess,
    scheme: Option<SchemeKind>,
    model: LoadModel,
    out: Option<PathBuf>,
) -> LoadConfig {
    let scheme = scheme.map(|s| Scheme::new(s.as_str(), s.credential()));
    let mut c = LoadConfig::new(server.addr, scheme, model);
    c.server_pid = Some(server.pid());
    c.redis_url = Some(ctx.redis_url.clone());
    c.out_dir = out;
    c.progress = false;
    c
}

/// Requests that failed and seconds in which the generator may have been the bottleneck, over
/// every recorded phase of a unit: both go to summary.csv so a reader sees them beside the figures.
#[derive(Default)]
struct Health {
    errors: u64,
    requests: u64,
    saturated_seconds: u64,
}

async fn run_load(
    config: LoadConfig,
    stop: &CancellationToken,
    what: &str,
    health: Option<&mut Health>,
) -> Result<Summary> {
    let summary =
        authbench_loadgen::run(config, stop.clone()).await.with_context(|| format!("load phase `{what}`"))?;
    if summary.target_lost {
        bail!("the server stopped answering during `{what}`");
    }
    if let Some(h) = health {
        // Requests left unanswered at the end fail like timeouts do (the loadgen's error_rate).
        h.errors += summary.total.errors + summary.total.unfinished;
        h.requests += summary.total.count;
        h.saturated_seconds += summary.generator.saturated_seconds;
    }
    Ok(summary)
}

/// One `sessions.csv` row from a sweep level.
fn sessions_row(scheme: SchemeKind, repeat: u32, level: &Level) -> SessionsRow {
    let s = &level.summary;
    let me = s.endpoints.get("me").and_then(|e| e.latency_us.as_ref());
    SessionsRow {
        scheme: scheme.to_string(),
        repeat,
        sessions: level.sessions,
        me_p50_us: me.map(|l| l.p50 as f64).unwrap_or(f64::NAN),
        me_p99_us: me.map(|l| l.p99 as f64).unwrap_or(f64::NAN),
        me_p999_us: me.map(|l| l.p999 as f64),
        server_cpu_us_per_req: s.server.cpu_us_per_req,
        redis_cpu_us_per_req: if scheme == SchemeKind::Session { s.redis.cpu_us_per_req } else { Some(0.0) },
        server_rss_bytes: level.server_rss_bytes.map(|v| v as f64),
        redis_used_memory: level.redis_used_memory.map(|v| v as f64),
        redis_keys: level.redis_keys,
    }
}

fn me_only() -> Mix {
    Mix { me: 100, refresh: 0, logout: 0 }
}

/// Read the per-second rows of a ramp run's `timeseries.csv`.
fn ramp_rows(path: &Path, scheme: SchemeKind, repeat: u32) -> Result<Vec<RampRow>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (t, vus, rps, p50, p99, errs) =
        (col("t_s"), col("active_vus"), col("me_rps"), col("me_p50_us"), col("me_p99_us"), col("me_errors"));
    let (scpu, rcpu, rss, mem) = (
        col("server_cpu_us_per_req"),
        col("redis_cpu_us_per_req"),
        col("server_rss_bytes"),
        col("redis_used_memory"),
    );
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let num = |i: Option<usize>| i.and_then(|i| record.get(i)).and_then(|v| v.parse::<f64>().ok());
        let (Some(t_s), Some(p50), Some(p99)) = (num(t), num(p50), num(p99)) else { continue };
        rows.push(RampRow {
            scheme: scheme.to_string(),
            repeat,
            t_s,
            active_vus: num(vus).unwrap_or(0.0) as u64,
            me_rps: num(rps).unwrap_or(0.0),
            me_p50_us: p50,
            me_p99_us: p99,
            errors: num(errs).unwrap_or(0.0) as u64,
            server_cpu_us_per_req: num(scpu),
            redis_cpu_us_per_req: num(rcpu),
            server_rss_bytes: num(rss),
            redis_used_memory: num(mem),
        });
    }
    Ok(rows)
}

/// Measure one scheme once. Stops early (with what it has) when `stop` fires.
pub async fn unit(
    ctx: &Ctx,
    scheme: SchemeKind,
    repeat: u32,
    stop: &CancellationToken,
) -> Result<UnitResult> {
    let plan = &ctx.plan;
    let prefix = format!("{}{scheme}:{repeat}:", ctx.prefix);
    let dir = plan.out.join("runs").join(format!("{scheme}-r{repeat}"));
    std::fs::create_dir_all(&dir)?;
    let mut r = UnitResult::default();
    ctx.progress.phase(scheme, repeat, "start server");
    let server = ServerProcess::spawn(scheme, &ctx.server_args(scheme, &prefix, None))?;

    // 1. Equivalence and real-work checks: nothing is measured from a server that fails them.
    ctx.progress.phase(scheme, repeat, "checks");
    let strict_store = ctx.owns_redis.then_some(&ctx.redis_info);
    let checked = checks::run(scheme, server.addr, strict_store).await?;
    r.checks = checked.rows;
    r.me_body = checked.me_body;

    // Bad credentials derived from a real one, counted (reliability.md); first repeat only.
    if repeat == 1 {
        ctx.progress.phase(scheme, repeat, "attack battery");
        r.attacks = crate::reliability::attack::run(scheme, server.addr).await?;
        let bad: u64 = r.attacks.iter().map(|a| a.accepted + a.server_errors).sum();
        if bad > 0 {
            bail!("{scheme}: {bad} forged credentials were accepted or caused a 5xx (see attacks.csv)");
        }
    }

    // 2. Primer and warm-up, not recorded.
    ctx.progress.phase(scheme, repeat, "warm-up");
    let warm = Ramp::constant(plan.steady_vus as f64, plan.warmup);
    let mut c = load(ctx, &server, Some(scheme), LoadModel::Closed { stages: warm }, None);
    c.mix = me_only();
    run_load(c, stop, "warm-up", None).await?;
    if stop.is_cancelled() {
        r.interrupted = true;
        return Ok(r);
    }

    // 3. CPU per request: healthz (no auth) then /api/me, same server, same connection count.
    ctx.progress.phase(scheme, repeat, "healthz baseline");
    let steady = || LoadModel::Closed { stages: Ramp::constant(plan.steady_vus as f64, plan.steady) };
    let mut health = Health::default();
    let healthz = run_load(
        load(ctx, &server, None, steady(), Some(dir.join("healthz"))),
        stop,
        "healthz",
        Some(&mut health),
    )
    .await?;
    ctx.progress.phase(scheme, repeat, "me steady");
    let mut c = load(ctx, &server, Some(scheme), steady(), Some(dir.join("me")));
    c.mix = me_only();
    let me = run_load(c, stop, "me steady", Some(&mut health)).await?;
    r.me_hlog = Some(dir.join("me").join("me.hlog"));
    if let (Some(h), Some(m)) = (healthz.server.cpu_us_per_req, me.server.cpu_us_per_req) {
        // The servers issue's figure: (server + redis-server CPU per /api/me) / (server CPU per
        // /healthz), same server, same run. Redis counts only where the scheme uses it.
        let redis_m =
            if scheme == SchemeKind::Session { me.redis.cpu_us_per_req.unwrap_or(0.0) } else { 0.0 };
        r.metrics.push(("healthz_cpu_us_per_req", "us", h));
        r.metrics.push(("me_cpu_us_per_req_server", "us", m));
        r.metrics.push(("me_cpu_us_per_req_redis", "us", redis_m));
        r.metrics.push(("me_cpu_us_per_req_total", "us", m + redis_m));
        r.metrics.push(("cpu_ratio_me_over_healthz", "ratio", (m + redis_m) / h));
    }
    if let Some(e) = me.endpoints.get("me") {
        if let Some(l) = &e.latency_us {
            r.metrics.push(("me_steady_p50_us", "us", l.p50 as f64));
            r.metrics.push(("me_steady_p99_us", "us", l.p99 as f64));
        }
        r.metrics.push(("me_steady_rps", "req/s", e.rps));
        let cred = e.credential_bytes_per_req.unwrap_or(checked.credential_bytes as f64);
        r.metrics.push(("credential_bytes", "bytes", cred));
        r.credential = Some((
            checked.request_header.to_owned(),
            cred.round() as u64,
            e.bytes_sent_per_req.round() as u64,
        ));
    }
    if stop.is_cancelled() {
        r.interrupted = true;
        return Ok(r);
    }

    // 4. The ramp of concurrent users, with the full mix (login, me, refresh, logout).
    ctx.progress.phase(scheme, repeat, "ramp");
    let mut c = load(
        ctx,
        &server,
        Some(scheme),
        LoadModel::Closed { stages: plan.stages.clone() },
        Some(dir.join("ramp")),
    );
    c.think = plan.think;
    c.first_user = 1;
    let ramp = run_load(c, stop, "ramp", Some(&mut health)).await?;
    r.ramp = ramp_rows(&dir.join("ramp").join("timeseries.csv"), scheme, repeat)?;
    let me_rows: Vec<&RampRow> = r.ramp.iter().filter(|row| row.active_vus > 0).collect();
    if let Some(max) = me_rows.iter().map(|row| row.me_rps).reduce(f64::max) {
        r.metrics.push(("me_rps_max", "req/s", max));
    }
    if let Some(l) = ramp.endpoints.get("me").and_then(|e| e.latency_us.as_ref()) {
        r.metrics.push(("me_p50_us", "us", l.p50 as f64));
        r.metrics.push(("me_p99_us", "us", l.p99 as f64));
    }
    for (endpoint, metric) in [("login", "login_p50_us"), ("refresh", "refresh_p50_us")] {
        if let Some(l) = ramp.endpoints.get(endpoint).and_then(|e| e.latency_us.as_ref()) {
            r.metrics.push((metric, "us", l.p50 as f64));
        }
    }
    if let Some(rss) = ramp.server.rss_bytes_max {
        r.metrics.push(("server_rss_bytes_max", "bytes", rss as f64));
    }
    if let Some(m) = ramp.redis.used_memory_max {
        r.metrics.push(("redis_used_memory_max", "bytes", m as f64));
    }
    if stop.is_cancelled() {
        r.interrupted = true;
        return Ok(r);
    }

    // 5. Session-scaling sweep: one session per user, lookups drawn uniformly (see `sweep`).
    let sweep = Sweep {
        scheme,
        server_addr: server.addr,
        server_pid: server.pid(),
        redis_url: &ctx.redis_url,
        prefix: &prefix,
        keys: &ctx.keys.issue,
        levels: &plan.levels,
        rate: plan.rate,
        duration: plan.sweep,
        vus: plan.steady_vus,
        out_dir: &dir,
    };
    let levels =
        sweep.run(stop, |n| ctx.progress.phase(scheme, repeat, &format!("sweep {n} sessions"))).await?;
    for level in &levels {
        let s = &level.summary;
        health.errors += s.total.errors + s.total.unfinished;
        health.requests += s.total.count;
        health.saturated_seconds += s.generator.saturated_seconds;
        ctx.progress.note(&format!(
            "{scheme} r{repeat}: {} sessions preloaded in {:.1} s, at rest after {:.1} s ({})",
            level.sessions,
            level.preload.as_secs_f64(),
            level.rest_wait.as_secs_f64(),
            level.rest.map_or("-", |r| r.as_str()),
        ));
        r.sessions.push(sessions_row(scheme, repeat, level));
    }
    if stop.is_cancelled() {
        r.interrupted = true;
    }
    r.metrics.push(("load_errors", "requests", health.errors as f64));
    r.metrics.push(("load_requests", "requests", health.requests as f64));
    r.metrics.push(("generator_saturated_seconds", "s", health.saturated_seconds as f64));
    if health.errors > 0 {
        ctx.progress.note(&format!(
            "{scheme} r{repeat}: {} of {} requests failed (see runs/*/timeseries.csv)",
            health.errors, health.requests
        ));
    }
    server.stop();
    redis::clear_prefix(&ctx.redis_url, &prefix).await?;
    Ok(r)
}
