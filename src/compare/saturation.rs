//! Saturation and load: open-model runs at fixed arrival rates against one running server.
//!
//! - [`search`]: the stepped search for the knee ([`super::knee`] decides the rates and judges
//!   each step) — the maximum sustainable throughput of the scheme on this machine, where server,
//!   Redis and the generator share the cores;
//! - [`ladder`]: CPU per request (server and Redis) at fixed shares of that maximum, since a fleet
//!   runs at partial load and pays a different CPU per request than at saturation;
//! - [`run_rate`]: one fixed-rate run, used by both and by the percentile spectrum's run at the
//!   same arrival rate for every scheme.
//!
//! Every run is `loadgen::run` with `LoadModel::Open` (latency timed from the intended send,
//! coordinated-omission corrected) and writes its files under the unit's `runs/` folder, so the
//! lost-request audit covers it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_loadgen::config::LoadConfig;
use authbench_loadgen::ramp::{LoadModel, Ramp};
use authbench_loadgen::summary::Summary;
use tokio_util::sync::CancellationToken;

use super::knee::{Limits, Observed, Search, SearchPlan};

/// Pause between two runs, so the previous run's connections are closed before the next opens.
const BETWEEN_RUNS: Duration = Duration::from_millis(200);

/// Open-model pool: enough logged-in connections that each has this long per request before it
/// falls behind its share of the schedule (so the pool is not the first limit).
const PER_CONNECTION_BUDGET: Duration = Duration::from_millis(5);
const MIN_POOL: u64 = 50;
const MAX_POOL: u64 = 1000;

/// Connections of the open-model pool for an arrival rate.
pub fn pool_size(rate_rps: f64) -> u64 {
    ((rate_rps * PER_CONNECTION_BUDGET.as_secs_f64()).ceil() as u64).clamp(MIN_POOL, MAX_POOL)
}

/// What one fixed-rate run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RateStep {
    pub offered_rps: f64,
    /// Successful requests of the main endpoint (`/api/me`, `/healthz` without a scheme) per second.
    pub achieved_rps: f64,
    pub vus: u64,
    /// Corrected latency of the main endpoint, µs.
    pub p50_us: Option<f64>,
    pub p90_us: Option<f64>,
    pub p99_us: Option<f64>,
    pub p999_us: Option<f64>,
    /// The same p99 timed from the actual send (what an uncorrected tool would say).
    pub p99_uncorrected_us: Option<f64>,
    pub errors: u64,
    /// Arrivals scheduled but never sent before the run ended.
    pub dropped: u64,
    pub server_cpu_us_per_req: Option<f64>,
    /// redis-server CPU per request as measured (INFO); includes Redis's own background work.
    pub redis_cpu_us_per_req: Option<f64>,
    /// Busy share of one core over the run, %.
    pub server_cpu_pct: Option<f64>,
    pub redis_cpu_pct: Option<f64>,
    pub generator_cpu_pct: f64,
    pub generator_lag_ms: f64,
    /// The generator may have been the bottleneck in at least one second of the run.
    pub generator_saturated: bool,
    /// Which knee limits the run broke (judged against the SLO it was run with).
    pub limits: Limits,
}

impl RateStep {
    pub fn from_summary(offered_rps: f64, vus: u64, s: &Summary, slo_p99_us: f64) -> RateStep {
        let main = s.endpoints.get("me").or_else(|| s.endpoints.get("healthz"));
        let latency = main.and_then(|e| e.latency_us.as_ref());
        let pct = |f: fn(&authbench_loadgen::summary::Latency) -> u64| latency.map(|l| f(l) as f64);
        let count = main.map_or(0, |e| e.count);
        let achieved_rps = if s.duration_s > 0.0 { count as f64 / s.duration_s } else { 0.0 };
        let attempts = s.total.count + s.total.errors + s.total.unfinished;
        let redis_cpu_pct = s
            .redis
            .cpu_us_per_req
            .filter(|_| s.duration_s > 0.0)
            .map(|us| us * attempts as f64 / s.duration_s / 1e4);
        let p99_us = pct(|l| l.p99);
        // Unfinished requests (left unanswered at the end) fail like timeouts, as in error_rate.
        let errors = s.total.errors + s.total.unfinished;
        let limits = Limits::judge(&Observed { offered_rps, achieved_rps, p99_us, errors }, slo_p99_us);
        RateStep {
            offered_rps,
            achieved_rps,
            vus,
            p50_us: pct(|l| l.p50),
            p90_us: pct(|l| l.p90),
            p99_us,
            p999_us: pct(|l| l.p999),
            p99_uncorrected_us: main.and_then(|e| e.uncorrected_latency_us.as_ref()).map(|l| l.p99 as f64),
            errors,
            dropped: s.open.as_ref().map_or(0, |o| o.dropped),
            server_cpu_us_per_req: s.server.cpu_us_per_req,
            redis_cpu_us_per_req: s.redis.cpu_us_per_req,
            server_cpu_pct: s.server.cpu_percent,
            redis_cpu_pct,
            generator_cpu_pct: s.generator.cpu_percent,
            generator_lag_ms: s.generator.max_lag_us as f64 / 1000.0,
            generator_saturated: s.generator.saturated,
            limits,
        }
    }

