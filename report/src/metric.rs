//! The figures of `summary.csv`: each [`Metric`] carries its name and its [`Unit`]; this is the
//! one place either is spelled. `compare` hands over `(Metric, value)` pairs; the report looks
//! rows up by `Metric`. Rows with other names (an older or foreign file) are still read and listed
//! in the appendix as they are.

use std::fmt;

/// The unit of a metric, as the `unit` column of `summary.csv` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Microseconds (`us`).
    Micros,
    /// A dimensionless ratio (`ratio`).
    Ratio,
    /// Coefficient of determination of a fit (`r2`).
    R2,
    /// Requests per second (`req/s`).
    RequestsPerSecond,
    /// Bytes (`bytes`).
    Bytes,
    /// A count of requests (`requests`).
    Requests,
    /// A number of one-second intervals in which a condition held (`seconds (count)`): a count,
    /// shown as a number, never rescaled to ms.
    SecondsCount,
    /// Events per second other than requests (`/s`).
    PerSecond,
}

impl Unit {
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Micros => "us",
            Unit::Ratio => "ratio",
            Unit::R2 => "r2",
            Unit::RequestsPerSecond => "req/s",
            Unit::Bytes => "bytes",
            Unit::Requests => "requests",
            Unit::SecondsCount => "seconds (count)",
            Unit::PerSecond => "/s",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One figure per scheme × repeat; `summary.csv` holds its mean and 95% CI across repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Server CPU per `GET /healthz` (no auth), µs, at the utilisation step's offered rate
    /// (`healthz_pairs.csv`; before issue 21: a steady closed-loop run).
    HealthzCpu,
    /// Server CPU per `GET /api/me`, µs, at the utilisation step (`--utilization` of the repeat's
    /// maximum, open model; before issue 21: a steady closed-loop run near saturation).
    MeCpuServer,
    /// redis-server CPU per `GET /api/me` (0 for the stateless schemes), µs.
    MeCpuRedis,
    /// Server + redis-server (+ HAProxy, with replicas) CPU per `GET /api/me`, µs.
    MeCpuTotal,
    /// HAProxy CPU per `GET /api/me` in front of the replicas (`compare --replicas N`), µs.
    MeCpuProxy,
    /// (Server + redis-server CPU per `/api/me`) ÷ `HealthzCpu`, same server, same run (with
    /// replicas HAProxy's part is left out: `/healthz` passes it too).
    CpuRatio,
    /// `/api/me` p50 of the utilisation step (before issue 21: the steady closed-loop run), µs.
    MeSteadyP50,
    /// `/api/me` p99 of the utilisation step, µs.
    MeSteadyP99,
    /// `/api/me` requests per second of the utilisation step.
    MeSteadyRps,
    /// Bytes of the credential header value per request.
    CredentialBytes,
    /// Highest `/api/me` requests per second in any second of the ramp.
    MeRpsMax,
    /// `/api/me` p50 over the whole ramp, µs.
    MeP50,
    /// `/api/me` p99 over the whole ramp, µs.
    MeP99,
    /// Login p50 over the ramp, µs.
    LoginP50,
    /// Refresh p50 over the ramp, µs.
    RefreshP50,
    /// Highest server RSS during the ramp, bytes.
    ServerRssMax,
    /// Highest Redis `used_memory` during the ramp, bytes.
    RedisMemoryMax,
    /// Slope of Redis `used_memory` against stored sessions, bytes per session.
    StoreBytesPerSession,
    /// R² of that fit.
    StoreBytesPerSessionR2,
    /// Slope of server RSS against stored sessions, bytes per session.
    ServerRssPerSession,
    /// Failed requests over every recorded phase.
    LoadErrors,
    /// Requests over every recorded phase.
    LoadRequests,
    /// How many of the unit's seconds (timeseries rows) the generator may have been the
    /// bottleneck in: a count (unit `seconds (count)`; runs before issue 10 wrote `s`).
    GeneratorSaturatedSeconds,
    /// Open-model maximum: the achieved `/api/me` rate of the highest step below the knee.
    MeRpsSustained,
    /// The lowest offered `/api/me` rate past the knee.
    MeKneeOffered,
    /// Server CPU per `/api/me` at the assumed utilisation's share of the maximum, µs (capacity
    /// projection).
    MeCpuServerAtUtilization,
    /// redis-server CPU per `/api/me` at that share (0 for the stateless schemes), µs.
    MeCpuRedisAtUtilization,
    /// `/api/me` p99 of the fixed-rate run at the spectrum's common rate, µs.
    MeFixedRateP99,
    /// JWT variants: Redis `used_memory` added per revoked token (logout), bytes.
    StoreBytesPerRevokedToken,
    /// `jwt-pubsub`: in-process denylist bytes per entry (estimated from its tables), bytes.
    DenylistBytesPerEntry,
    /// JWT variants: Redis commands per `POST /auth/refresh` (rotation with reuse detection).
    RefreshRedisCommands,
    /// JWT variants: redis-server CPU per `POST /auth/refresh`, µs.
    RefreshCpuRedis,
    /// JWT variants: server CPU per `POST /auth/refresh`, µs.
    RefreshCpuServer,
    /// `session-tracked`: keys Redis told the servers to drop (invalidation pushes, summed over
    /// replicas) per second of the ramp, whose mix logs out and refreshes (each a write to a
    /// tracked key).
    CacheInvalidationsPerSecond,
}

