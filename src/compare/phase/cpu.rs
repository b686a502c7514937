//! The CPU phase: CPU per request of `GET /healthz` (no auth) and of `GET /api/me`, same server,
//! same number of users, one after the other — the cost of authentication itself — plus the
//! steady `/api/me` latency, its histogram for the percentile spectrum, and the credential bytes.

use anyhow::Result;
use authbench_loadgen::Endpoint;
use authbench_loadgen::{LoadModel, Ramp};
use authbench_report::run;

use super::checks::Presented;
use super::{Health, Unit, UnitResult, me_only};
use crate::compare::schedule::Phase;

pub async fn run(u: &Unit<'_>, presented: Presented, health: &mut Health, r: &mut UnitResult) -> Result<()> {
    let plan = &u.ctx.plan;
    let steady = || LoadModel::Closed { stages: Ramp::constant(plan.steady_vus as f64, plan.steady) };
    u.enter(Phase::HealthzBaseline);
    let healthz =
        u.run_load(u.load(None, steady(), Some("healthz")), Phase::HealthzBaseline, Some(health)).await?;
    u.enter(Phase::MeSteady);
    let mut c = u.load(Some(u.scheme), steady(), Some("me"));
    c.mix = me_only();
    let me_run = u.run_recorded(c, Phase::MeSteady, Some(health)).await?;
    r.rows.me_latency = me_run.latency(Endpoint::Me).cloned();
    let (metrics, credential) =
        run::steady_metrics(u.scheme.as_str(), u.scheme.uses_store(), &healthz, &me_run.summary, presented);
    r.rows.metrics.extend(metrics);
    r.rows.credential = credential;
    Ok(())
}
