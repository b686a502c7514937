//! One load run: pre-flight checks, the load model's driver (closed: a controller that spawns
//! and retires virtual users along the ramp; open: a logged-in pool sharing the arrival
//! schedule), and the once-a-second collector that drains the recorder, samples costs, writes
//! the outputs and draws the progress line. [`run`] is the library entry point.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::client::{Call, Client};
use crate::config::LoadConfig;
use crate::error::{Error, Result};
use crate::output::{EndpointRow, Outputs, Row};
use crate::progress::Progress;
use crate::ramp::{LoadModel, Ramp};
use crate::record::{Endpoint, ErrorKind, Recorder, Stats};
use crate::sample::{self, LagProbe, ProcSample, RedisProbe, RedisSample};
use crate::summary::{
    EndpointSummary, GeneratorCost, Latency, OpenStarts, RedisCost, ServerCost, Summary, Total,
};
use crate::vu::{Pace, Retire, Shared, Vu};
use crate::workers::Workers;

/// How often the closed-model controller moves the user count toward the ramp's target.
pub const CONTROL_PERIOD: Duration = Duration::from_millis(20);
/// Timer lag above which a second counts as generator-saturated.
pub const SATURATION_LAG: Duration = Duration::from_millis(10);
/// Share of all cores above which a second counts as generator-saturated.
pub const SATURATION_CPU: f64 = 0.9;
/// Open model: logins in flight at once while the pool logs in.
const SETUP_CONCURRENCY: usize = 256;
/// Time limit on each pre-flight check and on each Redis INFO.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const INFO_TIMEOUT: Duration = Duration::from_millis(300);

