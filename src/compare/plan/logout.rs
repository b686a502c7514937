//! The plan of the JWT variants' memory against logout rate (`--logout-rates`, `--logout-hold`):
//! which rates, held how long, on a server with the shortest lifetimes. The phase itself is
//! [`crate::compare::phase::logout_memory`].

use std::time::Duration;

use anyhow::{Result, ensure};
use authbench_servers::SchemeKind;
use authbench_servers::facts::JWT_LEEWAY_SECS as LEEWAY_SECS;

/// Whether `scheme` keeps an entry in Redis per revoked token (the JWT variants): the schemes
/// whose revocation cost and memory against logout rate are measured.
pub fn keeps_revocation_entries(scheme: SchemeKind) -> bool {
    matches!(scheme, SchemeKind::JwtRevocable | SchemeKind::JwtPubsub)
}

/// Lifetimes of the measuring server's access and refresh tokens: the shortest a server takes.
pub const ACCESS_TTL: Duration = Duration::from_secs(1);
pub const REFRESH_TTL: Duration = Duration::from_secs(1);
/// Highest rate accepted: each logout is also a login (two connections, a fast argon2 hash),
/// which on a 2-core machine shared with the server and Redis must not become the bottleneck.
pub const MAX_RATE: f64 = 1000.0;

/// Which rates, held how long.
#[derive(Debug, Clone, PartialEq)]
pub struct LogoutMemoryPlan {
    /// Logouts per second, rising.
    pub rates: Vec<f64>,
    /// How long each rate is held: the entries' longest lifetime (plateau), `--quick` less.
    pub level: Duration,
}

impl LogoutMemoryPlan {
    /// `--logout-rates` or the default (`25,250`: ten times apart, well below what the machine
    /// can pace; `--quick`: `100`), held `--logout-hold` or the entries' lifetime (`--quick`: 2 s).
    pub fn new(quick: bool, rates: Option<Vec<f64>>, hold: Option<Duration>) -> Result<LogoutMemoryPlan> {
        let rates = rates.unwrap_or_else(|| if quick { vec![100.0] } else { vec![25.0, 250.0] });
        ensure!(!rates.is_empty(), "--logout-rates: at least one rate");
        for r in &rates {
            ensure!(
                *r >= 1.0 && *r <= MAX_RATE,
                "--logout-rates: {r} is not between 1 and {MAX_RATE} logouts/s"
            );
        }
        ensure!(rates.windows(2).all(|w| w[0] < w[1]), "--logout-rates must rise: {rates:?}");
        let lifetime = ACCESS_TTL.max(REFRESH_TTL) + Duration::from_secs(LEEWAY_SECS);
        let level = hold.unwrap_or(if quick { Duration::from_secs(2) } else { lifetime });
        ensure!(
            level >= Duration::from_millis(500) && level <= Duration::from_secs(60),
            "--logout-hold: {level:?} is not between 0.5 s and 60 s"
        );
        Ok(LogoutMemoryPlan { rates, level })
    }

    /// Seconds the phase takes per scheme: its levels, the server's start and the key counts.
    pub fn planned_seconds(&self) -> f64 {
        self.rates.len() as f64 * self.level.as_secs_f64() + 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_default_rise_and_are_bounded() {
        let p = LogoutMemoryPlan::new(false, None, None).unwrap();
        assert_eq!(p.rates, vec![25.0, 250.0]);
        assert_eq!(p.level, Duration::from_secs(6), "a level lasts the entries' longest lifetime");
        assert_eq!(p.planned_seconds(), 13.0);
        let q = LogoutMemoryPlan::new(true, None, None).unwrap();
        assert_eq!((q.rates.len(), q.planned_seconds()), (1, 3.0));
        assert!(LogoutMemoryPlan::new(false, Some(vec![200.0, 20.0]), None).is_err());
        assert!(LogoutMemoryPlan::new(false, Some(vec![5000.0]), None).is_err());
        assert!(LogoutMemoryPlan::new(false, Some(vec![]), None).is_err());
        assert!(LogoutMemoryPlan::new(true, None, Some(Duration::from_secs(600))).is_err());
        let held =
            LogoutMemoryPlan::new(true, Some(vec![50.0, 200.0]), Some(Duration::from_secs(6))).unwrap();
        assert_eq!(held.planned_seconds(), 13.0);
    }
}
