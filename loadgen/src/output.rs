//! Writers for a run's files. Each takes `impl Write`, so each is unit-tested into a `Vec<u8>`;
//! [`Outputs`] binds them to files in `--out DIR` and flushes after every second.
//!
//! - `timeseries.csv`: one [`Row`] per second, columns in [`timeseries_header`].
//! - `summary.json` (written last, atomically) and `summary.csv` (one row per endpoint).
//! - `<endpoint>.hlog` (and `<endpoint>.uncorrected.hlog` in the open model): HdrHistogram
//!   interval logs, written by [`crate::hlog`].
//!
//! New columns are appended after the ones earlier versions wrote, so a reader by position keeps
//! working; readers here go by name.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// File names of a run's `--out DIR`.
pub mod file {
    pub const TIMESERIES: &str = "timeseries.csv";
    pub const SUMMARY_JSON: &str = "summary.json";
    pub const SUMMARY_CSV: &str = "summary.csv";

    /// `<endpoint>.hlog`: the endpoint's latency (corrected in the open model).
    pub fn hlog(endpoint: &str) -> String {
        format!("{endpoint}.hlog")
    }

    /// `<endpoint>.uncorrected.hlog` (open model only).
    pub fn hlog_uncorrected(endpoint: &str) -> String {
        format!("{endpoint}.uncorrected.hlog")
    }
}
pub use crate::hlog::{HlogWriter, Series, read_hlog, read_hlog_intervals};
use crate::record::{Endpoint, ErrorKind};
pub use crate::row::{EndpointRow, Row};
use crate::sink::{Second, Sink};
use crate::summary::Summary;
pub use crate::text::write_text_summary;

/// Error kinds whose `err_*` columns sit among the endpoint columns, as they always did; the
/// kinds added later get theirs at the end of the row.
const FIRST_KINDS: usize = 6;

/// The header line of `timeseries.csv` (no trailing newline).
pub fn timeseries_header() -> String {
    let mut cols: Vec<String> =
        ["t_s", "interval_s", "stage", "target", "active_vus"].map(String::from).to_vec();
    for e in Endpoint::ALL {
        let e = e.as_str();
        for c in [
            "count",
            "rps",
            "p50_us",
            "p90_us",
            "p99_us",
            "p999_us",
            "max_us",
            "p99_uncorrected_us",
            "errors",
        ] {
            cols.push(format!("{e}_{c}"));
        }
    }
    for k in &ErrorKind::ALL[..FIRST_KINDS] {
        cols.push(format!("err_{}", k.as_str()));
    }
    cols.extend(
        [
            "late_starts",
            "bytes_sent_per_req",
            "bytes_received_per_req",
            "server_rss_bytes",
            "server_cpu_us_per_req",
            "redis_used_memory",
            "redis_keys",
            "redis_cpu_us_per_req",
            "gen_cpu_percent",
            "gen_lag_max_us",
            "gen_saturated",
            "in_flight",
            "oldest_in_flight_ms",
            "stalled",
            "unfinished",
            "dropped",
        ]
        .map(String::from),
    );
    for k in &ErrorKind::ALL[FIRST_KINDS..] {
        cols.push(format!("err_{}", k.as_str()));
    }
    for e in Endpoint::ALL {
        cols.push(format!("{}_unfinished", e.as_str()));
    }
    cols.join(",")
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn f(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_default()
}

/// Write one timeseries row (with newline). Missing values are empty cells.
pub fn write_row(w: &mut impl Write, r: &Row) -> io::Result<()> {
    let mut cells = vec![
        format!("{:.3}", r.t_s),
        format!("{:.3}", r.interval_s),
        r.stage.to_string(),
        format!("{:.1}", r.target),
        r.active_vus.to_string(),
    ];
    for e in &r.endpoints {
        cells.push(e.count.to_string());
        cells.push(format!("{:.1}", e.rps));
        let l = e.latency.as_ref();
        cells.extend([
            opt(l.map(|l| l.p50)),
            opt(l.map(|l| l.p90)),
            opt(l.map(|l| l.p99)),
            opt(l.map(|l| l.p999)),
            opt(l.map(|l| l.max)),
        ]);
        cells.push(opt(e.p99_uncorrected));
        cells.push(e.errors.to_string());
    }
    cells.extend(r.errors[..FIRST_KINDS].iter().map(u64::to_string));
    cells.extend([
        r.late_starts.to_string(),
        f(r.bytes_sent_per_req),
        f(r.bytes_received_per_req),
        opt(r.server_rss_bytes),
        f(r.server_cpu_us_per_req),
        opt(r.redis_used_memory),
        opt(r.redis_keys),
        f(r.redis_cpu_us_per_req),
        f(r.gen_cpu_percent),
        r.gen_lag_max_us.to_string(),
        u8::from(r.gen_saturated).to_string(),
        r.in_flight.to_string(),
        f(r.oldest_in_flight_ms),
        u8::from(r.stalled).to_string(),
        r.unfinished.to_string(),
        r.dropped.to_string(),
    ]);
    cells.extend(r.errors[FIRST_KINDS..].iter().map(u64::to_string));
    cells.extend(r.endpoints.iter().map(|e| e.unfinished.to_string()));
    writeln!(w, "{}", cells.join(","))
}

/// `summary.json`, pretty-printed.
pub fn write_summary_json(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, s).map_err(io::Error::other)?;
    writeln!(w)
}

