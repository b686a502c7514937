//! `authbench load`'s command line: the clap [`LoadArgs`] as typed, the target, URL and header
//! parsers, and [`LoadArgs::into_config`], which validates every string into a [`LoadConfig`]
//! before anything is started or written; a bad value is one [`Error::BadInput`] line naming
//! the option.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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

    /// none (GET /healthz, no login: the baseline), cookie, session or jwt (or the credential
    /// kind of another server: sealed-cookie, session-cookie, bearer).
    #[arg(long, default_value = "none")]
    pub scheme: String,

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
    /// --cert-out. The only certificates trusted.
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

/// Parse `http://127.0.0.1:8080[/]`, `localhost:8080` or `[::1]:8080`; refuse anything off loopback.
#[cfg(test)]
fn parse_target(s: &str) -> Result<SocketAddr> {
    parse_target_with(s, false)
}

/// [`parse_target`]; with `allow_remote` any address, or a host name resolved once here.
pub fn parse_target_with(s: &str, allow_remote: bool) -> Result<SocketAddr> {
    let bad =
        |why: &str| Error::BadInput(format!("--target `{s}`: {why}; expected e.g. http://127.0.0.1:8080"));
    let rest = match s.trim().split_once("://") {
        Some(("http" | "https", rest)) => rest,
        Some((scheme, _)) => {
            return Err(bad(&format!("scheme `{scheme}` is not supported (http or https)")));
        }
        None => s.trim(),
    };
    let authority = match rest.split_once('/') {
        Some((a, "")) => a,
        Some((_, _)) => return Err(bad("give the server's base URL without a path")),
        None => rest,
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().map_err(|_| bad("bad port"))?),
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if port == 0 {
        return Err(bad("port 0"));
    }
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else if host.is_empty() {
        return Err(bad("no host"));
    } else if let Ok(ip) = host.parse() {
        ip
    } else if allow_remote {
        use std::net::ToSocketAddrs;
        let mut found =
            (host, port).to_socket_addrs().map_err(|e| bad(&format!("cannot resolve `{host}` ({e})")))?;
        found.next().ok_or_else(|| bad(&format!("`{host}` resolves to no address")))?.ip()
    } else {
        return Err(Error::NotLoopback(s.to_owned()));
    };
    if !ip.is_loopback() && !allow_remote {
        return Err(Error::NotLoopback(s.to_owned()));
    }
    Ok(SocketAddr::new(ip, port))
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
        let https = self.url.as_deref().or(self.target.as_deref()).is_some_and(is_https);
        let transport = self.transport(target, https)?;
        let scheme = Scheme::parse(&self.scheme)?;
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
        };
        if let Some(agent) = agent {
            config.slice(agent)?;
        }
        Ok(config)
    }
}

/// Whether a target URL is `https://`.
pub fn is_https(s: &str) -> bool {
    s.trim().get(..8).is_some_and(|p| p.eq_ignore_ascii_case("https://"))
}

impl LoadArgs {
    /// `--http2`, `--streams`, `--ca`, `--no-tls-resumption`, `--new-connection-per-login` for
    /// `target` (https or not).
    fn transport(&self, target: SocketAddr, https: bool) -> Result<crate::transport::Transport> {
        let tls = match (https, &self.ca) {
            (true, Some(ca)) => Some(crate::transport::Tls {
                config: crate::transport::tls_config(ca, self.http2, !self.no_tls_resumption)?,
                name: crate::transport::server_name(target),
            }),
            (true, None) => {
                return Err(Error::BadInput(
                    "an https:// target needs --ca FILE: the certificate `serve --tls` wrote (--cert-out)"
                        .into(),
                ));
            }
            (false, Some(_)) => return Err(Error::BadInput("--ca is for an https:// target".into())),
            (false, None) if self.no_tls_resumption => {
                return Err(Error::BadInput("--no-tls-resumption is for an https:// target".into()));
            }
            (false, None) => None,
        };
        if self.streams == 0 {
            return Err(Error::BadInput("--streams must be at least 1".into()));
        }
        Ok(crate::transport::Transport {
            tls,
            http2: self.http2,
            streams: self.streams,
            new_connection_per_login: self.new_connection_per_login,
            authority: None,
        })
    }
}

/// The positional target, as wrk and oha take it: a base URL, or the `/healthz` URL of the
/// no-auth baseline (authbench sends its own API paths, so no other path is accepted); off
/// loopback too with `allow_remote`.
pub fn parse_url_with(s: &str, allow_remote: bool) -> Result<SocketAddr> {
    let t = s.trim();
    let base = ["/healthz", "/healthz/"].iter().find_map(|p| t.strip_suffix(p)).unwrap_or(t);
    parse_target_with(base, allow_remote).map_err(|e| match e {
        Error::BadInput(m) => Error::BadInput(format!(
            "{}; the path may only be /healthz (authbench sends its own API paths)",
            m.replacen("--target", "URL", 1)
        )),
        other => other,
    })
}

