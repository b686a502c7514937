//! HdrHistogram interval logs (`<endpoint>.hlog`, V2, deflate-compressed, µs, one interval per
//! second): [`HlogWriter`] writes them over `impl Write`; [`read_hlog`] reads one back merged,
//! [`read_hlog_intervals`] second by second.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;

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
}
