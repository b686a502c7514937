//! The ramp phase: the plan's stages of concurrent virtual users with the full mix (login, me,
//! refresh, logout) and think time — per-second rows for `ramp.csv`, and the run's peak `/api/me`
//! throughput, latency, server RSS and Redis memory for `summary.csv`; for `session-tracked`, the
//! invalidations Redis pushed per second of it (every server's `/metrics` read before and after:
//! each logout's `DEL` and refresh's `GETDEL` of a record some server read invalidates it there).

use std::time::Instant;

use anyhow::Result;
use authbench_loadgen::{LoadConfig, LoadModel, Recorded};
use authbench_report::Metric;
use authbench_report::data::{RampRow, file};
use authbench_report::run;

use super::{Health, Unit, UnitResult};
use crate::compare::plan::Plan;
use crate::compare::schedule::Phase;
use crate::harness::metrics;

/// The ramp as the plan says: its stages of virtual users, think time, users from 1 (the
/// built-in schemes' and a `--target`'s alike).
pub fn configure(c: &mut LoadConfig, plan: &Plan) {
    c.model = LoadModel::Closed { stages: plan.stages.clone() };
    c.think = plan.think;
    c.first_user = 1;
}

/// `ramp.csv`'s rows of `scheme` (the run's own per-second rows, as timeseries.csv rounds them,
/// not the file read back) and the ramp's summary.csv metrics.
pub fn rows(scheme: &str, repeat: u32, ramp_run: &Recorded) -> (Vec<RampRow>, Vec<(Metric, f64)>) {
    let ramp: Vec<RampRow> =
        ramp_run.seconds.iter().filter_map(|s| RampRow::from_second(scheme, repeat, s)).collect();
    let metrics = run::ramp_metrics(&ramp, &ramp_run.summary);
    (ramp, metrics)
}

pub async fn run(u: &Unit<'_>, health: &mut Health, r: &mut UnitResult) -> Result<()> {
    let plan = &u.ctx.plan;
    u.enter(Phase::Ramp);
    let mut c =
        u.load(Some(u.scheme), LoadModel::Closed { stages: plan.stages.clone() }, Some(file::RAMP_RUN));
    configure(&mut c, plan);
    let replicas = u.server.replica_addrs();
    let before = metrics::cache(&replicas).await?;
    let started = Instant::now();
    let ramp_run = u.run_recorded(c, Phase::Ramp, Some(health)).await?;
    let after = metrics::cache(&replicas).await?;
    // Per second the generator ran (its setup adds no writes); the wall clock if it says none.
    let seconds = Some(ramp_run.summary.duration_s)
        .filter(|s| *s > 0.0)
        .unwrap_or_else(|| started.elapsed().as_secs_f64());
    if let (Some(b), Some(a)) = (before.and_then(|r| r.invalidations), after.and_then(|r| r.invalidations)) {
        r.rows.metrics.push((Metric::CacheInvalidationsPerSecond, a.saturating_sub(b) as f64 / seconds));
    }
    let (ramp, ramp_metrics) = rows(u.scheme.as_str(), u.repeat, &ramp_run);
    r.rows.ramp = ramp;
    r.rows.metrics.extend(ramp_metrics);
    Ok(())
}
