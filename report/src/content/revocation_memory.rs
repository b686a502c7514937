//! Beside the memory-against-logout-rate chart: what the measurement says (memory follows the
//! live revocation entries, rate × lifetime × bytes per key) and what it becomes at the default
//! lifetimes, with one row per scheme × rate. Measured once per scheme, like the revocation
//! costs: no interval, and the text says so.

use crate::analysis::Analysis;
use crate::doc::Document;
use crate::revocation_entries::{RevocationMemoryRow, lifetime, rate};
use crate::units;

/// "at 250 logouts/s, Redis holds ≈ 12.3 GiB": the projection of a row, if it has one.
fn holds(r: &RevocationMemoryRow) -> Option<String> {
    let p = r.projected_bytes()?;
    Some(format!("at {} logouts/s, Redis holds ≈ {}", rate(r.achieved_rps), units::bytes(p)))
}

/// The "what this means" paragraph; `None` without rows.
pub(super) fn meaning(a: &Analysis<'_>) -> Option<String> {
    let rows = &a.results.revocation_memory;
    let first = rows.first()?;
    let measured: Vec<String> = rows
        .iter()
        .map(|r| {
            let per_key = r.bytes_per_key().map_or("—".into(), units::bytes);
            format!(
                "{} at {} logouts/s held {} in {} live revocation entries ({} expected; {per_key} per key)",
                r.scheme,
                rate(r.achieved_rps),
                units::bytes(r.memory_bytes),
                units::plain(r.entries as f64),
                units::plain(r.expected_entries.round()),
            )
        })
        .collect();
    // Per scheme, its highest rate (rows come in rising rate order).
    let projected: Vec<String> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| rows.get(i + 1).is_none_or(|next| next.scheme != r.scheme))
        .filter_map(|(_, r)| holds(r).map(|h| format!("{}: {h}", r.scheme)))
        .collect();
    let projection = if projected.is_empty() {
        String::new()
    } else {
        format!(
            " At the default lifetimes ({} access, {} refresh) every entry lives that long instead \
             (projected, an upper bound: a logout right after login): {}.",
            lifetime(first.default_access_ttl_s),
            lifetime(first.default_refresh_ttl_s),
            projected.join("; ")
        )
    };
    let rising = match rows.iter().filter(|r| !r.plateau()).count() {
        0 => String::new(),
        n => format!(
            " {n} of the {} levels ended before the entries' lifetime (\"rising\" below): their memory \
             was still growing, and includes the entries of the rates before them still alive (the \
             expected count includes them too).",
            rows.len()
        ),
    };
    Some(format!(
        "a JWT variant's Redis grows with revocations, not with users: each logout stores its tokens' \
         `jti`s until they would have expired, so memory is logout rate × lifetime × bytes per entry. \
         Measured with paced logouts against a server with short test lifetimes ({} access, {} refresh, \
         + the verifier's {} leeway on every entry, so entries live up to {}): {}.{rising}{projection} \
         Single run per rate, no interval.",
        lifetime(first.access_ttl_s),
        lifetime(first.refresh_ttl_s),
        units::duration(first.leeway_s),
        units::duration(first.lifetime_s()),
        measured.join("; ")
    ))
}

/// One row per scheme × rate.
pub(super) fn table(d: &mut Document, a: &Analysis<'_>) {
    let rows = a
        .results
        .revocation_memory
        .iter()
        .map(|r| {
            vec![
                r.scheme.clone(),
                format!("{} → {}", rate(r.offered_rps), rate(r.achieved_rps)),
                units::seconds(r.duration_s),
                if r.plateau() { "plateau".into() } else { "rising".into() },
                units::bytes(r.memory_bytes),
                units::plain(r.keys),
                format!("{} / {}", units::plain(r.entries as f64), units::plain(r.expected_entries.round())),
                r.bytes_per_key().map_or("—".into(), units::bytes),
                r.projected_bytes().map_or("—".into(), units::bytes),
            ]
        })
        .collect();
    d.table(
        [
            "scheme",
            "logouts/s offered → achieved",
            "held for",
            "at the end",
            "Redis used_memory above baseline",
            "Redis keys added",
            "revocation entries measured / expected",
            "bytes per key",
            "at the default lifetimes (projected)",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    );
}
