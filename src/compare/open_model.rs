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

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use authbench_loadgen::Endpoint;
use authbench_loadgen::LoadConfig;
use authbench_report::Metric;
use authbench_report::plan_inputs::HealthzPairRow;
use authbench_report::saturation::LoadStepRow;
use authbench_servers::SchemeKind;
use hdrhistogram::Histogram;
use tokio_util::sync::CancellationToken;

use super::knee::{Limits, Search, SearchPlan};
use super::population::Population;

pub use super::rate_step::{
    RateStep, Subject, parse_proc_stat, pool_size, run_rate, run_rate_from, run_rate_recorded,
};

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
/// Step `i` writes to `dir/saturation-<i>` when `dir` is given. With a `population` (the cached
/// variants) each step draws its credentials from it.
/// Past the SLO on p99 and on nothing else.
fn latency_alone(l: Limits) -> bool {
    l.latency && !l.throughput && !l.errors
}

pub async fn search(
    base: &LoadConfig,
    settings: &SearchSettings,
    population: Option<&Population>,
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
        let mut step =
            run_rate_from(base, rate, settings.step, out.clone(), settings.slo_p99_us, population, stop)
                .await?;
        // A step past the SLO on p99 alone (the rate held, nothing failed) is often one stall of
        // the shared machine, not the knee: in the last reference 30 of 151 steps failed so, and
        // the maxima of one scheme moved 10-30% between repeats (cookie 98.6k-142k req/s), which
        // moved each repeat's utilisation step and CPU per request with it. Such a step runs
        // once more and the second run counts.
        if latency_alone(step.limits) && !stop.is_cancelled() {
            on_step(rate);
            step =
                run_rate_from(base, rate, settings.step, out, settings.slo_p99_us, population, stop).await?;
        }
        if stop.is_cancelled() {
            interrupted = true;
            break;
        }
        s.record(rate, step.achieved_rps(), step.limits.any());
        steps.push(step);
    }
    let knee = s.knee().and_then(|k| index_of(&steps, k.offered_rps));
    let sustained = s.sustained().and_then(|k| index_of(&steps, k.offered_rps));
    Ok(Searched { steps, knee, sustained, interrupted })
}

/// How one [`ladder`] runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderSettings {
    /// Shares of the maximum sustainable throughput to run at (e.g. 0.1, 0.25, 0.6, 0.75).
    pub shares: Vec<f64>,
    /// Length of each run.
    pub step: Duration,
    /// The share the capacity answer reads CPU per request at (`--utilization`): its run lasts
    /// `utilisation_step`, and `/healthz` follows it at the same offered rate on the same server
    /// for as long (the pair the CPU ratio is read from).
    pub utilisation: f64,
    pub utilisation_step: Duration,
    pub slo_p99_us: f64,
    /// Whether `/healthz` follows the utilisation's step (a `--target` has no `/healthz`).
    pub healthz_pair: bool,
}

impl LadderSettings {
    /// Whether `share` is the utilisation's step.
    pub fn is_utilisation(&self, share: f64) -> bool {
        (share - self.utilisation).abs() < 0.005
    }
}

/// What a [`ladder`] ran: (share, run) low to high, and `/healthz` at the utilisation step's
/// offered rate.
#[derive(Debug, Clone, Default)]
pub struct Ladder {
    pub steps: Vec<(f64, RateStep)>,
    pub healthz: Option<(f64, RateStep)>,
}

