//! The ramp per users level, from merged histograms: for each scheme × repeat × concurrency level,
//! the `/api/me` percentiles of that level's per-second histograms merged (the `ramp/me.hlog` of
//! each run folder, `runs/<scheme>-r<repeat>/ramp/`), not a mean of per-second percentiles.
//! `render` writes them to `ramp_levels.csv`, so the folder still rebuilds without `runs/`; with
//! neither, the levels fall back to `ramp.csv`'s per-second figures (and say so).

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use authbench_loadgen::Endpoint;
use authbench_loadgen::run_file;

use crate::data::{RampRow, file};

/// `ramp_levels.csv`: one row per scheme × repeat × concurrency level of the ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampLevelRow {
    pub scheme: String,
    pub repeat: u32,
    pub active_vus: u64,
    /// Seconds of the ramp spent at this level.
    pub seconds: u32,
    /// Completed `/api/me` requests in those seconds (in the merged histogram; from `ramp.csv`,
    /// the sum of the seconds' rates).
    pub requests: u64,
    /// Completed requests per second over the level's seconds.
    pub me_rps: f64,
    pub me_p50_us: Option<f64>,
    pub me_p99_us: Option<f64>,
    pub me_p999_us: Option<f64>,
    pub errors: u64,
}

/// Where the level percentiles came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// Merged per-second histograms of the run folders (written to `ramp_levels.csv`).
    Histograms,
    /// `ramp_levels.csv` as a previous render wrote it (the run folders are gone).
    File,
    /// Means of `ramp.csv`'s per-second percentiles: no histograms in this folder.
    #[default]
    PerSecond,
}

/// The run folder of one scheme × repeat (as `compare` names it).
pub fn run_dir(dir: &Path, scheme: &str, repeat: u32) -> std::path::PathBuf {
    dir.join(file::RUNS).join(file::unit_runs(scheme, repeat))
}

/// Ramp levels of the folder `dir` whose `ramp.csv` rows are `ramp`: from the run folders' hlogs
/// when every (scheme, repeat) of `ramp` has one, else from `file_rows` (`ramp_levels.csv`) when
/// given, else from `ramp` itself.
pub fn load(
    dir: &Path,
    ramp: &[RampRow],
    file_rows: Vec<RampLevelRow>,
) -> Result<(Vec<RampLevelRow>, Source), Error> {
    let runs: BTreeMap<(String, u32), Vec<&RampRow>> = ramp.iter().fold(BTreeMap::new(), |mut m, r| {
        m.entry((r.scheme.clone(), r.repeat)).or_default().push(r);
        m
    });
    let hlog =
        |s: &str, r: u32| run_dir(dir, s, r).join(file::RAMP_RUN).join(run_file::hlog(Endpoint::Me.as_str()));
    if !runs.is_empty() && runs.keys().all(|(s, r)| hlog(s, *r).is_file()) {
        let mut out = Vec::new();
        for ((scheme, repeat), rows) in &runs {
            let path = hlog(scheme, *repeat);
            let bytes = std::fs::read(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
            let intervals = authbench_loadgen::read_hlog_intervals(&bytes)
                .map_err(|source| Error::Io { path: path.clone(), source })?;
            let seconds: Vec<(f64, &Histogram<u64>)> =
                intervals.iter().map(|i| (i.end_s(), &i.histogram)).collect();
            out.extend(from_histograms(scheme, *repeat, rows, &seconds));
        }
        return Ok((out, Source::Histograms));
    }
    if !file_rows.is_empty() {
        return Ok((file_rows, Source::File));
    }
    let mut out = Vec::new();
    for ((scheme, repeat), rows) in &runs {
        out.extend(from_per_second(scheme, *repeat, rows));
    }
    Ok((out, Source::PerSecond))
}

/// The levels of one run: each `ramp.csv` second (`t_s` = end of the second) is matched to the
/// histogram interval that ended within 50 ms of it; the level's histograms are merged and read.
pub fn from_histograms(
    scheme: &str,
    repeat: u32,
    rows: &[&RampRow],
    seconds: &[(f64, &Histogram<u64>)],
) -> Vec<RampLevelRow> {
    let mut by_level: BTreeMap<u64, (Vec<&RampRow>, Option<Histogram<u64>>)> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.active_vus > 0) {
        let entry = by_level.entry(row.active_vus).or_insert_with(|| (Vec::new(), None));
        entry.0.push(row);
        let matched = seconds.iter().find(|(end, _)| (end - row.t_s).abs() < 0.05);
        if let Some((_, h)) = matched {
            match &mut entry.1 {
                Some(acc) => {
                    // Same settings (one writer); a failed add would only lose this second.
                    let _ = acc.add(*h);
                }
                None => entry.1 = Some((*h).clone()),
            }
        }
    }
    by_level
        .into_iter()
        .map(|(active_vus, (rows, merged))| {
            let q = |p: f64| merged.as_ref().filter(|h| !h.is_empty()).map(|h| h.value_at_quantile(p) as f64);
            let mut level = level_row(scheme, repeat, active_vus, &rows, q(0.5), q(0.99), q(0.999));
            level.requests = merged.as_ref().map_or(0, |h| h.len());
            level
        })
        .collect()
}

