//! The human-readable summary `authbench load` prints on stdout.

use std::io::{self, Write};

use crate::summary::{Latency, Summary};

/// A human-readable summary (what `authbench load` prints on stdout).
pub fn write_text_summary(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    writeln!(
        w,
        "authbench load: scheme {} · {} model · {:.1} s{}",
        s.scheme,
        s.model,
        s.duration_s,
        if s.interrupted { " · INTERRUPTED" } else { "" }
    )?;
    if let Some(t) = s.transport.as_deref().filter(|t| *t != "h1") {
        let tls = s.tls.map_or(String::new(), |h| {
            let all = h.full + h.resumed;
            let pct = if all == 0 { 0.0 } else { h.resumed as f64 / all as f64 * 100.0 };
            format!(" · {all} TLS handshakes, {} resumed ({pct:.0}%)", h.resumed)
        });
        writeln!(w, "transport {t}{tls}")?;
    }
    if let Some(a) = &s.agent {
        let users = a.users.map(|[f, l]| format!(", users user{f}..user{l}")).unwrap_or_default();
        let late = match a.late_by_s {
            Some(late) if late > crate::agent::LATE_AFTER.as_secs_f64() => {
                format!(" · STARTED LATE: {late:.3} s after --start-at")
            }
            Some(late) => format!(" · started {late:.3} s after --start-at"),
            None => String::new(),
        };
        writeln!(w, "agent {}/{}{users}{late}", a.index, a.count)?;
    }
    if let Some(l) = &s.limits {
        if let (Some(cap), Some(by)) = (l.capped_at, &l.capped_by) {
            writeln!(w, "LIMIT: users capped at {cap} by {by}; most alive {}", l.vus_max)?;
        }
        if l.connects_refused_open_files > 0 {
            writeln!(
                w,
                "LIMIT: the generator's open-file limit ({}) refused {} connects (at most {} users alive)",
                l.open_files_limit, l.connects_refused_open_files, l.vus_max
            )?;
        }
        if l.connects_refused_no_port > 0 {
            writeln!(
                w,
                "LIMIT: no free ephemeral port for {} connects (net.ipv4.ip_local_port_range; at most {} users alive)",
                l.connects_refused_no_port, l.vus_max
            )?;
        }
    }
    if !s.agents.is_empty() {
        writeln!(w, "merged from {} agents:", s.agents.len())?;
        for a in &s.agents {
            writeln!(
                w,
                "  agent {} {}: {} ok, {} errors, clock offset {:+.3} s, generator CPU {:.0} %, lag max {:.1} ms{}",
                a.index,
                a.dir,
                a.count,
                a.errors,
                a.clock_offset_s,
                a.generator.cpu_percent,
                a.generator.max_lag_us as f64 / 1000.0,
                match a.late_by_s {
                    Some(late) if late > crate::agent::LATE_AFTER.as_secs_f64() =>
                        format!(", STARTED LATE by {late:.3} s"),
                    _ => String::new(),
                }
            )?;
        }
    }
    writeln!(
        w,
        "{:<9} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "endpoint", "ok", "errors", "rps", "p50", "p90", "p95", "p99", "p999", "max"
    )?;
    let ms = |us: u64| format!("{:.2}ms", us as f64 / 1000.0);
    let percentiles = |l: &Latency| [l.p50, l.p90, l.p95, l.p99, l.p999, l.max].map(ms);
    // All endpoints together (what a bare threshold such as `p(95)<500` judges), after them.
    let all = [("all", s.total.count, s.total.errors, s.total.rps, s.total.latency_us.as_ref(), None)];
    // A flow's named requests (when it has several) right after `me`, which adds them up.
    let named: Vec<String> = s.requests.iter().map(|r| format!("  {}", r.name)).collect();
    let rows = s
        .endpoints
        .iter()
        .flat_map(|(name, e)| {
            let this = (name.as_str(), e.count, e.errors, e.rps, e.latency_us.as_ref(), Some(e));
            let parts = (*name == crate::record::Endpoint::Me).then_some(&s.requests).into_iter().flatten();
            let parts = parts.zip(&named).map(|(r, n)| {
                let e = &r.stats;
                (n.as_str(), e.count, e.errors, e.rps, e.latency_us.as_ref(), Some(e))
            });
            std::iter::once(this).chain(parts)
        })
        .chain(if s.endpoints.len() > 1 { all.into_iter().next() } else { None });
    for (name, count, errors, rps, l, e) in rows {
        let [p50, p90, p95, p99, p999, max] = l.map(percentiles).unwrap_or_default();
        writeln!(
            w,
            "{name:<9} {count:>9} {errors:>7} {rps:>10.1} {p50:>9} {p90:>9} {p95:>9} {p99:>9} {p999:>9} {max:>9}"
        )?;
        let Some(e) = e else { continue };
        if let Some(u) = &e.uncorrected_latency_us {
            let [p50, p90, p95, p99, p999, max] = percentiles(u);
            writeln!(
                w,
                "{:<9} {:>9} {:>7} {:>10} {p50:>9} {p90:>9} {p95:>9} {p99:>9} {p999:>9} {max:>9}",
                "  uncorr.", "", "", ""
            )?;
        }
        for (kind, n) in &e.errors_by_kind {
            writeln!(w, "{:<9}   {n} × {kind}", "")?;
        }
        if !e.errors_by_status.is_empty() {
            let codes: Vec<String> = e.errors_by_status.iter().map(|(c, n)| format!("{n} × {c}")).collect();
            writeln!(w, "{:<9}   status codes: {}", "", codes.join(", "))?;
        }
        if e.unfinished > 0 {
            writeln!(
                w,
                "{:<9}   {} UNFINISHED: sent and never answered (oldest waited {:.0} ms)",
                "",
                e.unfinished,
                e.unfinished_max_age_ms.unwrap_or(0.0)
            )?;
        }
    }
    if s.total.unfinished > 0 {
        writeln!(
            w,
            "unfinished: {} request(s) still waiting when the run ended, the oldest for {:.0} ms: \
             latencies above are of finished requests only",
            s.total.unfinished,
            s.total.unfinished_max_age_ms.unwrap_or(0.0)
        )?;
    }
    if let Some(o) = &s.open {
        writeln!(
            w,
            "open model: {} scheduled, {} started, {} late, {} dropped{}",
            o.scheduled,
            o.started,
            o.late,
            o.dropped,
            o.dropped_oldest_age_ms
                .map_or(String::new(), |a| format!(" (oldest due {a:.0} ms before the end)"))
        )?;
    }
    for st in &s.stalls {
        writeln!(
            w,
            "STALL: no answer from {:.1} s to {:.1} s ({:.1} s{}), up to {} request(s) in flight",
            st.from_s,
            st.to_s,
            st.duration_s,
            if st.until_end { ", until the end of the run" } else { "" },
            st.max_in_flight
        )?;
    }
    if let Some(cpu) = s.server.cpu_us_per_req {
        writeln!(
            w,
            "server: {cpu:.1} µs CPU/request, RSS max {} KiB",
            s.server.rss_bytes_max.unwrap_or(0) / 1024
        )?;
    }
    if let Some(cpu) = s.redis.cpu_us_per_req {
        writeln!(
            w,
            "redis: {cpu:.1} µs CPU/request, used_memory max {} KiB, keys max {}",
            s.redis.used_memory_max.unwrap_or(0) / 1024,
            s.redis.keys_max.unwrap_or(0)
        )?;
    }
    writeln!(
        w,
        "generator: {:.0}% CPU of {} cores, max timer lag {:.1} ms{}",
        s.generator.cpu_percent,
        s.generator.cores,
        s.generator.max_lag_us as f64 / 1000.0,
        if s.generator.saturated {
            format!(
                " — SATURATED in {} s: the generator may be the bottleneck",
                s.generator.saturated_seconds
            )
        } else {
            String::new()
        }
    )?;
    match &s.stopped_answering {
        Some(stop) => writeln!(w, "TARGET LOST: the target stopped answering {stop}")?,
        None if s.target_lost => writeln!(w, "TARGET LOST: the server stopped answering during the run")?,
        None => {}
    }
    for v in &s.thresholds {
        writeln!(
            w,
            "threshold {} {} (actual {})",
            v.threshold,
            if v.ok { "ok" } else { "FAILED" },
            v.actual.map_or("no data".to_owned(), |a| format!("{a:.3}"))
        )?;
    }
    Ok(())
}
