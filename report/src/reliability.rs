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

/// One injected fault. The figures after `detail` belong to two kinds of rows only, absent
/// elsewhere (and in files written before they existed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
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
    /// Race rows (logout-all against concurrency, one per scheme × race): trials run, trials in
    /// which a credential logout-all had to end was accepted after it, credentials checked,
    /// the thief's operations, answers of 500 or above.
    #[serde(default)]
    pub trials: Option<u64>,
    #[serde(default)]
    pub survivors: Option<u64>,
    #[serde(default)]
    pub checked: Option<u64>,
    #[serde(default)]
    pub thief_ops: Option<u64>,
    #[serde(default)]
    pub server_errors: Option<u64>,
    /// Crash rows (Redis killed mid-load, one per persistence mode): live sessions refused after
    /// the restart, logged-out sessions accepted after it, and the load's logins beyond its first
    /// (its users logging in again because their session was gone).
    #[serde(default)]
    pub sessions_lost: Option<u64>,
    #[serde(default)]
    pub resurrected: Option<u64>,
    #[serde(default)]
    pub relogins: Option<u64>,
}

impl FaultRow {
    fn is_race(&self) -> bool {
        self.trials.is_some()
    }

    fn is_crash(&self) -> bool {
        self.sessions_lost.is_some()
    }
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
        return Ok(());
    }
    let (races, injected): (Vec<&FaultRow>, Vec<&FaultRow>) = faults.iter().partition(|f| f.is_race());
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "–".into());
    let verdict = |f: &FaultRow| if f.passed { "pass" } else { "FAIL" };
    if !injected.is_empty() {
        writeln!(
            w,
            "| scenario | injected | requests | errors by kind | worst latency | recovered after | exit code | files parse | result |"
        )?;
        writeln!(w, "|---|---|---:|---|---:|---:|---:|---|---|")?;
        for f in &injected {
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
                verdict(f)
            )?;
        }
        writeln!(w)?;
        for f in &injected {
            writeln!(w, "- **{}**: {}", f.scenario, f.detail)?;
        }
        writeln!(w)?;
    }
    let crashes: Vec<&&FaultRow> = injected.iter().filter(|f| f.is_crash()).collect();
    if !crashes.is_empty() {
        writeln!(w, "### Redis killed mid-load, by persistence\n")?;
        writeln!(
            w,
            "redis-server SIGKILLed under a session load and restarted on the same port and directory. Sessions lost: live sessions refused after the restart; resurrected: sessions logged out before the kill accepted after it (must be 0); re-logins: the load's logins beyond its first, as its users found their sessions gone. With AOF (`appendfsync everysec`) a crash of the Redis *process* loses nothing Redis had answered (the kernel holds what was written); only a crash of the OS or a power loss could lose the last second of writes, which cannot be tested on this machine.\n"
        )?;
        writeln!(
            w,
            "| scenario | sessions lost | revoked resurrected | recovered after | re-logins | result |"
        )?;
        writeln!(w, "|---|---:|---:|---:|---:|---|")?;
        for f in crashes {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} |",
                f.scenario,
                opt(f.sessions_lost),
                opt(f.resurrected),
                f.recovery_s.map(|v| format!("{v:.2} s")).unwrap_or_else(|| "–".into()),
                opt(f.relogins),
                verdict(f)
            )?;
        }
        writeln!(w)?;
    }
    if !races.is_empty() {
        writeln!(w, "### Logout-all against concurrency\n")?;
        writeln!(
            w,
            "Trials on a real server and a private Redis: a thief refreshing two stolen credentials from two connections while the victim logs out everywhere, and a login loop racing logout-all. Survived: trials in which a credential logout-all had to end was accepted (by `/api/me` or `/auth/refresh`) 100 ms after its 204; must be 0.\n"
        )?;
        writeln!(
            w,
            "| scenario | trials | survived | credentials checked | thief operations | 5xx | result |"
        )?;
        writeln!(w, "|---|---:|---:|---:|---:|---:|---|")?;
        for f in &races {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} |",
                f.scenario,
                opt(f.trials),
                opt(f.survivors),
                opt(f.checked),
                opt(f.thief_ops),
                opt(f.server_errors),
                verdict(f)
            )?;
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
            ..FaultRow::default()
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

    #[test]
    fn race_and_crash_rows_get_their_own_tables_and_read_back() {
        let race = FaultRow {
            scenario: "race_session_logout_all_vs_refresh".into(),
            passed: true,
            trials: Some(1000),
            survivors: Some(0),
            checked: Some(2000),
            thief_ops: Some(51234),
            server_errors: Some(0),
            ..FaultRow::default()
        };
        let crash = FaultRow {
            scenario: "redis_killed_aof".into(),
            injected: "SIGKILL".into(),
            recovery_s: Some(0.25),
            files_parse: true,
            passed: true,
            sessions_lost: Some(0),
            resurrected: Some(0),
            relogins: Some(0),
            ..FaultRow::default()
        };
        let mut out = Vec::new();
        let r = Reliability { faults: vec![crash.clone(), race.clone()], ..Reliability::default() };
        write_markdown(&mut out, &r).unwrap();
        let md = String::from_utf8(out).unwrap();
        assert!(
            md.contains("| race_session_logout_all_vs_refresh | 1000 | 0 | 2000 | 51234 | 0 | pass |"),
            "{md}"
        );
        assert!(md.contains("| redis_killed_aof | 0 | 0 | 0.25 s | 0 | pass |"), "{md}");
        assert!(md.contains("only a crash of the OS or a power loss could lose the last second"), "{md}");
        assert!(
            !md.contains("| race_session_logout_all_vs_refresh | –"),
            "race rows stay out of the main table: {md}"
        );
        let mut csv = Vec::new();
        {
            let mut w = csv::Writer::from_writer(&mut csv);
            w.serialize(&race).unwrap();
        }
        let back: FaultRow = csv::Reader::from_reader(&csv[..]).deserialize().next().unwrap().unwrap();
        assert_eq!(back, race);
    }
}
