//! Redis bytes per stored item, once per run after the schemes (`store_bytes.csv`), on a private
//! redis-server of its own (pinned with the servers; stopped afterwards, so tens of millions of
//! keys need no deleting and the baseline is an empty Redis):
//!
//! - `family` (jwt-revocable, jwt-pubsub): [`FAMILIES`] refresh-token families issued through the
//!   servers' own code (`RevocationStore::issue_many`, the key a login writes and keeps for the
//!   refresh lifetime), `used_memory` after minus before ÷ families; one measurement, written for
//!   each JWT variant in the run (both write the same family key);
//! - `session` (the session scheme): sessions in the real key layout (`SessionStore::create_many`:
//!   a record and a user index per user) grown through `--memory-levels` (default 1M, 2M, 4M, 7M,
//!   10M), `used_memory` read at rest (no dictionary rehashing) at each level; each row is the
//!   bytes per session from the previous level (or from empty) to this one, with the main
//!   dictionary's bucket count, so the spread between levels — where a hash-table resize lands —
//!   is in the data, not only the spread between repeats. Skipped, with the reason, when
//!   `MemAvailable` cannot hold the largest level;
//! - `revoked` (jwt-revocable, jwt-pubsub): bytes per key of the logout-memory phase, written here
//!   too ([`revoked_rows`]).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use authbench_report::plan_inputs::StoreBytesRow;
use authbench_report::revocation_entries::RevocationMemoryRow;
use authbench_servers::SchemeKind;
use authbench_servers::direct::{RevocationStore, SessionStore, StoreTarget};
use tokio_util::sync::CancellationToken;

use crate::compare::ctx::Ctx;
use crate::compare::plan::{REDIS_BYTES_PER_SESSION, available_memory};
use crate::compare::schedule::Phase;
use crate::compare::store_probe::{htstats, node_at_rest, table_buckets};
use crate::harness::redis::{RedisInfo, RedisServer, probe_connection};

/// Families whose memory is measured.
pub const FAMILIES: u64 = 100_000;
/// Who the phase belongs to on the progress line and in `phases.csv`.
pub const WHO: &str = "store";
/// Sessions per `create_many` call, and calls in flight.
const BATCH: u64 = 2_000;
const IN_FLIGHT: usize = 8;
/// Longest wait for rehashing to finish before a level's memory is read anyway.
const REST_LIMIT: Duration = Duration::from_secs(60);
/// Share of `MemAvailable` the largest level may plan to take.
const HEADROOM: f64 = 0.8;

/// Whether the run measures anything here.
pub fn applies(ctx: &Ctx) -> bool {
    let s = &ctx.plan.schemes;
    s.contains(&SchemeKind::Session) || s.iter().any(|&k| jwt_family(k))
}

fn jwt_family(scheme: SchemeKind) -> bool {
    matches!(scheme, SchemeKind::JwtRevocable | SchemeKind::JwtPubsub)
}

/// Why the session levels cannot be measured on this machine, if they cannot: `MemAvailable`
/// against the largest level at [`REDIS_BYTES_PER_SESSION`] (with headroom).
pub fn session_levels_skipped(top: u64, available: Option<u64>) -> Option<String> {
    let need = top as f64 * REDIS_BYTES_PER_SESSION as f64;
    match available {
        None => Some("MemAvailable could not be read from /proc/meminfo".to_owned()),
        Some(avail) if need > avail as f64 * HEADROOM => Some(format!(
            "{top} sessions need about {:.1} GiB of Redis memory but only {:.1} GiB is available",
            need / (1u64 << 30) as f64,
            avail as f64 / (1u64 << 30) as f64
        )),
        Some(_) => None,
    }
}

