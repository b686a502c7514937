//! What `compare` measured, gathered and written as the results directory's files: the rows each
//! scheme × repeat hands over ([`UnitRows`]), summary means with 95% CIs across repeats, the
//! per-session memory slopes, the cross-scheme equivalence check, the percentile spectrum, the
//! saturation and load rows and the run's phase timings.
//! Every file is rewritten after each unit ([`Collected::write`]), so an interrupted or failed
//! run leaves what it measured.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hdrhistogram::Histogram;

use crate::data::{
    CheckRow, CredentialsRow, RampRow, RevocationRow, SessionsRow, ShardRow, SpectrumRow, SummaryRow, file,
};
use crate::environment::Environment;
use crate::error::Error;
use crate::metric::Metric;
use crate::plan_inputs::{
    HealthzPairRow, HitRatioRow, LoginCostRow, RedisDirectRow, StoreBytesRow, ValidationRow,
};
use crate::reliability::{AttackRow, LostRow};
use crate::revocation_entries::RevocationMemoryRow;
use crate::saturation::{LoadStepRow, PhaseRow};
use crate::stats::linear_fit;
use crate::store_rtt::{StoreRttRevocationRow, StoreRttRow};
use crate::transport::TransportRow;
use crate::write::{write_atomic, write_json_atomic};

/// The percentiles `spectrum.csv` lists.
const SPECTRUM_PERCENTILES: [f64; 12] =
    [0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0];

/// What one scheme × repeat hands over, typed.
#[derive(Debug, Default)]
pub struct UnitRows {
    pub checks: Vec<CheckRow>,
    pub ramp: Vec<RampRow>,
    pub sessions: Vec<SessionsRow>,
    /// Keys and memory of each data-holding Redis node per sweep level.
    pub shards: Vec<ShardRow>,
    /// One value per metric of this repeat (summary.csv holds their mean and CI).
    pub metrics: Vec<(Metric, f64)>,
    /// `GET /api/me` of user1, for the cross-scheme equivalence check.
    pub me_body: Vec<u8>,
    pub credential: Option<CredentialsRow>,
    /// The `/api/me` latency histogram the percentile spectrum is drawn from (the fixed-rate run
    /// at the spectrum's common rate).
    pub me_latency: Option<Histogram<u64>>,
    pub attacks: Vec<AttackRow>,
    /// Saturation and load: the knee search (`saturation.csv`) and CPU against load
    /// (`cpu_vs_load.csv`).
    pub saturation: Vec<LoadStepRow>,
    pub cpu_vs_load: Vec<LoadStepRow>,
    /// `/api/me` at one rate at each store RTT (`store_rtt.csv`).
    pub store_rtt: Vec<StoreRttRow>,
    /// `/api/me` and a login over each transport (`transport.csv`).
    pub transport: Vec<TransportRow>,
    /// `/healthz` at the utilisation step's offered rate beside that step (`healthz_pairs.csv`).
    pub healthz_pairs: Vec<HealthzPairRow>,
    /// The cached schemes' hit ratio at the workload's per-user rate (`hit_ratio.csv`).
    pub hit_ratio: Vec<HitRatioRow>,
}

/// What the final pass found that makes the run fail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// Schemes whose `/api/me` body differs from the first scheme's.
    pub not_equivalent: Vec<String>,
    /// Requests missing from the run files (sum of `lost.csv`).
    pub lost: u64,
}

