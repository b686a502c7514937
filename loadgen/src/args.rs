//! `authbench load`'s command line: the clap [`LoadArgs`] as typed, the target, URL and header
//! parsers, and [`LoadArgs::into_config`], which validates every string into a [`LoadConfig`]
//! before anything is started or written; a bad value is one [`Error::BadInput`] line naming
//! the option.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use authbench_util::parse::{parse_count, parse_duration};
use clap::Args;

use crate::agent::Agent;
use crate::config::{LoadConfig, MAX_VUS};
use crate::error::{Error, Result};
use crate::mix::Mix;
use crate::ramp::{LoadModel, Ramp};
use crate::scheme::Scheme;
use crate::target::{
    host_name, is_https, parse_header, parse_target_with, parse_url_with, tls_and_authority, url_host_name,
};
use crate::threshold::Threshold;

/// Options of `authbench load`. Kept as text so every mistake gets the same one-line error.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Load one auth server with ramping virtual users or a fixed arrival rate",
    after_help = "Outputs in --out DIR: timeseries.csv (one row per second), summary.json, summary.csv, \
<endpoint>.hlog (HdrHistogram interval logs, µs; open model also <endpoint>.uncorrected.hlog).\n\
Exit codes: 0 ok · 1 the target stopped answering (gone, or silent for longer than --timeout or \
at the end of the run) or output error · 2 bad input or unreachable target · \
99 threshold violated · 130 interrupted (Ctrl-C; the summary is still written).\n\
wrk/oha habits work: `authbench load http://127.0.0.1:8080/healthz -c 50 -d 30s`, `-R 5k` (wrk2), \
`-H 'Name: value'`."
)]
pub struct LoadArgs {
    /// Server to load, as wrk and oha take it: `http://127.0.0.1:8080` or, for the no-auth
    /// baseline, `http://127.0.0.1:8080/healthz` (loopback unless --allow-remote). Same as --target.
    #[arg(value_name = "URL")]
    pub url: Option<String>,

    /// Server to load, e.g. http://127.0.0.1:8080 (loopback unless --allow-remote).
    #[arg(long)]
    pub target: Option<String>,

    /// none (GET /healthz, no login: the baseline; the default), or one of authbench's schemes
    /// (cookie, session, jwt, jwt-revocable, jwt-pubsub, session-cached, session-tracked), or the
    /// credential kind of another server keeping authbench's API (sealed-cookie, session-cookie,
    /// bearer). Any other service: --flow.
    #[arg(long, conflicts_with = "flow")]
    pub scheme: Option<String>,

    /// A flow file (TOML, docs/flows.md): how to log in to your service, carry and renew its
    /// credential, and which authenticated requests to send. Its login is tried once before the
    /// run (pre-flight); a login that does not yield the described credential stops here.
    #[arg(long, value_name = "FILE")]
    pub flow: Option<PathBuf>,

    /// The `Host` header and TLS server name (SNI) to send, when the URL names an address (a
    /// replica, a load balancer's IP) of a service known by this name. Default: the URL's host
    /// name, or the address itself.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// Closed model: this many virtual users (connections) for --duration. Open model: the pool of
    /// logged-in users sharing the arrivals (default: max rate / 100, at least 10); the pool logs
    /// in before the clock starts, as set-up: its logins and their CPU are not in the figures.
    #[arg(long, short = 'c', visible_alias = "connections")]
    pub vus: Option<String>,

    /// Length of a constant load (--vus or --rate). Default 10s.
    #[arg(long, short = 'd')]
    pub duration: Option<String>,

    /// Closed model, ramping: `10s:100,30s:1000,10s:0` — linear from 0 between targets.
    #[arg(long)]
    pub stages: Option<String>,

    /// Open model, constant: requests of /api/me per second (timed from their intended start), as
    /// wrk2's -R.
    #[arg(long, short = 'R')]
    pub rate: Option<String>,

    /// Open model, ramping: `10s:1000,30s:5000` requests/s, linear from 0 between targets.
    #[arg(long)]
    pub rate_stages: Option<String>,

