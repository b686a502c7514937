//! Saturation and load against the unit's server ([`crate::compare::open_model`]): the stepped
//! search for the knee, CPU per request at shares of the maximum found, `/healthz` at the
//! utilisation step's offered rate on the same server, and the percentile spectrum's run at the
//! same arrival rate for every scheme.
//!
//! CPU per request has one definition (issue 21): the utilisation's step (`--utilization`, 60%
//! of this repeat's maximum, open model). Its run gives `summary.csv`'s CPU figures, the `/healthz`
//! ratio (the pair, same offered rate: `healthz_pairs.csv`), latency and rate at that load, and the
//! credential, request and response bytes (`credentials.csv`). No saturated closed-loop run feeds
//! anything.
//!
//! session-cached and session-tracked first preload their population (up to `population::CAP`
//! sessions in the real key layout, [`crate::compare::population`]), and each step of their
//! search and ladder draws about rate ÷ `--rate-per-user` of those users, so their maximum and
//! their CPU per request are measured at the workload's hit ratio, not with a hot cache; the rows
//! say how many users and the hit ratio the servers counted. The hit-ratio phase deletes them.

use anyhow::Result;
use authbench_loadgen::{LoadModel, Ramp};

use super::checks::Presented;
use super::hit_ratio;
use super::{Unit, UnitResult};
use crate::compare::open_model::{self, RunKind};
use crate::compare::population::Population;
use crate::compare::schedule::Phase;

pub async fn run(u: &Unit<'_>, presented: Presented, r: &mut UnitResult) -> Result<()> {
    let ctx = u.ctx;
    let plan = &ctx.plan.saturation;
    // The model is replaced by each run's fixed rate.
    let placeholder = LoadModel::Closed { stages: Ramp::constant(1.0, plan.step) };
    let base = u.load(Some(u.scheme), placeholder, None);
    let population = if hit_ratio::applies(u.scheme) {
        let users = ctx.plan.population_cap;
        u.enter_at(Phase::Saturation, &format!("{users} sessions preloaded"));
        // The warm-up's logins are not part of it.
        ctx.store.clear_prefix(u.prefix).await?;
        let replicas = u.server.replica_addrs();
        Some(Population::preload(&ctx.store.target, u.prefix, users, ctx.plan.rate_per_user, replicas).await?)
    } else {
        None
    };
    let sat = open_model::measure(
        plan,
        ctx.knees.get(u.scheme),
        &base,
        population.as_ref(),
        &u.dir,
        u.stop,
        |kind, rate| {
            let phase = match kind {
                RunKind::Search => Phase::Saturation,
                RunKind::Ladder => Phase::CpuVsLoad,
                RunKind::HealthzPair => Phase::HealthzPair,
                RunKind::Spectrum => Phase::Spectrum,
            };
            u.enter_at(phase, &format!("{rate:.0} req/s"))
        },
    )
    .await?;
    // The preloaded sessions stay through the ramp; the hit-ratio phase, next for these schemes,
    // deletes everything under the unit's prefix before its own users.
    if let Some(k) = sat.searched.knee_step() {
        ctx.knees.set(u.scheme, k.offered_rps);
    }
    ctx.progress.note(&format!("{} r{}: {}", u.scheme, u.repeat, sat.describe()));
    r.rows.metrics.extend(sat.metrics(u.scheme.into(), plan.utilization));
    if let Some((me, healthz)) = sat.at_utilisation(plan.utilization) {
        let (metrics, credential) = authbench_report::run::steady_metrics(
            u.scheme.as_str(),
            u.scheme.uses_store(),
            &healthz.summary,
            &me.summary,
            presented,
        );
        r.rows.metrics.extend(metrics);
        r.rows.credential = credential;
    }
    r.rows.healthz_pairs.extend(sat.healthz_pair_row(u.scheme, u.repeat, plan.utilization));
    (r.rows.saturation, r.rows.cpu_vs_load) = sat.rows(u.scheme.into(), u.repeat);
    if let Some(h) = sat.fixed_latency {
        r.rows.me_latency = Some(h);
    }
    Ok(())
}
