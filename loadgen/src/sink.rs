//! Where a run's measurements go while it runs, k6's output model (start, samples, stop): the
//! files of `--out` ([`crate::output::Outputs`]), the live progress line
//! ([`crate::progress::Progress`]) and the `--metrics-addr` exposition ([`MetricsSink`]). The
//! collector hands every sink each closed second and, at the end, the summary; it knows none of
//! them by name.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::metrics::Metrics;
use crate::record::{Endpoint, Stats};
use crate::row::Row;
use crate::summary::Summary;

/// One closed second of the run, as every sink sees it.
pub struct Second<'a> {
    /// The `timeseries.csv` row of the second.
    pub row: &'a Row,
    /// Its histograms and counts, per endpoint.
    pub stats: &'a Stats,
    /// Where the second starts on the load's clock, and how long it was.
    pub offset: Duration,
    pub length: Duration,
}

/// A destination of a run's measurements.
pub trait Sink: Send {
    /// A second has closed.
    fn second(&mut self, second: &Second<'_>) -> Result<()>;

    /// The load has ended; the summary is being built.
    fn load_ended(&mut self) {}

    /// The run's summary, once, at the very end.
    fn stop(&mut self, _summary: &Summary) -> Result<()> {
        Ok(())
    }
}

/// `--metrics-addr`: each second folded into the counters and histograms the listener serves.
pub struct MetricsSink {
    pub metrics: Arc<Metrics>,
    pub endpoints: Vec<Endpoint>,
}

impl Sink for MetricsSink {
    fn second(&mut self, s: &Second<'_>) -> Result<()> {
        let r = s.row;
        self.metrics.update(s.stats, &self.endpoints, r.active_vus, r.gen_lag_max_us, r.gen_cpu_percent);
        Ok(())
    }
}
