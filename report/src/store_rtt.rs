//! Latency against the store's round-trip time (`store_rtt.csv`, `store_rtt_revocation.csv`):
//! `compare --store-rtt 0,250us,1ms` puts an `authbench delay-proxy` between each server and its
//! Redis (each Cluster node) and runs `/api/me` at one fixed arrival rate at each RTT, every
//! repeat; RTT 0 goes through the proxy too, so its cost is in every arm. Here: the rows, the
//! mean and 95% interval of p50/p99 per scheme × RTT, and the session − jwt gap as a paired
//! difference (same repeat, same RTT) with its interval.

use serde::{Deserialize, Serialize};

use crate::stats::{MeanCi, difference_ci, mean_ci};

/// `store_rtt.csv`: one fixed-rate `/api/me` run of one scheme at one RTT in one repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreRttRow {
    pub scheme: String,
    pub repeat: u32,
    /// The round-trip time the proxy added (each direction held half of it).
    pub rtt_us: f64,
    /// Offered arrival rate and what was answered per second.
    pub offered_rps: f64,
    pub achieved_rps: f64,
    /// Coordinated-omission corrected latency of `/api/me`, µs.
    pub p50_us: f64,
    pub p99_us: f64,
    pub errors: u64,
    /// CPU per answered request: the server, and the delay proxies (summed over proxies).
    #[serde(default)]
    pub server_cpu_us_per_req: Option<f64>,
    #[serde(default)]
    pub proxy_cpu_us_per_req: Option<f64>,
}

/// `store_rtt_revocation.csv`: a revocation window probed with the RTT in place (one per scheme ×
/// RTT × action; the windows without a proxy are `revocation.csv`'s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreRttRevocationRow {
    pub scheme: String,
    pub rtt_us: f64,
    /// `logout` or `logout_all`.
    pub action: String,
    pub window_s: f64,
    pub rejected: bool,
    #[serde(default)]
    pub note: String,
}

/// Which percentile a figure is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pct {
    P50,
    P99,
}

impl Pct {
    fn of(self, r: &StoreRttRow) -> f64 {
        match self {
            Pct::P50 => r.p50_us,
            Pct::P99 => r.p99_us,
        }
    }
}

/// The RTTs measured, ascending.
pub fn rtts(rows: &[StoreRttRow]) -> Vec<f64> {
    let mut v: Vec<f64> = rows.iter().map(|r| r.rtt_us).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// The schemes measured, in the order of their first row.
pub fn schemes(rows: &[StoreRttRow]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for r in rows {
        if !v.contains(&r.scheme) {
            v.push(r.scheme.clone());
        }
    }
    v
}

/// Per repeat (index = repeat − 1) the figure of `scheme` at `rtt`; NaN where not measured.
fn per_repeat(rows: &[StoreRttRow], scheme: &str, rtt: f64, pct: Pct) -> Vec<f64> {
    let n = rows.iter().map(|r| r.repeat).max().unwrap_or(0) as usize;
    let mut v = vec![f64::NAN; n];
    for r in rows.iter().filter(|r| r.scheme == scheme && r.rtt_us == rtt && r.repeat >= 1) {
        v[r.repeat as usize - 1] = pct.of(r);
    }
    v
}

/// Mean and 95% CI over repeats of `scheme`'s percentile at `rtt`.
pub fn latency(rows: &[StoreRttRow], scheme: &str, rtt: f64, pct: Pct) -> Option<MeanCi> {
    mean_ci(&per_repeat(rows, scheme, rtt, pct))
}

/// `a − b` at `rtt`, paired per repeat (the two ran in the same repeat, minutes apart), with its
/// 95% interval over repeats.
pub fn gap(rows: &[StoreRttRow], a: &str, b: &str, rtt: f64, pct: Pct) -> Option<MeanCi> {
    difference_ci(&per_repeat(rows, b, rtt, pct), &per_repeat(rows, a, rtt, pct), None)
}

/// Mean proxy CPU per request at `rtt` over every scheme that calls the store.
pub fn proxy_cpu(rows: &[StoreRttRow], rtt: f64) -> Option<MeanCi> {
    let v: Vec<f64> =
        rows.iter().filter(|r| r.rtt_us == rtt).filter_map(|r| r.proxy_cpu_us_per_req).collect();
    mean_ci(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, repeat: u32, rtt_us: f64, p50_us: f64) -> StoreRttRow {
        StoreRttRow {
            scheme: scheme.into(),
            repeat,
            rtt_us,
            offered_rps: 1000.0,
            achieved_rps: 1000.0,
            p50_us,
            p99_us: p50_us * 2.0,
            errors: 0,
            server_cpu_us_per_req: None,
            proxy_cpu_us_per_req: Some(3.0),
        }
    }

    #[test]
    fn the_gap_is_paired_per_repeat() {
        // The machine drifts between repeats (jwt 100 → 300); the paired gap stays 1000 exactly.
        let rows: Vec<StoreRttRow> = (1..=3)
            .flat_map(|r| {
                let drift = 100.0 * r as f64;
                [row("session", r, 1000.0, 1000.0 + drift), row("jwt", r, 1000.0, drift)]
            })
            .collect();
        let g = gap(&rows, "session", "jwt", 1000.0, Pct::P50).unwrap();
        assert_eq!((g.n, g.mean), (3, 1000.0));
        assert_eq!(g.half_width(), Some(0.0));
        let unpaired = latency(&rows, "session", 1000.0, Pct::P50).unwrap();
        assert!(unpaired.half_width().unwrap() > 100.0);
        assert_eq!(rtts(&rows), vec![1000.0]);
        assert_eq!(schemes(&rows), vec!["session", "jwt"]);
        assert_eq!(latency(&rows, "jwt", 1000.0, Pct::P99).unwrap().mean, 400.0);
        assert_eq!(proxy_cpu(&rows, 1000.0).unwrap().mean, 3.0);
    }
}
