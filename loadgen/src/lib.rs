//! The load generator: virtual users with real auth flows, closed and open load models,
//! coordinated-omission-corrected latency, and the server's and Redis's cost per request.
//!
//! Layout (one concept per module):
//! - [`agent`]: `--agent I/N` — one of N disjoint slices of a test — and `--start-at`.
//! - [`args`]: `authbench load`'s command line ([`LoadArgs`]): target, URL and header parsers, and
//!   the validation of every option into a typed [`LoadConfig`].
//! - [`target`]: the URL or `--target` (loopback unless `--allow-remote`), the host name it is
//!   known by (`Host`, SNI; `--host`), `-H` headers.
//! - [`config`]: the validated [`LoadConfig`] a run uses, and an agent's slice of a test.
//! - [`scheme`]: the [`Scheme`] under load — a name and the [`Flow`] its users run.
//! - [`flow`]: a service's auth API as a flow: login, credential extraction (cookies or a JSON
//!   field), the authenticated requests, refresh, logout, "refused", CSRF — from a TOML file
//!   (`--flow`) or built in (`loadgen/flows/`: authbench's own schemes, on the same path).
//! - [`ramp`]: [`LoadModel`] — closed (`--vus`, `--stages`) or open (`--rate`, `--rate-stages`);
//!   [`ramp::Ramp`] interpolates targets and schedules open-model arrivals exactly.
//! - [`credentials`]: a pool of ready credentials the open model draws from uniformly.
//! - [`mix`]: `--mix me=98,refresh=1,logout=1` and the per-user random draw.
//! - [`vu`]: one virtual user — login, authenticated requests, refresh, logout — on one loop; its
//!   flow's requests in `vu/steps.rs`.
//! - [`pace`]: closed or open pacing, retiring and quitting, an open-model user's arrivals.
//! - [`workers`]: one single-threaded runtime per core; each user lives on one of them.
//! - [`client`]: its hyper connection (HTTP/1.1 of its own, or a share of an HTTP/2 one), timeout,
//!   and the run's shared HTTP/2 connections.
//! - [`transport`]: clear text or TLS (rustls), HTTP/1.1 or HTTP/2, `--streams`, resumption,
//!   `--new-connection-per-login`.
//! - [`sequence`]: `/api/me` request by request on one connection, each one's bytes at the socket
//!   (what HPACK leaves of a credential on requests 1, 2, 100), and the encoders' indexing policies.
//! - [`wire`]: bytes counted at the socket, below TLS, and the IO a connection runs over.
//! - [`quiet`]: the waker that notes a connection's self-wakes instead of rescheduling.
//! - [`failure`]: [`failure::ErrorKind`], why a request failed, classified from types.
//! - [`inflight`]: each user's request in flight, for the in-flight count and oldest age.
//! - [`record`]: per-shard HdrHistograms and error counts, drained once a second; unfinished
//!   requests and dropped arrivals.
//! - [`sample`]: `/proc/PID` (server CPU, RSS), Redis `INFO`, the generator's own CPU and lag.
//! - [`preflight`]: before a run: the target, `--server-pid`, Redis, and a flow's login (its
//!   answer shown, secrets redacted, when it does not yield the credential).
//! - [`revocation`]: `authbench probe revocation`: a copied credential polled after logout, on a
//!   flow's service; logout-all and a replayed refresh credential.
//! - [`load`]: one run — the model's driver, the collector's clock; [`run`].
//! - [`capacity`]: how many connections this process can hold and which limit says so.
//! - [`collect`]: the per-second collector: rows, cost samples, the stall watch, the summary; it
//!   hands each second to the sinks.
//! - [`stall`]: silences with requests outstanding, and "the target stopped answering".
//! - [`row`]: one second of the run as `timeseries.csv` holds it.
//! - [`sink`]: where each closed second and the summary go ([`sink::Sink`]: `--out`'s files, the
//!   progress line, `--metrics-addr`), k6's output model.
//! - [`output`]: `timeseries.csv`, `summary.json`/`.csv` writers over `impl Write`, and the files.
//! - [`hlog`]: HdrHistogram interval logs (`.hlog`), written and read.
//! - [`text`]: the summary printed on stdout.
//! - [`metrics`]: `--metrics-addr`, the Prometheus exposition built from the per-second snapshots.
//! - [`summary`]: the [`Summary`] a run returns and writes.
//! - [`recorded`]: [`Recorded`], the per-second rows and whole-run histograms a run also hands
//!   back in memory ([`run_recorded`]).
//! - [`threshold`]: `--threshold me.p99<10ms` rules and their verdicts.
//! - [`progress`]: the live progress line.
//! - [`merge`]: `authbench merge OUT DIR…` — agents' folders joined on one clock into one load
//!   folder, the summary recomputed from the merged histograms.
//! - [`command`]: `authbench load` and `authbench merge` as processes (printing, exit code).
//! - [`error`]: the crate's [`Error`] enum; per-request failures are [`record::ErrorKind`].
//!
//! What the generator and a server must agree on is a flow: for authbench's own servers the
//! built-in flows, which say what `authbench_contract` says (a test checks their paths and bodies
//! against it); the generator does not depend on the servers.
//!
//! Library use (e.g. by `compare`): build a [`LoadConfig`] (`LoadConfig::new(addr, scheme, model)`
//! with `scheme: Option<Scheme>`, then set fields; `progress: false` to draw your own), then
//! `run(config, CancellationToken).await -> Result<Summary, Error>` inside a multi-threaded
//! tokio runtime, as many times as needed.
//!
//! Imports go one way (`tests/layout.rs` checks it): `command` → `load`, `merge` → `collect` →
//! `output`, `progress` → `sink` → `metrics`, `row` → `text`, `threshold`, `hlog` → `summary` →
//! `agent`, `record`, `stall`; `revocation`, `load` → `preflight`, `vu` → `pace`, `sequence` → `client` → `wire`, `quiet`, `transport`; `credentials` → `scheme` → `flow`,
//! `mix`, `ramp`; every module → `error`, `failure`.
//!
//! # The face
//! The modules are private; what other crates use is named here:
//! - run entry points: [`run`], [`run_recorded`], [`run_command`] and [`LoadArgs`] (`load`),
//!   [`merge()`], [`run_merge_command`] and [`MergeArgs`] (`merge`);
//! - what a run is given: [`LoadConfig`] with [`LoadModel`], [`Ramp`], [`Stage`], [`Mix`],
//!   [`Scheme`] (a [`Flow`]: [`Flow::load`] reads a file), [`Threshold`], [`Agent`], a prebuilt
//!   [`CredentialPool`] ([`CredentialsBuilder`]), and a [`CancellationToken`];
//! - a flow for a client of its own (the revocation probe): [`Prepared`] requests, the [`Held`]
//!   credential a [`Step`]'s answer gives (or what it was [`Missing`]), [`shown_answer`] (an answer
//!   with its secrets redacted), [`BUILTIN_SCHEMES`];
//! - the revocation probe as a library call (`compare --target`): [`probe_revocation`] with
//!   [`ProbeArgs`], what it [`RevocationFound`];
//! - what it returns: [`Summary`] (with [`EndpointSummary`], [`Latency`], [`Cause`]), keyed by
//!   [`Endpoint`], and [`Recorded`] (its per-second [`Row`]s and whole-run histograms);
//! - the output readers: [`run_file`] (the file names), [`read_timeseries`], [`read_hlog`],
//!   [`read_hlog_intervals`], and the writers they mirror ([`timeseries_header`], [`write_row`],
//!   [`write_text_summary`]); [`new_histogram`], the histograms' bounds;
//! - the process and Redis samplers compare reuses between runs: [`read_proc`], [`read_procs`],
//!   [`ProcSample`] (CPU read in ns, checked against ticks: `ProcSample::cpu_since`), [`parse_info`]
//!   and [`RedisSample`].

