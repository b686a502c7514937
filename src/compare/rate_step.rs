//! One open-model run at a fixed arrival rate against a running server, and what it measured
//! ([`RateStep`]): the unit the knee search, the CPU-vs-load ladder and the spectrum's run are made
//! of (see [`super::saturation`]). Also the whole machine's CPU from `/proc/stat`, so other
//! processes' load shows beside the run's.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_loadgen::Recorded;
use authbench_loadgen::config::LoadConfig;
use authbench_loadgen::ramp::{LoadModel, Ramp};
use authbench_loadgen::summary::Summary;
use authbench_report::saturation::LoadStepRow;
use authbench_servers::SchemeKind;
use tokio_util::sync::CancellationToken;

use super::knee::{Limits, Observed};
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
    /// Every process on the machine together (`/proc/stat`), % of one core: what server, Redis
    /// and generator leave of it is other processes' (or the hypervisor's: steal).
    pub machine_cpu_pct: Option<f64>,
}

impl RateStep {
    /// `planned` is the step's scheduled length. The achieved rate is answers over that length,
    /// not over `duration_s`, which also holds the end-of-run wait for users to retire: on a 1-2 s
    /// step a few tens of ms of that wait pushed a sustained rate below 95% of the offered one.
    pub fn from_summary(
        offered_rps: f64,
        vus: u64,
        s: &Summary,
        slo_p99_us: f64,
        planned: Duration,
    ) -> RateStep {
        let main = s.endpoints.get("me").or_else(|| s.endpoints.get("healthz"));
        let latency = main.and_then(|e| e.latency_us.as_ref());
        let pct = |f: fn(&authbench_loadgen::summary::Latency) -> u64| latency.map(|l| f(l) as f64);
        let count = main.map_or(0, |e| e.count);
        let planned_s = planned.as_secs_f64();
        let achieved_rps = if planned_s > 0.0 { count as f64 / planned_s } else { 0.0 };
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
            machine_cpu_pct: None,
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
    Ok(run_rate_recorded(base, rate_rps, duration, out, slo_p99_us, stop).await?.0)
}

/// [`run_rate`], also handing back what the run recorded in memory (its per-second rows and
/// whole-run histograms), so nothing reads the run's files back.
pub async fn run_rate_recorded(
    base: &LoadConfig,
    rate_rps: f64,
    duration: Duration,
    out: Option<PathBuf>,
    slo_p99_us: f64,
    stop: &CancellationToken,
) -> Result<(RateStep, Recorded)> {
    let vus = pool_size(rate_rps);
    let mut config = base.clone();
    config.model = LoadModel::Open { rate_stages: Ramp::constant(rate_rps, duration), vus };
    config.out_dir = out;
    config.progress = false;
    let before = machine_cpu();
    let recorded = authbench_loadgen::run_recorded(config, stop.clone())
        .await
        .with_context(|| format!("open-model run at {rate_rps:.0} req/s"))?;
    if recorded.summary.target_lost {
        bail!("the server stopped answering at {rate_rps:.0} req/s");
    }
    let after = machine_cpu();
    tokio::time::sleep(BETWEEN_RUNS).await;
    let mut step = RateStep::from_summary(rate_rps, vus, &recorded.summary, slo_p99_us, duration);
    step.machine_cpu_pct = before.zip(after).and_then(|(a, b)| machine_busy_pct(a, b));
    Ok((step, recorded))
}

/// (busy, total) jiffies of all CPUs from the first line of `/proc/stat`; busy counts steal.
pub fn parse_proc_stat(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line.split_whitespace().take(8).map(|x| x.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    let total: u64 = v.iter().sum();
    Some((total - idle, total))
}

fn machine_cpu() -> Option<(u64, u64)> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// Busy share between two `/proc/stat` readings, in % of one core.
fn machine_busy_pct(a: (u64, u64), b: (u64, u64)) -> Option<f64> {
    let (busy, total) = (b.0.checked_sub(a.0)?, b.1.checked_sub(a.1)?);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    (total > 0).then(|| busy as f64 / total as f64 * cores * 100.0)
}

impl RateStep {
    /// The `saturation.csv` / `cpu_vs_load.csv` row of this run. Redis CPU is 0 for a scheme that
    /// does not use Redis (what Redis did meanwhile was its own background work).
    pub fn row(&self, scheme: SchemeKind, repeat: u32, step: usize, share: Option<f64>) -> LoadStepRow {
        let redis = |v: Option<f64>| if scheme.uses_store() { v } else { v.map(|_| 0.0) };
        LoadStepRow {
            scheme: scheme.to_string(),
            repeat,
            step: step as u32,
            share,
            offered_rps: self.offered_rps,
            achieved_rps: self.achieved_rps,
            vus: self.vus,
            me_p50_us: self.p50_us,
            me_p90_us: self.p90_us,
            me_p99_us: self.p99_us,
            me_p999_us: self.p999_us,
            me_p99_uncorrected_us: self.p99_uncorrected_us,
            errors: self.errors,
            dropped: self.dropped,
            server_cpu_us_per_req: self.server_cpu_us_per_req,
            redis_cpu_us_per_req: redis(self.redis_cpu_us_per_req),
            server_cpu_pct: self.server_cpu_pct,
            redis_cpu_pct: redis(self.redis_cpu_pct),
            generator_cpu_pct: self.generator_cpu_pct,
            generator_lag_ms: self.generator_lag_ms,
            generator_saturated: self.generator_saturated,
            limits: self.limits.label(),
            knee: false,
            sustained: false,
            machine_cpu_pct: self.machine_cpu_pct,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_busy_counts_everything_but_idle_and_iowait() {
        let stat = "cpu  100 5 50 800 40 3 2 10 0 0\ncpu0 1 2 3 4\n";
        assert_eq!(parse_proc_stat(stat), Some((170, 1010)));
        assert_eq!(parse_proc_stat("intr 1 2"), None);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let pct = machine_busy_pct((170, 1010), (270, 1210)).unwrap();
        assert!((pct - 50.0 * cores).abs() < 1e-9);
        assert_eq!(machine_busy_pct((170, 1010), (160, 1000)), None);
    }

    #[test]
    fn pool_grows_with_the_rate_within_bounds() {
        assert_eq!(pool_size(100.0), MIN_POOL);
        assert_eq!(pool_size(40_000.0), 200);
        assert_eq!(pool_size(1e7), MAX_POOL);
    }
}
