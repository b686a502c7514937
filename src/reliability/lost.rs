//! The lost-request audit: every request the generator sent or owed in a run's `summary.json`,
//! checked against the files of record on disk — each endpoint's `.hlog` for the successes, the
//! per-second error counts in `timeseries.csv` for the failures, its `<endpoint>_unfinished`
//! column for requests left waiting at the end, its `dropped` column for open-model arrivals
//! never sent — and the open model's schedule: scheduled = started + dropped. Requests that never
//! finished are counted as such, so "0 lost" holds by construction, not by omission.

use std::path::Path;

use anyhow::{Context, Result};
use authbench_loadgen::Endpoint;
use authbench_loadgen::Summary;
use authbench_loadgen::run_file;
use authbench_report::data::file;

use super::LostRow;

/// Count successful requests in a HdrHistogram interval log.
pub fn hlog_count(path: &Path) -> Result<u64> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let h = authbench_loadgen::read_hlog(&bytes).with_context(|| path.display().to_string())?;
    Ok(h.len())
}

/// Compare one run directory's summary.json with its .hlog files and timeseries.csv, each read
/// by the generator crate's own readers (the owner of those formats).
pub fn lost_in_run(dir: &Path, run: &str) -> Result<Vec<LostRow>> {
    let summary: Summary = serde_json::from_slice(&std::fs::read(dir.join(run_file::SUMMARY_JSON))?)
        .with_context(|| format!("{}/{}", dir.display(), run_file::SUMMARY_JSON))?;
    let rows = authbench_loadgen::read_timeseries(dir)?;
    let mut lost_rows = Vec::new();
    // Open model: the arrivals are for /api/me (or /healthz without a scheme).
    let arrivals_for =
        if summary.endpoint(Endpoint::Me).is_some() { Endpoint::Me } else { Endpoint::Healthz };
    for (&endpoint, e) in &summary.endpoints {
        let i = endpoint as usize;
        let hlog = dir.join(run_file::hlog(endpoint.as_str()));
        let in_hlog = if hlog.exists() { hlog_count(&hlog)? } else { 0 };
        let errors_timeseries: u64 = rows.iter().map(|r| r.endpoints[i].errors).sum();
        let unfinished_timeseries: u64 = rows.iter().map(|r| r.endpoints[i].unfinished).sum();
        let (dropped_summary, dropped_timeseries, unscheduled) = match &summary.open {
            Some(o) if endpoint == arrivals_for => {
                (o.dropped, rows.iter().map(|r| r.dropped).sum(), o.scheduled.abs_diff(o.started + o.dropped))
            }
            _ => (0, 0, 0),
        };
        let lost = e.count.abs_diff(in_hlog)
            + e.errors.abs_diff(errors_timeseries)
            + e.unfinished.abs_diff(unfinished_timeseries)
            + dropped_summary.abs_diff(dropped_timeseries)
            + unscheduled;
        lost_rows.push(LostRow {
            run: run.to_owned(),
            endpoint: endpoint.as_str().to_owned(),
            measured: e.count,
            in_hlog,
            errors_summary: e.errors,
            errors_timeseries,
            unfinished_summary: e.unfinished,
            unfinished_timeseries,
            dropped_summary,
            dropped_timeseries,
            lost,
        });
    }
    Ok(lost_rows)
}

/// Every `runs/<unit>/<phase>/` of a compare results folder.
pub fn lost_in_results(dir: &Path) -> Result<Vec<LostRow>> {
    let mut rows = Vec::new();
    let runs = dir.join(file::RUNS);
    let Ok(units) = std::fs::read_dir(&runs) else { return Ok(rows) };
    let mut units: Vec<_> = units.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    units.sort();
    for unit in units {
        let mut phases: Vec<_> = std::fs::read_dir(&unit)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        phases.sort();
        for phase in phases.into_iter().filter(|p| p.join(run_file::SUMMARY_JSON).exists()) {
            let name = phase.strip_prefix(&runs).unwrap_or(&phase).display().to_string();
            rows.extend(lost_in_run(&phase, &name)?);
        }
    }
    Ok(rows)
}