/// Everything measured so far.
pub struct Collected {
    dir: PathBuf,
    env: Environment,
    checks: Vec<CheckRow>,
    ramp: Vec<RampRow>,
    sessions: Vec<SessionsRow>,
    shards: Vec<ShardRow>,
    revocation: Vec<RevocationRow>,
    revocation_memory: Vec<RevocationMemoryRow>,
    credentials: BTreeMap<String, CredentialsRow>,
    spectrum: Vec<SpectrumRow>,
    /// (scheme, metric name) → (metric, value per repeat); ordered as summary.csv lists them.
    metrics: BTreeMap<(String, &'static str), (Metric, Vec<f64>)>,
    me_bodies: BTreeMap<String, Vec<u8>>,
    me_latency: BTreeMap<String, Vec<Histogram<u64>>>,
    attacks: Vec<AttackRow>,
    saturation: Vec<LoadStepRow>,
    cpu_vs_load: Vec<LoadStepRow>,
    store_rtt: Vec<StoreRttRow>,
    transport: Vec<TransportRow>,
    store_rtt_revocation: Vec<StoreRttRevocationRow>,
    phases: Vec<PhaseRow>,
    healthz_pairs: Vec<HealthzPairRow>,
    redis_direct: Vec<RedisDirectRow>,
    hit_ratio: Vec<HitRatioRow>,
    store_bytes: Vec<StoreBytesRow>,
    login_cost: Vec<LoginCostRow>,
    validation: Vec<ValidationRow>,
}

impl Collected {
    /// Files go into `dir` (which must exist); `env` becomes `environment.json`.
    pub fn new(dir: PathBuf, env: Environment) -> Collected {
        Collected {
            dir,
            env,
            checks: Vec::new(),
            ramp: Vec::new(),
            sessions: Vec::new(),
            shards: Vec::new(),
            revocation: Vec::new(),
            revocation_memory: Vec::new(),
            credentials: BTreeMap::new(),
            spectrum: Vec::new(),
            metrics: BTreeMap::new(),
            me_bodies: BTreeMap::new(),
            me_latency: BTreeMap::new(),
            attacks: Vec::new(),
            saturation: Vec::new(),
            cpu_vs_load: Vec::new(),
            store_rtt: Vec::new(),
            transport: Vec::new(),
            store_rtt_revocation: Vec::new(),
            phases: Vec::new(),
            healthz_pairs: Vec::new(),
            redis_direct: Vec::new(),
            hit_ratio: Vec::new(),
            store_bytes: Vec::new(),
            login_cost: Vec::new(),
            validation: Vec::new(),
        }
    }

    fn metric(&mut self, scheme: &str, metric: Metric, value: f64) {
        if value.is_finite() {
            self.metrics
                .entry((scheme.to_owned(), metric.name()))
                .or_insert_with(|| (metric, Vec::new()))
                .1
                .push(value);
        }
    }

    /// Add one scheme × repeat. Checks are kept from the scheme's first unit only.
    pub fn add_unit(&mut self, scheme: &str, u: UnitRows) {
        let s = scheme.to_owned();
        let first_for_scheme = !self.checks.iter().any(|c| c.scheme == s);
        if first_for_scheme {
            self.checks.extend(u.checks);
        }
        self.ramp.extend(u.ramp);
        self.saturation.extend(u.saturation);
        self.cpu_vs_load.extend(u.cpu_vs_load);
        self.store_rtt.extend(u.store_rtt);
        self.transport.extend(u.transport);
        self.healthz_pairs.extend(u.healthz_pairs);
        self.hit_ratio.extend(u.hit_ratio);
        self.attacks.extend(u.attacks);
        for (metric, value) in u.metrics {
            self.metric(&s, metric, value);
        }
        // Per-session memory slopes of this repeat.
        let levels: Vec<&SessionsRow> = u.sessions.iter().collect();
        let fit = |f: &dyn Fn(&SessionsRow) -> Option<f64>| {
            let pts: Vec<(f64, f64)> =
                levels.iter().filter_map(|r| Some((r.sessions as f64, f(r)?))).collect();
            (pts.len() >= 2).then(|| linear_fit(&pts)).flatten()
        };
        if let Some(fit) = fit(&|r| r.redis_used_memory) {
            self.metric(&s, Metric::StoreBytesPerSession, fit.slope);
            self.metric(&s, Metric::StoreBytesPerSessionR2, fit.r2);
        }
        if let Some(fit) = fit(&|r| r.server_rss_bytes) {
            self.metric(&s, Metric::ServerRssPerSession, fit.slope);
        }
        self.sessions.extend(u.sessions);
        self.shards.extend(u.shards);
        if let Some(c) = u.credential {
            self.credentials.insert(s.clone(), c);
        }
        if !u.me_body.is_empty() {
            self.me_bodies.entry(s.clone()).or_insert(u.me_body);
        }
        if let Some(h) = u.me_latency {
            self.me_latency.entry(s).or_default().push(h);
        }
    }

    /// The run's phase timings (`phases.csv`) and its total wall-clock seconds
    /// (`run_seconds` in `environment.json`, to 0.1 s).
    pub fn set_phases(&mut self, phases: Vec<PhaseRow>) {
        let total: f64 = phases.iter().map(|p| p.seconds).sum();
        self.env.run_seconds = Some((total * 10.0).round() / 10.0);
        self.phases = phases;
    }

    /// Figures measured once per scheme outside a repeat (the JWT variants' revocation costs).
    pub fn add_metrics(&mut self, scheme: &str, metrics: Vec<(Metric, f64)>) {
        for (metric, value) in metrics {
            self.metric(scheme, metric, value);
        }
    }

