//! The workload's transport and store round trip, carried into one repeat's inputs from the runs
//! made under them. Every other input is measured over HTTP/1.1 with Redis on loopback; these
//! phases measured the same repeat's server over another transport (`transport.csv`, at the same
//! utilisation — the server as busy as over h1 at the run's utilisation — each transport on a
//! server of its own) and behind a delay proxy (`store_rtt.csv`). Each adjustment is paired
//! within the repeat and stated:
//!
//! - transport: server CPU per request × (that transport's ÷ h1's, at the same utilisation); a
//!   login's CPU + (its handshake: login CPU on a new connection over it − over h1); bytes per
//!   request as counted at the socket over it, below TLS; p99 + (its p99 − h1's);
//! - store RTT: p99 + (p99 at that RTT − at RTT 0, both through the proxy); the logout window as
//!   probed with the RTT in place. A scheme that reads no Redis per request keeps its p99.
//!
//! A condition that was not measured is not stood in for by the loopback, clear-text figure: a
//! transport not measured leaves the repeat out (the scheme, if no repeat has it); an RTT not
//! measured leaves the p99 out (the answer names it as missing).

use super::model::{Design, Inputs};
use super::workload::{Transport, Workload};
use crate::results::Results;
use crate::stats::{MeanCi, mean_ci};

/// How far a measured RTT may be from the workload's and still count as it (relative; 5 µs
/// absolute at 0).
const SAME_RTT: f64 = 0.1;

fn same_rtt(measured_us: f64, wanted_us: f64) -> bool {
    (measured_us - wanted_us).abs() <= (SAME_RTT * wanted_us).max(5.0)
}

/// Carry repeat `rep` of `scheme` to `w`'s transport. `false` (and `i` untouched) when that
/// transport, or h1 beside it, was not measured with server CPU in this repeat: the caller leaves
/// the repeat out.
pub fn transport(r: &Results, scheme: &str, rep: u32, w: &Workload, i: &mut Inputs) -> bool {
    if w.transport == Transport::H1 {
        return true;
    }
    let row = |t: Transport| {
        r.transport.iter().find(|x| x.scheme == scheme && x.repeat == rep && x.transport == t.name())
    };
    let (Some(t), Some(h1)) = (row(w.transport), row(Transport::H1)) else { return false };
    let (Some(a), Some(b)) = (t.server_cpu_us_per_req, h1.server_cpu_us_per_req) else { return false };
    if !(a > 0.0 && b > 0.0) {
        return false;
    }
    i.server_us *= a / b;
    i.refresh_us = i.refresh_us.map(|x| x * a / b);
    if let (Some(a), Some(b)) = (t.login_cpu_us, h1.login_cpu_us) {
        i.login_us = i.login_us.map(|x| x + (a - b));
    }
    i.bytes_per_request = Some(t.bytes_sent_per_req + t.bytes_received_per_req);
    shift_p99(i, t.p99_us - h1.p99_us);
    true
}

/// Carry repeat `rep` of `scheme` to `w`'s store round trip. `false` when a scheme that reads
/// Redis per request was not measured at that RTT in this repeat: its p99 is then dropped.
pub fn store_rtt(r: &Results, scheme: &str, design: Design, rep: u32, w: &Workload, i: &mut Inputs) -> bool {
    let wanted = w.store_rtt.as_secs_f64() * 1e6;
    if wanted == 0.0 || !design.reads_redis_per_request() {
        return true;
    }
    let p99 = |rtt: f64| {
        r.store_rtt
            .iter()
            .find(|x| x.scheme == scheme && x.repeat == rep && same_rtt(x.rtt_us, rtt))
            .map(|x| x.p99_us)
    };
    match (p99(wanted), p99(0.0)) {
        (Some(a), Some(b)) => {
            shift_p99(i, a - b);
            true
        }
        _ => {
            i.p99_curve.clear();
            false
        }
    }
}

