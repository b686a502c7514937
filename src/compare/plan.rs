//! `authbench compare` options and the resolved plan (defaults differ for `--quick`); [`logout`]
//! the plan of memory against logout rate; [`validate`] the validation phase's workload.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_loadgen::Ramp;
use authbench_procs::redis_server::Persistence;
use authbench_servers::SchemeKind;
use authbench_util::affinity::Cpus;
use authbench_util::parse::{parse_count, parse_duration};
use clap::Args;

use super::open_model::SaturationPlan;
use super::state_store::{StoreKind, StorePlan};
use logout::{LogoutMemoryPlan, keeps_revocation_entries};
use validate::{ValidateFlags, ValidateMode, ValidationPlan};

pub mod logout;
pub mod validate;

/// `--schemes`: the schemes named, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeList(pub Vec<SchemeKind>);

/// A comma list of scheme names, `all` for [`SchemeKind::ALL`], or `none` (only `--target`s).
pub fn parse_schemes(s: &str) -> Result<SchemeList, String> {
    use clap::ValueEnum;
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(SchemeList(SchemeKind::ALL.to_vec()));
    }
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(SchemeList(Vec::new()));
    }
    let names = SchemeKind::ALL.map(|k| k.as_str()).join(", ");
    s.split(',')
        .map(|name| {
            SchemeKind::from_str(name.trim(), false).map_err(|_| {
                format!("unknown scheme `{}` (expected {names}, all, or none with --target)", name.trim())
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(SchemeList)
}

/// Options of `authbench compare`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "The whole experiment: every scheme, ramps, session-scaling sweep, revocation; CSV, plots, report",
    after_help = "Examples:\n  authbench compare --quick                      # < 4 min smoke run of every scheme\n  authbench compare --quick --schemes cookie,session,jwt   # < 2 min: the three originals\n  authbench compare                              # full run, every scheme, 3 repeats, < 33 min; each phase timed (phases.csv)\n  authbench compare --schemes session,jwt --sessions 0,100k,1m --repeat 5\n  authbench compare --quick --schemes jwt --target mine=http://127.0.0.1:8000,flow=mine.toml,pid=4242\n  authbench compare --quick --schemes none --target web=http://127.0.0.1:5000,flow=web.toml   # your service alone\n  authbench report results/2026-11-27T10-00-00   # rebuild plots and report from the CSVs"
)]
pub struct CompareArgs {
    /// Schemes to compare, run in a random (seeded, recorded) order each repeat: a comma list of
    /// scheme names (`authbench serve --help` lists them), or `all` for every one of them (the
    /// default; with `--store cluster`, every scheme that can keep its state on a cluster). Cookie
    /// and the JWT variants skip the session-scaling sweep: they keep no per-user state, so it
    /// could not differ from jwt's (the report says so). `none`: only the `--target`s.
    #[arg(long, value_parser = parse_schemes)]
    pub schemes: Option<SchemeList>,

    /// A service of yours beside (or, with `--schemes none`, instead of) the built-in schemes:
    /// `NAME=URL,flow=FILE[,pid=PID][,redis=URL][,host=NAME][,ca=FILE]`, repeatable; FILE is a
    /// flow (docs/flows.md). Run against it, its rows named NAME, after the built-in schemes: the
    /// ramp (--stages, the flow's mix; ramp.csv), the knee search starting near the ramp's peak
    /// (saturation.csv), CPU against load at shares of its maximum (cpu_vs_load.csv), the
    /// fixed-rate run at --spectrum-rate (percentile spectrum, credentials.csv) and the
    /// revocation probe (revocation.csv). The phases that need authbench's own server or Redis
    /// are not run; environment.json (`targets`) and the report list them with the reason.
    /// Server CPU is measured only with pid= (a local process), store memory only with redis=
    /// (read with INFO, never written or flushed); otherwise "not measured". host= is the name
    /// the service is known by (Host, SNI; as `load --host`), ca= the CA to trust for https://
    /// (as `load --ca`).
    #[arg(long = "target", value_name = "NAME=URL,flow=FILE,...", value_parser = super::foreign::target::parse_target)]
    pub targets: Vec<super::foreign::target::Target>,

    /// Allow a --target URL off loopback (as `authbench load --allow-remote`).
    #[arg(long)]
    pub allow_remote: bool,

    /// Ramp of concurrent virtual users, `DURATION:TARGET,...` linear between targets (k6 style).
    /// Default `8s:400,3s:400` (`--quick`: `2s:200`).
    #[arg(long)]
    pub stages: Option<String>,

    /// Think time of each virtual user between requests in the ramp.
    #[arg(long, default_value = "10ms", value_parser = parse_duration)]
    pub think: Duration,

    /// Stored-session levels of the session-scaling sweep, one session per distinct user (the
    /// servers know as many users as the largest level). Default `0,10k,100k,1m` (`--quick`:
    /// `0,10k`); up to `10m` where memory allows, else refused before anything starts.
    #[arg(long, value_delimiter = ',', value_parser = parse_count)]
    pub sessions: Option<Vec<u64>>,

    /// Arrival rate (requests/s of `/api/me`) at each sweep level: open model, so latency is
    /// coordinated-omission corrected; `2000`, `2k`, `1.5k`. Default 2000 (`--quick`: 1000).
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,

    /// Repeats of every scheme, for 95% confidence intervals. Default 3 (`--quick`: 1).
    #[arg(long)]
    pub repeat: Option<u32>,

    /// Output directory. Default `results/<UTC date-time>`.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Smoke run: fewer levels, shorter phases, one repeat; finishes in under 4 minutes for every
    /// scheme, under 2 for the three originals.
    #[arg(long)]
    pub quick: bool,

    /// Use this Redis instead of starting a private redis-server. Keys go under a per-run prefix
    /// and only those are deleted; nothing is flushed.
    #[arg(long, env = "AUTHBENCH_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Where the schemes with state keep it: `redis` (one redis-server) or `cluster` (a Redis
    /// Cluster of 3 primaries + 3 replicas started for the run and torn down after, or the one
    /// named by --redis-cluster-url). On a cluster the report adds keys and memory per shard,
    /// and Redis CPU per request is summed over every node. jwt-revocable cannot run on a
    /// cluster (its logout script spans slots).
    #[arg(long, value_enum, default_value = "redis")]
    pub store: StoreKind,

    /// With --store cluster: use this existing Redis Cluster (seed nodes `URL[,URL…]`) instead of
    /// starting one. Keys go under a per-run prefix and only those are deleted; nothing is flushed.
    #[arg(long, env = "AUTHBENCH_REDIS_CLUSTER_URL")]
    pub redis_cluster_url: Option<String>,

    /// Persistence of the private redis-server compare starts: none (in memory only) or aof
    /// (appendonly yes, appendfsync everysec, in its own directory: a crash of the Redis process
    /// loses nothing it answered, an OS crash up to the last second). Not with --redis-url or
    /// --store cluster.
    #[arg(long, value_enum, default_value = "none")]
    pub redis_persistence: Persistence,

    /// Server processes per scheme: with N > 1 they run behind a private HAProxy (Debian's
    /// `haproxy`: round robin, no stickiness, on a free loopback port, stopped afterwards), each
    /// capped to cores ÷ N worker threads so N × workers ≤ cores: on one machine this measures
    /// the overhead of replication, not scale-out. The checks prove a credential issued by one
    /// replica works on another and a logout through one holds on the others; HAProxy's CPU per
    /// request is reported as its own part.
    #[arg(long, default_value = "1")]
    pub replicas: u32,

    /// Round-trip times to put between the servers and the store, each through an `authbench
    /// delay-proxy` before Redis (before each node of a Cluster compare started, which announces
    /// its proxy): `/api/me` of session, session-cached, session-tracked, jwt-revocable and jwt is
    /// run at --rate at each, every repeat, and the revocation windows are probed again at each
    /// non-zero one. `0` goes through the proxy without delay (its cost is in every arm); `none`
    /// skips the phase. Default `0,250us,1ms` (`--quick`: `0,1ms`).
    #[arg(long, value_parser = parse_rtts)]
    pub store_rtt: Option<RttList>,

    /// Transports each scheme's `/api/me` is measured over, every repeat, on a server of its own:
    /// h1, h2 (h2c, prior knowledge), h1-tls, h2-tls (`serve --tls`, ALPN); `all` for the four,
    /// `none` to skip. Each: CPU per request at one offered rate, p50/p99, bytes per request at
    /// the socket, a login's CPU on a new connection (TLS: its handshake), the credential's
    /// bytes on requests 1, 2 and 100 of a connection. Default `h1,h2-tls`.
    #[arg(long, value_parser = parse_transports)]
    pub transport: Option<TransportList>,

    /// Seed of the scheme order (default: from the clock; recorded in environment.json).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Request rate per user for the capacity projection (requests/s per user).
    #[arg(long, default_value = "0.1")]
    pub rate_per_user: f64,

    /// No progress bar (logs one line per phase instead).
    #[arg(long)]
    pub no_progress: bool,

    /// Latency SLO of the saturation search: the knee is the first offered rate at which the
    /// corrected p99 of `/api/me` exceeds it (or achieved < 95% of offered, or a request fails).
    #[arg(long, default_value = "10ms", value_parser = parse_duration)]
    pub slo_p99: Duration,

    /// Share of its maximum sustainable throughput a server is assumed to run at, `60%` or `0.6`:
    /// CPU per request is measured at that load and the capacity projection sizes with it.
    #[arg(long, default_value = "60%", value_parser = parse_share)]
    pub utilization: f64,

    /// Arrival rate (requests/s of `/api/me`) of the percentile-spectrum run, the same for every
    /// scheme. Default 10000.
    #[arg(long)]
    pub spectrum_rate: Option<f64>,

    /// jwt-revocable, jwt-pubsub: paced logout rates (logouts/s) at which Redis memory is
    /// measured, rising, each held 6 s (`--quick`: 2 s). Default `25,250` (`--quick`: `100`).
    #[arg(long, value_delimiter = ',', value_parser = parse_rate)]
    pub logout_rates: Option<Vec<f64>>,

    /// How long each of --logout-rates is held. Default 6s, the entries' longest lifetime, so
    /// memory reaches its plateau (`--quick`: 2s, still rising).
    #[arg(long, value_parser = parse_duration)]
    pub logout_hold: Option<Duration>,

    /// Users of the cached schemes' hit-ratio phase: each gets a session, and every arrival draws
    /// one uniformly at a total rate of users × --rate-per-user (20,000 × 0.1 = 2,000 req/s), so
    /// each user sends about a Poisson stream at the per-user rate (`hit_ratio.csv`).
    #[arg(long, default_value = "20k", value_parser = parse_count)]
    pub hit_users: u64,

    /// Session levels at which Redis bytes per stored session are measured, once per run, on a
    /// private redis-server of its own (`store_bytes.csv`: bytes per session between levels, with
    /// the main hash table's buckets, so a resize shows). Default `1m,2m,4m,7m,10m` (`--quick`:
    /// `50k,100k`); skipped, with the reason, where MemAvailable cannot hold the largest.
    #[arg(long, value_delimiter = ',', value_parser = parse_count)]
    pub memory_levels: Option<Vec<u64>>,

    /// Share of one core Redis is driven to, directly with each lookup the run's schemes make
    /// (`GETEX`, `MGET` of three keys, `GET`+`PTTL`) over the sweep's largest key space, to read
    /// Redis's CPU per lookup at the load a shard runs at (`redis_direct.csv`; the capacity
    /// answer's Redis utilisation). `60%` or `0.6`.
    #[arg(long, default_value = "60%", value_parser = parse_share)]
    pub redis_utilization: f64,

    /// CPU pinning: `auto` runs the load generator (this process, every thread of it) on the first
    /// CPU this process may use and every server, redis-server and HAProxy on the others, each
    /// pinned before its exec so that every thread it starts inherits it; so generator and server
    /// stop taking each other's cycles in the middle of a measurement window. On a machine with
    /// one CPU `auto` pins nothing, nor with more --replicas than CPUs left for the servers.
    /// `off`: the scheduler places them (the reference runs before issue 21). Recorded in
    /// environment.json.
    #[arg(long, value_enum, default_value = "auto")]
    pub pin: PinMode,

    /// The validation phase, the run's last: the capacity answer computed from this run's own
    /// rows for a workload this machine holds, then that workload run against a fresh server per
    /// scheme (session, jwt, session-cached, session-tracked), predicted against measured
    /// (`validation.csv`). `on` (the default run) or `none`; under `--quick` it runs only with
    /// `on` or a --validate-* workload flag.
    #[arg(long, value_enum)]
    pub validate: Option<ValidateMode>,

    /// Validation: stored sessions (users), preloaded in the real key layout. Default 200k.
    #[arg(long, value_parser = parse_count)]
    pub validate_users: Option<u64>,

    /// Validation: active users among them, each drawn uniformly by the open model. Default: as
    /// many at --validate-rate as put each scheme at --utilization of its maximum in this run
    /// (where the answer's inputs were measured); given, with --validate-rate, it fixes the load.
    #[arg(long, value_parser = parse_count)]
    pub validate_active: Option<u64>,

    /// Validation: requests/s per active user. Default 0.1 (the answer's default workload).
    #[arg(long)]
    pub validate_rate: Option<f64>,

    /// Validation: the measured window, after a warm-up of three cache TTLs. Default 15s.
    #[arg(long, value_parser = parse_duration)]
    pub validate_window: Option<Duration>,
}

/// `--pin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PinMode {
    Auto,
    Off,
}

