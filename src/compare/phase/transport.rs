//! The transport phase (`--transport h1,h2-tls`, `all`): per transport, a server of the unit's
//! scheme of its own (`serve --tls` for the TLS ones) and three measurements with the generator
//! over that transport:
//! - `GET /api/me` (open model) at the same utilisation over every transport: the server as busy
//!   as it was over h1 at `--utilization` of the scheme's maximum (the CPU ladder's step), so a
//!   transport's CPU per request is read where a fleet would run it, not at one offered rate (CPU
//!   per request falls as a server gets busier). A short calibration at half the h1 step's rate
//!   gives the transport's server CPU per second per request/s; the window runs at the rate that
//!   puts it at the h1 step's busy share, and records the busy share it reached. Without a ladder
//!   step (a run with no CPU ladder) both runs are at `--rate`. Server CPU per request, p50/p99,
//!   bytes per request at the socket;
//! - logins, each on a new connection (a new visit: over TLS a handshake, resumed or not), each
//!   followed by its logout: the server's CPU per login;
//! - 100 `/api/me` on one connection with the credential and without: the credential's bytes on
//!   requests 1, 2 and 100 after HPACK.

use anyhow::{Context, Result};
use authbench_loadgen::{Endpoint, LoadConfig, LoadModel, Mix, Ramp, Scheme, Summary, Transport};
use authbench_report::transport::TransportRow;

use super::{Unit, UnitResult, me_only};
use crate::compare::plan::TransportKind;
use crate::compare::rate_step::pool_size;
use crate::compare::schedule::Phase;
use crate::harness::credential::login;
use crate::harness::server::ServerProcess;

/// Virtual users of the login run.
const LOGIN_VUS: f64 = 10.0;
/// Requests on one connection for the byte sequence.
const SEQUENCE: usize = 100;
/// Users of the phase's servers.
const USERS: u64 = 2_000;
/// The calibration run's rate, as a share of the h1 step's: at most ~80% busy for a transport
/// that costs 1.6× h1's per request, so the calibration itself does not queue.
const CALIBRATION_SHARE: f64 = 0.5;
/// How long the calibration runs.
const CALIBRATION_HOLD: std::time::Duration = std::time::Duration::from_millis(800);

/// Where the transport's measured window runs: the h1 CPU ladder's step at `--utilization` of
/// this unit (its achieved rate and the server's busy share, in cores), if it ran.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Operating {
    rps: f64,
    server_busy: f64,
}

fn operating_point(r: &UnitResult, utilisation: f64) -> Option<Operating> {
    r.rows.cpu_vs_load.iter().find_map(|row| {
        let at = row.share.is_some_and(|s| (s - utilisation).abs() < 1e-9);
        let busy = row.server_cpu_us_per_req? * row.achieved_rps * 1e-6;
        (at && busy > 0.0 && row.achieved_rps > 0.0)
            .then_some(Operating { rps: row.achieved_rps, server_busy: busy })
    })
}

/// The rate that puts a server whose calibration run at `rps` was `busy` cores busy at
/// `target` cores (CPU per request taken as constant between the two rates).
fn rate_for(target: f64, rps: f64, busy: f64) -> Option<f64> {
    (busy > 0.0 && rps > 0.0 && target > 0.0).then(|| rps * target / busy)
}

/// A summary's server busy share, in cores, and its achieved `/api/me` rate.
fn busy(s: &Summary) -> Option<(f64, f64)> {
    let rps = s.endpoint(Endpoint::Me)?.rps;
    Some((s.server.cpu_us_per_req? * rps * 1e-6, rps))
}

/// The generator's transport towards `server` over `kind` (its certificate written under `dir`).
fn transport_for(kind: TransportKind, server: &ServerProcess, dir: &std::path::Path) -> Result<Transport> {
    let tls = match (&server.ca, kind.tls()) {
        (Some(pem), true) => {
            let path = dir.join(format!("ca-{}.pem", kind.name()));
            std::fs::write(&path, pem)?;
            Some(authbench_loadgen::Tls {
                config: authbench_loadgen::tls_config(&path, kind.http2(), true)?,
                name: authbench_loadgen::server_name(server.addr),
            })
        }
        _ => None,
    };
    Ok(Transport { tls, http2: kind.http2(), ..Transport::default() })
}