    /// Closed model: pause between a response and the user's next request.
    #[arg(long, default_value = "0ms")]
    pub think: String,

    /// Weights of what a logged-in user does next (closed model).
    #[arg(long, default_value = "me=98,refresh=1,logout=1")]
    pub mix: String,

    /// Directory for timeseries.csv, summary.json/.csv and per-endpoint .hlog files.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Server process to sample (CPU time, RSS) from /proc.
    #[arg(long)]
    pub server_pid: Option<String>,

    /// Redis to sample with INFO (CPU, used_memory, keys); a comma list samples every node of a
    /// Redis Cluster and reports their sum.
    #[arg(long)]
    pub redis_url: Option<String>,

    /// Pass/fail rule, repeatable: `me.p99<10ms`, `me.rps>=1000`, `error_rate<1%`, `login.errors<=0`,
    /// or k6's `p(95)<500` (ms), `avg<200`, `med<100`, `max<1000`, `rate<0.01`, `me.p(95)<500`
    /// (bare: all endpoints together). Any violated → listed, exit 99.
    #[arg(long = "threshold")]
    pub thresholds: Vec<String>,

    /// Stop the run at the first broken threshold (upper bounds on latency, errors and error rate
    /// are judged every second on everything measured so far); what was measured is kept; exit 99.
    #[arg(long)]
    pub abort_on_fail: bool,

    /// Extra request header, repeatable: `-H 'X-Trace: 1'` (sent on every request).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Also write the end-of-test summary (summary.json's content) to FILE, as k6's
    /// --summary-export.
    #[arg(long, value_name = "FILE")]
    pub summary_export: Option<PathBuf>,

    /// Print the end-of-test summary as JSON on stdout; the human summary goes to stderr.
    #[arg(long)]
    pub json: bool,

    /// Serve live Prometheus metrics of the run on this address (`GET /metrics`), e.g.
    /// 127.0.0.1:9464; port 0 picks one (printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Per-request timeout (connect + response).
    #[arg(long, default_value = "10s")]
    pub timeout: String,

    /// HTTP/2: with prior knowledge (h2c) for an http:// target, by ALPN for https://. Virtual
    /// users share connections, --streams each.
    #[arg(long)]
    pub http2: bool,

    /// With --http2: virtual users per connection (each has at most one request in flight, so
    /// the streams one connection carries at once).
    #[arg(long, default_value_t = crate::transport::DEFAULT_STREAMS, requires = "http2")]
    pub streams: u32,

    /// An https:// target's certificate or its CA (PEM): what `serve --tls` wrote to its
    /// --cert-out. The only certificates trusted. Without it a target named by a host name (or
    /// --host) is checked against the system's CA certificates.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,

    /// No TLS session resumption: every connection makes a full handshake. By default one
    /// in-memory session store (rustls's, 256 sessions, tickets included) serves the whole run.
    #[arg(long)]
    pub no_tls_resumption: bool,

    /// Each virtual user's login opens a fresh connection, as a new visit does: over TLS a new
    /// handshake, so its cost lands on the login. HTTP/2: the login's connection is the user's own.
    #[arg(long)]
    pub new_connection_per_login: bool,

    /// Virtual user i (0-based) logs in as user{first_user + i}.
    #[arg(long, default_value = "1")]
    pub first_user: String,

    /// No live progress line.
    #[arg(long)]
    pub no_progress: bool,

    /// Run the I-th of N disjoint slices of this test (users, virtual users, stage targets,
    /// arrivals), e.g. `--agent 2/3`; `authbench merge` joins the N results. Only agent 1
    /// samples --server-pid and --redis-url.
    #[arg(long, value_name = "I/N")]
    pub agent: Option<String>,

    /// Allow a target that is not a loopback address (another host, or this one's network
    /// address); --server-pid is refused for it (it names a local process).
    #[arg(long)]
    pub allow_remote: bool,

    /// Start the load at this wall-clock instant (RFC 3339, e.g. 2026-12-02T05:00:00Z), so agents
    /// on several hosts begin together; a late start is said in the summary.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
}

