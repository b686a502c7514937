//! The arithmetic of one answer: a workload and one repeat's measured inputs for one scheme in,
//! app cores, Redis cores, memory and shards, bytes/s, revocation window, p99 and cost out.
//! Every formula is here, once; [`super::across`] runs it per repeat and takes the interval.
//!
//! For N users at λ requests/s each (R = Nλ), logins L/s, logouts O/s, refreshes F/s:
//! - app cores = (R·cpu_me + L·cpu_login + F·cpu_refresh) ÷ 1e6 ÷ utilisation, each CPU per
//!   request measured at that utilisation's share of the scheme's maximum (open model);
//! - Redis cores = (R·m·redis_lookup + L·redis_login + F·redis_refresh + O·redis_logout) ÷ 1e6,
//!   with m the share of requests that reach Redis (1, or the measured miss ratio of a cached
//!   scheme at λ), redis_lookup Redis's own CPU for the scheme's per-request command measured with
//!   Redis driven directly at the plan's Redis utilisation; shards by CPU = ⌈cores ÷ utilisation⌉
//!   (Redis runs commands on one core);
//! - Redis memory: sessions N × bytes per logged-in user (one session each); the JWT variants
//!   L × family life × bytes per family key, plus O × Σ entry lifetimes × bytes per entry; shards
//!   by memory = ⌈memory ÷ shard budget⌉; replicas hold the same again;
//! - bytes/s = R × bytes per request (request + response, counted at the socket);
//! - p99 read off the measured latency against load at the utilisation (never past the highest
//!   measured share, and never past 75% of the maximum).

use super::workload::{HOURS_PER_MONTH, Workload};

/// A JWT verifier's leeway after expiry (jsonwebtoken's default, the servers' `LEEWAY_SECS`).
pub const JWT_LEEWAY_S: f64 = 5.0;
/// p99 is never read past this share of the maximum (latency past it is the knee's, not a plan's).
pub const P99_MAX_SHARE: f64 = 0.75;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// What the model needs to know of a scheme's design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    Cookie,
    Session,
    Jwt,
    JwtRevocable,
    JwtPubsub,
    SessionCached,
    SessionTracked,
}

impl Design {
    pub fn of(scheme: &str) -> Option<Design> {
        Some(match scheme {
            "cookie" => Design::Cookie,
            "session" => Design::Session,
            "jwt" => Design::Jwt,
            "jwt-revocable" => Design::JwtRevocable,
            "jwt-pubsub" => Design::JwtPubsub,
            "session-cached" => Design::SessionCached,
            "session-tracked" => Design::SessionTracked,
            _ => return None,
        })
    }

    /// A session scheme: one record per logged-in user, no refresh needed (the idle TTL slides).
    pub fn is_session(self) -> bool {
        matches!(self, Design::Session | Design::SessionCached | Design::SessionTracked)
    }

    /// A cache in front of Redis: only misses reach it.
    pub fn is_cached(self) -> bool {
        matches!(self, Design::SessionCached | Design::SessionTracked)
    }

    /// Revocation state in Redis for the JWT variants (families, denylist entries).
    pub fn is_revocable_jwt(self) -> bool {
        matches!(self, Design::JwtRevocable | Design::JwtPubsub)
    }

    /// Whether the scheme cannot serve without Redis (jwt-pubsub answers 503 while its
    /// subscription is down, although no request reads Redis).
    pub fn needs_redis(self) -> bool {
        !matches!(self, Design::Cookie | Design::Jwt)
    }

    /// Whether an authenticated request reads Redis (before any cache).
    pub fn reads_redis_per_request(self) -> bool {
        self.is_session() || self == Design::JwtRevocable
    }
}