/// Where the generator and the measured processes run (`--pin auto` with 2 or more CPUs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinning {
    /// compare itself: the load generator and every harness probe.
    pub generator: Cpus,
    /// Every child: servers, redis-server(s), HAProxy.
    pub servers: Cpus,
}

impl Pinning {
    /// `auto` over the CPUs `available` to this process: the first for the generator, the rest for
    /// the servers and Redis; `None` for `off`, a single CPU, or fewer CPUs left for the servers
    /// than `replicas` (each replica needs a core of its own: `--replicas` measures replication's
    /// overhead on every core, as before).
    pub fn plan(mode: PinMode, available: &Cpus, replicas: u32) -> Option<Pinning> {
        let cpus = available.as_slice();
        match mode {
            PinMode::Off => None,
            PinMode::Auto if cpus.len() < 2 || cpus.len() - 1 < replicas as usize => None,
            PinMode::Auto => Some(Pinning { generator: Cpus::of(&cpus[..1]), servers: Cpus::of(&cpus[1..]) }),
        }
    }

    /// Pin this process (every thread: the generator's runtimes start later and inherit it) and
    /// every child started from now on.
    pub fn apply(&self) -> std::io::Result<()> {
        authbench_util::affinity::pin_process(&self.generator)?;
        authbench_procs::child::pin_children(Some(self.servers.clone()));
        Ok(())
    }

