//! `environment.json`: the machine, build, command line and plan a comparison's figures belong
//! to. One type, written by `compare` and read by the report: every key either of them knows is a
//! field; only keys neither knows (an older or a hand-edited file) stay in [`Environment::other`].
//!
//! Every field is optional: a folder from an older run may lack any of them, and a value that
//! does not apply is written as `null` (no load balancer with one server).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One data-holding or replica node of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreNode {
    pub node: String,
    pub primary: bool,
}

/// What `environment.json` holds. Serialised through a JSON map, so keys come out sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Environment {
    // The machine and the build (the binary's, not the directory it ran in).
    /// When the run started (RFC 3339, UTC); `date` repeats it (older runs wrote only one).
    pub date_utc: Option<String>,
    pub date: Option<String>,
    pub cpu_model: Option<String>,
    /// Cores the servers had (`compare`'s own count overrides the machine's: with `--pin auto`,
    /// the generator's and the servers' CPUs together).
    pub cores: Option<u64>,
    /// `compare --pin`: where the load generator and the measured processes ran, in words
    /// (`off: …` when unpinned); absent before issue 21.
    pub pinning: Option<String>,
    pub memory_bytes: Option<u64>,
    pub kernel: Option<String>,
    pub os: Option<String>,
    pub redis_version: Option<String>,
    pub build_profile: Option<String>,
    pub authbench_version: Option<String>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub rustc: Option<String>,
    /// URLs with their credentials replaced by `***`.
    pub command_line: Option<Vec<String>>,

    // The plan.
    pub seed: Option<u64>,
    pub quick: Option<bool>,
    pub schemes: Option<Vec<String>>,
    pub scheme_order_per_repeat: Option<Vec<Vec<String>>>,
    pub repeats: Option<u32>,
    pub stages: Option<String>,
    pub think_ms: Option<u64>,
    pub session_levels: Option<Vec<u64>>,
    pub sweep_rate_rps: Option<f64>,
    pub sweep_duration_s: Option<f64>,
    pub steady_vus: Option<u64>,
    /// The steady closed-loop runs' length (before issue 21; compare no longer runs them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steady_duration_s: Option<f64>,
    /// Length of the utilisation's fixed-rate step and of its `/healthz` pair (issue 21).
    pub utilisation_step_s: Option<f64>,
    pub users: Option<u64>,
    pub login_cost: Option<String>,
    /// The store in words (`private redis-server, persistence off`).
    pub redis: Option<String>,
    pub replicas: Option<u32>,
    pub workers_per_replica: Option<u64>,
    pub load_balancer: Option<String>,
    /// `redis` or `cluster`.
    pub store: Option<String>,
    /// The private redis-server's persistence (`none` or `aof`); absent for a store compare did
    /// not start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_persistence: Option<String>,
    pub store_nodes: Option<Vec<StoreNode>>,
    /// Requests per second per logged-in user, for the capacity projection.
    pub rate_per_user_rps: Option<f64>,
    pub slo_p99_ms: Option<f64>,
    /// Share of its maximum a scheme's CPU is read at (`--utilization`).
    pub utilization: Option<f64>,
    pub spectrum_rate_rps: Option<f64>,
    pub saturation_step_s: Option<f64>,
    pub cpu_vs_load_shares: Option<Vec<f64>>,
    /// What the run-time section holds the whole run against, and why that much.
    pub run_budget_s: Option<f64>,
    pub run_budget_basis: Option<String>,
    /// The run's wall-clock seconds, to 0.1 s (written at the end).
    pub run_seconds: Option<f64>,
    /// Session levels of Redis bytes per stored session (`store_bytes.csv`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_levels: Option<Vec<u64>>,
    /// What a phase of the run did not measure, and why (one line each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,

    /// Each repeat's order of the sweep's levels (the hot level 0 first, the others shuffled:
    /// claim 4's change is not a change in time), also the order of claim 4's control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_level_order_per_repeat: Option<Vec<Vec<u64>>>,

    // Set by hand to change the capacity projection; compare does not write the first.
    /// Memory budget of one Redis shard (default 16 GiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_shard_memory_bytes: Option<f64>,
    /// Share of one core a Redis shard runs at: compare writes the `--redis-utilization` it drove
    /// Redis to directly (`redis_direct.csv`); without it, the `utilization` (default 0.7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_shard_utilisation: Option<f64>,

    /// Keys no version of authbench gives a meaning to, kept as they are.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl Environment {
    /// The JSON object `environment.json` holds, keys sorted.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an Environment is plain data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_kept_and_known_ones_typed() {
        let text = r#"{"cores": 2, "quick": true, "note": "hand-written", "slo_p99_ms": 10.0}"#;
        let env: Environment = serde_json::from_str(text).unwrap();
        assert_eq!((env.cores, env.quick, env.slo_p99_ms), (Some(2), Some(true), Some(10.0)));
        assert_eq!(env.other["note"], "hand-written");
        let back = env.to_json();
        assert_eq!(back["note"], "hand-written");
        assert_eq!(back["cores"], 2);
        assert!(back["load_balancer"].is_null(), "a field compare writes is written, null when None");
        assert!(back.get("redis_shard_memory_bytes").is_none(), "hand-set inputs only when set");
    }
}
