//! Recording on the hot path: per-shard HdrHistograms, merged once a second.
//!
//! Each virtual user records into one of a few [`Shard`]s (its index modulo the shard count),
//! behind an uncontended mutex; the collector drains every shard into an interval once a second,
//! and the interval into the run's totals. Nothing is stored per request: memory is a fixed number
//! of histograms however long the run.

use std::sync::Mutex;

use hdrhistogram::Histogram;
use tokio::time::Instant;

pub use crate::failure::ErrorKind;

/// Highest latency recorded exactly, in µs (10 minutes); larger values saturate to it.
pub const MAX_LATENCY_US: u64 = 600_000_000;
/// Significant digits of every histogram.
pub const SIGFIG: u8 = 3;

/// Tagged endpoints, one histogram each. Ordered by name ([`Endpoint::as_str`]), the order
/// `summary.json` and `summary.csv` have always listed them in.
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

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Ord for Endpoint {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Endpoint {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGFIG).expect("static histogram bounds are valid")
}

/// Status codes counted one by one: 100..=999, the range hyper accepts.
pub const STATUS_CODES: std::ops::RangeInclusive<u16> = 100..=999;
const STATUS_SLOTS: usize = 900;

/// Everything recorded about one endpoint over some interval.
#[derive(Debug, Clone)]
pub struct EndpointStats {
    /// Latency of successful requests, µs. In the open model: from the intended start.
    pub latency: Histogram<u64>,
    /// Open model only: from the actual send (what a tool without correction would report).
    pub uncorrected: Histogram<u64>,
    pub errors: [u64; ErrorKind::COUNT],
    /// Non-2xx answers by status code (index: code − 100).
    pub statuses: [u64; STATUS_SLOTS],
    /// Requests still waiting for their answer when the run ended (abandoned, never finished).
    pub unfinished: u64,
    /// Age of the oldest of them when the run ended, µs (0 if none).
    pub unfinished_max_age_us: u64,
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
            statuses: [0; STATUS_SLOTS],
            unfinished: 0,
            unfinished_max_age_us: 0,
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

    /// Non-2xx answers as (status code, count), in code order.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.statuses.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, n)| (i as u16 + 100, *n))
    }

    /// Answers from the target (successes, and failures the target sent back, such as a 5xx or
    /// a malformed head) — as opposed to timeouts, refused connects and closes without an answer.
    pub fn answered(&self) -> u64 {
        let kinds = ErrorKind::ALL.iter().filter(|k| k.target_answered() && **k != ErrorKind::BadResponse);
        // `bad_response` is counted on top of a success, so it is not a second answer.
        self.count() + kinds.map(|k| self.errors[*k as usize]).sum::<u64>()
    }

    /// Count one finished request; whether the target answered it.
    fn record(&mut self, s: &Sample) -> bool {
        let answered = match s.outcome {
            Ok(us) => {
                self.latency.saturating_record(us.max(1));
                if let Some(u) = s.uncorrected_us {
                    self.uncorrected.saturating_record(u.max(1));
                }
                true
            }
            Err(kind) => {
                self.errors[kind as usize] += 1;
                if STATUS_CODES.contains(&s.status) {
                    self.statuses[usize::from(s.status - 100)] += 1;
                }
                kind.target_answered()
            }
        };
        self.bytes_sent += s.bytes_sent;
        self.bytes_received += s.bytes_received;
        if let Some(c) = s.credential_bytes {
            self.credential_bytes += c;
            self.credentialed += 1;
        }
        answered
    }

    fn add(&mut self, o: &EndpointStats) {
        self.latency.add(&o.latency).expect("same bounds");
        self.uncorrected.add(&o.uncorrected).expect("same bounds");
        for (a, b) in self.errors.iter_mut().zip(o.errors) {
            *a += b;
        }
        for (a, b) in self.statuses.iter_mut().zip(&o.statuses) {
            *a += b;
        }
        self.unfinished += o.unfinished;
        self.unfinished_max_age_us = self.unfinished_max_age_us.max(o.unfinished_max_age_us);
        self.bytes_sent += o.bytes_sent;
        self.bytes_received += o.bytes_received;
        self.credential_bytes += o.credential_bytes;
        self.credentialed += o.credentialed;
    }

    fn reset(&mut self) {
        self.latency.reset();
        self.uncorrected.reset();
        self.errors = [0; ErrorKind::COUNT];
        self.statuses = [0; STATUS_SLOTS];
        self.unfinished = 0;
        self.unfinished_max_age_us = 0;
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
    /// Which of the flow's authenticated requests it was (index into its `[[request]]`s; 0 for
    /// every other endpoint and for a flow with one).
    pub request: u8,
    /// Ok(latency µs) or the kind of failure.
    pub outcome: Result<u64, ErrorKind>,
    /// The status code of a non-2xx answer (0: none).
    pub status: u16,
    /// When it finished.
    pub end: Instant,
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
    /// A flow with several authenticated requests: each one's own stats, by its index (what
    /// `me` adds up); empty otherwise, so a built-in scheme records nothing more.
    pub named: Vec<EndpointStats>,
    /// Open model: scheduled starts actually sent.
    pub starts: u64,
    /// Open model: starts sent more than [`crate::vu::LATE_AFTER`] after their intended time.
    pub late_starts: u64,
    /// Open model: arrivals that were due but never sent when the run ended.
    pub dropped: u64,
    /// Age of the oldest of them when the run ended, µs (0 if none).
    pub dropped_oldest_age_us: u64,
    /// When the target last answered, and when a request last failed without an answer: gauges,
    /// kept (not reset) across drains, merged by maximum.
    pub last_answer: Option<Instant>,
    pub last_unanswered: Option<Instant>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            endpoints: std::array::from_fn(|_| EndpointStats::new()),
            named: Vec::new(),
            starts: 0,
            late_starts: 0,
            dropped: 0,
            dropped_oldest_age_us: 0,
            last_answer: None,
            last_unanswered: None,
        }
    }
}