    /// Who used the most CPU during the run: `server`, `Redis` or `generator`, with its % of a core.
    pub fn busiest(&self) -> (&'static str, f64) {
        [
            ("server", self.server_cpu_pct.unwrap_or(0.0)),
            ("Redis", self.redis_cpu_pct.unwrap_or(0.0)),
            ("generator", self.generator_cpu_pct),
        ]
        .into_iter()
        .fold(("server", f64::NEG_INFINITY), |best, c| if c.1 > best.1 { c } else { best })
    }
}

/// One open-model run at `rate_rps` for `duration` against `base`'s target (its scheme, pid and
/// Redis are kept; its model is replaced). Files go to `out` when given.
pub async fn run_rate(
    base: &LoadConfig,
    rate_rps: f64,
    duration: Duration,
    out: Option<PathBuf>,
    slo_p99_us: f64,
    stop: &CancellationToken,
) -> Result<RateStep> {
    let vus = pool_size(rate_rps);
    let mut config = base.clone();
    config.model = LoadModel::Open { rate_stages: Ramp::constant(rate_rps, duration), vus };
    config.out_dir = out;
    config.progress = false;
    let summary = authbench_loadgen::run(config, stop.clone())
        .await
        .with_context(|| format!("open-model run at {rate_rps:.0} req/s"))?;
    if summary.target_lost {
        bail!("the server stopped answering at {rate_rps:.0} req/s");
    }
    tokio::time::sleep(BETWEEN_RUNS).await;
    Ok(RateStep::from_summary(rate_rps, vus, &summary, slo_p99_us))
}

/// The steps of a search, in the order run, and which of them matter.
#[derive(Debug, Clone, Default)]
pub struct Searched {
    pub steps: Vec<RateStep>,
    /// Index of the knee: the lowest offered rate past it.
    pub knee: Option<usize>,
    /// Index of the highest sustained step below the knee: its achieved rate is the maximum
    /// sustainable throughput.
    pub sustained: Option<usize>,
    /// Stopped by `stop` before the search ended.
    pub interrupted: bool,
}

impl Searched {
    pub fn knee_step(&self) -> Option<&RateStep> {
        self.knee.map(|i| &self.steps[i])
    }

    pub fn sustained_step(&self) -> Option<&RateStep> {
        self.sustained.map(|i| &self.steps[i])
    }
}

fn index_of(steps: &[RateStep], offered: f64) -> Option<usize> {
    steps.iter().position(|s| s.offered_rps == offered)
}

/// How one [`search`] runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSettings {
    pub plan: SearchPlan,
    /// Length of each step.
    pub step: Duration,
    /// The latency SLO on corrected p99, µs.
    pub slo_p99_us: f64,
}

/// The stepped search for the knee. `on_step(rate)` is told each rate before it runs (progress).
/// Step `i` writes to `dir/saturation-<i>` when `dir` is given.
pub async fn search(
    base: &LoadConfig,
    settings: &SearchSettings,
    dir: Option<&Path>,
    stop: &CancellationToken,
    mut on_step: impl FnMut(f64),
) -> Result<Searched> {
    let mut s = Search::new(settings.plan);
    let mut steps = Vec::new();
    let mut interrupted = false;
    while let Some(rate) = s.next() {
        on_step(rate);
        let out = dir.map(|d| d.join(format!("saturation-{:02}", steps.len() + 1)));
        let step = run_rate(base, rate, settings.step, out, settings.slo_p99_us, stop).await?;
        if stop.is_cancelled() {
            interrupted = true;
            break;
        }
        s.record(rate, step.achieved_rps, step.limits.any());
        steps.push(step);
    }
    let knee = s.knee().and_then(|k| index_of(&steps, k.offered_rps));
    let sustained = s.sustained().and_then(|k| index_of(&steps, k.offered_rps));
    Ok(Searched { steps, knee, sustained, interrupted })
}

/// How one [`ladder`] runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderSettings {
    /// Shares of the maximum sustainable throughput to run at (e.g. 0.1, 0.25, 0.5, 0.75).
    pub shares: Vec<f64>,
    /// Length of each run.
    pub step: Duration,
    pub slo_p99_us: f64,
}

/// Fixed-rate runs at each share of `max_rps`, low to high; each result is paired with its share.
/// The run at share `s` writes to `dir/load-<percent>pct` when `dir` is given.
pub async fn ladder(
    base: &LoadConfig,
    max_rps: f64,
    settings: &LadderSettings,
    dir: Option<&Path>,
    stop: &CancellationToken,
    mut on_step: impl FnMut(f64),
) -> Result<Vec<(f64, RateStep)>> {
    let mut shares = settings.shares.clone();
    shares.sort_by(f64::total_cmp);
    shares.dedup();
    let mut out = Vec::new();
    for share in shares {
        let rate = (max_rps * share).max(1.0);
        on_step(rate);
        let path = dir.map(|d| d.join(format!("load-{:02.0}pct", share * 100.0)));
        let step = run_rate(base, rate, settings.step, path, settings.slo_p99_us, stop).await?;
        if stop.is_cancelled() {
            break;
        }
        out.push((share, step));
    }
    Ok(out)
}
