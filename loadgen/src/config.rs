//! The validated [`LoadConfig`] a run uses (from [`crate::args::LoadArgs`] on the command line,
//! or built directly by a library caller such as `compare`), and an agent's slice of a test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::agent::{Agent, Definition};
use crate::error::Result;
use crate::mix::Mix;
use crate::ramp::LoadModel;
use crate::scheme::Scheme;
use crate::threshold::Threshold;

/// A validated load run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub target: SocketAddr,
    /// Clear text or TLS, HTTP/1.1 or HTTP/2, and how connections are used.
    pub transport: crate::transport::Transport,
    /// None: `GET /healthz` without login.
    pub scheme: Option<Scheme>,
    pub model: LoadModel,
    pub think: Duration,
    pub mix: Mix,
    pub out_dir: Option<PathBuf>,
    pub server_pid: Option<u32>,
    /// Further server processes behind a load balancer (replicas of `server_pid`): their CPU and
    /// RSS are summed with `server_pid`'s.
    pub replica_pids: Vec<u32>,
    /// A load balancer in front of the replicas: its CPU is reported apart (`Summary::proxy`).
    pub proxy_pid: Option<u32>,
    /// Redis to sample with INFO: one URL, or a comma list of a Redis Cluster's nodes (summed).
    pub redis_url: Option<String>,
    pub thresholds: Vec<Threshold>,
    pub timeout: Duration,
    pub first_user: u64,
    pub progress: bool,
    /// Open model only: send each arrival's `/api/me` with a credential drawn uniformly from this
    /// pool instead of the pool users' own logins (none of them logs in). Library use only.
    pub credentials: Option<std::sync::Arc<crate::credentials::CredentialPool>>,
    /// Stop at the first broken threshold (`--abort-on-fail`).
    pub abort_on_fail: bool,
    /// Extra headers sent on every request (`-H`).
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// Where `--summary-export` writes the summary JSON.
    pub summary_export: Option<PathBuf>,
    /// `--json`: the summary as JSON on stdout, the human summary on stderr.
    pub json: bool,
    /// `--metrics-addr`: serve Prometheus metrics of the run there.
    pub metrics_addr: Option<SocketAddr>,
    /// `--agent I/N`: `model` is this agent's slice, its users follow the earlier agents'.
    pub agent: Option<AgentSlice>,
    /// `--start-at`: the load's clock starts at this wall-clock instant.
    pub start_at: Option<std::time::SystemTime>,
    /// Before the run, log one user in through the flow, use and end its credential, and stop
    /// with the answer (secrets redacted) if that does not work (`authbench load`); a library
    /// caller that has checked its server (compare) leaves it off.
    pub preflight_login: bool,
}

/// An agent's slice of a test (see [`crate::agent`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSlice {
    pub agent: Agent,
    /// The whole test, as every agent has it.
    pub test: Definition,
    /// Users of the agents before this one: its virtual user i is user{first_user + offset + i}.
    pub user_offset: u64,
}

/// Largest number of virtual users accepted (each holds one socket).
pub const MAX_VUS: u64 = 1_000_000;

impl LoadConfig {
    /// A run with defaults: no think time, the default mix, 10 s timeout, no outputs, no sampling.
    pub fn new(target: SocketAddr, scheme: Option<Scheme>, model: LoadModel) -> LoadConfig {
        LoadConfig {
            target,
            transport: Default::default(),
            scheme,
            model,
            think: Duration::ZERO,
            mix: Mix::default(),
            out_dir: None,
            server_pid: None,
            replica_pids: Vec::new(),
            proxy_pid: None,
            redis_url: None,
            thresholds: Vec::new(),
            timeout: Duration::from_secs(10),
            first_user: 1,
            progress: false,
            credentials: None,
            abort_on_fail: false,
            headers: Vec::new(),
            summary_export: None,
            json: false,
            metrics_addr: None,
            agent: None,
            start_at: None,
            preflight_login: false,
        }
    }

    /// A run against a service's base `url` (loopback unless `allow_remote`, as `load`'s URL):
    /// `https://` by host name against the system's CA store, or only `ca` when given (`--ca`);
    /// `Host` and SNI the URL's name, or `host` when given (`--host`).
    pub fn at_url(
        url: &str,
        allow_remote: bool,
        (host, ca): (Option<&str>, Option<&std::path::Path>),
        scheme: Option<Scheme>,
        model: LoadModel,
    ) -> Result<LoadConfig> {
        use crate::target::{host_name, is_https, parse_url_with, tls_and_authority, url_host_name};
        let target = parse_url_with(url, allow_remote)?;
        let name = match host {
            Some(h) => Some(host_name(h)?),
            None => url_host_name(url),
        };
        let (tls, authority) = tls_and_authority(target, is_https(url), name.as_deref(), ca, false, true)?;
        let mut c = LoadConfig::new(target, scheme, model);
        c.transport = crate::transport::Transport { tls, authority, ..Default::default() };
        Ok(c)
    }

    /// Make this run agent `agent`'s slice of the test it describes (see [`crate::agent`]):
    /// cut the model, place the users, and stop sampling the server and Redis unless agent 1.
    pub fn slice(&mut self, agent: Agent) -> Result<()> {
        let test = Definition {
            scheme: self.scheme_name().to_owned(),
            model: self.model.clone(),
            think_ms: self.think.as_secs_f64() * 1e3,
            mix: self.mix,
            first_user: self.first_user,
            agents: agent.count,
            start_at: self.start_at.map(crate::agent::epoch_s),
            thresholds: self.thresholds.iter().map(|t| t.expr.clone()).collect(),
        };
        let (model, user_offset) = agent.slice(&self.model)?;
        self.model = model;
        if !agent.samples() {
            self.server_pid = None;
            self.redis_url = None;
        }
        self.agent = Some(AgentSlice { agent, test, user_offset });
        Ok(())
    }

    /// The scheme's name as reported: `none` for the healthz baseline.
    pub fn scheme_name(&self) -> &str {
        self.scheme.as_ref().map_or("none", |s| &s.name)
    }
}
