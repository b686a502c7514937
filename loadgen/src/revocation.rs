//! `authbench probe revocation --flow FILE URL [--probe-url URL2]`: how long a copied credential
//! stays usable after logout, on a real service. Per repeat, a fresh user logs in through URL, the
//! copy is checked accepted on URL2 (another replica, or URL itself), logout goes through URL, and
//! the copy is polled on URL2 until the flow's "refused" or `--bound` passes. Then, where the flow
//! has them: logout-all from one device, polled on another device's credential; and a refresh
//! credential replayed after rotation. Exit 0/1 against `--require-within`, 2 for bad input.
//!
//! A control-plane client of loadgen's own ([`Client`], one connection per URL), so `https://`,
//! `--ca`, `--host` (SNI and `Host`) work as in `authbench load`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{Call, Client, Reply};
use crate::error::{Error, Result};
use crate::flow::extract::Held;
use crate::flow::{Flow, Step};
use crate::target::{host_name, is_https, parse_target_with, tls_and_authority, url_host_name};
use crate::transport::Transport;
use authbench_util::parse::parse_duration;

/// Options of `authbench probe revocation`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The flow file (TOML, docs/flows.md): login, the request checked, logout, logout-all, refresh.
    #[arg(long, value_name = "FILE")]
    pub flow: PathBuf,
    /// The service's base URL: login and logout go here.
    pub url: String,
    /// Where the copied credential is tried (another replica, region or gateway). Default: URL.
    #[arg(long, value_name = "URL2")]
    pub probe_url: Option<String>,
    /// Exit 1 unless every probe's window is at most this (e.g. 1s, 250ms).
    #[arg(long, value_name = "DUR")]
    pub require_within: Option<String>,
    /// Stop polling a copy still accepted after this long (it is reported as "still accepted").
    #[arg(long, default_value = "10s")]
    pub bound: String,
    /// Time between polls of the copy (the window's resolution).
    #[arg(long, default_value = "20ms")]
    pub interval: String,
    /// Probes (each a fresh user) the window's interval is taken over.
    #[arg(long, default_value_t = 5)]
    pub repeats: u32,
    /// The first user number (the flow's `{i}`); probe n uses user first + n.
    #[arg(long, default_value_t = 1)]
    pub first_user: u64,
    /// Allow a URL off loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// The `Host` and TLS server name, when the URLs name addresses.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// An https:// service's certificate or CA (PEM); default the system's CA store.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The result as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Where one URL is, and how it is reached.
struct Endpoint {
    addr: SocketAddr,
    transport: Arc<Transport>,
}

impl Endpoint {
    fn parse(url: &str, a: &ProbeArgs) -> Result<Endpoint> {
        let addr = parse_target_with(url, a.allow_remote)?;
        let name = match &a.host {
            Some(h) => Some(host_name(h)?),
            None => url_host_name(url),
        };
        let (tls, authority) =
            tls_and_authority(addr, is_https(url), name.as_deref(), a.ca.as_deref(), false, true)?;
        Ok(Endpoint { addr, transport: Arc::new(Transport { tls, authority, ..Transport::default() }) })
    }

    fn client(&self) -> Client {
        Client::new(self.addr, Duration::from_secs(10)).with_transport(self.transport.clone(), None, None)
    }
}

/// What the probe found.
#[derive(Debug, serde::Serialize)]
pub struct Found {
    pub flow: String,
    /// Per probe: seconds from the logout's answer to the first refusal; `None`: still accepted
    /// at the bound.
    pub windows_s: Vec<Option<f64>>,
    pub bound_s: f64,
    pub interval_s: f64,
    /// Logout-all from one device: the other device's window (`None` inside: still accepted);
    /// absent: the flow has no logout-all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logout_all_s: Option<Option<f64>>,
    /// A rotated refresh credential replayed: refused (`true`), accepted (`false`); `None`: the
    /// flow has no refresh with a refresh credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed_refresh_refused: Option<bool>,
}

