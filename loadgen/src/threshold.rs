//! Pass/fail rules: `me.p99<10ms`, `me.rps>=1000`, `error_rate<1%`, `login.errors<=0`, and k6's
//! own syntax: `p(95)<500`, `avg<200`, `med<100`, `max<1000`, `rate<0.01`, `me.p(95)<500`.
//!
//! Grammar: `[endpoint.]metric op value`. Endpoints: healthz, login, me, refresh, logout; without
//! one the rule applies to all requests together (as k6's `http_req_duration` does). Metrics:
//! - latency: `p50 p90 p95 p99 p999 max mean` take a duration with its unit (`10ms`); k6's
//!   `p(50) p(90) p(95) p(99) p(99.9) avg med max` take a duration or a plain number of
//!   milliseconds, as in k6 (`p(95)<500` is 500 ms);
//! - `rps` (a number), `errors` (a count), `error_rate` or k6's `rate` (`1%` or `0.01`; timeouts and every other
//!   error, and requests left unfinished, over all requests sent).
//!
//! The two families cannot be confused: k6's percentiles have parentheses, and the only shared
//! names (`max`) mean the same. Operators: `<` `<=` `>` `>=`. A rule on an endpoint with no data
//! fails.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::record::Endpoint;
use std::collections::BTreeMap;

use crate::summary::{EndpointSummary, Latency, Summary, Total, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    Mean,
    Rps,
    Errors,
    ErrorRate,
}

impl Metric {
    /// A metric name and whether it is k6's (plain numbers are then milliseconds).
    fn parse(s: &str) -> std::result::Result<(Metric, bool), String> {
        if let Some(q) = s.strip_prefix("p(").and_then(|r| r.strip_suffix(')')) {
            let m = match q {
                "50" => Metric::P50,
                "90" => Metric::P90,
                "95" => Metric::P95,
                "99" => Metric::P99,
                "99.9" => Metric::P999,
                _ => return Err(format!("`{s}`: percentiles kept are p(50), p(90), p(95), p(99), p(99.9)")),
            };
            return Ok((m, true));
        }
        Ok(match s {
            "avg" => (Metric::Mean, true),
            "med" => (Metric::P50, true),
            "max" => (Metric::Max, true),
            "rate" => (Metric::ErrorRate, true),
            "p50" => (Metric::P50, false),
            "p90" => (Metric::P90, false),
            "p95" => (Metric::P95, false),
            "p99" => (Metric::P99, false),
            "p999" => (Metric::P999, false),
            "mean" => (Metric::Mean, false),
            "rps" => (Metric::Rps, false),
            "errors" => (Metric::Errors, false),
            "error_rate" => (Metric::ErrorRate, false),
            _ => {
                return Err(format!(
                    "unknown metric `{s}` (p50, p90, p95, p99, p999, max, mean, rps, errors, error_rate; \
                     k6: p(95), avg, med, max, rate)"
                ));
            }
        })
    }

    fn is_latency(self) -> bool {
        !matches!(self, Metric::Rps | Metric::Errors | Metric::ErrorRate)
    }

