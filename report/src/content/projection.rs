//! The capacity projection section: cores, Redis memory and shards for 1M/10M/100M users.

use super::format::NOT_MEASURED;
use crate::analysis::Analysis;
use crate::capacity::{self, Assumptions};
use crate::doc::Document;
use crate::units;

pub(super) fn capacity_section(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "Capacity projection");
    let inputs = capacity::inputs(a);
    if inputs.is_empty() {
        d.p(format!("{NOT_MEASURED} (needs CPU per request from `summary.csv` or `ramp.csv`.)"));
        return;
    }
    let asm = Assumptions::from_analysis(a);
    d.p(format!(
        "**This is a projection, not a measurement**: a linear extrapolation of the per-request CPU and \
         per-session memory measured above to user counts this machine cannot hold. Assumptions: servers run \
         at {}% of their maximum throughput ({}), paying the CPU per request {}; every user \
         sends {} req/s to /api/me ({}), one stored session per user, a Redis shard runs at most {}% busy on \
         its single command thread and holds at most {}.",
        units::sig(asm.utilization * 100.0, 2),
        if asm.utilization_from_environment {
            "`--utilization`, `utilization` in environment.json"
        } else {
            "this run recorded no `utilization`: servers assumed fully busy"
        },
        if inputs.iter().all(|i| i.cpu_at_utilization) {
            "measured at that load (open model, `cpu_vs_load.csv`), not at saturation"
        } else if inputs.iter().any(|i| i.cpu_at_utilization) {
            "measured at that load where the run has it, else in the steady closed-loop run (near saturation)"
        } else {
            "of the steady closed-loop run (near saturation: a fleet at partial load pays more)"
        },
        units::sig(asm.rate_per_user_rps, 3),
        if asm.rate_from_environment {
            "`rate_per_user_rps` from environment.json"
        } else {
            "default; environment.json has no `rate_per_user_rps`"
        },
        units::sig(asm.shard_utilisation * 100.0, 2),
        units::bytes(asm.shard_memory_bytes)
    ));
    d.code(format!(
        "requests/s      = users × {rate}\n\
         app cores       = users × {rate} × server CPU µs/req ÷ 1e6 ÷ {util}\n\
         Redis memory    = users × store bytes/session\n\
         Redis shards    = max(⌈users × {rate} × Redis CPU µs/req ÷ 1e6 ÷ {u}⌉, ⌈Redis memory ÷ {m}⌉)",
        rate = units::sig(asm.rate_per_user_rps, 3),
        util = asm.utilization,
        u = asm.shard_utilisation,
        m = units::bytes(asm.shard_memory_bytes)
    ));
    d.table(
        vec![
            "scheme".into(),
            "server CPU µs/req".into(),
            "Redis CPU µs/req".into(),
            "store bytes/session".into(),
            "uses Redis".into(),
        ],
        inputs
            .iter()
            .map(|i| {
                vec![
                    i.scheme.clone(),
                    units::sig(i.server_cpu_us, 3),
                    units::sig(i.redis_cpu_us, 3),
                    i.store_bytes_per_session.map_or("not measured".into(), |b| units::sig(b, 3)),
                    if i.uses_store { "yes".into() } else { "no".into() },
                ]
            })
            .collect(),
    );
    let mut rows = Vec::new();
    for &users in &capacity::USERS {
        for i in &inputs {
            let p = capacity::project(i, users, &asm);
            rows.push(vec![
                units::count(users as f64),
                i.scheme.clone(),
                units::count(p.requests_per_s),
                units::sig(p.server_cores, 3),
                match (p.redis_memory_bytes, i.uses_store) {
                    (None, _) => "not measured".into(),
                    (Some(m), true) => units::bytes(m),
                    (Some(_), false) => "none (slope ≈ 0)".into(),
                },
                if i.uses_store {
                    format!(
                        "{} (CPU {}, memory {})",
                        p.redis_shards,
                        p.redis_cpu_shards,
                        p.redis_memory_shards.map_or("n/a".into(), |m| m.to_string())
                    )
                } else {
                    "0 (no store)".into()
                },
            ]);
        }
    }
    d.table(
        vec![
            "users".into(),
            "scheme".into(),
            "requests/s".into(),
            "app-server cores".into(),
            "Redis memory".into(),
            "Redis shards (by CPU, by memory)".into(),
        ],
        rows,
    );
}
