//! The cached session schemes' hit ratio at the workload's per-user rate (`session-cached`,
//! `session-tracked`, every repeat, on the unit's server): `hit_ratio.csv`.
//!
//! Many users, each at a low rate, not a few hot ones: `--hit-users` N users (default 20,000)
//! get one session each, written through the real key layout (`SessionStore::create_many`), and
//! the open model's credential pool draws a user uniformly for every arrival at a total rate of
//! N × `--rate-per-user`, so each user's own stream is about Poisson at the per-user rate
//! (0.1 req/s: 2,000 req/s in all). After a warm-up of three cache TTLs, at least 3 s (the cache in its
//! steady state), the servers' own `/metrics` counters (hits, misses; summed over replicas) are
//! read at the start and the end of a 6 s window, while the load runs on. The
//! closed-form model (`authbench_report::answer::hit_ratio`) at the same per-user rate, TTL and
//! capacity is written beside it; with `--replicas R` behind round-robin HAProxy each replica
//! sees each user at a rate ÷ R with its own cache, which the model is given.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_loadgen::{CredentialsBuilder, LoadModel, Ramp};
use authbench_report::answer::hit_ratio::hit_ratio;
use authbench_report::plan_inputs::HitRatioRow;
use authbench_servers::SchemeKind;
use authbench_servers::direct::SessionStore;

use super::{Unit, UnitResult};
use crate::compare::rate_step::pool_size;
use crate::compare::schedule::Phase;
use crate::harness::metrics;

/// The run folder of the phase's load (under the unit's `runs/` folder: the lost-request audit
/// covers it).
const RUN_DIR: &str = "hit-ratio";

/// Whether `scheme` has a cache whose hit ratio is measured.
pub fn applies(scheme: SchemeKind) -> bool {
    matches!(scheme, SchemeKind::SessionCached | SchemeKind::SessionTracked)
}

pub async fn run(u: &Unit<'_>, r: &mut UnitResult) -> Result<()> {
    let (ctx, scheme) = (u.ctx, u.scheme);
    let plan = &ctx.plan;
    let users = plan.hit_users;
    u.enter_at(Phase::HitRatio, &format!("{users} users at {} req/s each", plan.rate_per_user));
    let store = SessionStore::connect_bulk_to(&ctx.store.target, u.prefix, Duration::from_secs(3600)).await?;
    // The ramp's sessions are not part of it.
    ctx.store.clear_prefix(u.prefix).await?;
    let mut issued = CredentialsBuilder::new();
    let cookie = format!("{}=", authbench_contract::credential::SESSION_COOKIE);
    let mut first = 1;
    while first <= users {
        let last = (first + 1999).min(users);
        let sids =
            store.create_many(first..=last).await.map_err(|e| anyhow::anyhow!("{e} while preloading"))?;
        for sid in sids {
            issued.push_parts(cookie.as_bytes(), sid.as_bytes());
        }
        first = last + 1;
    }
    let pool = Arc::new(
        issued.pool(http::header::COOKIE, users as usize).context("a session id is no header value")?,
    );

    let total_rps = users as f64 * plan.rate_per_user;
    let (warm, window) = (plan.hit_warm, plan.hit_window);
    let model = LoadModel::Open {
        rate_stages: Ramp::constant(total_rps, warm + window + Duration::from_secs(1)),
        vus: pool_size(total_rps),
    };
    let mut config = u.load(Some(scheme), model, Some(RUN_DIR));
    config.credentials = Some(pool);
    let replicas = u.server.replica_addrs();
    let counters = async {
        tokio::time::sleep(warm).await;
        let before = metrics::cache(&replicas).await?;
        let started = tokio::time::Instant::now();
        tokio::time::sleep(window).await;
        let after = metrics::cache(&replicas).await?;
        anyhow::Ok((before, after, started.elapsed()))
    };
    let (ran, counted) = tokio::join!(u.run_load(config, Phase::HitRatio, None), counters);
    ran?;
    let (Some(before), Some(after), window) = counted? else {
        bail!("{scheme}: /metrics shows no cache");
    };
    let hits = after.hits.saturating_sub(before.hits);
    let misses = after.misses.saturating_sub(before.misses);
    if hits + misses == 0 {
        bail!("{scheme}: no cache lookups counted in the hit-ratio window");
    }
    let n = replicas.len().max(1) as f64;
    let ttl = authbench_servers::facts::DEFAULT_CACHE_TTL.as_secs_f64();
    let row = HitRatioRow {
        scheme: scheme.to_string(),
        repeat: u.repeat,
        users,
        total_rps,
        rate_per_user: plan.rate_per_user,
        cache_ttl_s: ttl,
        cache_capacity: after.capacity,
        warm_s: warm.as_secs_f64(),
        window_s: window.as_secs_f64(),
        hits,
        misses,
        measured: hits as f64 / (hits + misses) as f64,
        // Per replica: each user at rate ÷ R, its own cache of capacity ÷ R.
        model: hit_ratio(plan.rate_per_user / n, ttl, users as f64, after.capacity as f64 / n),
    };
    ctx.progress.note(&format!(
        "{scheme} r{}: hit ratio {:.3} over {:.0} s ({hits} hits, {misses} misses; model {:.3}) at {} req/s per user",
        u.repeat,
        row.measured,
        row.window_s,
        row.model,
        plan.rate_per_user
    ));
    r.rows.hit_ratio.push(row);
    ctx.store.clear_prefix(u.prefix).await?;
    Ok(())
}
