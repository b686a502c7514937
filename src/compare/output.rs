//! The results folder: every CSV of the report contract, rewritten after each measured unit so an
//! interrupted or failed run leaves what it measured; summary means and 95% CIs across repeats.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use authbench_report::data::{
    CheckRow, CredentialsRow, RampRow, RevocationRow, SessionsRow, SpectrumRow, SummaryRow, file, metric,
    write_csv,
};
use authbench_report::saturation::{LoadStepRow, PhaseRow};
use authbench_report::stats::linear_fit;
use authbench_servers::SchemeKind;
use hdrhistogram::Histogram;

use super::phase::UnitResult;
use super::phase::revocation::Revocation;

/// Create the output directory, refusing one that holds files (nothing is overwritten) or that
/// cannot be written.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("--out {} exists and is not a directory", dir.display());
        }
        if std::fs::read_dir(dir)?.next().is_some() {
            bail!(
                "--out {} is not empty: choose a new directory so no earlier result is overwritten",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create --out {}", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").with_context(|| format!("cannot write into --out {}", dir.display()))?;
    std::fs::remove_file(probe)?;
    Ok(())
}

/// Everything measured so far.
pub struct Collected {
    dir: PathBuf,
    env: serde_json::Value,
    checks: Vec<CheckRow>,
    ramp: Vec<RampRow>,
    sessions: Vec<SessionsRow>,
    revocation: Vec<RevocationRow>,
    credentials: BTreeMap<String, CredentialsRow>,
    spectrum: Vec<SpectrumRow>,
    /// (scheme, metric) → (unit, value per repeat).
    metrics: BTreeMap<(String, String), (String, Vec<f64>)>,
    me_bodies: BTreeMap<String, Vec<u8>>,
    hlogs: BTreeMap<String, Vec<PathBuf>>,
    attacks: Vec<crate::reliability::AttackRow>,
    saturation: Vec<LoadStepRow>,
    cpu_vs_load: Vec<LoadStepRow>,
    phases: Vec<PhaseRow>,
}

/// Write `rows` to `dir/name` through a temporary file, so a reader never sees half a file.
fn write_atomic<T: serde::Serialize>(dir: &Path, name: &str, rows: &[T]) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    write_csv(BufWriter::new(File::create(&tmp)?), rows).with_context(|| format!("write {name}"))?;
    std::fs::rename(&tmp, dir.join(name))?;
    Ok(())
}

impl Collected {
    pub fn new(dir: PathBuf, env: serde_json::Value) -> Collected {
        Collected {
            dir,
            env,
            checks: Vec::new(),
            ramp: Vec::new(),
            sessions: Vec::new(),
            revocation: Vec::new(),
            credentials: BTreeMap::new(),
            spectrum: Vec::new(),
            metrics: BTreeMap::new(),
            me_bodies: BTreeMap::new(),
            hlogs: BTreeMap::new(),
            attacks: Vec::new(),
            saturation: Vec::new(),
            cpu_vs_load: Vec::new(),
            phases: Vec::new(),
        }
    }

    fn metric(&mut self, scheme: &str, name: &str, unit: &str, value: f64) {
        if value.is_finite() {
            self.metrics
                .entry((scheme.to_owned(), name.to_owned()))
                .or_insert_with(|| (unit.to_owned(), Vec::new()))
                .1
                .push(value);
        }
    }

    pub fn add_unit(&mut self, scheme: SchemeKind, u: UnitResult) {
        let s = scheme.to_string();
        let first_for_scheme = !self.checks.iter().any(|c| c.scheme == s);
        if first_for_scheme {
            self.checks.extend(u.checks);
        }
        self.ramp.extend(u.ramp);
        self.saturation.extend(u.saturation);
        self.cpu_vs_load.extend(u.cpu_vs_load);
        self.attacks.extend(u.attacks);
        for (name, unit, value) in u.metrics {
            self.metric(&s, name, unit, value);
        }
        // Per-session memory slopes of this repeat.
        let levels: Vec<&SessionsRow> = u.sessions.iter().collect();
        let fit = |f: &dyn Fn(&SessionsRow) -> Option<f64>| {
            let pts: Vec<(f64, f64)> =
                levels.iter().filter_map(|r| Some((r.sessions as f64, f(r)?))).collect();
            (pts.len() >= 2).then(|| linear_fit(&pts)).flatten()
        };
        if let Some(fit) = fit(&|r| r.redis_used_memory) {
            self.metric(&s, metric::STORE_BYTES_PER_SESSION, "bytes", fit.slope);
            self.metric(&s, metric::STORE_BYTES_PER_SESSION_R2, "r2", fit.r2);
        }
        if let Some(fit) = fit(&|r| r.server_rss_bytes) {
            self.metric(&s, metric::SERVER_RSS_PER_SESSION, "bytes", fit.slope);
        }
        self.sessions.extend(u.sessions);
        if let Some((header, cred, req)) = u.credential {
            self.credentials.insert(
                s.clone(),
                CredentialsRow { scheme: s.clone(), header, credential_bytes: cred, request_bytes: req },
            );
        }
        if !u.me_body.is_empty() {
            self.me_bodies.entry(s.clone()).or_insert(u.me_body);
        }
        if let Some(h) = u.me_hlog {
            self.hlogs.entry(s).or_default().push(h);
        }
    }

