//! The lost-request audit: every response the generator counted in a run's `summary.json`,
//! checked against the files of record on disk — each endpoint's `.hlog` for the successes, the
//! per-second error counts in `timeseries.csv` for the failures.

use std::path::Path;

use anyhow::{Context, Result};

use super::LostRow;

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
