//! Typed rows of the results files (the CSV contract in `report/mod.rs`), their readers and
//! writers. `compare` writes with [`write_csv`] and these structs, so the column names cannot drift.

use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::metric::Metric;
use crate::stats::{MeanCi, mean_ci};

/// File names inside a results directory (a run's own files, `runs/*/*/`, are loadgen's:
/// `authbench_loadgen::run_file`).
pub mod file {
    pub const SUMMARY: &str = "summary.csv";
    pub const RAMP: &str = "ramp.csv";
    /// Written by the report itself from the run folders' histograms ([`crate::ramp_levels`]).
    pub const RAMP_LEVELS: &str = "ramp_levels.csv";
    pub const SESSIONS: &str = "sessions.csv";
    pub const SHARDS: &str = "shards.csv";
    pub const SPECTRUM: &str = "spectrum.csv";
    pub const REVOCATION: &str = "revocation.csv";
    /// Row type in [`crate::revocation_entries`].
    pub const REVOCATION_MEMORY: &str = "revocation_memory.csv";
    pub const CREDENTIALS: &str = "credentials.csv";
    /// Row types in [`crate::store_rtt`].
    pub const STORE_RTT: &str = "store_rtt.csv";
    /// Row type in [`crate::transport`].
    pub const TRANSPORT: &str = "transport.csv";
    pub const STORE_RTT_REVOCATION: &str = "store_rtt_revocation.csv";
    pub const CHECKS: &str = "checks.csv";
    pub const ENVIRONMENT: &str = "environment.json";
    /// Row types in [`crate::saturation`].
    pub const SATURATION: &str = "saturation.csv";
    pub const CPU_VS_LOAD: &str = "cpu_vs_load.csv";
    pub const PHASES: &str = "phases.csv";
    /// Row types in [`crate::plan_inputs`]: the capacity answer's inputs, each measured at the
    /// condition the answer uses it for.
    pub const REDIS_DIRECT: &str = "redis_direct.csv";
    pub const HIT_RATIO: &str = "hit_ratio.csv";
    pub const LOGIN_COST: &str = "login_cost.csv";
    pub const STORE_BYTES: &str = "store_bytes.csv";
    pub const HEALTHZ_PAIRS: &str = "healthz_pairs.csv";
    pub const VALIDATION: &str = "validation.csv";
    /// Written by `authbench report` (and `authbench capacity`): the answer for the default
    /// workload, as CSV and as the Markdown the README includes.
    pub const ANSWER_CSV: &str = "answer.csv";
    pub const ANSWER_MD: &str = "answer.md";
    pub const ATTACKS: &str = "attacks.csv";
    pub const LOST: &str = "lost.csv";
    pub const FAULTS: &str = "faults.csv";
    pub const RELIABILITY: &str = "reliability.md";
    pub const REPORT_MD: &str = "report.md";
    pub const REPORT_HTML: &str = "report.html";
    /// Directory of the load runs, one `<scheme>-r<repeat>/<phase>/` folder per run.
    pub const RUNS: &str = "runs";
    /// The phase folder of the closed-model ramp, whose `me.hlog` gives the ramp's levels.
    pub const RAMP_RUN: &str = "ramp";

    /// `<scheme>-r<repeat>`: the folder under [`RUNS`] of one scheme × repeat.
    pub fn unit_runs(scheme: &str, repeat: u32) -> String {
        format!("{scheme}-r{repeat}")
    }
    /// Directory of the fault scenarios' load runs, one `<scenario>/` folder per scenario.
    pub const FAULTS_DIR: &str = "faults";
}

/// `summary.csv`: one row per scheme × metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub scheme: String,
    pub metric: String,
    pub unit: String,
    pub n: usize,
    pub mean: f64,
    #[serde(default)]
    pub ci95_low: Option<f64>,
    #[serde(default)]
    pub ci95_high: Option<f64>,
}

impl SummaryRow {
    /// Mean and 95% CI of one value per repeat; `None` when no value is finite.
    pub fn from_repeats(scheme: &str, metric: Metric, per_repeat: &[f64]) -> Option<Self> {
        mean_ci(per_repeat).map(|m| Self::from_mean_ci(scheme, metric.name(), metric.unit().as_str(), m))
    }

    pub fn from_mean_ci(scheme: &str, metric: &str, unit: &str, m: MeanCi) -> Self {
        SummaryRow {
            scheme: scheme.to_string(),
            metric: metric.to_string(),
            unit: unit.to_string(),
            n: m.n,
            mean: m.mean,
            ci95_low: m.ci95_low,
            ci95_high: m.ci95_high,
        }
    }
}

/// `ramp.csv`: one row per second of a ramp run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampRow {
    pub scheme: String,
    pub repeat: u32,
    pub t_s: f64,
    pub active_vus: u64,
    pub me_rps: f64,
    pub me_p50_us: f64,
    pub me_p99_us: f64,
    pub errors: u64,
    #[serde(default)]
    pub server_cpu_us_per_req: Option<f64>,
    #[serde(default)]
    pub redis_cpu_us_per_req: Option<f64>,
    #[serde(default)]
    pub server_rss_bytes: Option<f64>,
    #[serde(default)]
    pub redis_used_memory: Option<f64>,
}

