//! Writers for a run's files. Each takes `impl Write`, so each is unit-tested into a `Vec<u8>`;
//! [`Outputs`] binds them to files in `--out DIR` and flushes after every second.
//!
//! - `timeseries.csv`: one [`Row`] per second, columns in [`timeseries_header`].
//! - `summary.json` (written last, atomically) and `summary.csv` (one row per endpoint).
//! - `<endpoint>.hlog` (and `<endpoint>.uncorrected.hlog` in the open model): HdrHistogram
//!   interval logs (V2, deflate-compressed), µs, one interval per second.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;

use crate::error::{Error, Result};
use crate::record::{Endpoint, ErrorKind};
use crate::summary::{Latency, Summary};

/// One endpoint within one second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointRow {
    /// Successful requests in the interval.
    pub count: u64,
    /// Successful requests per second.
    pub rps: f64,
    /// Latency percentiles of the second (None if no request finished).
    pub latency: Option<Latency>,
    /// Open model: uncorrected p99.
    pub p99_uncorrected: Option<u64>,
    pub errors: u64,
}

/// One second of the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// Seconds since the load started, at the end of this interval.
    pub t_s: f64,
    pub interval_s: f64,
    /// 1-based stage number.
    pub stage: usize,
    /// The load model's target at `t_s`: virtual users (closed) or requests/s (open).
    pub target: f64,
    pub active_vus: u64,
    pub endpoints: [EndpointRow; 5],
    pub errors: [u64; ErrorKind::COUNT],
    pub late_starts: u64,
    pub bytes_sent_per_req: Option<f64>,
    pub bytes_received_per_req: Option<f64>,
    pub server_rss_bytes: Option<u64>,
    pub server_cpu_us_per_req: Option<f64>,
    pub redis_used_memory: Option<u64>,
    pub redis_keys: Option<u64>,
    pub redis_cpu_us_per_req: Option<f64>,
    pub gen_cpu_percent: Option<f64>,
    pub gen_lag_max_us: u64,
    pub gen_saturated: bool,
}

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
    for k in ErrorKind::ALL {
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
        ]
        .map(String::from),
    );
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
    cells.extend(r.errors.iter().map(u64::to_string));
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
    ]);
    writeln!(w, "{}", cells.join(","))
}

/// `summary.json`, pretty-printed.
pub fn write_summary_json(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, s).map_err(io::Error::other)?;
    writeln!(w)
}

/// Columns of `summary.csv`.
pub const SUMMARY_CSV_HEADER: &str = "scheme,model,endpoint,count,errors,error_rate,rps,p50_us,p90_us,p99_us,p999_us,max_us,mean_us,\
uncorrected_p50_us,uncorrected_p99_us,uncorrected_max_us,bytes_sent_per_req,bytes_received_per_req,credential_bytes_per_req,\
duration_s,server_cpu_us_per_req,server_rss_bytes_max,redis_cpu_us_per_req,redis_used_memory_max,redis_keys_max,\
gen_cpu_percent,gen_max_lag_us,gen_saturated,interrupted,target_lost";

/// `summary.csv`: one row per endpoint, run-level figures repeated on each.
pub fn write_summary_csv(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    writeln!(w, "{SUMMARY_CSV_HEADER}")?;
    for (name, e) in &s.endpoints {
        let l = e.latency_us.as_ref();
        let u = e.uncorrected_latency_us.as_ref();
        let cells = [
            s.scheme.clone(),
            s.model.clone(),
            name.clone(),
            e.count.to_string(),
            e.errors.to_string(),
            format!("{:.6}", e.error_rate),
            format!("{:.3}", e.rps),
            opt(l.map(|l| l.p50)),
            opt(l.map(|l| l.p90)),
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
        ];
        writeln!(w, "{}", cells.join(","))?;
    }
    Ok(())
}