/// One repeat's measured inputs for one scheme (µs are CPU time; `None`: not measured).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// Server CPU per `GET /api/me` at the workload's utilisation (open model).
    pub server_us: f64,
    /// Redis CPU of the scheme's per-request command(s) at the plan's Redis utilisation.
    pub redis_lookup_us: Option<f64>,
    /// Cached schemes: the share of requests served without Redis, at the workload's per-user rate.
    pub hit_ratio: Option<f64>,
    /// Server CPU per login at the production password-hashing cost, per refresh, per logout.
    pub login_us: Option<f64>,
    pub refresh_us: Option<f64>,
    pub logout_us: Option<f64>,
    /// Redis CPU per login, refresh and logout (their scripts).
    pub login_redis_us: Option<f64>,
    pub refresh_redis_us: Option<f64>,
    pub logout_redis_us: Option<f64>,
    /// Bytes on the wire per `GET /api/me`, request + response.
    pub bytes_per_request: Option<f64>,
    /// Session schemes: Redis bytes per logged-in user (record + index).
    pub store_bytes_per_user: Option<f64>,
    /// JWT variants: Redis bytes per refresh-token family key, and per revocation entry.
    pub family_bytes: Option<f64>,
    pub revoked_entry_bytes: Option<f64>,
    /// JWT variants: entries one logout stores living the access lifetime, and the refresh one.
    pub access_entries: u32,
    pub refresh_entries: u32,
    /// Measured p99 (µs) against the share of the maximum it was measured at.
    pub p99_curve: Vec<(f64, f64)>,
    /// Measured logout revocation window (s) of a scheme that revokes server-side.
    pub window_s: Option<f64>,
}

/// One repeat's answer for one scheme.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    pub requests_s: f64,
    pub app_cores: f64,
    pub redis_cores: f64,
    /// Redis memory on the primaries, and with the replicas.
    pub redis_memory_bytes: Option<f64>,
    pub redis_memory_total_bytes: Option<f64>,
    pub shards_by_cpu: f64,
    pub shards_by_memory: Option<f64>,
    pub shards: f64,
    pub bytes_s: Option<f64>,
    /// Logout revocation window at the workload's lifetimes (s).
    pub window_s: Option<f64>,
    pub p99_us: Option<f64>,
    pub cost_month: Option<f64>,
    /// Which inputs were missing (the answer counts them as 0).
    pub missing: Vec<&'static str>,
}