/// Run one load test to its planned end, or until `stop` is cancelled (then `interrupted` is set).
///
/// Validates the target (and `--server-pid`, `--redis-url`) before creating anything in the out
/// dir; writes `timeseries.csv` and the `.hlog` files every second, `summary.json`/`.csv` at the
/// end. Callable repeatedly from inside any multi-threaded tokio runtime.
pub async fn run(config: LoadConfig, stop: CancellationToken) -> Result<Summary> {
    let redis = preflight(&config).await?;
    let _ = crate::sys::raise_nofile_limit();
    let open_model = matches!(config.model, LoadModel::Open { .. });
    let endpoints: Vec<Endpoint> = match config.scheme {
        None => vec![Endpoint::Healthz],
        Some(_) => vec![Endpoint::Login, Endpoint::Me, Endpoint::Refresh, Endpoint::Logout],
    };
    let started_wall = SystemTime::now();
    let outputs = match &config.out_dir {
        Some(dir) => Some(Outputs::create(dir, &endpoints, open_model, started_wall)?),
        None => None,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers =
        Workers::start(cores).map_err(|source| Error::Os { what: "start the worker threads", source })?;
    let shared = Arc::new(Shared {
        target: config.target,
        scheme: config.scheme,
        mix: config.mix,
        think: config.think,
        timeout: config.timeout,
        first_user: config.first_user,
        credentials: config.credentials.clone().filter(|_| open_model),
        recorder: Recorder::new(workers.len()),
        active: AtomicU64::new(0),
    });
    let background = CancellationToken::new();
    let mut collector = Collector {
        lag: LagProbe::spawn(background.clone(), workers.handles()),
        sampler: Sampler::start(config.server_pid, redis).await,
        shared: shared.clone(),
        outputs,
        progress: Progress::new(
            config.progress,
            config.model.duration(),
            config.model.ramp().stages.len(),
            open_model,
        ),
        ramp: config.model.ramp().clone(),
        open_model,
        cores,
        interval: Stats::default(),
        totals: Stats::default(),
        vus_max: 0,
        max_lag_us: 0,
        saturated_seconds: 0,
    };

    let ctl = CancellationToken::new();
    let mut interrupted = false;
    let (driver, t0) = match &config.model {
        LoadModel::Closed { stages } => {
            let t0 = Instant::now();
            let handles = workers.handles().to_vec();
            (tokio::spawn(closed_controller(shared.clone(), handles, stages.clone(), t0, ctl.clone())), t0)
        }
        LoadModel::Open { rate_stages, vus } => {
            let pool = tokio::select! {
                pool = log_in_pool(&shared, &workers, *vus) => pool,
                () = stop.cancelled() => { interrupted = true; Vec::new() }
            };
            let t0 = Instant::now();
            let handles = workers.handles().to_vec();
            (tokio::spawn(open_driver(pool, handles, Arc::new(rate_stages.clone()), t0, ctl.clone())), t0)
        }
    };

    let result =
        collect_until_end(&mut collector, t0, config.model.duration(), &stop, &ctl, &mut interrupted).await;
    ctl.cancel();
    let _ = driver.await;
    background.cancel();
    drop(workers);
    collector.progress.finish();
    let end = result?;
    let mut summary = collector.summary(&config, &endpoints, t0, end, started_wall, interrupted).await;
    summary.thresholds = config.thresholds.iter().map(|t| t.check(&summary)).collect();
    if let Some(out) = &mut collector.outputs {
        out.finish(&summary)?;
    }
    Ok(summary)
}

/// The per-second loop. Returns when the load ends (the instant it ended), after the last row.
async fn collect_until_end(
    c: &mut Collector,
    t0: Instant,
    total: Duration,
    stop: &CancellationToken,
    ctl: &CancellationToken,
    interrupted: &mut bool,
) -> Result<Instant> {
    let end = t0 + total;
    let mut last = t0;
    let mut next = t0 + Duration::from_secs(1);
    loop {
        if !*interrupted {
            tokio::select! {
                () = tokio::time::sleep_until(next.min(end)) => {}
                () = stop.cancelled() => *interrupted = true,
            }
        }
        let now = Instant::now();
        let finished = *interrupted || now >= end;
        // Users alive at the end of the interval, read before a final stop retires them all.
        let active = c.shared.active.load(Ordering::Relaxed);
        if finished {
            // Stop every virtual user before the last drain, so each recorded request is in a row.
            ctl.cancel();
            while c.shared.active.load(Ordering::Relaxed) > 0 && now.elapsed() < Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let now = if finished { Instant::now() } else { now };
        c.second(t0, last, now, active).await?;
        if finished {
            return Ok(now);
        }
        last = now;
        while next <= now {
            next += Duration::from_secs(1);
        }
    }
}

/// Check that the target answers `GET /healthz`, the server pid exists and Redis answers.
async fn preflight(config: &LoadConfig) -> Result<Option<RedisProbe>> {
    let target = format!("http://{}", config.target);
    let mut client = Client::new(config.target, PROBE_TIMEOUT);
    let call = Call {
        method: http::Method::GET,
        path: authbench_servers::api::HEALTHZ,
        credential: None,
        json: None,
        want_body: false,
    };
    match client.call(&call, Instant::now()).await {
        Ok(r) if r.status.is_success() => {}
        Ok(r) => {
            return Err(Error::Unreachable { target, reason: format!("GET /healthz answered {}", r.status) });
        }
        Err(kind) => {
            let reason = match kind {
                ErrorKind::Connect => "connection refused or timed out".to_owned(),
                ErrorKind::Timeout => format!("no answer to GET /healthz within {PROBE_TIMEOUT:?}"),
                other => format!("GET /healthz failed ({})", other.as_str()),
            };
            return Err(Error::Unreachable { target, reason });
        }
    }
    if let Some(pid) = config.server_pid {
        sample::read_proc(pid).map_err(|e| Error::NoSuchProcess { pid, reason: e.to_string() })?;
    }
    match &config.redis_url {
        Some(url) => RedisProbe::connect(url, PROBE_TIMEOUT)
            .await
            .map(Some)
            .map_err(|reason| Error::RedisUnreachable { url: url.clone(), reason }),
        None => Ok(None),
    }
}

/// Closed model: keep the number of live virtual users on the ramp. Retired users log out;
/// their user numbers are reused lowest-first by the next ones started.
async fn closed_controller(
    shared: Arc<Shared>,
    workers: Vec<Handle>,
    ramp: Ramp,
    t0: Instant,
    ctl: CancellationToken,
) {
    let mut vus = JoinSet::new();
    let mut live: Vec<(u64, Retire)> = Vec::new();
    let mut free: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut next_index = 0u64;
    let mut tick = tokio::time::interval(CONTROL_PERIOD);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = ctl.cancelled() => break,
        }
        let target = ramp.at(t0.elapsed()).round().max(0.0) as usize;
        while live.len() < target {
            let index = free.pop().map_or_else(
                || {
                    next_index += 1;
                    next_index - 1
                },
                |Reverse(i)| i,
            );
            let retire = Retire::default();
            let worker = index as usize % workers.len();
            let vu = Vu::new(index, worker, shared.clone());
            vus.spawn_on(vu.run(Pace::Closed { retire: retire.clone() }), &workers[worker]);
            live.push((index, retire));
        }
        while live.len() > target {
            let (index, retire) = live.pop().expect("len > target >= 0");
            retire.retire();
            free.push(Reverse(index));
        }
        while vus.try_join_next().is_some() {}
    }
    vus.shutdown().await;
}

