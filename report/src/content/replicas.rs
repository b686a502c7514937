//! The "Replicas" section (`compare --replicas N`, N > 1): how the servers were replicated (from
//! environment.json), what the checks across replicas proved (checks.csv), and CPU per
//! `/api/me` split into its parts, HAProxy's apart (summary.csv).

use crate::analysis::Analysis;
use crate::doc::Document;
use crate::units;

pub(super) fn replicas_section(d: &mut Document, a: &Analysis<'_>) {
    let r = a.results;
    let replicas = r.environment.replicas.map_or(1.0, f64::from);
    if replicas <= 1.0 {
        return;
    }
    d.h(2, "Replicas");
    let workers = r.environment.workers_per_replica.map_or_else(|| "?".into(), |w| w.to_string());
    let cores = r.environment.cores.map_or_else(|| "?".into(), |c| c.to_string());
    d.p(format!(
        "Each scheme ran as {replicas} server processes behind HAProxy (mode http, round robin, no \
         stickiness: one client connection's requests are spread over the replicas), each capped to \
         {workers} worker thread(s) on {cores} cores so that replicas × workers ≤ cores. On one machine this \
         measures the overhead of replication — the extra hop and the shared state — not scale-out. Server \
         CPU is summed over the replicas; HAProxy's is its own part of the total."
    ));
    let passed = |check: &str| -> Vec<String> {
        a.schemes
            .iter()
            .filter(|s| r.checks.iter().any(|c| &c.scheme == *s && c.check == check && c.passed))
            .cloned()
            .collect()
    };
    let list = |v: Vec<String>| if v.is_empty() { "none".to_owned() } else { v.join(", ") };
    d.bullets(vec![
        format!(
            "a credential issued by one replica is accepted by the others: {}",
            list(passed("credential_accepted_across_replicas"))
        ),
        format!(
            "a logout through one replica holds on the others (schemes that promise revocation): {}",
            list(passed("revocation_holds_across_replicas"))
        ),
    ]);
    let rows: Vec<Vec<String>> = a
        .schemes
        .iter()
        .filter_map(|s| {
            let c = a.cpu(s)?;
            let share = if c.total_us() > 0.0 { c.proxy_us / c.total_us() * 100.0 } else { 0.0 };
            Some(vec![
                s.clone(),
                units::us(c.server_us),
                units::us(c.redis_us),
                units::us(c.proxy_us),
                units::us(c.total_us()),
                format!("{}%", units::sig(share, 2)),
            ])
        })
        .collect();
    if !rows.is_empty() {
        d.table(
            ["scheme", "servers", "Redis", "HAProxy", "total", "HAProxy share"].map(String::from).to_vec(),
            rows,
        );
    }
}
