//! Saturation and load: the rows of `saturation.csv` (the stepped open-model search for the knee),
//! `cpu_vs_load.csv` (fixed rates at shares of each scheme's maximum) and `phases.csv` (how long
//! each phase of the run took against its budget), and what the report reads from them.
//!
//! | file | columns | rows |
//! |---|---|---|
//! | `saturation.csv` | [`LoadStepRow`]: `scheme,repeat,step,share?,offered_rps,achieved_rps,vus,me_p50_us?,me_p90_us?,me_p99_us?,me_p999_us?,me_p99_uncorrected_us?,errors,dropped,server_cpu_us_per_req?,redis_cpu_us_per_req?,server_cpu_pct?,redis_cpu_pct?,generator_cpu_pct,generator_lag_ms,generator_saturated,limits,knee,sustained,machine_cpu_pct?,users?,hit_ratio?` | one per search step per repeat, in the order run |
//! | `cpu_vs_load.csv` | the same columns; `share` = offered ÷ the repeat's maximum sustainable throughput | one per share per repeat |
//! | `phases.csv` | [`PhaseRow`]: `scheme,repeat,phase,seconds,budget_s?` | one per phase of the run, in order |

use serde::{Deserialize, Serialize};

use crate::stats::{MeanCi, mean_ci};

/// One fixed-rate open-model run (a search step or a point of CPU against load).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadStepRow {
    pub scheme: String,
    pub repeat: u32,
    /// 1-based, in the order run.
    pub step: u32,
    /// Offered rate ÷ the repeat's maximum sustainable throughput (CPU-against-load runs only).
    #[serde(default)]
    pub share: Option<f64>,
    pub offered_rps: f64,
    pub achieved_rps: f64,
    /// Logged-in connections sharing the arrival schedule.
    pub vus: u64,
    /// Coordinated-omission-corrected latency of `/api/me`, µs.
    #[serde(default)]
    pub me_p50_us: Option<f64>,
    #[serde(default)]
    pub me_p90_us: Option<f64>,
    #[serde(default)]
    pub me_p99_us: Option<f64>,
    #[serde(default)]
    pub me_p999_us: Option<f64>,
    /// p99 timed from the actual send, as an uncorrected tool reports it.
    #[serde(default)]
    pub me_p99_uncorrected_us: Option<f64>,
    pub errors: u64,
    /// Arrivals scheduled but never sent before the run ended.
    pub dropped: u64,
    #[serde(default)]
    pub server_cpu_us_per_req: Option<f64>,
    /// 0 for schemes that do not use Redis.
    #[serde(default)]
    pub redis_cpu_us_per_req: Option<f64>,
    /// Busy share of one core over the run, %.
    #[serde(default)]
    pub server_cpu_pct: Option<f64>,
    #[serde(default)]
    pub redis_cpu_pct: Option<f64>,
    pub generator_cpu_pct: f64,
    /// Worst lateness of the generator's 10 ms timer, ms.
    pub generator_lag_ms: f64,
    /// The generator may have been the bottleneck in a second of the run.
    pub generator_saturated: bool,
    /// `ok`, or which limits the step broke joined by `+`: `throughput`, `p99`, `errors`.
    pub limits: String,
    /// The lowest offered rate past the knee in this repeat.
    #[serde(default)]
    pub knee: bool,
    /// The highest sustained step below the knee: its achieved rate is the maximum.
    #[serde(default)]
    pub sustained: bool,
    /// Every process on the machine, % of one core (`/proc/stat`, steal included): what server,
    /// Redis and generator leave of it went to other processes.
    #[serde(default)]
    pub machine_cpu_pct: Option<f64>,
    /// The population the step drew its credentials from: preloaded users, each drawn uniformly
    /// (session-cached and session-tracked: about offered ÷ `--rate-per-user`, capped); empty for
    /// the open model's own logged-in pool (every other scheme, and older folders).
    #[serde(default)]
    pub users: Option<u64>,
    /// The servers' cache hit ratio over the step (`/metrics` hits ÷ lookups), where a cache ran.
    #[serde(default)]
    pub hit_ratio: Option<f64>,
}

/// `phases.csv`: the wall-clock time of one phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseRow {
    pub scheme: String,
    /// 0 outside the repeats (revocation).
    pub repeat: u32,
    pub phase: String,
    pub seconds: f64,
    #[serde(default)]
    pub budget_s: Option<f64>,
}

/// One scheme's load runs across repeats.
#[derive(Debug, Clone)]
pub struct SchemeLoad<'a> {
    pub scheme: String,
    pub steps: Vec<&'a LoadStepRow>,
    pub ladder: Vec<&'a LoadStepRow>,
}

