//! The cached session schemes' hit ratio at a workload's per-user rate: the closed-form model the
//! capacity answer prints beside the measured figure.
//!
//! Model, stated: each user sends requests as a Poisson stream of rate λ (the workload's requests
//! per user per second); a miss inserts the user's record, which is then served for exactly the
//! cache TTL T from its insertion (moka's `time_to_live`: hits do not extend it) and dropped; the
//! first request after that misses again. Per cycle there is one miss, then on average λT hits
//! (the Poisson count in T), then a wait of mean 1/λ (memoryless) for the next miss:
//!
//! - hit ratio h = λT / (1 + λT);
//! - records held at once E = N·T / (T + 1/λ) = N·h, for N users.
//!
//! A cache bounded at C records holds at most C users' records at once; each held record takes
//! hits at λ, so hits/s ≤ C·λ against N·λ requests/s: h ≤ C / N. The model takes the smaller of
//! the two (h = min(λT/(1+λT), C/N)); near E ≈ C the true ratio lies a little below both, and
//! moka's TinyLFU admission, which cannot tell uniform low-rate users apart, admits a miss's record
//! only about as often as it evicts one. Invalidations (logout, `session-tracked`'s pushes) and
//! the idle expiry are left out: at 0.1 req/s they end a record far less often than the TTL does.
//!
//! The capacity answer uses the *measured* hit ratio (compare's hit-ratio phase: many users, each
//! at the workload's rate, drawn from the open model's credential pool); this model is printed
//! beside it so a reader can carry it to another rate or TTL. `tests` checks it against an exact
//! simulation of a TTL + LRU cache.

/// Hit ratio of a cache with TTL `ttl_s` (seconds) and room for `capacity` records, in front of
/// `users` users each sending `rate` requests/s as a Poisson stream.
pub fn hit_ratio(rate: f64, ttl_s: f64, users: f64, capacity: f64) -> f64 {
    if !(rate > 0.0 && ttl_s > 0.0 && users > 0.0) {
        return 0.0;
    }
    let unbounded = rate * ttl_s / (1.0 + rate * ttl_s);
    if capacity.is_finite() && capacity >= 0.0 { unbounded.min(capacity / users) } else { unbounded }
}

/// Records the cache holds at once without a capacity bound: N·h.
pub fn held_records(rate: f64, ttl_s: f64, users: f64) -> f64 {
    users * hit_ratio(rate, ttl_s, users, f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    /// An exact TTL cache with LRU eviction at `capacity`, fed `requests` arrivals of a Poisson
    /// stream of total rate `users × rate`, each from a user drawn uniformly (so each user's own
    /// stream is Poisson at `rate`). Returns the hit ratio after a warm-up of a fifth.
    fn simulate(users: u64, rate: f64, ttl: f64, capacity: usize, requests: u64, seed: u64) -> f64 {
        let mut rng = seed.max(1);
        let mut next = move || {
            // xorshift64*: a fixed, dependency-free generator for a repeatable simulation.
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            (rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        };
        let total = users as f64 * rate;
        let (mut t, mut hits, mut counted) = (0.0f64, 0u64, 0u64);
        // user → (inserted at, last use); last use → user, for LRU eviction.
        let mut held: HashMap<u64, (f64, f64)> = HashMap::new();
        let mut lru: BTreeMap<(u64, u64), u64> = BTreeMap::new();
        let key = |x: f64, u: u64| ((x * 1e9) as u64, u);
        for i in 0..requests {
            t += -(1.0 - next()).ln() / total;
            let user = (next() * users as f64) as u64 % users;
            let warm = i >= requests / 5;
            let hit = match held.get(&user).copied() {
                Some((at, last)) if t - at < ttl => {
                    lru.remove(&key(last, user));
                    lru.insert(key(t, user), user);
                    held.insert(user, (at, t));
                    true
                }
                Some((_, last)) => {
                    lru.remove(&key(last, user));
                    held.remove(&user);
                    false
                }
                None => false,
            };
            if !hit {
                if held.len() >= capacity
                    && let Some((&k, &victim)) = lru.iter().next()
                {
                    lru.remove(&k);
                    held.remove(&victim);
                }
                held.insert(user, (t, t));
                lru.insert(key(t, user), user);
            }
            if warm {
                counted += 1;
                hits += u64::from(hit);
            }
        }
        hits as f64 / counted as f64
    }

    #[test]
    fn the_workloads_rate_and_a_one_second_ttl_hit_about_one_time_in_eleven() {
        // 0.1 req/s per user, 1 s TTL: λT = 0.1, h = 0.1 / 1.1.
        assert!((hit_ratio(0.1, 1.0, 1e6, f64::INFINITY) - 0.0909).abs() < 1e-3);
        // The reference's ramp: ~200 req/s per session → h ≈ 0.995.
        assert!(hit_ratio(200.0, 1.0, 70.0, 1e5) > 0.99);
        assert_eq!(hit_ratio(0.0, 1.0, 10.0, 10.0), 0.0);
    }

    #[test]
    fn the_model_agrees_with_an_exact_simulation_away_from_the_capacity_edge() {
        // (users, rate, ttl, capacity): unbounded regimes at three λT, and two capacity-bound ones.
        let cases = [
            (2_000u64, 0.1, 1.0, 1_000_000usize),
            (2_000, 1.0, 1.0, 1_000_000),
            (500, 5.0, 1.0, 1_000_000),
            (20_000, 1.0, 1.0, 2_000),
            (20_000, 2.0, 2.0, 5_000),
        ];
        for (users, rate, ttl, cap) in cases {
            let model = hit_ratio(rate, ttl, users as f64, cap as f64);
            let sim = simulate(users, rate, ttl, cap, 400_000, 7);
            assert!(
                (model - sim).abs() < 0.02 + 0.05 * model,
                "users {users}, rate {rate}, ttl {ttl}, capacity {cap}: model {model:.4} vs simulation {sim:.4}"
            );
        }
    }

    #[test]
    fn held_records_are_users_times_hit_ratio() {
        assert!((held_records(0.1, 1.0, 10e6) - 909_090.9).abs() < 1.0);
    }
}
