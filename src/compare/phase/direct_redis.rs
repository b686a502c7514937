//! Redis at the plan's load, once per run after the schemes ([`crate::compare::redis_direct`]):
//! Redis driven directly, with no scheme around it, on the private redis-server the schemes used
//! (pinned with the servers, away from this process's client).
//!
//! - **Per lookup kind** the run's schemes make (`GETEX`: session, session-cached; `MGET x3`:
//!   jwt-revocable; `GET+PTTL`: session-tracked), over the sweep's largest key space, at
//!   `--redis-utilization` of one core: Redis's CPU per lookup at the load a shard runs at, once
//!   per repeat (the first repeat searches the rate; later ones drive the rate it found).
//! - **Claim 4's control**: `GETEX` at the sweep's rate over each stored level's key space, in
//!   each repeat's level order (the sweep's own, [`crate::compare::plan::Plan::level_orders`]):
//!   what the key space's size alone does to a lookup, without a scheme. Its rows carry
//!   `target_busy = NaN`.
//!
//! Both drive Redis the way the servers do: one connection per server process, each writing the
//! lookups due in each millisecond as one pipelined write ([`redis_direct::TICK`]). At the busy
//! share, the processes are as many as the plan's deployment puts on the shard: its rate ÷ what
//! one server process sent at the utilisation step in this run (the lookup's scheme: session for
//! `GETEX`, × the miss share the step counted for a cached variant; ÷ `--replicas`), at least
//! `--replicas`. The control runs at the sweep's rate from the sweep's servers (`--replicas`).
//!
//! Only on a private single Redis: driving someone else's Redis (`--redis-url`) to 60% busy would
//! disturb it, and a Cluster has no one Redis to drive. Every key is deleted afterwards.

use std::time::Duration;

use anyhow::{Result, bail};
use authbench_report::plan_inputs::RedisDirectRow;
use authbench_servers::direct::StoreTarget;
use tokio_util::sync::CancellationToken;

use authbench_report::results::Results;

use super::hit_ratio;
use crate::compare::ctx::Ctx;
use crate::compare::redis_direct::{self, Lookup};
use crate::compare::schedule::Phase;

/// Who the phase belongs to on the progress line and in `phases.csv`.
pub const WHO: &str = "redis";

/// Why the phase cannot run on this store, if it cannot.
pub fn skipped(ctx: &Ctx) -> Option<&'static str> {
    if !ctx.store.owned {
        Some("Redis driven directly needs the private redis-server compare starts (not --redis-url)")
    } else if ctx.store.is_cluster() {
        Some("Redis driven directly needs one Redis, not a Cluster")
    } else {
        None
    }
}

/// Both parts, their rows appended to `rows` as they are measured (so a failure keeps them).
pub async fn run(ctx: &Ctx, stop: &CancellationToken, rows: &mut Vec<RedisDirectRow>) -> Result<()> {
    let plan = &ctx.plan;
    let kinds = redis_direct::lookups(&plan.schemes);
    if kinds.is_empty() && !redis_direct::has_control(&ctx.plan.schemes, &ctx.plan.levels) {
        return Ok(());
    }
    if let Some(why) = skipped(ctx) {
        ctx.progress.note(&format!("redis direct: skipped: {why}"));
        return Ok(());
    }
    let StoreTarget::Single(url) = &ctx.store.target else { bail!("a single Redis was checked above") };
    let prefix = format!("{}direct:", ctx.prefix);
    let result = measure(ctx, url, &prefix, &kinds, stop, rows).await;
    ctx.store.clear_prefix(&prefix).await?;
    result
}

