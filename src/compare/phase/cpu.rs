//! The CPU phase: CPU per request of `GET /healthz` (no auth) and of `GET /api/me`, same server,
//! same number of users, one after the other — the cost of authentication itself — plus the
//! steady `/api/me` latency, its histogram for the percentile spectrum, and the credential bytes.

use anyhow::Result;
use authbench_loadgen::ramp::{LoadModel, Ramp};
use authbench_loadgen::record::Endpoint;
use authbench_report::Metric;
use authbench_report::data::CredentialsRow;

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
    let me_run = u.run_recorded(c, "me steady", Some(health)).await?;
    r.rows.me_latency = me_run.latency(Endpoint::Me).cloned();
    let me = me_run.summary;
    if let (Some(h), Some(m)) = (healthz.server.cpu_us_per_req, me.server.cpu_us_per_req) {
        // The servers issue's figure: (server + redis-server CPU per /api/me) / (server CPU per
        // /healthz), same server, same run. Redis counts only where the scheme uses it.
        // With replicas, `server` is every replica's CPU and HAProxy's is its own part of the total.
        let redis_m = if u.scheme.uses_store() { me.redis.cpu_us_per_req.unwrap_or(0.0) } else { 0.0 };
        let proxy_m = me.proxy.as_ref().and_then(|p| p.cpu_us_per_req);
        r.rows.metrics.extend([
            (Metric::HealthzCpu, h),
            (Metric::MeCpuServer, m),
            (Metric::MeCpuRedis, redis_m),
            (Metric::MeCpuTotal, m + redis_m + proxy_m.unwrap_or(0.0)),
            (Metric::CpuRatio, (m + redis_m) / h),
        ]);
        if let Some(p) = proxy_m {
            r.rows.metrics.push((Metric::MeCpuProxy, p));
        }
    }
    if let Some(e) = me.endpoint(Endpoint::Me) {
        if let Some(l) = &e.latency_us {
            r.rows.metrics.push((Metric::MeSteadyP50, l.p50 as f64));
            r.rows.metrics.push((Metric::MeSteadyP99, l.p99 as f64));
        }
        r.rows.metrics.push((Metric::MeSteadyRps, e.rps));
        let cred = e.credential_bytes_per_req.unwrap_or(presented.bytes as f64);
        r.rows.metrics.push((Metric::CredentialBytes, cred));
        r.rows.credential = Some(CredentialsRow {
            scheme: u.scheme.to_string(),
            header: presented.header.to_owned(),
            credential_bytes: cred.round() as u64,
            request_bytes: e.bytes_sent_per_req.round() as u64,
        });
    }
    Ok(())
}
