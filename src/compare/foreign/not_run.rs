//! What runs against a `--target` and what does not, with the reason: `environment.json`'s
//! `targets` entry, which the report's "Your services" section reads.

use serde_json::json;

use super::target::Target;

/// The phases run against every target, in order.
pub const RUN: [&str; 6] = [
    "ramp",
    "knee search",
    "CPU against load",
    "fixed-rate spectrum",
    "credential bytes",
    "revocation probe",
];

/// Phases that need authbench's own code, and why each is not run against a target.
pub const NOT_RUN: [(&str, &str); 9] = [
    ("checks and attack battery", "they forge and tamper with authbench's own credential formats"),
    ("healthz baseline (CPU ratio)", "needs an unauthenticated endpoint the flow does not describe"),
    ("session-scaling sweep", "its preload writes sessions through authbench's own credential-issuing code"),
    ("store bytes and hit ratio", "they read authbench's own Redis keys and cache counters"),
    ("Redis-direct", "drives Redis with authbench's own lookup command"),
    ("login cost", "measures authbench's own argon2id login"),
    ("store RTT", "puts a delay proxy between authbench's server and its Redis"),
    ("transport", "starts authbench's own server over h2 and TLS"),
    ("revocation memory and faults", "drive authbench's own Redis and kill the processes it started"),
];

/// The `targets` entry of `environment.json`: each target, what was measured and what was not.
pub fn describe(targets: &[Target]) -> serde_json::Value {
    let not_run: Vec<_> = NOT_RUN.iter().map(|(p, why)| json!({ "phase": p, "reason": why })).collect();
    targets
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "url": t.url,
                "flow": t.flow.display().to_string(),
                "host": t.host,
                "run": RUN,
                "server_cpu": if t.pid.is_some() { "measured (pid=)" } else { "not measured (no pid=)" },
                "store_memory": if t.redis.is_some() { "measured (redis=, INFO only)" } else { "not measured (no redis=)" },
                "not_run": not_run,
            })
        })
        .collect()
}