pub async fn run(u: &Unit<'_>, r: &mut UnitResult) -> Result<()> {
    let plan = &u.ctx.plan;
    let operating = operating_point(r, plan.saturation.utilization);
    for &kind in &plan.transports {
        if u.stopped() {
            return Ok(());
        }
        u.enter_at(Phase::Transport, kind.name());
        let mut args = u.ctx.server_args(u.scheme, u.prefix, None);
        (args.users, args.tls) = (USERS, kind.tls());
        let server = ServerProcess::spawn(&args)?;
        let dir = u.dir.join(format!("transport-{}", kind.name()));
        std::fs::create_dir_all(&dir)?;
        let transport = transport_for(kind, &server, &dir)?;
        let scheme = Some(Scheme::new(u.scheme.as_str(), u.scheme.credential()));
        let config = |model: LoadModel, out: &str, transport: Transport| {
            let mut c = LoadConfig::new(server.addr, scheme.clone(), model);
            (c.server_pid, c.transport, c.out_dir) = (Some(server.pid()), transport, Some(dir.join(out)));
            c
        };

        let me_at = |rate: f64, hold, out: &str| {
            let model = LoadModel::Open { rate_stages: Ramp::constant(rate, hold), vus: pool_size(rate) };
            let mut c = config(model, out, transport.clone());
            c.mix = me_only();
            c
        };
        let (rate, calibration) = match operating {
            Some(op) => {
                let cal_rate = op.rps * CALIBRATION_SHARE;
                let cal = u
                    .run_load(me_at(cal_rate, CALIBRATION_HOLD, "calibration"), Phase::Transport, None)
                    .await?;
                let cal = busy(&cal);
                let rate = cal.and_then(|(b, rps)| rate_for(op.server_busy, rps, b)).unwrap_or(op.rps);
                (rate, cal.map(|(b, rps)| (rps, b)))
            }
            None => (plan.rate, None),
        };
        let me = u.run_load(me_at(rate, plan.transport_hold, "me"), Phase::Transport, None).await?;

        let model = LoadModel::Closed { stages: Ramp::constant(LOGIN_VUS, plan.transport_hold) };
        let fresh = Transport { new_connection_per_login: true, ..transport.clone() };
        let mut c = config(model, "login", fresh);
        c.mix = Mix { me: 0, refresh: 0, logout: 100 };
        let logins = u.run_load(c, Phase::Transport, None).await?;

        let cred = login(server.addr, 1).await.context("log in for the byte sequence")?;
        let header = (
            http::HeaderName::from_static(cred.header),
            http::HeaderValue::from_str(&cred.value).context("a credential header")?,
        );
        let with = authbench_loadgen::me_sequence(server.addr, &transport, Some(header), SEQUENCE).await;
        let bare = authbench_loadgen::me_sequence(server.addr, &transport, None, SEQUENCE).await;
        server.stop();
        let sent = |v: &[authbench_loadgen::WireBytes], n: usize| v.get(n - 1).map_or(0, |b| b.sent);
        let cookie = match cred.header {
            "cookie" => cred.value.split('=').next().unwrap_or("").to_owned(),
            _ => String::new(),
        };
        r.rows.transport.push(row(
            u,
            kind,
            Window { rate, target_busy: operating.map(|o| o.server_busy), calibration },
            &me,
            &logins,
            cookie,
            [&with, &bare].map(|v| [sent(v, 1), sent(v, 2), sent(v, SEQUENCE)]),
        ));
    }
    Ok(())
}

/// Where the measured window ran and how its rate was chosen.
struct Window {
    rate: f64,
    /// The h1 ladder step's server busy share (cores) the window aims at; `None`: at `--rate`.
    target_busy: Option<f64>,
    /// The calibration run: its achieved rate and the server's busy share (cores).
    calibration: Option<(f64, f64)>,
}

/// The row from the runs' summaries and the byte sequences ([with, bare] × requests 1, 2, 100).
fn row(
    u: &Unit<'_>,
    kind: TransportKind,
    w: Window,
    me: &Summary,
    logins: &Summary,
    cookie: String,
    seq: [[u64; 3]; 2],
) -> TransportRow {
    let e = me.endpoint(Endpoint::Me);
    let latency = e.and_then(|e| e.latency_us.clone());
    let login_count = logins.endpoint(Endpoint::Login).map_or(0, |e| e.count.saturating_sub(e.errors));
    let login_cpu_us = logins
        .server
        .cpu_us_per_req
        .filter(|_| login_count > 0)
        .map(|per| per * logins.total.count as f64 / login_count as f64);
    let resumed_share = logins.tls.map(|h| h.resumed as f64 / (h.full + h.resumed).max(1) as f64);
    TransportRow {
        scheme: u.scheme.to_string(),
        repeat: u.repeat,
        transport: kind.name().to_owned(),
        cookie,
        offered_rps: w.rate,
        target_server_busy: w.target_busy,
        server_busy: busy(me).map(|(b, _)| b),
        calibration_rps: w.calibration.map(|c| c.0),
        calibration_server_busy: w.calibration.map(|c| c.1),
        achieved_rps: e.map_or(0.0, |e| e.rps),
        p50_us: latency.as_ref().map_or(f64::NAN, |l| l.p50 as f64),
        p99_us: latency.as_ref().map_or(f64::NAN, |l| l.p99 as f64),
        errors: e.map_or(0, |e| e.errors + e.unfinished),
        server_cpu_us_per_req: me.server.cpu_us_per_req,
        bytes_sent_per_req: e.map_or(f64::NAN, |e| e.bytes_sent_per_req),
        bytes_received_per_req: e.map_or(f64::NAN, |e| e.bytes_received_per_req),
        login_cpu_us,
        resumed_share,
        sent_1: seq[0][0],
        sent_2: seq[0][1],
        sent_100: seq[0][2],
        bare_sent_1: seq[1][0],
        bare_sent_2: seq[1][1],
        bare_sent_100: seq[1][2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_rate_scales_the_calibration_to_the_target_busy_share() {
        // Calibrated at 10k req/s with the server 0.3 cores busy; the h1 step was 0.6 busy.
        assert_eq!(rate_for(0.6, 10_000.0, 0.3), Some(20_000.0));
        // A transport twice as costly per request gets half the rate for the same busy share.
        assert_eq!(rate_for(0.6, 10_000.0, 0.6), Some(10_000.0));
        assert_eq!(rate_for(0.6, 10_000.0, 0.0), None);
    }
}