/// `sessions.csv`: one row per stored-sessions level per repeat (the session sweep). Level N holds
/// one session per user 1..=N; lookups draw credentials uniformly from all N. Memory, key count and
/// RSS are read at rest (no load, no rehashing) before the lookups; the rest over the lookups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionsRow {
    pub scheme: String,
    pub repeat: u32,
    pub sessions: u64,
    /// Distinct stored sessions the level's lookups used (at level 0: the users who logged in).
    #[serde(default)]
    pub distinct_sessions_used: Option<u64>,
    pub me_p50_us: f64,
    #[serde(default)]
    pub me_p90_us: Option<f64>,
    pub me_p99_us: f64,
    #[serde(default)]
    pub me_p999_us: Option<f64>,
    #[serde(default)]
    pub server_cpu_us_per_req: Option<f64>,
    #[serde(default)]
    pub redis_cpu_us_per_req: Option<f64>,
    /// Redis time per lookup command: Δusec ÷ Δcalls of `INFO commandstats` over the level.
    #[serde(default)]
    pub redis_usec_per_call: Option<f64>,
    #[serde(default)]
    pub redis_used_memory: Option<f64>,
    /// Mean `MEMORY USAGE` of ~1,000 sampled session records / per-user indexes.
    #[serde(default)]
    pub redis_bytes_session_record: Option<f64>,
    #[serde(default)]
    pub redis_bytes_user_index: Option<f64>,
    #[serde(default)]
    pub redis_keys: Option<u64>,
    #[serde(default)]
    pub server_rss_bytes: Option<f64>,
    /// The generator's own CPU (% of one core) and its worst timer lag over the level.
    #[serde(default)]
    pub generator_cpu_pct: Option<f64>,
    #[serde(default)]
    pub generator_lag_ms: Option<f64>,
    /// Δcalls of the lookup command and Δ`keyspace_hits` over the level.
    #[serde(default)]
    pub redis_lookup_calls: Option<u64>,
    #[serde(default)]
    pub redis_keyspace_hits: Option<u64>,
    /// Seconds to issue this level's new sessions, and to wait for Redis to stop rehashing.
    #[serde(default)]
    pub preload_s: Option<f64>,
    #[serde(default)]
    pub rest_wait_s: Option<f64>,
    /// Schemes with an in-process cache (`session-cached`): share of the level's `/api/me`
    /// requests that sent no lookup to Redis, `1 - redis_lookup_calls / requests`.
    #[serde(default)]
    pub cache_hit_ratio: Option<f64>,
    /// Cached schemes, after the level's lookups (the servers' `/metrics`, summed over replicas):
    /// records in the caches, their capacity, and their estimated bytes (entries × a per-entry
    /// cost measured with a counting allocator: `servers::record_cache`).
    #[serde(default)]
    pub cache_entries: Option<u64>,
    #[serde(default)]
    pub cache_capacity: Option<u64>,
    #[serde(default)]
    pub cache_bytes: Option<f64>,
    /// `session-tracked`, after the level's lookups: keys in Redis's tracking table
    /// (`INFO stats` `tracking_total_keys`), memory Redis spends on the servers' caches.
    #[serde(default)]
    pub redis_tracking_keys: Option<u64>,
}

/// `shards.csv`: each data-holding Redis node's keys and `used_memory` at rest, per sweep level
/// (one row per level on one Redis; one per primary on a Redis Cluster).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardRow {
    pub scheme: String,
    pub repeat: u32,
    pub sessions: u64,
    /// `host:port` of the node.
    pub node: String,
    pub keys: u64,
    pub used_memory: f64,
}

/// `spectrum.csv`: HdrHistogram percentile spectrum of `/api/me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectrumRow {
    pub scheme: String,
    /// Percent, 0–100 (e.g. 99.9).
    pub percentile: f64,
    pub latency_us: f64,
}

/// `revocation.csv`: how long an old credential stays usable after logout / logout-all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevocationRow {
    pub scheme: String,
    /// `logout` or `logout_all`.
    pub action: String,
    /// Which independent probe of the scheme and action (0-based); absent in results written when
    /// there was one probe.
    #[serde(default)]
    pub probe: Option<u32>,
    pub window_s: f64,
    pub rejected: bool,
    #[serde(default)]
    pub note: String,
    /// Lifetime of the credential on the server that was probed (a short test TTL, so the
    /// stateless window is observed, not assumed). Absent in results written before it was.
    #[serde(default)]
    pub ttl_s: Option<f64>,
    /// Clock-skew leeway the verifier adds after expiry (the JWT verifier's 5 s; 0 otherwise).
    #[serde(default)]
    pub leeway_s: Option<f64>,
    /// The TTL a server runs with by default, to project the window for a real deployment.
    #[serde(default)]
    pub default_ttl_s: Option<f64>,
    /// The probe's floor: the median round trip of an always-valid credential through the probed
    /// server just before the action, under the same load. Absent in results written before it was.
    #[serde(default)]
    pub floor_s: Option<f64>,
}

