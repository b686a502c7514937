//! The knee of an open-model stepped search, as pure logic (no I/O, unit-tested on its own).
//!
//! A *step* offers a fixed arrival rate for a few seconds and observes what came back. A step is
//! past the knee when any of three [`Limits`] holds: the achieved rate fell below 95% of the
//! offered one, the coordinated-omission-corrected p99 exceeded the SLO, or a request failed.
//! The knee is the lowest offered rate found past it; the maximum sustainable throughput is the
//! achieved rate of the highest step below the knee that held all three.
//!
//! [`Search`] chooses the offered rates: geometric steps up from a start rate until one is past
//! the knee (or down, if the very first one already is), then bisection (geometric midpoint)
//! between the last good and the first bad rate, then (when [`SearchPlan::past_knee`] asks; compare's
//! default does not) a step or two beyond the first bad one so that plots show the plateau.

/// Below this share of the offered rate, a step did not sustain its load.
pub const MIN_ACHIEVED_SHARE: f64 = 0.95;

/// What one step observed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed {
    /// Requests per second the schedule called for.
    pub offered_rps: f64,
    /// Successful requests per second actually completed.
    pub achieved_rps: f64,
    /// Coordinated-omission-corrected p99, µs (None: nothing succeeded).
    pub p99_us: Option<f64>,
    /// Failed requests, any kind.
    pub errors: u64,
}

/// Which limits a step broke; all false = the load was sustained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Achieved < 95% of offered.
    pub throughput: bool,
    /// p99 above the SLO (or no successful request at all).
    pub latency: bool,
    /// At least one failed request.
    pub errors: bool,
}

impl Limits {
    /// Judge one step against the SLO on p99 (µs).
    pub fn judge(o: &Observed, slo_p99_us: f64) -> Limits {
        Limits {
            throughput: o.achieved_rps < MIN_ACHIEVED_SHARE * o.offered_rps,
            latency: o.p99_us.is_none_or(|p| p > slo_p99_us),
            errors: o.errors > 0,
        }
    }

    /// True when the step is past the knee.
    pub fn any(self) -> bool {
        self.throughput || self.latency || self.errors
    }

    /// `ok`, or the broken limits joined by `+`: `throughput`, `p99`, `errors` (a CSV cell).
    pub fn label(self) -> String {
        let names: Vec<&str> =
            [(self.throughput, "throughput"), (self.latency, "p99"), (self.errors, "errors")]
                .into_iter()
                .filter_map(|(hit, name)| hit.then_some(name))
                .collect();
        if names.is_empty() { "ok".to_owned() } else { names.join("+") }
    }
}

/// How a [`Search`] walks the offered rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchPlan {
    /// First offered rate, req/s.
    pub start_rps: f64,
    /// Ratio between consecutive geometric steps (> 1).
    pub factor: f64,
    /// Never offer more than this; reaching it without a knee ends the search (no knee found).
    pub max_rps: f64,
    /// Never offer less than this when the first step is already past the knee.
    pub min_rps: f64,
    /// Bisection steps between the last good and the first bad rate.
    pub refinements: u32,
    /// Steps beyond the first bad rate (each `sqrt(factor)` higher), for the plateau in the plots.
    pub past_knee: u32,
    /// Hard cap on the number of steps (the phase's time budget).
    pub max_steps: usize,
}

/// One finished step as the search sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tried {
    pub offered_rps: f64,
    pub achieved_rps: f64,
    pub past_knee: bool,
}

/// The state of a stepped search: call [`Search::next`] for the rate to offer, run it, then
/// [`Search::record`] what it did, until `next` returns `None`.
#[derive(Debug, Clone)]
pub struct Search {
    plan: SearchPlan,
    tried: Vec<Tried>,
    refined: u32,
    past: u32,
}

/// Bisection stops once the bracket is this narrow (ratio of its ends).
const RESOLUTION: f64 = 1.03;

impl Search {
    pub fn new(plan: SearchPlan) -> Search {
        Search { plan, tried: Vec::new(), refined: 0, past: 0 }
    }

    /// Every step so far, in the order run.
    pub fn tried(&self) -> &[Tried] {
        &self.tried
    }

    /// The lowest offered rate past the knee.
    pub fn knee(&self) -> Option<Tried> {
        self.tried
            .iter()
            .filter(|t| t.past_knee)
            .min_by(|a, b| a.offered_rps.total_cmp(&b.offered_rps))
            .copied()
    }

    /// The highest sustained step below the knee (all steps, if there is no knee).
    pub fn sustained(&self) -> Option<Tried> {
        let below = self.knee().map_or(f64::INFINITY, |k| k.offered_rps);
        self.tried
            .iter()
            .filter(|t| !t.past_knee && t.offered_rps < below)
            .max_by(|a, b| a.offered_rps.total_cmp(&b.offered_rps))
            .copied()
    }

    /// Record the outcome of the step that offered `offered_rps`.
    pub fn record(&mut self, offered_rps: f64, achieved_rps: f64, past_knee: bool) {
        self.tried.push(Tried { offered_rps, achieved_rps, past_knee });
    }