/// Fixed-rate runs at each share of `max_rps`, low to high; each result is paired with its share.
/// Right after the utilisation's step, `/healthz` (no credential) at the same offered rate and
/// for as long. The run at share `s` writes to `dir/load-<percent>pct`, its `/healthz` pair to
/// `dir/healthz-<percent>pct`, when `dir` is given. `on_step(healthz, rate)` is told each run.
/// With a `population`, each `/api/me` run draws its credentials from it.
pub async fn ladder(
    base: &LoadConfig,
    max_rps: f64,
    settings: &LadderSettings,
    population: Option<&Population>,
    dir: Option<&Path>,
    stop: &CancellationToken,
    mut on_step: impl FnMut(bool, f64),
) -> Result<Ladder> {
    let mut shares = settings.shares.clone();
    shares.sort_by(f64::total_cmp);
    shares.dedup();
    let mut out = Ladder::default();
    for share in shares {
        let rate = (max_rps * share).max(1.0);
        on_step(false, rate);
        let pct = share * 100.0;
        let path = dir.map(|d| d.join(format!("load-{pct:02.0}pct")));
        let paired = settings.is_utilisation(share);
        let length = if paired { settings.utilisation_step } else { settings.step };
        let step = run_rate_from(base, rate, length, path, settings.slo_p99_us, population, stop).await?;
        if stop.is_cancelled() {
            break;
        }
        out.steps.push((share, step));
        if paired && settings.healthz_pair {
            on_step(true, rate);
            let mut healthz = base.clone();
            healthz.scheme = None;
            healthz.credentials = None;
            let path = dir.map(|d| d.join(format!("healthz-{pct:02.0}pct")));
            let step = run_rate(&healthz, rate, length, path, settings.slo_p99_us, stop).await?;
            if stop.is_cancelled() {
                break;
            }
            out.healthz = Some((share, step));
        }
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
    /// The utilisation's step and its `/healthz` pair: longer than the other steps, since every
    /// CPU figure a headline or the capacity answer reads comes from it.
    pub utilisation_step: Duration,
    /// Shares of the maximum for CPU per request against load (the utilisation among them).
    pub shares: Vec<f64>,
    pub spectrum: Duration,
    /// `/healthz` beside the utilisation's step: authbench's own servers (not a `--target`).
    pub healthz_pair: bool,
}

/// Length of the utilisation's step and of its `/healthz` pair: `--quick`, default.
pub const UTILISATION_STEP: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(6)];

/// Below the previous repeat's knee by this factor is where a later repeat starts its search.
const PRIOR_START: f64 = 0.6;
/// Estimated seconds a run costs beyond its load (pool log-in, pre-flight, pause): for the ETA.
const RUN_OVERHEAD_S: f64 = 0.6;

impl SaturationPlan {
    pub fn new(quick: bool, slo_p99: Duration, utilization: f64, spectrum_rps: f64) -> SaturationPlan {
        // Low, quarter and high load, plus the utilisation the capacity projection assumes (a
        // separate 50% step next to the default 60% cost ~55 s of the 30-minute default run).
        let mut shares = if quick { vec![0.25] } else { vec![0.1, 0.25, 0.75] };
        if shares.iter().all(|s| (s - utilization).abs() > 0.02) {
            shares.push(utilization);
        }
        shares.sort_by(f64::total_cmp);
        SaturationPlan {
            slo_p99,
            utilization,
            spectrum_rps,
            // --quick: one doubling fewer (every scheme's knee is above 16k req/s on a 2-core
            // machine; the search still halves down to 2k).
            start_rps: if quick { 16_000.0 } else { 8000.0 },
            factor: 2.0,
            refinements: if quick { 2 } else { 3 },
            // No step past the first bad rate: the plateau it showed fed no headline or answer
            // figure (~55 s of the default run).
            past_knee: 0,
            max_steps: if quick { 8 } else { 12 },
            max_rps: 1_000_000.0,
            step: Duration::from_secs(if quick { 1 } else { 2 }),
            ladder_step: Duration::from_secs(if quick { 1 } else { 2 }),
            utilisation_step: UTILISATION_STEP[usize::from(!quick)],
            shares,
            // 2 s at 10k req/s: 20,000 requests, enough for p99.9 (was 4 s).
            spectrum: Duration::from_secs(if quick { 1 } else { 2 }),
            healthz_pair: true,
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
            utilisation: self.utilization,
            utilisation_step: self.utilisation_step,
            slo_p99_us: self.slo_p99.as_secs_f64() * 1e6,
            healthz_pair: self.healthz_pair,
        }
    }

