//! `authbench capacity --calibrate`: carry an answer measured on one host to this one. "Cores"
//! mean nothing without the core: the same commit gave CPU per request 2–3× apart on two hosts of
//! this project, while the schemes' ratios to `/healthz` agreed within 5% for the schemes that do
//! not call Redis per request. So two fixed references are measured here, as the results folder
//! measured them there, and the answer's inputs are rescaled by them:
//!
//! - app servers: `/healthz` server CPU per request at the same offered rate the folder's
//!   `healthz_pairs.csv` ran it at (open model, server pinned apart from the generator when the
//!   machine has two cores or more); server CPU per request × (here ÷ there);
//! - Redis: `GETEX` driven directly at the plan's Redis utilisation (`redis_direct.csv`); Redis
//!   CPU per lookup × (here ÷ there), kept apart because it did not scale with the host.
//!
//! Each calibration is one short run; run it twice to see how far the rescaled answer moves.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_loadgen::{CancellationToken, LoadConfig, LoadModel, Ramp};
use authbench_report::answer::from_results::Scale;
use authbench_report::results::Results;
use authbench_servers::{SchemeKind, ServeArgs};
use authbench_util::affinity::{Cpus, with_affinity};

use crate::compare::redis_direct::{Lookup, at_utilisation, populate};
use crate::harness::redis::RedisServer;
use crate::harness::server::ServerProcess;

/// What this host measured, beside what the folder's host did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub healthz_rps: f64,
    pub healthz_here_us: f64,
    pub healthz_there_us: f64,
    pub getex_here_us: Option<f64>,
    pub getex_there_us: Option<f64>,
}

impl Calibration {
    pub fn scale(&self) -> Scale {
        Scale {
            server: self.healthz_here_us / self.healthz_there_us,
            redis: match (self.getex_here_us, self.getex_there_us) {
                (Some(h), Some(t)) if t > 0.0 => h / t,
                _ => 1.0,
            },
        }
    }
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = v.filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Measure both references here, at the folder's conditions.
pub async fn calibrate(r: &Results, redis_utilisation: f64) -> Result<Calibration> {
    let pairs = &r.healthz_pairs;
    let rps = mean(pairs.iter().map(|p| p.offered_rps))
        .context("the results folder has no healthz_pairs.csv: nothing to calibrate against")?;
    let there =
        mean(pairs.iter().map(|p| p.healthz_server_cpu_us)).context("healthz_pairs.csv has no CPU")?;
    let pin = (authbench_util::affinity::online() >= 2).then(|| Cpus::of(&[1]));
    let server = with_affinity(pin.as_ref(), || {
        ServerProcess::spawn(&ServeArgs { fast_login: true, ..ServeArgs::new(SchemeKind::Cookie) })
    })??;
    let model = LoadModel::Open {
        rate_stages: Ramp::constant(rps, Duration::from_secs(6)),
        vus: (rps / 100.0).max(10.0) as u64,
    };
    let mut c = LoadConfig::new(server.addr, None, model);
    c.server_pid = Some(server.pid());
    c.progress = false;
    let summary = authbench_loadgen::run(c, CancellationToken::new()).await.context("the /healthz load")?;
    let here = summary.server.cpu_us_per_req.context("no server CPU reading")?;
    if summary.total.errors > 0 {
        bail!(
            "/healthz answered {} errors at {rps:.0} req/s: this host cannot run the reference's rate",
            summary.total.errors
        );
    }
    server.stop();
    let getex_there =
        mean(r.redis_direct.iter().filter(|x| x.lookup == Lookup::Getex.as_str()).map(|x| x.us_per_lookup));
    let getex_here = match getex_there {
        Some(_) => {
            let redis = tokio::task::block_in_place(|| with_affinity(pin.as_ref(), RedisServer::start))??;
            let keys = r.redis_direct.iter().map(|x| x.keyspace).max().unwrap_or(100_000).min(1_000_000);
            populate(&redis.url(), "authbench:calibrate:", keys).await?;
            let reading = at_utilisation(
                &redis.url(),
                "authbench:calibrate:",
                Lookup::Getex,
                keys,
                redis_utilisation,
                Duration::from_secs(3),
                None,
                crate::compare::redis_direct::connections(1),
            )
            .await?;
            Some(reading.us_per_lookup)
        }
        None => None,
    };
    Ok(Calibration {
        healthz_rps: rps,
        healthz_here_us: here,
        healthz_there_us: there,
        getex_here_us: getex_here,
        getex_there_us: getex_there,
    })
}
