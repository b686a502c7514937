//! Wall-clock time of every phase of a comparison, against a budget derived from the plan.
//!
//! A phase starts when the progress bar enters it ([`super::progress::Progress::phase`]) and
//! ends when the next one starts. Phases are grouped by *kind*: the phase text up to its first
//! digit (`sweep 100000 sessions` → `sweep`, `saturation 16000 req/s` → `saturation`). At the
//! end, compare prints one line per kind — seconds taken against seconds budgeted — and writes
//! every phase to `phases.csv`.

use std::sync::Mutex;
use std::time::Instant;

use authbench_report::saturation::PhaseRow;

use super::plan::Plan;

/// One finished phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseTime {
    pub scheme: String,
    /// 0 for phases outside the repeats (revocation).
    pub repeat: u32,
    /// The phase kind (text up to the first digit).
    pub phase: String,
    pub seconds: f64,
}

/// Records phases as they are entered; shared through the progress bar.
#[derive(Debug, Default)]
pub struct PhaseClock {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    current: Option<(String, u32, String, Instant)>,
    done: Vec<PhaseTime>,
}

/// `sweep 100000 sessions` → `sweep`; `ramp` → `ramp`.
pub fn kind(what: &str) -> &str {
    let end = what.find(|c: char| c.is_ascii_digit()).unwrap_or(what.len());
    what[..end].trim()
}

impl PhaseClock {
    /// Enter a phase; the current one (if any) ends now. Consecutive steps of the same kind of
    /// the same scheme × repeat (e.g. each saturation step) are one phase.
    pub fn enter(&self, scheme: &str, repeat: u32, what: &str) {
        let Ok(mut s) = self.state.lock() else { return };
        let kind = kind(what);
        if let Some((cs, cr, ck, _)) = &s.current
            && cs == scheme
            && *cr == repeat
            && ck == kind
        {
            return;
        }
        close(&mut s);
        s.current = Some((scheme.to_owned(), repeat, kind.to_owned(), Instant::now()));
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

/// Seconds one occurrence of a phase kind may take (one scheme × repeat; revocation per scheme).
/// `None` for kinds the plan does not know.
pub fn budget(plan: &Plan, kind: &str) -> Option<f64> {
    let sat = &plan.saturation;
    let run = |load: std::time::Duration| load.as_secs_f64() + 1.0;
    Some(match kind {
        "start server" => 3.0,
        "checks" => 5.0,
        "replica checks" => 3.0,
        "attack battery" => 10.0,
        "warm-up" => run(plan.warmup),
        "healthz baseline" | "me steady" => run(plan.steady),
        "saturation" => {
            let steps = (5 + sat.refinements + sat.past_knee) as usize;
            steps.min(sat.max_steps) as f64 * run(sat.step)
        }
        "cpu vs load" => sat.shares.len() as f64 * run(sat.ladder_step),
        "spectrum" => run(sat.spectrum),
        "ramp" => run(plan.stages.total()) + 1.0,
        // Preloading runs at ~150k sessions/s; each level's lookups last `sweep`.
        "sweep" => {
            plan.levels.len() as f64 * run(plan.sweep)
                + plan.levels.last().copied().unwrap_or(0) as f64 / 150e3
        }
        "revocation window" => plan.revocation_seconds() + 3.0,
        // 500 logouts and 300 refresh rotations against the revocation phase's server.
        "revocation cost" => 5.0,
        // Each paced logout rate held for its level, the server's start and the key counts.
        "logout memory" => plan.logout_memory.planned_seconds(),
        _ => return None,
    })
}

/// The `phases.csv` rows, each with its budget.
pub fn rows(plan: &Plan, phases: &[PhaseTime]) -> Vec<PhaseRow> {
    phases
        .iter()
        .map(|p| PhaseRow {
            scheme: p.scheme.clone(),
            repeat: p.repeat,
            phase: p.phase.clone(),
            seconds: (p.seconds * 1000.0).round() / 1000.0,
            budget_s: budget(plan, &p.phase),
        })
        .collect()
}

/// The whole run's budget at the default repeats: 30 minutes for every scheme (the default
/// set), 20 for the three originals alone; `--quick` 4 and 2 minutes.
pub fn total_budget(plan: &Plan) -> f64 {
    match (plan.quick, plan.originals_only()) {
        (true, true) => 120.0,
        (true, false) => 240.0,
        (false, true) => 1200.0,
        (false, false) => 1800.0,
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

/// One line per phase kind, in first-seen order: `kind  took  budget`, then the total.
pub fn table(plan: &Plan, phases: &[PhaseTime]) -> String {
    let mut kinds: Vec<(&str, f64, f64, usize)> = Vec::new();
    for p in phases {
        let each = budget(plan, &p.phase).unwrap_or(f64::NAN);
        match kinds.iter_mut().find(|k| k.0 == p.phase) {
            Some(k) => {
                k.1 += p.seconds;
                k.2 += each;
                k.3 += 1;
            }
            None => kinds.push((&p.phase, p.seconds, each, 1)),
        }
    }
    let mut out = format!("{:<20} {:>5} {:>9} {:>9}\n", "phase", "runs", "took", "budget");
    for (kind, took, budget, n) in &kinds {
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
    fn kinds_drop_the_numbers() {
        assert_eq!(kind("sweep 100000 sessions"), "sweep");
        assert_eq!(kind("saturation 16000 req/s"), "saturation");
        assert_eq!(kind("cpu vs load 800 req/s"), "cpu vs load");
        assert_eq!(kind("ramp"), "ramp");
    }

    #[test]
    fn consecutive_steps_of_one_kind_are_one_phase() {
        let c = PhaseClock::default();
        c.enter("jwt", 1, "saturation 8000 req/s");
        c.enter("jwt", 1, "saturation 16000 req/s");
        c.enter("jwt", 1, "ramp");
        c.enter("jwt", 2, "ramp");
        c.close();
        let kinds: Vec<(String, u32)> = c.finished().into_iter().map(|p| (p.phase, p.repeat)).collect();
        assert_eq!(kinds, [("saturation".into(), 1), ("ramp".into(), 1), ("ramp".into(), 2)]);
    }
}
