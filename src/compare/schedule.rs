//! The phases of a comparison ([`Phase`]: each one's label and the seconds it may take, derived
//! from the plan) and their wall-clock time against that budget.
//!
//! A phase starts when the progress line enters it ([`super::progress::Progress::enter`]) and
//! ends when the next one starts. At the end, compare prints one line per phase — seconds taken
//! against seconds budgeted — and writes every phase to `phases.csv` under its label.

use std::sync::Mutex;
use std::time::Instant;

use authbench_report::saturation::PhaseRow;

use super::plan::Plan;
use super::redis_direct;

/// Every phase of a comparison, in the order one scheme meets them: one server's start, checks
/// and load phases (each repeat), then revocation and memory against logout rate (once per
/// scheme, after the repeats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    StartServer,
    Checks,
    ReplicaChecks,
    AttackBattery,
    Warmup,
    Saturation,
    CpuVsLoad,
    HealthzPair,
    Spectrum,
    Ramp,
    HitRatio,
    Sweep,
    StoreRtt,
    Transport,
    RevocationWindow,
    RevocationCost,
    LogoutMemory,
    ProductionLogin,
    StoreBytes,
    RedisDirect,
    RedisControl,
    Validation,
}

impl Phase {
    pub const ALL: [Phase; 22] = [
        Phase::StartServer,
        Phase::Checks,
        Phase::ReplicaChecks,
        Phase::AttackBattery,
        Phase::Warmup,
        Phase::Saturation,
        Phase::CpuVsLoad,
        Phase::HealthzPair,
        Phase::Spectrum,
        Phase::Ramp,
        Phase::HitRatio,
        Phase::Sweep,
        Phase::StoreRtt,
        Phase::Transport,
        Phase::RevocationWindow,
        Phase::RevocationCost,
        Phase::LogoutMemory,
        Phase::ProductionLogin,
        Phase::StoreBytes,
        Phase::RedisDirect,
        Phase::RedisControl,
        Phase::Validation,
    ];