/// The answer for `design` under `w` from one repeat's `inputs`.
pub fn answer(design: Design, w: &Workload, inputs: &Inputs) -> Answer {
    let mut missing = Vec::new();
    let mut or0 = |x: Option<f64>, what: &'static str| {
        x.unwrap_or_else(|| {
            missing.push(what);
            0.0
        })
    };
    let r = w.requests_s();
    let refreshes = if design.is_session() { 0.0 } else { w.refreshes_s() };
    let app_us = r * inputs.server_us
        + w.logins_s() * or0(inputs.login_us, "login CPU")
        + refreshes * if refreshes > 0.0 { or0(inputs.refresh_us, "refresh CPU") } else { 0.0 };
    let app_cores = app_us / 1e6 / w.utilisation;

    let reach = if design.is_cached() { 1.0 - or0(inputs.hit_ratio, "hit ratio") } else { 1.0 };
    let lookup = if design.reads_redis_per_request() {
        or0(inputs.redis_lookup_us, "Redis CPU per lookup")
    } else {
        0.0
    };
    let redis_us = if design.needs_redis() {
        r * reach * lookup
            + w.logins_s() * or0(inputs.login_redis_us, "Redis CPU per login")
            + w.logouts_s() * or0(inputs.logout_redis_us, "Redis CPU per logout")
            + if refreshes > 0.0 {
                refreshes * or0(inputs.refresh_redis_us, "Redis CPU per refresh")
            } else {
                0.0
            }
    } else {
        0.0
    };
    let redis_cores = redis_us / 1e6;

    let memory = if design.is_session() {
        inputs.store_bytes_per_user.map(|b| w.users as f64 * b)
    } else if design.is_revocable_jwt() {
        match (inputs.family_bytes, inputs.revoked_entry_bytes) {
            (Some(f), Some(e)) => {
                let access_life = w.access_ttl.as_secs_f64() + JWT_LEEWAY_S;
                let refresh_life = w.family_life_s() + JWT_LEEWAY_S;
                let entry_s =
                    inputs.access_entries as f64 * access_life + inputs.refresh_entries as f64 * refresh_life;
                Some(w.logins_s() * w.family_life_s() * f + w.logouts_s() * entry_s * e)
            }
            _ => None,
        }
    } else {
        Some(0.0)
    };
    if memory.is_none() {
        missing.push("Redis bytes per user");
    }
    let shards_by_cpu =
        if design.needs_redis() { ceil(redis_cores / w.redis_utilisation).max(1.0) } else { 0.0 };
    let shards_by_memory = memory
        .map(|m| if design.needs_redis() { ceil(m / (w.shard_memory_gib * GIB)).max(1.0) } else { 0.0 });
    let shards = shards_by_cpu.max(shards_by_memory.unwrap_or(0.0));
    let replicas = 1.0 + w.redis_replicas as f64;
    let total_memory = memory.map(|m| m * replicas);

    let window_s = match design {
        Design::Cookie => Some(w.access_ttl.as_secs_f64()),
        Design::Jwt => Some(w.access_ttl.as_secs_f64() + JWT_LEEWAY_S),
        Design::SessionCached => Some(inputs.window_s.unwrap_or(0.0).max(w.cache_ttl.as_secs_f64())),
        _ => inputs.window_s,
    };
    let cost_month = match (w.price_core_hour, w.price_gib_hour, total_memory) {
        (Some(core), Some(gib), Some(mem)) => {
            let cores = app_cores + shards * replicas;
            Some(HOURS_PER_MONTH * (cores * core + mem / GIB * gib))
        }
        _ => None,
    };
    Answer {
        requests_s: r,
        app_cores,
        redis_cores,
        redis_memory_bytes: memory,
        redis_memory_total_bytes: total_memory,
        shards_by_cpu,
        shards_by_memory,
        shards,
        bytes_s: inputs.bytes_per_request.map(|b| r * b),
        window_s,
        p99_us: p99_at(&inputs.p99_curve, w.utilisation),
        cost_month,
        missing,
    }
}

fn ceil(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x.ceil() } else { 0.0 }
}

