//! One scheme × one repeat: spawn the server, then run the phases against it in order — checks
//! (and the attack battery), warm-up, saturation and load (CPU per request at the utilisation, and
//! `/healthz` at the same rate), the ramp of virtual users (first repeat only), the cached schemes'
//! hit ratio, the session-scaling sweep
//! ([`super::phase`]) — and collect what they produced.

use anyhow::Result;
use authbench_report::data::file;
use authbench_servers::SchemeKind;
use tokio_util::sync::CancellationToken;

use super::ctx::Ctx;
use super::phase::{self, Health, Unit, UnitResult};
use super::plan::skips_sweep;
use super::schedule::Phase;
use crate::harness::replicas::Replicated;

/// Whether repeat `repeat` runs the ramp of virtual users: the first only.
pub fn ramps(repeat: u32) -> bool {
    repeat == 1
}

/// Measure one scheme once: one server through the phases in order. Stops early (with what it
/// has) when `stop` fires.
pub async fn unit(
    ctx: &Ctx,
    scheme: SchemeKind,
    repeat: u32,
    stop: &CancellationToken,
) -> Result<UnitResult> {
    let prefix = ctx.unit_prefix(scheme, repeat);
    let dir = ctx.plan.out.join(file::RUNS).join(file::unit_runs(scheme.as_str(), repeat));
    std::fs::create_dir_all(&dir)?;
    ctx.progress.enter(scheme, repeat, Phase::StartServer, None);
    let args = ctx.server_args(scheme, &prefix, None);
    let server = Replicated::spawn(&args, ctx.plan.replicas, &dir.join("haproxy"))?;
    let u = Unit { ctx, scheme, repeat, server: &server, prefix: &prefix, dir, stop };
    let mut r = UnitResult::default();

    // Nothing is measured from a server that fails its checks.
    let presented = phase::checks::run(&u, &mut r).await?;
    phase::warmup::run(&u).await?;
    if u.stopped() {
        r.interrupted = true;
        return Ok(r);
    }
    let mut health = Health::default();
    phase::saturation::run(&u, presented, &mut r).await?;
    if u.stopped() {
        r.interrupted = true;
        return Ok(r);
    }
    // The ramp (latency and throughput against virtual users) feeds plots only, no headline
    // and no answer figure: run in the first repeat only (~150 s of the default run).
    if ramps(repeat) {
        phase::ramp::run(&u, &mut health, &mut r).await?;
        if u.stopped() {
            r.interrupted = true;
            return Ok(r);
        }
    }
    if phase::hit_ratio::applies(scheme) {
        phase::hit_ratio::run(&u, &mut r).await?;
        if u.stopped() {
            r.interrupted = true;
            return Ok(r);
        }
    }
    if skips_sweep(scheme) {
        ctx.progress
            .note(&format!("{scheme} r{repeat}: no sweep (no per-user state: jwt's sweep stands for it)"));
    } else {
        r.interrupted = phase::sweep::run(&u, &mut health, &mut r).await?;
    }
    health.report(&u, &mut r);
    // Its own servers (the unit's, idle, stays up until the phase ends: the phase borrows it).
    if phase::store_rtt::applies(scheme) && !u.stopped() {
        phase::store_rtt::run(&u, &mut r).await?;
    }
    if !u.stopped() {
        phase::transport::run(&u, &mut r).await?;
    }
    server.stop();
    ctx.store.clear_prefix(&prefix).await?;
    Ok(r)
}