impl Metric {
    pub const ALL: [Metric; 34] = [
        Metric::HealthzCpu,
        Metric::MeCpuServer,
        Metric::MeCpuRedis,
        Metric::MeCpuTotal,
        Metric::MeCpuProxy,
        Metric::CpuRatio,
        Metric::MeSteadyP50,
        Metric::MeSteadyP99,
        Metric::MeSteadyRps,
        Metric::CredentialBytes,
        Metric::MeRpsMax,
        Metric::MeP50,
        Metric::MeP99,
        Metric::LoginP50,
        Metric::RefreshP50,
        Metric::ServerRssMax,
        Metric::RedisMemoryMax,
        Metric::StoreBytesPerSession,
        Metric::StoreBytesPerSessionR2,
        Metric::ServerRssPerSession,
        Metric::LoadErrors,
        Metric::LoadRequests,
        Metric::GeneratorSaturatedSeconds,
        Metric::MeRpsSustained,
        Metric::MeKneeOffered,
        Metric::MeCpuServerAtUtilization,
        Metric::MeCpuRedisAtUtilization,
        Metric::MeFixedRateP99,
        Metric::StoreBytesPerRevokedToken,
        Metric::DenylistBytesPerEntry,
        Metric::RefreshRedisCommands,
        Metric::RefreshCpuRedis,
        Metric::RefreshCpuServer,
        Metric::CacheInvalidationsPerSecond,
    ];