    /// Redis driven directly (once per run): at the plan's utilisation, and claim 4's control.
    pub fn add_redis_direct(&mut self, rows: Vec<RedisDirectRow>) {
        self.redis_direct.extend(rows);
    }

    /// Login at the production password-hashing cost (one row per scheme).
    pub fn add_login_cost(&mut self, row: LoginCostRow) {
        self.login_cost.push(row);
    }

    pub fn add_validation(&mut self, rows: Vec<ValidationRow>) {
        self.validation.extend(rows);
    }

    /// Redis bytes per stored item (once per run).
    pub fn add_store_bytes(&mut self, rows: Vec<StoreBytesRow>) {
        self.store_bytes.extend(rows);
    }

    /// `environment.json` as it will be written next: for what a run learns as it goes (notes on
    /// what it skipped and why).
    pub fn environment_mut(&mut self) -> &mut Environment {
        &mut self.env
    }

    /// A `--target`'s store memory (`used_memory` before and after its run, with `redis=`), into
    /// its entry of `environment.json`'s `targets`.
    pub fn note_target_memory(&mut self, name: &str, before: u64, after: u64) {
        if let Some(serde_json::Value::Array(ts)) = self.env.other.get_mut("targets") {
            for t in ts.iter_mut().filter(|t| t["name"] == name) {
                t["store_used_memory_bytes"] = serde_json::json!({ "before": before, "after": after });
            }
        }
    }

    pub fn add_revocation(&mut self, rows: Vec<RevocationRow>) {
        self.revocation.extend(rows);
    }

    /// Revocation windows probed with a store RTT in place.
    pub fn add_store_rtt_revocation(&mut self, rows: Vec<StoreRttRevocationRow>) {
        self.store_rtt_revocation.extend(rows);
    }

    /// The JWT variants' Redis memory at paced logout rates, one row per scheme × rate.
    pub fn add_revocation_memory(&mut self, rows: Vec<RevocationMemoryRow>) {
        self.revocation_memory.extend(rows);
    }

    fn summary_rows(&self) -> Vec<SummaryRow> {
        self.metrics
            .iter()
            .filter_map(|((scheme, _), (metric, values))| SummaryRow::from_repeats(scheme, *metric, values))
            .collect()
    }

    /// The cross-scheme equivalence check: `/api/me` byte-identical for the same user.
    fn equivalence_rows(&self) -> Vec<CheckRow> {
        let mut bodies = self.me_bodies.iter();
        let Some((first_scheme, first)) = bodies.next() else { return Vec::new() };
        let mut rows = vec![];
        for (scheme, body) in self.me_bodies.iter() {
            rows.push(CheckRow {
                scheme: scheme.clone(),
                check: "me_body_identical_across_schemes".into(),
                passed: body == first,
                detail: format!(
                    "GET /api/me of user1: {} bytes, {} {first_scheme}'s",
                    body.len(),
                    if body == first { "identical to" } else { "DIFFERENT from" }
                ),
                category: Some("equivalence".into()),
            });
        }
        rows
    }

    /// Percentile spectrum of `/api/me` from the steady runs' histograms, merged per scheme.
    fn compute_spectrum(&mut self) -> Result<(), Error> {
        let mut rows = Vec::new();
        for (scheme, histograms) in &self.me_latency {
            let mut merged = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                .map_err(|e| Error::Histogram(e.to_string()))?;
            for h in histograms {
                merged.add(h).map_err(|e| Error::Histogram(e.to_string()))?;
            }
            if merged.is_empty() {
                continue;
            }
            for p in SPECTRUM_PERCENTILES {
                rows.push(SpectrumRow {
                    scheme: scheme.clone(),
                    percentile: p,
                    latency_us: merged.value_at_percentile(p) as f64,
                });
            }
        }
        self.spectrum = rows;
        Ok(())
    }

