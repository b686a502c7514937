//! One load run: pre-flight checks, the load model's driver (closed: a controller that spawns
//! and retires virtual users along the ramp; open: a logged-in pool sharing the arrival
//! schedule), and the clock of the collector ([`crate::collect`]): a look for stalls every
//! 100 ms, a row every second. [`run`] is the library entry point.

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

use crate::agent::{AgentRun, epoch_s};
use crate::capacity;
use crate::collect::{Collector, Sampler};
use crate::config::{AgentSlice, LoadConfig};
use crate::error::{Error, Result};
use crate::inflight::InFlight;
use crate::metrics::Metrics;
use crate::output::Outputs;
use crate::progress::Progress;
use crate::ramp::{LoadModel, Ramp};
use crate::record::{Endpoint, Recorder, Stats};
use crate::recorded::Recorded;
use crate::sample::LagProbe;
use crate::sink::{MetricsSink, Sink};
use crate::stall::{StallWatch, WATCH_PERIOD};
use crate::summary::Summary;
use crate::vu::{Pace, Retire, Shared, Vu};
use crate::workers::Workers;

/// How often the closed-model controller moves the user count toward the ramp's target.
pub const CONTROL_PERIOD: Duration = Duration::from_millis(20);
/// At the end, how long users may take to finish the request they have in flight.
pub const FINISH_GRACE: Duration = Duration::from_secs(1);
/// Open model: logins in flight at once while the pool logs in.
const SETUP_CONCURRENCY: usize = 256;

/// Run one load test to its planned end, or until `stop` is cancelled (then `interrupted` is set).
///
/// Validates the target (and `--server-pid`, `--redis-url`) before creating anything in the out
/// dir; writes `timeseries.csv` and the `.hlog` files every second, `summary.json`/`.csv` at the
/// end. Callable repeatedly from inside any multi-threaded tokio runtime.
pub async fn run(config: LoadConfig, stop: CancellationToken) -> Result<Summary> {
    run_recorded(config, stop).await.map(|r| r.summary)
}

