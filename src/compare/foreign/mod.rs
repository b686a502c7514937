//! `compare --target NAME=URL,flow=FILE[,pid=PID][,redis=URL]`: a user's own service, described
//! by a flow file (docs/flows.md), measured in the same results folder as the built-in schemes,
//! its rows carrying NAME as their scheme. What runs against it: the fixed-rate `/api/me`-like run
//! at the spectrum's rate (its percentile spectrum, a `cpu_vs_load.csv` row, the credential's
//! bytes), then the revocation probe (`authbench probe revocation`'s code). Every phase that needs
//! authbench's own server or Redis layout is listed as not run, with the reason
//! ([`NOT_RUN`], in `environment.json` under `targets` and in the report).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use authbench_loadgen::{Endpoint, Flow, LoadConfig, LoadModel, Mix, ProbeArgs, Ramp, Scheme};
use authbench_report::UnitRows;
use authbench_report::data::{CredentialsRow, RevocationRow};
use authbench_report::run::StepRun;
use authbench_report::saturation::LoadStepRow;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::open_model::SaturationPlan;
use super::rate_step::run_rate_recorded;
use crate::harness::redis::RedisInfo;

/// One `--target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub url: String,
    pub flow: PathBuf,
    pub pid: Option<u32>,
    /// Read only (`INFO`): never flushed or written.
    pub redis: Option<String>,
}

/// Parse `NAME=URL,flow=FILE[,pid=PID][,redis=URL]`.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let mut parts = s.split(',');
    let first = parts.next().unwrap_or_default();
    let Some((name, url)) = first.split_once('=') else {
        return Err(format!("--target `{s}`: expected NAME=URL,flow=FILE[,pid=PID][,redis=URL]"));
    };
    let name = name.trim();
    let ok_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok_name || authbench_servers::SchemeKind::ALL.iter().any(|k| k.as_str() == name) {
        return Err(format!(
            "--target `{name}`: the name must be letters, digits, - _ . and not a built-in scheme's"
        ));
    }
    let mut t = Target {
        name: name.to_owned(),
        url: url.trim().to_owned(),
        flow: PathBuf::new(),
        pid: None,
        redis: None,
    };
    for part in parts {
        match part.split_once('=') {
            Some(("flow", f)) => t.flow = PathBuf::from(f),
            Some(("pid", p)) => t.pid = Some(p.parse().map_err(|_| format!("--target {name}: pid=`{p}`"))?),
            Some(("redis", r)) => t.redis = Some(r.to_owned()),
            _ => return Err(format!("--target {name}: unknown part `{part}` (flow=, pid=, redis=)")),
        }
    }
    if t.flow.as_os_str().is_empty() {
        return Err(format!("--target {name}: flow=FILE is required"));
    }
    Ok(t)
}

/// Phases that need authbench's own code, and why each is not run against a target.
pub const NOT_RUN: [(&str, &str); 10] = [
    ("checks and attack battery", "they forge and tamper with authbench's own credential formats"),
    ("healthz baseline (CPU ratio)", "needs an unauthenticated endpoint the flow does not describe"),
    ("ramp and knee search", "not implemented for targets yet (authbench load --flow --stages does a ramp)"),
    ("session-scaling sweep", "its preload writes sessions through authbench's own credential-issuing code"),
    ("store bytes and hit ratio", "they read authbench's own Redis keys and cache counters"),
    ("Redis-direct", "drives Redis with authbench's own lookup command"),
    ("login cost", "measures authbench's own argon2id login"),
    ("store RTT", "puts a delay proxy between authbench's server and its Redis"),
    ("transport", "starts authbench's own server over h2 and TLS"),
    ("revocation memory and faults", "drive authbench's own Redis and kill the processes it started"),
];

/// The `targets` entry of `environment.json`: each target, what was measured and what was not.
pub fn describe(targets: &[Target]) -> serde_json::Value {
    let not_run: Vec<_> = NOT_RUN.iter().map(|(p, why)| json!({ "phase": p, "reason": why })).collect();
    targets
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "url": t.url,
                "flow": t.flow.display().to_string(),
                "run": ["fixed-rate spectrum", "credential bytes", "revocation probe"],
                "server_cpu": if t.pid.is_some() { "measured (pid=)" } else { "not measured (no pid=)" },
                "store_memory": if t.redis.is_some() { "measured (redis=, INFO only)" } else { "not measured (no redis=)" },
                "not_run": not_run,
            })
        })
        .collect()
}

