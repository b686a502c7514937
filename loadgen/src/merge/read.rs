//! Reading one agent's results folder for `authbench merge`, strictly: `summary.json` with its
//! [`AgentRun`], every `timeseries.csv` row, every `.hlog` interval, and checks that they agree
//! (one interval per row, histogram totals equal to the summary's counts), so a missing or
//! truncated file is an error naming it rather than a quietly smaller result.

use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use crate::agent::AgentRun;
use crate::error::{Error, Result};
use crate::hlog::{HlogInterval, Series, read_hlog_intervals};
use crate::output::{Row, read_timeseries};
use crate::record::Endpoint;
use crate::summary::Summary;

/// One agent's folder, read and checked.
pub struct AgentFolder {
    pub dir: PathBuf,
    pub summary: Summary,
    pub agent: AgentRun,
    pub rows: Vec<Row>,
    /// Per endpoint of the summary (in [`Endpoint::ALL`] order): its latency intervals, and in
    /// the open model its uncorrected ones; one interval per row.
    pub hlogs: Vec<(Endpoint, Series, Vec<HlogInterval>)>,
}

fn bad(dir: &Path, what: &str, why: impl std::fmt::Display) -> Error {
    Error::BadInput(format!("{}: {what}: {why}", dir.join(what).display()))
}

impl AgentFolder {
    pub fn read(dir: &Path) -> Result<AgentFolder> {
        if !dir.is_dir() {
            return Err(Error::BadInput(format!("{}: not a results folder", dir.display())));
        }
        let text = std::fs::read(dir.join("summary.json")).map_err(|e| bad(dir, "summary.json", e))?;
        let summary: Summary = serde_json::from_slice(&text)
            .map_err(|e| bad(dir, "summary.json", format!("not a load summary ({e})")))?;
        let agent = summary.agent.clone().ok_or_else(|| {
            bad(dir, "summary.json", "not an agent's run: merge joins runs of `authbench load --agent I/N`")
        })?;
        let rows = read_timeseries(dir)?;
        let open = summary.open.is_some();
        let mut hlogs = Vec::new();
        for (&endpoint, e) in &summary.endpoints {
            let name = endpoint.as_str();
            let series: &[Series] =
                if open { &[Series::Latency, Series::Uncorrected] } else { &[Series::Latency] };
            for &s in series {
                let file = match s {
                    Series::Latency => format!("{name}.hlog"),
                    Series::Uncorrected => format!("{name}.uncorrected.hlog"),
                };
                let bytes = std::fs::read(dir.join(&file)).map_err(|e| bad(dir, &file, e))?;
                let intervals = read_hlog_intervals(&bytes).map_err(|e| bad(dir, &file, e))?;
                if intervals.len() != rows.len() {
                    return Err(bad(
                        dir,
                        &file,
                        format!(
                            "{} intervals for {} timeseries.csv rows: truncated or not from this run",
                            intervals.len(),
                            rows.len()
                        ),
                    ));
                }
                let total: u64 = intervals.iter().map(|i| i.histogram.len()).sum();
                // The uncorrected log holds only scheduled arrivals (not the pool's logins).
                let off = match s {
                    Series::Latency => total != e.count,
                    Series::Uncorrected => total > e.count,
                };
                if off {
                    return Err(bad(
                        dir,
                        &file,
                        format!("holds {total} requests but summary.json counts {}: truncated?", e.count),
                    ));
                }
                hlogs.push((endpoint, s, intervals));
            }
        }
        hlogs.sort_by_key(|(e, s, _)| (*e as usize, *s == Series::Uncorrected));
        Ok(AgentFolder { dir: dir.to_owned(), summary, agent, rows, hlogs })
    }

    /// The one histogram of `endpoint`'s `series` covering every interval.
    pub fn histogram(&self, endpoint: Endpoint, series: Series) -> Option<Histogram<u64>> {
        let (_, _, intervals) = self.hlogs.iter().find(|(e, s, _)| *e == endpoint && *s == series)?;
        let mut h = crate::record::new_histogram();
        for i in intervals {
            h.add(&i.histogram).ok()?;
        }
        Some(h)
    }
}
