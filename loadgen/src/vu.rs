//! A virtual user: user n of its flow (`user{i}` / `password{i}` for authbench's own schemes)
//! with its own keep-alive connection and credential state. One loop serves both load models;
//! only the pacing differs: closed = "after the answer, think, then go", open = "go at the
//! scheduled instant". One flow path serves every scheme, built-in or from a file: the flow's
//! requests are in [`steps`].
//!
//! A step is exactly one request: log in if there is no credential, renew it if it is about to
//! expire (a fixed lifetime the login answer stated), else what the mix (closed) or the schedule
//! (open: an authenticated request) says. An answer the flow calls refused drops the credential,
//! so the next step logs in again.

mod steps;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{Call, Client, Reply};
use crate::credentials::CredentialPool;
use crate::flow::Flow;
use crate::flow::extract::Held;
use crate::flow::status::{Refused, StatusSet};
use crate::inflight::{InFlight, Slot};
use crate::mix::{Action, Mix, Rng};
use crate::pace::Arrivals;
pub use crate::pace::{Pace, Retire};
use crate::record::{Endpoint, ErrorKind, Recorder, Sample};

/// An open-model start later than this after its intended instant counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(10);
/// Resolution of tokio's timer: an idle open-model user may wake this much after its slot.
pub const TIMER_RESOLUTION: Duration = Duration::from_millis(1);
/// Pause after a failed connect, so a dead target is not hammered in a tight loop.
pub const CONNECT_BACKOFF: Duration = Duration::from_millis(10);
/// Renew a fixed-lifetime credential once this fraction of its lifetime has passed.
const RENEW_AT: f64 = 0.9;
/// The statuses `/healthz` answers with.
static HEALTHY: std::sync::LazyLock<StatusSet> = std::sync::LazyLock::new(|| StatusSet::class(2));

/// What every virtual user of a run shares (read-only, plus the recorder and the gauge).
pub struct Shared {
    pub target: SocketAddr,
    /// The flow every user runs; None: `GET /healthz` without login.
    pub flow: Option<&'static Flow>,
    pub mix: Mix,
    pub think: Duration,
    pub timeout: Duration,
    pub first_user: u64,
    /// `--agent`: users of the agents before this one; user i of this agent is the whole test's
    /// user `seed_base + i` and draws the same random mix as it would in one generator.
    pub seed_base: u64,
    /// Open model: credentials drawn uniformly per arrival (see [`crate::credentials`]).
    pub credentials: Option<Arc<CredentialPool>>,
    /// `-H` headers sent on every request.
    pub headers: Arc<[(http::HeaderName, http::HeaderValue)]>,
    pub recorder: Recorder,
    /// Virtual-user tasks alive right now.
    pub active: AtomicU64,
    /// Each user's request in flight.
    pub in_flight: InFlight,
    /// Connects refused by the generator's own limits (open files, ports).
    pub limits: Arc<crate::client::OsLimits>,
    /// How connections are made, the run's shared HTTP/2 connections and its TLS handshakes.
    pub transport: Arc<crate::transport::Transport>,
    pub h2_pool: Arc<crate::client::H2Pool>,
    pub handshakes: Arc<crate::client::Handshakes>,
    /// When the load was stopped: open-model arrivals due by then and never sent are dropped.
    pub stopped_at: std::sync::OnceLock<Instant>,
}

/// What a logged-in user holds, and when to renew it.
struct Session {
    held: Held,
    /// When to renew a fixed-lifetime credential; None for sliding ones (server sessions).
    renew_at: Option<Instant>,
}

/// Why an exchange did not succeed: the kind it is counted as, and whether the flow calls the
/// answer a refusal of the credential (which then is dropped).
#[derive(Debug, Clone, Copy)]
struct Failure {
    kind: ErrorKind,
    refused: bool,
}

/// Decrements the active gauge however the task ends (finished, retired or aborted).
struct ActiveGuard(Arc<Shared>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Release);
    }
}

/// One virtual user.
pub struct Vu {
    /// The worker thread (and histogram shard) this user lives on.
    worker: usize,
    shared: Arc<Shared>,
    client: Client,
    session: Option<Session>,
    rng: Rng,
    /// This user's login body, rendered once.
    login_body: Option<bytes::Bytes>,
    /// This user's request in flight (for the collector) ...
    slot: Arc<Slot>,
    /// ... and, for the user itself, its endpoint.
    pending: Endpoint,
    arrivals: Option<Arrivals>,
    _active: ActiveGuard,
}