    /// Planned seconds of the ladder: every share's step, the utilisation's longer, and its
    /// `/healthz` pair.
    pub fn ladder_seconds(&self) -> f64 {
        let others = self.shares.len().saturating_sub(1) as f64;
        others * (self.ladder_step.as_secs_f64() + RUN_OVERHEAD_S)
            + 2.0 * (self.utilisation_step.as_secs_f64() + RUN_OVERHEAD_S)
    }

    /// Planned seconds per scheme × repeat (typical search length, for the progress bar).
    pub fn planned_seconds(&self) -> f64 {
        let steps = 4.0 + self.refinements as f64 + self.past_knee as f64;
        steps * (self.step.as_secs_f64() + RUN_OVERHEAD_S)
            + self.ladder_seconds()
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

/// Which of [`measure`]'s fixed-rate runs is starting (each at a rate): a step of the search for
/// the knee, a point of CPU against load, or the spectrum's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    Search,
    Ladder,
    /// `/healthz` at the utilisation step's offered rate.
    HealthzPair,
    Spectrum,
}

/// What the saturation phase of one scheme × repeat measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub searched: Searched,
    /// (share of the maximum, run), low to high, and `/healthz` at the utilisation's rate.
    pub ladder: Vec<(f64, RateStep)>,
    pub healthz_pair: Option<(f64, RateStep)>,
    /// The run at the spectrum rate (the same for every scheme) and its corrected `/api/me`
    /// latency over the whole run (what its `me.hlog` adds up to), for the spectrum.
    pub fixed: Option<RateStep>,
    pub fixed_latency: Option<Histogram<u64>>,
    pub interrupted: bool,
}

impl Outcome {
    /// One line for the console: the knee, the maximum, and who was busiest at the knee.
    pub fn describe(&self) -> String {
        let s = &self.searched;
        let max = s.sustained_step().map_or("none".to_owned(), |m| format!("{:.0} req/s", m.achieved_rps()));
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
                    k.summary.server.cpu_percent.unwrap_or(f64::NAN),
                    authbench_report::run::redis_cpu_pct(&k.summary).unwrap_or(f64::NAN),
                    k.summary.generator.cpu_percent,
                    k.machine_cpu_pct.unwrap_or(f64::NAN),
                    k.summary.generator.max_lag_us as f64 / 1000.0,
                    if k.summary.generator.saturated { ", generator saturated" } else { "" }
                )
            }
        }
    }
}

/// The saturation phase of one scheme × repeat against its running server (`base` carries the
/// target, scheme, pid and Redis): the search, the ladder at shares of the maximum found, and
/// the spectrum run at the common rate. Files go under `dir`. With a `population` (the cached
/// variants) the search and the ladder draw from it; the spectrum's run keeps the pool's own
/// logins (the same few users for every scheme at the common rate).
pub async fn measure(
    plan: &SaturationPlan,
    prior_knee: Option<f64>,
    base: &LoadConfig,
    population: Option<&Population>,
    dir: &Path,
    stop: &CancellationToken,
    mut progress: impl FnMut(RunKind, f64),
) -> Result<Outcome> {
    let mut out = Outcome::default();
    let searched = search(base, &plan.search(prior_knee), population, Some(dir), stop, |rate| {
        progress(RunKind::Search, rate)
    })
    .await?;
    out.interrupted = searched.interrupted;
    let max = searched.sustained_step().map(RateStep::achieved_rps);
    out.searched = searched;
    if out.interrupted {
        return Ok(out);
    }
    if let Some(max) = max {
        let kind = |healthz: bool| if healthz { RunKind::HealthzPair } else { RunKind::Ladder };
        let ran =
            ladder(base, max, &plan.ladder(), population, Some(dir), stop, |h, rate| progress(kind(h), rate))
                .await?;
        out.ladder = ran.steps;
        out.healthz_pair = ran.healthz;
    }
    if stop.is_cancelled() {
        out.interrupted = true;
        return Ok(out);
    }
    progress(RunKind::Spectrum, plan.spectrum_rps);
    let path = dir.join("spectrum");
    let slo = plan.slo_p99.as_secs_f64() * 1e6;
    let (fixed, recorded) =
        run_rate_recorded(base, plan.spectrum_rps, plan.spectrum, Some(path), slo, stop).await?;
    out.fixed = Some(fixed);
    out.fixed_latency = recorded.latency(Endpoint::Me).cloned();
    out.interrupted = stop.is_cancelled();
    Ok(out)
}

