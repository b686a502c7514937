//! `--metrics-addr`: live metrics of a running test as a Prometheus text exposition
//! (`GET /metrics`, OpenMetrics text via `prometheus-client`), so a Grafana user can watch a long run.
//!
//! Built from the per-second snapshots the collector already takes: once a second the interval's
//! per-endpoint HdrHistograms and counters are folded into the metrics ([`Metrics::update`]);
//! nothing is added to the request path. Exposed:
//! - `authbench_requests_total{endpoint}`: successful (2xx) requests;
//! - `authbench_errors_total{endpoint,kind}`: failed requests by kind;
//! - `authbench_request_duration_seconds{endpoint}`: latency histogram (open model: corrected,
//!   from the intended send time), fixed buckets from 0.5 ms to 10 s;
//! - `authbench_active_users`: virtual users alive;
//! - `authbench_generator_lag_seconds`: worst timer lag of the generator in the last second;
//! - `authbench_generator_cpu_ratio`: the generator's CPU in the last second, in cores.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::record::{Endpoint, ErrorKind, Stats};

/// Upper bounds of the latency buckets, seconds (the last bucket, +Inf, is implicit).
pub const BUCKETS_S: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    endpoint: &'static str,
    kind: &'static str,
}

/// A Prometheus histogram fed whole HdrHistograms (one per second), not single observations.
#[derive(Debug, Default)]
struct HdrBuckets(Mutex<Buckets>);

#[derive(Debug, Default)]
struct Buckets {
    /// Per bucket (not cumulative), the last one +Inf.
    counts: [u64; BUCKETS_S.len() + 1],
    sum_s: f64,
    count: u64,
}

impl HdrBuckets {
    /// Add every value of `h` (µs).
    fn add(&self, h: &Histogram<u64>) {
        if h.is_empty() {
            return;
        }
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for v in h.iter_recorded() {
            let s = h.highest_equivalent(v.value_iterated_to()) as f64 / 1e6;
            let i = BUCKETS_S.iter().position(|&le| s <= le).unwrap_or(BUCKETS_S.len());
            b.counts[i] += v.count_at_value();
        }
        b.sum_s += h.mean() * h.len() as f64 / 1e6;
        b.count += h.len();
    }
}

impl EncodeMetric for HdrBuckets {
    fn encode(&self, mut encoder: MetricEncoder) -> std::result::Result<(), std::fmt::Error> {
        let b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let buckets: Vec<(f64, u64)> =
            BUCKETS_S.iter().copied().chain([f64::INFINITY]).zip(b.counts.iter().copied()).collect();
        encoder.encode_histogram::<NoLabelSet>(b.sum_s, b.count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

impl TypedMetric for HdrBuckets {
    const TYPE: MetricType = MetricType::Histogram;
}

/// The live metrics of one run.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<EndpointLabel, Counter>,
    errors: Family<ErrorLabels, Counter>,
    latency: Family<EndpointLabel, HdrBuckets>,
    active: Gauge,
    lag_s: Gauge<f64, AtomicU64>,
    cpu: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("authbench");
        let m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            errors: Family::default(),
            latency: Family::default(),
            active: Gauge::default(),
            lag_s: Gauge::default(),
            cpu: Gauge::default(),
        };
        registry.register("requests", "Successful (2xx) requests", m.requests.clone());
        registry.register("errors", "Failed requests by kind", m.errors.clone());
        registry.register(
            "request_duration_seconds",
            "Request latency (open model: from the intended send time)",
            m.latency.clone(),
        );
        registry.register("active_users", "Virtual users alive", m.active.clone());
        registry.register(
            "generator_lag_seconds",
            "Worst timer lag of the load generator in the last second",
            m.lag_s.clone(),
        );
        registry.register(
            "generator_cpu_ratio",
            "Load generator CPU in the last second, in cores",
            m.cpu.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Fold one second's snapshot in (called by the collector once a second).
    pub fn update(
        &self,
        interval: &Stats,
        endpoints: &[Endpoint],
        active: u64,
        lag_us: u64,
        cpu_percent: Option<f64>,
    ) {
        for &e in endpoints {
            let s = interval.endpoint(e);
            let label = EndpointLabel { endpoint: e.as_str() };
            self.requests.get_or_create(&label).inc_by(s.count());
            self.latency.get_or_create(&label).add(&s.latency);
            for kind in ErrorKind::ALL {
                let n = s.errors[kind as usize];
                if n > 0 {
                    self.errors
                        .get_or_create(&ErrorLabels { endpoint: e.as_str(), kind: kind.as_str() })
                        .inc_by(n);
                }
            }
        }
        self.active.set(active as i64);
        self.lag_s.set(lag_us as f64 / 1e6);
        if let Some(c) = cpu_percent {
            self.cpu.set(c / 100.0);
        }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Serve `GET /metrics` (any path, in fact) on `addr` until `stop`; returns the bound address.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>, stop: CancellationToken) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::BadInput(format!("--metrics-addr {addr}: cannot listen: {e}")))?;
    let bound =
        listener.local_addr().map_err(|source| Error::Os { what: "read the metrics address", source })?;
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
                () = stop.cancelled() => return,
            };
            let metrics = metrics.clone();
            let service = hyper::service::service_fn(move |_req| {
                let body = metrics.encode();
                async move {
                    http::Response::builder()
                        .header(
                            http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )
                        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                }
            });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::new_histogram;

    #[test]
    fn a_second_of_snapshots_becomes_counters_and_a_cumulative_histogram() {
        let m = Metrics::new();
        let mut stats = Stats::default();
        let me = &mut stats.endpoints[Endpoint::Me as usize];
        me.latency = new_histogram();
        for us in [300, 800, 800, 4_000, 2_000_000] {
            me.latency.record(us).unwrap();
        }
        me.errors[ErrorKind::Timeout as usize] = 2;
        m.update(&stats, &[Endpoint::Me], 7, 1_500, Some(50.0));
        m.update(&stats, &[Endpoint::Me], 9, 0, None);
        let text = m.encode();
        assert!(text.contains("authbench_requests_total{endpoint=\"me\"} 10\n"), "{text}");
        assert!(text.contains("authbench_errors_total{endpoint=\"me\",kind=\"timeout\"} 4\n"), "{text}");
        assert!(text.contains("authbench_active_users 9\n"), "{text}");
        assert!(text.contains("authbench_generator_cpu_ratio 0.5\n"), "{text}");
        // Cumulative: 2 values ≤ 0.5 ms... per update, 6 ≤ 1 ms, 8 ≤ 5 ms, 10 in all.
        for (le, n) in [("0.0005", 2), ("0.001", 6), ("0.005", 8), ("2.5", 10), ("+Inf", 10)] {
            let line =
                format!("authbench_request_duration_seconds_bucket{{le=\"{le}\",endpoint=\"me\"}} {n}\n");
            assert!(text.contains(&line), "{line} not in {text}");
        }
        assert!(text.contains("authbench_request_duration_seconds_count{endpoint=\"me\"} 10\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