/// Run the command; the exit code.
pub fn run_probe_command(args: ProbeArgs) -> i32 {
    use authbench_util::process::{Threads, fail, runtime};
    let rt = match runtime(Threads::Current) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let require = match args.require_within.as_deref().map(|s| duration("--require-within", s)).transpose() {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string(), e.exit_code()),
    };
    match rt.block_on(probe(&args)) {
        Ok(found) => {
            if args.json {
                println!("{}", serde_json::to_string(&found).expect("serialisable"));
            } else {
                print!("{}", crate::revocation::text(&found));
            }
            let ok = require
                .is_none_or(|r| found.windows_s.iter().all(|w| w.is_some_and(|s| s <= r.as_secs_f64())));
            if ok { 0 } else { 1 }
        }
        Err(e) => fail(&e.to_string(), e.exit_code()),
    }
}

fn duration(opt: &str, s: &str) -> Result<Duration> {
    parse_duration(s).map_err(|e| Error::BadInput(format!("{opt}: {e}")))
}

/// Every probe the flow allows.
pub async fn probe(a: &ProbeArgs) -> Result<Found> {
    let flow = Flow::load(&a.flow).map_err(Error::BadInput)?;
    let bound = duration("--bound", &a.bound)?;
    let interval = duration("--interval", &a.interval)?;
    if a.repeats == 0 || interval.is_zero() {
        return Err(Error::BadInput("--repeats and --interval must be above 0".into()));
    }
    let main = Endpoint::parse(&a.url, a)?;
    let copy = match &a.probe_url {
        Some(u) => Endpoint::parse(u, a)?,
        None => Endpoint::parse(&a.url, a)?,
    };
    let Some(end) = flow.logout.as_ref().or(flow.logout_all.as_ref()) else {
        return Err(Error::BadInput(format!(
            "flow `{}` has no [logout] or [logout_all] to probe",
            flow.name
        )));
    };
    let p = Prober { flow, main, copy, bound, interval };
    let mut windows = Vec::new();
    for i in 0..u64::from(a.repeats) {
        let held = p.login(a.first_user + i).await?;
        windows.push(p.window(&held, &held, end).await?);
    }
    let n = a.first_user + u64::from(a.repeats);
    let logout_all = match &flow.logout_all {
        Some(all) => {
            let (one, other) = (p.login(n).await?, p.login(n).await?);
            Some(p.window(&one, &other, all).await?)
        }
        None => None,
    };
    let replayed = p.replay_refresh(n + 1).await?;
    Ok(Found {
        flow: flow.name.clone(),
        windows_s: windows,
        bound_s: bound.as_secs_f64(),
        interval_s: interval.as_secs_f64(),
        logout_all_s: logout_all,
        replayed_refresh_refused: replayed,
    })
}

struct Prober {
    flow: &'static Flow,
    main: Endpoint,
    copy: Endpoint,
    bound: Duration,
    interval: Duration,
}

impl Prober {
    async fn send(&self, at: &Endpoint, call: &Call<'_>) -> Result<Reply> {
        at.client().call(call, Instant::now()).await.map_err(|kind| Error::Unreachable {
            target: at.addr.to_string(),
            reason: format!("{} {} failed ({})", call.method, call.path, kind.as_str()),
        })
    }

    fn stop(&self, what: String, r: &Reply) -> Error {
        Error::Preflight {
            flow: self.flow.name.clone(),
            what,
            answer: crate::flow::shown::answer(r.status, &r.headers, &r.body, &[]),
        }
    }

    async fn login(&self, n: u64) -> Result<Held> {
        let l = &self.flow.login;
        let body = self.flow.login_body(n).zip(l.body.as_ref().map(|(_, ct)| ct));
        let call = Call {
            method: l.method.clone(),
            path: &l.path,
            credential: None,
            csrf: None,
            body,
            want_body: true,
        };
        let r = self.send(&self.main, &call).await?;
        let (user, _) = self.flow.users.get(n);
        if !l.expect.contains(r.status) {
            return Err(self.stop(format!("login as {user} answered {}", r.status), &r));
        }
        self.flow
            .read(&r.headers, &r.body, None)
            .map_err(|m| self.stop(format!("login as {user}: no credential ({m})"), &r))
    }

