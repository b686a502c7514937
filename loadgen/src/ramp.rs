//! Load models: a piecewise-linear [`Ramp`] of virtual users (closed model) or of arrivals per
//! second (open model), parsed once from `--stages 10s:100,30s:1000,10s:0`.
//!
//! The open model needs the arrival *times*, not just the rate: [`Ramp::integral`] is the number
//! of arrivals scheduled by time t and [`Ramp::time_of`] inverts it exactly (a quadratic per
//! linear segment), so arrival n is sent at the instant the cumulative rate reaches n — wrk2's
//! constant-throughput schedule generalised to ramps.

use std::time::Duration;

use crate::error::{Error, Result};

/// One stage: move linearly from the previous target to `target` over `duration`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stage {
    #[serde(with = "humantime_serde_secs")]
    pub duration: Duration,
    pub target: f64,
}

/// A start value and a list of stages, like k6's `ramping-vus` / `ramping-arrival-rate`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ramp {
    pub start: f64,
    pub stages: Vec<Stage>,
}

/// What is ramped: virtual users (closed loop) or arrivals per second (open loop).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LoadModel {
    /// Each virtual user sends its next request when the previous answered (plus think time).
    Closed { stages: Ramp },
    /// Requests of `/api/me` start at scheduled instants whatever the server does; `vus` logged-in
    /// users share the schedule round-robin, latency is timed from the intended start.
    Open { rate_stages: Ramp, vus: u64 },
}

impl LoadModel {
    pub fn ramp(&self) -> &Ramp {
        match self {
            LoadModel::Closed { stages } => stages,
            LoadModel::Open { rate_stages, .. } => rate_stages,
        }
    }

    pub fn duration(&self) -> Duration {
        self.ramp().total()
    }

    pub fn name(&self) -> &'static str {
        match self {
            LoadModel::Closed { .. } => "closed",
            LoadModel::Open { .. } => "open",
        }
    }
}

impl Ramp {
    /// Hold `value` for `duration` (starting at it, no ramp).
    pub fn constant(value: f64, duration: Duration) -> Ramp {
        Ramp { start: value, stages: vec![Stage { duration, target: value }] }
    }

    /// Parse `10s:100,30s:1k,10s:0` (start at 0). `what` names the option in error messages.
    pub fn parse(text: &str, what: &str) -> Result<Ramp> {
        let bad = |entry: &str, why: String| {
            Error::BadInput(format!(
                "{what} `{text}`: entry `{entry}` {why}; expected a list like 10s:100,30s:1000,10s:0"
            ))
        };
        let mut stages = Vec::new();
        for entry in text.split(',').map(str::trim) {
            let (d, t) = entry.split_once(':').ok_or_else(|| bad(entry, "has no `:`".into()))?;
            let duration = authbench_util::parse::parse_duration(d).map_err(|e| bad(entry, e))?;
            let target = authbench_util::parse::parse_count(t).map_err(|e| bad(entry, e))? as f64;
            stages.push(Stage { duration, target });
        }
        let ramp = Ramp { start: 0.0, stages };
        if ramp.total().is_zero() {
            return Err(Error::BadInput(format!("{what} `{text}`: the stages last 0 s")));
        }
        Ok(ramp)
    }

    /// Total length of all stages.
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// Largest value the ramp reaches.
    pub fn max(&self) -> f64 {
        self.stages.iter().map(|s| s.target).fold(self.start, f64::max)
    }

    /// Index of the stage running at `t` (the last one after the end).
    pub fn stage_at(&self, t: Duration) -> usize {
        let mut end = Duration::ZERO;
        for (i, s) in self.stages.iter().enumerate() {
            end += s.duration;
            if t < end {
                return i;
            }
        }
        self.stages.len().saturating_sub(1)
    }