    /// The next rate to offer, or `None` when the search is over.
    // Not an `Iterator`: each call depends on the outcome `record`ed in between.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<f64> {
        let p = self.plan;
        if self.tried.len() >= p.max_steps {
            return None;
        }
        let Some(last) = self.tried.last().copied() else {
            return Some(p.start_rps.clamp(p.min_rps, p.max_rps));
        };
        let Some(knee) = self.knee() else {
            // Still climbing.
            if last.offered_rps >= p.max_rps {
                return None;
            }
            return Some((last.offered_rps * p.factor).min(p.max_rps));
        };
        let Some(good) = self.sustained() else {
            // Even the lowest step was past the knee: go down until one holds.
            let down = knee.offered_rps / p.factor;
            return (down >= p.min_rps).then_some(down);
        };
        if self.refined < p.refinements && knee.offered_rps / good.offered_rps > RESOLUTION {
            self.refined += 1;
            return Some((knee.offered_rps * good.offered_rps).sqrt());
        }
        if self.past < p.past_knee {
            self.past += 1;
            let highest = self.tried.iter().map(|t| t.offered_rps).fold(0.0, f64::max);
            let next = highest * p.factor.sqrt();
            return (next <= p.max_rps * p.factor).then_some(next);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SearchPlan {
        SearchPlan {
            start_rps: 1000.0,
            factor: 2.0,
            max_rps: 1_000_000.0,
            min_rps: 10.0,
            refinements: 3,
            past_knee: 1,
            max_steps: 20,
        }
    }

    /// A system that serves at most `cap` req/s, and whose p99 crosses 10 ms at `slo_at`.
    fn system(offered: f64, cap: f64, slo_at: f64) -> Observed {
        Observed {
            offered_rps: offered,
            achieved_rps: offered.min(cap),
            p99_us: Some(if offered < slo_at { 800.0 } else { 50_000.0 }),
            errors: 0,
        }
    }

    fn run(mut s: Search, sys: impl Fn(f64) -> Observed) -> Search {
        while let Some(rate) = s.next() {
            let o = sys(rate);
            s.record(rate, o.achieved_rps, Limits::judge(&o, 10_000.0).any());
        }
        s
    }

    #[test]
    fn judges_each_limit_on_its_own() {
        let ok = Observed { offered_rps: 1000.0, achieved_rps: 960.0, p99_us: Some(9_000.0), errors: 0 };
        assert!(!Limits::judge(&ok, 10_000.0).any());
        assert_eq!(Limits::judge(&ok, 10_000.0).label(), "ok");
        let slow = Observed { achieved_rps: 940.0, ..ok };
        assert_eq!(Limits::judge(&slow, 10_000.0), Limits { throughput: true, ..Limits::default() });
        let late = Observed { p99_us: Some(10_001.0), ..ok };
        assert_eq!(Limits::judge(&late, 10_000.0).label(), "p99");
        let none = Observed { p99_us: None, ..ok };
        assert!(Limits::judge(&none, 10_000.0).latency);
        let failed = Observed { errors: 1, achieved_rps: 100.0, ..ok };
        assert_eq!(Limits::judge(&failed, 10_000.0).label(), "throughput+errors");
    }

    #[test]
    fn finds_a_throughput_cap_within_the_resolution() {
        let s = run(Search::new(plan()), |r| system(r, 23_000.0, f64::INFINITY));
        let knee = s.knee().expect("a knee");
        let good = s.sustained().expect("a sustained step");
        // The bracket after 3 bisections of a factor-2 step is 2^(1/8) ≈ 1.09 wide.
        assert!(good.offered_rps < 23_000.0 / MIN_ACHIEVED_SHARE && knee.offered_rps > 23_000.0);
        assert!(knee.offered_rps / good.offered_rps <= 2f64.powf(1.0 / 8.0) + 1e-9, "{s:?}");
        assert!(good.achieved_rps > 23_000.0 * 0.9);
        // One step past the first bad rate, for the plateau.
        let highest = s.tried().iter().map(|t| t.offered_rps).fold(0.0, f64::max);
        assert!(highest > 32_000.0, "{s:?}");
    }

    #[test]
    fn a_latency_slo_sets_the_knee_before_the_throughput_cap() {
        let s = run(Search::new(plan()), |r| system(r, 50_000.0, 12_000.0));
        let knee = s.knee().unwrap();
        assert!(knee.offered_rps >= 12_000.0 && knee.offered_rps < 12_000.0 * 1.1, "{s:?}");
    }

    #[test]
    fn goes_down_when_the_first_step_is_already_past_the_knee() {
        let s = run(Search::new(SearchPlan { start_rps: 50_000.0, ..plan() }), |r| system(r, 3_000.0, 1e12));
        let good = s.sustained().unwrap();
        assert!(good.offered_rps <= 3_000.0 / MIN_ACHIEVED_SHARE && good.offered_rps > 2_500.0, "{s:?}");
    }

    #[test]
    fn stops_at_the_cap_without_a_knee_and_at_the_step_budget() {
        let s = run(Search::new(SearchPlan { max_rps: 9_000.0, ..plan() }), |r| system(r, 1e9, 1e12));
        assert!(s.knee().is_none());
        assert_eq!(s.tried().last().unwrap().offered_rps, 9_000.0);
        assert_eq!(s.tried().len(), 5); // 1k, 2k, 4k, 8k, 9k
        let s = run(Search::new(SearchPlan { max_steps: 3, ..plan() }), |r| system(r, 5_000.0, 1e12));
        assert_eq!(s.tried().len(), 3);
    }

    #[test]
    fn a_lone_bad_step_below_good_ones_is_still_the_knee() {
        // The definition is "the first offered rate where ...": a noisy failure at 2k counts.
        let s = run(Search::new(plan()), |r| {
            let mut o = system(r, 1e9, 1e12);
            if (r - 2000.0).abs() < 1.0 {
                o.errors = 1;
            }
            o
        });
        assert_eq!(s.knee().unwrap().offered_rps, 2000.0);
        assert!((s.sustained().unwrap().offered_rps - 1000.0 * 2f64.powf(7.0 / 8.0)).abs() < 1e-6);
    }
}
