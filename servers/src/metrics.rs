//! `GET /metrics`: what a server counts about itself, as an OpenMetrics text exposition (what
//! Prometheus scrapes; written by `prometheus-client`, as the load generator's `--metrics-addr`
//! is), and the parser `compare` reads it back with.
//!
//! Why an endpoint: `compare` runs the real `authbench serve` binary, one process per replica, so
//! a cache's counters inside it are visible to nothing else; an operator would ask for the same.
//! Outside the auth API: no credential, the same answer with or without one, never on the
//! request path (a scrape reads a few atomics and runs moka's pending maintenance once).
//!
//! The cached session schemes expose ([`CacheReading`]):
//! - `authbench_cache_hits_total`, `authbench_cache_misses_total`: authenticated requests answered
//!   from the cache, and ones that read Redis;
//! - `authbench_cache_untracked_total` (`session-tracked`): answered by the session scheme's
//!   `GETEX` while the tracking connection was down;
//! - `authbench_cache_invalidations_total` (`session-tracked`): keys Redis told this server to drop
//!   (one per key of each `invalidate` push);
//! - `authbench_cache_flushes_total` (`session-tracked`): whole-cache flushes;
//! - `authbench_cache_entries`, `authbench_cache_capacity`: records held now, and at most;
//! - `authbench_cache_bytes`: their estimated bytes ([`crate::record_cache`] says how).
//!
//! The other schemes answer an exposition with no metric in it (`# EOF` alone).

use std::collections::HashMap;

use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Metric names as they appear in the exposition (counters with their `_total`).
pub mod name {
    pub const HITS: &str = "authbench_cache_hits_total";
    pub const MISSES: &str = "authbench_cache_misses_total";
    pub const UNTRACKED: &str = "authbench_cache_untracked_total";
    pub const INVALIDATIONS: &str = "authbench_cache_invalidations_total";
    pub const FLUSHES: &str = "authbench_cache_flushes_total";
    pub const ENTRIES: &str = "authbench_cache_entries";
    pub const CAPACITY: &str = "authbench_cache_capacity";
    pub const BYTES: &str = "authbench_cache_bytes";
}

/// One reading of a server's record cache. The tracked-only counters are `None` for
/// `session-cached`, which has no such events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheReading {
    pub hits: u64,
    pub misses: u64,
    pub untracked: Option<u64>,
    pub invalidations: Option<u64>,
    pub flushes: Option<u64>,
    pub entries: u64,
    pub capacity: u64,
    pub bytes: u64,
}

impl CacheReading {
    /// Two servers' readings added (replicas: counters, entries, capacity and bytes all sum).
    pub fn plus(self, other: CacheReading) -> CacheReading {
        let opt = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        CacheReading {
            hits: self.hits + other.hits,
            misses: self.misses + other.misses,
            untracked: opt(self.untracked, other.untracked),
            invalidations: opt(self.invalidations, other.invalidations),
            flushes: opt(self.flushes, other.flushes),
            entries: self.entries + other.entries,
            capacity: self.capacity + other.capacity,
            bytes: self.bytes + other.bytes,
        }
    }

    /// The reading in an exposition, `None` when it has no cache metrics (a scheme without a
    /// cache). A present but unreadable value is an error: the exposition is ours.
    pub fn from_exposition(text: &str) -> Result<Option<CacheReading>, String> {
        let values = parse(text)?;
        let Some(&hits) = values.get(name::HITS) else { return Ok(None) };
        let need = |n: &str| values.get(n).copied().ok_or_else(|| format!("/metrics lacks {n}"));
        Ok(Some(CacheReading {
            hits,
            misses: need(name::MISSES)?,
            untracked: values.get(name::UNTRACKED).copied(),
            invalidations: values.get(name::INVALIDATIONS).copied(),
            flushes: values.get(name::FLUSHES).copied(),
            entries: need(name::ENTRIES)?,
            capacity: need(name::CAPACITY)?,
            bytes: need(name::BYTES)?,
        }))
    }
}

/// The exposition of `reading` (`None`: no metric, just the terminating `# EOF`).
pub fn encode(reading: Option<&CacheReading>) -> String {
    let mut registry = Registry::default();
    if let Some(r) = reading {
        // Registered without `_total`: the encoder appends it to counters.
        let counters = [
            ("authbench_cache_hits", "Authenticated requests answered from the cache", Some(r.hits)),
            ("authbench_cache_misses", "Authenticated requests that read Redis", Some(r.misses)),
            (
                "authbench_cache_untracked",
                "Requests answered uncached while the tracking connection was down",
                r.untracked,
            ),
            ("authbench_cache_invalidations", "Keys Redis told this server to drop", r.invalidations),
            ("authbench_cache_flushes", "Whole-cache flushes", r.flushes),
        ];
        for (n, help, value) in counters {
            if let Some(v) = value {
                registry.register(n, help, ConstCounter::new(v));
            }
        }
        let gauges = [
            (name::ENTRIES, "Records in the cache now", r.entries),
            (name::CAPACITY, "Most records the cache holds (--cache-capacity)", r.capacity),
            (
                name::BYTES,
                "Estimated bytes of the records in the cache (entries x measured entry size)",
                r.bytes,
            ),
        ];
        for (n, help, value) in gauges {
            registry.register(n, help, ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)));
        }
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// `name value` of every sample line without labels (comments and `# EOF` skipped). Values are
/// whole numbers here; one that is not is an error.
pub fn parse(text: &str) -> Result<HashMap<String, u64>, String> {
    let mut values = HashMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let mut parts = line.split_ascii_whitespace();
        let (Some(n), Some(v)) = (parts.next(), parts.next()) else {
            return Err(format!("/metrics line without a value: {line:?}"));
        };
        let v: u64 = v.parse().map_err(|_| format!("/metrics value is not a count: {line:?}"))?;
        values.insert(n.to_owned(), v);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_survives_the_exposition_and_replicas_add_up() {
        let r = CacheReading {
            hits: 7,
            misses: 3,
            untracked: Some(1),
            invalidations: Some(2),
            flushes: Some(1),
            entries: 5,
            capacity: 1000,
            bytes: 2_340,
        };
        let text = encode(Some(&r));
        assert!(text.contains("# TYPE authbench_cache_hits counter"), "{text}");
        assert!(text.contains("authbench_cache_hits_total 7\n"), "{text}");
        assert!(text.contains("authbench_cache_bytes 2340\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert_eq!(CacheReading::from_exposition(&text), Ok(Some(r)));

        let cached = CacheReading { untracked: None, invalidations: None, flushes: None, ..r };
        let text = encode(Some(&cached));
        assert!(!text.contains("invalidations"), "session-cached has no invalidations: {text}");
        assert_eq!(CacheReading::from_exposition(&text), Ok(Some(cached)));

        let sum = r.plus(cached);
        assert_eq!((sum.hits, sum.invalidations, sum.entries, sum.capacity), (14, Some(2), 10, 2000));
    }

    #[test]
    fn no_cache_is_an_empty_exposition_and_garbage_is_an_error() {
        assert_eq!(encode(None), "# EOF\n");
        assert_eq!(CacheReading::from_exposition(&encode(None)), Ok(None));
        assert!(CacheReading::from_exposition("authbench_cache_hits_total x\n").is_err());
        assert!(CacheReading::from_exposition("authbench_cache_hits_total 1\n").is_err(), "misses lacking");
    }
}