    /// Write every file from what has been collected so far.
    pub fn write(&self) -> Result<(), Error> {
        let mut checks = self.checks.clone();
        checks.extend(self.equivalence_rows());
        write_atomic(&self.dir, file::CHECKS, &checks)?;
        write_atomic(&self.dir, file::RAMP, &self.ramp)?;
        write_atomic(&self.dir, file::SESSIONS, &self.sessions)?;
        write_atomic(&self.dir, file::SHARDS, &self.shards)?;
        write_atomic(&self.dir, file::REVOCATION, &self.revocation)?;
        write_atomic(&self.dir, file::REVOCATION_MEMORY, &self.revocation_memory)?;
        write_atomic(&self.dir, file::CREDENTIALS, &self.credentials.values().cloned().collect::<Vec<_>>())?;
        write_atomic(&self.dir, file::SPECTRUM, &self.spectrum)?;
        write_atomic(&self.dir, file::STORE_RTT, &self.store_rtt)?;
        write_atomic(&self.dir, file::TRANSPORT, &self.transport)?;
        write_atomic(&self.dir, file::STORE_RTT_REVOCATION, &self.store_rtt_revocation)?;
        write_atomic(&self.dir, file::SUMMARY, &self.summary_rows())?;
        write_atomic(&self.dir, file::ATTACKS, &self.attacks)?;
        write_atomic(&self.dir, file::SATURATION, &self.saturation)?;
        write_atomic(&self.dir, file::CPU_VS_LOAD, &self.cpu_vs_load)?;
        write_atomic(&self.dir, file::PHASES, &self.phases)?;
        write_atomic(&self.dir, file::HEALTHZ_PAIRS, &self.healthz_pairs)?;
        write_atomic(&self.dir, file::REDIS_DIRECT, &self.redis_direct)?;
        write_atomic(&self.dir, file::HIT_RATIO, &self.hit_ratio)?;
        write_atomic(&self.dir, file::STORE_BYTES, &self.store_bytes)?;
        write_atomic(&self.dir, file::LOGIN_COST, &self.login_cost)?;
        write_atomic(&self.dir, file::VALIDATION, &self.validation)?;
        write_json_atomic(&self.dir, file::ENVIRONMENT, &self.env.to_json())
    }

    /// Final pass: the spectrum (needs every repeat's histograms), the lost-request audit's rows
    /// (`lost.csv`), every file, then `reliability.md`. Returns what should fail the run.
    pub fn finish(&mut self, lost: Vec<LostRow>) -> Result<Verdict, Error> {
        self.compute_spectrum()?;
        let lost_total = lost.iter().map(|l| l.lost).sum();
        write_atomic(&self.dir, file::LOST, &lost)?;
        let not_equivalent =
            self.equivalence_rows().into_iter().filter(|c| !c.passed).map(|c| c.scheme).collect();
        self.write()?;
        crate::reliability::render(&self.dir)?;
        Ok(Verdict { not_equivalent, lost: lost_total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("authbench-collect-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn summary_has_mean_and_ci_per_metric_in_name_order() {
        let dir = scratch("summary");
        let mut c =
            Collected::new(dir.clone(), Environment { date: Some("x".into()), ..Environment::default() });
        for v in [10.0, 12.0] {
            let rows = UnitRows {
                metrics: vec![
                    (Metric::MeP50, v),
                    (Metric::CpuRatio, v / 10.0),
                    (Metric::LoadErrors, f64::NAN),
                ],
                ..UnitRows::default()
            };
            c.add_unit("jwt", rows);
        }
        c.write().unwrap();
        let text = std::fs::read_to_string(dir.join(file::SUMMARY)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "scheme,metric,unit,n,mean,ci95_low,ci95_high");
        assert!(lines[1].starts_with("jwt,cpu_ratio_me_over_healthz,ratio,2,1.1,"), "{text}");
        assert!(lines[2].starts_with("jwt,me_p50_us,us,2,11.0,"), "{text}");
        assert_eq!(lines.len(), 3, "a non-finite value is not a measurement: {text}");
        assert!(dir.join(file::ENVIRONMENT).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn spectrum_merges_repeats_and_finish_reports_inequivalence() {
        let dir = scratch("spectrum");
        let mut c = Collected::new(dir.clone(), Environment::default());
        for (scheme, body, value) in [("cookie", "a", 100), ("jwt", "b", 300)] {
            let mut h = Histogram::<u64>::new(3).unwrap();
            h.record_n(value, 10).unwrap();
            c.add_unit(
                scheme,
                UnitRows { me_body: body.as_bytes().to_vec(), me_latency: Some(h), ..UnitRows::default() },
            );
        }
        let verdict = c.finish(Vec::new()).unwrap();
        assert_eq!(verdict.not_equivalent, vec!["jwt".to_string()]);
        assert_eq!(verdict.lost, 0);
        let results = crate::results::Results::read_dir(&dir).unwrap();
        let p100 = |s: &str| {
            results.spectrum.iter().find(|r| r.scheme == s && r.percentile == 100.0).unwrap().latency_us
        };
        assert_eq!((p100("cookie"), p100("jwt")), (100.0, 300.0));
        assert!(dir.join(file::RELIABILITY).exists() && dir.join(file::LOST).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