    /// For environment.json and the report's method.
    pub fn describe(&self) -> String {
        format!(
            "load generator (compare, every thread) on CPU {}; every server, redis-server and HAProxy on CPU {} \
             (sched_setaffinity before exec)",
            self.generator.to_list(),
            self.servers.to_list()
        )
    }
}

/// The schemes whose latency the store-RTT phase sets against the store's RTT: the session
/// family, the JWT with a store lookup, and jwt as the control that makes none.
pub const RTT_SCHEMES: [SchemeKind; 5] = [
    SchemeKind::Session,
    SchemeKind::SessionCached,
    SchemeKind::SessionTracked,
    SchemeKind::JwtRevocable,
    SchemeKind::Jwt,
];

/// One way the generator reaches a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TransportKind {
    H1,
    H2,
    H1Tls,
    H2Tls,
}

impl TransportKind {
    pub const ALL: [TransportKind; 4] =
        [TransportKind::H1, TransportKind::H2, TransportKind::H1Tls, TransportKind::H2Tls];

    pub fn name(self) -> &'static str {
        match self {
            TransportKind::H1 => "h1",
            TransportKind::H2 => "h2",
            TransportKind::H1Tls => "h1-tls",
            TransportKind::H2Tls => "h2-tls",
        }
    }

    pub fn tls(self) -> bool {
        matches!(self, TransportKind::H1Tls | TransportKind::H2Tls)
    }

    pub fn http2(self) -> bool {
        matches!(self, TransportKind::H2 | TransportKind::H2Tls)
    }
}

