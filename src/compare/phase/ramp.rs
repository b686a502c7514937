//! The ramp phase: the plan's stages of concurrent virtual users with the full mix (login, me,
//! refresh, logout) and think time — per-second rows for `ramp.csv`, and the run's peak `/api/me`
//! throughput, latency, server RSS and Redis memory for `summary.csv`; for `session-tracked`, the
//! invalidations Redis pushed per second of it (every server's `/metrics` read before and after:
//! each logout's `DEL` and refresh's `GETDEL` of a record some server read invalidates it there).

use std::time::Instant;

use anyhow::Result;
use authbench_loadgen::LoadModel;
use authbench_report::Metric;
use authbench_report::data::{RampRow, file};
use authbench_report::run;

use super::{Health, Unit, UnitResult};
use crate::compare::schedule::Phase;
use crate::harness::metrics;

pub async fn run(u: &Unit<'_>, health: &mut Health, r: &mut UnitResult) -> Result<()> {
    let plan = &u.ctx.plan;
    u.enter(Phase::Ramp);
    let mut c =
        u.load(Some(u.scheme), LoadModel::Closed { stages: plan.stages.clone() }, Some(file::RAMP_RUN));
    c.think = plan.think;
    c.first_user = 1;
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
    // The run's own per-second rows (as timeseries.csv rounds them), not the file read back.
    let scheme = u.scheme.to_string();
    r.rows.ramp =
        ramp_run.seconds.iter().filter_map(|s| RampRow::from_second(&scheme, u.repeat, s)).collect();
    r.rows.metrics.extend(run::ramp_metrics(&r.rows.ramp, &ramp_run.summary));
    Ok(())
}
