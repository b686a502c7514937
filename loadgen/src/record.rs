//! Recording on the hot path: per-shard HdrHistograms, merged once a second.
//!
//! Each virtual user records into one of a few [`Shard`]s (its index modulo the shard count),
//! behind an uncontended mutex; the collector drains every shard into an interval once a second,
//! and the interval into the run's totals. Nothing is stored per request: memory is a fixed number
//! of histograms however long the run.

use std::sync::Mutex;

use hdrhistogram::Histogram;

/// Highest latency recorded exactly, in µs (10 minutes); larger values saturate to it.
pub const MAX_LATENCY_US: u64 = 600_000_000;
/// Significant digits of every histogram.
pub const SIGFIG: u8 = 3;

/// Tagged endpoints, one histogram each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    Healthz,
    Login,
    Me,
    Refresh,
    Logout,
}

impl Endpoint {
    pub const ALL: [Endpoint; 5] =
        [Endpoint::Healthz, Endpoint::Login, Endpoint::Me, Endpoint::Refresh, Endpoint::Logout];

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Healthz => "healthz",
            Endpoint::Login => "login",
            Endpoint::Me => "me",
            Endpoint::Refresh => "refresh",
            Endpoint::Logout => "logout",
        }
    }

    pub fn parse(s: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Why a request failed. Classified where it happens, from types — never from error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// TCP connect refused, unreachable or timed out.
    Connect,
    /// No complete response within `--timeout`.
    Timeout,
    /// Connection reset or closed mid-exchange, or an HTTP protocol error.
    Closed,
    /// 4xx status.
    Status4xx,
    /// 5xx status (and anything else outside 2xx).
    Status5xx,
    /// 2xx, but without the credential the flow needs (no Set-Cookie, no token in the JSON).
    BadResponse,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Closed,
        ErrorKind::Status4xx,
        ErrorKind::Status5xx,
        ErrorKind::BadResponse,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Closed => "closed",
            ErrorKind::Status4xx => "status_4xx",
            ErrorKind::Status5xx => "status_5xx",
            ErrorKind::BadResponse => "bad_response",
        }
    }

    pub fn from_status(status: u16) -> ErrorKind {
        if (400..500).contains(&status) { ErrorKind::Status4xx } else { ErrorKind::Status5xx }
    }
}

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGFIG).expect("static histogram bounds are valid")
}

/// Everything recorded about one endpoint over some interval.
#[derive(Debug, Clone)]
pub struct EndpointStats {
    /// Latency of successful requests, µs. In the open model: from the intended start.
    pub latency: Histogram<u64>,
    /// Open model only: from the actual send (what a tool without correction would report).
    pub uncorrected: Histogram<u64>,
    pub errors: [u64; ErrorKind::COUNT],
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Sum of credential bytes carried (Cookie / Authorization value, or the refresh token).
    pub credential_bytes: u64,
    /// Requests that carried a credential.
    pub credentialed: u64,
}

impl EndpointStats {
    fn new() -> Self {
        EndpointStats {
            latency: new_histogram(),
            uncorrected: new_histogram(),
            errors: [0; ErrorKind::COUNT],
            bytes_sent: 0,
            bytes_received: 0,
            credential_bytes: 0,
            credentialed: 0,
        }
    }

    /// Successful requests.
    pub fn count(&self) -> u64 {
        self.latency.len()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Requests that finished one way or the other.
    pub fn attempts(&self) -> u64 {
        self.count() + self.error_count()
    }

    fn add(&mut self, o: &EndpointStats) {
        self.latency.add(&o.latency).expect("same bounds");
        self.uncorrected.add(&o.uncorrected).expect("same bounds");
        for (a, b) in self.errors.iter_mut().zip(o.errors) {
            *a += b;
        }
        self.bytes_sent += o.bytes_sent;
        self.bytes_received += o.bytes_received;
        self.credential_bytes += o.credential_bytes;
        self.credentialed += o.credentialed;
    }

    fn reset(&mut self) {
        self.latency.reset();
        self.uncorrected.reset();
        self.errors = [0; ErrorKind::COUNT];
        self.bytes_sent = 0;
        self.bytes_received = 0;
        self.credential_bytes = 0;
        self.credentialed = 0;
    }
}

/// One finished request, as a virtual user reports it.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub endpoint: Endpoint,
    /// Ok(latency µs) or the kind of failure.
    pub outcome: Result<u64, ErrorKind>,
    /// Open model: latency from the actual send, µs.
    pub uncorrected_us: Option<u64>,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Credential bytes carried, if the request carried one.
    pub credential_bytes: Option<u64>,
}

/// Per-endpoint stats plus the open model's start counters.
#[derive(Debug, Clone)]
pub struct Stats {
    pub endpoints: [EndpointStats; 5],
    /// Open model: scheduled starts actually sent.
    pub starts: u64,
    /// Open model: starts sent more than [`crate::vu::LATE_AFTER`] after their intended time.
    pub late_starts: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats { endpoints: std::array::from_fn(|_| EndpointStats::new()), starts: 0, late_starts: 0 }
    }
}

