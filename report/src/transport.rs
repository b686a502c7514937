//! The transport comparison (`transport.csv`): `compare --transport h1,h2-tls` (or `all`: h1, h2,
//! h1-tls, h2-tls) runs each scheme's `/api/me` over each transport at the same utilisation (the
//! server as busy as over h1 at `--utilization` of the scheme's maximum), every repeat, on a server of its own (`serve --tls` for the TLS ones); measures a login's CPU on a new
//! connection each time (a new visit: over TLS, a full or resumed handshake); and sends 100
//! `/api/me` on one connection, with and without the credential, to see what HPACK leaves of the
//! credential on requests 1, 2 and 100. Here: the row and its aggregation per scheme × transport.

use serde::{Deserialize, Serialize};

use crate::stats::{MeanCi, mean_ci};

/// The request numbers whose bytes are kept.
pub const REQUESTS: [usize; 3] = [1, 2, 100];

/// `transport.csv`: one scheme over one transport in one repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransportRow {
    pub scheme: String,
    pub repeat: u32,
    /// `h1`, `h2`, `h1-tls`, `h2-tls`.
    pub transport: String,
    /// The cookie's name as this server issued it (`__Host-…` over TLS); empty for bearer tokens.
    #[serde(default)]
    pub cookie: String,
    /// The measured window's offered rate: the one that puts this transport's server as busy as
    /// h1's at `--utilization` of the scheme's maximum (`target_server_busy`), or `--rate`.
    pub offered_rps: f64,
    pub achieved_rps: f64,
    /// The busy share (cores of the server process) aimed at: the h1 CPU ladder's step at the
    /// utilisation. Empty: the window ran at `--rate` (no ladder in the run).
    #[serde(default)]
    pub target_server_busy: Option<f64>,
    /// The busy share the window reached.
    #[serde(default)]
    pub server_busy: Option<f64>,
    /// The calibration run (at half the h1 step's rate): achieved rate and busy share.
    #[serde(default)]
    pub calibration_rps: Option<f64>,
    #[serde(default)]
    pub calibration_server_busy: Option<f64>,
    pub p50_us: f64,
    pub p99_us: f64,
    pub errors: u64,
    #[serde(default)]
    pub server_cpu_us_per_req: Option<f64>,
    /// Average bytes of one `/api/me` in the fixed-rate run, at the socket (handshakes spread).
    pub bytes_sent_per_req: f64,
    pub bytes_received_per_req: f64,
    /// Server CPU per login (its logout included) with a new connection for every login.
    #[serde(default)]
    pub login_cpu_us: Option<f64>,
    /// TLS handshakes of the login run that resumed a session, as a share (TLS only).
    #[serde(default)]
    pub resumed_share: Option<f64>,
    /// Bytes sent for `/api/me` number 1, 2 and 100 on one connection with the credential, and
    /// without any (the same request's frame): their difference is the credential's share.
    pub sent_1: u64,
    pub sent_2: u64,
    pub sent_100: u64,
    pub bare_sent_1: u64,
    pub bare_sent_2: u64,
    pub bare_sent_100: u64,
}

impl TransportRow {
    /// What the credential added to request `n` (1, 2 or 100), bytes at the socket.
    pub fn credential_share(&self, n: usize) -> Option<f64> {
        let (with, without) = match n {
            1 => (self.sent_1, self.bare_sent_1),
            2 => (self.sent_2, self.bare_sent_2),
            100 => (self.sent_100, self.bare_sent_100),
            _ => return None,
        };
        Some(with as f64 - without as f64)
    }
}

/// The transports measured, in the order h1, h2, h1-tls, h2-tls.
pub fn transports(rows: &[TransportRow]) -> Vec<String> {
    let order = ["h1", "h2", "h1-tls", "h2-tls"];
    let mut v: Vec<String> = rows.iter().map(|r| r.transport.clone()).collect();
    v.sort_by_key(|t| order.iter().position(|o| o == t).unwrap_or(order.len()));
    v.dedup();
    v
}

/// Mean and 95% CI over repeats of `f` for `scheme` over `transport`.
pub fn figure(
    rows: &[TransportRow],
    scheme: &str,
    transport: &str,
    f: impl Fn(&TransportRow) -> Option<f64>,
) -> Option<MeanCi> {
    let v: Vec<f64> =
        rows.iter().filter(|r| r.scheme == scheme && r.transport == transport).filter_map(f).collect();
    mean_ci(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_share_is_the_difference_with_the_bare_request() {
        let r = TransportRow {
            scheme: "jwt".into(),
            repeat: 1,
            transport: "h2".into(),
            cookie: String::new(),
            offered_rps: 1.0,
            achieved_rps: 1.0,
            target_server_busy: None,
            server_busy: None,
            calibration_rps: None,
            calibration_server_busy: None,
            p50_us: 1.0,
            p99_us: 1.0,
            errors: 0,
            server_cpu_us_per_req: None,
            bytes_sent_per_req: 1.0,
            bytes_received_per_req: 1.0,
            login_cpu_us: None,
            resumed_share: None,
            sent_1: 400,
            sent_2: 250,
            sent_100: 250,
            bare_sent_1: 120,
            bare_sent_2: 20,
            bare_sent_100: 20,
        };
        assert_eq!(r.credential_share(2), Some(230.0));
        assert_eq!(r.credential_share(3), None);
        let rows = vec![r.clone(), TransportRow { transport: "h1".into(), ..r }];
        assert_eq!(transports(&rows), vec!["h1", "h2"]);
        assert_eq!(figure(&rows, "jwt", "h2", |r| r.credential_share(1)).unwrap().mean, 280.0);
    }
}
