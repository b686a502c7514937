//! The CPU phase's figures: `/healthz` against `/api/me` on the same server (the cost of
//! authentication), the steady `/api/me` latency and rate, and the bytes a credential adds.

use authbench_loadgen::Endpoint;
use authbench_loadgen::Summary;

use crate::data::CredentialsRow;
use crate::metric::Metric;

/// The credential a scheme presented in its checks: its header and size, the fallback when the
/// run measured none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented {
    pub header: &'static str,
    pub bytes: usize,
}

/// `summary.csv` metrics of the `/healthz` and `/api/me` steady runs, and the `credentials.csv`
/// row. `uses_store`: the scheme's Redis CPU counts (else it is 0: Redis's own background work).
pub fn steady_metrics(
    scheme: &str,
    uses_store: bool,
    healthz: &Summary,
    me: &Summary,
    presented: Presented,
) -> (Vec<(Metric, f64)>, Option<CredentialsRow>) {
    let mut m = Vec::new();
    if let (Some(h), Some(server)) = (healthz.server.cpu_us_per_req, me.server.cpu_us_per_req) {
        // The servers issue's figure: (server + redis-server CPU per /api/me) / (server CPU per
        // /healthz), same server, same run. Redis counts only where the scheme uses it.
        // With replicas, `server` is every replica's CPU and HAProxy's is its own part of the total.
        let redis = if uses_store { me.redis.cpu_us_per_req.unwrap_or(0.0) } else { 0.0 };
        let proxy = me.proxy.as_ref().and_then(|p| p.cpu_us_per_req);
        m.extend([
            (Metric::HealthzCpu, h),
            (Metric::MeCpuServer, server),
            (Metric::MeCpuRedis, redis),
            (Metric::MeCpuTotal, server + redis + proxy.unwrap_or(0.0)),
            (Metric::CpuRatio, (server + redis) / h),
        ]);
        if let Some(p) = proxy {
            m.push((Metric::MeCpuProxy, p));
        }
    }
    let Some(e) = me.endpoint(Endpoint::Me) else { return (m, None) };
    if let Some(l) = &e.latency_us {
        m.push((Metric::MeSteadyP50, l.p50 as f64));
        m.push((Metric::MeSteadyP99, l.p99 as f64));
    }
    m.push((Metric::MeSteadyRps, e.rps));
    let cred = e.credential_bytes_per_req.unwrap_or(presented.bytes as f64);
    m.push((Metric::CredentialBytes, cred));
    let row = CredentialsRow {
        scheme: scheme.to_owned(),
        header: presented.header.to_owned(),
        credential_bytes: cred.round() as u64,
        request_bytes: e.bytes_sent_per_req.round() as u64,
        response_bytes: Some(e.bytes_received_per_req.round() as u64),
    };
    (m, Some(row))
}
