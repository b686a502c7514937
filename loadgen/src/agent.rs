//! `--agent I/N`: the I-th of N disjoint slices of one test, so N generators (on N hosts, or N
//! processes on one) together apply the load one generator would; and `--start-at TIME`, the
//! shared wall-clock instant at which they begin.
//!
//! How a test is cut (every agent computes the same cut from the same command line):
//! - a count `x` (virtual users, a stage target, the open model's pool) gives agent I
//!   `⌊x·I/N⌋ − ⌊x·(I−1)/N⌋`, so the N shares add up to `x` exactly;
//! - users: agent I's users follow agent I−1's, each agent taking as many as it can have alive at
//!   once (its largest stage share), so no two agents log in the same user;
//! - open model: the whole schedule is kept and agent I sends its arrivals number `I−1, I−1+N,
//!   I−1+2N, …`: the N agents' arrivals are exactly the one schedule's.
//!
//! A run made by an agent records an [`AgentRun`] in its summary: which slice, the test's whole
//! [`Definition`] (what `authbench merge` compares), its users and how late it started.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mix::Mix;
use crate::ramp::{LoadModel, Ramp, Stage};

/// Agent `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub index: u64,
    pub count: u64,
}

/// What makes two agents' runs parts of the same test: everything but the target (each agent may
/// load its own server) and the agent's index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub scheme: String,
    /// The whole test's model, before slicing.
    pub model: LoadModel,
    pub think_ms: f64,
    pub mix: Mix,
    pub first_user: u64,
    pub agents: u64,
    /// `--start-at`, seconds since the Unix epoch.
    pub start_at: Option<f64>,
    pub thresholds: Vec<String>,
}

/// One agent's part of a run, as its `summary.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRun {
    pub index: u64,
    pub count: u64,
    pub test: Definition,
    /// The users this agent may log in, first and last (inclusive); None without login.
    pub users: Option<[u64; 2]>,
    /// Wall clock (seconds since the Unix epoch) when this agent's load clock started: the
    /// absolute time its `.hlog` interval offsets and `timeseries.csv` `t_s` count from.
    pub load_started_at: f64,
    /// With `--start-at`: how much later than it the load started (0 when on time).
    pub late_by_s: Option<f64>,
}

/// Later than this after `--start-at` is called late in the summary.
pub const LATE_AFTER: Duration = Duration::from_millis(100);

impl Agent {
    /// `2/3`.
    pub fn parse(text: &str) -> Result<Agent> {
        let bad = |why: &str| Error::BadInput(format!("--agent `{text}`: {why}; expected I/N such as 2/3"));
        let (i, n) = text.trim().split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: u64 = i.trim().parse().map_err(|_| bad("I is not a whole number"))?;
        let count: u64 = n.trim().parse().map_err(|_| bad("N is not a whole number"))?;
        if count == 0 || !(1..=count).contains(&index) {
            return Err(bad("I must be 1 to N"));
        }
        if count > 10_000 {
            return Err(bad("at most 10000 agents"));
        }
        Ok(Agent { index, count })
    }

    /// Sum of the shares of agents 1..=`upto` of `x`: `⌊x·upto/N⌋`.
    fn before(&self, x: u64, upto: u64) -> u64 {
        (u128::from(x) * u128::from(upto) / u128::from(self.count)) as u64
    }

    /// This agent's share of `x`; the N shares add up to `x`.
    pub fn share(&self, x: u64) -> u64 {
        self.share_of(x, self.index)
    }

    fn share_of(&self, x: u64, index: u64) -> u64 {
        self.before(x, index) - self.before(x, index - 1)
    }

    /// Agent `index`'s slice of a closed model's ramp: each target (rounded) shared out.
    fn ramp_of(&self, ramp: &Ramp, index: u64) -> Ramp {
        let cut = |t: f64| self.share_of(t.round().max(0.0) as u64, index) as f64;
        Ramp {
            start: cut(ramp.start),
            stages: ramp
                .stages
                .iter()
                .map(|s| Stage { duration: s.duration, target: cut(s.target) })
                .collect(),
        }
    }

    /// The users agent `index` may have alive at once.
    fn users_of(&self, model: &LoadModel, index: u64) -> u64 {
        match model {
            LoadModel::Closed { stages } => self.ramp_of(stages, index).max() as u64,
            LoadModel::Open { vus, .. } => self.share_of(*vus, index),
        }
    }