    /// The first request with `held`, on `at`: whether the flow counts the answer refused.
    async fn refused(&self, at: &Endpoint, held: &Held) -> Result<bool> {
        let req = &self.flow.requests[0].step;
        let call = req.call(held, true);
        let r = self.send(at, &call).await?;
        if self.flow.refused.by(r.status, &r.headers, &r.body) {
            return Ok(true);
        }
        if !req.expect.contains(r.status) {
            return Err(
                self.stop(format!("{} {} answered neither accepted nor refused", req.method, req.path), &r)
            );
        }
        Ok(false)
    }

    /// `end` (logout or logout-all) sent with `by` through the main URL; `copy` polled on the
    /// probe URL: seconds until refused, `None` if still accepted at the bound.
    async fn window(&self, by: &Held, copy: &Held, end: &'static Step) -> Result<Option<f64>> {
        if self.refused(&self.copy, copy).await? {
            return Err(Error::BadInput(
                "the copy was refused before logout: check --probe-url and the flow".into(),
            ));
        }
        let call = end.call(by, true);
        let r = self.send(&self.main, &call).await?;
        if !end.expect.contains(r.status) {
            return Err(self.stop(format!("{} {} (logout) answered {}", end.method, end.path, r.status), &r));
        }
        let t0 = Instant::now();
        loop {
            if self.refused(&self.copy, copy).await? {
                return Ok(Some(t0.elapsed().as_secs_f64()));
            }
            if t0.elapsed() >= self.bound {
                return Ok(None);
            }
            tokio::time::sleep(self.interval).await;
        }
    }

    /// Refresh once, then replay the first refresh credential: refused?
    async fn replay_refresh(&self, n: u64) -> Result<Option<bool>> {
        let Some(r) = &self.flow.refresh else { return Ok(None) };
        let held = self.login(n).await?;
        if held.refresh.is_none() {
            return Ok(None);
        }
        let (body, header, _) = self.flow.refresh_parts(r, &held);
        let call = Call {
            method: r.step.method.clone(),
            path: &r.step.path,
            credential: if r.send_credential { Some(&held.credential) } else { header.as_ref() },
            csrf: if r.step.csrf { held.csrf.as_ref() } else { None },
            body: body.zip(r.step.body.as_ref().map(|(_, ct)| ct)),
            want_body: true,
        };
        let first = self.send(&self.main, &call).await?;
        if !r.step.expect.contains(first.status) {
            return Err(self.stop(format!("refresh answered {}", first.status), &first));
        }
        let replay = self.send(&self.main, &call).await?;
        Ok(Some(!r.step.expect.contains(replay.status)))
    }
}

/// The report on stdout.
pub fn text(f: &Found) -> String {
    let shown = |w: &Option<f64>| match w {
        Some(s) => format!("{:.0} ms", s * 1e3),
        None => format!("still accepted after {:.1} s", f.bound_s),
    };
    let mut done: Vec<f64> = f.windows_s.iter().flatten().copied().collect();
    done.sort_by(f64::total_cmp);
    let mut out = format!(
        "revocation probe of `{}`: {} probes, polled every {:.0} ms\n",
        f.flow,
        f.windows_s.len(),
        f.interval_s * 1e3
    );
    let still = f.windows_s.len() - done.len();
    out.push_str(&match (done.first(), done.last()) {
        _ if still > 0 => format!(
            "  window: a copied credential was STILL ACCEPTED after logout in {still} of {} probes (bound {:.1} s)\n",
            f.windows_s.len(),
            f.bound_s
        ),
        (Some(lo), Some(hi)) => format!(
            "  window: median {:.0} ms, {:.0}–{:.0} ms over the probes (± {:.0} ms polling)\n",
            done[done.len() / 2] * 1e3,
            lo * 1e3,
            hi * 1e3,
            f.interval_s * 1e3
        ),
        _ => String::new(),
    });
    out.push_str(&format!(
        "  logout-all reaches other devices: {}\n",
        match &f.logout_all_s {
            None => "not probed (the flow has no [logout_all])".into(),
            Some(w) => shown(w),
        }
    ));
    out.push_str(&format!(
        "  rotated refresh credential replayed: {}\n",
        match f.replayed_refresh_refused {
            None => "not probed (the flow has no refresh credential)",
            Some(true) => "refused",
            Some(false) => "ACCEPTED",
        }
    ));
    out
}
