//! Reliability figures: bad credentials thrown at a live server (how many were rejected
//! correctly), requests measured and lost between the generator's counts and the files on disk,
//! and faults injected with their recovery times; all written as `reliability.md`.
//!
//! Files in a results folder: `attacks.csv` (compare), `lost.csv` (compare), `faults.csv`
//! (`authbench faults`). [`write_markdown`] renders whichever exist.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use authbench_servers::SchemeKind;
use serde::{Deserialize, Serialize};

use crate::harness::credential::{Cred, login};
use crate::harness::http;

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

/// Credentials derived from a real one: bit flips at every position, truncations, extensions,
/// garbage, oversized, moved and duplicated. None of them was issued by the server.
fn attack_inputs(cred: &Cred, scheme: SchemeKind) -> Vec<(&'static str, Vec<(String, String)>)> {
    let raw = cred.raw().to_owned();
    let one = |v: String| vec![(cred.header.to_owned(), cred.with_raw(&v).value)];
    let mut out: Vec<(&'static str, Vec<(String, String)>)> = Vec::new();
    for i in 0..raw.len() {
        let mut b = raw.clone().into_bytes();
        b[i] = match b[i] {
            b'A' => b'B',
            b'0' => b'1',
            b'a' => b'b',
            b'.' => b'-',
            _ => b'A',
        };
        out.push(("byte_changed", one(String::from_utf8_lossy(&b).into_owned())));
    }
    for cut in (1..raw.len()).step_by(3) {
        out.push(("truncated", one(raw[..cut].to_owned())));
    }
    for ext in ["A", "AAAA", "=", ".", "%00", " x"] {
        out.push(("extended", one(format!("{raw}{ext}"))));
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for n in 0..100 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let len = 1 + (rng % 300) as usize;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%";
        let s: String = (0..len)
            .map(|k| alphabet[((rng >> (k % 50)) as usize + k * 7 + n) % alphabet.len()] as char)
            .collect();
        out.push(("garbage", one(s)));
    }
    for size in [4097, 8 * 1024, 64 * 1024] {
        out.push(("oversized", one("A".repeat(size))));
    }
    match scheme {
        SchemeKind::Jwt => {
            let parts: Vec<&str> = raw.split('.').collect();
            if parts.len() == 3 {
                out.push(("alg_none", one(format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]))));
                out.push(("signature_stripped", one(format!("{}.{}.", parts[0], parts[1]))));
            }
            out.push(("wrong_scheme", vec![("authorization".into(), format!("Basic {raw}"))]));
            out.push(("as_cookie", vec![("cookie".into(), format!("ab_auth={raw}"))]));
        }
        _ => {
            let name = cred.value.split_once('=').map(|(k, _)| k).unwrap_or("");
            let other = if name == "ab_sid" { "ab_auth" } else { "ab_sid" };
            out.push(("other_cookie_name", vec![("cookie".into(), format!("{other}={raw}"))]));
            out.push(("duplicate_cookie", vec![("cookie".into(), format!("{name}={raw}; {name}={raw}"))]));
            out.push(("as_bearer", vec![("authorization".into(), format!("Bearer {raw}"))]));
        }
    }
    out
}

/// Throw the attack inputs at `/api/me` of a live server and count how each was answered.
pub async fn attack(scheme: SchemeKind, addr: SocketAddr) -> Result<Vec<AttackRow>> {
    let cred = login(addr, 3).await?;
    let mut rows: BTreeMap<&'static str, AttackRow> = BTreeMap::new();
    for (kind, headers) in attack_inputs(&cred, scheme) {
        let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let status = http::send(addr, "GET", "/api/me", &hs, None).await.map(|r| r.status).unwrap_or(0);
        let row = rows.entry(kind).or_insert_with(|| AttackRow {
            scheme: scheme.to_string(),
            kind: kind.to_owned(),
            tried: 0,
            rejected_4xx: 0,
            accepted: 0,
            server_errors: 0,
        });
        row.tried += 1;
        match status {
            400..=499 => row.rejected_4xx += 1,
            200..=299 => row.accepted += 1,
            _ => row.server_errors += 1,
        }
    }
    // Control: the real credential still works after the barrage.
    let ok = http::send(addr, "GET", "/api/me", &cred.headers(), None).await?.status;
    anyhow::ensure!(ok == 200, "{scheme}: the issued credential stopped working after the attacks ({ok})");
    Ok(rows.into_values().collect())
}