/// `--transport`: the transports, in the order h1, h2, h1-tls, h2-tls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportList(pub Vec<TransportKind>);

/// `h1,h2-tls`, `all` or `none`.
pub fn parse_transports(s: &str) -> Result<TransportList, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "all" => return Ok(TransportList(TransportKind::ALL.to_vec())),
        "none" => return Ok(TransportList(Vec::new())),
        _ => {}
    }
    let mut v = s
        .split(',')
        .map(|t| {
            TransportKind::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(t.trim())).ok_or_else(
                || format!("unknown transport `{}` (h1, h2, h1-tls, h2-tls, all or none)", t.trim()),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    v.sort_unstable();
    v.dedup();
    Ok(TransportList(v))
}

/// `--store-rtt`: round-trip times, ascending, no repeats; empty for `none`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RttList(pub Vec<Duration>);

/// `0,250us,1ms` → the durations (at most 10 ms each: a hop, not an outage); `none` → empty.
pub fn parse_rtts(s: &str) -> Result<RttList, String> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(RttList(Vec::new()));
    }
    let mut v = s
        .split(',')
        .map(|t| match t.trim() {
            "0" => Ok(Duration::ZERO),
            t => parse_duration(t),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(big) = v.iter().find(|d| **d > Duration::from_millis(10)) {
        return Err(format!("--store-rtt {big:?}: at most 10ms (a network hop, not an outage)"));
    }
    v.sort_unstable();
    v.dedup();
    Ok(RttList(v))
}

/// `60%` or `0.6` → 0.6; must lie in (0, 1].
pub fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("`{s}` is not a share; expected e.g. 60% or 0.6"))?;
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(format!("`{s}` must lie between 0% and 100%"))
    }
}

/// An arrival rate in requests/s: a number with an optional `k` (thousands) or `m` (millions)
/// suffix, as `load --rate 5k` takes; fractions allowed (`1.5k`, `0.5`).
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim().to_ascii_lowercase().replace('_', "");
    let (number, mult) = match t.as_bytes().last() {
        Some(b'k') => (&t[..t.len() - 1], 1e3),
        Some(b'm') => (&t[..t.len() - 1], 1e6),
        _ => (&t[..], 1.0),
    };
    number
        .parse::<f64>()
        .ok()
        .map(|n| n * mult)
        .filter(|r| r.is_finite())
        .ok_or_else(|| format!("`{s}` is not a rate like 2000, 2k or 1.5k (requests/s)"))
}