/// Open model, before the clock starts: create the pool and log every user in.
async fn log_in_pool(shared: &Arc<Shared>, workers: &Workers, size: u64) -> Vec<Vu> {
    let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut set = JoinSet::new();
    for i in 0..size {
        let (shared, gate) = (shared.clone(), gate.clone());
        let worker = i as usize % workers.len();
        set.spawn_on(
            async move {
                let mut vu = Vu::new(i, worker, shared.clone());
                // With a credential pool the users send drawn credentials: nobody logs in.
                if shared.scheme.is_some() && shared.credentials.is_none() {
                    let _permit = gate.acquire().await;
                    vu.login_now().await;
                }
                vu
            },
            workers.handle(worker),
        );
    }
    let mut pool = Vec::with_capacity(size as usize);
    while let Some(done) = set.join_next().await {
        if let Ok(vu) = done {
            pool.push(vu);
        }
    }
    pool
}

/// Open model: each pool member takes every `size`-th arrival of the schedule.
async fn open_driver(
    pool: Vec<Vu>,
    workers: Vec<Handle>,
    rate: Arc<Ramp>,
    t0: Instant,
    ctl: CancellationToken,
) {
    let stride = pool.len() as u64;
    let mut vus = JoinSet::new();
    for (k, vu) in pool.into_iter().enumerate() {
        let worker = vu.worker();
        vus.spawn_on(
            vu.run(Pace::Open { rate: rate.clone(), t0, first: k as u64, stride }),
            &workers[worker],
        );
    }
    ctl.cancelled().await;
    vus.shutdown().await;
}

/// Server and Redis cost samples, with their first and latest values.
struct Sampler {
    pid: Option<u32>,
    redis: Option<RedisProbe>,
    server_first: Option<ProcSample>,
    server_last: Option<ProcSample>,
    server_rss_max: Option<u64>,
    server_lost: bool,
    redis_first: Option<RedisSample>,
    redis_last: Option<RedisSample>,
    redis_mem_max: Option<u64>,
    redis_keys_max: Option<u64>,
    self_first: Option<Duration>,
    self_last: Option<Duration>,
    wall_first: Instant,
}

impl Sampler {
    async fn start(pid: Option<u32>, mut redis: Option<RedisProbe>) -> Sampler {
        let server_first = pid.and_then(|p| sample::read_proc(p).ok());
        let redis_first = match &mut redis {
            Some(r) => r.sample(INFO_TIMEOUT).await,
            None => None,
        };
        let self_first = sample::self_cpu();
        Sampler {
            pid,
            redis,
            server_first,
            server_last: server_first,
            server_rss_max: server_first.map(|s| s.rss_bytes),
            server_lost: false,
            redis_first,
            redis_last: redis_first,
            redis_mem_max: redis_first.map(|r| r.used_memory),
            redis_keys_max: redis_first.map(|r| r.keys),
            self_first,
            self_last: self_first,
            wall_first: Instant::now(),
        }
    }
}

