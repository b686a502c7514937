//! `compare --target NAME=URL,flow=FILE[,pid=][,redis=][,host=][,ca=]`: a user's own service,
//! described by a flow file (docs/flows.md), measured in the same results folder as the built-in
//! schemes, its rows carrying NAME as their scheme. What runs against it is what the built-in
//! schemes get, through the same code with the flow as the scheme: the ramp of virtual users
//! ([`crate::compare::phase::ramp`]); the open-model search for the knee, CPU against load at
//! shares of the maximum it found, and the percentile spectrum's run at the common rate
//! ([`crate::compare::open_model::measure`], without the `/healthz` pair a target has no
//! endpoint for); the credential's bytes; the revocation probe (`authbench probe revocation`'s
//! code). Every phase that needs authbench's own server or Redis layout is listed as not run,
//! with the reason ([`not_run`], in `environment.json` under `targets` and in the report).
//!
//! - [`target`]: `--target`'s parts parsed and checked, and the load configuration they give.
//! - [`not_run`]: what runs and what does not, for `environment.json`.

pub mod not_run;
pub mod target;

use anyhow::{Context, Result, bail};
use authbench_loadgen::{Endpoint, Mix, ProbeArgs};
use authbench_report::UnitRows;
use authbench_report::data::{CredentialsRow, RevocationRow, file};
use tokio_util::sync::CancellationToken;

use super::open_model::{self, RunKind, SaturationPlan, Subject};
use super::phase::ramp;
use super::plan::Plan;
use crate::harness::redis::RedisInfo;

pub use not_run::describe;
pub use target::Target;

/// What one target gave.
pub struct Measured {
    pub rows: UnitRows,
    pub revocation: Vec<RevocationRow>,
    /// `used_memory` before the ramp and after the spectrum's run (with `redis=`).
    pub store_memory: Option<(u64, u64)>,
}

/// Every phase that runs against `t`, in order; `progress` is told each (a line for the console).
pub async fn measure(
    plan: &Plan,
    t: &Target,
    stop: &CancellationToken,
    mut progress: impl FnMut(&str),
) -> Result<Measured> {
    let flow = t.load_flow()?;
    let header = flow.credential_header();
    let has_logout = flow.logout.is_some() || flow.logout_all.is_some();
    let mut base = t.config(plan.allow_remote, Some(flow))?;
    base.preflight_login = true;
    let dir = plan.out.join(file::RUNS).join(file::unit_runs(&t.name, 1));
    std::fs::create_dir_all(&dir)?;
    let redis = match &t.redis {
        Some(url) => Some(RedisInfo::connect(url).await?),
        None => None,
    };
    let before = match &redis {
        Some(r) => Some(r.sample().await?.used_memory),
        None => None,
    };
    let who = Subject { name: &t.name, uses_store: t.redis.is_some() };
    let mut rows = UnitRows::default();

    // The ramp, as the built-in schemes run it: the flow's whole mix, closed model.
    progress(&format!("target {}: ramp {}", t.name, plan.stages_text));
    let mut c = base.clone();
    ramp::configure(&mut c, plan);
    c.out_dir = Some(dir.join(file::RAMP_RUN));
    let ramp_run = authbench_loadgen::run_recorded(c, stop.clone()).await.context("ramp")?;
    if ramp_run.summary.target_lost {
        bail!("the service stopped answering during the ramp");
    }
    let (ramp_rows, ramp_metrics) = ramp::rows(&t.name, 1, &ramp_run);
    // Where the search starts: the ramp's peak rate (authenticated requests answered per
    // second), as a built-in scheme's later repeat starts near its earlier knee.
    let peak = ramp_rows.iter().map(|r| r.me_rps).filter(|r| *r > 0.0).reduce(f64::max);
    rows.ramp = ramp_rows;
    rows.metrics.extend(ramp_metrics);
    if stop.is_cancelled() {
        return Ok(Measured { rows, revocation: Vec::new(), store_memory: None });
    }

    // The knee search, CPU against load and the spectrum's run, as the built-in schemes get them.
    base.mix = Mix { me: 1, refresh: 0, logout: 0 };
    let sat = SaturationPlan { healthz_pair: false, ..plan.saturation.clone() };
    let name = &t.name;
    let outcome = open_model::measure(&sat, peak, &base, None, &dir, stop, |kind, rate| {
        let what = match kind {
            RunKind::Search => "knee search",
            RunKind::Ladder => "CPU against load",
            RunKind::HealthzPair => "healthz",
            RunKind::Spectrum => "fixed-rate spectrum",
        };
        progress(&format!("target {name}: {what} at {rate:.0} req/s"));
    })
    .await?;
    progress(&format!("target {name}: {}", outcome.describe()));
    rows.metrics.extend(outcome.metrics(who, sat.utilization));
    (rows.saturation, rows.cpu_vs_load) = outcome.rows(who, 1);
    rows.me_latency = outcome.fixed_latency.clone();
    if let Some(e) = outcome.fixed.as_ref().and_then(|f| f.summary.endpoint(Endpoint::Me)) {
        rows.credential = Some(CredentialsRow {
            scheme: t.name.clone(),
            header,
            credential_bytes: e.credential_bytes_per_req.unwrap_or(0.0).round() as u64,
            request_bytes: e.bytes_sent_per_req.round() as u64,
            response_bytes: Some(e.bytes_received_per_req.round() as u64),
        });
    }
    let after = match &redis {
        Some(r) => Some(r.sample().await?.used_memory),
        None => None,
    };
    let store_memory = before.zip(after);
    if outcome.interrupted || stop.is_cancelled() {
        return Ok(Measured { rows, revocation: Vec::new(), store_memory });
    }
    progress(&format!("target {name}: revocation probe"));
    let revocation = if has_logout { probe(plan, t).await? } else { Vec::new() };
    Ok(Measured { rows, revocation, store_memory })
}

/// The revocation probe's windows as `revocation.csv` rows (`action` logout, logout_all).
async fn probe(plan: &Plan, t: &Target) -> Result<Vec<RevocationRow>> {
    let args = ProbeArgs {
        flow: t.flow.clone(),
        url: t.url.clone(),
        probe_url: None,
        require_within: None,
        bound: if plan.quick { "3s" } else { "10s" }.into(),
        interval: "20ms".into(),
        repeats: if plan.quick { 2 } else { 5 },
        // Past the spectrum's users, so the probe's logins are fresh.
        first_user: 1_000_000,
        allow_remote: plan.allow_remote,
        host: t.host.clone(),
        ca: t.ca.clone(),
        json: false,
    };
    let found = authbench_loadgen::probe_revocation(&args)
        .await
        .with_context(|| format!("{}: revocation probe", t.name))?;
    let row = |action: &str, probe: u32, w: Option<f64>| RevocationRow {
        scheme: t.name.clone(),
        action: action.into(),
        probe: Some(probe),
        window_s: w.unwrap_or(found.bound_s),
        rejected: w.is_some(),
        note: match w {
            Some(_) => "copied credential refused after logout".into(),
            None => format!("copied credential still accepted {:.1} s after logout", found.bound_s),
        },
        ttl_s: None,
        leeway_s: None,
        default_ttl_s: None,
        // The probe polls its own copy; no valid-credential floor is taken against a target.
        floor_s: None,
    };
    let mut rows: Vec<_> =
        found.windows_s.iter().enumerate().map(|(i, w)| row("logout", i as u32, *w)).collect();
    if let Some(w) = found.logout_all_s {
        rows.push(row("logout_all", 0, w));
    }
    if rows.is_empty() {
        bail!("{}: the revocation probe found nothing", t.name);
    }
    Ok(rows)
}
