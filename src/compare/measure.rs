//! One scheme × one repeat: spawn the server, then run the phases against it in order — checks
//! (and the attack battery), warm-up, healthz vs me CPU, saturation and load, the ramp of virtual users, the
//! session-scaling sweep ([`super::phase`]) — and collect what they produced.

use anyhow::Result;
use authbench_report::data::file;
use authbench_servers::SchemeKind;
use tokio_util::sync::CancellationToken;

use super::ctx::Ctx;
use super::phase::{self, Health, Unit, UnitResult};
use super::plan::skips_sweep;
use crate::harness::replicas::Replicated;

/// The unit's Redis key prefix: the same length for every scheme and repeat. Every stored key
/// carries it (a session record and its user's index: two keys per logged-in user), so a prefix
/// that named the scheme made `session-tracked`'s keys 16 bytes per user longer than `session`'s,
/// and its Redis memory per user came out ~33 B higher for no reason of its own (allocator size
/// classes round the longer keys up).
pub fn unit_prefix(run: &str, scheme: SchemeKind, repeat: u32) -> String {
    let index = SchemeKind::ALL.iter().position(|&s| s == scheme).unwrap_or(0);
    format!("{run}s{index:02}:r{repeat:03}:")
}

/// Measure one scheme once: one server through the phases in order. Stops early (with what it
/// has) when `stop` fires.
pub async fn unit(
    ctx: &Ctx,
    scheme: SchemeKind,
    repeat: u32,
    stop: &CancellationToken,
) -> Result<UnitResult> {
    let prefix = unit_prefix(&ctx.prefix, scheme, repeat);
    let dir = ctx.plan.out.join(file::RUNS).join(file::unit_runs(scheme.as_str(), repeat));
    std::fs::create_dir_all(&dir)?;
    ctx.progress.phase(scheme, repeat, "start server");
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
    phase::cpu::run(&u, presented, &mut health, &mut r).await?;
    if u.stopped() {
        r.interrupted = true;
        return Ok(r);
    }
    phase::saturation::run(&u, &mut r).await?;
    if u.stopped() {
        r.interrupted = true;
        return Ok(r);
    }
    phase::ramp::run(&u, &mut health, &mut r).await?;
    if u.stopped() {
        r.interrupted = true;
        return Ok(r);
    }
    if skips_sweep(scheme) {
        ctx.progress
            .note(&format!("{scheme} r{repeat}: no sweep (no per-user state: jwt's sweep stands for it)"));
    } else {
        r.interrupted = phase::sweep::run(&u, &mut health, &mut r).await?;
    }
    health.report(&u, &mut r);
    server.stop();
    ctx.store.clear_prefix(&prefix).await?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_prefixes_have_one_length_and_differ() {
        let all: Vec<String> = SchemeKind::ALL
            .iter()
            .flat_map(|&s| [1, 3, 42].map(|r| unit_prefix("authbench:cmp:x:", s, r)))
            .collect();
        assert!(all.iter().all(|p| p.len() == all[0].len()), "{all:?}");
        let distinct: std::collections::HashSet<&String> = all.iter().collect();
        assert_eq!(distinct.len(), all.len());
    }
}
