//! Primer and warm-up: the steady number of users on `GET /api/me` for the plan's warm-up time,
//! not recorded, so connections, lazily built state and caches settle before anything is measured.

use anyhow::Result;
use authbench_loadgen::{LoadModel, Ramp};

use super::{Unit, me_only};
use crate::compare::schedule::Phase;

pub async fn run(u: &Unit<'_>) -> Result<()> {
    u.enter(Phase::Warmup);
    let plan = &u.ctx.plan;
    let warm = Ramp::constant(plan.steady_vus as f64, plan.warmup);
    let mut c = u.load(Some(u.scheme), LoadModel::Closed { stages: warm }, None);
    c.mix = me_only();
    u.run_load(c, Phase::Warmup, None).await?;
    Ok(())
}
