//! What a fault run's load left behind: its errors by kind, and whether its files parse and hold
//! every measured request.

use std::path::Path;

use authbench_loadgen::run_file;

use crate::reliability::lost::lost_in_run;

/// The errors of a load run by kind (`timeout 3, status 5xx 2`), or `none`.
pub fn errors_text(summary: &authbench_loadgen::Summary) -> String {
    let mut kinds = std::collections::BTreeMap::<String, u64>::new();
    for e in summary.endpoints.values() {
        for (k, v) in &e.errors_by_kind {
            *kinds.entry(k.clone()).or_default() += v;
        }
    }
    let parts: Vec<String> = kinds.iter().filter(|(_, v)| **v > 0).map(|(k, v)| format!("{k} {v}")).collect();
    if parts.is_empty() { "none".into() } else { parts.join(", ") }
}

/// Files of a load run: all parse and no measured request is missing from them.
pub fn audit(dir: &Path) -> (bool, u64, String) {
    match lost_in_run(dir, &dir.display().to_string()) {
        Ok(rows) => {
            let lost: u64 = rows.iter().map(|r| r.lost).sum();
            let seconds = authbench_loadgen::read_timeseries(dir).map_or(0, |rows| rows.len());
            (
                true,
                lost,
                format!(
                    "{seconds} seconds in {}, {lost} requests missing from the files",
                    run_file::TIMESERIES
                ),
            )
        }
        Err(e) => (false, 0, format!("files do not parse: {e:#}")),
    }
}
