//! The workload a capacity answer is for: users, their request, login and logout rates, the
//! lifetimes, the revocation requirement, the SLO, the utilisation targets and optional prices.
//! Read from a small TOML file (`authbench capacity --workload FILE`), any field overridden by a
//! flag; every field has a stated default, printed beside the answer.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Seconds in a day, for the per-day rates.
const DAY_S: f64 = 86_400.0;
/// Hours in a month of the price figures (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The transport between clients and the app servers: what a request costs in server CPU and
/// bytes, and a login in handshakes, depends on it (`compare --transport` measures each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Transport {
    /// HTTP/1.1 in clear text (the figures every other phase measures).
    #[default]
    #[serde(rename = "h1")]
    H1,
    /// HTTP/2 in clear text (prior knowledge).
    #[serde(rename = "h2")]
    H2,
    #[serde(rename = "h1-tls")]
    H1Tls,
    #[serde(rename = "h2-tls")]
    H2Tls,
}

impl Transport {
    /// The name `transport.csv` gives it.
    pub fn name(self) -> &'static str {
        match self {
            Transport::H1 => "h1",
            Transport::H2 => "h2",
            Transport::H1Tls => "h1-tls",
            Transport::H2Tls => "h2-tls",
        }
    }
}

impl std::str::FromStr for Transport {
    type Err = BadWorkload;
    fn from_str(s: &str) -> Result<Transport, BadWorkload> {
        [Transport::H1, Transport::H2, Transport::H1Tls, Transport::H2Tls]
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| BadWorkload(format!("transport must be h1, h2, h1-tls or h2-tls, got {s:?}")))
    }
}

/// One workload. Durations in TOML are humantime strings (`"15m"`, `"7d"`, `"250ms"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Workload {
    /// Logged-in users, each holding one live credential.
    pub users: u64,
    /// Authenticated requests (`GET /api/me`) per user per second, averaged over the day.
    pub requests_per_user_s: f64,
    pub logins_per_user_day: f64,
    pub logouts_per_user_day: f64,
    /// Access lifetime: the JWT access token's, the cookie's, and the sessions' idle timeout.
    #[serde(with = "humantime_serde")]
    pub access_ttl: Duration,
    /// The JWT refresh token's lifetime (one refresh-token family lives this long in the JWT
    /// variants' Redis).
    #[serde(with = "humantime_serde")]
    pub refresh_ttl: Duration,
    /// Absolute lifetime of a login, however often refreshed.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// The cached session schemes' cache TTL.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// A logged-out credential must be refused within this long.
    #[serde(with = "humantime_serde")]
    pub revoke_within: Duration,
    /// p99 of `GET /api/me` must stay under this.
    #[serde(with = "humantime_serde")]
    pub p99_slo: Duration,
    /// Share of a core each app server runs at (0–1): CPU per request is read at this share of
    /// the scheme's maximum.
    pub utilisation: f64,
    /// Share of its one core each Redis shard runs at (0–1).
    pub redis_utilisation: f64,
    /// Memory one Redis shard may hold (GiB), replicas apart.
    pub shard_memory_gib: f64,
    /// Replicas per Redis shard (memory and cores counted for each).
    pub redis_replicas: u32,
    /// The clients' transport to the app servers.
    pub transport: Transport,
    /// Round trip between an app server and Redis (0: the same host's loopback).
    #[serde(with = "humantime_serde")]
    pub store_rtt: Duration,
    /// Optional prices: per core-hour, per GiB-hour of memory.
    pub price_core_hour: Option<f64>,
    pub price_gib_hour: Option<f64>,
}

impl Default for Workload {
    /// The report's stated default workload (the answer's first section runs it at 1M, 10M and
    /// 100M users).
    fn default() -> Self {
        Workload {
            users: 10_000_000,
            requests_per_user_s: 0.1,
            logins_per_user_day: 1.0,
            logouts_per_user_day: 0.5,
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(7 * 86_400),
            max_age: Duration::from_secs(86_400),
            cache_ttl: Duration::from_secs(1),
            revoke_within: Duration::from_secs(1),
            p99_slo: Duration::from_millis(50),
            utilisation: 0.6,
            redis_utilisation: 0.6,
            shard_memory_gib: 16.0,
            redis_replicas: 1,
            transport: Transport::H1,
            store_rtt: Duration::ZERO,
            price_core_hour: None,
            price_gib_hour: None,
        }
    }
}

/// A workload that cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("workload: {0}")]
pub struct BadWorkload(pub String);

impl Workload {
    /// Parse a workload file's text (TOML); absent fields keep their defaults.
    pub fn from_toml(text: &str) -> Result<Workload, BadWorkload> {
        let w: Workload = toml::from_str(text).map_err(|e| BadWorkload(e.message().to_owned()))?;
        w.checked()
    }

