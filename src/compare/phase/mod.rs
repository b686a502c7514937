//! The phases of a comparison, each a function of its own, named after what it measures. One
//! scheme × repeat ([`super::measure::unit`]) runs checks, warm-up, saturation, ramp and sweep against
//! one server, in that order; revocation (and for the JWT variants, memory against logout rate)
//! runs once per scheme after every repeat, on servers with short TTLs.
//!
//! - [`checks`]: equivalence and real-work checks, and the attack battery on the first repeat.
//! - [`cross_replica`]: with `--replicas N`, credentials and revocation across replicas.
//! - [`warmup`]: primer and warm-up, not recorded.
//! - [`saturation`]: the open-model knee search, CPU against load (CPU per request at the
//!   utilisation, and `GET /healthz` at the same offered rate: the cost of authentication itself),
//!   the spectrum's common-rate run ([`super::open_model`]).
//! - [`ramp`]: the closed-model ramp of virtual users with the full mix.
//! - [`hit_ratio`]: the cached schemes' hit ratio with many users, each at the workload's rate.
//! - [`sweep`]: the session-scaling sweep ([`super::session_levels`]) folded into the unit's rows.
//! - [`store_rtt`]: `/api/me` latency at each `--store-rtt`, on servers whose store is one hop
//!   away ([`super::store_hop`]).
//! - [`transport`]: `/api/me`, logins and the credential's bytes over each `--transport`, on
//!   servers of their own (`serve --tls` for TLS).
//! - [`revocation`]: the logout / logout-all revocation window (and again at each store RTT).
//! - [`revocation_cost`]: the JWT variants' Redis bytes per revoked token, denylist bytes per
//!   entry and cost per refresh, on the revocation phase's server A.
//! - [`logout_memory`]: the JWT variants' Redis memory against paced logout rates, on a server of
//!   its own with the shortest lifetimes, after the revocation phase.
//! - [`login_cost`]: per scheme after the rest, login at the servers' default password hashing.
//! - [`store_bytes`]: once per run, Redis bytes per stored session (up to 10M), per JWT family
//!   and per revocation entry, on a redis-server of its own.
//! - [`direct_redis`]: once per run, Redis driven directly with each scheme's lookup at the plan's
//!   Redis utilisation, and claim 4's control ([`super::redis_direct`]).
//! - here: [`Unit`], what the phases of one scheme × repeat share, and the load runs they make;
//!   [`UnitResult`], what they produce.

pub mod checks;
pub mod cross_replica;
pub mod direct_redis;
pub mod hit_ratio;
pub mod login_cost;
pub mod logout_memory;
pub mod prediction;
pub mod ramp;
pub mod revocation;
pub mod revocation_cost;
pub mod saturation;
pub mod store_bytes;
pub mod store_rtt;
pub mod sweep;
pub mod transport;
pub mod validation;
pub mod warmup;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use authbench_loadgen::LoadConfig;
use authbench_loadgen::LoadModel;
use authbench_loadgen::Mix;
use authbench_loadgen::Summary;
use authbench_loadgen::{Recorded, Scheme};
use authbench_report::data::file;
use authbench_report::{Metric, UnitRows};
use authbench_servers::SchemeKind;
use tokio_util::sync::CancellationToken;

use super::ctx::Ctx;
use super::schedule::Phase;
use crate::harness::replicas::Replicated;

/// One scheme × one repeat: the server every phase of it measures, where its runs are written.
pub struct Unit<'a> {
    pub ctx: &'a Ctx,
    pub scheme: SchemeKind,
    pub repeat: u32,
    /// One server, or replicas behind HAProxy (`--replicas`).
    pub server: &'a Replicated,
    /// This unit's Redis key prefix.
    pub prefix: &'a str,
    /// `runs/<scheme>-r<repeat>/`: each load run writes its files into a folder below.
    pub dir: PathBuf,
    pub stop: &'a CancellationToken,
}

/// What one scheme × repeat produced: typed rows for the results folder (each phase fills its
/// part), and whether `stop` cut it short.
#[derive(Default)]
pub struct UnitResult {
    pub rows: UnitRows,
    pub interrupted: bool,
}

