//! The result of one run, as `summary.json` holds it and [`crate::run`] returns it.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::record::{Endpoint, EndpointStats, ErrorKind};
use crate::stall::{Stall, StoppedAnswering};

/// Latency percentiles, µs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    /// Absent from summaries written before it was added.
    #[serde(default)]
    pub p95: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl Latency {
    /// None for an empty histogram.
    pub fn of(h: &Histogram<u64>) -> Option<Latency> {
        (!h.is_empty()).then(|| Latency {
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        })
    }
}

/// One endpoint over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSummary {
    /// Successful (2xx) requests; the latency histogram holds exactly these.
    pub count: u64,
    /// Failed requests, any kind.
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Non-2xx answers by status code ("503": 12).
    #[serde(default)]
    pub errors_by_status: BTreeMap<String, u64>,
    /// Requests sent and never answered: still waiting when the run ended.
    #[serde(default)]
    pub unfinished: u64,
    /// How long the oldest of them had waited when the run ended, ms.
    #[serde(default)]
    pub unfinished_max_age_ms: Option<f64>,
    /// (errors + unfinished) / (count + errors + unfinished): timeouts and unanswered requests
    /// count as failures.
    pub error_rate: f64,
    /// Successful requests per second of the run.
    pub rps: f64,
    /// Corrected in the open model (from the intended start); plain in the closed model.
    pub latency_us: Option<Latency>,
    /// Open model only: from the actual send, as an uncorrected tool would report.
    pub uncorrected_latency_us: Option<Latency>,
    pub bytes_sent_per_req: f64,
    pub bytes_received_per_req: f64,
    /// Mean bytes of the credential carried (Cookie / Authorization value; JWT refresh: the token).
    pub credential_bytes_per_req: Option<f64>,
}

impl EndpointSummary {
    pub fn of(s: &EndpointStats, duration_s: f64, open: bool) -> EndpointSummary {
        let attempts = s.attempts();
        let per = |x: u64| if attempts > 0 { x as f64 / attempts as f64 } else { 0.0 };
        EndpointSummary {
            count: s.count(),
            errors: s.error_count(),
            errors_by_kind: ErrorKind::ALL
                .iter()
                .filter(|k| s.errors[**k as usize] > 0)
                .map(|k| (k.as_str().to_owned(), s.errors[*k as usize]))
                .collect(),
            errors_by_status: s.statuses().map(|(code, n)| (code.to_string(), n)).collect(),
            unfinished: s.unfinished,
            unfinished_max_age_ms: (s.unfinished > 0).then(|| s.unfinished_max_age_us as f64 / 1000.0),
            error_rate: error_rate(s.count(), s.error_count(), s.unfinished),
            rps: if duration_s > 0.0 { s.count() as f64 / duration_s } else { 0.0 },
            latency_us: Latency::of(&s.latency),
            uncorrected_latency_us: if open { Latency::of(&s.uncorrected) } else { None },
            bytes_sent_per_req: per(s.bytes_sent),
            bytes_received_per_req: per(s.bytes_received),
            credential_bytes_per_req: (s.credentialed > 0)
                .then(|| s.credential_bytes as f64 / s.credentialed as f64),
        }
    }
}

/// One of a flow's authenticated requests over the whole run, by its `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedSummary {
    pub name: String,
    #[serde(flatten)]
    pub stats: EndpointSummary,
}

/// Failures over everything sent: (errors + unfinished) / (count + errors + unfinished).
pub fn error_rate(count: u64, errors: u64, unfinished: u64) -> f64 {
    let sent = count + errors + unfinished;
    if sent > 0 { (errors + unfinished) as f64 / sent as f64 } else { 0.0 }
}

/// All endpoints together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Total {
    pub count: u64,
    pub errors: u64,
    /// Requests still waiting for an answer when the run ended.
    #[serde(default)]
    pub unfinished: u64,
    #[serde(default)]
    pub unfinished_max_age_ms: Option<f64>,
    /// Counts timeouts (errors) and unfinished requests as failures.
    pub error_rate: f64,
    pub rps: f64,
    pub bytes_sent_per_req: f64,
    pub bytes_received_per_req: f64,
    /// All endpoints' latencies merged (what a bare threshold such as `p(95)<500` judges).
    #[serde(default)]
    pub latency_us: Option<Latency>,
}