/// A human-readable summary (what `authbench load` prints on stdout).
pub fn write_text_summary(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    writeln!(
        w,
        "authbench load: scheme {} · {} model · {:.1} s{}",
        s.scheme,
        s.model,
        s.duration_s,
        if s.interrupted { " · INTERRUPTED" } else { "" }
    )?;
    writeln!(
        w,
        "{:<9} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "endpoint", "ok", "errors", "rps", "p50", "p99", "p999", "max"
    )?;
    let ms = |us: u64| format!("{:.2}ms", us as f64 / 1000.0);
    for (name, e) in &s.endpoints {
        let l = e.latency_us.as_ref();
        writeln!(
            w,
            "{:<9} {:>9} {:>7} {:>10.1} {:>9} {:>9} {:>9} {:>9}",
            name,
            e.count,
            e.errors,
            e.rps,
            l.map(|l| ms(l.p50)).unwrap_or_default(),
            l.map(|l| ms(l.p99)).unwrap_or_default(),
            l.map(|l| ms(l.p999)).unwrap_or_default(),
            l.map(|l| ms(l.max)).unwrap_or_default(),
        )?;
        if let Some(u) = &e.uncorrected_latency_us {
            writeln!(
                w,
                "{:<9} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9}",
                "  uncorr.",
                "",
                "",
                "",
                ms(u.p50),
                ms(u.p99),
                ms(u.p999),
                ms(u.max)
            )?;
        }
        for (kind, n) in &e.errors_by_kind {
            writeln!(w, "{:<9}   {n} × {kind}", "")?;
        }
    }
    if let Some(o) = &s.open {
        writeln!(
            w,
            "open model: {} scheduled, {} started, {} late, {} dropped",
            o.scheduled, o.started, o.late, o.dropped
        )?;
    }
    if let Some(cpu) = s.server.cpu_us_per_req {
        writeln!(
            w,
            "server: {cpu:.1} µs CPU/request, RSS max {} KiB",
            s.server.rss_bytes_max.unwrap_or(0) / 1024
        )?;
    }
    if let Some(cpu) = s.redis.cpu_us_per_req {
        writeln!(
            w,
            "redis: {cpu:.1} µs CPU/request, used_memory max {} KiB, keys max {}",
            s.redis.used_memory_max.unwrap_or(0) / 1024,
            s.redis.keys_max.unwrap_or(0)
        )?;
    }
    writeln!(
        w,
        "generator: {:.0}% CPU of {} cores, max timer lag {:.1} ms{}",
        s.generator.cpu_percent,
        s.generator.cores,
        s.generator.max_lag_us as f64 / 1000.0,
        if s.generator.saturated {
            format!(
                " — SATURATED in {} s: the generator may be the bottleneck",
                s.generator.saturated_seconds
            )
        } else {
            String::new()
        }
    )?;
    if s.target_lost {
        writeln!(w, "TARGET LOST: the server stopped answering during the run")?;
    }
    for v in &s.thresholds {
        writeln!(
            w,
            "threshold {} {} (actual {})",
            v.threshold,
            if v.ok { "ok" } else { "FAILED" },
            v.actual.map_or("no data".to_owned(), |a| format!("{a:.3}"))
        )?;
    }
    Ok(())
}

/// Legend line Java's HistogramLogReader expects after the header comments.
const HLOG_LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";

/// An HdrHistogram interval log being written.
pub struct HlogWriter<W: Write> {
    w: W,
    serializer: V2DeflateSerializer,
}

impl<W: Write> HlogWriter<W> {
    /// Write the header: a comment naming the endpoint and unit, StartTime and BaseTime.
    pub fn begin(mut w: W, what: &str, start: SystemTime) -> io::Result<HlogWriter<W>> {
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment(&format!("authbench load: {what}, latency in microseconds"))
            .with_start_time(start)
            .with_base_time(start)
            .begin_log_with(&mut w, &mut serializer)?;
        writeln!(w, "{HLOG_LEGEND}")?;
        Ok(HlogWriter { w, serializer })
    }

