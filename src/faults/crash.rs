//! `authbench faults`' Redis crash cases, `redis_killed_none` and `redis_killed_aof`: a private
//! redis-server, without persistence and with AOF (`appendfsync everysec`), SIGKILLed under a
//! session load and restarted on the same port and directory. What a reviewer asks of a store:
//!
//! - sessions lost: sessions logged in before the kill and refused after the restart (none: all
//!   of them, the stated cost; AOF: 0 — a crash of the *process* loses nothing Redis answered, as
//!   the kernel holds what it wrote; an OS crash or power loss could lose the last second, which
//!   cannot be tested here);
//! - revoked sessions resurrected: sessions logged out before the kill and accepted after the
//!   restart; must be 0 in both modes;
//! - recovery: from the restart until a fresh login and `/api/me` succeed (the server reconnects
//!   by itself);
//! - re-logins: the load's logins beyond its users' first, as they found their sessions gone
//!   (the figure the capacity work takes).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use authbench_contract::path;
use authbench_loadgen::{Endpoint, LoadConfig, LoadModel, Mix, Ramp, Scheme};
use authbench_procs::redis_server::Persistence;
use authbench_servers::{SchemeKind, ServeArgs};

use super::evidence::{audit, errors_text};
use crate::harness::credential::{Cred, login, me_status};
use crate::harness::http;
use crate::harness::redis::RedisServer;
use crate::harness::server::ServerProcess;
use crate::reliability::FaultRow;

/// Virtual users of the load, each logged in once at its start.
const VUS: u64 = 40;
/// Probe sessions kept (users 901..) and logged out (the next ones) before the kill.
const KEPT: u64 = 40;
const LOGGED_OUT: u64 = 20;
const FIRST_PROBE: u64 = 901;

/// The scenario's name for `persistence`.
pub fn scenario(persistence: Persistence) -> String {
    format!("redis_killed_{}", persistence.as_str())
}

/// Log `uids` in; the sessions.
async fn logins(addr: SocketAddr, uids: std::ops::Range<u64>) -> Result<Vec<Cred>> {
    let mut out = Vec::new();
    for uid in uids {
        out.push(login(addr, uid).await?);
    }
    Ok(out)
}

/// How many of `creds` `/api/me` answers with `status`.
async fn answering(addr: SocketAddr, creds: &[Cred], status: u16) -> Result<u64> {
    let mut n = 0;
    for c in creds {
        n += u64::from(me_status(addr, c).await? == status);
    }
    Ok(n)
}

/// Run the case for one persistence mode.
pub async fn redis_killed(persistence: Persistence, work: &Path) -> Result<FaultRow> {
    let name = scenario(persistence);
    let dir = work.join(name.replace('_', "-"));
    let mut redis = tokio::task::block_in_place(|| RedisServer::start_with(persistence))?;
    let server = ServerProcess::spawn(&ServeArgs {
        redis_url: Some(redis.url()),
        ..crate::harness::server::small(SchemeKind::Session)
    })?;
    let addr = server.addr;
    let kept = logins(addr, FIRST_PROBE..FIRST_PROBE + KEPT).await?;
    let revoked = logins(addr, FIRST_PROBE + KEPT..FIRST_PROBE + KEPT + LOGGED_OUT).await?;
    for c in &revoked {
        let status = http::send(addr, "POST", path::LOGOUT, &c.headers(), None).await?.status;
        if status != 204 {
            bail!("logout before the kill answered {status}");
        }
    }
    let mut config = LoadConfig::new(
        addr,
        Some(Scheme::new(SchemeKind::Session.as_str(), SchemeKind::Session.credential())),
        LoadModel::Closed { stages: Ramp::constant(VUS as f64, Duration::from_secs(12)) },
    );
    config.server_pid = Some(server.pid());
    config.mix = Mix { me: 100, refresh: 0, logout: 0 };
    config.out_dir = Some(dir.clone());
    config.timeout = Duration::from_secs(2);
    let stop = authbench_loadgen::CancellationToken::new();
    let load = tokio::spawn(authbench_loadgen::run(config, stop.clone()));

    tokio::time::sleep(Duration::from_secs(4)).await;
    redis.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let restarting = Instant::now();
    tokio::task::block_in_place(|| redis.restart())?;
    let restart_took = restarting.elapsed();
    let recovery = loop {
        if let Ok(fresh) = login(addr, 999).await
            && me_status(addr, &fresh).await? == 200
        {
            break Some(restarting.elapsed());
        }
        if restarting.elapsed() > Duration::from_secs(10) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let lost = KEPT - answering(addr, &kept, 200).await?;
    let resurrected = answering(addr, &revoked, 200).await?;
    let summary = load.await?.context("the load run itself failed")?;
    server.stop();
    let (parse, missing, files) = audit(&dir);
    let logins = summary.endpoints.get(&Endpoint::Login).map_or(0, |e| e.count + e.errors);
    let relogins = logins.saturating_sub(VUS);
    let as_promised = match persistence {
        Persistence::Aof => lost == 0,
        // Without persistence every session goes: that is the stated cost, measured.
        Persistence::None => lost == KEPT,
    };
    let passed = as_promised
        && resurrected == 0
        && recovery.is_some_and(|r| r < Duration::from_secs(5))
        && !summary.target_lost
        && parse
        && missing == 0;
    Ok(FaultRow {
        scenario: name,
        injected: format!(
            "redis-server ({}) SIGKILL at 4 s under {VUS} session users, restarted 1 s later on the same port and directory",
            match persistence {
                Persistence::None => "no persistence",
                Persistence::Aof => "AOF, appendfsync everysec",
            }
        ),
        requests: summary.total.count + summary.total.errors + summary.total.unfinished,
        errors: errors_text(&summary),
        recovery_s: recovery.map(|r| r.as_secs_f64()),
        files_parse: parse,
        passed,
        detail: format!(
            "of {KEPT} sessions logged in before the kill, {lost} were refused after the restart; of {LOGGED_OUT} logged \
             out before it, {resurrected} were accepted after it; redis-server answered again {:.0} ms after its restart \
             began, a fresh login + /api/me succeeded {}; the load logged in {relogins} times beyond its {VUS} users' first; \
             {files}",
            restart_took.as_secs_f64() * 1e3,
            recovery
                .map(|r| format!("{:.0} ms after it", r.as_secs_f64() * 1e3))
                .unwrap_or_else(|| "never (10 s)".into())
        ),
        sessions_lost: Some(lost),
        resurrected: Some(resurrected),
        relogins: Some(relogins),
        ..FaultRow::default()
    })
}
