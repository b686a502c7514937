//! `reliability.md` and the three files it is made of: `attacks.csv` (the attack battery, by
//! `compare`), `lost.csv` (the lost-request audit, by `compare`) and `faults.csv` (`authbench
//! faults`). [`render`] rebuilds `reliability.md` from whichever of them exist.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{file, read_optional};
use crate::error::Error;
use crate::write::{write_atomic, write_file};

/// One family of bad credentials against one scheme.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttackRow {
    pub scheme: String,
    pub kind: String,
    pub tried: u64,
    /// Answered 4xx: rejected correctly.
    pub rejected_4xx: u64,
    /// Answered 2xx: a credential that was never issued was accepted. Must be 0.
    pub accepted: u64,
    /// Answered 5xx or no answer. Must be 0.
    pub server_errors: u64,
}

/// Requests a run counted against what its files hold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LostRow {
    pub run: String,
    pub endpoint: String,
    /// Successful requests in summary.json.
    pub measured: u64,
    /// Successful requests in the endpoint's .hlog (the file of record for latency).
    pub in_hlog: u64,
    /// Failed requests in summary.json and in timeseries.csv.
    pub errors_summary: u64,
    pub errors_timeseries: u64,
    /// Requests sent and never answered (still waiting when the run ended), in summary.json and
    /// in timeseries.csv: counted, so they are not "lost" by omission.
    #[serde(default)]
    pub unfinished_summary: u64,
    #[serde(default)]
    pub unfinished_timeseries: u64,
    /// Open model, on the endpoint the arrivals are for: arrivals due and never sent, in
    /// summary.json and in timeseries.csv.
    #[serde(default)]
    pub dropped_summary: u64,
    #[serde(default)]
    pub dropped_timeseries: u64,
    /// Mismatches between the counts and the files, plus open-model arrivals neither started nor
    /// dropped (scheduled − started − dropped).
    pub lost: u64,
}

/// One injected fault.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultRow {
    pub scenario: String,
    pub injected: String,
    pub requests: u64,
    pub errors: String,
    pub worst_latency_ms: Option<f64>,
    pub recovery_s: Option<f64>,
    pub exit_code: Option<i32>,
    pub files_parse: bool,
    pub passed: bool,
    pub detail: String,
}

/// Write `reliability.md`; each section says "not measured" when its file had no rows.
pub fn write_markdown(w: &mut impl Write, r: &Reliability) -> io::Result<()> {
    let Reliability { attacks, lost, faults } = r;
    writeln!(w, "# Reliability\n")?;
    writeln!(w, "Bad input, faults and bookkeeping, measured against the real servers of this run.\n")?;
    writeln!(w, "## Bad credentials against a live server\n")?;
    if attacks.is_empty() {
        writeln!(w, "Not measured in this run.\n")?;
    } else {
        let mut per_scheme: BTreeMap<&str, (u64, u64, u64, u64)> = BTreeMap::new();
        for a in attacks {
            let e = per_scheme.entry(a.scheme.as_str()).or_default();
            e.0 += a.tried;
            e.1 += a.rejected_4xx;
            e.2 += a.accepted;
            e.3 += a.server_errors;
        }
        writeln!(
            w,
            "Each derived from a real credential of the scheme (every byte changed in turn, truncations, extensions, random garbage, oversized, moved under another name, duplicated, `alg: none`), sent to `GET /api/me`. Correct = 4xx.\n"
        )?;
        writeln!(w, "| scheme | tried | rejected 4xx | accepted | 5xx / no answer |")?;
        writeln!(w, "|---|---:|---:|---:|---:|")?;
        for (s, (t, r, a, e)) in &per_scheme {
            writeln!(w, "| {s} | {t} | {r} | {a} | {e} |")?;
        }
        writeln!(w, "\n<details><summary>by kind</summary>\n")?;
        writeln!(w, "| scheme | kind | tried | rejected 4xx | accepted | 5xx |")?;
        writeln!(w, "|---|---|---:|---:|---:|---:|")?;
        for a in attacks {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} |",
                a.scheme, a.kind, a.tried, a.rejected_4xx, a.accepted, a.server_errors
            )?;
        }
        writeln!(w, "\n</details>\n")?;
        writeln!(
            w,
            "The property tests in `servers/tests/fuzz/` add at least 10,000 random and mutated inputs per credential kind on every `scripts/test.sh` run (in-process, not counted here).\n"
        )?;
    }
    writeln!(w, "## Requests measured and lost\n")?;
    if lost.is_empty() {
        writeln!(w, "Not measured in this run.\n")?;
    } else {
        let sum = |f: fn(&LostRow) -> u64| lost.iter().map(f).sum::<u64>();
        let (ok, errors, unfinished) =
            (sum(|l| l.measured), sum(|l| l.errors_summary), sum(|l| l.unfinished_summary));
        let (dropped, total_lost) = (sum(|l| l.dropped_summary), sum(|l| l.lost));
        writeln!(
            w,
            "Every request the generator sent or owed, checked against the files on disk (`summary.json` against each endpoint's `.hlog`, the per-second error and unfinished counts in `timeseries.csv`, and the open model's schedule: scheduled = started + dropped), over {} run files: **{} requests measured, {total_lost} lost** ({ok} answered ok, {errors} failed, {unfinished} unfinished: sent and never answered before the run ended; {dropped} open-model arrivals dropped: due and never sent).\n",
            lost.iter().map(|l| &l.run).collect::<std::collections::BTreeSet<_>>().len(),
            ok + errors + unfinished
        )?;
        for l in lost.iter().filter(|l| l.lost > 0) {
            writeln!(
                w,
                "- LOST in {} / {}: summary {} ok + {} errors + {} unfinished ({} dropped), hlog {}, timeseries errors {} + unfinished {} ({} dropped)",
                l.run,
                l.endpoint,
                l.measured,
                l.errors_summary,
                l.unfinished_summary,
                l.dropped_summary,
                l.in_hlog,
                l.errors_timeseries,
                l.unfinished_timeseries,
                l.dropped_timeseries
            )?;
        }
        writeln!(w)?;
    }
    writeln!(w, "## Faults injected\n")?;
    if faults.is_empty() {
        writeln!(w, "Not run here: `scripts/faults.sh` injects them and writes this section.\n")?;
    } else {
        writeln!(
            w,
            "| scenario | injected | requests | errors by kind | worst latency | recovered after | exit code | files parse | result |"
        )?;
        writeln!(w, "|---|---|---:|---|---:|---:|---:|---|---|")?;
        for f in faults {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f.scenario,
                f.injected,
                f.requests,
                f.errors,
                f.worst_latency_ms.map(|v| format!("{v:.0} ms")).unwrap_or_else(|| "–".into()),
                f.recovery_s.map(|v| format!("{v:.2} s")).unwrap_or_else(|| "–".into()),
                f.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "–".into()),
                if f.files_parse { "yes" } else { "NO" },
                if f.passed { "pass" } else { "FAIL" }
            )?;
        }
        writeln!(w)?;
        for f in faults {
            writeln!(w, "- **{}**: {}", f.scenario, f.detail)?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// The rows of the three reliability files of one results directory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reliability {
    pub attacks: Vec<AttackRow>,
    pub lost: Vec<LostRow>,
    pub faults: Vec<FaultRow>,
}

