//! The ramp's rows and figures: one `ramp.csv` row per second of the run (as `timeseries.csv`
//! rounds it), and the run's `summary.csv` metrics.

use authbench_loadgen::Endpoint;
use authbench_loadgen::Row;
use authbench_loadgen::Summary;

use crate::data::RampRow;
use crate::metric::Metric;

/// `x` as `timeseries.csv` writes it with `decimals` places (`{:.N}`), so `ramp.csv` holds the
/// same figures as the run's own file.
fn as_written(x: f64, decimals: usize) -> f64 {
    format!("{x:.decimals$}").parse().unwrap_or(x)
}

impl RampRow {
    /// One second of a ramp run; `None` for a second in which no `/api/me` request finished
    /// (it has no latency to plot).
    pub fn from_second(scheme: &str, repeat: u32, second: &Row) -> Option<RampRow> {
        let me = &second.endpoints[Endpoint::Me as usize];
        let latency = me.latency.as_ref()?;
        Some(RampRow {
            scheme: scheme.to_owned(),
            repeat,
            t_s: as_written(second.t_s, 3),
            active_vus: second.active_vus,
            me_rps: as_written(me.rps, 1),
            me_p50_us: latency.p50 as f64,
            me_p99_us: latency.p99 as f64,
            errors: me.errors,
            server_cpu_us_per_req: second.server_cpu_us_per_req.map(|v| as_written(v, 3)),
            redis_cpu_us_per_req: second.redis_cpu_us_per_req.map(|v| as_written(v, 3)),
            server_rss_bytes: second.server_rss_bytes.map(|v| v as f64),
            redis_used_memory: second.redis_used_memory.map(|v| v as f64),
        })
    }
}

/// The ramp's `summary.csv` metrics: peak `/api/me` throughput over its seconds with users
/// (`rows`), its latency, login and refresh medians, server RSS and Redis memory peaks.
pub fn ramp_metrics(rows: &[RampRow], s: &Summary) -> Vec<(Metric, f64)> {
    let mut m = Vec::new();
    if let Some(max) = rows.iter().filter(|row| row.active_vus > 0).map(|row| row.me_rps).reduce(f64::max) {
        m.push((Metric::MeRpsMax, max));
    }
    if let Some(l) = s.endpoint(Endpoint::Me).and_then(|e| e.latency_us.as_ref()) {
        m.push((Metric::MeP50, l.p50 as f64));
        m.push((Metric::MeP99, l.p99 as f64));
    }
    for (endpoint, metric) in [(Endpoint::Login, Metric::LoginP50), (Endpoint::Refresh, Metric::RefreshP50)] {
        if let Some(l) = s.endpoint(endpoint).and_then(|e| e.latency_us.as_ref()) {
            m.push((metric, l.p50 as f64));
        }
    }
    if let Some(rss) = s.server.rss_bytes_max {
        m.push((Metric::ServerRssMax, rss as f64));
    }
    if let Some(mem) = s.redis.used_memory_max {
        m.push((Metric::RedisMemoryMax, mem as f64));
    }
    m
}

#[cfg(test)]
mod tests {
    use authbench_loadgen::Latency;
    use authbench_loadgen::{EndpointRow, timeseries_header, write_row};

    use super::*;

    fn second(latency: Option<Latency>) -> Row {
        let mut row = Row {
            t_s: 2.000_123_4,
            active_vus: 40,
            server_cpu_us_per_req: Some(9.876_54),
            server_rss_bytes: Some(12_345_678),
            ..Row::default()
        };
        row.endpoints[Endpoint::Me as usize] =
            EndpointRow { count: 1234, rps: 1233.96, latency, errors: 2, ..EndpointRow::default() };
        row
    }

    /// The typed conversion gives what reading the written `timeseries.csv` back by column name
    /// gave before: the same numbers at the file's precision.
    #[test]
    fn same_figures_as_the_written_timeseries() {
        let latency = Latency { p50: 180, p90: 250, p95: 400, p99: 900, p999: 1500, max: 2000, mean: 200.0 };
        let row = second(Some(latency));
        let mut csv = format!("{}\n", timeseries_header()).into_bytes();
        write_row(&mut csv, &row).unwrap();
        let mut reader = csv::Reader::from_reader(&csv[..]);
        let headers = reader.headers().unwrap().clone();
        let record = reader.records().next().unwrap().unwrap();
        let col =
            |name: &str| -> f64 { record[headers.iter().position(|h| h == name).unwrap()].parse().unwrap() };
        let r = RampRow::from_second("jwt", 2, &row).unwrap();
        assert_eq!(r.t_s, col("t_s"));
        assert_eq!(r.active_vus as f64, col("active_vus"));
        assert_eq!(r.me_rps, col("me_rps"));
        assert_eq!(r.me_p50_us, col("me_p50_us"));
        assert_eq!(r.me_p99_us, col("me_p99_us"));
        assert_eq!(r.errors as f64, col("me_errors"));
        assert_eq!(r.server_cpu_us_per_req, Some(col("server_cpu_us_per_req")));
        assert_eq!(r.server_rss_bytes, Some(col("server_rss_bytes")));
        assert_eq!((r.redis_cpu_us_per_req, r.redis_used_memory), (None, None));
        assert_eq!((r.scheme.as_str(), r.repeat), ("jwt", 2));
    }

    #[test]
    fn a_second_without_me_latency_is_skipped() {
        assert_eq!(RampRow::from_second("jwt", 1, &second(None)), None);
    }
}