/// Columns of `summary.csv`.
pub const SUMMARY_CSV_HEADER: &str = "scheme,model,endpoint,count,errors,error_rate,rps,p50_us,p90_us,p95_us,p99_us,p999_us,max_us,mean_us,\
uncorrected_p50_us,uncorrected_p99_us,uncorrected_max_us,bytes_sent_per_req,bytes_received_per_req,credential_bytes_per_req,\
duration_s,server_cpu_us_per_req,server_rss_bytes_max,redis_cpu_us_per_req,redis_used_memory_max,redis_keys_max,\
gen_cpu_percent,gen_max_lag_us,gen_saturated,interrupted,target_lost,\
unfinished,unfinished_max_age_ms,errors_by_kind,errors_by_status,dropped,dropped_oldest_age_ms,\
stalls,stalled_s,stopped_answering_at_s,stopped_answering_for_s,stopped_answering_cause";

/// `kind=n` pairs joined by spaces (one CSV cell, no commas).
fn pairs(m: &std::collections::BTreeMap<String, u64>) -> String {
    m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

/// `summary.csv`: one row per endpoint, run-level figures repeated on each.
pub fn write_summary_csv(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    writeln!(w, "{SUMMARY_CSV_HEADER}")?;
    for (name, e) in &s.endpoints {
        let l = e.latency_us.as_ref();
        let u = e.uncorrected_latency_us.as_ref();
        let cells = [
            s.scheme.clone(),
            s.model.clone(),
            name.as_str().to_owned(),
            e.count.to_string(),
            e.errors.to_string(),
            format!("{:.6}", e.error_rate),
            format!("{:.3}", e.rps),
            opt(l.map(|l| l.p50)),
            opt(l.map(|l| l.p90)),
            opt(l.map(|l| l.p95)),
            opt(l.map(|l| l.p99)),
            opt(l.map(|l| l.p999)),
            opt(l.map(|l| l.max)),
            f(l.map(|l| l.mean)),
            opt(u.map(|l| l.p50)),
            opt(u.map(|l| l.p99)),
            opt(u.map(|l| l.max)),
            format!("{:.1}", e.bytes_sent_per_req),
            format!("{:.1}", e.bytes_received_per_req),
            f(e.credential_bytes_per_req),
            format!("{:.3}", s.duration_s),
            f(s.server.cpu_us_per_req),
            opt(s.server.rss_bytes_max),
            f(s.redis.cpu_us_per_req),
            opt(s.redis.used_memory_max),
            opt(s.redis.keys_max),
            format!("{:.1}", s.generator.cpu_percent),
            s.generator.max_lag_us.to_string(),
            s.generator.saturated.to_string(),
            s.interrupted.to_string(),
            s.target_lost.to_string(),
            e.unfinished.to_string(),
            f(e.unfinished_max_age_ms),
            pairs(&e.errors_by_kind),
            pairs(&e.errors_by_status),
            opt(s.open.as_ref().map(|o| o.dropped)),
            f(s.open.as_ref().and_then(|o| o.dropped_oldest_age_ms)),
            s.stalls.len().to_string(),
            format!("{:.3}", s.stalls.iter().map(|st| st.duration_s).sum::<f64>()),
            f(s.stopped_answering.as_ref().map(|st| st.at_s)),
            f(s.stopped_answering.as_ref().map(|st| st.for_s)),
            s.stopped_answering.as_ref().map(|st| st.cause.as_str().to_owned()).unwrap_or_default(),
        ];
        writeln!(w, "{}", cells.join(","))?;
    }
    Ok(())
}

/// The files of `--out DIR`.
pub struct Outputs {
    dir: PathBuf,
    timeseries: BufWriter<File>,
    hlogs: Vec<(Endpoint, Series, HlogWriter<BufWriter<File>>)>,
}

impl Outputs {
    /// Create the directory and open every file. Called only after all input was validated.
    pub fn create(
        dir: &Path,
        endpoints: &[Endpoint],
        open_model: bool,
        start: SystemTime,
    ) -> Result<Outputs> {
        std::fs::create_dir_all(dir).map_err(Error::output(dir))?;
        let path = dir.join(file::TIMESERIES);
        let mut timeseries = BufWriter::new(File::create(&path).map_err(Error::output(&path))?);
        writeln!(timeseries, "{}", timeseries_header()).map_err(Error::output(&path))?;
        let mut hlogs = Vec::new();
        for &e in endpoints {
            let series: &[Series] =
                if open_model { &[Series::Latency, Series::Uncorrected] } else { &[Series::Latency] };
            for &s in series {
                let (name, what) = match s {
                    Series::Latency => (file::hlog(e.as_str()), e.as_str().to_owned()),
                    Series::Uncorrected => (
                        file::hlog_uncorrected(e.as_str()),
                        format!("{} (uncorrected: from actual send)", e.as_str()),
                    ),
                };
                let path = dir.join(name);
                let file = BufWriter::new(File::create(&path).map_err(Error::output(&path))?);
                hlogs.push((e, s, HlogWriter::begin(file, &what, start).map_err(Error::output(&path))?));
            }
        }
        Ok(Outputs { dir: dir.to_owned(), timeseries, hlogs })
    }

    /// Append a second: its row and each endpoint's interval histogram; then flush everything.
    fn write_second(&mut self, s: &Second<'_>) -> Result<()> {
        let (row, stats, offset, length) = (s.row, s.stats, s.offset, s.length);
        let ts = self.dir.join(file::TIMESERIES);
        write_row(&mut self.timeseries, row)
            .and_then(|()| self.timeseries.flush())
            .map_err(Error::output(&ts))?;
        for (e, s, log) in &mut self.hlogs {
            let ep = stats.endpoint(*e);
            let h = match s {
                Series::Latency => &ep.latency,
                Series::Uncorrected => &ep.uncorrected,
            };
            let path = self.dir.join(file::hlog(e.as_str()));
            log.interval(h, offset, length).and_then(|()| log.flush()).map_err(Error::output(&path))?;
        }
        Ok(())
    }

    /// Write summary.json (via a temporary file and rename: never half-written) and summary.csv.
    fn finish(&mut self, summary: &Summary) -> Result<()> {
        let tmp = self.dir.join(format!(".{}.tmp", file::SUMMARY_JSON));
        let path = self.dir.join(file::SUMMARY_JSON);
        let mut w = BufWriter::new(File::create(&tmp).map_err(Error::output(&tmp))?);
        write_summary_json(&mut w, summary).and_then(|()| w.flush()).map_err(Error::output(&tmp))?;
        drop(w);
        std::fs::rename(&tmp, &path).map_err(Error::output(&path))?;
        let path = self.dir.join(file::SUMMARY_CSV);
        let mut w = BufWriter::new(File::create(&path).map_err(Error::output(&path))?);
        write_summary_csv(&mut w, summary).and_then(|()| w.flush()).map_err(Error::output(&path))
    }
}

impl Sink for Outputs {
    fn second(&mut self, second: &Second<'_>) -> Result<()> {
        self.write_second(second)
    }

    fn stop(&mut self, summary: &Summary) -> Result<()> {
        self.finish(summary)
    }
}

/// A run's `timeseries.csv` back into rows, by column name, strictly: a header that is not this
/// version's, a short row or a cell that is not a number is an error naming the file and row.
/// Percentile cells are not read back (merge rebuilds them from the histograms; the lost-request
/// audit does not need them).
pub fn read_timeseries(dir: &Path) -> Result<Vec<Row>> {
    let file = file::TIMESERIES;
    let bad = |dir: &Path, what: &str, why: &dyn std::fmt::Display| {
        Error::BadInput(format!("{}: {what}: {why}", dir.join(what).display()))
    };
    let text = std::fs::read_to_string(dir.join(file)).map_err(|e| bad(dir, file, &e))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    if header.join(",") != timeseries_header() {
        return Err(bad(dir, file, &"its columns are not those of this authbench version"));
    }
    let at = |name: &str| header.iter().position(|h| *h == name).expect("own header has the column");
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != header.len() {
            return Err(bad(
                dir,
                file,
                &format!("row {} has {} cells, not {}: truncated?", n + 1, cells.len(), header.len()),
            ));
        }
        let num = |name: &str| -> Result<f64> {
            cells[at(name)]
                .parse()
                .map_err(|_| bad(dir, file, &format!("row {}: `{name}` is not a number", n + 1)))
        };
        let int = |name: &str| -> Result<u64> {
            cells[at(name)]
                .parse()
                .map_err(|_| bad(dir, file, &format!("row {}: `{name}` is not a count", n + 1)))
        };
        let opt_f = |name: &str| -> Option<f64> { cells[at(name)].parse().ok() };
        let opt_u = |name: &str| -> Option<u64> { cells[at(name)].parse().ok() };
        let mut endpoints: [EndpointRow; 5] = Default::default();
        for (i, e) in Endpoint::ALL.iter().enumerate() {
            let e = e.as_str();
            endpoints[i] = EndpointRow {
                count: int(&format!("{e}_count"))?,
                rps: num(&format!("{e}_rps"))?,
                latency: None::<crate::summary::Latency>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_have_as_many_cells_as_the_header() {
        let header = timeseries_header();
        let mut row =
            Row { t_s: 1.0, interval_s: 1.0, stage: 1, target: 10.0, active_vus: 10, ..Row::default() };
        row.endpoints[2].latency =
            Some(crate::summary::Latency { p50: 1, p90: 2, p95: 9, p99: 3, p999: 4, max: 5, mean: 1.5 });
        row.server_rss_bytes = Some(4096);
        let mut buf = Vec::new();
        write_row(&mut buf, &row).unwrap();
        let line = String::from_utf8(buf).unwrap();
        assert_eq!(line.trim_end().split(',').count(), header.split(',').count(), "{header}\n{line}");
        assert!(header.starts_with("t_s,interval_s,stage,target,active_vus,healthz_count,healthz_rps,"));
        assert!(line.contains(",1,2,3,4,5,"), "{line}");
    }

    #[test]
    fn summary_csv_has_one_row_per_endpoint() {
        let s: Summary = serde_json::from_str(SAMPLE).unwrap();
        let mut buf = Vec::new();
        write_summary_csv(&mut buf, &s).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].split(',').count(), SUMMARY_CSV_HEADER.split(',').count());
        assert!(lines[1].starts_with("jwt,closed,me,10,1,"), "{}", lines[1]);
        // p50, p90, p95, p99, p999 side by side.
        assert!(lines[1].contains(",1,2,7,3,4,5,"), "{}", lines[1]);
        let mut buf = Vec::new();
        write_text_summary(&mut buf, &s).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains(" p90 ") && text.contains(" p95 "), "{text}");
        assert!(text.contains("0.00ms    0.01ms"), "{text}");
    }

    const SAMPLE: &str = r#"{"scheme":"jwt","model":"closed","target":"127.0.0.1:1","duration_s":1.0,"started_at":0.0,
      "vus_max":1,"interrupted":false,"target_lost":false,
      "endpoints":{"me":{"count":10,"errors":1,"errors_by_kind":{"timeout":1},"error_rate":0.09,"rps":10.0,
        "latency_us":{"p50":1,"p90":2,"p95":7,"p99":3,"p999":4,"max":5,"mean":2.0},"uncorrected_latency_us":null,
        "bytes_sent_per_req":100.0,"bytes_received_per_req":200.0,"credential_bytes_per_req":180.0}},
      "total":{"count":10,"errors":1,"error_rate":0.09,"rps":10.0,"bytes_sent_per_req":100.0,"bytes_received_per_req":200.0},
      "open":null,"server":{"pid":null,"cpu_us_per_req":null,"cpu_percent":null,"rss_bytes_max":null,"rss_bytes_start":null},
      "redis":{"cpu_us_per_req":null,"used_memory_max":null,"used_memory_start":null,"keys_max":null},
      "generator":{"cpu_percent":50.0,"cores":2,"max_lag_us":100,"saturated_seconds":0,"saturated":false},"thresholds":[]}"#;
}
