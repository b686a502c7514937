//! The "Session store" section: what kept the schemes' state (one Redis or a Redis Cluster, from
//! environment.json), how the sweep's keys and memory spread over the store's data-holding nodes
//! at the largest level (`shards.csv`), and what the store's per-request figures are summed over.

use crate::analysis::Analysis;
use crate::data::ShardRow;
use crate::doc::Document;
use crate::metric::Metric;
use crate::units;

pub(super) fn store_section(d: &mut Document, a: &Analysis<'_>) {
    let r = a.results;
    let cluster = r.environment.store.as_deref() == Some("cluster");
    if !cluster {
        // One Redis: the comparison table and the sweep already say all there is.
        return;
    }
    d.h(2, "Session store");
    let described = r.environment.redis.clone().unwrap_or_else(|| "not recorded".into());
    let nodes = r.environment.store_nodes.as_ref().map_or(0, Vec::len);
    d.p(format!(
        "Store: {described}. Redis CPU per request is summed over {} (replicas included: replication is \
         work the store does); command counts, `used_memory` and keys over the data-holding node{}. \
         Memory per session is the data's cost on the primaries{}.",
        if nodes > 1 { format!("all {nodes} nodes") } else { "the one node".into() },
        if cluster { "s (primaries)" } else { "" },
        if cluster { "; each replica holds a copy on top" } else { "" }
    ));
    let mut bullets = Vec::new();
    for scheme in &a.schemes {
        let Some(m) = r.metric(scheme, Metric::StoreBytesPerSession) else { continue };
        let half = match (m.ci95_low, m.ci95_high) {
            (Some(lo), Some(hi)) => Some((hi - lo) / 2.0),
            _ => None,
        };
        let redis_cpu = r
            .sessions
            .iter()
            .filter(|s| &s.scheme == scheme)
            .max_by_key(|s| s.sessions)
            .and_then(|s| s.redis_cpu_us_per_req);
        bullets.push(format!(
            "{scheme}: {} on this store{}",
            units::bytes_per_session(m.mean, half),
            redis_cpu.map_or(String::new(), |c| format!(
                "; Redis CPU {} per request at the largest sweep level (at its fixed arrival rate{}: the \
                 nodes' own background work — cluster bus, replication — is in it, and weighs more the lower the rate)",
                units::us(c),
                r.environment.sweep_rate_rps.map_or(String::new(), |x| format!(" of {} req/s", units::count(x)))
            ))
        ));
    }
    if !bullets.is_empty() {
        d.bullets(bullets);
    }
    let rows = shard_table(&r.shards);
    if !rows.is_empty() {
        d.p("Keys and memory per shard at the largest sweep level, at rest (`shards.csv`; first repeat):");
        d.table(
            ["scheme", "sessions", "shard", "keys", "share of keys", "used_memory"]
                .map(String::from)
                .to_vec(),
            rows,
        );
    }
}

/// One row per scheme × shard at each scheme's largest level of its first repeat.
fn shard_table(shards: &[ShardRow]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut schemes: Vec<&str> = shards.iter().map(|s| s.scheme.as_str()).collect();
    schemes.dedup();
    let mut seen = std::collections::BTreeSet::new();
    for scheme in schemes {
        if !seen.insert(scheme) {
            continue;
        }
        let mine: Vec<&ShardRow> = shards.iter().filter(|s| s.scheme == scheme).collect();
        let Some(repeat) = mine.iter().map(|s| s.repeat).min() else { continue };
        let Some(top) = mine.iter().filter(|s| s.repeat == repeat).map(|s| s.sessions).max() else {
            continue;
        };
        let level: Vec<&&ShardRow> =
            mine.iter().filter(|s| s.repeat == repeat && s.sessions == top).collect();
        let keys: u64 = level.iter().map(|s| s.keys).sum();
        for s in level {
            out.push(vec![
                scheme.to_owned(),
                units::count(top as f64),
                s.node.clone(),
                s.keys.to_string(),
                if keys > 0 { format!("{:.1}%", s.keys as f64 * 100.0 / keys as f64) } else { "—".into() },
                units::bytes(s.used_memory),
            ]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_table_lists_the_largest_level_of_the_first_repeat() {
        let row = |repeat, sessions, node: &str, keys| ShardRow {
            scheme: "session".into(),
            repeat,
            sessions,
            node: node.into(),
            keys,
            used_memory: 2048.0,
        };
        let rows = shard_table(&[
            row(1, 0, "a:1", 5),
            row(1, 10_000, "a:1", 300),
            row(1, 10_000, "b:2", 100),
            row(2, 10_000, "a:1", 999),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], ["session", "10k", "a:1", "300", "75.0%", "2.00 KiB"]);
        assert_eq!(rows[1][4], "25.0%");
    }
}
