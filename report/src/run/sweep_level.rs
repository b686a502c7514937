//! The part of a `sessions.csv` row a sweep level's load run gives: its `/api/me` latency and the
//! CPU and generator figures; the level's store readings are compare's.

use authbench_loadgen::Endpoint;
use authbench_loadgen::Summary;

use crate::data::SessionsRow;

impl SessionsRow {
    /// The row of `sessions` stored sessions as far as the level's run `s` says; the store's
    /// readings (memory, keys, lookups, cache) are left empty for the caller to fill.
    pub fn from_run(scheme: &str, repeat: u32, sessions: u64, uses_store: bool, s: &Summary) -> SessionsRow {
        let me = s.endpoint(Endpoint::Me).and_then(|e| e.latency_us.as_ref());
        SessionsRow {
            scheme: scheme.to_owned(),
            repeat,
            sessions,
            me_p50_us: me.map(|l| l.p50 as f64).unwrap_or(f64::NAN),
            me_p90_us: me.map(|l| l.p90 as f64),
            me_p99_us: me.map(|l| l.p99 as f64).unwrap_or(f64::NAN),
            me_p999_us: me.map(|l| l.p999 as f64),
            server_cpu_us_per_req: s.server.cpu_us_per_req,
            redis_cpu_us_per_req: if uses_store { s.redis.cpu_us_per_req } else { Some(0.0) },
            generator_cpu_pct: Some(s.generator.cpu_percent),
            generator_lag_ms: Some(s.generator.max_lag_us as f64 / 1000.0),
            ..SessionsRow::default()
        }
    }
}
