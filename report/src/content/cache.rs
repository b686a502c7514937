//! What the cached session schemes' caches did: the hit ratio at each sweep level (in the
//! variants' claim), and in a bullet of its own the invalidations Redis pushed per second of the ramp (`session-tracked`), and
//! what the caches cost in memory — entries and estimated bytes at the end of each level, bytes
//! per entry, and the keys in Redis's tracking table (Redis's own memory for a tracked cache).
//! Means over repeats, with the 95% CI `[lo, hi]` where there are repeats; empty for a scheme
//! without a cache, and for each figure an older run did not record.

use std::collections::BTreeMap;

use super::format::format_unit;
use crate::analysis::Analysis;
use crate::data::SessionsRow;
use crate::metric::Metric;
use crate::stats::mean_ci;
use crate::units;

/// `scheme`'s sweep rows by level.
fn levels<'a>(a: &'a Analysis<'_>, scheme: &str) -> BTreeMap<u64, Vec<&'a SessionsRow>> {
    let mut levels: BTreeMap<u64, Vec<&SessionsRow>> = BTreeMap::new();
    for row in a.results.sessions.iter().filter(|r| r.scheme == scheme) {
        levels.entry(row.sessions).or_default().push(row);
    }
    levels
}

/// ", cache hit ratio 0.95 at 0 stored sessions, 0.07 at 10k (…)" for the variants' claim; empty
/// for a scheme without a cache.
pub(super) fn hit_ratio_text(a: &Analysis<'_>, scheme: &str) -> String {
    hit_ratios(&levels(a, scheme))
}

/// Its own bullet (a cached scheme measured without its parent still gets it): per cached scheme,
/// the invalidations per second of the ramp, the caches' entries and bytes, Redis's tracking table.
pub(super) fn claim_caches(a: &Analysis<'_>) -> Option<String> {
    let parts: Vec<String> = a
        .schemes
        .iter()
        .filter_map(|s| {
            let levels = levels(a, s);
            let text = [invalidations(a, s), memory(&levels), tracking(&levels)].concat();
            let text = text.strip_prefix(", ")?;
            Some(format!("{s}: {text}"))
        })
        .collect();
    (!parts.is_empty())
        .then(|| format!("**What the session caches cost** (cached variants): {}.", parts.join("; ")))
}

/// `x [lo, hi]` in `f`'s unit over the repeats (just `x` with one repeat); `None` for no value.
fn mean_with_ci(values: &[f64], f: impl Fn(f64) -> String) -> Option<String> {
    let m = mean_ci(values)?;
    Some(match (m.ci95_low, m.ci95_high) {
        // A count is never negative: the interval is cut at 0.
        (Some(lo), Some(hi)) => format!("{} [{}, {}]", f(m.mean), f(lo.max(0.0)), f(hi)),
        _ => f(m.mean),
    })
}

/// One clause per level that has `value`: "{summary of the repeats' values} at {N} stored sessions".
fn per_level(
    levels: &BTreeMap<u64, Vec<&SessionsRow>>,
    value: impl Fn(&SessionsRow) -> Option<f64>,
    summary: impl Fn(&[f64]) -> Option<String>,
) -> Vec<String> {
    levels
        .iter()
        .filter_map(|(n, rows)| {
            let v: Vec<f64> = rows.iter().filter_map(|r| value(r)).collect();
            let text = summary(&v)?;
            Some(format!("{text} at {} stored sessions", units::count(*n as f64)))
        })
        .collect()
}

fn hit_ratios(levels: &BTreeMap<u64, Vec<&SessionsRow>>) -> String {
    // The mean alone, as before: two decimals of a ratio near 0 or 1 leave an interval nothing to say.
    let each = per_level(levels, |r| r.cache_hit_ratio, |v| Some(format!("{:.2}", crate::stats::mean(v)?)));
    if each.is_empty() {
        return String::new();
    }
    format!(
        ", cache hit ratio {} (lookups uniform over all stored sessions: a large level defeats a cache)",
        each.join(", ")
    )
}

