//! The plan of the validation phase (`--validate`, `--validate-users`, `--validate-active`,
//! `--validate-rate`, `--validate-window`): the workload the run's own rows predict and the
//! phase then runs. The phase itself is [`crate::compare::phase::validation`].

use std::time::Duration;

use anyhow::{Result, ensure};
use authbench_servers::SchemeKind;

/// `--validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateMode {
    On,
    None,
}

/// The workload validated: `users` stored sessions, of which `active` send `rate_per_user`
/// requests/s each (drawn uniformly), after a warm-up, over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationPlan {
    pub users: u64,
    pub active: u64,
    pub rate_per_user: f64,
    pub warm: Duration,
    pub window: Duration,
    /// Whether `--validate-active` or `--validate-rate` fixed the load; if not, each scheme's
    /// load is set by [`ValidationPlan::at_utilisation`].
    pub fixed_load: bool,
}

/// The flags as given.
#[derive(Debug, Clone, Default)]
pub struct ValidateFlags {
    pub mode: Option<ValidateMode>,
    pub users: Option<u64>,
    pub active: Option<u64>,
    pub rate: Option<f64>,
    pub window: Option<Duration>,
}

impl ValidateFlags {
    fn any_workload(&self) -> bool {
        self.users.is_some() || self.active.is_some() || self.rate.is_some() || self.window.is_some()
    }
}

/// Whether the phase validates `scheme`: the designs whose prediction differs in kind (a store
/// read per request, none, a cache in front of it, a tracked cache).
pub fn validates(scheme: SchemeKind) -> bool {
    matches!(
        scheme,
        SchemeKind::Session | SchemeKind::Jwt | SchemeKind::SessionCached | SchemeKind::SessionTracked
    )
}

impl ValidationPlan {
    /// The plan, or why the phase is skipped. Default: 200k stored sessions; active users at
    /// 0.1 req/s each, as many as put each scheme at the plan's utilisation of this run's maximum
    /// (where its inputs were measured; [`ValidationPlan::at_utilisation`]); a warm-up of three
    /// cache TTLs (at least 3 s: the cache turned over three times, as in the hit-ratio phase), a
    /// 15 s window (a 2-minute margin under the run's budget; was 5 s + 20 s).
    /// Skipped by `--validate none`, and under `--quick` unless `--validate on` or a workload
    /// flag asks for it.
    pub fn new(
        quick: bool,
        f: &ValidateFlags,
        schemes: &[SchemeKind],
    ) -> Result<Result<ValidationPlan, String>> {
        if f.mode == Some(ValidateMode::None) {
            return Ok(Err("validation: skipped (--validate none)".into()));
        }
        if quick && f.mode.is_none() && !f.any_workload() {
            return Ok(Err(
                "validation: skipped under --quick (--validate on or a --validate-* workload runs it)".into(),
            ));
        }
        if !schemes.iter().any(|&s| validates(s)) {
            return Ok(Err(
                "validation: skipped (none of session, jwt, session-cached, session-tracked run)".into(),
            ));
        }
        let p = ValidationPlan {
            users: f.users.unwrap_or(200_000),
            active: f.active.unwrap_or(f.users.unwrap_or(200_000).min(10_000)),
            rate_per_user: f.rate.unwrap_or(0.1),
            warm: (authbench_servers::facts::DEFAULT_CACHE_TTL * 3).max(Duration::from_secs(3)),
            window: f.window.unwrap_or(Duration::from_secs(15)),
            fixed_load: f.active.is_some() || f.rate.is_some(),
        };
        ensure!(p.users <= 1_000_000, "--validate-users must be at most 1m");
        ensure!(
            (1..=p.users).contains(&p.active),
            "--validate-active must be between 1 and --validate-users ({})",
            p.users
        );
        ensure!(
            p.rate_per_user.is_finite() && p.rate_per_user > 0.0 && p.total_rps() <= 50_000.0,
            "--validate-rate must be positive, with --validate-active × rate at most 50k req/s"
        );
        ensure!(p.window >= Duration::from_secs(1), "--validate-window must be at least 1s");
        Ok(Ok(p))
    }

    /// The workload for a scheme whose maximum in this run was `maximum` req/s: unless the flags
    /// fixed the load, `utilisation × maximum` req/s from active users at the plan's per-user rate
    /// (all stored users, faster each, when there are not enough of them). A load far below the
    /// utilisation would test the inputs at a condition they were not measured at: CPU per
    /// request at 1% of the maximum is several times that at 60% (fixed per-second costs).
    pub fn at_utilisation(&self, maximum: Option<f64>, utilisation: f64) -> ValidationPlan {
        let Some(max) = maximum.filter(|m| m.is_finite() && *m > 0.0 && !self.fixed_load) else {
            return self.clone();
        };
        let rps = (utilisation * max).min(50_000.0);
        let wanted = (rps / self.rate_per_user).round().max(1.0) as u64;
        let active = wanted.min(self.users);
        ValidationPlan { active, rate_per_user: rps / active as f64, ..self.clone() }
    }

    /// Requests per second of the whole workload.
    pub fn total_rps(&self) -> f64 {
        self.active as f64 * self.rate_per_user
    }

    /// Seconds per scheme: the server's start, the stored sessions written (~150k/s), the warm-up
    /// and the window.
    pub fn seconds_per_scheme(&self) -> f64 {
        2.0 + self.users as f64 / 150e3 + self.warm.as_secs_f64() + self.window.as_secs_f64() + 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_skips_unless_asked_and_none_always_skips() {
        let all = SchemeKind::ALL;
        let none = ValidateFlags::default();
        assert!(ValidationPlan::new(true, &none, &all).unwrap().is_err());
        let p = ValidationPlan::new(false, &none, &all).unwrap().unwrap();
        assert_eq!((p.users, p.active, p.total_rps()), (200_000, 10_000, 1000.0));
        assert!(p.seconds_per_scheme() <= 40.0);
        // At 60% of a 20k req/s maximum: 12k req/s from 120k users at 0.1 req/s each; at 60% of
        // 50k, all 200k stored users, each faster.
        let at = p.at_utilisation(Some(20_000.0), 0.6);
        assert_eq!(at.active, 120_000);
        assert!((at.total_rps() - 12_000.0).abs() < 1e-6 && (at.rate_per_user - 0.1).abs() < 1e-12);
        let at = p.at_utilisation(Some(50_000.0), 0.6);
        assert_eq!(at.active, 200_000);
        assert!((at.total_rps() - 30_000.0).abs() < 1e-6);
        assert_eq!(p.at_utilisation(None, 0.6), p);
        let tiny = ValidateFlags { users: Some(2000), active: Some(200), rate: Some(1.0), ..none.clone() };
        let t = ValidationPlan::new(true, &tiny, &all).unwrap().unwrap();
        assert_eq!(t.total_rps(), 200.0);
        assert_eq!(t.at_utilisation(Some(20_000.0), 0.6), t, "the flags fixed the load");
        let off = ValidateFlags { mode: Some(ValidateMode::None), ..tiny };
        assert!(ValidationPlan::new(false, &off, &all).unwrap().is_err());
        assert!(ValidationPlan::new(false, &none, &[SchemeKind::Cookie]).unwrap().is_err());
    }
}