    /// The workload if every field is in range, else what is wrong.
    pub fn checked(self) -> Result<Workload, BadWorkload> {
        let share = |name: &str, x: f64| {
            if x > 0.0 && x <= 1.0 {
                Ok(())
            } else {
                Err(BadWorkload(format!("{name} must be in (0, 1], got {x}")))
            }
        };
        share("utilisation", self.utilisation)?;
        share("redis_utilisation", self.redis_utilisation)?;
        if self.users == 0 {
            return Err(BadWorkload("users must be at least 1".into()));
        }
        for (name, x) in [
            ("requests_per_user_s", self.requests_per_user_s),
            ("logins_per_user_day", self.logins_per_user_day),
            ("logouts_per_user_day", self.logouts_per_user_day),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(BadWorkload(format!("{name} must be a non-negative number, got {x}")));
            }
        }
        if self.shard_memory_gib.is_nan() || self.shard_memory_gib <= 0.0 {
            return Err(BadWorkload("shard_memory_gib must be positive".into()));
        }
        if self.max_age < self.access_ttl {
            return Err(BadWorkload("max_age is below access_ttl: no credential outlives its login".into()));
        }
        Ok(self)
    }

    /// The same workload for another number of users.
    pub fn with_users(&self, users: u64) -> Workload {
        Workload { users, ..self.clone() }
    }

    pub fn requests_s(&self) -> f64 {
        self.users as f64 * self.requests_per_user_s
    }

    pub fn logins_s(&self) -> f64 {
        self.users as f64 * self.logins_per_user_day / DAY_S
    }

    pub fn logouts_s(&self) -> f64 {
        self.users as f64 * self.logouts_per_user_day / DAY_S
    }

    /// Refreshes per second of a scheme whose access credential lasts `access_ttl`: every user
    /// refreshes once per access lifetime while active (all users are, at this workload's rate).
    pub fn refreshes_s(&self) -> f64 {
        self.users as f64 / self.access_ttl.as_secs_f64().max(1.0)
    }

    /// How long one login's refresh-token family lives: its refresh lifetime, cut at the
    /// absolute lifetime.
    pub fn family_life_s(&self) -> f64 {
        self.refresh_ttl.min(self.max_age).as_secs_f64()
    }

    /// The assumptions to print beside an answer, one line each.
    pub fn stated(&self) -> Vec<String> {
        let d = |x: Duration| humantime::format_duration(x).to_string();
        let mut out = vec![
            format!(
                "{} users, {} requests/s each ({:.0} req/s in all); per user per day {} login(s), {} logout(s)",
                self.users,
                self.requests_per_user_s,
                self.requests_s(),
                self.logins_per_user_day,
                self.logouts_per_user_day
            ),
            format!(
                "lifetimes: access / cookie / session idle {}, refresh {}, absolute {}, cache {}",
                d(self.access_ttl),
                d(self.refresh_ttl),
                d(self.max_age),
                d(self.cache_ttl)
            ),
            format!("requirement: revoke within {}, p99 under {}", d(self.revoke_within), d(self.p99_slo)),
            format!(
                "app servers at {:.0}% of a core, Redis shards at {:.0}% of their one core and at most {} GiB, {} replica(s) each",
                self.utilisation * 100.0,
                self.redis_utilisation * 100.0,
                self.shard_memory_gib,
                self.redis_replicas
            ),
            format!(
                "clients over {}, Redis {}",
                self.transport.name(),
                if self.store_rtt.is_zero() {
                    "on loopback".to_owned()
                } else {
                    format!("a {} round trip away", d(self.store_rtt))
                }
            ),
        ];
        if let (Some(c), Some(g)) = (self.price_core_hour, self.price_gib_hour) {
            out.push(format!("prices: {c} per core-hour, {g} per GiB-hour, {HOURS_PER_MONTH} hours a month"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_only_what_it_names() {
        let w =
            Workload::from_toml("users = 2000000\naccess_ttl = \"5m\"\nprice_core_hour = 0.04\n").unwrap();
        assert_eq!(w.users, 2_000_000);
        assert_eq!(w.access_ttl, Duration::from_secs(300));
        assert_eq!(w.refresh_ttl, Workload::default().refresh_ttl);
        assert_eq!(w.price_core_hour, Some(0.04));
        assert!((w.requests_s() - 200_000.0).abs() < 1e-9);
        assert!((w.refreshes_s() - 2e6 / 300.0).abs() < 1e-9);
        let w = Workload::from_toml("transport = \"h2-tls\"\nstore_rtt = \"250us\"").unwrap();
        assert_eq!((w.transport, w.store_rtt), (Transport::H2Tls, Duration::from_micros(250)));
    }

    #[test]
    fn bad_workloads_say_what_is_wrong() {
        let e = Workload::from_toml("utilisation = 1.5").unwrap_err();
        assert!(e.to_string().contains("utilisation must be in (0, 1]"), "{e}");
        let e = Workload::from_toml("userz = 3").unwrap_err();
        assert!(e.to_string().contains("userz"), "{e}");
        let e = Workload::from_toml("max_age = \"1m\"").unwrap_err();
        assert!(e.to_string().contains("max_age"), "{e}");
    }

    #[test]
    fn a_family_lives_its_refresh_lifetime_cut_at_the_absolute_one() {
        let w = Workload::default();
        assert_eq!(w.family_life_s(), 86_400.0);
    }
}
