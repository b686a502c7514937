//! Reading one agent's results folder for `authbench merge`, strictly: `summary.json` with its
//! [`AgentRun`], every `timeseries.csv` row, every `.hlog` interval, and checks that they agree
//! (one interval per row, histogram totals equal to the summary's counts), so a missing or
//! truncated file is an error naming it rather than a quietly smaller result.

use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use crate::agent::AgentRun;
use crate::error::{Error, Result};
use crate::hlog::{HlogInterval, Series, read_hlog_intervals};
use crate::output::{EndpointRow, Row, timeseries_header};
use crate::record::{Endpoint, ErrorKind};
use crate::summary::{Latency, Summary};

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
        for (name, e) in &summary.endpoints {
            let endpoint = Endpoint::parse(name)
                .ok_or_else(|| bad(dir, "summary.json", format!("unknown endpoint `{name}`")))?;
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

/// `timeseries.csv` back into rows, by column name. Percentile cells are not read back (merge
/// rebuilds them from the histograms).
fn read_timeseries(dir: &Path) -> Result<Vec<Row>> {
    let file = "timeseries.csv";
    let text = std::fs::read_to_string(dir.join(file)).map_err(|e| bad(dir, file, e))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    if header.join(",") != timeseries_header() {
        return Err(bad(dir, file, "its columns are not those of this authbench version"));
    }
    let at = |name: &str| header.iter().position(|h| *h == name).expect("own header has the column");
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != header.len() {
            return Err(bad(
                dir,
                file,
                format!("row {} has {} cells, not {}: truncated?", n + 1, cells.len(), header.len()),
            ));
        }
        let num = |name: &str| -> Result<f64> {
            cells[at(name)]
                .parse()
                .map_err(|_| bad(dir, file, format!("row {}: `{name}` is not a number", n + 1)))
        };
        let int = |name: &str| -> Result<u64> {
            cells[at(name)]
                .parse()
                .map_err(|_| bad(dir, file, format!("row {}: `{name}` is not a count", n + 1)))
        };
        let opt_f = |name: &str| -> Option<f64> { cells[at(name)].parse().ok() };
        let opt_u = |name: &str| -> Option<u64> { cells[at(name)].parse().ok() };
        let mut endpoints: [EndpointRow; 5] = Default::default();
        for (i, e) in Endpoint::ALL.iter().enumerate() {
            let e = e.as_str();
            endpoints[i] = EndpointRow {
                count: int(&format!("{e}_count"))?,
                rps: num(&format!("{e}_rps"))?,
                latency: None::<Latency>,
                p99_uncorrected: None,
                errors: int(&format!("{e}_errors"))?,
                unfinished: int(&format!("{e}_unfinished"))?,
            };
        }
        let mut errors = [0u64; ErrorKind::COUNT];
        for (k, kind) in ErrorKind::ALL.iter().enumerate() {
            errors[k] = int(&format!("err_{}", kind.as_str()))?;
        }
        rows.push(Row {
            t_s: num("t_s")?,
            interval_s: num("interval_s")?,
            stage: int("stage")? as usize,
            target: num("target")?,
            active_vus: int("active_vus")?,
            endpoints,
            errors,
            late_starts: int("late_starts")?,
            bytes_sent_per_req: opt_f("bytes_sent_per_req"),
            bytes_received_per_req: opt_f("bytes_received_per_req"),
            server_rss_bytes: opt_u("server_rss_bytes"),
            server_cpu_us_per_req: opt_f("server_cpu_us_per_req"),
            redis_used_memory: opt_u("redis_used_memory"),
            redis_keys: opt_u("redis_keys"),
            redis_cpu_us_per_req: opt_f("redis_cpu_us_per_req"),
            gen_cpu_percent: opt_f("gen_cpu_percent"),
            gen_lag_max_us: int("gen_lag_max_us")?,
            gen_saturated: int("gen_saturated")? != 0,
            in_flight: int("in_flight")?,
            oldest_in_flight_ms: opt_f("oldest_in_flight_ms"),
            stalled: int("stalled")? != 0,
            unfinished: int("unfinished")?,
            dropped: int("dropped")?,
        });
    }
    Ok(rows)
}
