//! Capacity projection from measured per-request CPU and per-session memory slopes — a linear
//! extrapolation, labelled as such in the report.
//!
//! For `users` users each sending `rate` requests/s to `/api/me`:
//! - requests/s = users × rate
//! - app-server cores = users × rate × server CPU µs/req ÷ 1e6 ÷ utilisation, with CPU per request
//!   measured at that utilisation's share of the maximum (`cpu_vs_load.csv`) when the run has it
//! - Redis memory = users × store bytes/session (one stored session per user)
//! - Redis shards = max(⌈users × rate × Redis CPU µs/req ÷ 1e6 ÷ utilisation⌉, ⌈memory ÷ per-shard budget⌉),
//!   because Redis executes commands on one core.

use super::analysis::Analysis;
use super::metric::Metric;

/// User counts the report projects to.
pub const USERS: [u64; 3] = [1_000_000, 10_000_000, 100_000_000];
pub const DEFAULT_RATE_PER_USER_RPS: f64 = 0.1;
pub const DEFAULT_SHARD_MEMORY_BYTES: f64 = 16.0 * 1024.0 * 1024.0 * 1024.0;
pub const DEFAULT_SHARD_UTILISATION: f64 = 0.7;

/// The stated assumptions, each from environment.json or the default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assumptions {
    /// Share of their maximum the servers run at (`--utilization`, environment.json `utilization`);
    /// 1 for runs that did not record one.
    pub utilization: f64,
    pub utilization_from_environment: bool,
    pub rate_per_user_rps: f64,
    pub rate_from_environment: bool,
    pub shard_memory_bytes: f64,
    pub shard_utilisation: f64,
}

impl Assumptions {
    pub fn from_analysis(a: &Analysis<'_>) -> Self {
        let r = a.results;
        let rate = r.environment.rate_per_user_rps.filter(|x| *x > 0.0);
        let utilization = r.environment.utilization.filter(|x| *x > 0.0 && *x <= 1.0);
        Assumptions {
            utilization: utilization.unwrap_or(1.0),
            utilization_from_environment: utilization.is_some(),
            rate_per_user_rps: rate.unwrap_or(DEFAULT_RATE_PER_USER_RPS),
            rate_from_environment: rate.is_some(),
            shard_memory_bytes: r
                .environment
                .redis_shard_memory_bytes
                .filter(|x| *x > 0.0)
                .unwrap_or(DEFAULT_SHARD_MEMORY_BYTES),
            shard_utilisation: r
                .environment
                .redis_shard_utilisation
                .filter(|x| *x > 0.0 && *x <= 1.0)
                .or(utilization)
                .unwrap_or(DEFAULT_SHARD_UTILISATION),
        }
    }
}

/// Per-scheme inputs measured in this run.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeInputs {
    pub scheme: String,
    pub server_cpu_us: f64,
    pub redis_cpu_us: f64,
    /// Negative fitted slopes (noise) are clamped to 0.
    pub store_bytes_per_session: Option<f64>,
    /// Whether requests of this scheme use Redis ([`Analysis::uses_store`]: a store check, else
    /// the measured Redis CPU and memory). Otherwise Redis only idled while this scheme ran and the
    /// projection needs no shard for it.
    pub uses_store: bool,
    /// CPU per request measured at the utilisation's share of the maximum (else: the steady
    /// closed-loop run, near saturation).
    pub cpu_at_utilization: bool,
}

/// One line of the projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub scheme: String,
    pub users: u64,
    pub requests_per_s: f64,
    pub server_cores: f64,
    pub redis_memory_bytes: Option<f64>,
    pub redis_cpu_shards: u64,
    pub redis_memory_shards: Option<u64>,
    pub redis_shards: u64,
}

pub fn inputs(a: &Analysis<'_>) -> Vec<SchemeInputs> {
    a.schemes
        .iter()
        .filter_map(|s| {
            let cpu = a.cpu(s)?;
            // Memory per logged-in user: the sweep's slope (one session per user, read at rest);
            // summary.csv's slope where sessions.csv has no points.
            let store = crate::sweep::memory_per_user(a.results, s)
                .map(|m| m.slope.fit.slope)
                .or_else(|| a.store_slope(s).map(|x| x.bytes_per_session))
                .map(|b| b.max(0.0));
            let uses_store = a.uses_store(s);
            let at_util = a.metric_mean(s, Metric::MeCpuServerAtUtilization);
            let redis_at_util = a.metric_mean(s, Metric::MeCpuRedisAtUtilization);
            Some(SchemeInputs {
                scheme: s.clone(),
                server_cpu_us: at_util.unwrap_or(cpu.server_us),
                redis_cpu_us: if at_util.is_some() { redis_at_util.unwrap_or(0.0) } else { cpu.redis_us }
                    .max(0.0),
                store_bytes_per_session: store,
                uses_store,
                cpu_at_utilization: at_util.is_some(),
            })
        })
        .collect()
}

pub fn project(input: &SchemeInputs, users: u64, a: &Assumptions) -> Projection {
    let rps = users as f64 * a.rate_per_user_rps;
    let server_cores = rps * input.server_cpu_us / 1e6 / a.utilization;
    let memory = input.store_bytes_per_session.map(|b| users as f64 * b);
    let (cpu_shards, mem_shards) = if input.uses_store {
        (
            ceil_u64(rps * input.redis_cpu_us / 1e6 / a.shard_utilisation),
            memory.map(|m| ceil_u64(m / a.shard_memory_bytes)),
        )
    } else {
        (0, memory.map(|_| 0))
    };
    Projection {
        scheme: input.scheme.clone(),
        users,
        requests_per_s: rps,
        server_cores,
        redis_memory_bytes: memory,
        redis_cpu_shards: cpu_shards,
        redis_memory_shards: mem_shards,
        redis_shards: cpu_shards.max(mem_shards.unwrap_or(0)),
    }
}

fn ceil_u64(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 { x.ceil() as u64 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_projection_by_hand() {
        let a = Assumptions {
            utilization: 0.5,
            utilization_from_environment: true,
            rate_per_user_rps: 0.1,
            rate_from_environment: false,
            shard_memory_bytes: 16.0 * 1024.0 * 1024.0 * 1024.0,
            shard_utilisation: 0.7,
        };
        let input = SchemeInputs {
            scheme: "session".into(),
            server_cpu_us: 50.0,
            redis_cpu_us: 10.0,
            store_bytes_per_session: Some(200.0),
            uses_store: true,
            cpu_at_utilization: true,
        };
        let p = project(&input, 100_000_000, &a);
        assert_eq!(p.requests_per_s, 1e7);
        // 1e7 × 50 µs = 500 busy cores, at 50% utilisation 1000 cores.
        assert!((p.server_cores - 1000.0).abs() < 1e-9);
        // 1e7 × 10 µs = 100 core-seconds/s → ÷ 0.7 = 142.9 → 143 shards
        assert_eq!(p.redis_cpu_shards, 143);
        // 2e10 B ÷ 16 GiB = 1.16 → 2
        assert_eq!(p.redis_memory_shards, Some(2));
        assert_eq!(p.redis_shards, 143);
        let stateless = SchemeInputs { uses_store: false, ..input };
        assert_eq!(project(&stateless, 100_000_000, &a).redis_shards, 0);
    }
}