mod agent;
mod args;
mod capacity;
mod client;
mod collect;
mod command;
mod config;
mod credentials;
mod error;
mod failure;
mod flow;
mod hlog;
mod inflight;
mod load;
mod merge;
mod metrics;
mod mix;
mod output;
mod pace;
mod preflight;
mod progress;
mod quiet;
mod ramp;
mod record;
mod recorded;
mod revocation;
mod row;
mod sample;
mod scheme;
mod sequence;
mod sink;
mod stall;
mod summary;
mod target;
mod text;
mod threshold;
mod transport;
mod vu;
mod wire;
mod workers;

pub use agent::Agent;
pub use args::LoadArgs;
pub use command::{run_command, run_merge_command};
pub use config::LoadConfig;
pub use credentials::{CredentialPool, CredentialsBuilder};
pub use error::Error;
pub use flow::builtin::SCHEMES as BUILTIN_SCHEMES;
pub use flow::extract::{Held, Missing};
pub use flow::shown::answer as shown_answer;
pub use flow::{Flow, Origin, Prepared, Step};
pub use load::{run, run_recorded};
pub use merge::{MergeArgs, merge};
pub use mix::Mix;
pub use output::file as run_file;
pub use output::{read_hlog, read_hlog_intervals, read_timeseries, timeseries_header, write_row};
pub use ramp::{LoadModel, Ramp, Stage};
pub use record::{Endpoint, new_histogram};
pub use recorded::Recorded;
pub use revocation::{Found as RevocationFound, ProbeArgs, probe as probe_revocation, run_probe_command};
pub use row::{EndpointRow, Row};
pub use sample::{ProcSample, RedisSample, parse_info, read_proc, read_procs};
pub use scheme::Scheme;
pub use sequence::{WireBytes, me_sequence};
pub use stall::Cause;
pub use summary::{EndpointSummary, Latency, NamedSummary, Summary, TlsHandshakes};
pub use text::write_text_summary;
pub use threshold::Threshold;
pub use tokio_util::sync::CancellationToken;
pub use transport::{Tls, Transport, server_name, tls_config};
