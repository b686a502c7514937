//! The population a cached variant's fixed-rate runs draw from (issue 21): session-cached and
//! session-tracked pay per request what their cache's hit ratio lets them, and that ratio depends
//! on how often each user comes back within the cache's TTL, not on the total rate. The open
//! model's own pool (`pool_size(rate)` logged-in connections, ~200 at 40k req/s) sends each user
//! ~100–200 req/s, a hit ratio of ~1, while the workload's 0.1 req/s per user with a 1 s TTL
//! hits ~0.1–0.2 of the time: the maximum and the CPU ladder were measured with a hot cache.
//!
//! So a step at rate R draws its credentials uniformly from about R ÷ `--rate-per-user` users,
//! each a session preloaded through the real key layout (`SessionStore::create_many`, as the
//! hit-ratio and validation phases do), so each user sends a Poisson stream at the workload's
//! per-user rate. The users preloaded are capped ([`CAP`]: preloading 300k sessions takes ~2–4 s
//! and ~180 MB of Redis per unit); above the cap's rate (30k req/s at 0.1 req/s per user) every
//! preloaded user is drawn, each a little faster than the workload's rate, and the step's row
//! says how many users it drew from and the hit ratio the servers counted (`/metrics`).
//!
//! The other schemes keep the open model's own pool: what they spend per request does not depend
//! on which user is active (cookie and the JWTs verify a credential in the request; session reads
//! Redis every time, and claim 4's sweep shows the key space's size moves that by < 1 µs).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use authbench_loadgen::{CredentialPool, CredentialsBuilder};
use authbench_servers::direct::{SessionStore, StoreTarget};
use authbench_servers::facts::CacheReading;

use crate::harness::metrics;

/// Most users preloaded per unit: `--quick`, default.
pub const CAP: [u64; 2] = [50_000, 300_000];

/// Sessions written per pipeline while preloading.
const BATCH: u64 = 2_000;

/// Users a step at `rate_rps` draws from: `rate_rps ÷ rate_per_user`, rounded up, at least 1 and
/// at most `cap` (the users preloaded).
pub fn users_for(rate_rps: f64, rate_per_user: f64, cap: u64) -> u64 {
    let wanted = (rate_rps / rate_per_user).ceil();
    if wanted.is_finite() { (wanted as u64).clamp(1, cap.max(1)) } else { cap.max(1) }
}

/// Each user's own rate when `rate_rps` is drawn uniformly from `users`.
pub fn per_user_rate(rate_rps: f64, users: u64) -> f64 {
    rate_rps / users.max(1) as f64
}

/// Hits ÷ lookups between two cache readings; `None` without a lookup.
pub fn hit_ratio(before: &CacheReading, after: &CacheReading) -> Option<f64> {
    let hits = after.hits.saturating_sub(before.hits);
    let misses = after.misses.saturating_sub(before.misses);
    (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64)
}

/// Preloaded sessions, and the servers whose caches are read around each step.
pub struct Population {
    issued: Mutex<CredentialsBuilder>,
    preloaded: u64,
    rate_per_user: f64,
    replicas: Vec<SocketAddr>,
}

impl std::fmt::Debug for Population {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Population")
            .field("preloaded", &self.preloaded)
            .field("rate_per_user", &self.rate_per_user)
            .finish()
    }
}

impl Population {
    /// Write `users` sessions (user ids 1..=users, a one-hour TTL) under `prefix` on `target`
    /// through the real key layout; `replicas` are the servers whose `/metrics` count the hits.
    pub async fn preload(
        target: &StoreTarget,
        prefix: &str,
        users: u64,
        rate_per_user: f64,
        replicas: Vec<SocketAddr>,
    ) -> Result<Population> {
        let store = SessionStore::connect_bulk_to(target, prefix, Duration::from_secs(3600)).await?;
        let mut issued = CredentialsBuilder::new();
        let cookie = format!("{}=", authbench_contract::credential::SESSION_COOKIE);
        let mut first = 1;
        while first <= users {
            let last = (first + BATCH - 1).min(users);
            let sids = store.create_many(first..=last).await.map_err(|e| anyhow!("{e} while preloading"))?;
            for sid in sids {
                issued.push_parts(cookie.as_bytes(), sid.as_bytes());
            }
            first = last + 1;
        }
        Ok(Population { issued: Mutex::new(issued), preloaded: users, rate_per_user, replicas })
    }

    /// Users a step at `rate_rps` draws from.
    pub fn users_at(&self, rate_rps: f64) -> u64 {
        users_for(rate_rps, self.rate_per_user, self.preloaded)
    }

    /// The credential pool of a step at `rate_rps` (the first [`Self::users_at`] users; shared
    /// buffers, not copies) and its size.
    pub fn pool(&self, rate_rps: f64) -> Result<(Arc<CredentialPool>, u64)> {
        let n = self.users_at(rate_rps);
        let mut issued = self.issued.lock().map_err(|_| anyhow!("population lock poisoned"))?;
        let pool =
            issued.pool(http::header::COOKIE, n as usize).context("a session id is no header value")?;
        Ok((Arc::new(pool), n))
    }

    /// The servers' cache counters, summed over replicas (`None`: no cache).
    pub async fn cache(&self) -> Result<Option<CacheReading>> {
        metrics::cache(&self.replicas).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_draws_rate_over_per_user_rate_users_up_to_the_cap() {
        // 2,000 req/s at 0.1 req/s per user: 20,000 users, each at 0.1 req/s.
        assert_eq!(users_for(2_000.0, 0.1, 300_000), 20_000);
        assert!((per_user_rate(2_000.0, 20_000) - 0.1).abs() < 1e-12);
        // 40k req/s would want 400k users: capped at 300k, each then at 0.133 req/s.
        assert_eq!(users_for(40_000.0, 0.1, 300_000), 300_000);
        assert!((per_user_rate(40_000.0, 300_000) - 0.1333).abs() < 1e-3);
        // Rounded up, never 0, never above the cap, a non-finite quotient takes the cap.
        assert_eq!(users_for(1.05, 0.1, 300_000), 11);
        assert_eq!(users_for(0.0, 0.1, 300_000), 1);
        assert_eq!(users_for(10.0, 0.0, 50), 50);
        assert_eq!(users_for(10.0, 0.1, 0), 1);
    }

    #[test]
    fn the_hit_ratio_is_hits_over_lookups_between_readings() {
        let a = CacheReading { hits: 100, misses: 900, ..CacheReading::default() };
        let b = CacheReading { hits: 300, misses: 1700, ..CacheReading::default() };
        assert_eq!(hit_ratio(&a, &b), Some(0.2));
        assert_eq!(hit_ratio(&a, &a), None);
    }
}