/// `credentials.csv`: bytes each authenticated request carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialsRow {
    pub scheme: String,
    /// Header that carries the credential: `Cookie` or `Authorization`.
    pub header: String,
    pub credential_bytes: u64,
    pub request_bytes: u64,
    /// Bytes of the `/api/me` response on the wire (headers and body), as the generator read
    /// them; absent in folders written before the capacity answer needed bytes both ways.
    #[serde(default)]
    pub response_bytes: Option<u64>,
}

/// `checks.csv`: a fact tested before measuring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRow {
    pub scheme: String,
    pub check: String,
    pub passed: bool,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub category: Option<String>,
}

/// What a check is about; decides the comparison-table row that cites it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CheckCategory {
    Security,
    Equivalence,
    Store,
    Revocation,
}

impl CheckRow {
    /// The `category` column when given, else inferred from the check name: tamper/forge/
    /// secret/encrypt/sign/opaque → security; redis/lookup/store → store; logout/revok → revocation;
    /// anything else → equivalence.
    pub fn category(&self) -> CheckCategory {
        let key = self.category.as_deref().filter(|c| !c.is_empty()).unwrap_or(&self.check).to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| key.contains(w));
        if has(&[
            "secur", "tamper", "forg", "secret", "encrypt", "sign", "moved", "expired", "alg", "opaque",
            "entropy",
        ]) {
            CheckCategory::Security
        } else if has(&["redis", "lookup", "store"]) {
            CheckCategory::Store
        } else if has(&["logout", "revo"]) {
            CheckCategory::Revocation
        } else {
            CheckCategory::Equivalence
        }
    }
}

pub(crate) fn read_optional<T: DeserializeOwned>(
    dir: &Path,
    name: &str,
    missing: &mut Vec<String>,
) -> Result<Vec<T>, Error> {
    let path = dir.join(name);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            missing.push(name.to_string());
            return Ok(Vec::new());
        }
        Err(source) => return Err(Error::Io { path, source }),
    };
    read_csv(file).map_err(|source| Error::Csv { path, source })
}

/// Read every row of a CSV with a header (columns matched by name, surrounding spaces trimmed).
pub fn read_csv<T: DeserializeOwned>(reader: impl std::io::Read) -> Result<Vec<T>, csv::Error> {
    csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader).deserialize().collect()
}

/// Write `rows` as CSV with a header row (column names are the struct's field names).
pub fn write_csv<W: Write, T: Serialize>(writer: W, rows: &[T]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(writer);
    for row in rows {
        w.serialize(row)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_round_trip_with_empty_ci() {
        let rows = vec![
            SummaryRow::from_repeats("jwt", Metric::MeP50, &[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap(),
            SummaryRow::from_repeats("cookie", Metric::MeP50, &[7.0]).unwrap(),
        ];
        let mut buf = Vec::new();
        write_csv(&mut buf, &rows).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.starts_with("scheme,metric,unit,n,mean,ci95_low,ci95_high\n"), "{text}");
        assert!(text.contains("cookie,me_p50_us,us,1,7.0,,\n"), "{text}");
        let back: Vec<SummaryRow> = read_csv(&buf[..]).unwrap();
        assert_eq!(back, rows);
    }

    #[test]
    fn optional_columns_may_be_blank_or_absent() {
        let csv = "scheme,repeat,sessions,me_p50_us,me_p99_us,redis_used_memory\n\
                   session,1,1000,50,90,123456\njwt,1,1000,40,80,\n";
        let rows: Vec<SessionsRow> = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows[0].redis_used_memory, Some(123456.0));
        assert_eq!(rows[1].redis_used_memory, None);
        assert_eq!(rows[1].server_rss_bytes, None);
    }

    #[test]
    fn check_categories() {
        let c = |name: &str, cat: Option<&str>| CheckRow {
            scheme: "s".into(),
            check: name.into(),
            passed: true,
            detail: String::new(),
            category: cat.map(str::to_string),
        };
        assert_eq!(c("tampered_rejected", None).category(), CheckCategory::Security);
        assert_eq!(c("payload_has_no_secret", None).category(), CheckCategory::Security);
        assert_eq!(c("one_redis_lookup_per_me", None).category(), CheckCategory::Store);
        assert_eq!(c("same_me_body", None).category(), CheckCategory::Equivalence);
        assert_eq!(c("same_me_body", Some("security")).category(), CheckCategory::Security);
        // The names `compare` writes.
        assert_eq!(c("forged_rejected", None).category(), CheckCategory::Security);
        assert_eq!(c("session_id_opaque_128_bit", None).category(), CheckCategory::Security);
        assert_eq!(
            c("payload_readable_without_key_holds_no_secret", None).category(),
            CheckCategory::Security
        );
        assert_eq!(c("one_store_lookup_per_request", None).category(), CheckCategory::Store);
        assert_eq!(c("no_store_calls", None).category(), CheckCategory::Store);
        assert_eq!(c("replay_after_logout", None).category(), CheckCategory::Revocation);
        assert_eq!(c("me_ok", None).category(), CheckCategory::Equivalence);
    }
}