/// Everything a comparison run needs, with defaults applied and inputs validated.
#[derive(Debug, Clone)]
pub struct Plan {
    pub schemes: Vec<SchemeKind>,
    /// `--target`s, checked (flow loads, URL allowed) before anything starts.
    pub targets: Vec<super::foreign::target::Target>,
    pub allow_remote: bool,
    pub stages: Ramp,
    pub stages_text: String,
    pub think: Duration,
    pub levels: Vec<u64>,
    pub rate: f64,
    pub repeat: u32,
    pub out: PathBuf,
    pub quick: bool,
    /// One Redis or a cluster, private or existing.
    pub store: StorePlan,
    /// The private redis-server's persistence.
    pub persistence: Persistence,
    /// Server processes per scheme (behind HAProxy when more than one).
    pub replicas: u32,
    /// Worker threads of each replica when `replicas > 1` (cores ÷ replicas); `None`: the
    /// server's default (one per core).
    pub workers: Option<usize>,
    pub seed: u64,
    pub rate_per_user: f64,
    pub progress: bool,
    /// Users the servers know: the largest sweep level (one session per user), at least the ramp's.
    pub users: u64,
    /// Connections of the warm-up and the sweep's logged-in pool.
    pub steady_vus: u64,
    pub warmup: Duration,
    pub sweep: Duration,
    /// TTL of the servers of the revocation phase.
    pub revocation_ttl: Duration,
    /// `--store-rtt`, ascending (empty: no store-RTT phase), the arrival rate of its runs (the
    /// sweep's `--rate`) and how long each is held.
    pub store_rtts: Vec<Duration>,
    pub store_rtt_rate: f64,
    pub store_rtt_hold: Duration,
    /// `--transport`, and how long each transport's fixed-rate run and login run are held.
    pub transports: Vec<TransportKind>,
    pub transport_hold: Duration,
    /// Saturation and load: the knee search, CPU against load, the spectrum's fixed-rate run.
    pub saturation: SaturationPlan,
    /// The JWT variants' memory against logout rate.
    pub logout_memory: LogoutMemoryPlan,
    /// `--pin`: where the generator and the measured processes run (`None`: unpinned).
    pub pin: Option<Pinning>,
    /// `--hit-users`: users of the hit-ratio phase; its warm-up (three cache TTLs, at least 3 s, so
    /// the window starts in the cache's steady state) and its window (6 s; `--quick`: 4 s).
    pub hit_users: u64,
    pub hit_warm: Duration,
    /// Sessions preloaded for session-cached and session-tracked before their search and ladder,
    /// each step drawing about rate ÷ `rate_per_user` of them ([`super::population::CAP`]).
    pub population_cap: u64,
    pub hit_window: Duration,
    /// The production-login phase's fixed-rate window, and its step for the maximum before it.
    pub login_window: Duration,
    pub login_step: Duration,
    /// `--memory-levels`: where Redis bytes per stored session are read.
    pub memory_levels: Vec<u64>,
    /// `--redis-utilization`: the busy share Redis is driven to directly.
    pub redis_utilisation: f64,
    /// Each window of Redis driven directly (after a 1 s warm-up).
    pub direct_window: Duration,
    /// The validation phase's workload, or why it is skipped.
    pub validation: Result<ValidationPlan, String>,
}

/// Mixed into `--seed` for the sweep's level orders, so they do not repeat the scheme orders'
/// draws.
const LEVEL_ORDER_SEED: u64 = 0x5eed_1e7e_1000_0004;

/// Memory one stored session needs at the largest level, by where it lives: Redis (session
/// scheme only; ~550 B measured with one session per user, rounded up), the server's user table
/// (every scheme: the users are the largest level), and the generator's credential pool (the
/// header value, up to ~230 B for a JWT, plus its offset and bookkeeping).
pub const REDIS_BYTES_PER_SESSION: u64 = 700;
const SERVER_BYTES_PER_USER: u64 = 350;
const POOL_BYTES_PER_CREDENTIAL: u64 = 300;
/// Share of the available memory a sweep may plan to use.
const MEMORY_HEADROOM: f64 = 0.8;

/// `MemAvailable` from /proc/meminfo, in bytes (None where it cannot be read).
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Refuse, before anything starts, a largest level whose sessions would not fit in `available`
/// bytes (with headroom). Levels up to 1m are always accepted (they need ~1.4 GB).
pub fn check_memory(top: u64, schemes: &[SchemeKind], available: Option<u64>) -> Result<()> {
    let redis = if schemes.iter().any(|s| s.uses_store()) { REDIS_BYTES_PER_SESSION } else { 0 };
    let need = top * (redis + SERVER_BYTES_PER_USER + POOL_BYTES_PER_CREDENTIAL);
    match available {
        _ if top <= 1_000_000 => Ok(()),
        Some(avail) if need as f64 <= avail as f64 * MEMORY_HEADROOM => Ok(()),
        Some(avail) => bail!(
            "--sessions {top}: the sweep needs about {:.1} GiB (Redis, server users, credential pool) \
             but only {:.1} GiB is available; use a smaller largest level or a machine with more memory",
            need as f64 / (1u64 << 30) as f64,
            avail as f64 / (1u64 << 30) as f64
        ),
        None => bail!("--sessions {top}: cannot read MemAvailable from /proc/meminfo to check it fits"),
    }
}