/// State of the once-a-second collection.
struct Collector {
    shared: Arc<Shared>,
    sampler: Sampler,
    lag: Arc<LagProbe>,
    outputs: Option<Outputs>,
    progress: Progress,
    ramp: Ramp,
    open_model: bool,
    cores: usize,
    interval: Stats,
    totals: Stats,
    vus_max: u64,
    max_lag_us: u64,
    saturated_seconds: u64,
}

fn per_request(delta: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| delta.as_secs_f64() * 1e6 / requests as f64)
}

impl Collector {
    /// Close the interval `[from, now]`: drain, sample, write one row and one histogram per log.
    async fn second(&mut self, t0: Instant, from: Instant, now: Instant, active: u64) -> Result<()> {
        self.shared.recorder.drain_into(&mut self.interval);
        let length = now.saturating_duration_since(from);
        let secs = length.as_secs_f64().max(1e-6);
        let attempts: u64 = self.interval.endpoints.iter().map(|e| e.attempts()).sum();
        let s = &mut self.sampler;

        let mut server_cpu = None;
        let mut server_rss = None;
        if let Some(pid) = s.pid {
            match sample::read_proc(pid) {
                Ok(p) => {
                    server_cpu =
                        s.server_last.and_then(|l| per_request(p.cpu.saturating_sub(l.cpu), attempts));
                    server_rss = Some(p.rss_bytes);
                    s.server_rss_max = s.server_rss_max.max(Some(p.rss_bytes));
                    s.server_last = Some(p);
                }
                Err(_) => s.server_lost = true,
            }
        }
        let mut redis_cpu = None;
        let mut redis_now = None;
        if let Some(probe) = &mut s.redis
            && let Some(r) = probe.sample(INFO_TIMEOUT).await
        {
            redis_cpu = s.redis_last.and_then(|l| per_request(r.cpu.saturating_sub(l.cpu), attempts));
            s.redis_mem_max = s.redis_mem_max.max(Some(r.used_memory));
            s.redis_keys_max = s.redis_keys_max.max(Some(r.keys));
            s.redis_last = Some(r);
            redis_now = Some(r);
        }
        let self_cpu = sample::self_cpu();
        let gen_cpu = match (s.self_last, self_cpu) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a).as_secs_f64() / secs * 100.0),
            _ => None,
        };
        s.self_last = self_cpu.or(s.self_last);
        let lag_us = self.lag.take_max_us();
        self.max_lag_us = self.max_lag_us.max(lag_us);
        let saturated = lag_us > SATURATION_LAG.as_micros() as u64
            || gen_cpu.is_some_and(|c| c >= SATURATION_CPU * 100.0 * self.cores as f64);
        self.saturated_seconds += u64::from(saturated);
        self.vus_max = self.vus_max.max(active);

        let t = now.saturating_duration_since(t0);
        let (sent, received) = self.interval.bytes();
        let row = Row {
            t_s: t.as_secs_f64(),
            interval_s: secs,
            stage: self.ramp.stage_at(t) + 1,
            target: self.ramp.at(t),
            active_vus: active,
            endpoints: std::array::from_fn(|i| {
                let e = &self.interval.endpoints[i];
                EndpointRow {
                    count: e.count(),
                    rps: e.count() as f64 / secs,
                    latency: Latency::of(&e.latency),
                    p99_uncorrected: (self.open_model && !e.uncorrected.is_empty())
                        .then(|| e.uncorrected.value_at_quantile(0.99)),
                    errors: e.error_count(),
                }
            }),
            errors: std::array::from_fn(|k| self.interval.errors_of(ErrorKind::ALL[k])),
            late_starts: self.interval.late_starts,
            bytes_sent_per_req: (attempts > 0).then(|| sent as f64 / attempts as f64),
            bytes_received_per_req: (attempts > 0).then(|| received as f64 / attempts as f64),
            server_rss_bytes: server_rss,
            server_cpu_us_per_req: server_cpu,
            redis_used_memory: redis_now.map(|r| r.used_memory),
            redis_keys: redis_now.map(|r| r.keys),
            redis_cpu_us_per_req: redis_cpu,
            gen_cpu_percent: gen_cpu,
            gen_lag_max_us: lag_us,
            gen_saturated: saturated,
        };
        if let Some(out) = &mut self.outputs {
            out.second(&row, &self.interval, from.saturating_duration_since(t0), length)?;
        }
        let main = if self.shared.scheme.is_some() { Endpoint::Me } else { Endpoint::Healthz };
        self.progress.update(&row, self.ramp.total(), main);
        self.totals.add(&self.interval);
        self.interval.reset();
        Ok(())
    }

    async fn summary(
        &mut self,
        config: &LoadConfig,
        endpoints: &[Endpoint],
        t0: Instant,
        end: Instant,
        started_wall: SystemTime,
        interrupted: bool,
    ) -> Summary {
        let duration = end.saturating_duration_since(t0);
        let duration_s = duration.as_secs_f64();
        let t = &self.totals;
        let attempts: u64 = t.endpoints.iter().map(|e| e.attempts()).sum();
        let (sent, received) = t.bytes();
        let s = &self.sampler;
        let wall = s.wall_first.elapsed().as_secs_f64().max(1e-6);
        let server_delta = match (s.server_first, s.server_last) {
            (Some(a), Some(b)) => Some(b.cpu.saturating_sub(a.cpu)),
            _ => None,
        };
        let redis_delta = match (s.redis_first, s.redis_last) {
            (Some(a), Some(b)) => Some(b.cpu.saturating_sub(a.cpu)),
            _ => None,
        };
        let target_lost = s.server_lost || !reachable(config.target).await;
        let open = match &config.model {
            LoadModel::Open { rate_stages, .. } => {
                let upto = duration.min(rate_stages.total());
                let scheduled =
                    if upto.is_zero() { 0 } else { rate_stages.integral(upto).floor() as u64 + 1 };
                Some(OpenStarts {
                    scheduled,
                    started: t.starts,
                    late: t.late_starts,
                    dropped: scheduled.saturating_sub(t.starts),
                })
            }
            LoadModel::Closed { .. } => None,
        };
        let gen_cpu = match (s.self_first, s.self_last) {
            (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64() / wall * 100.0,
            _ => 0.0,
        };
        Summary {
            scheme: config.scheme_name().to_owned(),
            model: config.model.name().to_owned(),
            target: format!("http://{}", config.target),
            duration_s,
            started_at: started_wall.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()),
            vus_max: self.vus_max,
            interrupted,
            target_lost,
            endpoints: endpoints
                .iter()
                .map(|e| {
                    (e.as_str().to_owned(), EndpointSummary::of(t.endpoint(*e), duration_s, self.open_model))
                })
                .collect(),
            total: Total {
                count: t.count(),
                errors: t.error_count(),
                error_rate: if attempts > 0 { t.error_count() as f64 / attempts as f64 } else { 0.0 },
                rps: if duration_s > 0.0 { t.count() as f64 / duration_s } else { 0.0 },
                bytes_sent_per_req: if attempts > 0 { sent as f64 / attempts as f64 } else { 0.0 },
                bytes_received_per_req: if attempts > 0 { received as f64 / attempts as f64 } else { 0.0 },
            },
            open,
            server: ServerCost {
                pid: s.pid,
                cpu_us_per_req: server_delta.and_then(|d| per_request(d, attempts)),
                cpu_percent: server_delta.map(|d| d.as_secs_f64() / wall * 100.0),
                rss_bytes_max: s.server_rss_max,
                rss_bytes_start: s.server_first.map(|p| p.rss_bytes),
            },
            redis: RedisCost {
                cpu_us_per_req: redis_delta.and_then(|d| per_request(d, attempts)),
                used_memory_max: s.redis_mem_max,
                used_memory_start: s.redis_first.map(|r| r.used_memory),
                keys_max: s.redis_keys_max,
            },
            generator: GeneratorCost {
                cpu_percent: gen_cpu,
                cores: self.cores,
                max_lag_us: self.max_lag_us,
                saturated_seconds: self.saturated_seconds,
                saturated: self.saturated_seconds > 0,
            },
            thresholds: Vec::new(),
        }
    }
}

/// Whether the target still accepts connections (after the run: did it die?).
async fn reachable(addr: std::net::SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_millis(500), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}