    /// Append one interval starting `offset` after the start.
    pub fn interval(&mut self, h: &Histogram<u64>, offset: Duration, length: Duration) -> io::Result<()> {
        let mut log = IntervalLogWriterBuilder::new().begin_log_with(&mut self.w, &mut self.serializer)?;
        log.write_histogram(h, offset, length, None).map_err(|e| io::Error::other(e.to_string()))
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// Which histogram of an endpoint a log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    Latency,
    Uncorrected,
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
        let path = dir.join("timeseries.csv");
        let mut timeseries = BufWriter::new(File::create(&path).map_err(Error::output(&path))?);
        writeln!(timeseries, "{}", timeseries_header()).map_err(Error::output(&path))?;
        let mut hlogs = Vec::new();
        for &e in endpoints {
            let series: &[Series] =
                if open_model { &[Series::Latency, Series::Uncorrected] } else { &[Series::Latency] };
            for &s in series {
                let (name, what) = match s {
                    Series::Latency => (format!("{}.hlog", e.as_str()), e.as_str().to_owned()),
                    Series::Uncorrected => (
                        format!("{}.uncorrected.hlog", e.as_str()),
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
    pub fn second(
        &mut self,
        row: &Row,
        stats: &crate::record::Stats,
        offset: Duration,
        length: Duration,
    ) -> Result<()> {
        let ts = self.dir.join("timeseries.csv");
        write_row(&mut self.timeseries, row)
            .and_then(|()| self.timeseries.flush())
            .map_err(Error::output(&ts))?;
        for (e, s, log) in &mut self.hlogs {
            let ep = stats.endpoint(*e);
            let h = match s {
                Series::Latency => &ep.latency,
                Series::Uncorrected => &ep.uncorrected,
            };
            let path = self.dir.join(format!("{}.hlog", e.as_str()));
            log.interval(h, offset, length).and_then(|()| log.flush()).map_err(Error::output(&path))?;
        }
        Ok(())
    }

    /// Write summary.json (via a temporary file and rename: never half-written) and summary.csv.
    pub fn finish(&mut self, summary: &Summary) -> Result<()> {
        let tmp = self.dir.join(".summary.json.tmp");
        let path = self.dir.join("summary.json");
        let mut w = BufWriter::new(File::create(&tmp).map_err(Error::output(&tmp))?);
        write_summary_json(&mut w, summary).and_then(|()| w.flush()).map_err(Error::output(&tmp))?;
        drop(w);
        std::fs::rename(&tmp, &path).map_err(Error::output(&path))?;
        let path = self.dir.join("summary.csv");
        let mut w = BufWriter::new(File::create(&path).map_err(Error::output(&path))?);
        write_summary_csv(&mut w, summary).and_then(|()| w.flush()).map_err(Error::output(&path))
    }
}

/// Every interval of an `.hlog` (as [`HlogWriter`] writes it) merged into one histogram. Strict:
/// an entry that does not parse is an error, so a reader never silently under-counts.
pub fn read_hlog(bytes: &[u8]) -> io::Result<Histogram<u64>> {
    let bad = |e: String| io::Error::new(io::ErrorKind::InvalidData, format!("hlog: {e}"));
    let mut merged = crate::record::new_histogram();
    for i in read_hlog_intervals(bytes)? {
        merged.add(&i.histogram).map_err(|e| bad(format!("{e:?}")))?;
    }
    Ok(merged)
}

/// One interval of an `.hlog`: when it started (seconds after the log's start), how long it
/// lasted, and its histogram.
#[derive(Debug, Clone)]
pub struct HlogInterval {
    pub start_s: f64,
    pub length_s: f64,
    pub histogram: Histogram<u64>,
}

impl HlogInterval {
    /// Seconds after the log's start at which the interval ended (`t_s` of its timeseries row).
    pub fn end_s(&self) -> f64 {
        self.start_s + self.length_s
    }
}

/// Every interval of an `.hlog` in file order (one per second of the run), for percentiles of
/// merged histograms over a part of a run. Strict like [`read_hlog`].
pub fn read_hlog_intervals(bytes: &[u8]) -> io::Result<Vec<HlogInterval>> {
    use base64::Engine;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let bad = |e: String| io::Error::new(io::ErrorKind::InvalidData, format!("hlog: {e}"));
    let mut out = Vec::new();
    let mut de = Deserializer::new();
    for entry in IntervalLogIterator::new(bytes) {
        if let LogEntry::Interval(i) = entry.map_err(|e| bad(format!("{e:?}")))? {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(i.encoded_histogram().trim())
                .map_err(|e| bad(e.to_string()))?;
            let h: Histogram<u64> = de.deserialize(&mut raw.as_slice()).map_err(|e| bad(format!("{e:?}")))?;
            out.push(HlogInterval {
                start_s: i.start_timestamp().as_secs_f64(),
                length_s: i.duration().as_secs_f64(),
                histogram: h,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::new_histogram;

    #[test]
    fn rows_have_as_many_cells_as_the_header() {
        let header = timeseries_header();
        let mut row =
            Row { t_s: 1.0, interval_s: 1.0, stage: 1, target: 10.0, active_vus: 10, ..Row::default() };
        row.endpoints[2].latency = Some(Latency { p50: 1, p90: 2, p99: 3, p999: 4, max: 5, mean: 1.5 });
        row.server_rss_bytes = Some(4096);
        let mut buf = Vec::new();
        write_row(&mut buf, &row).unwrap();
        let line = String::from_utf8(buf).unwrap();
        assert_eq!(line.trim_end().split(',').count(), header.split(',').count(), "{header}\n{line}");
        assert!(header.starts_with("t_s,interval_s,stage,target,active_vus,healthz_count,healthz_rps,"));
        assert!(line.contains(",1,2,3,4,5,"), "{line}");
    }

    #[test]
    fn hlog_round_trips_through_hdrhistograms_reader() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v).unwrap();
        }
        let mut buf = Vec::new();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut w = HlogWriter::begin(&mut buf, "me", start).unwrap();
        w.interval(&h, Duration::from_secs(0), Duration::from_secs(1)).unwrap();
        w.interval(&h, Duration::from_secs(1), Duration::from_secs(1)).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.contains("#[StartTime: 1700000000.000"), "{text}");
        assert!(text.contains(HLOG_LEGEND));
        assert_eq!(read_hlog(&buf).unwrap().len(), 2000);
        let intervals = read_hlog_intervals(&buf).unwrap();
        assert_eq!(intervals.len(), 2);
        assert_eq!((intervals[1].start_s, intervals[1].end_s()), (1.0, 2.0));
        assert_eq!(intervals[1].histogram.len(), 1000);
        assert!(read_hlog(b"0.0,1.0,1.0,not-base64!\n").is_err(), "a broken interval is an error");
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
        let mut buf = Vec::new();
        write_text_summary(&mut buf, &s).unwrap();
        assert!(String::from_utf8(buf).unwrap().contains("me"));
    }

    const SAMPLE: &str = r#"{"scheme":"jwt","model":"closed","target":"127.0.0.1:1","duration_s":1.0,"started_at":0.0,
      "vus_max":1,"interrupted":false,"target_lost":false,
      "endpoints":{"me":{"count":10,"errors":1,"errors_by_kind":{"timeout":1},"error_rate":0.09,"rps":10.0,
        "latency_us":{"p50":1,"p90":2,"p99":3,"p999":4,"max":5,"mean":2.0},"uncorrected_latency_us":null,
        "bytes_sent_per_req":100.0,"bytes_received_per_req":200.0,"credential_bytes_per_req":180.0}},
      "total":{"count":10,"errors":1,"error_rate":0.09,"rps":10.0,"bytes_sent_per_req":100.0,"bytes_received_per_req":200.0},
      "open":null,"server":{"pid":null,"cpu_us_per_req":null,"cpu_percent":null,"rss_bytes_max":null,"rss_bytes_start":null},
      "redis":{"cpu_us_per_req":null,"used_memory_max":null,"used_memory_start":null,"keys_max":null},
      "generator":{"cpu_percent":50.0,"cores":2,"max_lag_us":100,"saturated_seconds":0,"saturated":false},"thresholds":[]}"#;
}