/// The logout window at `w`'s store RTT (`store_rtt_revocation.csv`), or `None` when the RTT is 0
/// (the caller keeps `revocation.csv`'s) or was not probed.
pub fn window_at_rtt(r: &Results, scheme: &str, w: &Workload) -> Option<Option<MeanCi>> {
    let wanted = w.store_rtt.as_secs_f64() * 1e6;
    if wanted == 0.0 {
        return None;
    }
    let windows: Vec<f64> = r
        .store_rtt_revocation
        .iter()
        .filter(|x| x.scheme == scheme && x.action == "logout" && x.rejected && same_rtt(x.rtt_us, wanted))
        .map(|x| x.window_s)
        .collect();
    Some(mean_ci(&windows))
}

fn shift_p99(i: &mut Inputs, by_us: f64) {
    for p in &mut i.p99_curve {
        p.1 = (p.1 + by_us).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store_rtt::StoreRttRow;
    use crate::transport::TransportRow;

    fn tr(transport: &str, cpu: f64, login: f64, bytes: f64, p99: f64) -> TransportRow {
        TransportRow {
            scheme: "session".into(),
            repeat: 0,
            transport: transport.into(),
            cookie: String::new(),
            offered_rps: 1000.0,
            achieved_rps: 1000.0,
            target_server_busy: None,
            server_busy: None,
            calibration_rps: None,
            calibration_server_busy: None,
            p50_us: 100.0,
            p99_us: p99,
            errors: 0,
            server_cpu_us_per_req: Some(cpu),
            bytes_sent_per_req: bytes,
            bytes_received_per_req: 100.0,
            login_cpu_us: Some(login),
            resumed_share: None,
            sent_1: 0,
            sent_2: 0,
            sent_100: 0,
            bare_sent_1: 0,
            bare_sent_2: 0,
            bare_sent_100: 0,
        }
    }

    fn inputs() -> Inputs {
        Inputs {
            server_us: 20.0,
            login_us: Some(1000.0),
            bytes_per_request: Some(400.0),
            p99_curve: vec![(0.6, 500.0)],
            ..Inputs::default()
        }
    }

    #[test]
    fn a_transport_scales_cpu_adds_the_handshake_and_takes_its_bytes() {
        let r = Results {
            transport: vec![tr("h1", 10.0, 300.0, 300.0, 400.0), tr("h2-tls", 15.0, 500.0, 250.0, 700.0)],
            ..Results::default()
        };
        let w = Workload { transport: Transport::H2Tls, ..Workload::default() };
        let mut i = inputs();
        assert!(transport(&r, "session", 0, &w, &mut i));
        assert_eq!(i.server_us, 30.0);
        assert_eq!(i.login_us, Some(1200.0));
        assert_eq!(i.bytes_per_request, Some(350.0));
        assert_eq!(i.p99_curve, vec![(0.6, 800.0)]);
        // Not measured over h2 (clear text): nothing stands in for it.
        let w = Workload { transport: Transport::H2, ..Workload::default() };
        let mut i = inputs();
        assert!(!transport(&r, "session", 0, &w, &mut i));
        assert_eq!(i, inputs());
    }

    #[test]
    fn a_store_rtt_shifts_p99_of_schemes_that_read_redis_only() {
        let row = |rtt_us: f64, p99_us: f64| StoreRttRow {
            scheme: "session".into(),
            repeat: 0,
            rtt_us,
            offered_rps: 1000.0,
            achieved_rps: 1000.0,
            p50_us: 0.0,
            p99_us,
            errors: 0,
            server_cpu_us_per_req: None,
            proxy_cpu_us_per_req: None,
        };
        let r = Results { store_rtt: vec![row(0.0, 300.0), row(1000.0, 2300.0)], ..Results::default() };
        let w = Workload { store_rtt: Duration::from_millis(1), ..Workload::default() };
        let mut i = inputs();
        assert!(store_rtt(&r, "session", Design::Session, 0, &w, &mut i));
        assert_eq!(i.p99_curve, vec![(0.6, 2500.0)]);
        let mut i = inputs();
        assert!(store_rtt(&r, "jwt", Design::Jwt, 0, &w, &mut i));
        assert_eq!(i.p99_curve, vec![(0.6, 500.0)]);
        let w = Workload { store_rtt: Duration::from_micros(250), ..Workload::default() };
        let mut i = inputs();
        assert!(!store_rtt(&r, "session", Design::Session, 0, &w, &mut i));
        assert!(i.p99_curve.is_empty());
    }
}