/// A user dropped mid-request (the run ended, the task was aborted) leaves that request
/// unfinished, and an open-model user leaves its arrivals due and unsent as dropped: both are
/// recorded here, so no request the run started or owed disappears.
impl Drop for Vu {
    fn drop(&mut self) {
        let now = Instant::now();
        let epoch = self.shared.in_flight.epoch();
        if let Some(sent) = self.slot.sent_at(epoch) {
            self.shared.recorder.unfinished(
                self.worker,
                self.pending,
                micros(now.saturating_duration_since(sent)),
            );
            self.slot.end();
        }
        if let Some(a) = &self.arrivals {
            let until = self.shared.stopped_at.get().copied().unwrap_or(now);
            if let (n @ 1.., oldest) = a.unsent(until) {
                let age = oldest.map_or(0, |t| micros(until.saturating_duration_since(t)));
                self.shared.recorder.dropped(self.worker, n, age);
            }
        }
    }
}

impl Vu {
    /// Virtual user `index` (0-based) logs in as user `first_user + seed_base + index` of its flow;
    /// it must run on worker `worker` (its histogram shard).
    pub fn new(index: u64, worker: usize, shared: Arc<Shared>) -> Vu {
        shared.active.fetch_add(1, Ordering::Relaxed);
        let user = shared.first_user + shared.seed_base + index;
        let login_body = shared.flow.and_then(|f| f.login_body(user));
        Vu {
            worker,
            client: Client::new(shared.target, shared.timeout)
                .with_headers(shared.headers.clone())
                .with_source(
                    crate::client::source_for(shared.target, shared.seed_base + index),
                    shared.limits.clone(),
                )
                .with_transport(
                    shared.transport.clone(),
                    shared.transport.http2.then(|| (shared.h2_pool.clone(), index)),
                    Some(shared.handshakes.clone()),
                ),
            session: None,
            rng: Rng::new(shared.seed_base + index + 1),
            login_body,
            slot: shared.in_flight.slot(),
            pending: Endpoint::Healthz,
            arrivals: None,
            _active: ActiveGuard(shared.clone()),
            shared,
        }
    }

    pub fn worker(&self) -> usize {
        self.worker
    }

    /// Run until retired (closed) or the schedule ends (open). Aborting the task is the hard stop.
    pub async fn run(mut self, pace: Pace) {
        match pace {
            Pace::Closed { retire } => {
                let think = self.shared.think;
                while !retire.is_retired() {
                    self.step(None, None).await;
                    if !think.is_zero() {
                        tokio::select! {
                            () = tokio::time::sleep(think) => {}
                            () = retire.token.cancelled() => break,
                        }
                    }
                }
                if let Some(flow) = self.shared.flow
                    && self.session.is_some()
                    && !retire.quitting()
                {
                    self.logout(flow).await;
                }
            }
            Pace::Open { rate, t0, first, stride, stop } => {
                let stride = stride.max(1);
                self.arrivals = Some(Arrivals { rate: rate.clone(), t0, next: first, stride });
                let mut n = first;
                while let Some(at) = rate.time_of(n as f64) {
                    if stop.is_retired() {
                        break;
                    }
                    let intended = t0 + at;
                    // Busy past the slot (the server was slow): charge from the slot — the
                    // coordinated-omission correction. Idle until it: the timer wakes up to 1 ms
                    // late (tokio rounds to its tick); that rounding is not the server's, so up
                    // to TIMER_RESOLUTION of it is not charged, anything beyond is.
                    let charged_from = if intended > Instant::now() {
                        // No select on the stop token here (it takes a lock per arrival): a user
                        // sleeping when the run ends has nothing in flight and is simply aborted.
                        tokio::time::sleep_until(intended).await;
                        if stop.is_retired() {
                            break;
                        }
                        let woke = Instant::now().saturating_duration_since(intended);
                        intended + woke.min(TIMER_RESOLUTION)
                    } else {
                        intended
                    };
                    let late = Instant::now().saturating_duration_since(intended) > LATE_AFTER;
                    self.shared.recorder.start(self.worker, late);
                    n += stride;
                    if let Some(a) = &mut self.arrivals {
                        a.next = n;
                    }
                    self.step(Some(charged_from), Some(Action::Me)).await;
                }
            }
        }
    }

    /// Log in (used by the open model before its clock starts). True if it worked.
    pub async fn login_now(&mut self) -> bool {
        if let Some(flow) = self.shared.flow {
            self.login(flow).await;
        }
        self.session.is_some()
    }

