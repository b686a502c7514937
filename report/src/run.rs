//! Rows of the results folder taken from one load run's typed output
//! (`authbench_loadgen::Recorded`, its `Summary`), never from its files: the one place a run's
//! output becomes a result row (vegeta's reporters folding over one result type).

use std::time::Duration;

use authbench_loadgen::output::Row;
use authbench_loadgen::record::Endpoint;
use authbench_loadgen::summary::{Latency, Summary};

use crate::data::RampRow;
use crate::saturation::LoadStepRow;

/// Successful answers of the run's main endpoint per second of `planned`, the length the run was
/// scheduled for: not over `duration_s`, which also holds the end-of-run wait for users to
/// retire (on a 1-2 s step a few tens of ms of that wait pushed a sustained rate below 95% of the
/// offered one).
pub fn achieved_rps(s: &Summary, planned: Duration) -> f64 {
    let count = s.main().map_or(0, |e| e.count);
    let planned_s = planned.as_secs_f64();
    if planned_s > 0.0 { count as f64 / planned_s } else { 0.0 }
}

/// A percentile of the main endpoint's corrected latency, µs.
pub fn main_latency_us(s: &Summary, f: fn(&Latency) -> u64) -> Option<f64> {
    s.main().and_then(|e| e.latency_us.as_ref()).map(|l| f(l) as f64)
}

/// redis-server's busy share of one core over the run, %: its CPU per request times requests
/// per second.
pub fn redis_cpu_pct(s: &Summary) -> Option<f64> {
    let attempts = s.total.count + s.total.errors + s.total.unfinished;
    s.redis.cpu_us_per_req.filter(|_| s.duration_s > 0.0).map(|us| us * attempts as f64 / s.duration_s / 1e4)
}

/// What a fixed-rate run's row holds beside its summary: where it stands in the run, what it was
/// asked (rate, pool, planned length) and how compare judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRun<'a> {
    pub scheme: &'a str,
    pub repeat: u32,
    /// 1-based, in the order run.
    pub step: u32,
    /// Offered rate ÷ the repeat's maximum (CPU-against-load runs only).
    pub share: Option<f64>,
    /// Whether the scheme keeps state in Redis (else its Redis CPU is written as 0: what Redis did
    /// meanwhile was its own background work).
    pub uses_store: bool,
    pub offered_rps: f64,
    pub vus: u64,
    pub planned: Duration,
    /// `ok`, or the limits broken (`throughput+p99`).
    pub limits: String,
    pub machine_cpu_pct: Option<f64>,
}

impl LoadStepRow {
    /// The `saturation.csv` / `cpu_vs_load.csv` row of one fixed-rate run; knee and sustained
    /// are marked by the search afterwards.
    pub fn from_run(at: StepRun<'_>, s: &Summary) -> LoadStepRow {
        let main = s.main();
        let redis = |v: Option<f64>| if at.uses_store { v } else { v.map(|_| 0.0) };
        LoadStepRow {
            scheme: at.scheme.to_owned(),
            repeat: at.repeat,
            step: at.step,
            share: at.share,
            offered_rps: at.offered_rps,
            achieved_rps: achieved_rps(s, at.planned),
            vus: at.vus,
            me_p50_us: main_latency_us(s, |l| l.p50),
            me_p90_us: main_latency_us(s, |l| l.p90),
            me_p99_us: main_latency_us(s, |l| l.p99),
            me_p999_us: main_latency_us(s, |l| l.p999),
            me_p99_uncorrected_us: main.and_then(|e| e.uncorrected_latency_us.as_ref()).map(|l| l.p99 as f64),
            errors: s.failed(),
            dropped: s.open.as_ref().map_or(0, |o| o.dropped),
            server_cpu_us_per_req: s.server.cpu_us_per_req,
            redis_cpu_us_per_req: redis(s.redis.cpu_us_per_req),
            server_cpu_pct: s.server.cpu_percent,
            redis_cpu_pct: redis(redis_cpu_pct(s)),
            generator_cpu_pct: s.generator.cpu_percent,
            generator_lag_ms: s.generator.max_lag_us as f64 / 1000.0,
            generator_saturated: s.generator.saturated,
            limits: at.limits,
            knee: false,
            sustained: false,
            machine_cpu_pct: at.machine_cpu_pct,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use authbench_loadgen::output::{EndpointRow, timeseries_header, write_row};

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
