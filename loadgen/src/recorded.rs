//! What one run recorded beyond its [`Summary`], handed back in memory by
//! [`crate::load::run_recorded`]: the rows `timeseries.csv` holds and the histograms the `.hlog`
//! intervals add up to, so a caller (e.g. `compare`) never reads its own run's files back.

use hdrhistogram::Histogram;

use crate::output::Row;
use crate::record::Endpoint;
use crate::summary::Summary;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub summary: Summary,
    /// One row per second, exactly those written to `timeseries.csv` (unrounded).
    pub seconds: Vec<Row>,
    /// Each endpoint's latency over the whole run, µs (corrected in the open model): the sum of
    /// its `.hlog` intervals.
    pub latency: Vec<(Endpoint, Histogram<u64>)>,
}

impl Recorded {
    /// The whole-run latency histogram of `endpoint`, if the run drove it.
    pub fn latency(&self, endpoint: Endpoint) -> Option<&Histogram<u64>> {
        self.latency.iter().find(|(e, _)| *e == endpoint).map(|(_, h)| h)
    }
}
