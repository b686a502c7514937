//! One second of a run as `timeseries.csv` holds it ([`Row`], with an [`EndpointRow`] per
//! endpoint): what the collector closes each second and every sink receives.

use crate::record::ErrorKind;
use crate::summary::Latency;

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
    /// Requests of this endpoint abandoned unanswered when the run ended (only in the last row).
    pub unfinished: u64,
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
    /// Requests in flight at the end of the second, and how long the oldest had waited.
    pub in_flight: u64,
    pub oldest_in_flight_ms: Option<f64>,
    /// Requests outstanding and no answer all second.
    pub stalled: bool,
    /// Requests abandoned unanswered when the run ended (only in the last row).
    pub unfinished: u64,
    /// Open model: arrivals due and never sent when the run ended (only in the last row).
    pub dropped: u64,
}
