//! Saturation and load against the unit's server ([`crate::compare::open_model`]): the stepped
//! search for the knee, CPU per request at shares of the maximum found, and the percentile
//! spectrum's run at the same arrival rate for every scheme (its histogram replaces the steady
//! closed-loop one as the spectrum's source).

use anyhow::Result;
use authbench_loadgen::{LoadModel, Ramp};

use super::{Unit, UnitResult};
use crate::compare::open_model::{self, RunKind};
use crate::compare::schedule::Phase;

pub async fn run(u: &Unit<'_>, r: &mut UnitResult) -> Result<()> {
    let ctx = u.ctx;
    let plan = &ctx.plan.saturation;
    // The model is replaced by each run's fixed rate.
    let placeholder = LoadModel::Closed { stages: Ramp::constant(1.0, plan.step) };
    let base = u.load(Some(u.scheme), placeholder, None);
    let sat = open_model::measure(plan, ctx.knees.get(u.scheme), &base, &u.dir, u.stop, |kind, rate| {
        let phase = match kind {
            RunKind::Search => Phase::Saturation,
            RunKind::Ladder => Phase::CpuVsLoad,
            RunKind::Spectrum => Phase::Spectrum,
        };
        u.enter_at(phase, &format!("{rate:.0} req/s"))
    })
    .await?;
    if let Some(k) = sat.searched.knee_step() {
        ctx.knees.set(u.scheme, k.offered_rps);
    }
    ctx.progress.note(&format!("{} r{}: {}", u.scheme, u.repeat, sat.describe()));
    r.rows.metrics.extend(sat.metrics(u.scheme, plan.utilization));
    (r.rows.saturation, r.rows.cpu_vs_load) = sat.rows(u.scheme, u.repeat);
    if let Some(h) = sat.fixed_latency {
        r.rows.me_latency = Some(h);
    }
    Ok(())
}
