//! The answer across repeats: [`super::model::answer`] once per repeat's inputs, then each figure's
//! mean and Student-t 95% interval across those answers (not half-widths of the inputs added up),
//! and the verdicts on the requirement read off the interval, not the mean.

use super::model::{Answer, Design, Inputs, answer};
use super::workload::Workload;
use crate::stats::{MeanCi, mean_ci};

/// Does a figure meet a bound? From its interval: met only when the whole interval is on the
/// right side; no verdict when the interval straddles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meets {
    Yes,
    No,
    NoVerdict,
    /// The figure was not measured.
    Unknown,
}

impl Meets {
    /// `figure` ≤ `bound`.
    pub fn at_most(figure: Option<&MeanCi>, bound: f64) -> Meets {
        let Some(f) = figure else { return Meets::Unknown };
        let (low, high) = (f.ci95_low.unwrap_or(f.mean), f.ci95_high.unwrap_or(f.mean));
        if high <= bound {
            Meets::Yes
        } else if low > bound {
            Meets::No
        } else {
            Meets::NoVerdict
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Meets::Yes => "yes",
            Meets::No => "no",
            Meets::NoVerdict => "no verdict",
            Meets::Unknown => "not measured",
        }
    }
}

/// One scheme's answer, every figure with its interval across repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeAnswer {
    pub scheme: String,
    pub design: Design,
    pub users: u64,
    pub repeats: usize,
    pub requests_s: f64,
    pub app_cores: MeanCi,
    pub redis_cores: MeanCi,
    pub redis_memory_bytes: Option<MeanCi>,
    pub redis_memory_total_bytes: Option<MeanCi>,
    pub shards_by_cpu: MeanCi,
    pub shards_by_memory: Option<MeanCi>,
    pub shards: MeanCi,
    pub bytes_s: Option<MeanCi>,
    pub window_s: Option<MeanCi>,
    pub p99_us: Option<MeanCi>,
    pub cost_month: Option<MeanCi>,
    pub revokes_in_time: Meets,
    pub meets_slo: Meets,
    /// Server CPU per login at the production hashing cost (µs), for the re-login storm.
    pub login_us: Option<MeanCi>,
    /// Inputs missing in any repeat (counted as 0 there).
    pub missing: Vec<&'static str>,
    /// Each repeat's answer, in repeat order (for differences paired by repeat).
    pub answers: Vec<Answer>,
}

fn figure(answers: &[Answer], f: impl Fn(&Answer) -> f64) -> MeanCi {
    let v: Vec<f64> = answers.iter().map(f).collect();
    mean_ci(&v).unwrap_or(MeanCi { n: 0, mean: f64::NAN, std_dev: None, ci95_low: None, ci95_high: None })
}

fn optional(answers: &[Answer], f: impl Fn(&Answer) -> Option<f64>) -> Option<MeanCi> {
    let v: Vec<f64> = answers.iter().filter_map(f).collect();
    mean_ci(&v)
}

/// The answer for `scheme` under `w` from its repeats' inputs (`None` for an unknown scheme or
/// no repeat). `measured_window`: a server-side scheme's logout window with its own interval
/// (over its probes), which then stands for the window figure as measured.
pub fn across(
    scheme: &str,
    w: &Workload,
    repeats: &[Inputs],
    measured_window: Option<MeanCi>,
) -> Option<SchemeAnswer> {
    let design = Design::of(scheme)?;
    if repeats.is_empty() {
        return None;
    }
    let answers: Vec<Answer> = repeats.iter().map(|i| answer(design, w, i)).collect();
    let mut missing: Vec<&'static str> = answers.iter().flat_map(|a| a.missing.iter().copied()).collect();
    missing.sort_unstable();
    missing.dedup();
    let window_s = match (design, measured_window) {
        (Design::Session | Design::SessionTracked | Design::JwtRevocable | Design::JwtPubsub, Some(m)) => {
            Some(m)
        }
        (Design::SessionCached, Some(m)) if m.mean > w.cache_ttl.as_secs_f64() => Some(m),
        _ => optional(&answers, |a| a.window_s),
    };
    let p99_us = optional(&answers, |a| a.p99_us);
    Some(SchemeAnswer {
        scheme: scheme.to_owned(),
        design,
        users: w.users,
        repeats: repeats.len(),
        requests_s: w.requests_s(),
        app_cores: figure(&answers, |a| a.app_cores),
        redis_cores: figure(&answers, |a| a.redis_cores),
        redis_memory_bytes: optional(&answers, |a| a.redis_memory_bytes),
        redis_memory_total_bytes: optional(&answers, |a| a.redis_memory_total_bytes),
        shards_by_cpu: figure(&answers, |a| a.shards_by_cpu),
        shards_by_memory: optional(&answers, |a| a.shards_by_memory),
        shards: figure(&answers, |a| a.shards),
        bytes_s: optional(&answers, |a| a.bytes_s),
        revokes_in_time: Meets::at_most(window_s.as_ref(), w.revoke_within.as_secs_f64()),
        meets_slo: Meets::at_most(p99_us.as_ref(), w.p99_slo.as_secs_f64() * 1e6),
        window_s,
        p99_us,
        cost_month: optional(&answers, |a| a.cost_month),
        login_us: mean_ci(&repeats.iter().filter_map(|i| i.login_us).collect::<Vec<_>>()),
        missing,
        answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_taken_across_whole_answers() {
        let w = Workload::default();
        let at = |server_us: f64, window_s: f64| Inputs {
            server_us,
            redis_lookup_us: Some(6.0),
            store_bytes_per_user: Some(400.0),
            window_s: Some(window_s),
            ..Inputs::default()
        };
        let a = across("session", &w, &[at(30.0, 0.002), at(33.0, 0.003), at(36.0, 0.004)], None).unwrap();
        assert_eq!(a.repeats, 3);
        // app cores are linear in server_us: mean of 30/33/36 µs → 33 µs × 1e6 req/s ÷ 0.6
        assert!((a.app_cores.mean - 55.0).abs() < 1e-9, "{:?}", a.app_cores);
        let (lo, hi) = (a.app_cores.ci95_low.unwrap(), a.app_cores.ci95_high.unwrap());
        assert!(lo < 55.0 && hi > 55.0 && (hi - lo) > 1.0);
        assert_eq!(a.revokes_in_time, Meets::Yes, "{:?}", a.window_s);
        assert_eq!(a.meets_slo, Meets::Unknown, "no latency curve given");
        assert!(a.missing.contains(&"login CPU"));
    }

    #[test]
    fn verdicts_come_from_the_interval() {
        let ci = |low: f64, mean: f64, high: f64| MeanCi {
            n: 3,
            mean,
            std_dev: Some(1.0),
            ci95_low: Some(low),
            ci95_high: Some(high),
        };
        assert_eq!(Meets::at_most(Some(&ci(0.5, 0.8, 0.9)), 1.0), Meets::Yes);
        assert_eq!(Meets::at_most(Some(&ci(0.5, 0.8, 1.2)), 1.0), Meets::NoVerdict);
        assert_eq!(Meets::at_most(Some(&ci(1.1, 1.5, 1.9)), 1.0), Meets::No);
        assert_eq!(Meets::at_most(None, 1.0), Meets::Unknown);
    }
}
