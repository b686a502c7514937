//! Redis memory against logout rate (`revocation_memory.csv`): the JWT variants (`jwt-revocable`,
//! `jwt-pubsub`) store an entry per revoked token until the token would have expired, so their
//! Redis memory grows with logouts × the tokens' lifetime, not with users (issue 12). `compare`
//! measures it at a few paced logout rates on a server with short test lifetimes, where the
//! entries reach their steady state within seconds; this module holds the row and the
//! arithmetic that carries the measurement over to the default lifetimes (15 min access, 7 d
//! refresh), which no test run can wait for.
//!
//! The model: a logout stores `access_entries` entries that live the access token's remaining
//! lifetime + the verifier's leeway (the access `jti`; `jwt-pubsub` also its family marker) and
//! `refresh_entries` that live the refresh token's (its `jti`). At a steady rate R, the live
//! entries are R × Σ lifetimes, their memory that × the bytes of one key. Lifetimes are the
//! longest (a logout right after login): the projection is an upper bound.

use serde::{Deserialize, Serialize};

/// `revocation_memory.csv`: one row per scheme × paced logout rate (one run each, no repeats).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevocationMemoryRow {
    pub scheme: String,
    /// Logouts per second asked for, and answered `204` per second of the level.
    pub offered_rps: f64,
    pub achieved_rps: f64,
    pub logouts: u64,
    /// Seconds the rate was held.
    pub duration_s: f64,
    /// The measuring server's `--ttl` and `--refresh-ttl`, and the verifier's leeway after expiry
    /// (added to every revocation entry's lifetime).
    pub access_ttl_s: f64,
    pub refresh_ttl_s: f64,
    pub leeway_s: f64,
    /// Entries one logout stores living the access lifetime, and living the refresh lifetime.
    pub access_entries: u32,
    pub refresh_entries: u32,
    /// Redis `used_memory` at the end of the level minus before the first level; the most over
    /// the level's samples (a few per second).
    pub memory_bytes: f64,
    pub peak_bytes: f64,
    /// Redis's own key count (summed over primaries) at the end minus before the first level:
    /// the revocation entries and the logins' family keys (which live `refresh_ttl_s`).
    pub keys: f64,
    /// Revocation entries under the measuring prefix at the end (`SCAN`), and how many the model
    /// expects alive then from the times of the logouts.
    pub entries: u64,
    pub expected_entries: f64,
    /// The lifetimes a server runs with by default, for the projection.
    pub default_access_ttl_s: f64,
    pub default_refresh_ttl_s: f64,
}

impl RevocationMemoryRow {
    /// The longest life of an entry at the test lifetimes: once the rate has been held this long,
    /// entries expire as fast as they come and memory stays flat.
    pub fn lifetime_s(&self) -> f64 {
        let mut l: f64 = 0.0;
        if self.access_entries > 0 {
            l = l.max(self.access_ttl_s + self.leeway_s);
        }
        if self.refresh_entries > 0 {
            l = l.max(self.refresh_ttl_s + self.leeway_s);
        }
        l
    }

    /// Whether the level lasted long enough for the plateau (else memory was still rising).
    pub fn plateau(&self) -> bool {
        self.duration_s + 1e-9 >= self.lifetime_s()
    }

    /// Bytes of one key: the level's memory over the keys it added (None without keys).
    pub fn bytes_per_key(&self) -> Option<f64> {
        (self.keys >= 1.0 && self.memory_bytes.is_finite()).then(|| self.memory_bytes / self.keys)
    }

    /// Σ lifetimes of one logout's entries at the test lifetimes, seconds.
    pub fn entry_seconds(&self) -> f64 {
        entry_seconds(
            self.access_entries,
            self.refresh_entries,
            self.access_ttl_s,
            self.refresh_ttl_s,
            self.leeway_s,
        )
    }

    /// The same at the default lifetimes.
    pub fn default_entry_seconds(&self) -> f64 {
        entry_seconds(
            self.access_entries,
            self.refresh_entries,
            self.default_access_ttl_s,
            self.default_refresh_ttl_s,
            self.leeway_s,
        )
    }

    /// Redis bytes the revocation entries hold at this row's achieved rate once every entry
    /// lives its default lifetime (projected, an upper bound: logouts right after login).
    pub fn projected_bytes(&self) -> Option<f64> {
        Some(steady_bytes(self.achieved_rps, self.default_entry_seconds(), self.bytes_per_key()?))
    }
}