async fn measure(
    ctx: &Ctx,
    url: &str,
    prefix: &str,
    kinds: &[Lookup],
    stop: &CancellationToken,
    rows: &mut Vec<RedisDirectRow>,
) -> Result<()> {
    let plan = &ctx.plan;
    let top = redis_direct::keyspace(&plan.levels);
    let target = plan.redis_utilisation;
    ctx.progress.enter_as(WHO, 0, Phase::RedisDirect, Some(&format!("{top} keys")));
    redis_direct::populate(url, prefix, top).await?;
    let folder = Results::read_dir(&plan.out).ok();
    let min = redis_direct::connections(plan.replicas);
    for &lookup in kinds {
        let per_server = folder.as_ref().and_then(|r| per_server_rps(ctx, r, lookup));
        let mut found: Option<f64> = None;
        for repeat in 1..=plan.repeat {
            if stop.is_cancelled() {
                return Ok(());
            }
            let detail = format!("{} at {:.0}% busy", lookup.as_str(), target * 100.0);
            ctx.progress.enter_as(WHO, 0, Phase::RedisDirect, Some(&detail));
            let reading = match found {
                None => {
                    redis_direct::at_utilisation(
                        url,
                        prefix,
                        lookup,
                        top,
                        target,
                        plan.direct_window,
                        per_server,
                        min,
                    )
                    .await?
                }
                Some(rate) => {
                    redis_direct::drive(
                        url,
                        prefix,
                        lookup,
                        top,
                        rate,
                        plan.direct_window,
                        redis_direct::connections_for(rate, per_server, min),
                    )
                    .await?
                }
            };
            found = Some(reading.offered_rps);
            ctx.progress.note(&format!(
                "redis r{repeat}: {} over {top} keys at {:.0}% busy ({:.0}/s on {} connection(s)): {:.2} µs of Redis CPU per lookup",
                lookup.as_str(),
                reading.busy * 100.0,
                reading.achieved_rps,
                reading.connections,
                reading.us_per_lookup
            ));
            rows.push(reading.row(repeat, target));
        }
    }
    if redis_direct::has_control(&ctx.plan.schemes, &ctx.plan.levels) {
        control(ctx, url, prefix, top, stop, rows).await?;
    }
    Ok(())
}

/// Lookups/s one server process sent at the utilisation step in this run's folder `r`: the first
/// scheme of the run making `lookup` (an uncached one first), its step's offered rate (mean over
/// repeats, ÷ `--replicas`) × the miss share its servers counted there (a cached variant).
fn per_server_rps(ctx: &Ctx, r: &Results, lookup: Lookup) -> Option<f64> {
    let plan = &ctx.plan;
    let scheme = plan
        .schemes
        .iter()
        .filter(|&&s| redis_direct::lookup_of(s) == Some(lookup))
        .min_by_key(|&&s| hit_ratio::applies(s))?;
    let share = plan.saturation.utilization;
    let rates: Vec<f64> = r
        .cpu_vs_load
        .iter()
        .filter(|x| x.scheme == scheme.as_str() && x.share.is_some_and(|s| (s - share).abs() < 0.005))
        .map(|x| x.offered_rps * (1.0 - x.hit_ratio.unwrap_or(0.0)) / plan.replicas.max(1) as f64)
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
}

/// Claim 4's control: `GETEX` at the sweep's rate over each stored level's key space, in each
/// repeat's level order; the key space is resized to exactly the level before each window.
async fn control(
    ctx: &Ctx,
    url: &str,
    prefix: &str,
    mut stored: u64,
    stop: &CancellationToken,
    rows: &mut Vec<RedisDirectRow>,
) -> Result<()> {
    let plan = &ctx.plan;
    for (i, order) in plan.level_orders().iter().enumerate() {
        let repeat = i as u32 + 1;
        for &level in order.iter().filter(|&&n| n > 0) {
            if stop.is_cancelled() {
                return Ok(());
            }
            ctx.progress.enter_as(WHO, 0, Phase::RedisControl, Some(&format!("GETEX over {level} keys")));
            redis_direct::resize(url, prefix, stored, level).await?;
            stored = level;
            let reading = redis_direct::drive(
                url,
                prefix,
                Lookup::Getex,
                level,
                plan.rate,
                plan.sweep.max(Duration::from_secs(1)),
                redis_direct::connections(plan.replicas),
            )
            .await?;
            rows.push(reading.row(repeat, f64::NAN));
        }
    }
    Ok(())
}