impl Outcome {
    /// Rows of `saturation.csv` (the search, knee and sustained steps marked) and of
    /// `cpu_vs_load.csv` (the ladder). The spectrum's run shows in `spectrum.csv` and summary.csv.
    /// `scheme` is a built-in scheme or a `--target`.
    pub fn rows(&self, scheme: Subject<'_>, repeat: u32) -> (Vec<LoadStepRow>, Vec<LoadStepRow>) {
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

    /// The utilisation's step and its `/healthz` pair, when both ran.
    pub fn at_utilisation(&self, utilization: f64) -> Option<(&RateStep, &RateStep)> {
        let (share, healthz) = self.healthz_pair.as_ref()?;
        let (_, me) = self.ladder.iter().find(|(s, _)| (s - share).abs() < 1e-9)?;
        ((share - utilization).abs() < 0.005).then_some((me, healthz))
    }

    /// The `healthz_pairs.csv` row of this repeat.
    pub fn healthz_pair_row(
        &self,
        scheme: SchemeKind,
        repeat: u32,
        utilization: f64,
    ) -> Option<HealthzPairRow> {
        let (me, healthz) = self.at_utilisation(utilization)?;
        Some(HealthzPairRow {
            scheme: scheme.to_string(),
            repeat,
            share: utilization,
            offered_rps: me.offered_rps,
            me_server_cpu_us: me.summary.server.cpu_us_per_req?,
            healthz_server_cpu_us: healthz.summary.server.cpu_us_per_req?,
        })
    }

    /// summary.csv metrics of this repeat.
    pub fn metrics(&self, scheme: Subject<'_>, utilization: f64) -> Vec<(Metric, f64)> {
        let mut m = Vec::new();
        if let Some(s) = self.searched.sustained_step() {
            m.push((Metric::MeRpsSustained, s.achieved_rps()));
        }
        if let Some(k) = self.searched.knee_step() {
            m.push((Metric::MeKneeOffered, k.offered_rps));
        }
        if let Some((_, at)) = self.ladder.iter().find(|(share, _)| (share - utilization).abs() < 0.005) {
            if let Some(server) = at.summary.server.cpu_us_per_req {
                m.push((Metric::MeCpuServerAtUtilization, server));
            }
            let redis = if scheme.uses_store { at.summary.redis.cpu_us_per_req } else { Some(0.0) };
            if let Some(redis) = redis {
                m.push((Metric::MeCpuRedisAtUtilization, redis));
            }
        }
        if let Some(p99) = self.fixed.as_ref().and_then(RateStep::p99_us) {
            m.push((Metric::MeFixedRateP99, p99));
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_step_past_the_slo_on_p99_alone_runs_again() {
        let l = |throughput, latency, errors| Limits { throughput, latency, errors };
        assert!(latency_alone(l(false, true, false)));
        assert!(!latency_alone(l(true, true, false)));
        assert!(!latency_alone(l(false, true, true)));
        assert!(!latency_alone(l(false, false, false)));
    }

    #[test]
    fn the_utilisation_joins_the_ladder_unless_already_there() {
        let p = SaturationPlan::new(false, Duration::from_millis(10), 0.6, 10_000.0);
        assert_eq!(p.shares, [0.1, 0.25, 0.6, 0.75]);
        let p = SaturationPlan::new(false, Duration::from_millis(10), 0.5, 10_000.0);
        assert_eq!(p.shares, [0.1, 0.25, 0.5, 0.75]);
        let p = SaturationPlan::new(false, Duration::from_millis(10), 0.25, 10_000.0);
        assert_eq!(p.shares, [0.1, 0.25, 0.75]);
        assert_eq!(p.search(Some(50_000.0)).plan.start_rps, 30_000.0);
    }
}
