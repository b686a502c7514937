//! The "Run time" section: how long each phase of the run took against its budget (phases.csv).

use crate::analysis::Analysis;
use crate::doc::Document;
use crate::units;

pub(super) fn run_time_section(d: &mut Document, a: &Analysis<'_>) {
    let phases = &a.results.phases;
    if phases.is_empty() {
        return;
    }
    d.h(2, "Run time");
    // Kinds in first-seen order: (phase, occurrences, seconds, budget seconds or NaN).
    let mut kinds: Vec<(&str, usize, f64, f64)> = Vec::new();
    for p in phases {
        let budget = p.budget_s.unwrap_or(f64::NAN);
        match kinds.iter_mut().find(|k| k.0 == p.phase) {
            Some(k) => {
                k.1 += 1;
                k.2 += p.seconds;
                k.3 += budget;
            }
            None => kinds.push((&p.phase, 1, p.seconds, budget)),
        }
    }
    let total: f64 = phases.iter().map(|p| p.seconds).sum();
    let env = &a.results.environment;
    let quick = env.quick.unwrap_or(false);
    // Results written before compare recorded its budget: the three-scheme budgets it had then.
    let cap = env.run_budget_s.unwrap_or(if quick { 120.0 } else { 1200.0 });
    let basis = env.run_budget_basis.clone().unwrap_or_else(|| {
        if quick { "`--quick`" } else { "the default comparison of three schemes" }.to_owned()
    });
    d.p(format!(
        "Wall-clock time of every phase, summed over schemes and repeats (`phases.csv`), against the budget the \
         plan gives it. The whole run took {} against a budget of {} ({}).",
        units::seconds(total),
        units::seconds(cap),
        basis
    ));
    let cell = |s: f64| if s.is_finite() { units::seconds(s) } else { "—".into() };
    d.table(
        ["phase", "runs", "took", "budget", ""].map(String::from).to_vec(),
        kinds
            .iter()
            .map(|(k, n, took, budget)| {
                vec![
                    (*k).to_string(),
                    n.to_string(),
                    cell(*took),
                    cell(*budget),
                    if took > budget { "over budget".into() } else { String::new() },
                ]
            })
            .collect(),
    );
}