    /// The name on the progress line and in `phases.csv`.
    pub fn label(self) -> &'static str {
        match self {
            Phase::StartServer => "start server",
            Phase::Checks => "checks",
            Phase::ReplicaChecks => "replica checks",
            Phase::AttackBattery => "attack battery",
            Phase::Warmup => "warm-up",
            Phase::HealthzPair => "healthz pair",
            Phase::Saturation => "saturation",
            Phase::CpuVsLoad => "cpu vs load",
            Phase::Spectrum => "spectrum",
            Phase::Ramp => "ramp",
            Phase::HitRatio => "hit ratio",
            Phase::Sweep => "sweep",
            Phase::StoreRtt => "store rtt",
            Phase::Transport => "transport",
            Phase::RevocationWindow => "revocation window",
            Phase::RevocationCost => "revocation cost",
            Phase::LogoutMemory => "logout memory",
            Phase::RedisDirect => "redis direct",
            Phase::RedisControl => "claim 4 control",
            Phase::ProductionLogin => "production login",
            Phase::StoreBytes => "store bytes",
            Phase::Validation => "validation",
        }
    }

    /// Seconds one occurrence may take (one scheme × repeat; the revocation phases per scheme).
    pub fn budget(self, plan: &Plan) -> f64 {
        let sat = &plan.saturation;
        let run = |load: std::time::Duration| load.as_secs_f64() + 1.0;
        match self {
            Phase::StartServer => 3.0,
            Phase::Checks => 5.0,
            Phase::ReplicaChecks => 3.0,
            Phase::AttackBattery => 10.0,
            Phase::Warmup => run(plan.warmup),
            // The cached variants first preload their population (~100k sessions/s in the real
            // layout, with the warm-up's sessions deleted before).
            Phase::Saturation => {
                // + 1: a step past the SLO on p99 alone runs once more (about one per search).
                let steps = (6 + sat.refinements + sat.past_knee) as usize;
                steps.min(sat.max_steps) as f64 * run(sat.step) + plan.population_cap as f64 / 100e3
            }
            // The utilisation's step is longer than the others.
            Phase::CpuVsLoad => {
                sat.shares.len().saturating_sub(1) as f64 * run(sat.ladder_step) + run(sat.utilisation_step)
            }
            Phase::HealthzPair => run(sat.utilisation_step),
            Phase::Spectrum => run(sat.spectrum),
            Phase::Ramp => run(plan.stages.total()) + 1.0,
            // The saturation phase's population deleted (~150k sessions/s), the users' sessions
            // written (~150k/s), the warm-up, the window.
            Phase::HitRatio => {
                (plan.population_cap + plan.hit_users) as f64 / 150e3
                    + run(plan.hit_warm + plan.hit_window)
                    + 1.0
            }
            // Preloading runs at ~150k sessions/s; each level's lookups last `sweep`.
            Phase::Sweep => {
                plan.levels.len() as f64 * run(plan.sweep)
                    + plan.levels.last().copied().unwrap_or(0) as f64 / 150e3
            }
            // A server start and a proxy per RTT, then the fixed-rate run.
            Phase::StoreRtt => plan.store_rtts.len() as f64 * (run(plan.store_rtt_hold) + 1.5),
            Phase::Transport => plan.transport_seconds(),
            // The servers' start, the load's 1 s before the first probe, then the probes one at a
            // time (~0.3 s each polled alone) with the stateless copies' expiry overlapping them.
            Phase::RevocationWindow => plan.revocation_seconds() + 7.0,
            // 500 logouts and 300 refresh rotations against the revocation phase's server.
            Phase::RevocationCost => 5.0,
            // Each paced logout rate held for its level, the server's start and the key counts.
            Phase::LogoutMemory => plan.logout_memory.planned_seconds(),
            // Once per run: the key space written (~300k keys/s), then per lookup kind a search
            // for the busy share and one window per later repeat.
            Phase::RedisDirect => {
                let w = plan.direct_window;
                let kinds = redis_direct::lookups(&plan.schemes).len() as f64;
                redis_direct::keyspace(&plan.levels) as f64 / 300e3
                    + kinds
                        * (redis_direct::search_seconds(w)
                            + plan.repeat.saturating_sub(1) as f64 * (w.as_secs_f64() + 1.5))
            }
            // Once per run: each repeat's stored levels, each resized to and driven for a
            // sweep level's window.
            Phase::RedisControl => {
                let stored: Vec<u64> = plan.levels.iter().copied().filter(|&n| n > 0).collect();
                plan.repeat as f64
                    * (stored.len() as f64 * (plan.sweep.as_secs_f64() + 1.5)
                        + 2.0 * stored.iter().max().copied().unwrap_or(0) as f64 / 300e3)
            }
            // Per validated scheme: a private Redis and a server started, the stored sessions
            // written, the warm-up and the window (the default 200k, 3 s + 15 s:
            // ~23 s of the ≤ 40 s a scheme may take).
            Phase::Validation => plan.validation.as_ref().map_or(0.0, |v| v.seconds_per_scheme()),
            // Per scheme (`--quick`: cookie, session and jwt only): a server started, the step for
            // the maximum, the fixed-rate window.
            Phase::ProductionLogin => 3.0 + plan.login_step.as_secs_f64() + run(plan.login_window),
            // Once per run: a Redis started, 100k families, the session levels written (~80k
            // sessions/s in the real layout, measured with 10M on this machine) and each read at
            // rest after its rehashing.
            Phase::StoreBytes => {
                let top = plan.memory_levels.iter().copied().max().unwrap_or(0);
                5.0 + top as f64 / 80e3 + plan.memory_levels.len() as f64 * 8.0
            }
        }
    }
}

/// One finished phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseTime {
    pub scheme: String,
    /// 0 for phases outside the repeats (revocation).
    pub repeat: u32,
    pub phase: Phase,
    pub seconds: f64,
}

/// Records phases as they are entered; shared through the progress bar.
#[derive(Debug, Default)]
pub struct PhaseClock {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    current: Option<(String, u32, Phase, Instant)>,
    done: Vec<PhaseTime>,
}

impl PhaseClock {
    /// Enter a phase; the current one (if any) ends now. Consecutive steps of the same phase of
    /// the same scheme × repeat (e.g. each saturation step) are one phase.
    pub fn enter(&self, scheme: &str, repeat: u32, phase: Phase) {
        let Ok(mut s) = self.state.lock() else { return };
        if let Some((cs, cr, cp, _)) = &s.current
            && cs == scheme
            && *cr == repeat
            && *cp == phase
        {
            return;
        }
        close(&mut s);
        s.current = Some((scheme.to_owned(), repeat, phase, Instant::now()));
    }

