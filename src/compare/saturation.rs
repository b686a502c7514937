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
use authbench_report::data::metric;
use authbench_report::saturation::LoadStepRow;
use authbench_servers::SchemeKind;
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
    let vus = pool_size(rate_rps);
    let mut config = base.clone();
    config.model = LoadModel::Open { rate_stages: Ramp::constant(rate_rps, duration), vus };
    config.out_dir = out;
    config.progress = false;
    let before = machine_cpu();
    let summary = authbench_loadgen::run(config, stop.clone())
        .await
        .with_context(|| format!("open-model run at {rate_rps:.0} req/s"))?;
    if summary.target_lost {
        bail!("the server stopped answering at {rate_rps:.0} req/s");
    }
    let after = machine_cpu();
    tokio::time::sleep(BETWEEN_RUNS).await;
    let mut step = RateStep::from_summary(rate_rps, vus, &summary, slo_p99_us, duration);
    step.machine_cpu_pct = before.zip(after).and_then(|(a, b)| machine_busy_pct(a, b));
    Ok(step)
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

/// How the saturation phase of one scheme × repeat runs (defaults differ for `--quick`).
#[derive(Debug, Clone, PartialEq)]
pub struct SaturationPlan {
    /// `--slo-p99`: a step whose corrected p99 exceeds it is past the knee.
    pub slo_p99: Duration,
    /// `--utilization`: the share of the maximum a fleet is assumed to run at; the ladder runs
    /// there too, so the capacity projection reads CPU per request measured at that load.
    pub utilization: f64,
    /// `--spectrum-rate`: the same arrival rate for every scheme, for the percentile spectrum.
    pub spectrum_rps: f64,
    /// First offered rate of a scheme's first repeat; later repeats start below the last knee.
    pub start_rps: f64,
    pub factor: f64,
    pub refinements: u32,
    pub past_knee: u32,
    pub max_steps: usize,
    pub max_rps: f64,
    pub step: Duration,
    pub ladder_step: Duration,
    /// Shares of the maximum for CPU per request against load (the utilisation among them).
    pub shares: Vec<f64>,
    pub spectrum: Duration,
}

/// Below the previous repeat's knee by this factor is where a later repeat starts its search.
const PRIOR_START: f64 = 0.6;
/// Estimated seconds a run costs beyond its load (pool log-in, pre-flight, pause): for the ETA.
const RUN_OVERHEAD_S: f64 = 0.6;

impl SaturationPlan {
    pub fn new(quick: bool, slo_p99: Duration, utilization: f64, spectrum_rps: f64) -> SaturationPlan {
        let mut shares = if quick { vec![0.25] } else { vec![0.1, 0.25, 0.5, 0.75] };
        if shares.iter().all(|s| (s - utilization).abs() > 0.02) {
            shares.push(utilization);
        }
        shares.sort_by(f64::total_cmp);
        SaturationPlan {
            slo_p99,
            utilization,
            spectrum_rps,
            start_rps: 8000.0,
            factor: 2.0,
            refinements: if quick { 2 } else { 3 },
            past_knee: if quick { 0 } else { 1 },
            max_steps: if quick { 8 } else { 12 },
            max_rps: 1_000_000.0,
            step: Duration::from_secs(if quick { 1 } else { 2 }),
            ladder_step: Duration::from_secs(if quick { 1 } else { 2 }),
            shares,
            spectrum: Duration::from_secs(if quick { 2 } else { 4 }),
        }
    }

    /// The search of one repeat; `prior_knee` is the knee of this scheme's previous repeat.
    pub fn search(&self, prior_knee: Option<f64>) -> SearchSettings {
        SearchSettings {
            plan: SearchPlan {
                start_rps: prior_knee.map_or(self.start_rps, |k| k * PRIOR_START),
                factor: self.factor,
                max_rps: self.max_rps,
                // Going down (the first step already past the knee) stops after three halvings.
                min_rps: prior_knee.map_or(self.start_rps, |k| k * PRIOR_START) / 8.0,
                refinements: self.refinements,
                past_knee: self.past_knee,
                max_steps: self.max_steps,
            },
            step: self.step,
            slo_p99_us: self.slo_p99.as_secs_f64() * 1e6,
        }
    }

