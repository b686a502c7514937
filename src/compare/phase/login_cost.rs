//! Login at the production password-hashing cost, once per scheme after everything else
//! (`login_cost.csv`): a server started *without* `--fast-login` (the servers' default, argon2id
//! m=19 MiB, t=2, p=1), with the same store and keys as the other phases.
//!
//! 1. **Its login maximum**, a short closed-loop step: [`CONCURRENCY`] logins in flight (the
//!    server runs one argon2 per core and queues the rest), each user once, for the plan's step
//!    (2 s; `--quick` 1 s).
//! 2. **Logins at a fixed rate** below it ([`SHARE`] of the maximum) for the plan's window, one
//!    connection per login (a login is a new client), paced from a schedule: latency from the
//!    intended send (p50, p99), server CPU per login (`/proc`, ns) and Redis CPU per login
//!    (`INFO`), and from the server's CPU the logins one core completes per second — what the
//!    re-login storm after a store outage without persistence is computed from (1M users ÷ logins/s
//!    per core = core-seconds to log everyone back in).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use authbench_contract::path;
use authbench_report::plan_inputs::LoginCostRow;
use authbench_servers::SchemeKind;
use authbench_servers::facts::PasswordCost;
use hdrhistogram::Histogram;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::compare::ctx::Ctx;
use crate::compare::plan::Plan;
use crate::compare::schedule::Phase;
use crate::harness::http;
use crate::harness::server::ServerProcess;

/// Logins in flight during the search for the maximum.
pub const CONCURRENCY: usize = 8;
/// The fixed rate, as a share of the maximum found.
pub const SHARE: f64 = 0.7;
/// Users the phase logs in (each once): the search and the window together stay far below.
pub const USERS: u64 = 5_000;

/// Whether the phase logs in to `scheme` in this run: always, except under `--quick`, where one
/// scheme per credential design stands for its variants (the password hash, the cost that
/// dominates a login, is the same argon2id in every scheme): cookie, session and jwt, or a variant
/// whose parent is not in the run.
pub fn applies(plan: &Plan, scheme: SchemeKind) -> bool {
    !plan.quick || scheme.parent() == scheme || !plan.schemes.contains(&scheme.parent())
}

/// The `environment.json` note of the variants [`applies`] leaves out, if any.
pub fn skipped_note(plan: &Plan) -> Option<String> {
    let left: Vec<&str> = plan.schemes.iter().filter(|s| !applies(plan, **s)).map(|s| s.as_str()).collect();
    (!left.is_empty()).then(|| {
        format!(
            "production login: --quick measures one scheme per credential design; their parents stand for \
             {} (the same argon2id hash)",
            left.join(", ")
        )
    })
}

/// One login of `user{uid}`: its status.
async fn login(addr: SocketAddr, uid: u64) -> Result<u16> {
    let body = format!(r#"{{"username":"user{uid}","password":"password{uid}"}}"#);
    Ok(http::send(addr, "POST", path::LOGIN, &[], Some(&body)).await?.status)
}

/// Measure `scheme`; the server's Redis keys are deleted afterwards.
pub async fn run(ctx: &Ctx, scheme: SchemeKind, stop: &CancellationToken) -> Result<Option<LoginCostRow>> {
    ctx.progress.enter(scheme, 0, Phase::ProductionLogin, Some("maximum"));
    let prefix = format!("{}login:", ctx.unit_prefix(scheme, 0));
    let mut args = ctx.server_args(scheme, &prefix, None);
    args.fast_login = false;
    args.users = USERS;
    let server = ServerProcess::spawn(&args)?;
    let measured = measure(ctx, scheme, server.addr, server.pid(), stop).await;
    server.stop();
    ctx.store.clear_prefix(&prefix).await?;
    measured
}

async fn measure(
    ctx: &Ctx,
    scheme: SchemeKind,
    addr: SocketAddr,
    pid: u32,
    stop: &CancellationToken,
) -> Result<Option<LoginCostRow>> {
    let next = Arc::new(AtomicU64::new(1));
    // The maximum: CONCURRENCY logins in flight for the plan's step.
    let step = ctx.plan.login_step;
    let started = Instant::now();
    let workers = (0..CONCURRENCY).map(|_| {
        let next = next.clone();
        async move {
            let mut ok = 0u64;
            while started.elapsed() < step {
                let uid = next.fetch_add(1, Ordering::Relaxed);
                if uid > USERS || login(addr, uid).await? != 200 {
                    bail!("a login failed while searching for the maximum");
                }
                ok += 1;
            }
            anyhow::Ok(ok)
        }
    });
    let done: u64 = futures::future::try_join_all(workers).await?.into_iter().sum();
    let max = done as f64 / started.elapsed().as_secs_f64();
    if stop.is_cancelled() || max <= 0.0 {
        return Ok(None);
    }

    let rate = SHARE * max;
    let window = ctx.plan.login_window;
    ctx.progress.enter(scheme, 0, Phase::ProductionLogin, Some(&format!("{rate:.0} logins/s")));
    let cpu0 = authbench_loadgen::read_proc(pid)?;
    let redis0 = ctx.store.cpu().await?;
    let t0 = Instant::now();
    let planned = (rate * window.as_secs_f64()).round().max(1.0) as u64;
    let sends = (0..planned).map(|k| {
        let intended = t0 + Duration::from_secs_f64(k as f64 / rate);
        let uid = next.fetch_add(1, Ordering::Relaxed);
        async move {
            tokio::time::sleep_until(intended).await;
            let status = if uid > USERS { 0 } else { login(addr, uid).await.unwrap_or(0) };
            (status, intended.elapsed())
        }
    });
    let answers = futures::future::join_all(sends).await;
    let elapsed = t0.elapsed();
    let cpu1 = authbench_loadgen::read_proc(pid)?;
    let redis1 = ctx.store.cpu().await?;

    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = 0;
    for (status, took) in &answers {
        if *status == 200 {
            latency.record(took.as_micros().max(1) as u64)?;
        } else {
            errors += 1;
        }
    }
    let logins = latency.len();
    if logins == 0 {
        bail!("{scheme}: no login succeeded at {rate:.0} logins/s");
    }
    let server_us = cpu1.cpu_since(&cpu0).as_secs_f64() * 1e6 / logins as f64;
    let redis_us = (redis1.saturating_sub(redis0)).as_secs_f64() * 1e6 / logins as f64;
    let cost = PasswordCost::OWASP;
    let row = LoginCostRow {
        scheme: scheme.to_string(),
        repeat: 1,
        argon2_m_kib: cost.m_kib,
        argon2_t: cost.t,
        argon2_p: cost.p,
        offered_rps: rate,
        achieved_rps: logins as f64 / elapsed.as_secs_f64(),
        logins,
        errors,
        server_cpu_us_per_login: server_us,
        redis_cpu_us_per_login: scheme.uses_store().then_some(redis_us),
        p50_ms: latency.value_at_quantile(0.5) as f64 / 1e3,
        p99_ms: latency.value_at_quantile(0.99) as f64 / 1e3,
        logins_per_core_s: 1e6 / server_us,
    };
    ctx.progress.note(&format!(
        "{scheme}: production login (argon2id m={} KiB t={} p={}): maximum {max:.0}/s; at {rate:.0}/s {:.1} ms of server CPU per login \
         ({:.0} logins/s per core), p50 {:.0} ms, p99 {:.0} ms, {errors} errors",
        cost.m_kib,
        cost.t,
        cost.p,
        server_us / 1e3,
        row.logins_per_core_s,
        row.p50_ms,
        row.p99_ms
    ));
    Ok(Some(row))
}