    /// This agent's slice of the whole test's `model`, and how many users come before its own.
    pub fn slice(&self, model: &LoadModel) -> Result<(LoadModel, u64)> {
        let offset = (1..self.index).map(|j| self.users_of(model, j)).sum();
        let sliced = match model {
            LoadModel::Closed { stages } => {
                let mine = self.ramp_of(stages, self.index);
                if mine.max() < 1.0 {
                    return Err(Error::BadInput(format!(
                        "--agent {}/{}: the test has too few virtual users ({}) to give this agent one",
                        self.index,
                        self.count,
                        stages.max()
                    )));
                }
                LoadModel::Closed { stages: mine }
            }
            LoadModel::Open { rate_stages, vus } => {
                let pool = self.share(*vus);
                if pool == 0 {
                    return Err(Error::BadInput(format!(
                        "--agent {}/{}: a pool of {vus} users cannot give this agent one (raise --vus)",
                        self.index, self.count
                    )));
                }
                LoadModel::Open { rate_stages: rate_stages.clone(), vus: pool }
            }
        };
        Ok((sliced, offset))
    }

    /// Open model: this agent's lane of the whole schedule (arrival `lane + k·lanes`).
    pub fn lanes(&self) -> (u64, u64) {
        (self.index - 1, self.count)
    }

    /// Only agent 1 samples the server and Redis, so no process is counted twice.
    pub fn samples(&self) -> bool {
        self.index == 1
    }
}

/// Parse `--start-at`: RFC 3339, e.g. `2026-12-02T05:00:00Z` or with fractional seconds.
pub fn parse_start_at(text: &str) -> Result<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim()).map_err(|e| {
        Error::BadInput(format!("--start-at `{text}`: {e}; expected RFC 3339 such as 2026-12-02T05:00:00Z"))
    })
}

/// Seconds since the Unix epoch.
pub fn epoch_s(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agents(n: u64) -> impl Iterator<Item = Agent> {
        (1..=n).map(move |index| Agent { index, count: n })
    }

    #[test]
    fn parses_i_of_n() {
        assert_eq!(Agent::parse("2/3").unwrap(), Agent { index: 2, count: 3 });
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "1/2/3"] {
            let e = Agent::parse(bad).unwrap_err().to_string();
            assert!(e.contains("--agent"), "{bad}: {e}");
        }
    }

    #[test]
    fn shares_add_up_exactly() {
        for n in 1..=7 {
            for x in [0u64, 1, 2, 5, 10, 99, 1000, 60_001] {
                let sum: u64 = agents(n).map(|a| a.share(x)).sum();
                assert_eq!(sum, x, "{x} over {n}");
                assert!(agents(n).all(|a| a.share(x) >= x / n && a.share(x) <= x.div_ceil(n)));
            }
        }
    }

    #[test]
    fn closed_slices_have_disjoint_users_and_add_up() {
        let model = LoadModel::Closed { stages: Ramp::parse("5s:10,5s:7,5s:31", "--stages").unwrap() };
        let mut next = 0;
        let mut sums = [0.0; 3];
        for a in agents(3) {
            let (LoadModel::Closed { stages }, offset) = a.slice(&model).unwrap() else { panic!() };
            assert_eq!(offset, next, "agent {} starts where {} ended", a.index, a.index - 1);
            next = offset + stages.max() as u64;
            for (s, t) in sums.iter_mut().zip(&stages.stages) {
                *s += t.target;
            }
        }
        assert_eq!(sums, [10.0, 7.0, 31.0]);
        let two = LoadModel::Closed { stages: Ramp::constant(2.0, Duration::from_secs(1)) };
        assert!(Agent { index: 1, count: 3 }.slice(&two).is_err(), "agent 1 of 3 gets none of 2 users");
        assert!(Agent { index: 3, count: 3 }.slice(&two).is_ok());
    }

    #[test]
    fn open_lanes_partition_the_schedule() {
        let model = LoadModel::Open { rate_stages: Ramp::constant(300.0, Duration::from_secs(2)), vus: 10 };
        let mut pools = 0;
        let mut seen = vec![0u8; 60];
        for a in agents(3) {
            let (LoadModel::Open { vus, rate_stages }, offset) = a.slice(&model).unwrap() else { panic!() };
            assert_eq!(rate_stages.max(), 300.0, "the whole schedule, taken lane by lane");
            assert_eq!(offset, pools);
            pools += vus;
            let (lane, lanes) = a.lanes();
            for m in 0..vus {
                let mut n = lane + lanes * m;
                while n < 60 {
                    seen[n as usize] += 1;
                    n += lanes * vus;
                }
            }
        }
        assert_eq!(pools, 10);
        assert!(seen.iter().all(|&s| s == 1), "every arrival sent by exactly one agent: {seen:?}");
    }

    #[test]
    fn start_at_is_rfc3339() {
        let t = parse_start_at("2026-12-02T05:00:00.5Z").unwrap();
        assert_eq!(epoch_s(t), 1_796_187_600.5);
        assert!(parse_start_at("tomorrow").unwrap_err().to_string().contains("--start-at"));
    }
}
