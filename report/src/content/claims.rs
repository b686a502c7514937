//! The explainer's claims, each checked against the measurements.

use super::format::NOT_MEASURED;
use super::format::{differs, join_or, mean_ci_us, metric_text, revocation_text};
use crate::analysis::{Analysis, SchemeSessions};
use crate::data::CheckCategory;
use crate::doc::Document;
use crate::metric::Metric;
use crate::units;

pub(super) fn claims(d: &mut Document, a: &Analysis<'_>) {
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
    if let Some(t) = claim_variants(a) {
        items.push(t);
    }
    if let Some(t) = super::cache::claim_caches(a) {
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

pub(super) fn extremes(v: &[(String, f64)]) -> Option<((String, f64), (String, f64))> {
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
    // The verdict is a stated test across repeats (crate::sweep::claim4), not a reading of p50.
    let controls: Vec<String> = per_scheme
        .iter()
        .map(|x| x.0.scheme.clone())
        .filter(|s| *s != session.0.scheme && !a.uses_store(s))
        .collect();
    let test = crate::sweep::claim4(a.results, &session.0.scheme, &controls)
        .map_or_else(|| "**no verdict**: nothing to compare.".to_owned(), |c| c.text());
    Some(format!("{test} p50 of /api/me, for reference: {figures}."))
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
                .map(|x| format!("; server RSS {}", units::bytes_per_session(x.bytes_per_session, x.ci_half)))
                .unwrap_or_default();
            Some(format!("{s} {}{r2}{rss}", units::bytes_per_session(st.bytes_per_session, st.ci_half)))
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
    let per_user: Vec<String> = a
        .schemes
        .iter()
        .filter(|s| a.uses_store(s))
        .filter_map(|s| crate::sweep::memory_per_user(a.results, s).map(|m| m.text()))
        .collect();
    let per_user = if per_user.is_empty() { String::new() } else { format!(" {}", per_user.join(" ")) };
    let tail = if million.is_empty() {
        " No scheme stores anything per session in Redis (the slopes above are Redis's own noise)."
            .to_string()
    } else {
        format!(" Memory does grow linearly with users: {}.", million.join("; "))
    };
    Some(format!(
        "**Session memory grows with users** (claim 5): slope of Redis used_memory against stored sessions: {}.{per_user}{tail}",
        slopes.join("; ")
    ))
}

fn claim_jwt_cpu(a: &Analysis<'_>) -> Option<String> {
    let cpus: Vec<(String, f64, f64)> =
        a.schemes.iter().filter_map(|s| a.cpu(s).map(|c| (s.clone(), c.server_us, c.redis_us))).collect();
    if cpus.is_empty() {
        return None;
    }
    let with_ci = |s: &str, m: Metric, v: f64| metric_text(a, s, m).unwrap_or_else(|| units::us(v));
    let list = cpus
        .iter()
        .map(|(s, sv, r)| {
            format!(
                "{s} {} server + {} Redis",
                with_ci(s, Metric::MeCpuServer, *sv),
                with_ci(s, Metric::MeCpuRedis, *r)
            )
        })
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

pub(super) fn claim_revocation(a: &Analysis<'_>) -> Option<String> {
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
        .filter(|s| a.revocation_window(s, "logout").is_some_and(|w| w.all_rejected()))
        .map(|s| s.as_str())
        .collect();
    let never: Vec<&str> = a
        .schemes
        .iter()
        .filter(|s| a.revocation_window(s, "logout").is_some_and(|w| w.rejected == 0))
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

/// The variants and the parent each improves on: what property it buys.
const VARIANTS: [(&str, &str, &str); 4] = [
    ("jwt-revocable", "jwt", "server-side revocation for JWT"),
    ("jwt-pubsub", "jwt", "revocation for JWT with no store call per request"),
    ("session-cached", "session", "fewer Redis lookups for sessions"),
    (
        "session-tracked",
        "session",
        "fewer Redis lookups for sessions with revocation pushed by Redis (CLIENT TRACKING)",
    ),
];

/// Which variant buys which property, at what measured cost against its parent scheme.
pub(super) fn claim_variants(a: &Analysis<'_>) -> Option<String> {
    let window = |s: &str| a.revocation_window(s, "logout").map_or("not measured".to_string(), |w| w.text());
    let cpu = |s: &str| {
        a.metric_mean(s, Metric::MeCpuTotal).map_or("not measured".to_string(), |v| format!("{v:.1} µs"))
    };
    let bytes = |s: &str| {
        // The JWT variants keep nothing per user: their store grows with revocations instead.
        if let Some(b) = a.metric_mean(s, Metric::StoreBytesPerRevokedToken) {
            return format!("nothing ({} per revoked token)", units::bytes(b));
        }
        if !a.uses_store(s) {
            return "nothing".to_string();
        }
        a.store_slope(s).map_or("not measured".to_string(), |m| units::bytes(m.bytes_per_session))
    };
    let parts: Vec<String> = VARIANTS
        .iter()
        .filter(|(v, p, _)| a.schemes.iter().any(|s| s == v) && a.schemes.iter().any(|s| s == p))
        .map(|(v, p, what)| {
            format!(
                "{v} buys {what}: revocation window across servers {} (vs {} for {p}), CPU per request \
                 server + Redis {} (vs {}), store per logged-in user {} (vs {}){}{}",
                window(v),
                window(p),
                cpu(v),
                cpu(p),
                bytes(v),
                bytes(p),
                super::cache::hit_ratio_text(a, v),
                semantics(v)
            )
        })
        .collect();
    (!parts.is_empty())
        .then(|| format!("**The middle of the design space** (variants): {}.", parts.join("; ")))
}

/// What a variant changes besides cost and window, stated once.
fn semantics(scheme: &str) -> &'static str {
    match scheme {
        "session-tracked" => {
            "; its idle expiry is refreshed only when a miss finds under half the TTL left (an idle session \
             ends between TTL/2 minus the client TTL and TTL after its last request), a lost tracking \
             connection empties the \
             cache, and with Redis frozen a deleted record lives at most the client TTL"
        }
        _ => "",
    }
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