/// The phase; rows are appended to `rows` as they are measured. Returns notes (what was skipped
/// and why) for environment.json.
pub async fn run(ctx: &Ctx, stop: &CancellationToken, rows: &mut Vec<StoreBytesRow>) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    if !applies(ctx) {
        return Ok(notes);
    }
    ctx.progress.enter_as(WHO, 0, Phase::StoreBytes, Some("private redis-server"));
    let redis = match tokio::task::spawn_blocking(RedisServer::start).await? {
        Ok(r) => r,
        Err(e) => {
            let note = format!("store bytes: not measured: cannot start a private redis-server ({e})");
            ctx.progress.note(&note);
            notes.push(note);
            return Ok(notes);
        }
    };
    let url = redis.url();
    let info = RedisInfo::connect(&url).await?;
    let probe = probe_connection(&url).await?;
    let (probe, info) = (&probe, &info);
    let at_rest = move || async move {
        node_at_rest(probe, REST_LIMIT, 0).await?;
        let used = info.sample().await?.used_memory;
        anyhow::Ok((used, htstats(probe).await.as_deref().and_then(table_buckets)))
    };

    let jwt: Vec<SchemeKind> = ctx.plan.schemes.iter().copied().filter(|&s| jwt_family(s)).collect();
    if !jwt.is_empty() && !stop.is_cancelled() {
        ctx.progress.enter_as(WHO, 0, Phase::StoreBytes, Some(&format!("{FAMILIES} JWT families")));
        let prefix = "authbench:bytes:f:";
        let store =
            RevocationStore::connect(&url, prefix, ctx.keys.issue.jwt.family_ttl(), Duration::from_secs(60))
                .await?;
        let (before, _) = at_rest().await?;
        let uids: Vec<u64> = (1..=FAMILIES).collect();
        for chunk in uids.chunks(BATCH as usize) {
            store
                .issue_many(&ctx.keys.issue.jwt, chunk)
                .await
                .map_err(|e| anyhow::anyhow!("{e} issuing families"))?;
        }
        let (after, buckets) = at_rest().await?;
        let per = (after as f64 - before as f64) / FAMILIES as f64;
        ctx.progress.note(&format!(
            "store: {per:.1} B of Redis memory per JWT refresh-token family ({FAMILIES} families)"
        ));
        for scheme in &jwt {
            rows.push(StoreBytesRow {
                scheme: scheme.to_string(),
                item: "family".into(),
                repeat: 1,
                items: FAMILIES,
                bytes_per_item: per,
                table_buckets: buckets,
            });
        }
        crate::harness::redis::clear_prefix(&url, prefix).await?;
    }

    let levels = &ctx.plan.memory_levels;
    let top = levels.iter().copied().max().unwrap_or(0);
    if ctx.plan.schemes.contains(&SchemeKind::Session) && top > 0 && !stop.is_cancelled() {
        match session_levels_skipped(top, available_memory()) {
            Some(why) => {
                let note = format!("store bytes: session levels up to {top} not measured: {why}");
                ctx.progress.note(&note);
                notes.push(note);
            }
            None => sessions(ctx, &url, levels, stop, rows, &at_rest).await?,
        }
    }
    drop(redis);
    Ok(notes)
}

async fn sessions<F, Fut>(
    ctx: &Ctx,
    url: &str,
    levels: &[u64],
    stop: &CancellationToken,
    rows: &mut Vec<StoreBytesRow>,
    at_rest: &F,
) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(u64, Option<u64>)>>,
{
    let prefix = "authbench:bytes:s:";
    let store = SessionStore::connect_bulk_to(
        &StoreTarget::Single(url.to_owned()),
        prefix,
        Duration::from_secs(24 * 3600),
    )
    .await?;
    let (mut used, _) = at_rest().await?;
    let mut stored = 0u64;
    let mut sorted = levels.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for level in sorted.into_iter().filter(|&n| n > 0) {
        if stop.is_cancelled() {
            break;
        }
        ctx.progress.enter_as(WHO, 0, Phase::StoreBytes, Some(&format!("{level} sessions")));
        let started = Instant::now();
        let starts: Vec<u64> = (stored..level).step_by(BATCH as usize).collect();
        for wave in starts.chunks(IN_FLIGHT) {
            let calls = wave.iter().map(|&s| store.create_many((s..(s + BATCH).min(level)).map(|i| i + 1)));
            for r in futures::future::join_all(calls).await {
                r.map_err(|e| anyhow::anyhow!("{e} while writing sessions"))?;
            }
        }
        let wrote = started.elapsed();
        let (now, buckets) = at_rest().await.context("Redis memory at rest")?;
        let per = (now as f64 - used as f64) / (level - stored) as f64;
        ctx.progress.note(&format!(
            "store: {level} sessions ({:.0} k/s): {per:.1} B per session since {stored}, main table {} buckets",
            (level - stored) as f64 / wrote.as_secs_f64().max(1e-9) / 1e3,
            buckets.map_or("?".to_owned(), |b| b.to_string())
        ));
        rows.push(StoreBytesRow {
            scheme: SchemeKind::Session.to_string(),
            item: "session".into(),
            repeat: 1,
            items: level,
            bytes_per_item: per,
            table_buckets: buckets,
        });
        (used, stored) = (now, level);
    }
    Ok(())
}

/// The logout-memory phase's bytes per key, as `revoked` rows (one per scheme × paced rate).
pub fn revoked_rows(memory: &[RevocationMemoryRow]) -> Vec<StoreBytesRow> {
    memory
        .iter()
        .filter_map(|m| {
            Some(StoreBytesRow {
                scheme: m.scheme.clone(),
                item: "revoked".into(),
                repeat: 1,
                items: m.keys.max(0.0) as u64,
                bytes_per_item: m.bytes_per_key()?,
                table_buckets: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_million_sessions_fit_this_machine_but_not_a_small_one() {
        let gib = 1u64 << 30;
        assert_eq!(session_levels_skipped(10_000_000, Some(23 * gib)), None);
        let why = session_levels_skipped(10_000_000, Some(4 * gib)).unwrap();
        assert!(why.contains("6.5 GiB") && why.contains("4.0 GiB is available"), "{why}");
        assert!(session_levels_skipped(1, None).is_some());
    }
}
