//! The report's first section: the design review's answer for the stated default workload at 1M,
//! 10M and 100M users — one table, at most six verdicts, one line of assumptions — computed by
//! [`crate::answer`] from this folder's rows; the evidence follows below it.

use crate::analysis::Analysis;
use crate::answer::{Workload, answer_set};
use crate::doc::Document;

/// The user counts the first section answers for.
pub const USERS: [u64; 3] = [1_000_000, 10_000_000, 100_000_000];

/// The default workload, at the utilisation this run measured CPU at.
pub fn workload(a: &Analysis<'_>) -> Workload {
    let mut w = Workload::default();
    if let Some(u) = a.results.environment.utilization.filter(|u| *u > 0.0 && *u <= 1.0) {
        w.utilisation = u;
    }
    if let Some(u) = a.results.environment.redis_shard_utilisation.filter(|u| *u > 0.0 && *u <= 1.0) {
        w.redis_utilisation = u;
    }
    w
}

/// The host the run was measured on, as the answer names it.
pub fn host(a: &Analysis<'_>) -> String {
    let e = &a.results.environment;
    let cpu = e.cpu_model.clone().unwrap_or_else(|| "an unrecorded CPU".into());
    match e.cores {
        Some(c) => format!("{cpu}, {c} cores"),
        None => cpu,
    }
}

pub(super) fn decision(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "The answer");
    let w = workload(a);
    let (set, notes) = answer_set(a.results, &w, &USERS, &host(a), "this run");
    let (header, rows) = set.cells();
    if rows.is_empty() {
        d.p("Not measured in this run: no scheme has a CPU-against-load step at the utilisation the answer reads.");
        return;
    }
    d.p(format!(
        "For {} req/s per user, {} login(s) and {} logout(s) a day, {} access / {} refresh lifetimes, \
         servers at {:.0}% and Redis shards at {:.0}% of a core — on {} (cores are this host's). \
         ± is the 95% interval of the answer across repeats.",
        w.requests_per_user_s,
        w.logins_per_user_day,
        w.logouts_per_user_day,
        humantime::format_duration(w.access_ttl),
        humantime::format_duration(w.refresh_ttl),
        w.utilisation * 100.0,
        w.redis_utilisation * 100.0,
        set.host
    ));
    d.table(header, rows);
    d.bullets(set.verdicts());
    let _ = notes; // stated in the method section, beside the inputs they qualify
    d.p(
        "How each input was measured, and every assumption: [how the answer is computed](#how-the-answer-is-computed). \
         `authbench capacity DIR --help` answers for another workload.",
    );
}

/// `answer.md` (the table and the verdicts, as the README includes them) and `answer.csv` for the
/// default workload at [`USERS`]; `None` when nothing can be answered.
pub fn answer_files(a: &Analysis<'_>) -> Option<(Vec<u8>, Vec<u8>)> {
    use std::io::Write;
    let w = workload(a);
    let (set, _) = answer_set(a.results, &w, &USERS, &host(a), "this run");
    if set.cells().1.is_empty() {
        return None;
    }
    let mut md = Vec::new();
    set.markdown_table(&mut md).ok()?;
    writeln!(md).ok()?;
    for v in set.verdicts() {
        writeln!(md, "- {v}").ok()?;
    }
    let mut csv = Vec::new();
    set.csv(&mut csv).ok()?;
    Some((md, csv))
}