/// Open model: how well the schedule was kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OpenStarts {
    /// Arrivals the schedule called for during the run.
    pub scheduled: u64,
    pub started: u64,
    /// Started more than 10 ms after their intended instant (still timed from it).
    pub late: u64,
    /// Due but never sent before the run ended (k6's `dropped_iterations`): each would have been
    /// timed from its intended instant, so they are as much part of the latency picture as the
    /// late ones. scheduled = started + dropped.
    pub dropped: u64,
    /// How long the oldest dropped arrival had been due when the run ended, ms.
    #[serde(default)]
    pub dropped_oldest_age_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServerCost {
    pub pid: Option<u32>,
    /// Server CPU time (user + system) per finished request, µs.
    pub cpu_us_per_req: Option<f64>,
    /// Server CPU time over the run, % of one core.
    pub cpu_percent: Option<f64>,
    pub rss_bytes_max: Option<u64>,
    pub rss_bytes_start: Option<u64>,
}

/// A load balancer in front of the server's replicas (`LoadConfig::proxy_pid`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProxyCost {
    pub pid: u32,
    /// Its CPU time (user + system) per finished request, µs.
    pub cpu_us_per_req: Option<f64>,
    /// Its CPU time over the run, % of one core.
    pub cpu_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RedisCost {
    /// redis-server CPU time (used_cpu_user + used_cpu_sys) per finished request, µs.
    pub cpu_us_per_req: Option<f64>,
    pub used_memory_max: Option<u64>,
    pub used_memory_start: Option<u64>,
    pub keys_max: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GeneratorCost {
    /// Generator CPU over the run, % of one core (cores × 100 is the ceiling).
    pub cpu_percent: f64,
    pub cores: usize,
    /// Worst lateness of a 10 ms timer on the generator's runtime, µs.
    pub max_lag_us: u64,
    /// Seconds in which lag exceeded 10 ms or CPU reached 90 % of the cores.
    pub saturated_seconds: u64,
    /// The generator may have been the bottleneck: read latencies and rates with care.
    pub saturated: bool,
}

/// What `summary.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scheme: String,
    pub model: String,
    pub target: String,
    /// Seconds from the load's start to its end (the open model's pool logins come before).
    pub duration_s: f64,
    /// Wall-clock start, seconds since the Unix epoch.
    pub started_at: f64,
    /// Most virtual users alive at once.
    pub vus_max: u64,
    /// Stopped by Ctrl-C / the caller before the planned end.
    pub interrupted: bool,
    /// The target stopped answering (went away, or went silent with requests outstanding).
    pub target_lost: bool,
    /// When and how it stopped answering, if it did.
    #[serde(default)]
    pub stopped_answering: Option<StoppedAnswering>,
    /// Every second or more with requests outstanding and no answer.
    #[serde(default)]
    pub stalls: Vec<Stall>,
    /// Keyed by endpoint; in JSON by its name (`"me"`), in name order.
    pub endpoints: BTreeMap<Endpoint, EndpointSummary>,
    /// A flow with several authenticated requests (`[[request]]`): each one by its name, in the
    /// flow's order; `me` adds them up. Absent for a flow with one (authbench's own schemes), and
    /// in a merged summary (`authbench merge` keeps `me`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<NamedSummary>,
    pub total: Total,
    pub open: Option<OpenStarts>,
    /// With replicas: `server` sums every replica's CPU and RSS.
    pub server: ServerCost,
    /// The load balancer in front of replicas, when one was sampled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyCost>,
    pub redis: RedisCost,
    pub generator: GeneratorCost,
    pub thresholds: Vec<Verdict>,
    /// `--abort-on-fail`: the threshold whose breach stopped the run early.
    #[serde(default)]
    pub aborted_by_threshold: Option<String>,
    /// `--agent I/N`: this run is one slice of a test (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<crate::agent::AgentRun>,
    /// Connects this generator's own limits refused: which limit stopped it (absent if none did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitHit>,
    /// How the generator reached the target: `h1`, `h2`, `h1-tls`, `h2-tls` (absent: `h1`, in
    /// summaries written before there was a choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// TLS handshakes the generator made and how many resumed a session (absent in clear text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsHandshakes>,
    /// Written by `authbench merge`: each agent's slice, generator cost and clock (absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentResult>,
}

