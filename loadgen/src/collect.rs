//! The once-a-second collector of a run: drains the recorder into a row of `timeseries.csv` and
//! the `.hlog` files, samples the server's, Redis's and the generator's cost, watches for stalls
//! between rows, and at the end builds the [`Summary`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::config::LoadConfig;
use crate::error::Result;
use crate::inflight::Snapshot;
use crate::ramp::{LoadModel, Ramp};
use crate::record::{Endpoint, ErrorKind, Stats};
use crate::row::{EndpointRow, Row};
use crate::sample::{self, LagProbe, ProcSample, RedisProbe, RedisSample};
use crate::sink::{Second, Sink};
use crate::stall::{Cause, StallWatch, StoppedAnswering};
use crate::summary::{
    EndpointSummary, GeneratorCost, Latency, NamedSummary, OpenStarts, ProxyCost, RedisCost, ServerCost,
    Summary, Total, error_rate,
};
use crate::threshold::Threshold;
use crate::vu::Shared;

/// Timer lag above which a second counts as generator-saturated.
pub const SATURATION_LAG: Duration = Duration::from_millis(10);
/// Share of all cores above which a second counts as generator-saturated.
pub const SATURATION_CPU: f64 = 0.9;
/// Time limit on each Redis INFO.
const INFO_TIMEOUT: Duration = Duration::from_millis(300);

/// Server and Redis cost samples, with their first and latest values.
pub(crate) struct Sampler {
    pid: Option<u32>,
    /// `pid` and its replicas, summed.
    pids: Vec<u32>,
    proxy: Option<(u32, ProcSample)>,
    proxy_last: Option<ProcSample>,
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
    /// When the first and the latest samples were read: the CPU percentages divide each process's
    /// CPU delta by this span, the one its two readings bound. (Dividing by the time to the
    /// summary, taken after the stop and the drain, read 0.66× the true figure on 2 s knee steps.)
    wall_first: Instant,
    wall_last: Instant,
}

impl Sampler {
    pub(crate) async fn start(
        pid: Option<u32>,
        replicas: &[u32],
        proxy: Option<u32>,
        mut redis: Option<RedisProbe>,
    ) -> Sampler {
        let pids: Vec<u32> = pid.into_iter().chain(replicas.iter().copied()).collect();
        let wall_first = Instant::now();
        let server_first = pid.and_then(|_| sample::read_procs(&pids).ok());
        let proxy = proxy.and_then(|p| Some((p, sample::read_proc(p).ok()?)));
        let redis_first = match &mut redis {
            Some(r) => r.sample(INFO_TIMEOUT).await,
            None => None,
        };
        let self_first = sample::self_cpu();
        Sampler {
            pid,
            pids,
            proxy_last: proxy.map(|p| p.1),
            proxy,
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
            wall_first,
            wall_last: wall_first,
        }
    }
}

impl Sampler {
    /// Take every first reading again, just before the load starts: what happened since
    /// [`Sampler::start`] (the open model's pool logging in, with its password hashing) is not
    /// part of the load's cost per request.
    pub(crate) async fn rebase(&mut self) {
        self.wall_first = Instant::now();
        if self.pid.is_some() {
            self.server_first = sample::read_procs(&self.pids).ok().or(self.server_first);
            self.server_last = self.server_first;
            self.server_rss_max = self.server_first.map(|s| s.rss_bytes);
        }
        if let Some((pid, first)) = &mut self.proxy
            && let Ok(p) = sample::read_proc(*pid)
        {
            *first = p;
            self.proxy_last = Some(p);
        }
        if let Some(r) = &mut self.redis
            && let Some(now) = r.sample(INFO_TIMEOUT).await
        {
            self.redis_first = Some(now);
            self.redis_last = Some(now);
        }
        self.self_first = sample::self_cpu().or(self.self_first);
        self.self_last = self.self_first;
        self.wall_last = self.wall_first;
    }
}

/// State of the once-a-second collection.
pub(crate) struct Collector {
    pub shared: Arc<Shared>,
    pub sampler: Sampler,
    pub lag: Arc<LagProbe>,
    /// Where each second goes, in order: `--out`'s files, the progress line, `--metrics-addr`.
    pub sinks: Vec<Box<dyn Sink>>,
    pub ramp: Ramp,
    /// The share of `ramp` this generator applies (`--agent` in the open model: 1/N), for the
    /// `target` column.
    pub ramp_share: f64,
    pub open_model: bool,
    pub cores: usize,
    pub interval: Stats,
    pub totals: Stats,
    pub vus_max: u64,
    pub max_lag_us: u64,
    pub saturated_seconds: u64,
    /// Set when the load starts.
    pub watch: Option<StallWatch>,
    pub endpoints: Vec<Endpoint>,
    /// `--abort-on-fail`: the rules judged every second on everything measured so far.
    pub live_thresholds: Vec<Threshold>,
    /// Every row written so far (also without `--out`), handed back in [`crate::Recorded`].
    pub seconds: Vec<Row>,
}

