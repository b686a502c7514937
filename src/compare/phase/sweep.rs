//! The sweep phase: the session-scaling sweep ([`crate::compare::session_levels`]: one session per user,
//! lookups drawn uniformly, memory read at rest, the levels in this repeat's order) against the
//! unit's server, each level a row of `sessions.csv`.

use anyhow::Result;
use authbench_loadgen::Endpoint;
use authbench_report::data::{SessionsRow, ShardRow};
use authbench_servers::SchemeKind;

use super::{Health, Unit, UnitResult};
use crate::compare::schedule::Phase;
use crate::compare::session_levels::{Level, Sweep};

/// Returns true when Ctrl-C cut the sweep short (it keeps the levels it measured).
pub async fn run(u: &Unit<'_>, health: &mut Health, r: &mut UnitResult) -> Result<bool> {
    let (ctx, scheme, repeat) = (u.ctx, u.scheme, u.repeat);
    let plan = &ctx.plan;
    // This repeat's level order (recorded in environment.json).
    let order = plan.level_orders().get(repeat as usize - 1).cloned().unwrap_or_else(|| plan.levels.clone());
    let sweep = Sweep {
        scheme,
        server_addr: u.server.addr,
        server_pid: u.server.pid(),
        replica_pids: &u.server.other_pids(),
        proxy_pid: u.server.proxy_pid(),
        replica_addrs: &u.server.replica_addrs(),
        store: &ctx.store,
        prefix: u.prefix,
        keys: &ctx.keys.issue,
        levels: &order,
        rate: plan.rate,
        duration: plan.sweep,
        vus: plan.steady_vus,
        out_dir: &u.dir,
    };
    let levels = sweep.run(u.stop, |n| u.enter_at(Phase::Sweep, &format!("{n} sessions"))).await?;
    for level in &levels {
        health.add(&level.summary);
        ctx.progress.note(&format!(
            "{scheme} r{repeat}: {} sessions preloaded in {:.1} s, at rest after {:.1} s ({})",
            level.sessions,
            level.preload.as_secs_f64(),
            level.rest_wait.as_secs_f64(),
            level.rest.map_or("-", |r| r.as_str()),
        ));
        r.rows.sessions.push(sessions_row(scheme, repeat, level));
        r.rows.shards.extend(level.shards.iter().map(|s| ShardRow {
            scheme: scheme.to_string(),
            repeat,
            sessions: level.sessions,
            node: s.node.clone(),
            keys: s.keys,
            used_memory: s.used_memory as f64,
        }));
    }
    Ok(u.stopped())
}

/// One `sessions.csv` row from a sweep level.
fn sessions_row(scheme: SchemeKind, repeat: u32, level: &Level) -> SessionsRow {
    let from_run =
        SessionsRow::from_run(scheme.as_str(), repeat, level.sessions, scheme.uses_store(), &level.summary);
    SessionsRow {
        distinct_sessions_used: Some(level.distinct_sessions_used),
        redis_usec_per_call: level.redis_usec_per_call,
        redis_used_memory: level.redis_used_memory.map(|v| v as f64),
        redis_bytes_session_record: level.redis_bytes_session_record,
        redis_bytes_user_index: level.redis_bytes_user_index,
        redis_keys: level.redis_keys,
        server_rss_bytes: level.server_rss_bytes.map(|v| v as f64),
        redis_lookup_calls: Some(level.redis_lookup_calls),
        redis_keyspace_hits: Some(level.redis_keyspace_hits),
        preload_s: Some(level.preload.as_secs_f64()),
        rest_wait_s: Some(level.rest_wait.as_secs_f64()),
        cache_hit_ratio: cache_hit_ratio(scheme, level),
        cache_entries: level.cache.map(|c| c.entries),
        cache_capacity: level.cache.map(|c| c.capacity),
        cache_bytes: level.cache.map(|c| c.bytes as f64),
        redis_tracking_keys: (scheme == SchemeKind::SessionTracked).then_some(level.redis_tracking_keys),
        ..from_run
    }
}

/// `session-cached`, `session-tracked`: the share of the level's `/api/me` requests answered
/// without a lookup (`GETEX`; `GET` on the tracking connection) (uniform access over many
/// sessions defeats the cache: a finding, not a failure).
fn cache_hit_ratio(scheme: SchemeKind, level: &Level) -> Option<f64> {
    if !matches!(scheme, SchemeKind::SessionCached | SchemeKind::SessionTracked) {
        return None;
    }
    let requests = level.summary.endpoint(Endpoint::Me).map(|e| e.count)?;
    (requests > 0).then(|| 1.0 - (level.redis_lookup_calls as f64 / requests as f64).min(1.0))
}
