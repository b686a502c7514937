//! One open-model run at a fixed arrival rate against a running server, and what it measured
//! ([`RateStep`]): the unit the knee search, the CPU-vs-load ladder and the spectrum's run are made
//! of (see [`super::open_model`]). Also the whole machine's CPU from `/proc/stat`, so other
//! processes' load shows beside the run's.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_loadgen::LoadConfig;
use authbench_loadgen::Recorded;
use authbench_loadgen::Summary;
use authbench_loadgen::{LoadModel, Ramp};
use authbench_report::run::{self, StepRun};
use authbench_report::saturation::LoadStepRow;
use authbench_servers::SchemeKind;
use tokio_util::sync::CancellationToken;

use super::knee::{Limits, Observed};
use super::population::{self, Population};
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

/// Whose rows a run's are: a built-in scheme or a `compare --target` (any name), and whether it
/// keeps state in a store (its Redis CPU counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject<'a> {
    pub name: &'a str,
    pub uses_store: bool,
}

impl From<SchemeKind> for Subject<'static> {
    fn from(s: SchemeKind) -> Self {
        Subject { name: s.as_str(), uses_store: s.uses_store() }
    }
}

/// One fixed-rate run: what it was asked, the generator's [`Summary`] of it (every figure is
/// read from there, through `authbench_report::run`), and how the knee search judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct RateStep {
    pub offered_rps: f64,
    pub vus: u64,
    /// The step's scheduled length (the achieved rate is answers over it).
    pub planned: Duration,
    pub summary: Summary,
    /// Which knee limits the run broke (judged against the SLO it was run with).
    pub limits: Limits,
    /// Every process on the machine together (`/proc/stat`), % of one core: what server, Redis
    /// and generator leave of it is other processes' (or the hypervisor's: steal).
    pub machine_cpu_pct: Option<f64>,
    /// The preloaded users the credentials were drawn from ([`Population`]); `None`: the pool's
    /// own logged-in connections.
    pub users: Option<u64>,
    /// The servers' cache hit ratio over the run (`/metrics`), where a population was drawn.
    pub hit_ratio: Option<f64>,
}

impl RateStep {
    /// Judge the run of `summary` at `offered_rps` against the knee's limits.
    pub fn new(offered_rps: f64, vus: u64, summary: Summary, slo_p99_us: f64, planned: Duration) -> RateStep {
        let observed = Observed {
            offered_rps,
            achieved_rps: run::achieved_rps(&summary, planned),
            p99_us: run::main_latency_us(&summary, |l| l.p99),
            errors: summary.failed(),
        };
        let limits = Limits::judge(&observed, slo_p99_us);
        RateStep {
            offered_rps,
            vus,
            planned,
            summary,
            limits,
            machine_cpu_pct: None,
            users: None,
            hit_ratio: None,
        }
    }

    /// Successful requests of the main endpoint (`/api/me`, `/healthz` without a scheme) per second.
    pub fn achieved_rps(&self) -> f64 {
        run::achieved_rps(&self.summary, self.planned)
    }

    /// Corrected p99 of the main endpoint, µs.
    pub fn p99_us(&self) -> Option<f64> {
        run::main_latency_us(&self.summary, |l| l.p99)
    }

    /// Who used the most CPU during the run: `server`, `Redis` or `generator`, with its % of a core.
    pub fn busiest(&self) -> (&'static str, f64) {
        [
            ("server", self.summary.server.cpu_percent.unwrap_or(0.0)),
            ("Redis", run::redis_cpu_pct(&self.summary).unwrap_or(0.0)),
            ("generator", self.summary.generator.cpu_percent),
        ]
        .into_iter()
        .fold(("server", f64::NEG_INFINITY), |best, c| if c.1 > best.1 { c } else { best })
    }

    /// The `saturation.csv` / `cpu_vs_load.csv` row of this run.
    pub fn row(&self, scheme: Subject<'_>, repeat: u32, step: usize, share: Option<f64>) -> LoadStepRow {
        let at = StepRun {
            scheme: scheme.name,
            repeat,
            step: step as u32,
            share,
            uses_store: scheme.uses_store,
            offered_rps: self.offered_rps,
            vus: self.vus,
            planned: self.planned,
            limits: self.limits.label(),
            machine_cpu_pct: self.machine_cpu_pct,
            users: self.users,
            hit_ratio: self.hit_ratio,
        };
        LoadStepRow::from_run(at, &self.summary)
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

/// [`run_rate`] drawing its credentials from `population` when given (a cached variant: about
/// rate ÷ per-user-rate preloaded users, the servers' hit ratio read around the run).
pub async fn run_rate_from(
    base: &LoadConfig,
    rate_rps: f64,
    duration: Duration,
    out: Option<PathBuf>,
    slo_p99_us: f64,
    population: Option<&Population>,
    stop: &CancellationToken,
) -> Result<RateStep> {
    let Some(p) = population else {
        return run_rate(base, rate_rps, duration, out, slo_p99_us, stop).await;
    };
    let (pool, users) = p.pool(rate_rps)?;
    let mut drawn = base.clone();
    drawn.credentials = Some(pool);
    let before = p.cache().await?;
    let mut step = run_rate(&drawn, rate_rps, duration, out, slo_p99_us, stop).await?;
    let after = p.cache().await?;
    step.users = Some(users);
    step.hit_ratio = before.zip(after).and_then(|(a, b)| population::hit_ratio(&a, &b));
    Ok(step)
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
    let mut step = RateStep::new(rate_rps, vus, recorded.summary.clone(), slo_p99_us, duration);
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

/// The machine's online CPUs: the `cpuN` lines of `/proc/stat` (not this process's affinity,
/// which `--pin` narrows to the generator's CPU).
fn machine_cores() -> usize {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .map(|t| {
            t.lines()
                .filter(|l| {
                    l.strip_prefix("cpu").is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                })
                .count()
        })
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Busy share between two `/proc/stat` readings, in % of one core.
fn machine_busy_pct(a: (u64, u64), b: (u64, u64)) -> Option<f64> {
    let (busy, total) = (b.0.checked_sub(a.0)?, b.1.checked_sub(a.1)?);
    let cores = machine_cores() as f64;
    (total > 0).then(|| busy as f64 / total as f64 * cores * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_busy_counts_everything_but_idle_and_iowait() {
        let stat = "cpu  100 5 50 800 40 3 2 10 0 0\ncpu0 1 2 3 4\n";
        assert_eq!(parse_proc_stat(stat), Some((170, 1010)));
        assert_eq!(parse_proc_stat("intr 1 2"), None);
        let cores = machine_cores() as f64;
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
