//! The CPU phase: CPU per request of `GET /healthz` (no auth) and of `GET /api/me`, same server,
//! same number of users, one after the other — the cost of authentication itself — plus the
//! steady `/api/me` latency, its histogram for the percentile spectrum, and the credential bytes.

use anyhow::Result;
use authbench_loadgen::ramp::{LoadModel, Ramp};
use authbench_servers::SchemeKind;

use super::checks::Presented;
use super::{Health, Unit, UnitResult, me_only};

pub async fn run(u: &Unit<'_>, presented: Presented, health: &mut Health, r: &mut UnitResult) -> Result<()> {
    let plan = &u.ctx.plan;
    let steady = || LoadModel::Closed { stages: Ramp::constant(plan.steady_vus as f64, plan.steady) };
    u.phase("healthz baseline");
    let healthz = u.run_load(u.load(None, steady(), Some("healthz")), "healthz", Some(health)).await?;
    u.phase("me steady");
    let mut c = u.load(Some(u.scheme), steady(), Some("me"));
    c.mix = me_only();
    let me = u.run_load(c, "me steady", Some(health)).await?;
    r.me_hlog = Some(u.dir.join("me").join("me.hlog"));
    if let (Some(h), Some(m)) = (healthz.server.cpu_us_per_req, me.server.cpu_us_per_req) {
        // The servers issue's figure: (server + redis-server CPU per /api/me) / (server CPU per
        // /healthz), same server, same run. Redis counts only where the scheme uses it.
        let redis_m =
            if u.scheme == SchemeKind::Session { me.redis.cpu_us_per_req.unwrap_or(0.0) } else { 0.0 };
        r.metrics.push(("healthz_cpu_us_per_req", "us", h));
        r.metrics.push(("me_cpu_us_per_req_server", "us", m));
        r.metrics.push(("me_cpu_us_per_req_redis", "us", redis_m));
        r.metrics.push(("me_cpu_us_per_req_total", "us", m + redis_m));
        r.metrics.push(("cpu_ratio_me_over_healthz", "ratio", (m + redis_m) / h));
    }
    if let Some(e) = me.endpoints.get("me") {
        if let Some(l) = &e.latency_us {
            r.metrics.push(("me_steady_p50_us", "us", l.p50 as f64));
            r.metrics.push(("me_steady_p99_us", "us", l.p99 as f64));
        }
        r.metrics.push(("me_steady_rps", "req/s", e.rps));
        let cred = e.credential_bytes_per_req.unwrap_or(presented.bytes as f64);
        r.metrics.push(("credential_bytes", "bytes", cred));
        r.credential =
            Some((presented.header.to_owned(), cred.round() as u64, e.bytes_sent_per_req.round() as u64));
    }
    Ok(())
}