/// The generator's TLS handshakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsHandshakes {
    pub full: u64,
    pub resumed: u64,
}

/// One agent's part of a merged result (`authbench merge`'s summary lists them in agent order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentResult {
    /// The folder it came from.
    pub dir: String,
    pub index: u64,
    pub target: String,
    pub users: Option<[u64; 2]>,
    /// Its load clock's start by its own wall clock, seconds since the Unix epoch.
    pub load_started_at: f64,
    /// How much later than the earliest agent's its load clock started, by each agent's own
    /// wall clock (a clock skew between hosts is in it too).
    pub clock_offset_s: f64,
    pub late_by_s: Option<f64>,
    /// Successful requests and failures it recorded.
    pub count: u64,
    pub errors: u64,
    pub generator: GeneratorCost,
}

/// The generator ran into a limit of its process or system while opening connections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitHit {
    /// The process's open-file limit (soft, raised to the hard limit at start).
    pub open_files_limit: u64,
    /// The test asked for more users than the process can connect: it held this many at most.
    pub capped_at: Option<u64>,
    /// Which limit capped it.
    pub capped_by: Option<String>,
    /// Connects refused with EMFILE/ENFILE: the open-file limit.
    pub connects_refused_open_files: u64,
    /// Connects refused with EADDRNOTAVAIL: no free ephemeral port for the source address.
    pub connects_refused_no_port: u64,
    /// Most virtual users alive at once.
    pub vus_max: u64,
}

/// A `--threshold` rule's verdict (judged in `threshold.rs`), as listed in the summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub threshold: String,
    /// The measured value in the rule's unit (µs for latencies, fraction for error_rate); None = no data.
    pub actual: Option<f64>,
    pub ok: bool,
}

/// Exit code of an interrupted run.
pub const EXIT_INTERRUPTED: i32 = authbench_util::process::exit::INTERRUPTED;
/// Exit code of a run with a violated threshold.
pub const EXIT_THRESHOLDS: i32 = authbench_util::process::exit::THRESHOLDS;
/// Exit code of a run whose target died.
pub const EXIT_TARGET_LOST: i32 = authbench_util::process::exit::FAILED;

impl Summary {
    /// One endpoint's figures, if the run called it.
    pub fn endpoint(&self, e: Endpoint) -> Option<&EndpointSummary> {
        self.endpoints.get(&e)
    }

    /// The endpoint the load was about: `/api/me`, or `/healthz` in a run without credentials.
    pub fn main(&self) -> Option<&EndpointSummary> {
        self.endpoint(Endpoint::Me).or_else(|| self.endpoint(Endpoint::Healthz))
    }

    /// Requests that failed, those left unanswered at the end included (they fail like
    /// timeouts, as in [`error_rate`]).
    pub fn failed(&self) -> u64 {
        self.total.errors + self.total.unfinished
    }

    /// Violated thresholds.
    pub fn failed_thresholds(&self) -> impl Iterator<Item = &Verdict> {
        self.thresholds.iter().filter(|v| !v.ok)
    }

    /// 130 interrupted, 1 target lost, 99 a threshold violated, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            EXIT_INTERRUPTED
        } else if self.target_lost {
            EXIT_TARGET_LOST
        } else if self.aborted_by_threshold.is_some() || self.failed_thresholds().next().is_some() {
            EXIT_THRESHOLDS
        } else {
            0
        }
    }
}
