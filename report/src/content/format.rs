//! Formatting shared by the sections: a summary value with its CI, units, check and
//! revocation cells.

use crate::analysis::Analysis;
use crate::data::SummaryRow;
use crate::metric::Metric;
use crate::plot::spread::{Domain, Estimate};
use crate::stats::MeanCi;
use crate::units;

/// What a section says when the run has no figure for it.
pub const NOT_MEASURED: &str = "Not measured in this run.";

/// A summary value in its unit, with the CI half width when there is one: "1.11 ms ± 128 µs",
/// "1.62M requests ± 48.7k"; a per-session slope inside its own noise reads "≈ 0 B/session".
pub(super) fn summary_value(row: &SummaryRow) -> String {
    let slope = is_slope(row);
    let f = |x: f64| {
        if slope { format!("{}/session", units::bytes(x)) } else { format_unit(x, unit_of(row)) }
    };
    let half = crate::analysis::ci_half(row).filter(|_| row.n > 1);
    if slope && units::is_about_zero(row.mean, half, units::SLOPE_RESOLUTION_BYTES) {
        return match half.filter(|h| *h > 0.0) {
            Some(h) => format!("≈ 0 B/session (± {})", units::bytes(h)),
            None => "≈ 0 B/session".into(),
        };
    }
    match half {
        Some(h) => units::plus_minus(row.mean, h, f),
        None => f(row.mean),
    }
}

/// The 95% CI of a summary value as "[low, high]" in its unit, cut to the values the quantity
/// can take (a latency or a count is never negative, R² never above 1) and saying so.
pub(super) fn summary_ci(row: &SummaryRow) -> String {
    let (Some(l), Some(h)) = (row.ci95_low, row.ci95_high) else {
        return "n < 2: none".into();
    };
    let domain = if is_slope(row) {
        Domain::Any
    } else if row.unit.eq_ignore_ascii_case("r2") {
        Domain::Fraction
    } else {
        Domain::NonNegative
    };
    let e = Estimate::from_summary(0.0, row, domain);
    let (lo, hi) = e.ci.unwrap_or((l, h));
    let f = |x: f64| format_unit(x, unit_of(row));
    let cut = if e.clamped { " (cut to the possible range)" } else { "" };
    format!("[{}, {}]{cut}", f(lo), f(hi))
}

/// The unit a summary value is shown in: its `unit`, except that a metric counting seconds in
/// which something held (`generator_saturated_seconds`, written with unit `s` before it said
/// `seconds (count)`) is a count, not a duration.
fn unit_of(row: &SummaryRow) -> &str {
    if row.metric.ends_with("_seconds") && row.unit.trim() == "s" { "seconds (count)" } else { &row.unit }
}

/// A least-squares slope per stored session (any sign; noise around 0 is "≈ 0").
fn is_slope(row: &SummaryRow) -> bool {
    row.metric.ends_with("_per_session") && !row.metric.ends_with("_r2")
}

/// `x` in a summary unit. Counts (`requests`, `count`, and `seconds` of a counted condition such
/// as `generator_saturated_seconds`) are numbers, never rescaled to ms: 0.667 of a second counted
/// is not "667 ms".
pub(super) fn format_unit(x: f64, unit: &str) -> String {
    match unit.trim().to_ascii_lowercase().as_str() {
        "us" | "µs" | "microseconds" => units::us(x),
        "b" | "bytes" | "byte" => units::bytes(x),
        "b/session" | "bytes/session" => format!("{}/session", units::bytes(x)),
        "s" | "seconds" => units::seconds(x),
        "requests" | "count" | "seconds (count)" => {
            let noun = unit.trim().strip_suffix(" (count)").unwrap_or(unit.trim());
            if noun == "count" { units::count(x) } else { format!("{} {noun}", units::count(x)) }
        }
        "req/s" => format!("{} req/s", units::count(x)),
        "/s" => format!("{}/s", units::count(x)),
        "" | "ratio" | "r2" | "1" | "x" => units::sig(x, 3),
        u => format!("{} {u}", units::sig(x, 3)),
    }
}