/// Count successful requests in a HdrHistogram interval log.
pub fn hlog_count(path: &Path) -> Result<u64> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let h = authbench_loadgen::output::read_hlog(&bytes).with_context(|| path.display().to_string())?;
    Ok(h.len())
}

/// Compare one run directory's summary.json with its .hlog files and timeseries.csv.
pub fn lost_in_run(dir: &Path, run: &str) -> Result<Vec<LostRow>> {
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json"))?)
        .with_context(|| format!("{}/summary.json", dir.display()))?;
    let mut ts = csv::Reader::from_path(dir.join("timeseries.csv"))?;
    let headers = ts.headers()?.clone();
    let records: Vec<csv::StringRecord> = ts.records().collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    let Some(endpoints) = summary["endpoints"].as_object() else { return Ok(rows) };
    for (name, e) in endpoints {
        let measured = e["count"].as_u64().unwrap_or(0);
        let errors_summary = e["errors"].as_u64().unwrap_or(0);
        let hlog = dir.join(format!("{name}.hlog"));
        let in_hlog = if hlog.exists() { hlog_count(&hlog)? } else { 0 };
        let col = headers.iter().position(|h| h == format!("{name}_errors"));
        let errors_timeseries: u64 =
            col.map(|c| records.iter().filter_map(|r| r.get(c)?.parse::<u64>().ok()).sum()).unwrap_or(0);
        let lost = measured.abs_diff(in_hlog) + errors_summary.abs_diff(errors_timeseries);
        rows.push(LostRow {
            run: run.to_owned(),
            endpoint: name.clone(),
            measured,
            in_hlog,
            errors_summary,
            errors_timeseries,
            lost,
        });
    }
    Ok(rows)
}

/// Every `runs/<unit>/<phase>/` of a compare results folder.
pub fn lost_in_results(dir: &Path) -> Result<Vec<LostRow>> {
    let mut rows = Vec::new();
    let runs = dir.join("runs");
    let Ok(units) = std::fs::read_dir(&runs) else { return Ok(rows) };
    let mut units: Vec<_> = units.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    units.sort();
    for unit in units {
        let mut phases: Vec<_> = std::fs::read_dir(&unit)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        phases.sort();
        for phase in phases.into_iter().filter(|p| p.join("summary.json").exists()) {
            let name = phase.strip_prefix(&runs).unwrap_or(&phase).display().to_string();
            rows.extend(lost_in_run(&phase, &name)?);
        }
    }
    Ok(rows)
}

fn read_rows<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut r = csv::Reader::from_path(path)?;
    Ok(r.deserialize().collect::<Result<_, _>>()?)
}

