//! Formatting shared by the sections: a summary value with its CI, units, check and
//! revocation cells.

use crate::analysis::Analysis;
use crate::data::{CheckCategory, SummaryRow};
use crate::stats::MeanCi;
use crate::units;

/// A summary value in its unit, with the CI half width when there is one.
pub(super) fn summary_value(row: &SummaryRow) -> String {
    let f = |x: f64| format_unit(x, &row.unit);
    match crate::analysis::ci_half(row) {
        Some(h) if row.n > 1 => format!("{} ± {}", f(row.mean), f(h)),
        _ => f(row.mean),
    }
}

fn format_unit(x: f64, unit: &str) -> String {
    match unit.trim().to_ascii_lowercase().as_str() {
        "us" | "µs" | "microseconds" => units::us(x),
        "b" | "bytes" | "byte" => units::bytes(x),
        "b/session" | "bytes/session" => format!("{}/session", units::bytes(x)),
        "s" | "seconds" => units::seconds(x),
        "" | "ratio" | "r2" | "1" | "x" => units::sig(x, 3),
        u => format!("{} {u}", units::sig(x, 3)),
    }
}

pub(super) fn metric_text(a: &Analysis<'_>, scheme: &str, name: &str) -> Option<String> {
    a.metric(scheme, name).map(summary_value)
}

pub(super) fn mean_ci_us(m: &MeanCi) -> String {
    match m.half_width() {
        Some(h) => format!("{} ± {}", units::us(m.mean), units::us(h)),
        None => units::us(m.mean),
    }
}

/// Two estimates differ when their CIs do not overlap; without CIs, when they differ by > 10%.
pub(super) fn differs(x: &MeanCi, y: &MeanCi) -> bool {
    match (x.ci95_low, x.ci95_high, y.ci95_low, y.ci95_high) {
        (Some(xl), Some(xh), Some(yl), Some(yh)) => xh < yl || yh < xl,
        _ => x.mean != 0.0 && ((y.mean - x.mean) / x.mean).abs() > 0.10,
    }
}

pub(super) fn checks_cell(a: &Analysis<'_>, scheme: &str, cat: CheckCategory) -> Vec<String> {
    a.results
        .checks
        .iter()
        .filter(|c| c.scheme == scheme && c.category() == cat)
        .map(|c| format!("`{}`: {}", c.check, if c.passed { "pass" } else { "**FAIL**" }))
        .collect()
}

pub(super) fn join_or(parts: Vec<String>, empty: &str) -> String {
    if parts.is_empty() { empty.to_string() } else { parts.join("; ") }
}

pub(super) fn revocation_text(a: &Analysis<'_>, scheme: &str, action: &str) -> Option<String> {
    let r = a.revocation(scheme, action)?;
    let label = action.replace('_', "-");
    Some(if r.rejected {
        format!("{label}: old credential rejected after {}", units::seconds(r.window_s))
    } else {
        format!(
            "{label}: old credential still accepted until it expires ({} left)",
            units::seconds(r.window_s)
        )
    })
}
