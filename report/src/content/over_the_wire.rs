//! The "Transport" section (`transport.csv`): per scheme and transport the server's CPU per
//! `/api/me`, p50/p99, bytes per request at the socket, a login's CPU on a new connection (and
//! what TLS adds to it: the handshake), the credential's bytes on requests 1, 2 and 100 of a
//! connection after HPACK, and which cookie mode was measured. Absent when the run measured no
//! transport.

use super::format::mean_ci_us;
use crate::analysis::Analysis;
use crate::doc::Document;
use crate::stats::MeanCi;
use crate::transport::{REQUESTS, TransportRow, figure, transports};
use crate::units;

/// " TLS sessions resumed in the login runs: 99.1% of handshakes." (empty without TLS)
fn resumption(rows: &[TransportRow]) -> String {
    let v: Vec<f64> = rows.iter().filter_map(|r| r.resumed_share).collect();
    match crate::stats::mean(&v) {
        Some(m) => format!(
            " TLS session resumption (on by default in the generator; `--no-tls-resumption`): {:.1}% \
             of the login runs' handshakes resumed.",
            m * 100.0
        ),
        None => String::new(),
    }
}

fn us(m: Option<MeanCi>) -> String {
    m.as_ref().map_or("—".into(), mean_ci_us)
}

/// `mean ± half-width` (the half-width left out with one repeat), each number by `show`.
fn with_ci(m: Option<MeanCi>, show: impl Fn(f64) -> String) -> String {
    match m {
        None => "—".into(),
        Some(m) => match m.half_width() {
            Some(h) => format!("{} ± {}", show(m.mean), show(h)),
            None => show(m.mean),
        },
    }
}

fn rps(m: Option<MeanCi>) -> String {
    with_ci(m, |x| units::plain(x.round()))
}

fn cores(m: Option<MeanCi>) -> String {
    with_ci(m, |x| format!("{x:.2}"))
}

fn bytes(m: Option<MeanCi>) -> String {
    m.map_or("—".into(), |m| format!("{} B", units::plain(m.mean.round())))
}

/// The clear-text transport of the same HTTP version (`h1-tls` → `h1`).
fn clear_of(t: &str) -> Option<&str> {
    t.strip_suffix("-tls")
}

