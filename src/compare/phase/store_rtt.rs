//! The store-RTT phase (`--store-rtt 0,250us,1ms`): at each RTT, a server of the unit's scheme
//! whose store is one hop away ([`crate::compare::store_hop`]), `GET /api/me` at one fixed
//! arrival rate (open model, corrected latency), and the server's and the delay proxies' CPU per
//! request. Every repeat, so the session − jwt gap is a paired difference. jwt calls no store:
//! its server gets no proxy, and stands for what the hop costs a scheme that never crosses it.

use std::time::Duration;

use anyhow::{Context, Result};
use authbench_loadgen::{Endpoint, LoadConfig, LoadModel, Ramp, Scheme};
use authbench_report::store_rtt::StoreRttRow;
use authbench_servers::SchemeKind;

use super::{Unit, UnitResult, me_only};
use crate::compare::rate_step::pool_size;
use crate::compare::schedule::Phase;
use crate::compare::store_hop::Hop;
use crate::harness::server::ServerProcess;

/// Users of the phase's servers: the pool logs in this many at most (latency does not depend on
/// how many users a server knows).
const USERS: u64 = 2_000;

pub fn applies(scheme: SchemeKind) -> bool {
    crate::compare::plan::RTT_SCHEMES.contains(&scheme)
}

/// Summed CPU of processes (`None` when one is gone).
fn cpu(pids: &[u32]) -> Option<Duration> {
    authbench_loadgen::read_procs(pids).ok().map(|p| p.cpu)
}

pub async fn run(u: &Unit<'_>, r: &mut UnitResult) -> Result<()> {
    let plan = &u.ctx.plan;
    for &rtt in &plan.store_rtts {
        if u.stopped() {
            return Ok(());
        }
        u.enter_at(Phase::StoreRtt, &format!("{} µs RTT", rtt.as_micros()));
        let mut args = u.ctx.server_args(u.scheme, u.prefix, None);
        args.users = USERS;
        let hop = match u.scheme.uses_store() {
            true => Some(Hop::start(&u.ctx.store, rtt).context("start the delay proxies")?),
            false => None,
        };
        if let Some(h) = &hop {
            h.point(&mut args);
        }
        let server = ServerProcess::spawn(&args)?;
        let rate = plan.store_rtt_rate;
        let model =
            LoadModel::Open { rate_stages: Ramp::constant(rate, plan.store_rtt_hold), vus: pool_size(rate) };
        let mut c =
            LoadConfig::new(server.addr, Some(Scheme::new(u.scheme.as_str(), u.scheme.credential())), model);
        c.mix = me_only();
        c.server_pid = Some(server.pid());
        c.out_dir = Some(u.dir.join(format!("store-rtt-{}us", rtt.as_micros())));
        let pids = hop.as_ref().map(Hop::pids).unwrap_or_default();
        let before = cpu(&pids);
        let summary = u.run_load(c, Phase::StoreRtt, None).await?;
        let after = cpu(&pids);
        server.stop();
        drop(hop);
        let me = summary.endpoint(Endpoint::Me);
        let answered = me.map_or(0, |e| e.count.saturating_sub(e.errors));
        let per_req = |d: Duration| (answered > 0).then(|| d.as_secs_f64() * 1e6 / answered as f64);
        let latency = me.and_then(|e| e.latency_us.clone());
        r.rows.store_rtt.push(StoreRttRow {
            scheme: u.scheme.to_string(),
            repeat: u.repeat,
            rtt_us: rtt.as_micros() as f64,
            offered_rps: rate,
            achieved_rps: me.map_or(0.0, |e| e.rps),
            p50_us: latency.as_ref().map_or(f64::NAN, |l| l.p50 as f64),
            p99_us: latency.as_ref().map_or(f64::NAN, |l| l.p99 as f64),
            errors: me.map_or(0, |e| e.errors + e.unfinished),
            server_cpu_us_per_req: summary.server.cpu_us_per_req,
            proxy_cpu_us_per_req: match (before, after) {
                (Some(b), Some(a)) if !pids.is_empty() => per_req(a.saturating_sub(b)),
                _ => None,
            },
        });
    }
    Ok(())
}