impl Stats {
    pub fn endpoint(&self, e: Endpoint) -> &EndpointStats {
        &self.endpoints[e as usize]
    }

    /// Stats with room for `named` authenticated requests by name (0 or 1: none kept apart).
    pub fn with_named(named: usize) -> Stats {
        let named = if named > 1 { (0..named).map(|_| EndpointStats::new()).collect() } else { Vec::new() };
        Stats { named, ..Stats::default() }
    }

    pub fn record(&mut self, s: &Sample) {
        let answered = self.endpoints[s.endpoint as usize].record(s);
        if s.endpoint == Endpoint::Me
            && let Some(named) = self.named.get_mut(usize::from(s.request))
        {
            named.record(s);
        }
        if answered {
            self.last_answer = self.last_answer.max(Some(s.end));
        } else {
            self.last_unanswered = self.last_unanswered.max(Some(s.end));
        }
    }

    pub fn add(&mut self, o: &Stats) {
        for (a, b) in self.endpoints.iter_mut().zip(&o.endpoints) {
            a.add(b);
        }
        if self.named.len() < o.named.len() {
            self.named.resize_with(o.named.len(), EndpointStats::new);
        }
        for (a, b) in self.named.iter_mut().zip(&o.named) {
            a.add(b);
        }
        self.starts += o.starts;
        self.late_starts += o.late_starts;
        self.dropped += o.dropped;
        self.dropped_oldest_age_us = self.dropped_oldest_age_us.max(o.dropped_oldest_age_us);
        self.last_answer = self.last_answer.max(o.last_answer);
        self.last_unanswered = self.last_unanswered.max(o.last_unanswered);
    }

    /// Zero the counts of an interval; the `last_*` gauges stay.
    pub fn reset(&mut self) {
        self.endpoints.iter_mut().for_each(EndpointStats::reset);
        self.named.iter_mut().for_each(EndpointStats::reset);
        self.starts = 0;
        self.late_starts = 0;
        self.dropped = 0;
        self.dropped_oldest_age_us = 0;
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

    pub fn unfinished(&self) -> u64 {
        self.endpoints.iter().map(|e| e.unfinished).sum()
    }

    /// Answers from the target over all endpoints (see [`EndpointStats::answered`]).
    pub fn answered(&self) -> u64 {
        self.endpoints.iter().map(EndpointStats::answered).sum()
    }

    /// Failures in which the target sent nothing back.
    pub fn unanswered(&self) -> u64 {
        ErrorKind::ALL.iter().filter(|k| !k.target_answered()).map(|k| self.errors_of(*k)).sum()
    }

    /// Every endpoint's latency histogram merged (all requests together).
    pub fn merged_latency(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for e in &self.endpoints {
            let _ = all.add(&e.latency);
        }
        all
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
    /// `shards` mutex-protected [`Stats`] (a few per core keeps them uncontended), each keeping
    /// `named` authenticated requests apart (see [`Stats::named`]).
    pub fn with_named(shards: usize, named: usize) -> Recorder {
        Recorder { shards: (0..shards.max(1)).map(|_| Mutex::new(Stats::with_named(named))).collect() }
    }

    fn shard(&self, shard: usize) -> std::sync::MutexGuard<'_, Stats> {
        lock(&self.shards[shard % self.shards.len()])
    }

    /// Record one sample into shard `shard % shards`.
    pub fn record(&self, shard: usize, sample: &Sample) {
        self.shard(shard).record(sample);
    }

    /// Count an open-model start (late or not).
    pub fn start(&self, shard: usize, late: bool) {
        let mut s = self.shard(shard);
        s.starts += 1;
        s.late_starts += u64::from(late);
    }

    /// A request abandoned unanswered at the end of the run, `age_us` after it was sent.
    pub fn unfinished(&self, shard: usize, endpoint: Endpoint, age_us: u64) {
        let mut s = self.shard(shard);
        let ep = &mut s.endpoints[endpoint as usize];
        ep.unfinished += 1;
        ep.unfinished_max_age_us = ep.unfinished_max_age_us.max(age_us);
    }

    /// Open model: `n` arrivals due but never sent, the oldest due `oldest_age_us` before the end.
    pub fn dropped(&self, shard: usize, n: u64, oldest_age_us: u64) {
        let mut s = self.shard(shard);
        s.dropped += n;
        s.dropped_oldest_age_us = s.dropped_oldest_age_us.max(oldest_age_us);
    }

    /// The latest answer and the latest unanswered failure recorded so far (drained or not).
    pub fn last_seen(&self) -> (Option<Instant>, Option<Instant>) {
        self.shards.iter().fold((None, None), |(a, u), shard| {
            let s = lock(shard);
            (a.max(s.last_answer), u.max(s.last_unanswered))
        })
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
mod tests;