    /// One request: healthz (scheme none), else login / renew / the mix's action.
    async fn step(&mut self, intended: Option<Instant>, action: Option<Action>) {
        let Some(flow) = self.shared.flow else {
            let call = Call::get(authbench_contract::path::HEALTHZ);
            let _ = self.exchange((Endpoint::Healthz, 0), &call, (&HEALTHY, None), intended, None).await;
            return;
        };
        if intended.is_some()
            && let Some(pool) = self.shared.credentials.clone()
        {
            return self.request_drawn(flow, &pool, intended).await;
        }
        let Some(session) = &self.session else {
            self.login(flow).await;
            // Open model: the scheduled request still goes out, late, timed from its slot.
            if intended.is_some() && self.session.is_some() {
                self.request(flow, intended).await;
            }
            return;
        };
        if session.renew_at.is_some_and(|at| Instant::now() >= at) {
            self.renew(flow).await;
            if intended.is_some() && self.session.is_some() {
                self.request(flow, intended).await;
            }
            return;
        }
        let action = action.unwrap_or_else(|| self.shared.mix.pick(self.rng.next_u64()));
        // A flow without a refresh or logout sends its authenticated request in their place, so
        // the mix's share of them does not silently drop a session (authbench's flows have both).
        match action {
            Action::Refresh if flow.refresh.is_some() => self.refresh(flow).await,
            Action::Logout if flow.logout.is_some() => self.logout(flow).await,
            Action::Me | Action::Refresh | Action::Logout => self.request(flow, intended).await,
        }
    }

    /// Time one call and record it (as `endpoint`, and for `me` as the flow's request number
    /// `request`). An answer outside `expect` is an error of its kind (a refusal,
    /// as `refused` describes it, counts as `status_4xx`); the reply is returned only on success.
    async fn exchange(
        &mut self,
        (endpoint, request): (Endpoint, u8),
        call: &Call<'_>,
        (expect, refused): (&StatusSet, Option<&Refused>),
        intended: Option<Instant>,
        credential_bytes: Option<u64>,
    ) -> Result<Reply, Failure> {
        let (sent0, recv0) = self.client.bytes();
        let start = Instant::now();
        self.pending = endpoint;
        self.slot.begin(self.shared.in_flight.epoch(), start);
        let result = self.client.call(call, start).await;
        let end = Instant::now();
        self.slot.end();
        let (sent1, recv1) = self.client.bytes();
        let mut status = 0;
        let result = match result {
            Ok(reply) => {
                let expected = expect.contains(reply.status);
                // The common case (expected, no body to look at) costs one bit test.
                let refused = refused.is_some_and(|r| {
                    (!expected || r.needs_body()) && r.by(reply.status, &reply.headers, &reply.body)
                });
                if expected && !refused {
                    Ok(reply)
                } else {
                    status = reply.status.as_u16();
                    let kind = if refused { ErrorKind::Status4xx } else { ErrorKind::from_status(status) };
                    Err(Failure { kind, refused })
                }
            }
            Err(kind) => Err(Failure { kind, refused: false }),
        };
        let actual_us = micros(end - start);
        let sample = Sample {
            endpoint,
            request,
            outcome: result
                .as_ref()
                .map(|_| intended.map_or(actual_us, |i| micros(end.saturating_duration_since(i))))
                .map_err(|f| f.kind),
            status,
            end,
            uncorrected_us: intended.map(|_| actual_us),
            bytes_sent: sent1 - sent0,
            bytes_received: recv1 - recv0,
            credential_bytes,
        };
        self.shared.recorder.record(self.worker, &sample);
        if matches!(result, Err(Failure { kind: ErrorKind::Connect | ErrorKind::ConnectRefused, .. })) {
            tokio::time::sleep(CONNECT_BACKOFF).await;
        }
        result
    }

    /// A 2xx that did not carry what the flow needs: counted once as `bad_response` (the latency
    /// was already recorded as a success, since the server did answer).
    fn record_bad_response(&self, endpoint: Endpoint) {
        let sample = Sample {
            endpoint,
            request: 0,
            outcome: Err(ErrorKind::BadResponse),
            status: 0,
            end: Instant::now(),
            uncorrected_us: None,
            bytes_sent: 0,
            bytes_received: 0,
            credential_bytes: None,
        };
        self.shared.recorder.record(self.worker, &sample);
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
