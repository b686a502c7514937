//! Rows of the files that measure the capacity answer's inputs *at the condition the answer uses
//! them for* (issue 21): Redis driven directly at the shards' utilisation, the cached schemes' hit
//! ratio at the workload's per-user rate, login at the production password-hashing cost, the
//! Redis bytes of one stored item, `/healthz` at the same offered rate as each scheme, and the
//! validation run's prediction against what it measured. Their file names are in
//! [`crate::data::file`]; `compare` writes them, [`crate::answer`] reads them.

use serde::{Deserialize, Serialize};

/// `redis_direct.csv`: one paced window of Redis driven directly with one lookup kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisDirectRow {
    /// `GETEX`, `MGET x3` or `GET+PTTL` (`compare::redis_direct::Lookup::as_str`).
    pub lookup: String,
    pub repeat: u32,
    /// Keys in the key space the lookups were drawn from.
    pub keyspace: u64,
    /// The busy share of one core asked for (the plan's Redis utilisation), and what Redis ran at.
    /// `NaN` (written `NaN`) for a window at a fixed rate rather than a busy share: claim 4's
    /// control, `GETEX` over each sweep level's key space at the sweep's rate, whose `repeat`
    /// pairs it with that repeat of the sweep.
    pub target_busy: f64,
    pub busy: f64,
    pub offered_rps: f64,
    pub achieved_rps: f64,
    /// Redis CPU per lookup, µs.
    pub us_per_lookup: f64,
    /// Connections the lookups were spread over: one per app-server process, each writing the
    /// lookups due in each millisecond as one pipelined write (before issue 21's fix: hundreds of
    /// connections, one command per write).
    pub connections: u32,
    /// Redis's own time per executed command (`INFO commandstats` Δusec ÷ Δcalls), µs: the figure
    /// the sweep reads for a scheme (`sessions.csv` `redis_usec_per_call`), so claim 4's control
    /// compares like with like.
    #[serde(default)]
    pub usec_per_call: Option<f64>,
    /// Commands Redis found per read of a socket over the window (`INFO stats`
    /// Δ`total_commands_processed` ÷ Δ`total_reads_processed`): the batching the drive gave it,
    /// to set beside what the application's own traffic gives (validation).
    #[serde(default)]
    pub commands_per_read: Option<f64>,
}

impl RedisDirectRow {
    /// A window at a fixed rate (claim 4's control), not at a busy share.
    pub fn is_fixed_rate(&self) -> bool {
        self.target_busy.is_nan()
    }
}

/// `hit_ratio.csv`: a cached scheme under many users, each at the workload's per-user rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitRatioRow {
    pub scheme: String,
    pub repeat: u32,
    /// Users the credentials were drawn from (uniformly), and the total arrival rate: each user's
    /// own stream is then about Poisson at `total_rps / users`.
    pub users: u64,
    pub total_rps: f64,
    pub rate_per_user: f64,
    pub cache_ttl_s: f64,
    pub cache_capacity: u64,
    /// Seconds of steady load before the window (so the window starts in steady state), and of
    /// the window.
    pub warm_s: f64,
    pub window_s: f64,
    /// The servers' `/metrics` counters over the window (summed over replicas).
    pub hits: u64,
    pub misses: u64,
    /// hits ÷ (hits + misses), and the closed-form model's figure at the same rate, TTL and
    /// capacity (`answer::hit_ratio::hit_ratio`).
    pub measured: f64,
    pub model: f64,
}

/// `login_cost.csv`: logins at the servers' default password-hashing cost (no `--fast-login`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginCostRow {
    pub scheme: String,
    pub repeat: u32,
    /// argon2id parameters the server ran with.
    pub argon2_m_kib: u32,
    pub argon2_t: u32,
    pub argon2_p: u32,
    pub offered_rps: f64,
    pub achieved_rps: f64,
    pub logins: u64,
    pub errors: u64,
    /// Server and Redis CPU per login, µs.
    pub server_cpu_us_per_login: f64,
    #[serde(default)]
    pub redis_cpu_us_per_login: Option<f64>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Logins one core completes per second at this cost: 1e6 ÷ server CPU per login.
    pub logins_per_core_s: f64,
}

/// `store_bytes.csv`: Redis bytes of one stored item, from `used_memory` before and after a
/// known number of them (not `MEMORY USAGE`, which leaves out the keyspace's own overhead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreBytesRow {
    pub scheme: String,
    /// `session` (record + index, one per user), `family` (a JWT refresh-token family key),
    /// `revoked` (one revocation entry).
    pub item: String,
    pub repeat: u32,
    /// Items in Redis when read (the level), and the bytes per item from the previous level (or
    /// from empty) to this one.
    pub items: u64,
    pub bytes_per_item: f64,
    /// Redis's main hash table size (buckets) at this level, where a resize lands.
    #[serde(default)]
    pub table_buckets: Option<u64>,
}

/// `healthz_pairs.csv`: `/healthz` run right after a scheme's step at the same offered rate on the
/// same server, so the scheme's CPU per request can be read in units of the no-auth baseline
/// measured under the same conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthzPairRow {
    pub scheme: String,
    pub repeat: u32,
    pub share: f64,
    pub offered_rps: f64,
    pub me_server_cpu_us: f64,
    pub healthz_server_cpu_us: f64,
}

/// `validation.csv`: the validation run — one figure predicted from an earlier results folder
/// (named in environment.json) against what the run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationRow {
    pub scheme: String,
    /// `app_cpu_cores`, `redis_cpu_cores`, `redis_memory_bytes`, `hit_ratio`, `p99_us`.
    pub figure: String,
    pub predicted: f64,
    pub measured: f64,
    /// (predicted − measured) ÷ measured, %.
    pub error_pct: f64,
    /// Where the error is over 15%: the input that is off, and why.
    #[serde(default)]
    pub note: String,
}