impl Plan {
    pub fn from_args(a: &CompareArgs) -> Result<Plan> {
        let store = StorePlan::new(a.store, a.redis_url.as_deref(), a.redis_cluster_url.as_deref())?;
        if a.redis_persistence != Persistence::None && store != StorePlan::OwnRedis {
            bail!(
                "--redis-persistence applies to the private redis-server compare starts: not with --redis-url or --store cluster"
            );
        }
        let on_cluster = |s: &SchemeKind| !s.uses_store() || s.cluster_store();
        let mut schemes = match &a.schemes {
            Some(list) => list.0.clone(),
            None if store.is_cluster() => SchemeKind::ALL.into_iter().filter(on_cluster).collect(),
            None => SchemeKind::ALL.to_vec(),
        };
        super::foreign::target::validate(&a.targets, a.allow_remote)?;
        if schemes.is_empty() && a.targets.is_empty() {
            let names = SchemeKind::ALL.map(|k| k.as_str()).join(", ");
            bail!("--schemes needs at least one of {names} (`none` only with --target)");
        }
        let mut seen = std::collections::HashSet::new();
        schemes.retain(|s| seen.insert(*s));
        let stages_text =
            a.stages.clone().unwrap_or_else(|| if a.quick { "2s:200" } else { "8s:400,3s:400" }.into());
        let stages = Ramp::parse(&stages_text, "--stages").map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut levels = a
            .sessions
            .clone()
            .unwrap_or_else(|| if a.quick { vec![0, 10_000] } else { vec![0, 10_000, 100_000, 1_000_000] });
        levels.sort_unstable();
        levels.dedup();
        let top = levels.last().copied().unwrap_or(0);
        if top > 10_000_000 {
            bail!("--sessions above 10m would need more memory than this harness plans for");
        }
        check_memory(top, &schemes, available_memory())?;
        if store.is_cluster()
            && let Some(s) = schemes.iter().find(|s| !on_cluster(s))
        {
            bail!(
                "{s} cannot keep its state on a Redis Cluster (jwt-revocable and jwt-pubsub: their \
                 revocation scripts span slots; session-tracked: its tracking connection follows \
                 one node): leave it out of --schemes, or use --store redis"
            );
        }
        let available = authbench_util::affinity::get(0).unwrap_or_else(|_| Cpus::of(&[0]));
        let pin = Pinning::plan(a.pin, &available, a.replicas);
        let workers =
            replica_workers(a.replicas, pin.as_ref().map_or_else(cores, |p| p.servers.as_slice().len()))?;
        if a.replicas > 1 && authbench_procs::haproxy::find_binary().is_none() {
            bail!(
                "--replicas {} needs haproxy, which is not installed (Debian: `apt-get install haproxy`, \
                 or set AUTHBENCH_HAPROXY to its path)",
                a.replicas
            );
        }
        let cached =
            schemes.iter().any(|s| matches!(s, SchemeKind::SessionCached | SchemeKind::SessionTracked));
        if cached && !(1..=1_000_000).contains(&a.hit_users) {
            bail!("--hit-users must be between 1 and 1000000");
        }
        let rate = a.rate.unwrap_or(if a.quick { 1000.0 } else { 2000.0 });
        if !(rate.is_finite() && rate > 0.0 && rate <= 200_000.0) {
            bail!("--rate must be between 0 and 200000 requests/s");
        }
        let spectrum_rate = a.spectrum_rate.unwrap_or(10_000.0);
        if !(spectrum_rate.is_finite() && spectrum_rate > 0.0 && spectrum_rate <= 1_000_000.0) {
            bail!("--spectrum-rate must be between 0 and 1000000 requests/s");
        }
        if a.slo_p99.is_zero() {
            bail!("--slo-p99 must be above 0");
        }
        let repeat = a.repeat.unwrap_or(if a.quick { 1 } else { 3 });
        if repeat == 0 || repeat > 100 {
            bail!("--repeat must be between 1 and 100");
        }
        if !(a.rate_per_user.is_finite() && a.rate_per_user > 0.0) {
            bail!("--rate-per-user must be a positive number");
        }
        let store_rtts = match &a.store_rtt {
            Some(list) => list.0.clone(),
            None if a.quick => vec![Duration::ZERO, Duration::from_millis(1)],
            None => vec![Duration::ZERO, Duration::from_micros(250), Duration::from_millis(1)],
        };
        if !store_rtts.is_empty() && matches!(store, StorePlan::Cluster(_)) {
            bail!(
                "--store-rtt with --redis-cluster-url: the nodes would have to announce compare's proxies \
                 (cluster-announce-port), which is not ours to change on an existing cluster; use \
                 --store-rtt none, or let compare start its own cluster"
            );
        }
        let flags = ValidateFlags {
            mode: a.validate,
            users: a.validate_users,
            active: a.validate_active,
            rate: a.validate_rate,
            window: a.validate_window,
        };
        let validation = ValidationPlan::new(a.quick, &flags, &schemes)?;
        let out = a.out.clone().unwrap_or_else(|| {
            let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
            PathBuf::from("results").join(now.trim_end_matches('Z').replace(':', "-"))
        });
        Ok(Plan {
            schemes,
            targets: a.targets.clone(),
            allow_remote: a.allow_remote,
            // One session per distinct user: the users are the largest level (and enough for
            // the ramp's virtual users).
            // The hit-ratio phase's users too, where a cached scheme runs.
            users: top
                .max(stages.max() as u64 + 1000)
                .max(if cached { a.hit_users.max(super::population::CAP[usize::from(!a.quick)]) } else { 0 })
                .max(validation.as_ref().map_or(0, |v| v.users)),
            stages,
            stages_text,
            think: a.think,
            levels,
            rate,
            repeat,
            out,
            quick: a.quick,
            store,
            persistence: a.redis_persistence,
            replicas: a.replicas,
            workers,
            seed: a.seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            }),
            rate_per_user: a.rate_per_user,
            progress: !a.no_progress,
            steady_vus: 50,
            warmup: Duration::from_secs(1),
            sweep: Duration::from_secs(if a.quick { 2 } else { 4 }),
            revocation_ttl: Duration::from_secs(3),
            store_rtts,
            store_rtt_rate: rate,
            store_rtt_hold: Duration::from_secs(2),
            transports: a
                .transport
                .clone()
                .map_or_else(|| vec![TransportKind::H1, TransportKind::H2Tls], |t| t.0),
            transport_hold: Duration::from_millis(if a.quick { 1000 } else { 1500 }),
            saturation: SaturationPlan::new(a.quick, a.slo_p99, a.utilization, spectrum_rate),
            logout_memory: LogoutMemoryPlan::new(a.quick, a.logout_rates.clone(), a.logout_hold)?,
            pin,
            memory_levels: a.memory_levels.clone().unwrap_or_else(|| {
                if a.quick {
                    vec![50_000, 100_000]
                } else {
                    vec![1_000_000, 2_000_000, 4_000_000, 7_000_000, 10_000_000]
                }
            }),
            login_window: Duration::from_secs(if a.quick { 1 } else { 5 }),
            login_step: Duration::from_secs(if a.quick { 1 } else { 2 }),
            hit_users: a.hit_users,
            population_cap: super::population::CAP[usize::from(!a.quick)],
            // Three TTLs of warm-up (a cache entry lives one TTL, so the cache has turned over three
            // times: its steady state) and a 6 s window (~12,000 lookups at 2,000 req/s: the
            // ratio's standard error ~0.003); --quick a 4 s window, a smoke run's figure.
            hit_warm: (authbench_servers::facts::DEFAULT_CACHE_TTL * 3).max(Duration::from_secs(3)),
            hit_window: Duration::from_secs(if a.quick { 4 } else { 6 }),
            redis_utilisation: a.redis_utilization,
            direct_window: Duration::from_secs(if a.quick { 1 } else { 3 }),
            validation,
        })
    }

    /// Planned seconds of load per scheme × repeat (for the progress bar's ETA).
    /// The scheme order of each repeat: a seeded shuffle, so a run can be repeated exactly.
    pub fn scheme_orders(&self) -> Vec<Vec<SchemeKind>> {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed);
        (0..self.repeat)
            .map(|_| {
                let mut o = self.schemes.clone();
                o.shuffle(&mut rng);
                o
            })
            .collect()
    }

    /// The order of the sweep's levels in each repeat: the level 0 (nothing stored: the pool's
    /// own few logged-in users, a hot set) first where it is one, then the others in a random
    /// order of their own per repeat (seeded from `--seed`, recorded in environment.json), so
    /// that claim 4's change from the smallest stored level to the largest is not also a change
    /// in time (the machine's drift) every repeat in the same direction.
    pub fn level_orders(&self) -> Vec<Vec<u64>> {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed ^ LEVEL_ORDER_SEED);
        (0..self.repeat)
            .map(|_| {
                let mut stored: Vec<u64> = self.levels.iter().copied().filter(|&n| n > 0).collect();
                stored.shuffle(&mut rng);
                self.levels.iter().copied().filter(|&n| n == 0).chain(stored).collect()
            })
            .collect()
    }

    pub fn seconds_per_unit(&self) -> f64 {
        self.warmup.as_secs_f64()
            + self.stages.total().as_secs_f64()
            + self.levels.len() as f64 * self.sweep.as_secs_f64()
            + self.saturation.planned_seconds()
            + 2.0
    }

    /// Planned seconds of the transport phase per scheme × repeat: per transport a server's start,
    /// the fixed-rate run, the login run and the byte sequences.
    pub fn transport_seconds(&self) -> f64 {
        self.transports.len() as f64 * (2.0 * self.transport_hold.as_secs_f64() + 2.0)
    }

    /// Planned seconds of the revocation phase per scheme.
    pub fn revocation_seconds(&self) -> f64 {
        self.revocation_ttl.as_secs_f64() + authbench_servers::facts::JWT_LEEWAY_SECS as f64 + 1.0
    }

    pub fn total_seconds(&self) -> f64 {
        let n = self.schemes.len() as f64;
        let sweep = self.levels.len() as f64 * self.sweep.as_secs_f64();
        let unswept = self.schemes.iter().filter(|&&s| skips_sweep(s)).count() as f64;
        // The ramp runs in the first repeat only (`measure::ramps`).
        let unramped = n * self.repeat.saturating_sub(1) as f64 * self.stages.total().as_secs_f64();
        n * self.repeat as f64 * self.seconds_per_unit() - unswept * self.repeat as f64 * sweep - unramped
            + n * self.revocation_seconds()
            + self.schemes.iter().filter(|s| RTT_SCHEMES.contains(s)).count() as f64
                * self.repeat as f64
                * self.store_rtts.len() as f64
                * (self.store_rtt_hold.as_secs_f64() + 1.5)
            + n * self.repeat as f64 * self.transport_seconds()
            + self.schemes.iter().filter(|&&s| keeps_revocation_entries(s)).count() as f64
                * self.logout_memory.planned_seconds()
            + self
                .schemes
                .iter()
                .filter(|s| matches!(s, SchemeKind::SessionCached | SchemeKind::SessionTracked))
                .count() as f64
                * self.repeat as f64
                * ((self.hit_warm + self.hit_window).as_secs_f64() + self.population_cap as f64 / 60e3)
    }

    /// Whether every scheme is one of the three originals (whose budgets are the tighter ones).
    pub fn originals_only(&self) -> bool {
        self.schemes.iter().all(|s| SchemeKind::ORIGINAL.contains(s))
    }
}