    fn of_latency(self, l: &Latency) -> f64 {
        match self {
            Metric::P50 => l.p50 as f64,
            Metric::P90 => l.p90 as f64,
            Metric::P95 => l.p95 as f64,
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
        // `me.p(95)`: an endpoint prefix; `p(99.9)`: a dot inside k6's parentheses, no endpoint.
        let (endpoint, metric) = match lhs.split_once('.') {
            Some((e, m)) if !e.contains('(') => {
                let e = Endpoint::parse(e).ok_or_else(|| bad(format!("unknown endpoint `{e}`")))?;
                (Some(e), m)
            }
            _ => (None, lhs),
        };
        let (metric, k6) = Metric::parse(metric).map_err(bad)?;
        let limit = match metric {
            _ if metric.is_latency() => match rhs.parse::<f64>() {
                // k6: a plain number is milliseconds.
                Ok(ms) if k6 && ms.is_finite() && ms >= 0.0 => ms * 1e3,
                _ => {
                    let d: Duration = humantime::parse_duration(rhs).map_err(|_| {
                        bad(format!(
                            "`{rhs}` is not a duration like 10ms{}",
                            if k6 { " or a number of milliseconds" } else { "" }
                        ))
                    })?;
                    d.as_secs_f64() * 1e6
                }
            },
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
        self.check_on(&s.endpoints, &s.total)
    }

    /// Judge the rule against per-endpoint and all-endpoint figures (of a whole run or of the
    /// part measured so far).
    pub fn check_on(&self, endpoints: &BTreeMap<Endpoint, EndpointSummary>, total: &Total) -> Verdict {
        let actual = match self.endpoint {
            None => match self.metric {
                Metric::Rps => Some(total.rps),
                Metric::Errors => Some(total.errors as f64),
                Metric::ErrorRate => Some(total.error_rate),
                m => total.latency_us.as_ref().map(|l| m.of_latency(l)),
            },
            Some(e) => endpoints.get(&e).and_then(|ep| match self.metric {
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

    /// Whether the rule can be judged while the run goes on (`--abort-on-fail`): upper bounds on
    /// latency, errors and error rate. Lower bounds (`rps>=1000`) and rps are judged at the end only:
    /// a ramp starts below them.
    pub fn judged_during_run(&self) -> bool {
        matches!(self.op, Op::Lt | Op::Le) && self.metric != Metric::Rps
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
    fn parses_k6_syntax_with_milliseconds_by_default() {
        let k6 = |t: &str| {
            let t = Threshold::parse(t).unwrap();
            (t.endpoint, t.metric, t.op, t.limit)
        };
        // A bare rule: all endpoints together.
        assert_eq!(k6("p(95)<500"), (None, Metric::P95, Op::Lt, 500_000.0));
        assert_eq!(k6("p(99.9) < 1s"), (None, Metric::P999, Op::Lt, 1_000_000.0));
        assert_eq!(k6("me.p(95)<500"), (Some(Endpoint::Me), Metric::P95, Op::Lt, 500_000.0));
        assert_eq!(k6("me.p(99.9)<2.5"), (Some(Endpoint::Me), Metric::P999, Op::Lt, 2_500.0));
        assert_eq!(k6("avg<200"), (None, Metric::Mean, Op::Lt, 200_000.0));
        assert_eq!(k6("login.med<=100"), (Some(Endpoint::Login), Metric::P50, Op::Le, 100_000.0));
        assert_eq!(k6("max<1000"), (None, Metric::Max, Op::Lt, 1_000_000.0));
        assert_eq!(k6("rate<0.01"), (None, Metric::ErrorRate, Op::Lt, 0.01));
        assert_eq!(k6("me.rate<1%"), (Some(Endpoint::Me), Metric::ErrorRate, Op::Lt, 0.01));
        // Today's forms keep their meaning: units required, p95 added.
        assert_eq!(k6("me.p99<10ms"), (Some(Endpoint::Me), Metric::P99, Op::Lt, 10_000.0));
        assert_eq!(k6("p99<10ms"), (None, Metric::P99, Op::Lt, 10_000.0));
        assert_eq!(k6("me.p95<3ms"), (Some(Endpoint::Me), Metric::P95, Op::Lt, 3_000.0));
    }

    fn latency(p: u64) -> Latency {
        Latency { p50: p, p90: p * 2, p95: p * 3, p99: p * 4, p999: p * 5, max: p * 6, mean: p as f64 }
    }

    fn endpoint(count: u64, errors: u64, p: u64) -> EndpointSummary {
        EndpointSummary {
            count,
            errors,
            errors_by_kind: BTreeMap::new(),
            errors_by_status: BTreeMap::new(),
            unfinished: 0,
            unfinished_max_age_ms: None,
            error_rate: errors as f64 / (count + errors) as f64,
            rps: count as f64,
            latency_us: Some(latency(p)),
            uncorrected_latency_us: None,
            bytes_sent_per_req: 0.0,
            bytes_received_per_req: 0.0,
            credential_bytes_per_req: None,
        }
    }

    #[test]
    fn a_bare_rule_judges_all_endpoints_together_and_a_prefixed_one_its_endpoint() {
        let endpoints: BTreeMap<Endpoint, EndpointSummary> =
            [(Endpoint::Me, endpoint(90, 10, 1_000)), (Endpoint::Login, endpoint(10, 0, 100_000))].into();
        let total = Total {
            count: 100,
            errors: 10,
            error_rate: 10.0 / 110.0,
            latency_us: Some(latency(2_000)),
            ..Total::default()
        };
        let judge = |t: &str| Threshold::parse(t).unwrap().check_on(&endpoints, &total);
        // p(95) of me: 3 ms; of everything together: 6 ms.
        assert!(judge("me.p(95)<4").ok);
        assert!(!judge("p(95)<4").ok);
        assert_eq!(judge("p(95)<4").actual, Some(6_000.0));
        assert!(judge("login.rate<0.01").ok);
        assert!(!judge("rate<0.01").ok);
        assert!(!judge("logout.p(95)<1000").ok, "no data fails");
        assert_eq!(judge("logout.p(95)<1000").actual, None);
    }

    #[test]
    fn only_upper_bounds_on_latency_and_errors_are_judged_during_a_run() {
        for (t, during) in [
            ("p(95)<500", true),
            ("me.errors<=0", true),
            ("rate<0.01", true),
            ("me.rps>=100", false),
            ("rps<5000", false),
            ("me.p99>1ms", false),
        ] {
            assert_eq!(Threshold::parse(t).unwrap().judged_during_run(), during, "{t}");
        }
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "me.p99",
            "me.p99<10",
            "p(97)<10",
            "p(95<10",
            "me.p(95)<fast",
            "rate<x",
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