    /// The `metric` column of `summary.csv`.
    pub const fn name(self) -> &'static str {
        match self {
            Metric::HealthzCpu => "healthz_cpu_us_per_req",
            Metric::MeCpuServer => "me_cpu_us_per_req_server",
            Metric::MeCpuRedis => "me_cpu_us_per_req_redis",
            Metric::MeCpuTotal => "me_cpu_us_per_req_total",
            Metric::MeCpuProxy => "me_cpu_us_per_req_proxy",
            Metric::CpuRatio => "cpu_ratio_me_over_healthz",
            Metric::MeSteadyP50 => "me_steady_p50_us",
            Metric::MeSteadyP99 => "me_steady_p99_us",
            Metric::MeSteadyRps => "me_steady_rps",
            Metric::CredentialBytes => "credential_bytes",
            Metric::MeRpsMax => "me_rps_max",
            Metric::MeP50 => "me_p50_us",
            Metric::MeP99 => "me_p99_us",
            Metric::LoginP50 => "login_p50_us",
            Metric::RefreshP50 => "refresh_p50_us",
            Metric::ServerRssMax => "server_rss_bytes_max",
            Metric::RedisMemoryMax => "redis_used_memory_max",
            Metric::StoreBytesPerSession => "store_bytes_per_session",
            Metric::StoreBytesPerSessionR2 => "store_bytes_per_session_r2",
            Metric::ServerRssPerSession => "server_rss_bytes_per_session",
            Metric::LoadErrors => "load_errors",
            Metric::LoadRequests => "load_requests",
            Metric::GeneratorSaturatedSeconds => "generator_saturated_seconds",
            Metric::MeRpsSustained => "me_rps_sustained",
            Metric::MeKneeOffered => "me_knee_offered_rps",
            Metric::MeCpuServerAtUtilization => "me_cpu_us_per_req_server_at_utilization",
            Metric::MeCpuRedisAtUtilization => "me_cpu_us_per_req_redis_at_utilization",
            Metric::MeFixedRateP99 => "me_fixed_rate_p99_us",
            Metric::StoreBytesPerRevokedToken => "store_bytes_per_revoked_token",
            Metric::DenylistBytesPerEntry => "denylist_bytes_per_entry",
            Metric::RefreshRedisCommands => "refresh_redis_commands_per_req",
            Metric::RefreshCpuRedis => "refresh_cpu_us_per_req_redis",
            Metric::RefreshCpuServer => "refresh_cpu_us_per_req_server",
            Metric::CacheInvalidationsPerSecond => "cache_invalidations_per_s",
        }
    }

    /// The `unit` column of `summary.csv`.
    pub const fn unit(self) -> Unit {
        match self {
            Metric::HealthzCpu
            | Metric::MeCpuServer
            | Metric::MeCpuRedis
            | Metric::MeCpuTotal
            | Metric::MeCpuProxy
            | Metric::MeSteadyP50
            | Metric::MeSteadyP99
            | Metric::MeP50
            | Metric::MeP99
            | Metric::LoginP50
            | Metric::RefreshP50
            | Metric::MeCpuServerAtUtilization
            | Metric::MeCpuRedisAtUtilization
            | Metric::MeFixedRateP99
            | Metric::RefreshCpuRedis
            | Metric::RefreshCpuServer => Unit::Micros,
            Metric::CpuRatio | Metric::RefreshRedisCommands => Unit::Ratio,
            Metric::StoreBytesPerSessionR2 => Unit::R2,
            Metric::MeSteadyRps | Metric::MeRpsMax | Metric::MeRpsSustained | Metric::MeKneeOffered => {
                Unit::RequestsPerSecond
            }
            Metric::CredentialBytes
            | Metric::ServerRssMax
            | Metric::RedisMemoryMax
            | Metric::StoreBytesPerSession
            | Metric::ServerRssPerSession
            | Metric::StoreBytesPerRevokedToken
            | Metric::DenylistBytesPerEntry => Unit::Bytes,
            Metric::LoadErrors | Metric::LoadRequests => Unit::Requests,
            Metric::GeneratorSaturatedSeconds => Unit::SecondsCount,
            Metric::CacheInvalidationsPerSecond => Unit::PerSecond,
        }
    }

    /// The metric a `summary.csv` name stands for, if it is one of ours.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(m));
            assert_eq!(Metric::ALL.iter().filter(|n| n.name() == m.name()).count(), 1, "{m}");
        }
        assert_eq!(Metric::from_name("not_a_metric"), None);
    }

    #[test]
    fn units_as_summary_csv_spells_them() {
        assert_eq!(Metric::HealthzCpu.unit().as_str(), "us");
        assert_eq!(Metric::CpuRatio.unit().as_str(), "ratio");
        assert_eq!(Metric::MeRpsMax.unit().as_str(), "req/s");
        assert_eq!(Metric::StoreBytesPerSession.unit().as_str(), "bytes");
        assert_eq!(Metric::StoreBytesPerSessionR2.unit().as_str(), "r2");
        assert_eq!(Metric::LoadErrors.unit().as_str(), "requests");
        assert_eq!(Metric::GeneratorSaturatedSeconds.unit().as_str(), "seconds (count)");
        assert_eq!(Metric::CacheInvalidationsPerSecond.unit().as_str(), "/s");
    }
}
