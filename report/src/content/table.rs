//! The explainer's comparison table, every cell a measured figure or a tested check.

use super::format::NOT_MEASURED;
use super::format::{join_or, metric_text};
use crate::analysis::Analysis;
use crate::data::CheckCategory;
use crate::doc::Document;
use crate::metric::Metric;
use crate::transport;
use crate::units;

pub(super) fn comparison_table(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "Comparison table");
    if a.schemes.is_empty() {
        d.p(NOT_MEASURED);
        return;
    }
    d.p("The explainer's table, every cell a figure measured in this run or checks tested before measuring \
         (listed under Checks). CPU per request is read at the run's utilisation of each scheme's maximum \
         (open model), the one definition the answer uses. ± is the 95% interval across repeats.");
    let mut header = vec!["".to_string()];
    header.extend(a.schemes.iter().map(|s| format!("**{s}**")));
    let row = |name: &str, f: &dyn Fn(&str) -> String| {
        let mut r = vec![format!("**{name}**")];
        r.extend(a.schemes.iter().map(|s| f(s)));
        r
    };
    // Each cell short (≤ ~100 characters): the detail is in the sections below.
    let checks = |s: &str, cat: CheckCategory| {
        let all: Vec<&crate::data::CheckRow> =
            a.results.checks.iter().filter(|c| c.scheme == s && c.category() == cat).collect();
        let failed: Vec<&str> = all.iter().filter(|c| !c.passed).map(|c| c.check.as_str()).collect();
        match (all.len(), failed.is_empty()) {
            (0, _) => "no check recorded".to_owned(),
            (n, true) => format!("{n}/{n} checks pass"),
            (n, false) => format!("**{} of {n} FAIL**: {}", failed.len(), failed.join(", ")),
        }
    };
    let window = |s: &str, action: &str| -> String {
        match a.revocation_window(s, action) {
            Some(w) if w.all_rejected() => format!("refused after {}", w.text()),
            Some(w) if w.rejected == 0 => format!("valid until expiry ({} left)", w.text()),
            Some(w) => format!("refused early in {} of {} probes", w.rejected, w.n),
            None => "not measured".into(),
        }
    };
    let rows = vec![
        row("Security", &|s| checks(s, CheckCategory::Security)),
        row("Expiry", &|s| match a.revocation_summary(s, "logout") {
            Some((r, _)) if !r.rejected => "in the credential: valid to its expiry".into(),
            Some(_) => "server-side: ends at logout".into(),
            None => "not measured".into(),
        }),
        row("CPU per /api/me", &|s| {
            let server = metric_text(a, s, Metric::MeCpuServerAtUtilization);
            let redis = a.metric_mean(s, Metric::MeCpuRedisAtUtilization).filter(|r| *r > 0.05);
            match (server, redis) {
                (Some(x), Some(r)) => format!("{x} + Redis {}", units::us(r)),
                (Some(x), None) => x,
                _ => "not measured".into(),
            }
        }),
        row("Max throughput", &|s| {
            metric_text(a, s, Metric::MeRpsSustained)
                .map_or_else(|| "not measured".into(), |x| format!("{x} (open model)"))
        }),
        row("Redis per user", &|s| {
            a.store_slope(s).map_or_else(
                || "≈ 0 (nothing stored)".into(),
                |x| units::bytes_per_session(x.bytes_per_session, x.ci_half),
            )
        }),
        row("Network traffic", &|s| {
            let cred = a.results.credentials.iter().find(|c| c.scheme == s);
            let h1 = match (cred, a.credential_bytes(s)) {
                (Some(c), _) => {
                    format!("{} B `{}` of {} B/request", c.credential_bytes, c.header, c.request_bytes)
                }
                (None, Some(b)) => format!("{} B credential", units::plain(b)),
                _ => "not measured".into(),
            };
            // Each other transport measured: the request's bytes at the socket, below TLS.
            let rows = &a.results.transport;
            let others: Vec<String> = transport::transports(rows)
                .iter()
                .filter(|t| *t != "h1")
                .filter_map(|t| {
                    let b = transport::figure(rows, s, t, |r| Some(r.bytes_sent_per_req))?;
                    let bytes = |x: f64| format!("{} B", units::plain(x));
                    let text = match b.half_width() {
                        Some(h) => units::plus_minus(b.mean, h, bytes),
                        None => bytes(b.mean),
                    };
                    Some(format!("{t} {text}"))
                })
                .collect();
            if others.is_empty() { h1 } else { format!("{h1}; sent over {}", others.join(", ")) }
        }),
        row("Re-authentication", &|s| {
            let mut parts = Vec::new();
            if let Some(v) = metric_text(a, s, Metric::LoginP50) {
                parts.push(format!("login p50 {v}"));
            }
            if let Some(v) = metric_text(a, s, Metric::RefreshP50) {
                parts.push(format!("refresh p50 {v}"));
            }
            join_or(parts, "not measured")
        }),
        row("Logout", &|s| window(s, "logout")),
        row("Logout-all", &|s| window(s, "logout_all")),
        row("Store", &|s| {
            let per_request = a.uses_store(s);
            let cell = checks(s, CheckCategory::Store);
            if per_request {
                format!("Redis on every request; {cell}")
            } else {
                format!("no Redis per request; {cell}")
            }
        }),
    ];
    d.table(header, rows);
}