fn duration(opt: &str, s: &str) -> Result<Duration> {
    parse_duration(s).map_err(|e| Error::BadInput(format!("{opt}: {e}")))
}

fn count(opt: &str, s: &str) -> Result<u64> {
    parse_count(s).map_err(|e| Error::BadInput(format!("{opt}: {e}")))
}

impl LoadArgs {
    /// Validate and type every option. Touches nothing outside the process.
    pub fn into_config(self) -> Result<LoadConfig> {
        let target = match (&self.url, &self.target) {
            (Some(_), Some(_)) => {
                return Err(Error::BadInput("give the target once: as URL or as --target".into()));
            }
            (Some(url), None) => parse_url_with(url, self.allow_remote)?,
            (None, Some(t)) => parse_target_with(t, self.allow_remote)?,
            (None, None) => {
                return Err(Error::BadInput(
                    "no target: authbench load http://127.0.0.1:PORT (or --target URL)".into(),
                ));
            }
        };
        let url = self.url.as_deref().or(self.target.as_deref()).unwrap_or_default();
        let https = is_https(url);
        let name = match &self.host {
            Some(h) => Some(host_name(h)?),
            None => url_host_name(url),
        };
        let transport = self.transport(target, https, name.as_deref())?;
        let scheme = match (&self.flow, &self.scheme) {
            (Some(file), _) => {
                Some(Scheme::from_flow(crate::flow::Flow::load(file).map_err(Error::BadInput)?))
            }
            (None, Some(s)) => Scheme::parse(s)?,
            (None, None) => None,
        };
        let vus = self.vus.as_deref().map(|v| count("--vus", v)).transpose()?;
        if let Some(v) = vus
            && !(1..=MAX_VUS).contains(&v)
        {
            return Err(Error::BadInput(format!("--vus {v}: expected 1 to {MAX_VUS}")));
        }
        let fixed = self.duration.as_deref().map(|d| duration("--duration", d)).transpose()?;
        if fixed.is_some_and(|d| d.is_zero()) {
            return Err(Error::BadInput("--duration: must be longer than 0 s".into()));
        }
        let length = fixed.unwrap_or(Duration::from_secs(10));
        let model = match (&self.stages, &self.rate, &self.rate_stages) {
            (Some(_), _, Some(_)) | (Some(_), Some(_), _) | (_, Some(_), Some(_)) => {
                return Err(Error::BadInput(
                    "choose one load model: --stages, --rate or --rate-stages (with --vus as the open pool)"
                        .into(),
                ));
            }
            (Some(stages), None, None) => {
                if vus.is_some() || fixed.is_some() {
                    return Err(Error::BadInput(
                        "--stages sets users and duration: drop --vus and --duration".into(),
                    ));
                }
                let stages = Ramp::parse(stages, "--stages")?;
                if stages.max() > MAX_VUS as f64 {
                    return Err(Error::BadInput(format!("--stages: more than {MAX_VUS} virtual users")));
                }
                LoadModel::Closed { stages }
            }
            (None, rate, rate_stages) if rate.is_some() || rate_stages.is_some() => {
                let rate_stages = match (rate, rate_stages) {
                    (Some(r), _) => {
                        let r = count("--rate", r)?;
                        if r == 0 {
                            return Err(Error::BadInput("--rate: must be at least 1 request/s".into()));
                        }
                        Ramp::constant(r as f64, length)
                    }
                    (None, Some(s)) => {
                        if fixed.is_some() {
                            return Err(Error::BadInput(
                                "--rate-stages sets the duration: drop --duration".into(),
                            ));
                        }
                        Ramp::parse(s, "--rate-stages")?
                    }
                    (None, None) => unreachable!("guarded above"),
                };
                let pool =
                    vus.unwrap_or_else(|| ((rate_stages.max() / 100.0).ceil() as u64).clamp(10, 10_000));
                LoadModel::Open { rate_stages, vus: pool }
            }
            _ => match vus {
                Some(v) => LoadModel::Closed { stages: Ramp::constant(v as f64, length) },
                None => {
                    return Err(Error::BadInput(
                        "choose a load model: --vus N [--duration 30s], --stages 10s:100,30s:1000, --rate R [--duration 30s] or --rate-stages 10s:1000"
                            .into(),
                    ));
                }
            },
        };
        let think = duration("--think", &self.think)?;
        let mix = Mix::parse(&self.mix)?;
        let timeout = duration("--timeout", &self.timeout)?;
        if timeout.is_zero() {
            return Err(Error::BadInput("--timeout: must be longer than 0 s".into()));
        }
        let server_pid = match &self.server_pid {
            Some(p) => Some(
                p.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| Error::BadInput(format!("--server-pid `{p}`: not a process id")))?,
            ),
            None => None,
        };
        if let Some(pid) = server_pid
            && !target.ip().is_loopback()
        {
            return Err(Error::BadInput(format!(
                "--server-pid {pid}: names a process of this machine, but the target {target} is remote: \
sample the server on its own host"
            )));
        }
        if let Some(urls) = &self.redis_url
            && let Some(bad) = crate::sample::split_urls(urls).find(|u| redis::Client::open(*u).is_err())
        {
            return Err(Error::BadInput(format!("--redis-url `{bad}`: not a redis:// URL")));
        }
        let thresholds = self.thresholds.iter().map(|t| Threshold::parse(t)).collect::<Result<Vec<_>>>()?;
        let headers = self.headers.iter().map(|h| parse_header(h)).collect::<Result<Vec<_>>>()?;
        if let Some(file) = &self.summary_export {
            let parent =
                file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            if !parent.is_dir() || file.is_dir() {
                return Err(Error::BadInput(format!(
                    "--summary-export {}: not a file in an existing directory",
                    file.display()
                )));
            }
        }
        if let Some(addr) = self.metrics_addr
            && !addr.ip().is_loopback()
        {
            return Err(Error::BadInput(format!("--metrics-addr {addr}: loopback addresses only")));
        }
        let first_user = count("--first-user", &self.first_user)?;
        if first_user == 0 {
            return Err(Error::BadInput("--first-user: users are numbered from 1".into()));
        }
        let start_at = self.start_at.as_deref().map(crate::agent::parse_start_at).transpose()?;
        let agent = self.agent.as_deref().map(Agent::parse).transpose()?;
        let mut config = LoadConfig {
            target,
            transport,
            scheme,
            model,
            think,
            mix,
            out_dir: self.out,
            server_pid,
            replica_pids: Vec::new(),
            proxy_pid: None,
            redis_url: self.redis_url,
            thresholds,
            timeout,
            first_user,
            progress: !self.no_progress,
            credentials: None,
            abort_on_fail: self.abort_on_fail,
            headers,
            summary_export: self.summary_export,
            json: self.json,
            metrics_addr: self.metrics_addr,
            agent: None,
            start_at,
            preflight_login: true,
        };
        if let Some(agent) = agent {
            config.slice(agent)?;
        }
        Ok(config)
    }
}

impl LoadArgs {
    /// `--http2`, `--streams`, `--ca`, `--no-tls-resumption`, `--new-connection-per-login` for
    /// `target` (https or not), known as `name` when it was named (`Host`, SNI).
    fn transport(
        &self,
        target: SocketAddr,
        https: bool,
        name: Option<&str>,
    ) -> Result<crate::transport::Transport> {
        if !https && self.no_tls_resumption {
            return Err(Error::BadInput("--no-tls-resumption is for an https:// target".into()));
        }
        let (tls, authority) =
            tls_and_authority(target, https, name, self.ca.as_deref(), self.http2, !self.no_tls_resumption)?;
        if self.streams == 0 {
            return Err(Error::BadInput("--streams must be at least 1".into()));
        }
        Ok(crate::transport::Transport {
            tls,
            http2: self.http2,
            streams: self.streams,
            new_connection_per_login: self.new_connection_per_login,
            authority,
        })
    }
}

#[cfg(test)]
mod tests;