pub(super) fn metric_text(a: &Analysis<'_>, scheme: &str, name: Metric) -> Option<String> {
    a.metric(scheme, name).map(summary_value)
}

pub(super) fn mean_ci_us(m: &MeanCi) -> String {
    match m.half_width() {
        Some(h) => units::plus_minus(m.mean, h, units::us),
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

pub(super) fn join_or(parts: Vec<String>, empty: &str) -> String {
    if parts.is_empty() { empty.to_string() } else { parts.join("; ") }
}

/// Whether `scheme` is a `compare --target` (named in environment.json's `targets`).
pub(super) fn is_target(a: &Analysis<'_>, scheme: &str) -> bool {
    match a.results.environment.other.get("targets") {
        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t["name"] == scheme),
        _ => false,
    }
}

pub(super) fn revocation_text(a: &Analysis<'_>, scheme: &str, action: &str) -> Option<String> {
    let w = a.revocation_window(scheme, action)?;
    let label = action.replace('_', "-");
    Some(if w.all_rejected() {
        format!("{label}: old credential rejected after {}", w.text())
    } else if w.rejected == 0 && is_target(a, scheme) {
        // A `compare --target`: its lifetime is unknown, the probe polled up to its bound.
        format!("{label}: old credential still accepted when polling stopped ({} after logout)", w.text())
    } else if w.rejected == 0 {
        format!("{label}: old credential still accepted until it expires ({} left)", w.text())
    } else {
        format!(
            "{label}: old credential rejected early in only {} of {} probes ({})",
            w.rejected,
            w.n,
            w.text()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(metric: &str, unit: &str, n: usize, mean: f64, ci: Option<(f64, f64)>) -> SummaryRow {
        SummaryRow {
            scheme: "cookie".into(),
            metric: metric.into(),
            unit: unit.into(),
            n,
            mean,
            ci95_low: ci.map(|c| c.0),
            ci95_high: ci.map(|c| c.1),
        }
    }

    #[test]
    fn a_count_of_seconds_is_a_count_and_its_interval_stops_at_zero() {
        // The reference's generator_saturated_seconds: 0, 1, 1 seconds over 3 repeats.
        let r = row("generator_saturated_seconds", "s", 3, 0.6667, Some((-0.7676, 2.101)));
        assert_eq!(summary_value(&r), "0.667 seconds ± 1.4 seconds");
        assert_eq!(summary_ci(&r), "[0 seconds, 2.1 seconds] (cut to the possible range)");
        assert!(!summary_value(&r).contains("ms"));
        let r = row("generator_saturated_seconds", "seconds (count)", 3, 0.6667, Some((-0.7676, 2.101)));
        assert_eq!(summary_value(&r), "0.667 seconds ± 1.4 seconds");
    }

    #[test]
    fn summary_figures_in_their_units() {
        let r = row("me_p50_us", "us", 3, 1114.0, Some((986.4, 1243.0)));
        assert_eq!(summary_value(&r), "1.11 ms ± 130 µs");
        assert_eq!(summary_ci(&r), "[986 µs, 1.24 ms]");
        let r = row("load_requests", "requests", 3, 1_620_000.0, Some((1_573_000.0, 1_670_000.0)));
        assert_eq!(summary_value(&r), "1.62M requests ± 49k requests");
        let r = row("server_rss_bytes_per_session", "bytes", 3, 0.0454, Some((-0.1116, 0.2025)));
        assert_eq!(summary_value(&r), "≈ 0 B/session (± 0.157 B)");
        // A slope may be negative: its interval is not cut.
        assert_eq!(summary_ci(&r), "[-0.112 B, 0.203 B]");
        let r = row("store_bytes_per_session_r2", "r2", 3, 0.998, Some((0.996, 1.0004)));
        assert_eq!(summary_ci(&r), "[0.996, 1.00] (cut to the possible range)");
        let r = row("me_p50_us", "us", 1, 884.0, None);
        assert_eq!((summary_value(&r), summary_ci(&r)), ("884 µs".into(), "n < 2: none".into()));
    }
}