impl Stats {
    pub fn endpoint(&self, e: Endpoint) -> &EndpointStats {
        &self.endpoints[e as usize]
    }

    pub fn record(&mut self, s: &Sample) {
        let ep = &mut self.endpoints[s.endpoint as usize];
        match s.outcome {
            Ok(us) => {
                ep.latency.saturating_record(us.max(1));
                if let Some(u) = s.uncorrected_us {
                    ep.uncorrected.saturating_record(u.max(1));
                }
            }
            Err(kind) => ep.errors[kind as usize] += 1,
        }
        ep.bytes_sent += s.bytes_sent;
        ep.bytes_received += s.bytes_received;
        if let Some(c) = s.credential_bytes {
            ep.credential_bytes += c;
            ep.credentialed += 1;
        }
    }

    pub fn add(&mut self, o: &Stats) {
        for (a, b) in self.endpoints.iter_mut().zip(&o.endpoints) {
            a.add(b);
        }
        self.starts += o.starts;
        self.late_starts += o.late_starts;
    }

    pub fn reset(&mut self) {
        self.endpoints.iter_mut().for_each(EndpointStats::reset);
        self.starts = 0;
        self.late_starts = 0;
    }

    /// Successful requests over all endpoints.
    pub fn count(&self) -> u64 {
        self.endpoints.iter().map(EndpointStats::count).sum()
    }

    pub fn error_count(&self) -> u64 {
        self.endpoints.iter().map(EndpointStats::error_count).sum()
    }

    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.endpoints.iter().map(|e| e.errors[kind as usize]).sum()
    }

    pub fn bytes(&self) -> (u64, u64) {
        self.endpoints.iter().fold((0, 0), |(s, r), e| (s + e.bytes_sent, r + e.bytes_received))
    }
}

/// The shards virtual users record into.
pub struct Recorder {
    shards: Box<[Mutex<Stats>]>,
}

impl Recorder {
    /// `shards` mutex-protected [`Stats`]; a few per core keeps them uncontended.
    pub fn new(shards: usize) -> Recorder {
        Recorder { shards: (0..shards.max(1)).map(|_| Mutex::new(Stats::default())).collect() }
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Record one sample into shard `shard % shards`.
    pub fn record(&self, shard: usize, sample: &Sample) {
        lock(&self.shards[shard % self.shards.len()]).record(sample);
    }

    /// Count an open-model start (late or not).
    pub fn start(&self, shard: usize, late: bool) {
        let mut s = lock(&self.shards[shard % self.shards.len()]);
        s.starts += 1;
        s.late_starts += u64::from(late);
    }

    /// Move everything recorded since the last drain into `into` (which is not cleared first).
    pub fn drain_into(&self, into: &mut Stats) {
        for shard in self.shards.iter() {
            let mut s = lock(shard);
            into.add(&s);
            s.reset();
        }
    }
}

/// A poisoned shard only means a virtual user panicked mid-record; its counts are still valid.
fn lock(m: &Mutex<Stats>) -> std::sync::MutexGuard<'_, Stats> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(endpoint: Endpoint, us: u64) -> Sample {
        Sample {
            endpoint,
            outcome: Ok(us),
            uncorrected_us: None,
            bytes_sent: 100,
            bytes_received: 200,
            credential_bytes: Some(40),
        }
    }

    #[test]
    fn shards_merge_into_totals_and_reset() {
        let r = Recorder::new(4);
        for i in 0..1000u64 {
            r.record(i as usize, &ok(Endpoint::Me, 100 + i));
        }
        r.record(
            1,
            &Sample { outcome: Err(ErrorKind::Timeout), credential_bytes: None, ..ok(Endpoint::Login, 0) },
        );
        let mut interval = Stats::default();
        r.drain_into(&mut interval);
        let me = interval.endpoint(Endpoint::Me);
        assert_eq!(me.count(), 1000);
        assert_eq!(me.bytes_sent, 100_000);
        assert_eq!(me.credential_bytes, 40_000);
        assert_eq!(me.latency.max(), 1099);
        assert_eq!(interval.endpoint(Endpoint::Login).errors[ErrorKind::Timeout as usize], 1);
        assert_eq!(interval.error_count(), 1);
        let mut again = Stats::default();
        r.drain_into(&mut again);
        assert_eq!(again.count(), 0, "a drain resets the shards");
    }

    #[test]
    fn huge_latencies_saturate_instead_of_panicking() {
        let mut s = Stats::default();
        s.record(&ok(Endpoint::Me, u64::MAX));
        s.record(&ok(Endpoint::Me, 0));
        assert_eq!(s.endpoint(Endpoint::Me).count(), 2);
        assert!(s.endpoint(Endpoint::Me).latency.max() >= MAX_LATENCY_US);
    }
}
