//! The "Store round trip" section: `/api/me` p50/p99 per scheme against the RTT a delay proxy put
//! between the servers and Redis (`store_rtt.csv`), the session − jwt gap paired per repeat with
//! its 95% interval, the proxy's own CPU, and the revocation windows probed with the RTT in place
//! (`store_rtt_revocation.csv`). Absent when the run measured no RTT.

use super::format::mean_ci_us;
use crate::analysis::Analysis;
use crate::doc::Document;
use crate::stats::MeanCi;
use crate::store_rtt::{Pct, gap, latency, proxy_cpu, rtts, schemes};
use crate::units;

/// "250 µs RTT", "0 (proxy only)".
fn rtt_label(rtt_us: f64) -> String {
    if rtt_us == 0.0 { "0 (proxy only)".into() } else { format!("{} RTT", units::us(rtt_us)) }
}

fn cell(m: Option<MeanCi>) -> String {
    m.as_ref().map_or("—".into(), mean_ci_us)
}

/// A gap with its interval, and whether the interval excludes zero.
fn gap_cell(g: Option<MeanCi>) -> String {
    let Some(g) = g else { return "—".into() };
    let interval = match (g.ci95_low, g.ci95_high) {
        (Some(lo), Some(hi)) => format!(" [{}, {}]", units::us(lo), units::us(hi)),
        _ => " (one repeat: no interval)".into(),
    };
    format!("{}{interval}", units::us(g.mean))
}

pub(super) fn store_rtt_section(d: &mut Document, a: &Analysis<'_>) {
    let rows = &a.results.store_rtt;
    if rows.is_empty() {
        return;
    }
    let rtts = rtts(rows);
    let names = schemes(rows);
    let rate = rows.first().map_or(0.0, |r| r.offered_rps);
    d.h(2, "Store round trip");
    d.p(format!(
        "`GET /api/me` at {} req/s (open model, coordinated-omission corrected) with an `authbench \
         delay-proxy` between each server and Redis holding each direction for half the RTT. RTT 0 \
         goes through the proxy too, so its cost is in every column. Mean over repeats ± the 95% \
         interval; the session − jwt gap is paired per repeat (both ran in the same repeat at the \
         same RTT), so the machine's drift between repeats cancels.",
        units::plain(rate)
    ));
    let mut header = vec!["scheme".to_owned()];
    for &rtt in &rtts {
        header.push(format!("p50 at {}", rtt_label(rtt)));
        header.push(format!("p99 at {}", rtt_label(rtt)));
    }
    let mut table: Vec<Vec<String>> = names
        .iter()
        .map(|s| {
            let mut row = vec![s.clone()];
            for &rtt in &rtts {
                row.push(cell(latency(rows, s, rtt, Pct::P50)));
                row.push(cell(latency(rows, s, rtt, Pct::P99)));
            }
            row
        })
        .collect();
    if names.iter().any(|s| s == "session") && names.iter().any(|s| s == "jwt") {
        let mut row = vec!["**session − jwt** (paired, 95% interval)".to_owned()];
        for &rtt in &rtts {
            row.push(gap_cell(gap(rows, "session", "jwt", rtt, Pct::P50)));
            row.push(gap_cell(gap(rows, "session", "jwt", rtt, Pct::P99)));
        }
        table.push(row);
    }
    d.table(header, table);
    let cpu: Vec<String> = rtts
        .iter()
        .filter_map(|&rtt| proxy_cpu(rows, rtt).map(|m| format!("{}: {}", rtt_label(rtt), mean_ci_us(&m))))
        .collect();
    if !cpu.is_empty() {
        d.p(format!(
            "The delay proxy's own CPU per request (schemes that call the store; sampled from /proc like \
             the server's, not counted in the server's figures): {}.",
            cpu.join("; ")
        ));
    }
    let windows = &a.results.store_rtt_revocation;
    let mut groups: Vec<(&str, f64, &str)> = Vec::new();
    for w in windows {
        let key = (w.scheme.as_str(), w.rtt_us, w.action.as_str());
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    let body: Vec<Vec<String>> = groups
        .into_iter()
        .map(|(scheme, rtt, action)| {
            let probes: Vec<_> = windows
                .iter()
                .filter(|w| w.scheme == scheme && w.rtt_us == rtt && w.action == action)
                .collect();
            let mut rejected: Vec<f64> = probes.iter().filter(|w| w.rejected).map(|w| w.window_s).collect();
            rejected.sort_by(f64::total_cmp);
            let window = match (rejected.first(), rejected.last()) {
                (Some(lo), Some(hi)) => format!(
                    "median {} ({} of {} probes rejected; {} – {})",
                    units::seconds(rejected[rejected.len() / 2]),
                    rejected.len(),
                    probes.len(),
                    units::seconds(*lo),
                    units::seconds(*hi)
                ),
                _ => format!("never rejected in {} probes", probes.len()),
            };
            vec![scheme.to_owned(), rtt_label(rtt), action.to_owned(), window]
        })
        .collect();
    if !body.is_empty() {
        d.p("Revocation windows probed again with the RTT in place (logout through server A, the copy probed on server B, both through the same hop):");
        d.table(vec!["scheme".into(), "store RTT".into(), "action".into(), "window".into()], body);
    }
}