    pub fn ladder(&self) -> LadderSettings {
        LadderSettings {
            shares: self.shares.clone(),
            step: self.ladder_step,
            slo_p99_us: self.slo_p99.as_secs_f64() * 1e6,
        }
    }

    /// Planned seconds per scheme × repeat (typical search length, for the progress bar).
    pub fn planned_seconds(&self) -> f64 {
        let steps = 4.0 + self.refinements as f64 + self.past_knee as f64;
        steps * (self.step.as_secs_f64() + RUN_OVERHEAD_S)
            + self.shares.len() as f64 * (self.ladder_step.as_secs_f64() + RUN_OVERHEAD_S)
            + self.spectrum.as_secs_f64()
            + RUN_OVERHEAD_S
    }
}

/// Each scheme's last knee (offered req/s), so a later repeat starts its search near it.
#[derive(Debug, Default)]
pub struct Knees(std::sync::Mutex<std::collections::HashMap<SchemeKind, f64>>);

impl Knees {
    pub fn get(&self, scheme: SchemeKind) -> Option<f64> {
        self.0.lock().ok()?.get(&scheme).copied()
    }

    pub fn set(&self, scheme: SchemeKind, knee: f64) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(scheme, knee);
        }
    }
}

/// What the saturation phase of one scheme × repeat measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub searched: Searched,
    /// (share of the maximum, run), low to high.
    pub ladder: Vec<(f64, RateStep)>,
    /// The run at the spectrum rate (the same for every scheme) and its corrected `/api/me` log.
    pub fixed: Option<RateStep>,
    pub fixed_hlog: Option<PathBuf>,
    pub interrupted: bool,
}

impl Outcome {
    /// One line for the console: the knee, the maximum, and who was busiest at the knee.
    pub fn describe(&self) -> String {
        let s = &self.searched;
        let max = s.sustained_step().map_or("none".to_owned(), |m| format!("{:.0} req/s", m.achieved_rps));
        match s.knee_step() {
            None => format!(
                "no knee up to {:.0} req/s offered; max sustained {max}",
                s.steps.iter().map(|x| x.offered_rps).fold(0.0, f64::max)
            ),
            Some(k) => {
                let (who, pct) = k.busiest();
                format!(
                    "knee at {:.0} req/s offered ({}), max sustainable {max}; at the knee server {:.0}%, Redis {:.0}%, generator {:.0}% of a core (busiest: {who}, {pct:.0}%; whole machine {:.0}%), timer lag {:.1} ms{}",
                    k.offered_rps,
                    k.limits.label(),
                    k.server_cpu_pct.unwrap_or(f64::NAN),
                    k.redis_cpu_pct.unwrap_or(f64::NAN),
                    k.generator_cpu_pct,
                    k.machine_cpu_pct.unwrap_or(f64::NAN),
                    k.generator_lag_ms,
                    if k.generator_saturated { ", generator saturated" } else { "" }
                )
            }
        }
    }
}