/// Check every target before anything runs: its flow loads, its URL is allowed.
pub fn validate(targets: &[Target], allow_remote: bool) -> Result<()> {
    for t in targets {
        Flow::load(&t.flow).map_err(|e| anyhow::anyhow!("--target {}: {e}", t.name))?;
        LoadConfig::at_url(
            &t.url,
            allow_remote,
            None,
            LoadModel::Closed { stages: Ramp::constant(1.0, Default::default()) },
        )
        .with_context(|| format!("--target {}", t.name))?;
    }
    Ok(())
}

/// What the plan says the targets' phases run with.
pub struct Settings<'a> {
    pub out: &'a std::path::Path,
    pub saturation: &'a SaturationPlan,
    pub quick: bool,
    pub allow_remote: bool,
}

/// What one target gave.
pub struct Measured {
    pub rows: UnitRows,
    pub revocation: Vec<RevocationRow>,
    /// `used_memory` before and after the fixed-rate run (with `redis=`).
    pub store_memory: Option<(u64, u64)>,
}

/// Every phase that runs against `t`.
pub async fn measure(plan: &Settings<'_>, t: &Target, stop: &CancellationToken) -> Result<Measured> {
    let flow = Flow::load(&t.flow).map_err(|e| anyhow::anyhow!("{e}"))?;
    let scheme = Scheme { name: t.name.clone(), flow };
    let sat = plan.saturation;
    let model = LoadModel::Closed { stages: Ramp::constant(1.0, sat.spectrum) };
    let mut base = LoadConfig::at_url(&t.url, plan.allow_remote, Some(scheme), model)?;
    base.server_pid = t.pid;
    base.redis_url = t.redis.clone();
    base.preflight_login = true;
    base.mix = Mix { me: 1, refresh: 0, logout: 0 };
    let redis = match &t.redis {
        Some(url) => Some(RedisInfo::connect(url).await?),
        None => None,
    };
    let before = match &redis {
        Some(r) => Some(r.sample().await?.used_memory),
        None => None,
    };
    let out =
        plan.out.join(authbench_report::data::file::RUNS).join(format!("{}-r1", t.name)).join("spectrum");
    let slo_us = sat.slo_p99.as_secs_f64() * 1e6;
    let (step, recorded) =
        run_rate_recorded(&base, sat.spectrum_rps, sat.spectrum, Some(out), slo_us, stop).await?;
    let after = match &redis {
        Some(r) => Some(r.sample().await?.used_memory),
        None => None,
    };
    let mut rows = UnitRows { me_latency: recorded.latency(Endpoint::Me).cloned(), ..UnitRows::default() };
    let at = StepRun {
        scheme: &t.name,
        repeat: 1,
        step: 1,
        share: None,
        uses_store: t.redis.is_some(),
        offered_rps: step.offered_rps,
        vus: step.vus,
        planned: step.planned,
        limits: step.limits.label(),
        machine_cpu_pct: step.machine_cpu_pct,
    };
    rows.cpu_vs_load.push(LoadStepRow::from_run(at, &step.summary));
    if let Some(e) = step.summary.endpoint(Endpoint::Me) {
        rows.credential = Some(CredentialsRow {
            scheme: t.name.clone(),
            header: flow.credential_header(),
            credential_bytes: e.credential_bytes_per_req.unwrap_or(0.0).round() as u64,
            request_bytes: e.bytes_sent_per_req.round() as u64,
            response_bytes: Some(e.bytes_received_per_req.round() as u64),
        });
    }
    let revocation =
        if flow.logout.is_some() || flow.logout_all.is_some() { probe(plan, t).await? } else { Vec::new() };
    Ok(Measured { rows, revocation, store_memory: before.zip(after) })
}

/// The revocation probe's windows as `revocation.csv` rows (`action` logout, logout_all).
async fn probe(plan: &Settings<'_>, t: &Target) -> Result<Vec<RevocationRow>> {
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
        host: None,
        ca: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_name_url_and_its_parts() {
        let t = parse_target("web=http://127.0.0.1:5000,flow=web.toml,pid=42,redis=redis://127.0.0.1:6379")
            .unwrap();
        assert_eq!((t.name.as_str(), t.url.as_str()), ("web", "http://127.0.0.1:5000"));
        assert_eq!(
            (t.flow, t.pid, t.redis.as_deref()),
            (PathBuf::from("web.toml"), Some(42), Some("redis://127.0.0.1:6379"))
        );
        for bad in [
            "web",
            "web=http://x,pid=1",
            "jwt=http://x,flow=f",
            "a b=http://x,flow=f",
            "w=http://x,flow=f,pid=x",
            "w=u,flow=f,user=1",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
