//! The opening paragraph: run date, machine, commit, repeats, schemes, absent files.

use crate::analysis::Analysis;
use crate::doc::Document;

pub(super) fn header(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "About this run");
    let r = a.results;
    let mut facts = Vec::new();
    let date = r.environment.date.clone().or_else(|| r.environment.date_utc.clone());
    facts.push(format!("Run date: {}", date.unwrap_or_else(|| "not recorded".into())));
    let machine: Vec<String> = [
        r.environment.cpu_model.clone(),
        r.environment.cores.map(|c| format!("{c} cores")),
        r.environment.kernel.clone().map(|k| format!("Linux {k}")),
        r.environment.redis_version.clone().map(|v| format!("Redis {v}")),
        r.environment.build_profile.clone().map(|b| format!("{b} build")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !machine.is_empty() {
        facts.push(format!("machine: {}", machine.join(", ")));
    }
    if let Some(p) = r.environment.pinning.clone() {
        facts.push(format!("CPU pinning: {p}"));
    }
    if let Some(c) = r.environment.git_commit.clone() {
        facts.push(format!("git commit `{c}`"));
    }
    let quick = r.environment.quick.unwrap_or(false);
    facts.push(if quick {
        "**quick run**: short stages and few repeats; treat the figures as indicative".into()
    } else {
        "full run".into()
    });
    if let Some(n) = r.summary.iter().map(|s| s.n).max() {
        facts.push(if n == 1 {
            "1 repeat per figure (no confidence interval: run with --repeat 3 or more for one)".to_string()
        } else {
            format!("up to {n} repeats per figure (mean ± 95% CI, Student t)")
        });
    }
    if !a.schemes.is_empty() {
        facts.push(format!(
            "schemes: {}",
            a.schemes.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    d.p(format!(
        "What each auth design costs on the same machine with equivalent servers: latency, CPU, memory \
         and bytes per request as users grow, and what each buys in revocation. {}.",
        facts.join(" · ")
    ));
    if !r.missing.is_empty() {
        d.p(format!(
            "Files absent from this results directory (their sections say \"not measured in this run\"): {}.",
            r.missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        ));
    }
}