fn invalidations(a: &Analysis<'_>, scheme: &str) -> String {
    let Some(row) = a.metric(scheme, Metric::CacheInvalidationsPerSecond) else { return String::new() };
    let f = |x: f64| format_unit(x, &row.unit);
    let ci = match (row.ci95_low, row.ci95_high) {
        (Some(lo), Some(hi)) if row.n > 1 => format!(" [{}, {}]", f(lo.max(0.0)), f(hi)),
        _ => String::new(),
    };
    format!(
        ", {}{ci} invalidations pushed by Redis during the ramp (summed over servers; each logout or \
         refresh of a session some server read is one)",
        f(row.mean)
    )
}

fn memory(levels: &BTreeMap<u64, Vec<&SessionsRow>>) -> String {
    let entries = per_level(levels, |r| r.cache_entries.map(|e| e as f64), |v| mean_with_ci(v, units::count));
    if entries.is_empty() {
        return String::new();
    }
    let per_entry: Vec<f64> = levels
        .values()
        .flatten()
        .filter_map(|r| Some(r.cache_bytes? / r.cache_entries.filter(|&e| e > 0)? as f64))
        .collect();
    let largest = levels
        .values()
        .flatten()
        .filter_map(|r| r.cache_bytes)
        .fold(None, |m: Option<f64>, b| Some(m.map_or(b, |m| m.max(b))));
    let cost = match (crate::stats::mean(&per_entry), largest) {
        (Some(b), Some(max)) => format!(
            "; ~{} per cached record (estimated: entries × a per-entry cost measured with a counting \
             allocator), at most {} in any repeat",
            units::bytes(b),
            units::bytes(max)
        ),
        _ => String::new(),
    };
    format!(", cache entries after each level's lookups (all servers) {}{cost}", entries.join(", "))
}

fn tracking(levels: &BTreeMap<u64, Vec<&SessionsRow>>) -> String {
    let keys =
        per_level(levels, |r| r.redis_tracking_keys.map(|k| k as f64), |v| mean_with_ci(v, units::count));
    if keys.is_empty() {
        return String::new();
    }
    format!(
        ", Redis's tracking table (keys a server read and nobody wrote since; Redis memory, kept \
         into the next level's reading at rest) {}",
        keys.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SummaryRow;
    use crate::results::Results;

    fn row(repeat: u32, sessions: u64, entries: u64, tracking: u64) -> SessionsRow {
        SessionsRow {
            scheme: "session-tracked".into(),
            repeat,
            sessions,
            cache_hit_ratio: Some(if sessions == 0 { 0.98 } else { 0.02 }),
            cache_entries: Some(entries),
            cache_capacity: Some(100_000),
            cache_bytes: Some(entries as f64 * 468.0),
            redis_tracking_keys: Some(tracking),
            ..SessionsRow::default()
        }
    }

    #[test]
    fn cache_figures_per_level_with_intervals_across_repeats() {
        let mut r = Results::default();
        for (repeat, e) in [(1, 1000), (2, 1100), (3, 1200)] {
            r.sessions.push(row(repeat, 0, 200, 200));
            r.sessions.push(row(repeat, 100_000, e, e + 50));
        }
        r.sessions.push(SessionsRow { scheme: "session".into(), repeat: 1, ..SessionsRow::default() });
        r.summary.push(SummaryRow {
            scheme: "session-tracked".into(),
            metric: Metric::CacheInvalidationsPerSecond.name().into(),
            unit: "/s".into(),
            n: 3,
            mean: 12.5,
            ci95_low: Some(-1.0),
            ci95_high: Some(26.0),
        });
        let a = Analysis::new(&r);
        let h = hit_ratio_text(&a, "session-tracked");
        assert!(h.contains("cache hit ratio 0.98 at 0 stored sessions, 0.02 at 100k"), "{h}");
        let t = claim_caches(&a).unwrap();
        assert!(
            t.starts_with("**What the session caches cost** (cached variants): session-tracked: 12.5/s"),
            "{t}"
        );
        assert!(t.contains("12.5/s [0/s, 26/s] invalidations pushed by Redis"), "{t}");
        assert!(t.contains("200 [200, 200] at 0 stored sessions, 1.1k [852, 1.35k] at 100k"), "{t}");
        assert!(t.contains("~468 B per cached record") && t.contains("at most 548 KiB"), "{t}");
        assert!(t.contains("tracking table") && t.contains("1.15k [902, 1.4k] at 100k"), "{t}");
        assert_eq!(hit_ratio_text(&a, "session"), "", "no cache, no figures");
        assert!(!t.contains("session:"), "{t}");
    }
}