    /// End the current phase (at the end of the run).
    pub fn close(&self) {
        if let Ok(mut s) = self.state.lock() {
            close(&mut s);
        }
    }

    /// Every finished phase, in order.
    pub fn finished(&self) -> Vec<PhaseTime> {
        self.state.lock().map(|s| s.done.clone()).unwrap_or_default()
    }
}

fn close(s: &mut State) {
    if let Some((scheme, repeat, phase, started)) = s.current.take() {
        s.done.push(PhaseTime { scheme, repeat, phase, seconds: started.elapsed().as_secs_f64() });
    }
}

/// The `phases.csv` rows, each with its budget.
pub fn rows(plan: &Plan, phases: &[PhaseTime]) -> Vec<PhaseRow> {
    phases
        .iter()
        .map(|p| PhaseRow {
            scheme: p.scheme.clone(),
            repeat: p.repeat,
            phase: p.phase.label().to_owned(),
            seconds: (p.seconds * 1000.0).round() / 1000.0,
            budget_s: Some(p.phase.budget(plan)),
        })
        .collect()
}

/// The whole run's budget at the default repeats: 33 minutes for every scheme (the default set,
/// the capacity plan's inputs included: 10M memory, production login, Redis at the plan's load,
/// validation; a 2-minute margin under issue 21's 35, which the reference at d91ca70 overran at
/// 37.8 — since then the ramp runs in the first repeat only, cookie skips the sweep, the knee
/// search takes no step past the knee, the spectrum's run lasts 2 s and the hit-ratio phase 9 s,
/// against the cached variants' preloaded population), 20 for the three originals alone;
/// `--quick` 4 and 2 minutes.
pub fn total_budget(plan: &Plan) -> f64 {
    match (plan.quick, plan.originals_only()) {
        (true, true) => 120.0,
        (true, false) => 240.0,
        (false, true) => 1200.0,
        (false, false) => 1980.0,
    }
}

/// What [`total_budget`] holds the run to, in words, for the report.
pub fn budget_basis(plan: &Plan) -> &'static str {
    match (plan.quick, plan.originals_only()) {
        (true, true) => "`--quick` of the three original schemes",
        (true, false) => "`--quick` with the variant schemes",
        (false, true) => "the default comparison of the three original schemes",
        (false, false) => "the default comparison of every scheme",
    }
}

/// One line per phase, in first-seen order: `phase  runs  took  budget`, then the total.
pub fn table(plan: &Plan, phases: &[PhaseTime]) -> String {
    let mut kinds: Vec<(Phase, f64, f64, usize)> = Vec::new();
    for p in phases {
        let each = p.phase.budget(plan);
        match kinds.iter_mut().find(|k| k.0 == p.phase) {
            Some(k) => {
                k.1 += p.seconds;
                k.2 += each;
                k.3 += 1;
            }
            None => kinds.push((p.phase, p.seconds, each, 1)),
        }
    }
    let mut out = format!("{:<20} {:>5} {:>9} {:>9}\n", "phase", "runs", "took", "budget");
    for (phase, took, budget, n) in &kinds {
        let kind = phase.label();
        let over = if *took > *budget { "  over budget" } else { "" };
        out.push_str(&format!("{kind:<20} {n:>5} {took:>8.1}s {budget:>8.1}s{over}\n"));
    }
    let took: f64 = phases.iter().map(|p| p.seconds).sum();
    let total = total_budget(plan);
    let over = if took > total { "  over budget" } else { "" };
    out.push_str(&format!("{:<20} {:>5} {took:>8.1}s {total:>8.1}s{over}\n", "total", phases.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct() {
        let labels: std::collections::HashSet<&str> = Phase::ALL.iter().map(|p| p.label()).collect();
        assert_eq!(labels.len(), Phase::ALL.len());
    }

    #[test]
    fn consecutive_steps_of_one_phase_are_one_phase() {
        let c = PhaseClock::default();
        c.enter("jwt", 1, Phase::Saturation);
        c.enter("jwt", 1, Phase::Saturation);
        c.enter("jwt", 1, Phase::Ramp);
        c.enter("jwt", 2, Phase::Ramp);
        c.close();
        let phases: Vec<(Phase, u32)> = c.finished().into_iter().map(|p| (p.phase, p.repeat)).collect();
        assert_eq!(phases, [(Phase::Saturation, 1), (Phase::Ramp, 1), (Phase::Ramp, 2)]);
    }
}
