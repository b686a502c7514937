//! Pass/fail rules, k6 style: `me.p99<10ms`, `me.rps>=1000`, `error_rate<1%`, `login.errors<=0`.
//!
//! Grammar: `[endpoint.]metric op value`. Endpoints: healthz, login, me, refresh, logout; without
//! one the rule applies to all requests (rps, errors, error_rate only). Metrics: p50 p90 p99 p999
//! max mean (a duration with its unit), rps (a number), errors (a count), error_rate (`1%` or
//! `0.01`; timeouts and every other error, and requests left unfinished, over all requests sent). Operators: `<` `<=` `>` `>=`. A rule on an endpoint with no data fails.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::record::Endpoint;
use crate::summary::{Latency, Summary, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P99,
    P999,
    Max,
    Mean,
    Rps,
    Errors,
    ErrorRate,
}

impl Metric {
    fn parse(s: &str) -> Option<Metric> {
        Some(match s {
            "p50" => Metric::P50,
            "p90" => Metric::P90,
            "p99" => Metric::P99,
            "p999" => Metric::P999,
            "max" => Metric::Max,
            "mean" => Metric::Mean,
            "rps" => Metric::Rps,
            "errors" => Metric::Errors,
            "error_rate" => Metric::ErrorRate,
            _ => return None,
        })
    }

    fn is_latency(self) -> bool {
        !matches!(self, Metric::Rps | Metric::Errors | Metric::ErrorRate)
    }

    fn of_latency(self, l: &Latency) -> f64 {
        match self {
            Metric::P50 => l.p50 as f64,
            Metric::P90 => l.p90 as f64,
            Metric::P99 => l.p99 as f64,
            Metric::P999 => l.p999 as f64,
            Metric::Max => l.max as f64,
            Metric::Mean => l.mean,
            _ => f64::NAN,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Op::Lt => actual < limit,
            Op::Le => actual <= limit,
            Op::Gt => actual > limit,
            Op::Ge => actual >= limit,
        }
    }
}

/// One parsed rule. Latency limits are held in µs, error rates as fractions.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub expr: String,
    pub endpoint: Option<Endpoint>,
    pub metric: Metric,
    pub op: Op,
    pub limit: f64,
}

impl Threshold {
    pub fn parse(text: &str) -> Result<Threshold> {
        let bad = |why: String| {
            Error::BadInput(format!(
                "--threshold `{text}`: {why}; expected e.g. me.p99<10ms, me.rps>=500, error_rate<1%"
            ))
        };
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (at, op, len) = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)]
            .iter()
            .find_map(|(sym, op)| t.find(sym).map(|i| (i, *op, sym.len())))
            .ok_or_else(|| bad("no comparison (<, <=, >, >=)".into()))?;
        let (lhs, rhs) = (&t[..at], &t[at + len..]);
        let (endpoint, metric) = match lhs.split_once('.') {
            Some((e, m)) => {
                let e = Endpoint::parse(e).ok_or_else(|| bad(format!("unknown endpoint `{e}`")))?;
                (Some(e), m)
            }
            None => (None, lhs),
        };
        let metric = Metric::parse(metric).ok_or_else(|| {
            bad(format!(
                "unknown metric `{metric}` (p50, p90, p99, p999, max, mean, rps, errors, error_rate)"
            ))
        })?;
        if metric.is_latency() && endpoint.is_none() {
            return Err(bad("latency rules need an endpoint, e.g. me.p99".into()));
        }
        let limit = match metric {
            _ if metric.is_latency() => {
                let d: Duration = humantime::parse_duration(rhs)
                    .map_err(|_| bad(format!("`{rhs}` is not a duration like 10ms")))?;
                d.as_secs_f64() * 1e6
            }
            Metric::ErrorRate => match rhs.strip_suffix('%') {
                Some(p) => p.parse::<f64>().map(|p| p / 100.0),
                None => rhs.parse::<f64>(),
            }
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| bad(format!("`{rhs}` is not a rate like 1% or 0.01")))?,
            _ => rhs
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(format!("`{rhs}` is not a number")))?,
        };
        Ok(Threshold { expr: text.trim().to_owned(), endpoint, metric, op, limit })
    }

    /// Judge the rule against a finished run.
    pub fn check(&self, s: &Summary) -> Verdict {
        let actual = match self.endpoint {
            None => match self.metric {
                Metric::Rps => Some(s.total.rps),
                Metric::Errors => Some(s.total.errors as f64),
                Metric::ErrorRate => Some(s.total.error_rate),
                _ => None,
            },
            Some(e) => s.endpoints.get(e.as_str()).and_then(|ep| match self.metric {
                Metric::Rps => Some(ep.rps),
                Metric::Errors => Some(ep.errors as f64),
                Metric::ErrorRate => (ep.count + ep.errors + ep.unfinished > 0).then_some(ep.error_rate),
                m => ep.latency_us.as_ref().map(|l| m.of_latency(l)),
            }),
        };
        Verdict {
            threshold: self.expr.clone(),
            actual,
            ok: actual.is_some_and(|a| self.op.holds(a, self.limit)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_grammar() {
        let t = Threshold::parse("me.p99 < 10ms").unwrap();
        assert_eq!(
            (t.endpoint, t.metric, t.op, t.limit),
            (Some(Endpoint::Me), Metric::P99, Op::Lt, 10_000.0)
        );
        let t = Threshold::parse("error_rate<=1%").unwrap();
        assert_eq!((t.endpoint, t.metric, t.op), (None, Metric::ErrorRate, Op::Le));
        assert!((t.limit - 0.01).abs() < 1e-12);
        assert_eq!(Threshold::parse("login.rps>=500").unwrap().limit, 500.0);
        assert_eq!(Threshold::parse("errors>0").unwrap().op, Op::Gt);
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "me.p99",
            "me.p99<10",
            "p99<10ms",
            "foo.p99<1ms",
            "me.p42<1ms",
            "rps>lots",
            "error_rate<x%",
            "me.rps>-1",
        ] {
            let e = Threshold::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("--threshold"), "{bad}: {e}");
        }
    }
}