pub(super) fn transport_section(d: &mut Document, a: &Analysis<'_>) {
    let rows: &[TransportRow] = &a.results.transport;
    if rows.is_empty() {
        return;
    }
    let ts = transports(rows);
    let schemes: Vec<&String> = a.schemes.iter().filter(|s| rows.iter().any(|r| &&r.scheme == s)).collect();
    let at_utilisation = rows.iter().all(|r| r.target_server_busy.is_some());
    let rate = rows.first().map_or(0.0, |r| r.offered_rps);
    let how = if at_utilisation {
        "at the same utilisation over every transport: the server as busy as it was over h1 at the \
         run's utilisation of the scheme's maximum (the CPU ladder's step), each transport at the \
         rate that gives it, chosen from a short calibration at half that step's rate (the busy \
         share reached is in the table). CPU per request falls as a server gets busier, so this, \
         not one offered rate, is where a fleet would run each transport"
            .to_owned()
    } else {
        format!(
            "at one offered rate, {} req/s (the sweep's --rate; no CPU ladder in this run)",
            units::plain(rate.round())
        )
    };
    d.h(2, "Transport");
    d.p(format!(
        "Each scheme over {} on a server of its own (`serve --tls` for the TLS ones: rustls, ALPN), \
         `GET /api/me` {}. Bytes \
         are counted at the generator's socket, below TLS: handshakes, TLS records and HTTP/2 \
         frames included. A login's CPU is measured with each login on a new connection (a new \
         visit), its logout included; over TLS the handshake is the difference with the same \
         HTTP version in clear text. Mean over repeats ± the 95% interval.{}",
        ts.join(", "),
        how,
        resumption(rows)
    ));
    let mut header = vec!["scheme".to_owned(), "figure".to_owned()];
    header.extend(ts.iter().cloned());
    let mut table = Vec::new();
    type Row<'r> = (&'static str, Box<dyn Fn(&str, &str) -> String + 'r>);
    let figures: Vec<Row<'_>> = vec![
        ("server CPU / req", Box::new(|s, t| us(figure(rows, s, t, |r| r.server_cpu_us_per_req)))),
        ("at req/s", Box::new(|s, t| rps(figure(rows, s, t, |r| Some(r.achieved_rps))))),
        ("server busy (cores)", Box::new(|s, t| cores(figure(rows, s, t, |r| r.server_busy)))),
        ("p50", Box::new(|s, t| us(figure(rows, s, t, |r| Some(r.p50_us))))),
        ("p99", Box::new(|s, t| us(figure(rows, s, t, |r| Some(r.p99_us))))),
        ("bytes sent / req", Box::new(|s, t| bytes(figure(rows, s, t, |r| Some(r.bytes_sent_per_req))))),
        (
            "bytes received / req",
            Box::new(|s, t| bytes(figure(rows, s, t, |r| Some(r.bytes_received_per_req)))),
        ),
        ("login CPU, new connection", Box::new(|s, t| us(figure(rows, s, t, |r| r.login_cpu_us)))),
        (
            "of which the TLS handshake",
            Box::new(|s, t| match clear_of(t) {
                Some(c) => {
                    match (figure(rows, s, t, |r| r.login_cpu_us), figure(rows, s, c, |r| r.login_cpu_us)) {
                        (Some(tls), Some(clear)) => units::us(tls.mean - clear.mean),
                        _ => format!("— (needs {c})"),
                    }
                }
                None => "—".into(),
            }),
        ),
    ];
    for s in &schemes {
        for (name, f) in &figures {
            let mut row = vec![(*s).clone(), (*name).to_owned()];
            row.extend(ts.iter().map(|t| f(s, t)));
            table.push(row);
        }
    }
    d.table(header, table);

    // The credential after HPACK, requests 1, 2 and 100 of one connection.
    d.p("What the credential adds to one `GET /api/me`, at the socket, on requests 1, 2 and 100 of a \
         connection (the same request without it subtracted). HTTP/2 compresses headers with HPACK, \
         but indexing is the encoder's choice: the `h2` crate this generator encodes with never \
         indexes `authorization` or `cookie` values (`skip_value_index`), so a credential costs \
         the same on every request; nghttp2 (h2load, curl) never indexes `authorization` nor a \
         cookie under 20 bytes, and indexes longer cookies, which then cost about one byte from \
         the second request on. The figures below are this generator's.");
    let mut header = vec!["scheme".to_owned(), "cookie mode".to_owned()];
    for t in &ts {
        header.extend(REQUESTS.iter().map(|n| format!("{t} #{n}")));
    }
    let body = schemes
        .iter()
        .map(|s| {
            let mode =
                rows.iter().filter(|r| &&r.scheme == s).map(|r| r.cookie.as_str()).filter(|c| !c.is_empty());
            let mut modes: Vec<&str> = mode.collect();
            modes.sort_unstable();
            modes.dedup();
            let mut row =
                vec![(*s).clone(), if modes.is_empty() { "bearer".into() } else { modes.join(", ") }];
            for t in &ts {
                row.extend(REQUESTS.iter().map(|&n| bytes(figure(rows, s, t, |r| r.credential_share(n)))));
            }
            row
        })
        .collect();
    d.table(header, body);
    d.p("Cookie mode: over HTTPS the cookie schemes name their cookie `__Host-ab_sid` / \
         `__Host-ab_auth` with `Secure` (7 bytes longer on the wire); in clear text `ab_sid` / \
         `ab_auth`, as in every other section of this report. Store round trips are in \"Store \
         round trip\" (measured over h1).");
}