/// p99 at `share` of the maximum, linearly interpolated between the measured shares around it;
/// `None` past the highest measured share, past [`P99_MAX_SHARE`], or below the lowest.
pub fn p99_at(curve: &[(f64, f64)], share: f64) -> Option<f64> {
    if share > P99_MAX_SHARE + 1e-9 {
        return None;
    }
    let mut pts: Vec<(f64, f64)> =
        curve.iter().copied().filter(|(s, p)| s.is_finite() && p.is_finite()).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts.windows(2).find(|w| w[0].0 <= share + 1e-9 && share <= w[1].0 + 1e-9).map(|w| {
        let (a, b) = (w[0], w[1]);
        if (b.0 - a.0).abs() < 1e-12 { a.1 } else { a.1 + (b.1 - a.1) * (share - a.0) / (b.0 - a.0) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload() -> Workload {
        Workload {
            users: 10_000_000,
            price_core_hour: Some(0.04),
            price_gib_hour: Some(0.005),
            ..Workload::default()
        }
    }

    #[test]
    fn session_by_hand() {
        let w = workload();
        let i = Inputs {
            server_us: 30.0,
            redis_lookup_us: Some(6.0),
            login_us: Some(20_000.0),
            login_redis_us: Some(20.0),
            logout_redis_us: Some(10.0),
            bytes_per_request: Some(300.0),
            store_bytes_per_user: Some(400.0),
            p99_curve: vec![(0.25, 500.0), (0.6, 800.0), (0.75, 2_000.0)],
            window_s: Some(0.001),
            ..Inputs::default()
        };
        let a = answer(Design::Session, &w, &i);
        // 1e6 req/s × 30 µs = 30 cores busy, + 115.7 logins/s × 20 ms = 2.31 → ÷ 0.6
        let logins = 1e7 / 86_400.0;
        assert!((a.app_cores - (30.0 + logins * 0.02) / 0.6).abs() < 1e-9, "{a:?}");
        // Redis: 1e6 × 6 µs = 6 cores + logins 20 µs + logouts 10 µs; ÷ 0.6 → 11 shards by CPU
        let redis = 6.0 + (logins * 20.0 + logins / 2.0 * 10.0) / 1e6;
        assert!((a.redis_cores - redis).abs() < 1e-9);
        assert_eq!(a.shards_by_cpu, (redis / 0.6).ceil());
        // 1e7 × 400 B = 3.73 GiB → 1 shard by memory; replicas double it
        assert_eq!(a.shards_by_memory, Some(1.0));
        assert_eq!(a.redis_memory_total_bytes, Some(8e9));
        assert_eq!(a.bytes_s, Some(3e8));
        assert_eq!(a.p99_us, Some(800.0));
        assert!(a.missing.is_empty(), "{:?}", a.missing);
        let cores = a.app_cores + a.shards * 2.0;
        assert!((a.cost_month.unwrap() - 730.0 * (cores * 0.04 + 8e9 / GIB * 0.005)).abs() < 1e-6);
    }

    #[test]
    fn a_cached_scheme_sends_only_its_misses_to_redis() {
        let w = workload();
        let i = Inputs {
            server_us: 20.0,
            redis_lookup_us: Some(6.0),
            hit_ratio: Some(0.09),
            ..Inputs::default()
        };
        let a = answer(Design::SessionCached, &w, &i);
        assert!((a.redis_cores - 1e6 * 0.91 * 6.0 / 1e6).abs() < 1e-9);
        assert_eq!(a.window_s, Some(1.0), "at least the cache TTL");
        assert!(a.missing.contains(&"login CPU"));
    }

    #[test]
    fn jwt_variants_hold_families_and_revocations_and_stateless_jwt_needs_no_redis() {
        let w = workload();
        let i = Inputs {
            server_us: 25.0,
            family_bytes: Some(100.0),
            revoked_entry_bytes: Some(80.0),
            access_entries: 1,
            refresh_entries: 1,
            ..Inputs::default()
        };
        let a = answer(Design::JwtPubsub, &w, &i);
        let (logins, logouts) = (1e7 / 86_400.0, 0.5e7 / 86_400.0);
        let expect = logins * 86_400.0 * 100.0 + logouts * ((900.0 + 5.0) + (86_400.0 + 5.0)) * 80.0;
        assert!((a.redis_memory_bytes.unwrap() - expect).abs() < 1e-3, "{a:?}");
        assert_eq!(a.shards_by_cpu, 1.0, "jwt-pubsub needs Redis although no request reads it");
        let j =
            answer(Design::Jwt, &w, &Inputs { server_us: 25.0, refresh_us: Some(50.0), ..Inputs::default() });
        assert_eq!((j.shards, j.redis_cores, j.redis_memory_bytes), (0.0, 0.0, Some(0.0)));
        assert_eq!(j.window_s, Some(905.0));
    }

    #[test]
    fn p99_is_interpolated_and_never_read_past_75_percent() {
        let c = [(0.1, 100.0), (0.6, 600.0), (0.75, 900.0)];
        assert_eq!(p99_at(&c, 0.35), Some(350.0));
        assert_eq!(p99_at(&c, 0.75), Some(900.0));
        assert_eq!(p99_at(&c, 0.8), None);
        assert_eq!(p99_at(&c, 0.05), None);
    }
}
