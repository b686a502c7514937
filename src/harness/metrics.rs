//! Reading the servers' own `GET /metrics` (`authbench_servers::metrics`): what a cached scheme's
//! cache counted, summed over replicas. Each replica is asked directly, not through HAProxy, which
//! would hand the scrape to one replica of its choosing.

use std::net::SocketAddr;

use anyhow::{Context, Result, anyhow};
use authbench_contract::path;
use authbench_servers::facts::CacheReading;

use super::http;

/// The cache readings of the servers at `addrs`, added; `None` when they have no cache.
pub async fn cache(addrs: &[SocketAddr]) -> Result<Option<CacheReading>> {
    let mut sum: Option<CacheReading> = None;
    for &addr in addrs {
        let resp = http::send(addr, "GET", path::METRICS, &[], None).await?;
        anyhow::ensure!(resp.status == 200, "GET {} on {addr}: {}", path::METRICS, resp.status);
        let text = std::str::from_utf8(&resp.body).context("/metrics is not UTF-8")?;
        let reading = CacheReading::from_exposition(text).map_err(|e| anyhow!("{addr}: {e}"))?;
        sum = match (sum, reading) {
            (Some(a), Some(b)) => Some(a.plus(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(sum)
}