/// `-H 'Name: value'` into a header; the headers authbench sets itself are refused.
pub fn parse_header(s: &str) -> Result<(http::HeaderName, http::HeaderValue)> {
    let bad = |why: &str| Error::BadInput(format!("-H `{s}`: {why}; expected e.g. -H 'X-Trace: 1'"));
    let (name, value) = s.split_once(':').ok_or_else(|| bad("no `:`"))?;
    let name = http::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad("not a header name"))?;
    let value = http::HeaderValue::from_str(value.trim()).map_err(|_| bad("not a header value"))?;
    use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, TRANSFER_ENCODING};
    if [HOST, CONTENT_LENGTH, TRANSFER_ENCODING, CONTENT_TYPE, COOKIE, AUTHORIZATION].contains(&name) {
        return Err(bad("authbench sets this header itself"));
    }
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: LoadArgs,
    }

    fn config(line: &str) -> Result<LoadConfig> {
        let argv = std::iter::once("load").chain(line.split_whitespace());
        Cli::try_parse_from(argv).expect("clap accepts").args.into_config()
    }

    #[test]
    fn targets_must_be_loopback_http() {
        assert_eq!(parse_target("http://127.0.0.1:8080").unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(parse_target("http://localhost:9/").unwrap(), "127.0.0.1:9".parse().unwrap());
        assert_eq!(parse_target("[::1]:7").unwrap(), "[::1]:7".parse().unwrap());
        assert_eq!(parse_target("127.0.0.2:80").unwrap(), "127.0.0.2:80".parse().unwrap());
        assert!(matches!(parse_target("http://10.0.0.1:80"), Err(Error::NotLoopback(_))));
        assert!(matches!(parse_target("http://example.com:80"), Err(Error::NotLoopback(_))));
        assert_eq!(parse_target("https://127.0.0.1:8443").unwrap(), "127.0.0.1:8443".parse().unwrap());
        assert!(matches!(parse_target("ftp://127.0.0.1:21"), Err(Error::BadInput(_))));
        assert!(matches!(parse_target("http://127.0.0.1:8080/api"), Err(Error::BadInput(_))));
        assert!(matches!(parse_target("http://127.0.0.1:99999"), Err(Error::BadInput(_))));
    }

    #[test]
    fn https_needs_its_certificate_and_tls_options_need_https() {
        let e = config("https://127.0.0.1:8443 -c 1").unwrap_err().to_string();
        assert!(e.contains("--ca"), "{e}");
        let e = config("http://127.0.0.1:8080 -c 1 --ca /x.pem").unwrap_err().to_string();
        assert!(e.contains("https://"), "{e}");
        let e = config("https://127.0.0.1:8443 -c 1 --ca /nonexistent.pem").unwrap_err().to_string();
        assert!(e.contains("/nonexistent.pem"), "{e}");
        assert!(config("http://127.0.0.1:8080 -c 1 --no-tls-resumption").is_err());
        assert!(config("http://127.0.0.1:8080 -c 1 --http2 --streams 0").is_err());
        let c = config("http://127.0.0.1:8080 -c 1 --http2 --streams 8 --new-connection-per-login").unwrap();
        assert!(c.transport.http2 && c.transport.streams == 8 && c.transport.new_connection_per_login);
        assert_eq!(c.transport.name(), "h2");
    }

    #[test]
    fn remote_targets_need_allow_remote_and_no_server_pid() {
        let e = config("http://10.1.2.3:80 -c 1").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--allow-remote"), "{e}");
        let c = config("http://10.1.2.3:80 -c 1 --allow-remote").unwrap();
        assert_eq!(c.target, "10.1.2.3:80".parse().unwrap());
        let c = config("--target [2001:db8::1]:8080 -c 1 --allow-remote").unwrap();
        assert_eq!(c.target, "[2001:db8::1]:8080".parse().unwrap());
        assert!(config("http://localhost:80/healthz -c 1 --allow-remote").unwrap().target.ip().is_loopback());
        let e = config("http://10.1.2.3:80 -c 1 --allow-remote --server-pid 1").unwrap_err();
        assert!(e.to_string().contains("--server-pid") && e.to_string().contains("remote"), "{e}");
        // A loopback target keeps --server-pid.
        assert_eq!(config("127.0.0.1:80 -c 1 --allow-remote --server-pid 1").unwrap().server_pid, Some(1));
    }

    #[test]
    fn builds_each_load_model() {
        let c = config("--target 127.0.0.1:1 --scheme jwt --vus 5 --duration 2s").unwrap();
        assert_eq!(c.model, LoadModel::Closed { stages: Ramp::constant(5.0, Duration::from_secs(2)) });
        assert_eq!(c.scheme, Some(Scheme::new("jwt", authbench_contract::CredentialKind::Bearer)));
        let c = config("--target 127.0.0.1:1 --scheme none --stages 1s:10,1s:0").unwrap();
        assert!(matches!(c.model, LoadModel::Closed { .. }));
        assert_eq!(c.scheme, None);
        let c = config("--target 127.0.0.1:1 --scheme cookie --rate 5k --duration 3s").unwrap();
        assert_eq!(
            c.model,
            LoadModel::Open { rate_stages: Ramp::constant(5000.0, Duration::from_secs(3)), vus: 50 }
        );
        let c = config("--target 127.0.0.1:1 --scheme cookie --rate-stages 1s:100 --vus 3").unwrap();
        assert!(matches!(c.model, LoadModel::Open { vus: 3, .. }));
    }

    #[test]
    fn takes_wrk_and_oha_habits() {
        let c = config("http://127.0.0.1:8080/healthz -c 50 -d 30s").unwrap();
        assert_eq!(c.target, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.scheme, None);
        assert_eq!(c.model, LoadModel::Closed { stages: Ramp::constant(50.0, Duration::from_secs(30)) });
        let c = config("http://127.0.0.1:8080 --scheme jwt -R 2k -d 5s -H X-Trace:1 -H x-b:two").unwrap();
        assert!(matches!(c.model, LoadModel::Open { ref rate_stages, .. } if rate_stages.max() == 2000.0));
        let names: Vec<_> = c.headers.iter().map(|(n, v)| format!("{n}={}", v.to_str().unwrap())).collect();
        assert_eq!(names, ["x-trace=1", "x-b=two"]);
        // The long forms stay.
        let c =
            config("--target 127.0.0.1:8080 --connections 3 --duration 1s --json --abort-on-fail").unwrap();
        assert_eq!(c.model, LoadModel::Closed { stages: Ramp::constant(3.0, Duration::from_secs(1)) });
        assert!(c.json && c.abort_on_fail);
        let c = config("localhost:9 -c 1 --metrics-addr 127.0.0.1:0 --summary-export s.json").unwrap();
        assert_eq!(c.metrics_addr, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(c.summary_export, Some(PathBuf::from("s.json")));
    }

    #[test]
    fn rejects_bad_input_naming_the_option() {
        for (line, needle) in [
            ("--target 127.0.0.1:1 --scheme foo --vus 1", "--scheme"),
            ("--target 127.0.0.1:1 --scheme jwt", "load model"),
            ("--target 127.0.0.1:1 --scheme jwt --stages 10x:5", "--stages"),
            ("--target 127.0.0.1:1 --scheme jwt --rate-stages 1s", "--rate-stages"),
            ("--target 127.0.0.1:1 --scheme jwt --vus 1 --duration soon", "--duration"),
            ("--target 127.0.0.1:1 --scheme jwt --vus 1 --think x", "--think"),
            ("--target 127.0.0.1:1 --scheme jwt --vus 1 --timeout 0s", "--timeout"),
            ("--target 127.0.0.1:1 --scheme jwt --vus 1 --mix me=x", "--mix"),
            ("--target 127.0.0.1:1 --scheme jwt --vus 1 --threshold me.p99~3", "--threshold"),
            ("--target 127.0.0.1:1 --scheme jwt --vus 1 --server-pid abc", "--server-pid"),
            ("--target 127.0.0.1:1 --scheme jwt --vus 1 --redis-url nope", "--redis-url"),
            ("--target 127.0.0.1:1 --scheme jwt --stages 1s:1 --rate 5", "one load model"),
            ("--target 127.0.0.1:1 --scheme jwt --stages 1s:1 --vus 5", "--stages"),
            ("--target 127.0.0.1:1 --scheme jwt --vus 0", "--vus"),
            ("--target 8.8.8.8:53 --scheme jwt --vus 1", "loopback"),
            ("http://127.0.0.1:1/api/me -c 1", "/healthz"),
            ("http://127.0.0.1:1 --target 127.0.0.1:1 -c 1", "once"),
            ("-c 1", "no target"),
            ("127.0.0.1:1 -c 1 -H nocolon", "-H"),
            ("127.0.0.1:1 -c 1 -H Host:x", "-H"),
            ("127.0.0.1:1 -c 1 --summary-export /nonexistent-dir/s.json", "--summary-export"),
            ("127.0.0.1:1 -c 1 --metrics-addr 0.0.0.0:9", "--metrics-addr"),
        ] {
            let e = config(line).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{line}");
            let text = e.to_string();
            assert!(text.contains(needle), "{line}: {text}");
            assert!(!text.contains('\n'), "one line: {text}");
        }
    }
}
