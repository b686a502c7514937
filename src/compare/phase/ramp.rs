//! The ramp phase: the plan's stages of concurrent virtual users with the full mix (login, me,
//! refresh, logout) and think time — per-second rows for `ramp.csv`, and the run's peak `/api/me`
//! throughput, latency, server RSS and Redis memory for `summary.csv`.

use std::path::Path;

use anyhow::{Context, Result};
use authbench_loadgen::ramp::LoadModel;
use authbench_report::data::RampRow;
use authbench_servers::SchemeKind;

use super::{Health, Unit, UnitResult};

pub async fn run(u: &Unit<'_>, health: &mut Health, r: &mut UnitResult) -> Result<()> {
    let plan = &u.ctx.plan;
    u.phase("ramp");
    let mut c = u.load(Some(u.scheme), LoadModel::Closed { stages: plan.stages.clone() }, Some("ramp"));
    c.think = plan.think;
    c.first_user = 1;
    let ramp = u.run_load(c, "ramp", Some(health)).await?;
    r.ramp = ramp_rows(&u.dir.join("ramp").join("timeseries.csv"), u.scheme, u.repeat)?;
    let me_rows: Vec<&RampRow> = r.ramp.iter().filter(|row| row.active_vus > 0).collect();
    if let Some(max) = me_rows.iter().map(|row| row.me_rps).reduce(f64::max) {
        r.metrics.push(("me_rps_max", "req/s", max));
    }
    if let Some(l) = ramp.endpoints.get("me").and_then(|e| e.latency_us.as_ref()) {
        r.metrics.push(("me_p50_us", "us", l.p50 as f64));
        r.metrics.push(("me_p99_us", "us", l.p99 as f64));
    }
    for (endpoint, metric) in [("login", "login_p50_us"), ("refresh", "refresh_p50_us")] {
        if let Some(l) = ramp.endpoints.get(endpoint).and_then(|e| e.latency_us.as_ref()) {
            r.metrics.push((metric, "us", l.p50 as f64));
        }
    }
    if let Some(rss) = ramp.server.rss_bytes_max {
        r.metrics.push(("server_rss_bytes_max", "bytes", rss as f64));
    }
    if let Some(m) = ramp.redis.used_memory_max {
        r.metrics.push(("redis_used_memory_max", "bytes", m as f64));
    }
    Ok(())
}

/// Read the per-second rows of a ramp run's `timeseries.csv`.
fn ramp_rows(path: &Path, scheme: SchemeKind, repeat: u32) -> Result<Vec<RampRow>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (t, vus, rps, p50, p99, errs) =
        (col("t_s"), col("active_vus"), col("me_rps"), col("me_p50_us"), col("me_p99_us"), col("me_errors"));
    let (scpu, rcpu, rss, mem) = (
        col("server_cpu_us_per_req"),
        col("redis_cpu_us_per_req"),
        col("server_rss_bytes"),
        col("redis_used_memory"),
    );
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let num = |i: Option<usize>| i.and_then(|i| record.get(i)).and_then(|v| v.parse::<f64>().ok());
        let (Some(t_s), Some(p50), Some(p99)) = (num(t), num(p50), num(p99)) else { continue };
        rows.push(RampRow {
            scheme: scheme.to_string(),
            repeat,
            t_s,
            active_vus: num(vus).unwrap_or(0.0) as u64,
            me_rps: num(rps).unwrap_or(0.0),
            me_p50_us: p50,
            me_p99_us: p99,
            errors: num(errs).unwrap_or(0.0) as u64,
            server_cpu_us_per_req: num(scpu),
            redis_cpu_us_per_req: num(rcpu),
            server_rss_bytes: num(rss),
            redis_used_memory: num(mem),
        });
    }
    Ok(rows)
}