/// Write `reliability.md` from whichever of attacks.csv, lost.csv and faults.csv exist in `dir`.
pub fn write_markdown(dir: &Path, w: &mut impl Write) -> Result<()> {
    let attacks: Vec<AttackRow> = read_rows(&dir.join("attacks.csv"))?;
    let lost: Vec<LostRow> = read_rows(&dir.join("lost.csv"))?;
    let faults: Vec<FaultRow> = read_rows(&dir.join("faults.csv"))?;
    writeln!(w, "# Reliability\n")?;
    writeln!(w, "Bad input, faults and bookkeeping, measured against the real servers of this run.\n")?;
    writeln!(w, "## Bad credentials against a live server\n")?;
    if attacks.is_empty() {
        writeln!(w, "Not measured in this run.\n")?;
    } else {
        let mut per_scheme: BTreeMap<&str, (u64, u64, u64, u64)> = BTreeMap::new();
        for a in &attacks {
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
        for a in &attacks {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} |",
                a.scheme, a.kind, a.tried, a.rejected_4xx, a.accepted, a.server_errors
            )?;
        }
        writeln!(w, "\n</details>\n")?;
        writeln!(
            w,
            "The property tests in `servers/tests/fuzz.rs` add at least 10,000 random and mutated inputs per credential kind on every `scripts/test.sh` run (in-process, not counted here).\n"
        )?;
    }
    writeln!(w, "## Requests measured and lost\n")?;
    if lost.is_empty() {
        writeln!(w, "Not measured in this run.\n")?;
    } else {
        let measured: u64 = lost.iter().map(|l| l.measured + l.errors_summary).sum();
        let total_lost: u64 = lost.iter().map(|l| l.lost).sum();
        writeln!(
            w,
            "Every response the generator counted, checked against the files on disk (`summary.json` against each endpoint's `.hlog` and the per-second error counts in `timeseries.csv`), over {} run files: **{measured} requests measured, {total_lost} lost**.\n",
            lost.iter().map(|l| &l.run).collect::<std::collections::BTreeSet<_>>().len()
        )?;
        for l in lost.iter().filter(|l| l.lost > 0) {
            writeln!(
                w,
                "- LOST in {} / {}: summary {} ok + {} errors, hlog {}, timeseries errors {}",
                l.run, l.endpoint, l.measured, l.errors_summary, l.in_hlog, l.errors_timeseries
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
        for f in &faults {
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
        for f in &faults {
            writeln!(w, "- **{}**: {}", f.scenario, f.detail)?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// Render `dir/reliability.md`.
pub fn render(dir: &Path) -> Result<()> {
    let mut buf = Vec::new();
    write_markdown(dir, &mut buf)?;
    std::fs::write(dir.join("reliability.md"), buf)?;
    Ok(())
}

/// Write rows as CSV to `dir/name`.
pub fn write_csv<T: Serialize>(dir: &Path, name: &str, rows: &[T]) -> Result<()> {
    let mut w = csv::Writer::from_path(dir.join(name))?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_sums_attacks_and_flags_losses() {
        let dir = tempfile::tempdir().unwrap();
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
        write_csv(dir.path(), "attacks.csv", &attacks).unwrap();
        let lost = vec![LostRow {
            run: "jwt-r1/me".into(),
            endpoint: "me".into(),
            measured: 100,
            in_hlog: 99,
            errors_summary: 2,
            errors_timeseries: 2,
            lost: 1,
        }];
        write_csv(dir.path(), "lost.csv", &lost).unwrap();
        let mut out = Vec::new();
        write_markdown(dir.path(), &mut out).unwrap();
        let md = String::from_utf8(out).unwrap();
        assert!(md.contains("| jwt | 15 | 14 | 1 | 0 |"), "{md}");
        assert!(md.contains("102 requests measured, 1 lost"), "{md}");
        assert!(md.contains("LOST in jwt-r1/me"), "{md}");
        assert!(md.contains("scripts/faults.sh"), "faults section says how to fill it: {md}");
    }

    #[test]
    fn attack_inputs_never_include_the_real_credential() {
        let cred = Cred {
            header: "cookie",
            value: "ab_sid=0123456789abcdef0123456789abcdef".into(),
            refresh_token: None,
        };
        let inputs = attack_inputs(&cred, SchemeKind::Session);
        assert!(inputs.len() > 100);
        for (kind, headers) in &inputs {
            for (_, v) in headers {
                if *kind != "duplicate_cookie" && *kind != "other_cookie_name" && *kind != "as_bearer" {
                    assert_ne!(v, &cred.value, "{kind} repeats the issued credential");
                }
            }
        }
    }
}