    /// The run's phase timings (`phases.csv`) and its total wall-clock seconds (environment.json).
    pub fn set_phases(&mut self, phases: Vec<PhaseRow>) {
        let total: f64 = phases.iter().map(|p| p.seconds).sum();
        if let Some(env) = self.env.as_object_mut() {
            env.insert("run_seconds".into(), serde_json::json!((total * 10.0).round() / 10.0));
        }
        self.phases = phases;
    }

    pub fn add_revocation(&mut self, rows: Vec<Revocation>) {
        for r in rows {
            self.revocation.push(RevocationRow {
                scheme: r.scheme.to_string(),
                action: r.action.to_owned(),
                window_s: r.window_s,
                rejected: r.rejected,
                note: r.note,
                ttl_s: Some(r.ttl_s),
                leeway_s: Some(r.leeway_s),
                default_ttl_s: Some(r.default_ttl_s),
            });
        }
    }

    fn summary_rows(&self) -> Vec<SummaryRow> {
        self.metrics
            .iter()
            .filter_map(|((scheme, name), (unit, values))| {
                SummaryRow::from_repeats(scheme, name, unit, values)
            })
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

    /// Percentile spectrum of `/api/me` from the steady runs' histogram logs, merged per scheme.
    fn compute_spectrum(&mut self) -> Result<()> {
        let mut rows = Vec::new();
        for (scheme, paths) in &self.hlogs {
            let mut merged = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            for path in paths {
                let Ok(bytes) = std::fs::read(path) else { continue };
                merged.add(&authbench_loadgen::output::read_hlog(&bytes)?)?;
            }
            if merged.is_empty() {
                continue;
            }
            for p in [0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0] {
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
    pub fn write(&self) -> Result<()> {
        let mut checks = self.checks.clone();
        checks.extend(self.equivalence_rows());
        write_atomic(&self.dir, file::CHECKS, &checks)?;
        write_atomic(&self.dir, file::RAMP, &self.ramp)?;
        write_atomic(&self.dir, file::SESSIONS, &self.sessions)?;
        write_atomic(&self.dir, file::REVOCATION, &self.revocation)?;
        write_atomic(&self.dir, file::CREDENTIALS, &self.credentials.values().cloned().collect::<Vec<_>>())?;
        write_atomic(&self.dir, file::SPECTRUM, &self.spectrum)?;
        write_atomic(&self.dir, file::SUMMARY, &self.summary_rows())?;
        write_atomic(&self.dir, "attacks.csv", &self.attacks)?;
        write_atomic(&self.dir, file::SATURATION, &self.saturation)?;
        write_atomic(&self.dir, file::CPU_VS_LOAD, &self.cpu_vs_load)?;
        write_atomic(&self.dir, file::PHASES, &self.phases)?;
        let tmp = self.dir.join(".environment.json.tmp");
        let mut f = BufWriter::new(File::create(&tmp)?);
        serde_json::to_writer_pretty(&mut f, &self.env)?;
        f.write_all(b"\n")?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(tmp, self.dir.join(file::ENVIRONMENT))?;
        Ok(())
    }

    /// Final pass: the spectrum (needs every repeat's histograms), the lost-request audit of every
    /// run's files, reliability.md, then write everything.
    pub fn finish(&mut self) -> Result<()> {
        self.compute_spectrum()?;
        let lost = crate::reliability::lost::lost_in_results(&self.dir)?;
        write_atomic(&self.dir, "lost.csv", &lost)?;
        let lost_total: u64 = lost.iter().map(|l| l.lost).sum();
        let failed: Vec<String> =
            self.equivalence_rows().into_iter().filter(|c| !c.passed).map(|c| c.scheme).collect();
        self.write()?;
        crate::reliability::render(&self.dir)?;
        if !failed.is_empty() {
            bail!("schemes are not equivalent: /api/me differs for {}", failed.join(", "));
        }
        if lost_total > 0 {
            bail!(
                "{lost_total} measured requests are missing from the run files (see lost.csv, reliability.md)"
            );
        }
        Ok(())
    }
}