/// Whether `scheme` skips the session-scaling sweep: cookie and the JWT variants keep no per-user
/// state, so the number of stored sessions cannot change what they do; jwt's sweep (the one
/// stateless control claim 4's drift correction needs) stands for them. Skipping cookie's saves
/// ~50 s of the default run; its flat line fed no headline and no answer figure.
pub fn skips_sweep(scheme: SchemeKind) -> bool {
    let jwt_variant =
        scheme != scheme.parent() && scheme.credential() == authbench_contract::CredentialKind::Bearer;
    jwt_variant || scheme == SchemeKind::Cookie
}

/// The cores this process may use (at least 1); once pinned, the generator's.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Plan {
    /// The cores the servers (and Redis) run on: the pinned servers' CPUs, else every core.
    pub fn server_cores(&self) -> usize {
        self.pin.as_ref().map_or_else(cores, |p| p.servers.as_slice().len())
    }

    /// The cores generator, servers and Redis share between them (once pinned, [`cores`] is the
    /// generator's alone).
    pub fn cores(&self) -> usize {
        self.pin.as_ref().map_or_else(cores, |p| p.generator.as_slice().len() + p.servers.as_slice().len())
    }
}

/// Worker threads per replica so that `replicas` × workers ≤ `cores`; `None` for one replica (the
/// server's default). More replicas than cores cannot keep that bound and are refused.
pub fn replica_workers(replicas: u32, cores: usize) -> Result<Option<usize>> {
    match replicas as usize {
        0 => bail!("--replicas must be at least 1"),
        1 => Ok(None),
        n if n > cores => bail!(
            "--replicas {n}: more replicas than the {cores} cores, so {n} × workers ≤ cores cannot hold \
             (each replica needs one worker thread)"
        ),
        n => Ok(Some(cores / n)),
    }
}

/// Create the `--out` directory, refusing one that holds files (nothing is overwritten) or that
/// cannot be written.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("--out {} exists and is not a directory", dir.display());
        }
        if std::fs::read_dir(dir)?.next().is_some() {
            bail!(
                "--out {} is not empty: choose a new directory so no earlier result is overwritten",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create --out {}", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").with_context(|| format!("cannot write into --out {}", dir.display()))?;
    std::fs::remove_file(probe)?;
    Ok(())
}

#[cfg(test)]
mod tests;
