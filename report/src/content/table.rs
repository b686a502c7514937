//! The explainer's comparison table, every cell a measured figure or a tested check.

use super::format::NOT_MEASURED;
use super::format::{checks_cell, join_or, mean_ci_us, metric_text, revocation_text};
use crate::analysis::Analysis;
use crate::capacity;
use crate::data::CheckCategory;
use crate::doc::Document;
use crate::metric::Metric;
use crate::units;

pub(super) fn comparison_table(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "Comparison table");
    if a.schemes.is_empty() {
        d.p(NOT_MEASURED);
        return;
    }
    d.p("The explainer's table, with every cell a figure measured in this run or a check tested before \
         measuring (named in `code`, listed under Checks below). ± is the 95% confidence interval across repeats.");
    let inputs = capacity::inputs(a);
    let mut header = vec!["".to_string()];
    header.extend(a.schemes.iter().map(|s| format!("**{s}**")));
    let row = |name: &str, f: &dyn Fn(&str) -> String| {
        let mut r = vec![format!("**{name}**")];
        r.extend(a.schemes.iter().map(|s| f(s)));
        r
    };
    let rows = vec![
        row("Security", &|s| {
            join_or(checks_cell(a, s, CheckCategory::Security), "no security check recorded")
        }),
        row("Expiry", &|s| match a.revocation_summary(s, "logout") {
            Some((r, w)) if !r.rejected => {
                format!("expiry travels inside the credential: still valid {} after logout", w.text())
            }
            Some((_, w)) => {
                format!("server-side: the session ends at logout (credential rejected after {})", w.text())
            }
            None => "not measured".into(),
        }),
        row("Scalability", &|s| {
            let mut parts = Vec::new();
            if let Some(c) = a.cpu(s) {
                let total = metric_text(a, s, Metric::MeCpuTotal).unwrap_or_else(|| units::us(c.total_us()));
                parts.push(format!("{total} CPU per /api/me (server + Redis)"));
            }
            if let Some((first, last)) = a.sessions_of(s).and_then(|x| Some((x.first()?, x.last()?)))
                && first.sessions != last.sessions
            {
                parts.push(format!(
                    "p50 {} at {} sessions → {} at {} ({})",
                    mean_ci_us(&first.p50_us),
                    units::count(first.sessions as f64),
                    mean_ci_us(&last.p50_us),
                    units::count(last.sessions as f64),
                    units::change(first.p50_us.mean, last.p50_us.mean)
                ));
            }
            if let Some(slope) = a.store_slope(s) {
                parts.push(format!(
                    "Redis {}",
                    units::bytes_per_session(slope.bytes_per_session, slope.ci_half)
                ));
            }
            if let Some(rps) = metric_text(a, s, Metric::MeRpsSustained) {
                parts.push(format!("max sustainable throughput {rps} (open model, this machine)"));
            }
            join_or(parts, "not measured")
        }),
        row("Network traffic", &|s| {
            let cred = a.results.credentials.iter().find(|c| c.scheme == s);
            match (cred, a.credential_bytes(s)) {
                (Some(c), _) => format!(
                    "{} B credential in `{}`; {} B per /api/me request",
                    c.credential_bytes, c.header, c.request_bytes
                ),
                (None, Some(b)) => format!("{} B credential per request", units::plain(b)),
                _ => "not measured".into(),
            }
        }),
        row("Re-authentication", &|s| {
            let mut parts = Vec::new();
            if let Some(v) = metric_text(a, s, Metric::RefreshP50) {
                parts.push(format!("refresh p50 {v}"));
            }
            if let Some(v) = metric_text(a, s, Metric::LoginP50) {
                parts.push(format!("login p50 {v}"));
            }
            join_or(parts, "not measured")
        }),
        row("Revocation", &|s| {
            let mut parts: Vec<String> =
                ["logout", "logout_all"].iter().filter_map(|act| revocation_text(a, s, act)).collect();
            parts.extend(checks_cell(a, s, CheckCategory::Revocation));
            join_or(parts, "not measured")
        }),
        row("Dependencies", &|s| {
            let mut parts = Vec::new();
            // The figures the capacity projection uses, with their intervals where there are repeats.
            let redis_cpu = |i: &capacity::SchemeInputs| {
                metric_text(a, s, Metric::MeCpuRedisAtUtilization)
                    .unwrap_or_else(|| units::us(i.redis_cpu_us))
            };
            let stored = |i: &capacity::SchemeInputs| {
                i.store_bytes_per_session.map(|b| {
                    let ci = a.store_slope(s).and_then(|x| x.ci_half);
                    units::bytes_per_session(b, ci)
                })
            };
            match inputs.iter().find(|i| i.scheme == s) {
                Some(i) if i.uses_store => parts.push(format!(
                    "Redis on every request: {} Redis CPU per /api/me{}",
                    redis_cpu(i),
                    stored(i).map(|b| format!(", {b} stored")).unwrap_or_default()
                )),
                Some(i) => parts.push(format!(
                    "no store per request (measured Redis CPU {} per /api/me{})",
                    redis_cpu(i),
                    stored(i).map(|b| format!(", {b}")).unwrap_or_default()
                )),
                None => {}
            }
            parts.extend(checks_cell(a, s, CheckCategory::Store));
            join_or(parts, "not measured")
        }),
    ];
    d.table(header, rows);
}