/// Requests that failed and seconds in which the generator may have been the bottleneck, over
/// every recorded phase of a unit: both go to summary.csv so a reader sees them beside the figures.
#[derive(Debug, Default)]
pub struct Health {
    pub errors: u64,
    pub requests: u64,
    pub saturated_seconds: u64,
}

impl Unit<'_> {
    /// Enter `phase` (shown on the progress line, timed in `phases.csv`).
    pub fn enter(&self, phase: Phase) {
        self.ctx.progress.enter(self.scheme, self.repeat, phase, None);
    }

    /// Enter `phase` at a named step of it (`16000 req/s`, `100000 sessions`).
    pub fn enter_at(&self, phase: Phase, detail: &str) {
        self.ctx.progress.enter(self.scheme, self.repeat, phase, Some(detail));
    }

    /// Whether Ctrl-C asked the run to stop.
    pub fn stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// A load run against this unit's server, sampling its process and Redis, writing into
    /// `dir/<out>` when given; `scheme: None` loads `/healthz` without credentials.
    pub fn load(&self, scheme: Option<SchemeKind>, model: LoadModel, out: Option<&str>) -> LoadConfig {
        let scheme = scheme.map(|s| Scheme::new(s.as_str(), s.credential()));
        let mut c = LoadConfig::new(self.server.addr, scheme, model);
        c.server_pid = Some(self.server.pid());
        c.replica_pids = self.server.other_pids();
        c.proxy_pid = self.server.proxy_pid();
        c.redis_url = Some(self.ctx.store.sampled_urls());
        c.out_dir = out.map(|o| self.dir.join(o));
        c.progress = false;
        c
    }

    /// Run `config` for `phase`; a server that stopped answering fails the phase. Recorded phases
    /// add their requests, errors and saturated seconds to `health`.
    pub async fn run_load(
        &self,
        config: LoadConfig,
        phase: Phase,
        health: Option<&mut Health>,
    ) -> Result<Summary> {
        Ok(self.run_recorded(config, phase, health).await?.summary)
    }

    /// [`Self::run_load`], also handing back what the run recorded (its per-second rows and
    /// whole-run histograms) in memory, so nothing reads the run's own files back.
    pub async fn run_recorded(
        &self,
        config: LoadConfig,
        phase: Phase,
        health: Option<&mut Health>,
    ) -> Result<Recorded> {
        let what = phase.label();
        let recorded = authbench_loadgen::run_recorded(config, self.stop.clone())
            .await
            .with_context(|| format!("load phase `{what}`"))?;
        if recorded.summary.target_lost {
            bail!("the server stopped answering during `{what}`");
        }
        if let Some(h) = health {
            h.add(&recorded.summary);
        }
        Ok(recorded)
    }
}

impl Health {
    /// Count one recorded load run.
    pub fn add(&mut self, summary: &Summary) {
        // Requests left unanswered at the end fail like timeouts do (the loadgen's error_rate).
        self.errors += summary.total.errors + summary.total.unfinished;
        self.requests += summary.total.count;
        self.saturated_seconds += summary.generator.saturated_seconds;
    }

    /// The unit's totals into summary.csv, and a note when requests failed.
    pub fn report(&self, u: &Unit<'_>, r: &mut UnitResult) {
        r.rows.metrics.extend([
            (Metric::LoadErrors, self.errors as f64),
            (Metric::LoadRequests, self.requests as f64),
            (Metric::GeneratorSaturatedSeconds, self.saturated_seconds as f64),
        ]);
        if self.errors > 0 {
            u.ctx.progress.note(&format!(
                "{} r{}: {} of {} requests failed (see {}/*/{})",
                u.scheme,
                u.repeat,
                self.errors,
                self.requests,
                file::RUNS,
                authbench_loadgen::run_file::TIMESERIES
            ));
        }
    }
}

/// Only `GET /api/me`: the mix of the warm-up.
pub fn me_only() -> Mix {
    Mix { me: 100, refresh: 0, logout: 0 }
}
