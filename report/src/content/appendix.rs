//! The checks table and the appendices (every summary figure, the environment).

use super::format::NOT_MEASURED;
use super::format::{summary_ci, summary_value};
use crate::analysis::Analysis;
use crate::data::SummaryRow;
use crate::doc::Document;
use crate::environment::Environment;

pub(super) fn checks_section(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "Checks");
    if a.results.checks.is_empty() {
        d.p(NOT_MEASURED);
        return;
    }
    d.p("Facts tested against each running server before any number was recorded (`checks.csv`).");
    d.table(
        vec!["scheme".into(), "check".into(), "result".into(), "detail".into()],
        a.results
            .checks
            .iter()
            .map(|c| {
                vec![
                    c.scheme.clone(),
                    format!("`{}`", c.check),
                    if c.passed { "pass".into() } else { "**FAIL**".into() },
                    c.detail.clone(),
                ]
            })
            .collect(),
    );
}

pub(super) fn appendix(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "Appendix: all summary figures");
    if a.results.summary.is_empty() {
        d.p(NOT_MEASURED);
    } else {
        let mut rows: Vec<&SummaryRow> = a.results.summary.iter().collect();
        let rank = |s: &str| a.schemes.iter().position(|x| x == s).unwrap_or(usize::MAX);
        rows.sort_by(|x, y| x.metric.cmp(&y.metric).then(rank(&x.scheme).cmp(&rank(&y.scheme))));
        d.table(
            vec!["metric".into(), "scheme".into(), "n".into(), "mean ± 95% CI".into(), "CI".into()],
            rows.iter()
                .map(|r| {
                    vec![
                        format!("`{}`", r.metric),
                        r.scheme.clone(),
                        r.n.to_string(),
                        summary_value(r),
                        summary_ci(r),
                    ]
                })
                .collect(),
        );
    }
    d.h(2, "Appendix: environment");
    let env = &a.results.environment;
    if *env == Environment::default() {
        d.p(NOT_MEASURED);
    } else {
        let json = env.to_json();
        d.table(
            vec!["key".into(), "value".into()],
            json.as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    vec![format!("`{k}`"), v]
                })
                .collect(),
        );
    }
}