    /// The target at `t`, linear within a stage; the last target after the end.
    pub fn at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        let mut from = self.start;
        let mut t0 = 0.0;
        for s in &self.stages {
            let d = s.duration.as_secs_f64();
            if t < t0 + d {
                return from + (s.target - from) * (t - t0) / d;
            }
            t0 += d;
            from = s.target;
        }
        from
    }

    /// ∫₀ᵗ of the ramp: arrivals scheduled by `t` in the open model.
    pub fn integral(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        let mut from = self.start;
        let mut t0 = 0.0;
        let mut sum = 0.0;
        for s in &self.stages {
            let d = s.duration.as_secs_f64();
            let x = (t - t0).clamp(0.0, d);
            if d > 0.0 {
                sum += from * x + (s.target - from) * x * x / (2.0 * d);
            }
            if t <= t0 + d {
                return sum;
            }
            t0 += d;
            from = s.target;
        }
        sum
    }

    /// The earliest time at which `integral` reaches `n`, or `None` if it never does before the end.
    pub fn time_of(&self, n: f64) -> Option<Duration> {
        let mut from = self.start;
        let mut t0 = 0.0;
        let mut sum = 0.0;
        for s in &self.stages {
            let d = s.duration.as_secs_f64();
            let area = (from + s.target) * d / 2.0;
            if d > 0.0 && sum + area >= n {
                let need = (n - sum).max(0.0);
                let a = (s.target - from) / (2.0 * d);
                // Root of a·x² + from·x − need = 0 in the form that stays exact when a → 0.
                let denom = from + (from * from + 4.0 * a * need).max(0.0).sqrt();
                let x = if denom > 0.0 { 2.0 * need / denom } else { 0.0 };
                return Some(Duration::from_secs_f64(t0 + x.min(d)));
            }
            sum += area;
            t0 += d;
            from = s.target;
        }
        None
    }
}

/// Stage durations serialise as fractional seconds.
mod humantime_serde_secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs: f64 = serde::Deserialize::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    #[test]
    fn parses_k6_style_stages() {
        let r = Ramp::parse("10s:100, 30s:1k,500ms:0", "--stages").unwrap();
        assert_eq!(r.start, 0.0);
        assert_eq!(r.stages.len(), 3);
        assert_eq!(r.stages[1], Stage { duration: s(30.0), target: 1000.0 });
        assert_eq!(r.total(), s(40.5));
        assert_eq!(r.max(), 1000.0);
    }

    #[test]
    fn rejects_malformed_stages_with_the_entry_named() {
        for bad in ["", "10s", "10x:5", "10s:-1", "10s:ten", "0s:10", "10s:5,,"] {
            let e = Ramp::parse(bad, "--stages").unwrap_err().to_string();
            assert!(e.starts_with("--stages"), "{bad}: {e}");
        }
    }

    #[test]
    fn interpolates_linearly_and_holds_the_last_target() {
        let r = Ramp::parse("10s:100,10s:100,10s:0", "x").unwrap();
        assert_eq!(r.at(s(0.0)), 0.0);
        assert!((r.at(s(5.0)) - 50.0).abs() < 1e-9);
        assert_eq!(r.at(s(15.0)), 100.0);
        assert!((r.at(s(25.0)) - 50.0).abs() < 1e-9);
        assert_eq!(r.at(s(99.0)), 0.0);
        assert_eq!(r.stage_at(s(9.9)), 0);
        assert_eq!(r.stage_at(s(10.0)), 1);
        assert_eq!(r.stage_at(s(99.0)), 2);
        let c = Ramp::constant(7.0, s(3.0));
        assert_eq!(c.at(s(0.0)), 7.0);
        assert_eq!(c.at(s(2.9)), 7.0);
    }

    #[test]
    fn time_of_inverts_the_integral() {
        let r = Ramp::parse("10s:1000,5s:1000,10s:200", "x").unwrap();
        assert!((r.integral(s(10.0)) - 5000.0).abs() < 1e-6);
        assert!((r.integral(r.total()) - (5000.0 + 5000.0 + 6000.0)).abs() < 1e-6);
        for n in [0.0, 1.0, 17.5, 4999.0, 5000.0, 7500.0, 12000.0, 15999.0] {
            let t = r.time_of(n).unwrap();
            assert!((r.integral(t) - n).abs() < 1e-3, "n={n} t={t:?} ∫={}", r.integral(t));
        }
        assert_eq!(r.time_of(16000.5), None);
        let c = Ramp::constant(200.0, s(2.0));
        assert_eq!(c.time_of(0.0), Some(Duration::ZERO));
        assert!((c.time_of(100.0).unwrap().as_secs_f64() - 0.5).abs() < 1e-9);
    }
}