/// [`run`], also handing back what the run recorded in memory: every per-second row and each
/// endpoint's whole-run latency histogram ([`Recorded`]), so a caller need not read them back
/// from the files.
pub async fn run_recorded(config: LoadConfig, stop: CancellationToken) -> Result<Recorded> {
    let mix = match &config.scheme {
        None => config.mix,
        Some(s) => config.mix.fit(s.flow.refresh.is_some(), s.flow.logout.is_some()).ok_or_else(|| {
            Error::BadInput(format!(
                "--mix: flow `{}` has no refresh or logout to draw; give the authenticated requests a weight (me=…)",
                s.name
            ))
        })?,
    };
    let redis = crate::preflight::check(&config).await?;
    let nofile = authbench_util::sys::raise_nofile_limit().unwrap_or(0);
    // Only a test that asks for more users than the process can connect is capped.
    let capacity = capacity::connection_capacity(nofile, config.target)
        .filter(|c| capacity::needed_users(&config.model) > c.users);
    if let Some(cap) = &capacity {
        eprintln!(
            "authbench load: LIMIT: {} allows at most {} connections in this process: the test's {} users are \
capped there (run more processes with --agent I/N to go beyond)",
            cap.limit,
            cap.users,
            capacity::needed_users(&config.model)
        );
    }
    let open_model = matches!(config.model, LoadModel::Open { .. });
    let endpoints: Vec<Endpoint> = match config.scheme {
        None => vec![Endpoint::Healthz],
        Some(_) => vec![Endpoint::Login, Endpoint::Me, Endpoint::Refresh, Endpoint::Logout],
    };
    let background = CancellationToken::new();
    // Bound before anything is written, so a taken port is bad input with nothing created.
    let metrics = match config.metrics_addr {
        Some(addr) => {
            let metrics = Arc::new(Metrics::new());
            let bound = crate::metrics::serve(addr, metrics.clone(), background.clone()).await?;
            eprintln!("authbench load: metrics on http://{bound}/metrics");
            Some(MetricsSink { metrics, endpoints: endpoints.clone() })
        }
        None => None,
    };
    let started_wall = SystemTime::now();
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if let Some(dir) = &config.out_dir {
        sinks.push(Box::new(Outputs::create(dir, &endpoints, open_model, started_wall)?));
    }
    sinks.push(Box::new(Progress::new(
        config.progress,
        config.model.duration(),
        config.model.ramp().stages.len(),
        open_model,
        if config.scheme.is_some() { Endpoint::Me } else { Endpoint::Healthz },
    )));
    if let Some(m) = metrics {
        sinks.push(Box::new(m));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers =
        Workers::start(cores).map_err(|source| Error::Os { what: "start the worker threads", source })?;
    let shared = Arc::new(Shared {
        target: config.target,
        flow: config.scheme.as_ref().map(|s| s.flow),
        mix,
        think: config.think,
        timeout: config.timeout,
        headers: config.headers.clone().into(),
        first_user: config.first_user,
        seed_base: config.agent.as_ref().map_or(0, |a| a.user_offset),
        credentials: config.credentials.clone().filter(|_| open_model),
        recorder: Recorder::with_named(
            workers.len(),
            config.scheme.as_ref().map_or(0, |s| s.flow.requests.len()),
        ),
        active: AtomicU64::new(0),
        in_flight: InFlight::new(),
        stopped_at: std::sync::OnceLock::new(),
        limits: Arc::default(),
        transport: Arc::new(config.transport.clone()),
        h2_pool: Arc::default(),
        handshakes: Arc::default(),
    });
    let mut collector = Collector {
        endpoints: endpoints.clone(),
        live_thresholds: if config.abort_on_fail {
            config.thresholds.iter().filter(|t| t.judged_during_run()).cloned().collect()
        } else {
            Vec::new()
        },
        lag: LagProbe::spawn(background.clone(), workers.handles()),
        sampler: Sampler::start(config.server_pid, &config.replica_pids, config.proxy_pid, redis).await,
        shared: shared.clone(),
        sinks,
        ramp: config.model.ramp().clone(),
        ramp_share: match (&config.agent, open_model) {
            (Some(a), true) => 1.0 / a.agent.count as f64,
            _ => 1.0,
        },
        open_model,
        cores,
        interval: Stats::default(),
        totals: Stats::default(),
        vus_max: 0,
        max_lag_us: 0,
        saturated_seconds: 0,
        watch: None,
        seconds: Vec::new(),
    };

    let ctl = CancellationToken::new();
    let mut interrupted = false;
    let lanes = config.agent.as_ref().map_or((0, 1), |a| a.agent.lanes());
    let (driver, t0) = match &config.model {
        LoadModel::Closed { stages } => {
            if !wait_for_start(config.start_at, &stop).await {
                interrupted = true;
            }
            collector.sampler.rebase().await;
            let t0 = Instant::now();
            let handles = workers.handles().to_vec();
            let cap = capacity.as_ref().map_or(usize::MAX, |c| c.users as usize);
            (
                tokio::spawn(closed_controller(
                    shared.clone(),
                    handles,
                    stages.clone(),
                    cap,
                    t0,
                    ctl.clone(),
                )),
                t0,
            )
        }
        LoadModel::Open { rate_stages, vus } => {
            let size = capacity.as_ref().map_or(*vus, |c| (*vus).min(c.users));
            let pool = tokio::select! {
                pool = log_in_pool(&shared, &workers, size) => pool,
                () = stop.cancelled() => { interrupted = true; Vec::new() }
            };
            if !interrupted && !wait_for_start(config.start_at, &stop).await {
                interrupted = true;
            }
            // The pool's logins are set-up, not load: neither their requests nor (rebase below)
            // their CPU are in the run's figures. Counted in, 200 fast logins added about 1 µs to
            // every request of a 2 s knee step.
            shared.recorder.drain_into(&mut Stats::default());
            collector.sampler.rebase().await;
            let t0 = Instant::now();
            let handles = workers.handles().to_vec();
            let rate = Arc::new(rate_stages.clone());
            (tokio::spawn(open_driver(shared.clone(), pool, handles, rate, t0, lanes, ctl.clone())), t0)
        }
    };

    let load_started = SystemTime::now();
    collector.watch = Some(StallWatch::new(t0, config.timeout));
    let mut aborted = None;
    let result = collect_until_end(
        &mut collector,
        t0,
        config.model.duration(),
        &stop,
        &ctl,
        &mut interrupted,
        &mut aborted,
    )
    .await;
    ctl.cancel();
    let _ = driver.await;
    background.cancel();
    drop(workers);
    for sink in &mut collector.sinks {
        sink.load_ended();
    }
    let end = result?;
    let mut summary = collector.summary(&config, &endpoints, t0, end, started_wall, interrupted).await;
    summary.aborted_by_threshold = aborted;
    summary.agent = config.agent.as_ref().map(|a| agent_run(&config, a, load_started));
    summary.limits = capacity::limits_hit(&shared.limits, capacity, summary.vus_max);
    if config.transport.tls.is_some() {
        let h = &shared.handshakes;
        let (full, resumed) = (h.full.load(Ordering::Relaxed), h.resumed.load(Ordering::Relaxed));
        summary.tls = Some(crate::summary::TlsHandshakes { full, resumed });
    }
    summary.thresholds = config.thresholds.iter().map(|t| t.check(&summary)).collect();
    for sink in &mut collector.sinks {
        sink.stop(&summary)?;
    }
    let latency = endpoints.iter().map(|&e| (e, collector.totals.endpoint(e).latency.clone())).collect();
    Ok(Recorded { summary, seconds: std::mem::take(&mut collector.seconds), latency })
}

/// The collector's clock: a look for stalls every [`WATCH_PERIOD`], a row every second. Returns
/// when the load ends (the instant it ended), after the last row.
/// With `--abort-on-fail`, a threshold broken by what was measured so far ends it early
/// (`aborted` names the rule).
async fn collect_until_end(
    c: &mut Collector,
    t0: Instant,
    total: Duration,
    stop: &CancellationToken,
    ctl: &CancellationToken,
    interrupted: &mut bool,
    aborted: &mut Option<String>,
) -> Result<Instant> {
    let end = t0 + total;
    let mut last = t0;
    let mut next = t0 + Duration::from_secs(1);
    let mut look = t0 + WATCH_PERIOD;
    loop {
        if !*interrupted && aborted.is_none() {
            tokio::select! {
                () = tokio::time::sleep_until(look.min(next).min(end)) => {}
                () = stop.cancelled() => *interrupted = true,
            }
        }
        let now = Instant::now();
        let finished = *interrupted || aborted.is_some() || now >= end;
        // What is alive and in flight at the end of the interval, read before a final stop
        // abandons it (what is still in flight then is recorded as unfinished).
        let in_flight = c.watch(now);
        while look <= now {
            look += WATCH_PERIOD;
        }
        if !finished && now < next {
            continue;
        }
        let active = c.shared.active.load(Ordering::Acquire);
        if finished {
            // Stop every virtual user before the last drain, so each recorded request is in a row.
            let _ = c.shared.stopped_at.set(now);
            ctl.cancel();
            while c.shared.active.load(Ordering::Acquire) > 0 && now.elapsed() < Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let now = if finished { Instant::now() } else { now };
        c.second(t0, last, now, active, in_flight).await?;
        if finished {
            return Ok(now);
        }
        *aborted = c.broken_threshold(now.saturating_duration_since(t0));
        last = now;
        while next <= now {
            next += Duration::from_secs(1);
        }
    }
}

/// `--start-at`: sleep until that wall-clock instant (now if it has passed). False if stopped
/// while waiting.
async fn wait_for_start(start_at: Option<SystemTime>, stop: &CancellationToken) -> bool {
    let Some(at) = start_at else { return true };
    let Ok(wait) = at.duration_since(SystemTime::now()) else { return true };
    eprintln!(
        "authbench load: starting at {} (in {:.1} s)",
        humantime::format_rfc3339_millis(at),
        wait.as_secs_f64()
    );
    tokio::select! {
        () = tokio::time::sleep(wait) => true,
        () = stop.cancelled() => false,
    }
}

/// What this agent's summary says about its slice: the whole test, its users, when it started.
fn agent_run(config: &LoadConfig, slice: &AgentSlice, load_started: SystemTime) -> AgentRun {
    let alive = match &config.model {
        LoadModel::Closed { stages } => stages.max() as u64,
        LoadModel::Open { vus, .. } => *vus,
    };
    let first = config.first_user + slice.user_offset;
    AgentRun {
        index: slice.agent.index,
        count: slice.agent.count,
        test: slice.test.clone(),
        users: (config.scheme.is_some() && config.credentials.is_none() && alive > 0)
            .then(|| [first, first + alive - 1]),
        load_started_at: epoch_s(load_started),
        late_by_s: config.start_at.map(|at| load_started.duration_since(at).map_or(0.0, |d| d.as_secs_f64())),
    }
}

/// Closed model: keep the number of live virtual users on the ramp. Retired users log out;
/// their user numbers are reused lowest-first by the next ones started.
async fn closed_controller(
    shared: Arc<Shared>,
    workers: Vec<Handle>,
    ramp: Ramp,
    cap: usize,
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
        let target = (ramp.at(t0.elapsed()).round().max(0.0) as usize).min(cap);
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
    for (_, retire) in &live {
        retire.quit();
    }
    finish(&mut vus, &shared).await;
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
                if shared.flow.is_some() && shared.credentials.is_none() {
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

/// Open model: each pool member takes every `size`-th arrival of the schedule — of this agent's
/// lane of it (`lanes = (lane, count)`: arrivals `lane + k·count`; `(0, 1)` for all of it).
async fn open_driver(
    shared: Arc<Shared>,
    pool: Vec<Vu>,
    workers: Vec<Handle>,
    rate: Arc<Ramp>,
    t0: Instant,
    (lane, lanes): (u64, u64),
    ctl: CancellationToken,
) {
    let stride = pool.len() as u64 * lanes;
    let stop = Retire::default();
    let mut vus = JoinSet::new();
    for (k, vu) in pool.into_iter().enumerate() {
        let worker = vu.worker();
        let first = lane + k as u64 * lanes;
        let pace = Pace::Open { rate: rate.clone(), t0, first, stride, stop: stop.clone() };
        vus.spawn_on(vu.run(pace), &workers[worker]);
    }
    ctl.cancelled().await;
    stop.quit();
    finish(&mut vus, &shared).await;
}

/// The run is over and every user was told to quit: let the requests in flight finish, for up to
/// [`FINISH_GRACE`] — unless nothing is in flight, or the target is silent (nothing answered since the oldest of them was
/// sent, half a timeout or more ago): then there is nothing to wait for. Whoever is still busy is
/// aborted; its request is recorded as unfinished.
async fn finish(vus: &mut JoinSet<()>, shared: &Shared) {
    let started = Instant::now();
    let silent_after = (shared.timeout / 2).min(FINISH_GRACE);
    loop {
        if vus.is_empty() || started.elapsed() >= FINISH_GRACE {
            break;
        }
        // Nothing in flight: whoever is left is sleeping or thinking, with nothing to finish.
        let Some(oldest) = shared.in_flight.snapshot().oldest else { break };
        let (answer, _) = shared.recorder.last_seen();
        let silent = answer.is_none_or(|a| a < oldest);
        if silent && oldest.elapsed() >= silent_after {
            break;
        }
        tokio::select! {
            _ = vus.join_next() => {}
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    }
    vus.shutdown().await;
}