impl<'a> SchemeLoad<'a> {
    /// Every scheme with search steps (`saturation.csv`) or ladder runs (`cpu_vs_load.csv`), in
    /// the report's scheme order.
    pub fn all(
        saturation: &'a [LoadStepRow],
        cpu_vs_load: &'a [LoadStepRow],
        schemes: &[String],
    ) -> Vec<SchemeLoad<'a>> {
        schemes
            .iter()
            .map(|s| SchemeLoad {
                scheme: s.clone(),
                steps: saturation.iter().filter(|x| &x.scheme == s).collect(),
                ladder: cpu_vs_load.iter().filter(|x| &x.scheme == s).collect(),
            })
            .filter(|l| !l.steps.is_empty() || !l.ladder.is_empty())
            .collect()
    }

    /// The knee step of each repeat.
    pub fn knees(&self) -> Vec<&'a LoadStepRow> {
        self.steps.iter().copied().filter(|x| x.knee).collect()
    }

    /// The sustained step of each repeat.
    pub fn sustained(&self) -> Vec<&'a LoadStepRow> {
        self.steps.iter().copied().filter(|x| x.sustained).collect()
    }

    /// Mean ± CI of `f` over the knee steps of every repeat.
    pub fn at_knee(&self, f: impl Fn(&LoadStepRow) -> Option<f64>) -> Option<MeanCi> {
        mean_ci(&self.knees().iter().filter_map(|x| f(x)).collect::<Vec<_>>())
    }

    /// Who used most CPU at the knee (mean over repeats): (`server`|`Redis`|`generator`, % of a core).
    pub fn busiest_at_knee(&self) -> Option<(&'static str, f64)> {
        let server = self.at_knee(|x| x.server_cpu_pct)?.mean;
        let redis = self.at_knee(|x| x.redis_cpu_pct).map_or(0.0, |m| m.mean);
        let generator = self.at_knee(|x| Some(x.generator_cpu_pct))?.mean;
        [("server", server), ("Redis", redis), ("generator", generator)]
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Distinct shares of the CPU-against-load runs, low to high.
    pub fn shares(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.ladder.iter().filter_map(|x| x.share).collect();
        v.sort_by(f64::total_cmp);
        v.dedup_by(|a, b| (*a - *b).abs() < 0.005);
        v
    }

    /// Mean ± CI over repeats of `f` at the ladder share nearest `share` (within 0.05).
    pub fn at_share(&self, share: f64, f: impl Fn(&LoadStepRow) -> Option<f64>) -> Option<MeanCi> {
        let v: Vec<f64> = self
            .ladder
            .iter()
            .filter(|x| x.share.is_some_and(|s| (s - share).abs() < 0.005))
            .filter_map(|x| f(x))
            .collect();
        mean_ci(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, repeat: u32, offered: f64, knee: bool) -> LoadStepRow {
        LoadStepRow {
            scheme: scheme.into(),
            repeat,
            step: 1,
            share: None,
            offered_rps: offered,
            achieved_rps: offered,
            vus: 50,
            me_p50_us: Some(100.0),
            me_p90_us: None,
            me_p99_us: Some(900.0),
            me_p999_us: None,
            me_p99_uncorrected_us: None,
            errors: 0,
            dropped: 0,
            server_cpu_us_per_req: Some(10.0),
            redis_cpu_us_per_req: Some(0.0),
            server_cpu_pct: Some(90.0),
            redis_cpu_pct: Some(0.0),
            generator_cpu_pct: 95.0,
            generator_lag_ms: 2.0,
            generator_saturated: false,
            limits: if knee { "p99".into() } else { "ok".into() },
            knee,
            sustained: false,
            machine_cpu_pct: Some(190.0),
            users: None,
            hit_ratio: None,
        }
    }

    #[test]
    fn busiest_at_the_knee_is_the_largest_mean_share() {
        let mut saturation =
            vec![row("jwt", 1, 1000.0, false), row("jwt", 1, 2000.0, true), row("jwt", 2, 2100.0, true)];
        saturation[2].server_cpu_pct = Some(110.0);
        let all = SchemeLoad::all(&saturation, &[], &["cookie".into(), "jwt".into()]);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].knees().len(), 2);
        let (who, pct) = all[0].busiest_at_knee().unwrap();
        assert_eq!(who, "server");
        assert!((pct - 100.0).abs() < 1e-9);
        assert_eq!(all[0].at_knee(|x| Some(x.offered_rps)).unwrap().mean, 2050.0);
    }

    #[test]
    fn rows_round_trip_through_csv() {
        let rows = vec![row("session", 1, 5000.0, true)];
        let mut buf = Vec::new();
        crate::data::write_csv(&mut buf, &rows).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(
            text.starts_with("scheme,repeat,step,share,offered_rps,achieved_rps,vus,me_p50_us"),
            "{text}"
        );
        let back: Vec<LoadStepRow> =
            csv::Reader::from_reader(&buf[..]).deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(back, rows);
    }
}