fn per_request(delta: Duration, requests: u64) -> Option<f64> {
    (requests > 0).then(|| delta.as_secs_f64() * 1e6 / requests as f64)
}

impl Collector {
    /// One look for a silence (every [`crate::stall::WATCH_PERIOD`]); returns what is in flight.
    pub fn watch(&mut self, now: Instant) -> Snapshot {
        let in_flight = self.shared.in_flight.snapshot();
        let (answer, unanswered) = self.shared.recorder.last_seen();
        if let Some(w) = &mut self.watch {
            w.observe(now, answer, unanswered, in_flight);
        }
        in_flight
    }

    /// Close the interval `[from, now]`: drain, sample, write one row and one histogram per log.
    /// `active` and `in_flight` are as of `now` (read before a final stop retires everyone).
    pub async fn second(
        &mut self,
        t0: Instant,
        from: Instant,
        now: Instant,
        active: u64,
        in_flight: Snapshot,
    ) -> Result<()> {
        self.shared.recorder.drain_into(&mut self.interval);
        let length = now.saturating_duration_since(from);
        let secs = length.as_secs_f64().max(1e-6);
        let attempts: u64 = self.interval.endpoints.iter().map(|e| e.attempts()).sum();
        let s = &mut self.sampler;
        s.wall_last = Instant::now();

        let mut server_cpu = None;
        let mut server_rss = None;
        if let Some((pid, _)) = s.proxy
            && let Ok(p) = sample::read_proc(pid)
        {
            s.proxy_last = Some(p);
        }
        if s.pid.is_some() {
            match sample::read_procs(&s.pids) {
                Ok(p) => {
                    server_cpu = s.server_last.and_then(|l| per_request(p.cpu_since(&l), attempts));
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
            target: self.ramp.at(t) * self.ramp_share,
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
                    unfinished: e.unfinished,
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
            in_flight: in_flight.count,
            oldest_in_flight_ms: in_flight.oldest_age(now).map(|d| d.as_secs_f64() * 1e3),
            // A second (or most of one) with requests outstanding and no answer.
            stalled: self.interval.answered() == 0
                && (in_flight.count > 0 || self.interval.unanswered() > 0)
                && length >= Duration::from_millis(500),
            unfinished: self.interval.unfinished(),
            dropped: self.interval.dropped,
        };
        let second =
            Second { row: &row, stats: &self.interval, offset: from.saturating_duration_since(t0), length };
        for sink in &mut self.sinks {
            sink.second(&second)?;
        }
        self.totals.add(&self.interval);
        self.interval.reset();
        self.seconds.push(row);
        Ok(())
    }

    /// The first live threshold broken by everything measured so far (`elapsed` into the load).
    pub fn broken_threshold(&self, elapsed: Duration) -> Option<String> {
        if self.live_thresholds.is_empty() {
            return None;
        }
        let secs = elapsed.as_secs_f64();
        let t = &self.totals;
        let endpoints = self
            .endpoints
            .iter()
            .map(|&e| (e, EndpointSummary::of(t.endpoint(e), secs, self.open_model)))
            .collect();
        let total = Total {
            count: t.count(),
            errors: t.error_count(),
            error_rate: error_rate(t.count(), t.error_count(), t.unfinished()),
            latency_us: Latency::of(&t.merged_latency()),
            ..Total::default()
        };
        // A rule with no data yet (an endpoint not called so far) is not broken yet.
        self.live_thresholds
            .iter()
            .map(|th| th.check_on(&endpoints, &total))
            .find(|v| v.actual.is_some() && !v.ok)
            .map(|v| v.threshold)
    }

    pub async fn summary(
        &mut self,
        config: &LoadConfig,
        endpoints: &[Endpoint],
        t0: Instant,
        end: Instant,
        started_wall: SystemTime,
        interrupted: bool,
    ) -> Summary {
        // The load's own length: to the stop, not to when the last in-flight request finished.
        let load_end = self.shared.stopped_at.get().copied().unwrap_or(end);
        let duration_s = load_end.saturating_duration_since(t0).as_secs_f64();
        let t = &self.totals;
        let attempts: u64 = t.endpoints.iter().map(|e| e.attempts()).sum();
        let (sent, received) = t.bytes();
        let s = &self.sampler;
        let wall = s.wall_last.saturating_duration_since(s.wall_first).as_secs_f64().max(1e-6);
        let server_delta = match (s.server_first, s.server_last) {
            (Some(a), Some(b)) => Some(b.cpu_since(&a)),
            _ => None,
        };
        let redis_delta = match (s.redis_first, s.redis_last) {
            (Some(a), Some(b)) => Some(b.cpu.saturating_sub(a.cpu)),
            _ => None,
        };
        let unfinished = t.unfinished();
        let unfinished_max_age_us = t.endpoints.iter().map(|e| e.unfinished_max_age_us).max().unwrap_or(0);
        let gone = s.server_lost || !reachable(config.target).await;
        let (stalls, mut stopped_answering) = match self.watch.take() {
            Some(w) => {
                let gone_at = w.gone_since(load_end);
                let (stalls, silent) = w.finish(load_end, unfinished);
                let gone = gone.then(|| StoppedAnswering {
                    cause: Cause::Gone,
                    at_s: gone_at,
                    for_s: (load_end.saturating_duration_since(t0).as_secs_f64() - gone_at).max(0.0),
                    requests_waiting: unfinished,
                });
                (stalls, gone.or(silent))
            }
            None => (Vec::new(), None),
        };
        if gone && stopped_answering.is_none() {
            let at_s = duration_s;
            stopped_answering =
                Some(StoppedAnswering { cause: Cause::Gone, at_s, for_s: 0.0, requests_waiting: unfinished });
        }
        let open = match &config.model {
            LoadModel::Open { .. } => Some(OpenStarts {
                scheduled: t.starts + t.dropped,
                started: t.starts,
                late: t.late_starts,
                dropped: t.dropped,
                dropped_oldest_age_ms: (t.dropped > 0).then(|| t.dropped_oldest_age_us as f64 / 1000.0),
            }),
            LoadModel::Closed { .. } => None,
        };
        let gen_cpu = match (s.self_first, s.self_last) {
            (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64() / wall * 100.0,
            _ => 0.0,
        };
        Summary {
            scheme: config.scheme_name().to_owned(),
            model: config.model.name().to_owned(),
            target: format!(
                "{}://{}",
                if config.transport.tls.is_some() { "https" } else { "http" },
                config.target
            ),
            duration_s,
            started_at: started_wall.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()),
            vus_max: self.vus_max,
            interrupted,
            target_lost: stopped_answering.is_some(),
            stopped_answering,
            stalls,
            endpoints: endpoints
                .iter()
                .map(|&e| (e, EndpointSummary::of(t.endpoint(e), duration_s, self.open_model)))
                .collect(),
            requests: config
                .scheme
                .iter()
                .flat_map(|s| &s.flow.requests)
                .zip(&t.named)
                .map(|(r, stats)| NamedSummary {
                    name: r.name.clone(),
                    stats: EndpointSummary::of(stats, duration_s, self.open_model),
                })
                .collect(),
            total: Total {
                count: t.count(),
                errors: t.error_count(),
                unfinished,
                unfinished_max_age_ms: (unfinished > 0).then(|| unfinished_max_age_us as f64 / 1000.0),
                error_rate: error_rate(t.count(), t.error_count(), unfinished),
                rps: if duration_s > 0.0 { t.count() as f64 / duration_s } else { 0.0 },
                bytes_sent_per_req: if attempts > 0 { sent as f64 / attempts as f64 } else { 0.0 },
                bytes_received_per_req: if attempts > 0 { received as f64 / attempts as f64 } else { 0.0 },
                latency_us: Latency::of(&t.merged_latency()),
            },
            open,
            server: ServerCost {
                pid: s.pid,
                cpu_us_per_req: server_delta.and_then(|d| per_request(d, attempts)),
                cpu_percent: server_delta.map(|d| d.as_secs_f64() / wall * 100.0),
                rss_bytes_max: s.server_rss_max,
                rss_bytes_start: s.server_first.map(|p| p.rss_bytes),
            },
            proxy: s.proxy.map(|(pid, first)| {
                let d = s.proxy_last.map(|l| l.cpu_since(&first));
                ProxyCost {
                    pid,
                    cpu_us_per_req: d.and_then(|d| per_request(d, attempts)),
                    cpu_percent: d.map(|d| d.as_secs_f64() / wall * 100.0),
                }
            }),
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
            aborted_by_threshold: None,
            agent: None,
            limits: None,
            transport: Some(config.transport.name().to_owned()),
            tls: None,
            agents: Vec::new(),
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
