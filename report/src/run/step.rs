//! A fixed-rate open-model run's row (`saturation.csv`, `cpu_vs_load.csv`) and the figures the
//! knee search judges it by, all read from the run's [`Summary`].

use std::time::Duration;

use authbench_loadgen::{Latency, Summary};

use crate::saturation::LoadStepRow;

/// Successful answers of the run's main endpoint per second of `planned`, the length the run was
/// scheduled for: not over `duration_s`, which also holds the end-of-run wait for users to
/// retire (on a 1-2 s step a few tens of ms of that wait pushed a sustained rate below 95% of the
/// offered one).
pub fn achieved_rps(s: &Summary, planned: Duration) -> f64 {
    let count = s.main().map_or(0, |e| e.count);
    let planned_s = planned.as_secs_f64();
    if planned_s > 0.0 { count as f64 / planned_s } else { 0.0 }
}

/// A percentile of the main endpoint's corrected latency, µs.
pub fn main_latency_us(s: &Summary, f: fn(&Latency) -> u64) -> Option<f64> {
    s.main().and_then(|e| e.latency_us.as_ref()).map(|l| f(l) as f64)
}

/// redis-server's busy share of one core over the run, %: its CPU per request times requests
/// per second.
pub fn redis_cpu_pct(s: &Summary) -> Option<f64> {
    let attempts = s.total.count + s.total.errors + s.total.unfinished;
    s.redis.cpu_us_per_req.filter(|_| s.duration_s > 0.0).map(|us| us * attempts as f64 / s.duration_s / 1e4)
}

/// What a fixed-rate run's row holds beside its summary: where it stands in the run, what it was
/// asked (rate, pool, planned length) and how compare judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRun<'a> {
    pub scheme: &'a str,
    pub repeat: u32,
    /// 1-based, in the order run.
    pub step: u32,
    /// Offered rate ÷ the repeat's maximum (CPU-against-load runs only).
    pub share: Option<f64>,
    /// Whether the scheme keeps state in Redis (else its Redis CPU is written as 0: what Redis did
    /// meanwhile was its own background work).
    pub uses_store: bool,
    pub offered_rps: f64,
    pub vus: u64,
    pub planned: Duration,
    /// `ok`, or the limits broken (`throughput+p99`).
    pub limits: String,
    pub machine_cpu_pct: Option<f64>,
    /// Preloaded users the credentials were drawn from (`None`: the pool's own logins).
    pub users: Option<u64>,
    /// The servers' cache hit ratio over the run, where a cache ran.
    pub hit_ratio: Option<f64>,
}

impl LoadStepRow {
    /// The `saturation.csv` / `cpu_vs_load.csv` row of one fixed-rate run; knee and sustained
    /// are marked by the search afterwards.
    pub fn from_run(at: StepRun<'_>, s: &Summary) -> LoadStepRow {
        let main = s.main();
        let redis = |v: Option<f64>| if at.uses_store { v } else { v.map(|_| 0.0) };
        LoadStepRow {
            scheme: at.scheme.to_owned(),
            repeat: at.repeat,
            step: at.step,
            share: at.share,
            offered_rps: at.offered_rps,
            achieved_rps: achieved_rps(s, at.planned),
            vus: at.vus,
            me_p50_us: main_latency_us(s, |l| l.p50),
            me_p90_us: main_latency_us(s, |l| l.p90),
            me_p99_us: main_latency_us(s, |l| l.p99),
            me_p999_us: main_latency_us(s, |l| l.p999),
            me_p99_uncorrected_us: main.and_then(|e| e.uncorrected_latency_us.as_ref()).map(|l| l.p99 as f64),
            errors: s.failed(),
            dropped: s.open.as_ref().map_or(0, |o| o.dropped),
            server_cpu_us_per_req: s.server.cpu_us_per_req,
            redis_cpu_us_per_req: redis(s.redis.cpu_us_per_req),
            server_cpu_pct: s.server.cpu_percent,
            redis_cpu_pct: redis(redis_cpu_pct(s)),
            generator_cpu_pct: s.generator.cpu_percent,
            generator_lag_ms: s.generator.max_lag_us as f64 / 1000.0,
            generator_saturated: s.generator.saturated,
            limits: at.limits,
            knee: false,
            sustained: false,
            machine_cpu_pct: at.machine_cpu_pct,
            users: at.users,
            hit_ratio: at.hit_ratio,
        }
    }
}