/// The saturation phase of one scheme × repeat against its running server (`base` carries the
/// target, scheme, pid and Redis): the search, the ladder at shares of the maximum found, and
/// the spectrum run at the common rate. Files go under `dir`.
pub async fn measure(
    plan: &SaturationPlan,
    prior_knee: Option<f64>,
    base: &LoadConfig,
    dir: &Path,
    stop: &CancellationToken,
    mut progress: impl FnMut(&str),
) -> Result<Outcome> {
    let mut out = Outcome::default();
    let searched = search(base, &plan.search(prior_knee), Some(dir), stop, |rate| {
        progress(&format!("saturation {rate:.0} req/s"))
    })
    .await?;
    out.interrupted = searched.interrupted;
    let max = searched.sustained_step().map(|s| s.achieved_rps);
    out.searched = searched;
    if out.interrupted {
        return Ok(out);
    }
    if let Some(max) = max {
        out.ladder = ladder(base, max, &plan.ladder(), Some(dir), stop, |rate| {
            progress(&format!("cpu vs load {rate:.0} req/s"))
        })
        .await?;
    }
    if stop.is_cancelled() {
        out.interrupted = true;
        return Ok(out);
    }
    progress(&format!("spectrum {:.0} req/s", plan.spectrum_rps));
    let path = dir.join("spectrum");
    let slo = plan.slo_p99.as_secs_f64() * 1e6;
    out.fixed = Some(run_rate(base, plan.spectrum_rps, plan.spectrum, Some(path.clone()), slo, stop).await?);
    out.fixed_hlog = Some(path.join("me.hlog"));
    out.interrupted = stop.is_cancelled();
    Ok(out)
}

impl RateStep {
    /// The `saturation.csv` / `cpu_vs_load.csv` row of this run. Redis CPU is 0 for a scheme that
    /// does not use Redis (what Redis did meanwhile was its own background work).
    pub fn row(&self, scheme: SchemeKind, repeat: u32, step: usize, share: Option<f64>) -> LoadStepRow {
        let redis = |v: Option<f64>| if scheme == SchemeKind::Session { v } else { v.map(|_| 0.0) };
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

impl Outcome {
    /// Rows of `saturation.csv` (the search, knee and sustained steps marked) and of
    /// `cpu_vs_load.csv` (the ladder). The spectrum's run shows in `spectrum.csv` and summary.csv.
    pub fn rows(&self, scheme: SchemeKind, repeat: u32) -> (Vec<LoadStepRow>, Vec<LoadStepRow>) {
        let s = &self.searched;
        let steps = s
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let mut row = step.row(scheme, repeat, i + 1, None);
                row.knee = s.knee == Some(i);
                row.sustained = s.sustained == Some(i);
                row
            })
            .collect();
        let load = self
            .ladder
            .iter()
            .enumerate()
            .map(|(i, (share, step))| step.row(scheme, repeat, i + 1, Some(*share)))
            .collect();
        (steps, load)
    }

    /// summary.csv metrics of this repeat (names in `authbench_report::data::metric`).
    pub fn metrics(&self, scheme: SchemeKind, utilization: f64) -> Vec<(&'static str, &'static str, f64)> {
        let mut m = Vec::new();
        if let Some(s) = self.searched.sustained_step() {
            m.push((metric::ME_RPS_SUSTAINED, "req/s", s.achieved_rps));
        }
        if let Some(k) = self.searched.knee_step() {
            m.push((metric::ME_KNEE_OFFERED, "req/s", k.offered_rps));
        }
        if let Some((_, at)) = self.ladder.iter().find(|(share, _)| (share - utilization).abs() < 0.005) {
            if let Some(server) = at.server_cpu_us_per_req {
                m.push((metric::ME_CPU_SERVER_AT_UTILIZATION, "us", server));
            }
            let redis = if scheme == SchemeKind::Session { at.redis_cpu_us_per_req } else { Some(0.0) };
            if let Some(redis) = redis {
                m.push((metric::ME_CPU_REDIS_AT_UTILIZATION, "us", redis));
            }
        }
        if let Some(p99) = self.fixed.as_ref().and_then(|f| f.p99_us) {
            m.push((metric::ME_FIXED_RATE_P99, "us", p99));
        }
        m
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

    #[test]
    fn the_utilisation_joins_the_ladder_unless_already_there() {
        let p = SaturationPlan::new(false, Duration::from_millis(10), 0.6, 10_000.0);
        assert_eq!(p.shares, [0.1, 0.25, 0.5, 0.6, 0.75]);
        let p = SaturationPlan::new(false, Duration::from_millis(10), 0.5, 10_000.0);
        assert_eq!(p.shares, [0.1, 0.25, 0.5, 0.75]);
        assert_eq!(p.search(Some(50_000.0)).plan.start_rps, 30_000.0);
    }
}