/// The levels of one run from `ramp.csv` alone: means of the per-second percentiles.
pub fn from_per_second(scheme: &str, repeat: u32, rows: &[&RampRow]) -> Vec<RampLevelRow> {
    let mut by_level: BTreeMap<u64, Vec<&RampRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.active_vus > 0) {
        by_level.entry(row.active_vus).or_default().push(row);
    }
    by_level
        .into_iter()
        .map(|(active_vus, rows)| {
            let served = |f: fn(&RampRow) -> f64| {
                let v: Vec<f64> =
                    rows.iter().filter(|r| r.me_rps > 0.0 && f(r) > 0.0).map(|r| f(r)).collect();
                crate::stats::mean(&v)
            };
            let (p50, p99) = (served(|r| r.me_p50_us), served(|r| r.me_p99_us));
            level_row(scheme, repeat, active_vus, &rows, p50, p99, None)
        })
        .collect()
}

fn level_row(
    scheme: &str,
    repeat: u32,
    active_vus: u64,
    rows: &[&RampRow],
    p50: Option<f64>,
    p99: Option<f64>,
    p999: Option<f64>,
) -> RampLevelRow {
    let rps = crate::stats::mean(&rows.iter().map(|r| r.me_rps).collect::<Vec<_>>()).unwrap_or(0.0);
    RampLevelRow {
        scheme: scheme.to_string(),
        repeat,
        active_vus,
        seconds: rows.len() as u32,
        requests: rows.iter().map(|r| r.me_rps.max(0.0)).sum::<f64>().round() as u64,
        me_rps: rps,
        me_p50_us: p50,
        me_p99_us: p99,
        me_p999_us: p999,
        errors: rows.iter().map(|r| r.errors).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t_s: f64, vus: u64, p99: f64) -> RampRow {
        RampRow {
            scheme: "jwt".into(),
            repeat: 1,
            t_s,
            active_vus: vus,
            me_rps: 100.0,
            me_p50_us: p99 / 2.0,
            me_p99_us: p99,
            errors: 0,
            server_cpu_us_per_req: None,
            redis_cpu_us_per_req: None,
            server_rss_bytes: None,
            redis_used_memory: None,
        }
    }

    fn hist(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn p99_of_a_level_is_of_the_merged_histogram_not_a_mean_of_seconds() {
        // Two seconds at 10 users: one quiet (100 × 100 µs), one with a stall (100 × 10 ms).
        // Per-second p99s are 100 µs and 10 ms (mean ≈ 5 ms); merged, p99 is the stall: 10 ms,
        // and p50 sits between the two seconds.
        let quiet = hist(std::iter::repeat_n(100, 100));
        let stall = hist(std::iter::repeat_n(10_000, 100));
        let rows = [row(1.0, 10, 100.0), row(2.0, 10, 10_000.0), row(3.0, 20, 100.0)];
        let refs: Vec<&RampRow> = rows.iter().collect();
        let seconds = [(1.002, &quiet), (2.001, &stall), (3.0, &quiet)];
        let levels = from_histograms("jwt", 1, &refs, &seconds);
        assert_eq!(levels.len(), 2);
        let ten = &levels[0];
        assert_eq!((ten.active_vus, ten.seconds, ten.requests), (10, 2, 200));
        let p99 = ten.me_p99_us.unwrap();
        assert!((9_990.0..=10_010.0).contains(&p99), "{p99}");
        let mean_of_seconds = from_per_second("jwt", 1, &refs)[0].me_p99_us.unwrap();
        assert!((mean_of_seconds - 5_050.0).abs() < 1.0, "{mean_of_seconds}");
        assert_eq!(levels[1].me_p99_us.map(|v| v.round()), Some(100.0));
    }

    #[test]
    fn a_second_without_a_histogram_is_left_out_not_invented() {
        let rows = [row(1.0, 10, 100.0)];
        let refs: Vec<&RampRow> = rows.iter().collect();
        let levels = from_histograms("jwt", 1, &refs, &[]);
        assert_eq!(levels[0].me_p99_us, None);
    }
}
