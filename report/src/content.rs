//! The report's text, built from the data: the explainer's comparison table, the claims checked
//! against the measurements, a "what this means" per plot, the capacity projection and the
//! appendices. Every sentence that states a result computes it here; nothing is hard-coded.

use super::analysis::{Analysis, SchemeSessions};
use super::capacity::{self, Assumptions};
use super::data::{CheckCategory, SummaryRow, metric};
use super::doc::Document;
use super::plot::Rendered;
use super::stats::MeanCi;
use super::units;

const NOT_MEASURED: &str = "Not measured in this run.";

/// Build the whole report.
pub fn build(a: &Analysis<'_>, plots: &[Rendered]) -> Document {
    let mut d = Document::new("authbench: encrypted cookie vs Redis session vs JWT");
    header(&mut d, a);
    comparison_table(&mut d, a);
    claims(&mut d, a);
    plots_section(&mut d, a, plots);
    capacity_section(&mut d, a);
    checks_section(&mut d, a);
    appendix(&mut d, a);
    d
}

// --- formatting helpers ----------------------------------------------------------------------

/// A summary value in its unit, with the CI half width when there is one.
fn summary_value(row: &SummaryRow) -> String {
    let f = |x: f64| format_unit(x, &row.unit);
    match super::analysis::ci_half(row) {
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

fn metric_text(a: &Analysis<'_>, scheme: &str, name: &str) -> Option<String> {
    a.metric(scheme, name).map(summary_value)
}

fn mean_ci_us(m: &MeanCi) -> String {
    match m.half_width() {
        Some(h) => format!("{} ± {}", units::us(m.mean), units::us(h)),
        None => units::us(m.mean),
    }
}

/// Two estimates differ when their CIs do not overlap; without CIs, when they differ by > 10%.
fn differs(x: &MeanCi, y: &MeanCi) -> bool {
    match (x.ci95_low, x.ci95_high, y.ci95_low, y.ci95_high) {
        (Some(xl), Some(xh), Some(yl), Some(yh)) => xh < yl || yh < xl,
        _ => x.mean != 0.0 && ((y.mean - x.mean) / x.mean).abs() > 0.10,
    }
}

fn checks_cell(a: &Analysis<'_>, scheme: &str, cat: CheckCategory) -> Vec<String> {
    a.results
        .checks
        .iter()
        .filter(|c| c.scheme == scheme && c.category() == cat)
        .map(|c| format!("`{}`: {}", c.check, if c.passed { "pass" } else { "**FAIL**" }))
        .collect()
}

fn join_or(parts: Vec<String>, empty: &str) -> String {
    if parts.is_empty() { empty.to_string() } else { parts.join("; ") }
}

fn revocation_text(a: &Analysis<'_>, scheme: &str, action: &str) -> Option<String> {
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

// --- sections --------------------------------------------------------------------------------

fn header(d: &mut Document, a: &Analysis<'_>) {
    let r = a.results;
    let mut facts = Vec::new();
    let date = r.env_str("date").or_else(|| r.env_str("date_utc"));
    facts.push(format!("Run date: {}", date.unwrap_or_else(|| "not recorded".into())));
    let machine: Vec<String> = [
        r.env_str("cpu_model"),
        r.env_str("cores").map(|c| format!("{c} cores")),
        r.env_str("kernel").map(|k| format!("Linux {k}")),
        r.env_str("redis_version").map(|v| format!("Redis {v}")),
        r.env_str("build_profile").map(|b| format!("{b} build")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !machine.is_empty() {
        facts.push(format!("machine: {}", machine.join(", ")));
    }
    if let Some(c) = r.env_str("git_commit") {
        facts.push(format!("git commit `{c}`"));
    }
    let quick = r.environment.get("quick").and_then(|v| v.as_bool()).unwrap_or(false);
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

fn comparison_table(d: &mut Document, a: &Analysis<'_>) {
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
        row("Expiry", &|s| match a.revocation(s, "logout") {
            Some(r) if !r.rejected => format!(
                "expiry travels inside the credential: still valid {} after logout",
                units::seconds(r.window_s)
            ),
            Some(r) => format!(
                "server-side: the session ends at logout (credential rejected after {})",
                units::seconds(r.window_s)
            ),
            None => "not measured".into(),
        }),
        row("Scalability", &|s| {
            let mut parts = Vec::new();
            if let Some(c) = a.cpu(s) {
                parts.push(format!("{} CPU per /api/me (server + Redis)", units::us(c.total_us())));
            }
            if let Some((first, last)) = a.sessions_of(s).and_then(|x| Some((x.first()?, x.last()?)))
                && first.sessions != last.sessions
            {
                parts.push(format!(
                    "p50 {} at {} sessions → {} at {} ({})",
                    units::us(first.p50_us.mean),
                    units::count(first.sessions as f64),
                    units::us(last.p50_us.mean),
                    units::count(last.sessions as f64),
                    units::change(first.p50_us.mean, last.p50_us.mean)
                ));
            }
            if let Some(slope) = a.store_slope(s) {
                parts.push(format!("Redis {}/session", units::bytes(slope.bytes_per_session)));
            }
            if let Some(rps) = metric_text(a, s, metric::ME_RPS_MAX) {
                parts.push(format!("max throughput {rps}"));
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
            if let Some(v) = metric_text(a, s, metric::REFRESH_P50) {
                parts.push(format!("refresh p50 {v}"));
            }
            if let Some(v) = metric_text(a, s, metric::LOGIN_P50) {
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
            match inputs.iter().find(|i| i.scheme == s) {
                Some(i) if i.uses_store => parts.push(format!(
                    "Redis on every request: {} Redis CPU per /api/me{}",
                    units::us(i.redis_cpu_us),
                    i.store_bytes_per_session
                        .map(|b| format!(", {}/session stored", units::bytes(b)))
                        .unwrap_or_default()
                )),
                Some(i) => parts.push(format!(
                    "no store per request (measured Redis CPU {} per /api/me{})",
                    units::us(i.redis_cpu_us),
                    i.store_bytes_per_session
                        .map(|b| format!(", {}/session", units::bytes(b)))
                        .unwrap_or_default()
                )),
                None => {}
            }
            parts.extend(checks_cell(a, s, CheckCategory::Store));
            join_or(parts, "not measured")
        }),
    ];
    d.table(header, rows);
}

fn claims(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "What the measurements say about the explainer's claims");
    let mut items = Vec::new();
    if let Some(t) = claim_credentials(a) {
        items.push(t);
    }
    if let Some(t) = claim_lookup_vs_sessions(a) {
        items.push(t);
    }
    if let Some(t) = claim_memory(a) {
        items.push(t);
    }
    if let Some(t) = claim_jwt_cpu(a) {
        items.push(t);
    }
    if let Some(t) = claim_revocation(a) {
        items.push(t);
    }
    if let Some(t) = claim_checks(a) {
        items.push(t);
    }
    if items.is_empty() {
        d.p(NOT_MEASURED);
    } else {
        d.bullets(items);
    }
}

fn claim_credentials(a: &Analysis<'_>) -> Option<String> {
    let sizes: Vec<(String, f64)> =
        a.schemes.iter().filter_map(|s| Some((s.clone(), a.credential_bytes(s)?))).collect();
    if sizes.is_empty() {
        return None;
    }
    let (small, large) = extremes(&sizes)?;
    let list =
        sizes.iter().map(|(s, b)| format!("{s} {} B", units::plain(*b))).collect::<Vec<_>>().join(", ");
    let ratio = if small.1 > 0.0 {
        format!(", {}× the smallest", units::sig(large.1 / small.1, 2))
    } else {
        String::new()
    };
    Some(format!(
        "**Every request carries who the user is** (claim 1): credential bytes per request: {list}. \
         The largest ({}){ratio}.",
        large.0
    ))
}

fn extremes(v: &[(String, f64)]) -> Option<((String, f64), (String, f64))> {
    let small = v.iter().min_by(|x, y| x.1.total_cmp(&y.1))?.clone();
    let large = v.iter().max_by(|x, y| x.1.total_cmp(&y.1))?.clone();
    Some((small, large))
}

/// Claim 4, computed: p50 at the fewest vs the most stored sessions, per scheme.
pub fn lookup_vs_sessions_text(a: &Analysis<'_>) -> Option<String> {
    let per_scheme: Vec<(&SchemeSessions, String, bool, f64)> = a
        .sessions
        .iter()
        .filter_map(|s| {
            let (first, last) = (s.first()?, s.last()?);
            if first.sessions == last.sessions {
                return None;
            }
            let rel = (last.p50_us.mean - first.p50_us.mean) / first.p50_us.mean;
            let significant = differs(&first.p50_us, &last.p50_us);
            Some((
                s,
                format!(
                    "{}: {} at {} → {} at {} stored sessions ({}{})",
                    s.scheme,
                    mean_ci_us(&first.p50_us),
                    units::count(first.sessions as f64),
                    mean_ci_us(&last.p50_us),
                    units::count(last.sessions as f64),
                    units::change(first.p50_us.mean, last.p50_us.mean),
                    if significant { "" } else { ", within noise" }
                ),
                significant,
                rel,
            ))
        })
        .collect();
    if per_scheme.is_empty() {
        return None;
    }
    let figures = per_scheme.iter().map(|x| x.1.clone()).collect::<Vec<_>>().join("; ");
    let session = per_scheme.iter().find(|x| x.0.scheme == "session").or_else(|| {
        // Without a scheme named "session", judge the one whose store grows most.
        per_scheme.iter().max_by(|x, y| {
            let slope = |s: &SchemeSessions| s.redis_fit.map_or(0.0, |f| f.slope);
            slope(x.0).total_cmp(&slope(y.0))
        })
    })?;
    let baseline: Vec<f64> =
        per_scheme.iter().filter(|x| x.0.scheme != session.0.scheme).map(|x| x.3).collect();
    let baseline_text = if baseline.is_empty() {
        String::new()
    } else {
        let b = baseline.iter().sum::<f64>() / baseline.len() as f64;
        format!(
            " The schemes that store nothing moved by {} on average over the same levels, so that much is the \
             machine, not the store.",
            signed_pct(b)
        )
    };
    let verdict = if !session.2 || session.3.abs() < 0.10 {
        format!(
            "**Contradicts the claim**: `{}` lookup latency barely depends on the number of stored sessions \
             ({}); a hash-indexed store finds one key among millions in about the same time as among a few.",
            session.0.scheme,
            signed_pct(session.3)
        )
    } else if session.3 > 0.0 {
        format!(
            "**Supports the claim**: `{}` p50 grows by {} as sessions are added, beyond the run-to-run noise.",
            session.0.scheme,
            signed_pct(session.3)
        )
    } else {
        format!(
            "`{}` p50 is lower with more sessions ({}): the number of sessions is not what sets lookup time here.",
            session.0.scheme,
            signed_pct(session.3)
        )
    };
    Some(format!("{verdict} Measured p50 of /api/me: {figures}.{baseline_text}"))
}

fn signed_pct(rel: f64) -> String {
    units::change(1.0, 1.0 + rel)
}

fn claim_lookup_vs_sessions(a: &Analysis<'_>) -> Option<String> {
    lookup_vs_sessions_text(a).map(|t| format!("**Sessions slow down as users grow** (claim 4): {t}"))
}

fn claim_memory(a: &Analysis<'_>) -> Option<String> {
    let slopes: Vec<String> = a
        .schemes
        .iter()
        .filter_map(|s| {
            let st = a.store_slope(s)?;
            let few = a.sessions_of(s).is_some_and(|x| x.levels.len() < 3);
            let r2 = match st.r2.filter(|r| r.is_finite()) {
                Some(_) if few => ", from two levels only (R² is 1 by construction)".to_string(),
                Some(r) => format!(", R² {r:.3}"),
                None => String::new(),
            };
            let rss = a
                .rss_slope(s)
                .map(|x| format!("; server RSS {}/session", units::bytes(x.bytes_per_session)))
                .unwrap_or_default();
            Some(format!("{s} {}/session{r2}{rss}", units::bytes(st.bytes_per_session)))
        })
        .collect();
    if slopes.is_empty() {
        return None;
    }
    let million = a
        .schemes
        .iter()
        .filter_map(|s| {
            let b = a.store_slope(s)?.bytes_per_session;
            a.uses_store(s)
                .then(|| format!("{s} needs {} of Redis per million logged-in users", units::bytes(b * 1e6)))
        })
        .collect::<Vec<_>>();
    let tail = if million.is_empty() {
        " No scheme stores anything per session in Redis (the slopes above are Redis's own noise)."
            .to_string()
    } else {
        format!(" Memory does grow linearly with users: {}.", million.join("; "))
    };
    Some(format!(
        "**Session memory grows with users** (claim 5): slope of Redis used_memory against stored sessions: {}.{tail}",
        slopes.join("; ")
    ))
}

fn claim_jwt_cpu(a: &Analysis<'_>) -> Option<String> {
    let cpus: Vec<(String, f64, f64)> =
        a.schemes.iter().filter_map(|s| a.cpu(s).map(|c| (s.clone(), c.server_us, c.redis_us))).collect();
    if cpus.is_empty() {
        return None;
    }
    let list = cpus
        .iter()
        .map(|(s, sv, r)| format!("{s} {} server + {} Redis", units::us(*sv), units::us(*r)))
        .collect::<Vec<_>>()
        .join("; ");
    let mut text =
        format!("**JWT needs no database, only a signature check** (claim 6): CPU per /api/me: {list}.");
    let total = |name: &str| cpus.iter().find(|c| c.0 == name).map(|c| c.1 + c.2);
    if let (Some(jwt), Some(session)) = (total("jwt"), total("session")) {
        let jwt_redis = cpus.iter().find(|c| c.0 == "jwt").map_or(0.0, |c| c.2);
        let session_redis = cpus.iter().find(|c| c.0 == "session").map_or(0.0, |c| c.2);
        text.push_str(&format!(
            " JWT's Redis share is {} against session's {}, so it indeed needs no store;",
            units::us(jwt_redis),
            units::us(session_redis)
        ));
        if jwt <= session {
            text.push_str(&format!(
                " in total it costs {} less CPU per request than the session lookup ({} vs {}).",
                units::us(session - jwt),
                units::us(jwt),
                units::us(session)
            ));
        } else {
            text.push_str(&format!(
                " but verifying the signature costs more CPU than the session lookup: {} vs {} per request ({}).",
                units::us(jwt),
                units::us(session),
                units::change(session, jwt)
            ));
        }
    }
    Some(text)
}

fn claim_revocation(a: &Analysis<'_>) -> Option<String> {
    let parts: Vec<String> = a
        .schemes
        .iter()
        .filter_map(|s| {
            let texts: Vec<String> =
                ["logout", "logout_all"].iter().filter_map(|act| revocation_text(a, s, act)).collect();
            (!texts.is_empty()).then(|| format!("{s}: {}", texts.join(", ")))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    let immediate: Vec<&str> = a
        .schemes
        .iter()
        .filter(|s| a.revocation(s, "logout").is_some_and(|r| r.rejected))
        .map(|s| s.as_str())
        .collect();
    let never: Vec<&str> = a
        .schemes
        .iter()
        .filter(|s| a.revocation(s, "logout").is_some_and(|r| !r.rejected))
        .map(|s| s.as_str())
        .collect();
    let verdict = match (immediate.is_empty(), never.is_empty()) {
        (false, false) => format!(
            " Measured: {} can revoke; {} cannot before expiry.",
            immediate.join(", "),
            never.join(", ")
        ),
        (false, true) => " Measured: every scheme revoked its credential.".to_string(),
        (true, false) => " Measured: no scheme revoked its credential before expiry.".to_string(),
        (true, true) => String::new(),
    };
    Some(format!(
        "**Sessions can force logout; JWT cannot revoke before expiry** (claim 8): {}.{verdict}",
        parts.join("; ")
    ))
}

fn claim_checks(a: &Analysis<'_>) -> Option<String> {
    if a.results.checks.is_empty() {
        return None;
    }
    let total = a.results.checks.len();
    let failed: Vec<String> = a
        .results
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{} `{}`", c.scheme, c.check))
        .collect();
    let security: Vec<String> = a
        .results
        .checks
        .iter()
        .filter(|c| c.category() == CheckCategory::Security)
        .map(|c| format!("{} `{}` {}", c.scheme, c.check, if c.passed { "pass" } else { "FAIL" }))
        .collect();
    let status = if failed.is_empty() {
        format!("all {total} checks passed")
    } else {
        format!("{} of {total} checks **failed**: {}", failed.len(), failed.join(", "))
    };
    Some(format!(
        "**Tampered cookies are rejected; JWT payloads are only encoded** (claims 2, 3, 9): {status}. \
         Security checks: {}.",
        join_or(security, "none recorded")
    ))
}

// --- plots -----------------------------------------------------------------------------------

fn plots_section(d: &mut Document, a: &Analysis<'_>, plots: &[Rendered]) {
    d.h(2, "Plots");
    type Meaning = fn(&Analysis<'_>) -> Option<String>;
    let sections: [(&str, &str, Meaning); 8] = [
        ("latency_vs_users", "Latency against concurrent users", meaning_latency_users),
        ("throughput_vs_users", "Throughput against concurrent users", meaning_throughput),
        ("latency_vs_sessions", "Latency against stored sessions", meaning_latency_sessions),
        ("memory_vs_sessions", "Memory against stored sessions", meaning_memory),
        ("cpu_per_request", "CPU per request", meaning_cpu),
        ("latency_spectrum", "Percentile spectrum", meaning_spectrum),
        ("credential_bytes", "Credential bytes per request", meaning_credentials),
        ("revocation_window", "Revocation window", meaning_revocation),
    ];
    for (name, heading, meaning) in sections {
        d.h(3, heading);
        match plots.iter().find(|p| p.plot.name == name) {
            Some(p) => {
                d.plot(name, p.plot.title.clone());
                if let Some(m) = meaning(a) {
                    d.p(format!("**What this means:** {m}"));
                }
                match name {
                    "latency_vs_sessions" => sessions_table(d, a),
                    "revocation_window" => revocation_table(d, a),
                    _ => {}
                }
            }
            None => d.p(NOT_MEASURED),
        }
    }
}

/// The session-scaling sweep level by level (means across repeats, ± 95% CI).
fn sessions_table(d: &mut Document, a: &Analysis<'_>) {
    let mut rows = Vec::new();
    for s in &a.sessions {
        for l in &s.levels {
            let mem = |m: Option<MeanCi>| m.map_or("—".to_string(), |m| units::bytes(m.mean));
            rows.push(vec![
                s.scheme.clone(),
                units::count(l.sessions as f64),
                l.redis_keys.map_or("—".to_string(), units::plain),
                mean_ci_us(&l.p50_us),
                mean_ci_us(&l.p99_us),
                l.p999_us.as_ref().map_or("—".to_string(), mean_ci_us),
                mem(l.redis_used_memory),
                mem(l.server_rss_bytes),
            ]);
        }
    }
    d.table(
        ["scheme", "stored sessions", "Redis keys", "p50", "p99", "p99.9", "Redis used_memory", "server RSS"]
            .map(String::from)
            .to_vec(),
        rows,
    );
}

/// Every revocation probe with the note `compare` wrote.
fn revocation_table(d: &mut Document, a: &Analysis<'_>) {
    d.table(
        ["scheme", "action", "window", "revoked by the action", "note"].map(String::from).to_vec(),
        a.results
            .revocation
            .iter()
            .map(|r| {
                vec![
                    r.scheme.clone(),
                    r.action.replace('_', "-"),
                    units::seconds(r.window_s),
                    if r.rejected { "yes".into() } else { "no".into() },
                    r.note.clone(),
                ]
            })
            .collect(),
    );
}

fn meaning_latency_users(a: &Analysis<'_>) -> Option<String> {
    let at_max: Vec<(String, u64, f64, f64, u64)> = a
        .ramp
        .iter()
        .filter_map(|r| {
            let top = r.levels.iter().rev().find(|l| l.p50_us.is_some() && l.p99_us.is_some())?;
            let errors = r.levels.iter().map(|l| l.errors).sum();
            Some((r.scheme.clone(), top.active_vus, top.p50_us?, top.p99_us?, errors))
        })
        .collect();
    if at_max.is_empty() {
        return None;
    }
    let list = at_max
        .iter()
        .map(|(s, v, p50, p99, _)| {
            format!("{s} p50 {} / p99 {} at {v} users", units::us(*p50), units::us(*p99))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let best = at_max.iter().min_by(|x, y| x.3.total_cmp(&y.3))?;
    let worst = at_max.iter().max_by(|x, y| x.3.total_cmp(&y.3))?;
    let errors: Vec<String> =
        at_max.iter().filter(|x| x.4 > 0).map(|x| format!("{} {} errors", x.0, x.4)).collect();
    let mut t = format!(
        "At the highest load: {list}. Lowest tail: {} ({}× below {}). Latency rises with users once the \
         server's cores are busy: each user waits for the others' requests.",
        best.0,
        units::sig(worst.3 / best.3, 2),
        worst.0
    );
    if !errors.is_empty() {
        t.push_str(&format!(" Errors during the ramp: {}.", errors.join(", ")));
    }
    Some(t)
}

fn meaning_throughput(a: &Analysis<'_>) -> Option<String> {
    let maxes: Vec<(String, f64, u64)> = a
        .ramp
        .iter()
        .filter_map(|r| {
            let peak = r.levels.iter().map(|l| l.rps).fold(0.0, f64::max);
            let at = r.levels.iter().find(|l| l.rps >= 0.95 * peak)?.active_vus;
            let peak = a.metric_mean(&r.scheme, metric::ME_RPS_MAX).unwrap_or(peak);
            Some((r.scheme.clone(), peak, at))
        })
        .collect();
    if maxes.is_empty() {
        return None;
    }
    let (low, high) = extremes(&maxes.iter().map(|m| (m.0.clone(), m.1)).collect::<Vec<_>>())?;
    Some(format!(
        "Peak throughput: {}. Throughput stops growing once the machine is saturated; beyond that point \
         more users only add queueing (see the latency plot). {} serves {}× the requests of {} on the same cores.",
        maxes
            .iter()
            .map(|(s, p, at)| format!("{s} {} req/s (95% of it reached at {at} users)", units::count(*p)))
            .collect::<Vec<_>>()
            .join("; "),
        high.0,
        units::sig(if low.1 > 0.0 { high.1 / low.1 } else { f64::NAN }, 2),
        low.0
    ))
}

fn meaning_latency_sessions(a: &Analysis<'_>) -> Option<String> {
    lookup_vs_sessions_text(a)
}

fn meaning_memory(a: &Analysis<'_>) -> Option<String> {
    let parts: Vec<String> = a
        .sessions
        .iter()
        .filter_map(|s| {
            let few = s.levels.len() < 3;
            let redis = s.redis_fit.map(|f| fit_text(f.slope, f.r2, few, "Redis"));
            let rss = s.rss_fit.map(|f| fit_text(f.slope, f.r2, few, "server RSS"));
            let v: Vec<String> = redis.into_iter().chain(rss).collect();
            (!v.is_empty()).then(|| format!("{}: {}", s.scheme, v.join(", ")))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "Slope of memory against stored sessions (the cost of one more logged-in user; least-squares fit \
         over every repeat's points, as drawn): {}. A slope near zero \
         means the scheme keeps nothing per user; R² near 1 means memory is a straight line in users, so the \
         capacity projection below can extrapolate it.",
        parts.join("; ")
    ))
}

fn fit_text(slope: f64, r2: f64, few_levels: bool, what: &str) -> String {
    let r2 = if few_levels {
        " (two levels: a line through two points)".to_string()
    } else if r2.is_finite() {
        format!(" (R² {r2:.3})")
    } else {
        " (flat)".into()
    };
    format!("{what} {}/session{r2}", units::bytes(slope))
}

fn meaning_cpu(a: &Analysis<'_>) -> Option<String> {
    let parts: Vec<String> = a
        .schemes
        .iter()
        .filter_map(|s| {
            let c = a.cpu(s)?;
            let share = if c.total_us() > 0.0 { c.redis_us / c.total_us() * 100.0 } else { 0.0 };
            let base = c
                .healthz_us
                .filter(|h| *h > 0.0)
                .map(|h| {
                    format!(", {}× the no-auth /healthz ({})", units::sig(c.server_us / h, 2), units::us(h))
                })
                .unwrap_or_default();
            Some(format!(
                "{s} {} total, {}% of it in Redis{base}",
                units::us(c.total_us()),
                units::sig(share, 2)
            ))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "CPU time is the machine-independent cost of authentication: {}. CPU per request, not requests per \
         second, is what sizes a fleet: see the capacity projection.",
        parts.join("; ")
    ))
}

fn meaning_spectrum(a: &Analysis<'_>) -> Option<String> {
    let parts: Vec<String> = a
        .spectrum
        .iter()
        .filter_map(|s| {
            let p50 = s.at(50.0)?;
            let p99 = s.at(99.0)?;
            let p999 = s.at(99.9)?;
            let max =
                s.points.last().filter(|(p, _)| *p >= 100.0).map(|(_, v)| format!(", max {}", units::us(*v)));
            Some(format!(
                "{} p50 {}, p99 {}, p99.9 {}{} (p99.9/p50 = {}×)",
                s.scheme,
                units::us(p50),
                units::us(p99),
                units::us(p999),
                max.unwrap_or_default(),
                units::sig(p999 / p50, 2)
            ))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "Each curve is the whole latency distribution; the right end is what 1 request in 1,000 or 10,000 \
         sees: {}. A scheme whose curve lifts only at the far right has rare stalls rather than a slower path.",
        parts.join("; ")
    ))
}

fn meaning_credentials(a: &Analysis<'_>) -> Option<String> {
    let sizes: Vec<(String, f64)> =
        a.schemes.iter().filter_map(|s| Some((s.clone(), a.credential_bytes(s)?))).collect();
    let (small, large) = extremes(&sizes)?;
    let rate = Assumptions::from_analysis(a).rate_per_user_rps;
    let users = 1e6;
    Some(format!(
        "{} sends the most credential bytes ({} B), {} the fewest ({} B). At {} users × {} req/s each, the \
         credential alone costs {} (largest) vs {} (smallest) of upstream traffic per second.",
        large.0,
        units::plain(large.1),
        small.0,
        units::plain(small.1),
        units::count(users),
        units::sig(rate, 3),
        units::bytes(large.1 * users * rate),
        units::bytes(small.1 * users * rate)
    ))
}

fn meaning_revocation(a: &Analysis<'_>) -> Option<String> {
    claim_revocation(a).map(|t| {
        format!(
            "{} Bars on a log scale: a stateless credential outlives logout by its remaining lifetime; \
             shortening the token TTL shrinks the red bars at the price of more refreshes.",
            t.split_once(": ").map_or(t.as_str(), |x| x.1)
        )
    })
}

// --- capacity --------------------------------------------------------------------------------

fn capacity_section(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "Capacity projection");
    let inputs = capacity::inputs(a);
    if inputs.is_empty() {
        d.p(format!("{NOT_MEASURED} (needs CPU per request from `summary.csv` or `ramp.csv`.)"));
        return;
    }
    let asm = Assumptions::from_analysis(a);
    d.p(format!(
        "**This is a projection, not a measurement**: a linear extrapolation of the per-request CPU and \
         per-session memory measured above to user counts this machine cannot hold. Assumptions: every user \
         sends {} req/s to /api/me ({}), one stored session per user, a Redis shard runs at most {}% busy on \
         its single command thread and holds at most {}.",
        units::sig(asm.rate_per_user_rps, 3),
        if asm.rate_from_environment {
            "`rate_per_user_rps` from environment.json"
        } else {
            "default; environment.json has no `rate_per_user_rps`"
        },
        units::sig(asm.shard_utilisation * 100.0, 2),
        units::bytes(asm.shard_memory_bytes)
    ));
    d.code(format!(
        "requests/s      = users × {rate}\n\
         app cores       = users × {rate} × server CPU µs/req ÷ 1e6\n\
         Redis memory    = users × store bytes/session\n\
         Redis shards    = max(⌈users × {rate} × Redis CPU µs/req ÷ 1e6 ÷ {u}⌉, ⌈Redis memory ÷ {m}⌉)",
        rate = units::sig(asm.rate_per_user_rps, 3),
        u = asm.shard_utilisation,
        m = units::bytes(asm.shard_memory_bytes)
    ));
    d.table(
        vec![
            "scheme".into(),
            "server CPU µs/req".into(),
            "Redis CPU µs/req".into(),
            "store bytes/session".into(),
            "uses Redis".into(),
        ],
        inputs
            .iter()
            .map(|i| {
                vec![
                    i.scheme.clone(),
                    units::sig(i.server_cpu_us, 3),
                    units::sig(i.redis_cpu_us, 3),
                    i.store_bytes_per_session.map_or("not measured".into(), |b| units::sig(b, 3)),
                    if i.uses_store { "yes".into() } else { "no".into() },
                ]
            })
            .collect(),
    );
    let mut rows = Vec::new();
    for &users in &capacity::USERS {
        for i in &inputs {
            let p = capacity::project(i, users, &asm);
            rows.push(vec![
                units::count(users as f64),
                i.scheme.clone(),
                units::count(p.requests_per_s),
                units::sig(p.server_cores, 3),
                match (p.redis_memory_bytes, i.uses_store) {
                    (None, _) => "not measured".into(),
                    (Some(m), true) => units::bytes(m),
                    (Some(_), false) => "none (slope ≈ 0)".into(),
                },
                if i.uses_store {
                    format!(
                        "{} (CPU {}, memory {})",
                        p.redis_shards,
                        p.redis_cpu_shards,
                        p.redis_memory_shards.map_or("n/a".into(), |m| m.to_string())
                    )
                } else {
                    "0 (no store)".into()
                },
            ]);
        }
    }
    d.table(
        vec![
            "users".into(),
            "scheme".into(),
            "requests/s".into(),
            "app-server cores".into(),
            "Redis memory".into(),
            "Redis shards (by CPU, by memory)".into(),
        ],
        rows,
    );
}

// --- checks and appendix ---------------------------------------------------------------------

fn checks_section(d: &mut Document, a: &Analysis<'_>) {
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

fn appendix(d: &mut Document, a: &Analysis<'_>) {
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
                        match (r.ci95_low, r.ci95_high) {
                            (Some(l), Some(h)) => {
                                format!("[{}, {}] {}", units::sig(l, 4), units::sig(h, 4), r.unit)
                            }
                            _ => "n < 2: none".into(),
                        },
                    ]
                })
                .collect(),
        );
    }
    d.h(2, "Appendix: environment");
    if a.results.environment.is_empty() {
        d.p(NOT_MEASURED);
    } else {
        d.table(
            vec!["key".into(), "value".into()],
            a.results
                .environment
                .iter()
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
