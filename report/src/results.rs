//! Everything in one results folder, read at once: [`Results`], every CSV's rows (missing files
//! named), `environment.json`, and the ramp per users level from the run folders.

use std::collections::BTreeSet;
use std::path::Path;

use crate::data::{
    CheckRow, CredentialsRow, RampRow, RevocationRow, SessionsRow, ShardRow, SpectrumRow, SummaryRow, file,
    read_optional,
};
use crate::environment::Environment;
use crate::error::Error;
use crate::metric::Metric;
use crate::plan_inputs::{
    HealthzPairRow, HitRatioRow, LoginCostRow, RedisDirectRow, StoreBytesRow, ValidationRow,
};
use crate::{ramp_levels, revocation_entries, saturation};

/// Everything in one results directory. Missing files leave their vector empty and are named
/// in `missing`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub summary: Vec<SummaryRow>,
    pub ramp: Vec<RampRow>,
    /// The ramp per users level, percentiles of merged histograms where the folder has them.
    pub ramp_levels: Vec<ramp_levels::RampLevelRow>,
    pub ramp_levels_source: ramp_levels::Source,
    pub sessions: Vec<SessionsRow>,
    pub shards: Vec<ShardRow>,
    pub spectrum: Vec<SpectrumRow>,
    pub revocation: Vec<RevocationRow>,
    /// The JWT variants' Redis memory at paced logout rates.
    pub revocation_memory: Vec<revocation_entries::RevocationMemoryRow>,
    pub credentials: Vec<CredentialsRow>,
    /// Latency against the store's RTT, and revocation windows with it (none before issue 23).
    pub store_rtt: Vec<crate::store_rtt::StoreRttRow>,
    pub transport: Vec<crate::transport::TransportRow>,
    pub store_rtt_revocation: Vec<crate::store_rtt::StoreRttRevocationRow>,
    pub checks: Vec<CheckRow>,
    pub saturation: Vec<saturation::LoadStepRow>,
    pub cpu_vs_load: Vec<saturation::LoadStepRow>,
    pub phases: Vec<saturation::PhaseRow>,
    /// The capacity answer's own measurements (older folders lack them: not "missing").
    pub redis_direct: Vec<RedisDirectRow>,
    pub hit_ratio: Vec<HitRatioRow>,
    pub login_cost: Vec<LoginCostRow>,
    pub store_bytes: Vec<StoreBytesRow>,
    pub healthz_pairs: Vec<HealthzPairRow>,
    pub validation: Vec<ValidationRow>,
    pub environment: Environment,
    pub missing: Vec<String>,
}

impl Results {
    pub fn read_dir(dir: &Path) -> Result<Self, Error> {
        let mut missing = Vec::new();
        let mut r = Results {
            summary: read_optional(dir, file::SUMMARY, &mut missing)?,
            ramp: read_optional(dir, file::RAMP, &mut missing)?,
            ramp_levels: Vec::new(),
            ramp_levels_source: Default::default(),
            sessions: read_optional(dir, file::SESSIONS, &mut missing)?,
            // Written by compare since the cluster store; older folders lack it (not "missing").
            shards: read_optional(dir, file::SHARDS, &mut Vec::new())?,
            spectrum: read_optional(dir, file::SPECTRUM, &mut missing)?,
            revocation: read_optional(dir, file::REVOCATION, &mut missing)?,
            // Written since issue 12's memory against logout rate; older folders lack it.
            revocation_memory: read_optional(dir, file::REVOCATION_MEMORY, &mut Vec::new())?,
            credentials: read_optional(dir, file::CREDENTIALS, &mut missing)?,
            store_rtt: read_optional(dir, file::STORE_RTT, &mut Vec::new())?,
            transport: read_optional(dir, file::TRANSPORT, &mut Vec::new())?,
            store_rtt_revocation: read_optional(dir, file::STORE_RTT_REVOCATION, &mut Vec::new())?,
            checks: read_optional(dir, file::CHECKS, &mut missing)?,
            saturation: read_optional(dir, file::SATURATION, &mut missing)?,
            cpu_vs_load: read_optional(dir, file::CPU_VS_LOAD, &mut missing)?,
            phases: read_optional(dir, file::PHASES, &mut missing)?,
            redis_direct: read_optional(dir, file::REDIS_DIRECT, &mut Vec::new())?,
            hit_ratio: read_optional(dir, file::HIT_RATIO, &mut Vec::new())?,
            login_cost: read_optional(dir, file::LOGIN_COST, &mut Vec::new())?,
            store_bytes: read_optional(dir, file::STORE_BYTES, &mut Vec::new())?,
            healthz_pairs: read_optional(dir, file::HEALTHZ_PAIRS, &mut Vec::new())?,
            validation: read_optional(dir, file::VALIDATION, &mut Vec::new())?,
            environment: Environment::default(),
            missing: Vec::new(),
        };
        let env_path = dir.join(file::ENVIRONMENT);
        match std::fs::read(&env_path) {
            Ok(bytes) => {
                let json = |source| Error::Json { path: env_path.clone(), source };
                let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(json)?;
                match value {
                    serde_json::Value::Object(_) => {
                        r.environment = serde_json::from_value(value).map_err(json)?
                    }
                    other => {
                        r.environment.other.insert("environment".to_string(), other);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(file::ENVIRONMENT.to_string()),
            Err(source) => return Err(Error::Io { path: env_path, source }),
        }
        // Derived by a previous render; absent is normal (not listed as missing).
        let previous = read_optional(dir, file::RAMP_LEVELS, &mut Vec::new())?;
        (r.ramp_levels, r.ramp_levels_source) = ramp_levels::load(dir, &r.ramp, previous)?;
        // Percentiles given as fractions (0–1) are turned into percent once, here.
        if !r.spectrum.is_empty() && r.spectrum.iter().all(|s| s.percentile <= 1.0) {
            for s in &mut r.spectrum {
                s.percentile *= 100.0;
            }
        }
        r.missing = missing;
        Ok(r)
    }

    /// Schemes seen in any file: `cookie`, `session`, `jwt` first, then the others sorted.
    pub fn schemes(&self) -> Vec<String> {
        let mut set = BTreeSet::new();
        set.extend(self.summary.iter().map(|r| r.scheme.clone()));
        set.extend(self.ramp.iter().map(|r| r.scheme.clone()));
        set.extend(self.sessions.iter().map(|r| r.scheme.clone()));
        set.extend(self.spectrum.iter().map(|r| r.scheme.clone()));
        set.extend(self.revocation.iter().map(|r| r.scheme.clone()));
        set.extend(self.credentials.iter().map(|r| r.scheme.clone()));
        set.extend(self.checks.iter().map(|r| r.scheme.clone()));
        set.extend(self.saturation.iter().map(|r| r.scheme.clone()));
        set.extend(self.cpu_vs_load.iter().map(|r| r.scheme.clone()));
        let mut v: Vec<String> = set.into_iter().collect();
        v.sort_by_key(|s| (scheme_rank(s), s.clone()));
        v
    }

    /// The summary row for `scheme` × `metric`.
    pub fn metric(&self, scheme: &str, metric: Metric) -> Option<&SummaryRow> {
        self.summary.iter().find(|r| r.scheme == scheme && r.metric == metric.name() && r.mean.is_finite())
    }
}

fn scheme_rank(s: &str) -> usize {
    match s {
        "cookie" => 0,
        "session" => 1,
        "jwt" => 2,
        _ => 3,
    }
}
