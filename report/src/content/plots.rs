//! The plots section: each chart with its "what this means" and the tables beside it.

use super::claims::{claim_revocation, extremes, lookup_vs_sessions_text};
use super::format::NOT_MEASURED;
use super::format::{mean_ci_us, metric_text};
use super::revocation_memory;
use crate::analysis::Analysis;
use crate::capacity::Assumptions;
use crate::doc::Document;
use crate::metric::Metric;
use crate::plot::Rendered;
use crate::stats::MeanCi;
use crate::{revocation_window, units};

pub(super) fn plots_section(d: &mut Document, a: &Analysis<'_>, plots: &[Rendered]) {
    d.h(2, "Plots");
    type Meaning = fn(&Analysis<'_>) -> Option<String>;
    let sections: [(&str, &str, Meaning); 10] = [
        (
            "latency_vs_users",
            "Latency against virtual users (closed-model ramp, with think time)",
            meaning_latency_users,
        ),
        (
            "throughput_vs_users",
            "Throughput against virtual users (closed-model ramp, with think time)",
            meaning_throughput,
        ),
        ("latency_vs_sessions", "Latency against stored sessions", meaning_latency_sessions),
        ("memory_vs_sessions", "Memory against stored sessions", meaning_memory),
        ("cpu_per_request", "CPU per request", meaning_cpu),
        ("latency_spectrum", "Percentile spectrum", meaning_spectrum),
        ("credential_bytes", "Credential bytes per request", meaning_credentials),
        ("revocation_window", "Revocation window", meaning_revocation),
        (
            "memory_vs_logout_rate",
            "Redis memory against logout rate (JWT variants)",
            revocation_memory::meaning,
        ),
        ("design_space", "Design space: cost against revocation window", meaning_design),
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
                    "memory_vs_logout_rate" => revocation_memory::table(d, a),
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
    let unswept = a
        .schemes
        .iter()
        .filter(|s| (s.starts_with("jwt-") || *s == "cookie") && !a.sessions.iter().any(|x| &x.scheme == *s));
    let unswept: Vec<&str> = unswept.map(String::as_str).collect();
    if !unswept.is_empty() {
        d.p(format!(
            "Not swept: {}. A scheme with no per-user state (cookie, a JWT variant) cannot have its work \
             changed by the number of stored sessions; jwt's sweep (the stateless control) stands for it.",
            unswept.join(", ")
        ));
    }
    d.table(
        ["scheme", "stored sessions", "Redis keys", "p50", "p99", "p99.9", "Redis used_memory", "server RSS"]
            .map(String::from)
            .to_vec(),
        rows,
    );
}

/// Each scheme and action over its probes, with the note `compare` wrote for the first probe.
fn revocation_table(d: &mut Document, a: &Analysis<'_>) {
    let mut rows = Vec::new();
    for s in &a.schemes {
        for action in ["logout", "logout_all"] {
            let Some((r, w)) = a.revocation_summary(s, action) else { continue };
            rows.push(vec![
                r.scheme.clone(),
                r.action.replace('_', "-"),
                w.text(),
                format!("{} of {}", w.rejected, w.n),
                if !r.rejected && super::format::is_target(a, s) {
                    "unknown: polled up to the probe's bound, still accepted".into()
                } else {
                    revocation_window::made_of(&r)
                },
                revocation_window::at_default_ttl(&r),
                r.note.clone(),
            ]);
        }
    }
    d.table(
        [
            "scheme",
            "action",
            "window: geometric mean [95% CI]",
            "revoked by the action (probes)",
            "made of",
            "at the default TTL (projected)",
            "note (first probe)",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    );
}

fn meaning_latency_users(a: &Analysis<'_>) -> Option<String> {
    let at_max: Vec<(String, u64, MeanCi, MeanCi, u64)> = a
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
            format!("{s} p50 {} / p99 {} at {v} users", mean_ci_us(p50), mean_ci_us(p99))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let best = at_max.iter().min_by(|x, y| x.3.mean.total_cmp(&y.3.mean))?;
    let worst = at_max.iter().max_by(|x, y| x.3.mean.total_cmp(&y.3.mean))?;
    let errors: Vec<String> =
        at_max.iter().filter(|x| x.4 > 0).map(|x| format!("{} {} errors", x.0, x.4)).collect();
    let mut t = format!(
        "With the most users: {list}. Lowest tail: {} ({}× below {}). Latency rises with users as they \
         share the cores; the ramp's pace stays below the servers' maximum (see \"Saturation and load\").",
        best.0,
        units::sig(worst.3.mean / best.3.mean, 2),
        worst.0
    );
    if !errors.is_empty() {
        t.push_str(&format!(" Errors during the ramp: {}.", errors.join(", ")));
    }
    if at_max.iter().all(|x| x.2.n < 2) {
        t.push_str(
            " The ramp runs in the first repeat only (no headline or answer figure reads it): one run, \
             no interval.",
        );
    }
    Some(t)
}

fn meaning_throughput(a: &Analysis<'_>) -> Option<String> {
    let highs: Vec<(String, f64, u64)> = a
        .ramp
        .iter()
        .filter_map(|r| {
            let high = r.levels.iter().map(|l| l.rps.mean).fold(0.0, f64::max);
            let at = r.levels.iter().find(|l| l.rps.mean >= 0.95 * high)?.active_vus;
            let high = a.metric_mean(&r.scheme, Metric::MeRpsMax).unwrap_or(high);
            Some((r.scheme.clone(), high, at))
        })
        .collect();
    if highs.is_empty() {
        return None;
    }
    let users = a.ramp.iter().flat_map(|r| r.levels.iter().map(|l| l.active_vus)).max().unwrap_or(0);
    let pace =
        a.results.environment.think_ms.map(|t| t as f64).filter(|t| *t > 0.0).map_or(String::new(), |t| {
            format!(
                " With {} users each thinking {} between requests, the ramp can offer at most about {} req/s \
             (users ÷ think time), whatever the server could do.",
                units::count(users as f64),
                units::seconds(t / 1e3),
                units::count(users as f64 / (t / 1e3))
            )
        });
    Some(format!(
        "Highest per-second throughput in the virtual-user ramp: {}. This is a closed model with realistic \
         think time: each user waits for its answer, then thinks, so throughput follows the number of users \
         and their pace.{pace} It is not the servers' maximum: that comes from the open-model search in \
         \"Saturation and load\".",
        highs
            .iter()
            .map(|(s, p, at)| format!("{s} {} req/s (95% of it reached at {at} users)", units::count(*p)))
            .collect::<Vec<_>>()
            .join("; ")
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
    format!("{what} {}{r2}", units::bytes_per_session(slope, None))
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
            let total = metric_text(a, s, Metric::MeCpuTotal).unwrap_or_else(|| units::us(c.total_us()));
            let proxy = if c.proxy_us > 0.0 {
                format!(
                    ", {}% in HAProxy ({})",
                    units::sig(c.proxy_us / c.total_us() * 100.0, 2),
                    units::us(c.proxy_us)
                )
            } else {
                String::new()
            };
            Some(format!("{s} {total} total, {}% of it in Redis{proxy}{base}", units::sig(share, 2)))
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
    let source = a.results.environment.spectrum_rate_rps.map_or(String::new(), |r| {
        format!(
            " Every scheme was measured at the same arrival rate, {} req/s of /api/me in the open model \
             (latency from the intended send, coordinated-omission corrected), all repeats' histograms merged, \
             so the curves compare like with like.",
            units::count(r)
        )
    });
    Some(format!(
        "Each curve is the whole latency distribution; the right end is what 1 request in 1,000 or 10,000 \
         sees: {}. A scheme whose curve lifts only at the far right has rare stalls rather than a slower path.{source}",
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

/// Each scheme's place: what its revocation window costs in CPU per request and store bytes.
fn meaning_design(a: &Analysis<'_>) -> Option<String> {
    let parts: Vec<String> = a
        .schemes
        .iter()
        .filter_map(|s| {
            let (_, w) = a.revocation_summary(s, "logout")?;
            let cpu = a.metric_mean(s, Metric::MeCpuTotal)?;
            let bytes = if a.uses_store(s) {
                a.store_slope(s).map_or("store bytes per user not measured".to_string(), |m| {
                    format!("{} of store per logged-in user", units::bytes(m.bytes_per_session))
                })
            } else {
                "nothing stored".to_string()
            };
            Some(format!(
                "{s}: {:.1} µs CPU per request (server + Redis), revoked across servers in {}, {bytes}",
                cpu,
                w.text()
            ))
        })
        .collect();
    (parts.len() >= 2).then(|| {
        format!(
            "one point per scheme; down is faster revocation, left is cheaper per request. {}. \
             Variants (jwt-revocable, jwt-pubsub, session-cached, session-tracked) show what each buys from the other end of the \
             design space and at what measured cost.",
            parts.join("; ")
        )
    })
}

fn meaning_revocation(a: &Analysis<'_>) -> Option<String> {
    // What the stateless windows are made of, and what they would be at the default TTL.
    let parts: Vec<String> = a
        .schemes
        .iter()
        .filter_map(|s| a.revocation_summary(s, "logout").map(|(r, _)| r).filter(|r| !r.rejected))
        .filter(|r| r.ttl_s.is_some())
        .map(|r| {
            format!(
                "{}: {}, {}",
                r.scheme,
                revocation_window::made_of(&r),
                revocation_window::at_default_ttl(&r)
            )
        })
        .collect();
    let makeup = if parts.is_empty() {
        String::new()
    } else {
        format!(
            " The measured stateless windows are short only because the probe ran with a short test TTL; \
             what they are made of and what they become at the default TTL (projected, not measured): {}.",
            parts.join("; ")
        )
    };
    claim_revocation(a).map(|t| {
        format!(
            "{}{makeup} Bars on a log scale: a stateless credential outlives logout by its remaining lifetime; \
             shortening the token TTL shrinks the red bars at the price of more refreshes.",
            t.split_once(": ").map_or(t.as_str(), |x| x.1)
        )
    })
}