impl Reliability {
    /// Read whichever of `attacks.csv`, `lost.csv`, `faults.csv` exist in `dir`.
    pub fn read_dir(dir: &Path) -> Result<Self, Error> {
        let mut missing = Vec::new();
        Ok(Reliability {
            attacks: read_optional(dir, file::ATTACKS, &mut missing)?,
            lost: read_optional(dir, file::LOST, &mut missing)?,
            faults: read_optional(dir, file::FAULTS, &mut missing)?,
        })
    }
}

/// Rebuild `dir/reliability.md` from the CSVs in `dir`; returns its path.
pub fn render(dir: &Path) -> Result<PathBuf, Error> {
    let rows = Reliability::read_dir(dir)?;
    let path = dir.join(file::RELIABILITY);
    write_file(&path, |w| write_markdown(w, &rows))?;
    Ok(path)
}

/// Write `faults.csv` (the rows so far: `authbench faults` rewrites it after each scenario).
pub fn write_faults(dir: &Path, rows: &[FaultRow]) -> Result<(), Error> {
    write_atomic(dir, file::FAULTS, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_sums_attacks_and_flags_losses() {
        let attacks = vec![
            AttackRow {
                scheme: "jwt".into(),
                kind: "garbage".into(),
                tried: 10,
                rejected_4xx: 10,
                accepted: 0,
                server_errors: 0,
            },
            AttackRow {
                scheme: "jwt".into(),
                kind: "truncated".into(),
                tried: 5,
                rejected_4xx: 4,
                accepted: 1,
                server_errors: 0,
            },
        ];
        let lost = vec![LostRow {
            run: "jwt-r1/me".into(),
            endpoint: "me".into(),
            measured: 100,
            in_hlog: 99,
            errors_summary: 2,
            errors_timeseries: 2,
            unfinished_summary: 3,
            unfinished_timeseries: 3,
            dropped_summary: 4,
            dropped_timeseries: 4,
            lost: 1,
        }];
        let mut out = Vec::new();
        write_markdown(&mut out, &Reliability { attacks, lost, faults: Vec::new() }).unwrap();
        let md = String::from_utf8(out).unwrap();
        assert!(md.contains("| jwt | 15 | 14 | 1 | 0 |"), "{md}");
        assert!(md.contains("105 requests measured, 1 lost"), "{md}");
        assert!(md.contains("3 unfinished") && md.contains("4 open-model arrivals dropped"), "{md}");
        assert!(md.contains("LOST in jwt-r1/me"), "{md}");
        assert!(md.contains("scripts/faults.sh"), "faults section says how to fill it: {md}");
    }

    #[test]
    fn render_reads_the_files_back() {
        let dir = std::env::temp_dir().join(format!("authbench-reliability-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fault = FaultRow {
            scenario: "redis_outage".into(),
            injected: "SIGSTOP 2 s".into(),
            requests: 10,
            errors: "unavailable=3".into(),
            worst_latency_ms: Some(412.0),
            recovery_s: None,
            exit_code: Some(0),
            files_parse: true,
            passed: true,
            detail: "recovered".into(),
        };
        write_faults(&dir, std::slice::from_ref(&fault)).unwrap();
        let path = render(&dir).unwrap();
        let md = std::fs::read_to_string(path).unwrap();
        assert!(
            md.contains("| redis_outage | SIGSTOP 2 s | 10 | unavailable=3 | 412 ms | – | 0 | yes | pass |"),
            "{md}"
        );
        assert!(md.contains("## Bad credentials against a live server\n\nNot measured in this run."), "{md}");
        assert_eq!(Reliability::read_dir(&dir).unwrap().faults, vec![fault]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