/// A lifetime as the report shows it: "1 s", "15 min", "7 d" (whole days from two days up).
pub fn lifetime(s: f64) -> String {
    if s >= 2.0 * 86_400.0 {
        format!("{} d", crate::units::trim_zeros(&crate::units::sig(s / 86_400.0, 3)))
    } else {
        crate::units::duration(s)
    }
}

/// A rate of logouts per second: whole from 10 up ("250"), else 3 significant digits.
pub fn rate(r: f64) -> String {
    if r >= 10.0 { format!("{r:.0}") } else { crate::units::trim_zeros(&crate::units::sig(r, 3)) }
}

/// Σ over one logout's entries of their lifetime: `access` entries of `access_ttl + leeway`,
/// `refresh` entries of `refresh_ttl + leeway`.
pub fn entry_seconds(access: u32, refresh: u32, access_ttl: f64, refresh_ttl: f64, leeway: f64) -> f64 {
    access as f64 * (access_ttl + leeway) + refresh as f64 * (refresh_ttl + leeway)
}

/// Steady-state memory: `rate` logouts/s × Σ lifetimes (s) × bytes per entry.
pub fn steady_bytes(rate: f64, entry_seconds: f64, bytes_per_entry: f64) -> f64 {
    rate * entry_seconds * bytes_per_entry
}

/// Entries alive when the logouts are `ages` seconds old: each logout's access entries while its
/// age is under `access_life`, its refresh entries while under `refresh_life`.
pub fn live_entries(ages: &[f64], access: u32, refresh: u32, access_life: f64, refresh_life: f64) -> f64 {
    let alive = |life: f64| ages.iter().filter(|&&a| a < life).count() as f64;
    access as f64 * alive(access_life) + refresh as f64 * alive(refresh_life)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> RevocationMemoryRow {
        RevocationMemoryRow {
            scheme: "jwt-pubsub".into(),
            offered_rps: 100.0,
            achieved_rps: 100.0,
            logouts: 600,
            duration_s: 6.0,
            access_ttl_s: 1.0,
            refresh_ttl_s: 1.0,
            leeway_s: 5.0,
            access_entries: 2,
            refresh_entries: 1,
            memory_bytes: 180_000.0,
            peak_bytes: 181_000.0,
            keys: 1_800.0,
            entries: 1_800,
            expected_entries: 1_800.0,
            default_access_ttl_s: 900.0,
            default_refresh_ttl_s: 7.0 * 86_400.0,
        }
    }

    #[test]
    fn steady_state_is_rate_times_lifetimes_times_bytes() {
        let r = row();
        assert_eq!(r.lifetime_s(), 6.0);
        assert!(r.plateau());
        assert_eq!(r.entry_seconds(), 18.0);
        assert_eq!(r.bytes_per_key(), Some(100.0));
        // 100/s × 18 entry-seconds × 100 B: what was measured at the plateau.
        assert_eq!(steady_bytes(r.achieved_rps, r.entry_seconds(), 100.0), r.memory_bytes);
        // Default lifetimes: 2 × 905 s + 604,805 s per logout, × 100/s × 100 B ≈ 6.07 GB.
        assert_eq!(r.default_entry_seconds(), 2.0 * 905.0 + 604_805.0);
        let projected = r.projected_bytes().unwrap();
        assert!((projected - 6_066_150_000.0).abs() < 1.0, "{projected}");
    }

    #[test]
    fn a_short_level_has_no_plateau_and_no_keys_no_projection() {
        let mut r = row();
        r.duration_s = 2.5;
        assert!(!r.plateau());
        r.keys = 0.0;
        assert_eq!(r.bytes_per_key(), None);
        assert_eq!(r.projected_bytes(), None);
        r.access_entries = 0;
        r.refresh_ttl_s = 3.0;
        assert_eq!(r.lifetime_s(), 8.0);
    }

    #[test]
    fn lifetimes_and_rates_read_as_set() {
        assert_eq!(lifetime(7.0 * 86_400.0), "7 d");
        assert_eq!(lifetime(900.0), "15 min");
        assert_eq!(lifetime(1.0), "1 s");
        assert_eq!(rate(99.96), "100");
        assert_eq!(rate(2.5), "2.5");
    }

    #[test]
    fn live_entries_count_each_kind_until_its_lifetime() {
        let ages = [0.5, 2.0, 5.9, 6.0, 9.0];
        // Access entries (2 per logout) live 6 s: 3 logouts young enough; refresh (1) 3 s: 2.
        assert_eq!(live_entries(&ages, 2, 1, 6.0, 3.0), 2.0 * 3.0 + 2.0);
        assert_eq!(live_entries(&[], 2, 1, 6.0, 3.0), 0.0);
    }
}
