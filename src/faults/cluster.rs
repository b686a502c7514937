//! `authbench faults`' Redis Cluster cases (issue 13), each on a private 3-primary/3-replica
//! cluster of its own:
//!
//! - `cluster_failover`: a session load on the cluster; one third of the way in, the primary of a
//!   probe session's slot is SIGKILLed. Errors must stay inside the failover window (reported with
//!   the `cluster-node-timeout` used) and the server must serve that slot again by itself.
//! - `revoked_after_failover`: the revoked session that comes back. Made deterministic: the
//!   replica is SIGSTOPped and its link cut, the session logged out, the primary SIGKILLed, the
//!   replica resumed and promoted. Without `--durable-logout` the 2xx logout's session is accepted
//!   again; with it the logout answers 503 and no 2xx logout comes back (must be 0). The cost of a
//!   durable logout is measured on the healthy cluster first.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use authbench_contract::path;
use authbench_loadgen::LoadConfig;
use authbench_loadgen::Mix;
use authbench_loadgen::Scheme;
use authbench_loadgen::{LoadModel, Ramp};
use authbench_procs::redis_cluster::RedisCluster;
use authbench_procs::slot::key_slot;
use authbench_servers::facts::SESSION_TAG_LEN as TAG_LEN;
use authbench_servers::{SchemeKind, ServeArgs};

use crate::harness::credential::{Cred, login, me_status};
use crate::harness::http;
use crate::harness::server::{ServerProcess, small};
use crate::reliability::FaultRow;

/// The primary serving `cred`'s session (the slot of its tag).
fn primary_of(cluster: &RedisCluster, cred: &Cred) -> Result<u16> {
    let raw = cred.raw();
    let tag = raw.get(..TAG_LEN).context("session id shorter than its tag")?;
    Ok(cluster.primary_of_slot(key_slot(&format!("{{{tag}}}")))?)
}

fn session_server(cluster: &RedisCluster, prefix: &str, durable: bool) -> Result<ServerProcess> {
    ServerProcess::spawn(&ServeArgs {
        redis_cluster: Some(cluster.url_list()),
        redis_prefix: Some(prefix.to_owned()),
        durable_logout: durable,
        ..small(SchemeKind::Session)
    })
}

async fn logout(addr: SocketAddr, cred: &Cred) -> Result<u16> {
    Ok(http::send(addr, "POST", path::LOGOUT, &cred.headers(), None).await?.status)
}

/// Poll `/api/me` until it answers something other than 503 (15 s at most).
async fn settled(addr: SocketAddr, cred: &Cred) -> Result<(u16, Duration)> {
    let started = Instant::now();
    loop {
        let s = me_status(addr, cred).await?;
        if s != 503 || started.elapsed() > Duration::from_secs(15) {
            return Ok((s, started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Log users in from `from` on until one's session lives on a primary `pick` accepts.
async fn login_on(
    addr: SocketAddr,
    cluster: &RedisCluster,
    from: u64,
    pick: impl Fn(u16) -> bool,
) -> Result<(Cred, u16)> {
    for uid in from..from + 200 {
        // A server idle during a failover may answer 503 until its client has the new slot map.
        let started = Instant::now();
        let cred = loop {
            match login(addr, uid).await {
                Ok(cred) => break cred,
                Err(e) if started.elapsed() > Duration::from_secs(15) => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let primary = primary_of(cluster, &cred)?;
        if pick(primary) {
            return Ok((cred, primary));
        }
    }
    anyhow::bail!("no user from {from} landed on a wanted primary")
}

/// Seconds (rows of `timeseries.csv`, from 0) with at least one error of any kind.
fn error_seconds(dir: &Path) -> Result<Vec<usize>> {
    let rows = authbench_loadgen::read_timeseries(dir)?;
    Ok(rows.iter().enumerate().filter(|(_, r)| r.errors.iter().any(|&n| n > 0)).map(|(i, _)| i).collect())
}

/// A primary killed one third of the way into a 9 s session load.
pub async fn cluster_failover(work: &Path) -> Result<FaultRow> {
    let dir = work.join("cluster-failover");
    let mut cluster = tokio::task::block_in_place(RedisCluster::start)?;
    let server = session_server(&cluster, "faults:failover:", false)?;
    let addr = server.addr;
    let run = Duration::from_secs(9);
    let mut config = LoadConfig::new(
        addr,
        Some(Scheme::new(SchemeKind::Session.as_str(), SchemeKind::Session.credential())),
        LoadModel::Closed { stages: Ramp::constant(40.0, run) },
    );
    config.server_pid = Some(server.pid());
    config.mix = Mix { me: 100, refresh: 0, logout: 0 };
    config.out_dir = Some(dir.clone());
    config.timeout = Duration::from_secs(2);
    let stop = authbench_loadgen::CancellationToken::new();
    let started = Instant::now();
    let load = tokio::spawn(authbench_loadgen::run(config, stop.clone()));

    let probe = login(addr, 999).await?;
    let victim = primary_of(&cluster, &probe)?;
    tokio::time::sleep((run / 3).saturating_sub(started.elapsed())).await;
    let killed_at = started.elapsed();
    tokio::task::block_in_place(|| cluster.kill_node(victim));
    let killed = Instant::now();
    // The probe's slot is on the dead primary: it answers 503 until a replica is promoted and
    // the server's client has the new slot map, then 200 again, without a restart.
    let mut first_failure = None;
    let recovery = loop {
        let s = me_status(addr, &probe).await?;
        if s == 200 && first_failure.is_some() {
            break Some(killed.elapsed());
        }
        if s != 200 && first_failure.is_none() {
            first_failure = Some(killed.elapsed());
        }
        if killed.elapsed() > Duration::from_secs(20) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let summary = load.await?.context("the load run itself failed")?;
    server.stop();
    let node_timeout = cluster.node_timeout();
    drop(cluster);
    let errors = error_seconds(&dir).unwrap_or_default();
    // The window in whole seconds of the load's clock: from the kill's second to the recovery's,
    // one second of slack each side for requests that straddle a boundary.
    let window = recovery.map(|r| {
        let from = killed_at.as_secs() as usize;
        (from.saturating_sub(1), (killed_at + r).as_secs() as usize + 1)
    });
    let inside = window.is_some_and(|(a, b)| errors.iter().all(|s| (a..=b).contains(s)));
    let (parse, lost) = match crate::reliability::lost::lost_in_run(&dir, &dir.display().to_string()) {
        Ok(rows) => (true, rows.iter().map(|r| r.lost).sum::<u64>()),
        Err(_) => (false, 0),
    };
    let passed = recovery.is_some() && inside && !summary.target_lost && parse && lost == 0;
    Ok(FaultRow {
        scenario: "cluster_failover".into(),
        injected: format!(
            "Redis Cluster (3 primaries + 3 replicas, cluster-node-timeout {} ms): the primary of a probe's slot SIGKILLed at {:.1} s of a 9 s load of 40 session users",
            node_timeout.as_millis(),
            killed_at.as_secs_f64()
        ),
        requests: summary.total.count + summary.total.errors + summary.total.unfinished,
        errors: super::evidence::errors_text(&summary),
        worst_latency_ms: None,
        recovery_s: recovery.map(|r| r.as_secs_f64()),
        exit_code: None,
        files_parse: parse,
        passed,
        detail: format!(
            "the probe's slot failed {} after the kill and was served again {} after it, without restarting the server \
             (failover window; cluster-node-timeout {} ms); seconds of the load with errors: {:?}, {} the window {}; \
             {lost} requests missing from the files",
            first_failure.map_or("never".into(), |d| format!("{:.0} ms", d.as_secs_f64() * 1e3)),
            recovery.map_or("never (20 s)".into(), |d| format!("{:.2} s", d.as_secs_f64())),
            node_timeout.as_millis(),
            errors,
            if inside { "all inside" } else { "NOT all inside" },
            window.map_or("(none: no recovery)".into(), |(a, b)| format!("{a}-{b} s")),
        ),
        ..FaultRow::default()
    })
}

/// Mean time of `n` logouts (each after a fresh login, not timed), in ms.
async fn logout_cost(addr: SocketAddr, n: u64) -> Result<f64> {
    let mut total = Duration::ZERO;
    for uid in 1..=n {
        let cred = login(addr, uid).await?;
        let t = Instant::now();
        let status = logout(addr, &cred).await?;
        total += t.elapsed();
        anyhow::ensure!(status == 204, "logout of user{uid} answered {status} on a healthy cluster");
    }
    Ok(total.as_secs_f64() * 1e3 / n as f64)
}

/// The lost-delete sequence on `primary`; returns the logout's status and whether the logged-out
/// session is accepted again afterwards.
async fn logout_across_failover(
    cluster: &mut RedisCluster,
    addr: SocketAddr,
    cred: &Cred,
    primary: u16,
) -> Result<(u16, bool, Duration)> {
    let replica = tokio::task::block_in_place(|| cluster.cut_off_replica(primary))?;
    let status = logout(addr, cred).await?;
    let took = tokio::task::block_in_place(|| cluster.fail_over(primary, replica))?;
    let (after, _) = settled(addr, cred).await?;
    Ok((status, after == 200, took))
}

/// The revoked session that comes back after a failover, without and with `--durable-logout`.
pub async fn revoked_after_failover() -> Result<FaultRow> {
    let mut cluster = tokio::task::block_in_place(RedisCluster::start)?;
    let plain = session_server(&cluster, "faults:plain:", false)?;
    let durable = session_server(&cluster, "faults:durable:", true)?;
    const N: u64 = 100;
    let plain_ms = logout_cost(plain.addr, N).await?;
    let durable_ms = logout_cost(durable.addr, N).await?;

    let (cred, p1) = login_on(plain.addr, &cluster, 10, |_| true).await?;
    let (plain_status, plain_back, took1) =
        logout_across_failover(&mut cluster, plain.addr, &cred, p1).await?;
    // A primary that still has its replica (not the one promoted a moment ago).
    let (cred, p2) =
        login_on(durable.addr, &cluster, 300, |p| p != p1 && cluster.replica_of(p).is_ok()).await?;
    let (durable_status, durable_back, took2) =
        logout_across_failover(&mut cluster, durable.addr, &cred, p2).await?;
    let plain_count = u32::from((200..300).contains(&plain_status) && plain_back);
    let durable_count = u32::from((200..300).contains(&durable_status) && durable_back);
    let node_timeout = cluster.node_timeout();
    plain.stop();
    durable.stop();
    // Passed: the case reproduced (the plain 2xx logout came back), and durable logout let none back.
    let passed = plain_count == 1 && durable_count == 0 && durable_status == 503;
    Ok(FaultRow {
        scenario: "revoked_after_failover".into(),
        injected: format!(
            "Redis Cluster, cluster-node-timeout {} ms: replica SIGSTOPped and its link cut, session logged out, primary SIGKILLed, replica SIGCONTed and promoted; once without, once with --durable-logout",
            node_timeout.as_millis()
        ),
        requests: 2 * N + 2,
        errors: if durable_status == 503 { "durable logout 503 1".into() } else { "none".into() },
        worst_latency_ms: None,
        recovery_s: Some(took1.max(took2).as_secs_f64()),
        exit_code: None,
        files_parse: true,
        passed,
        detail: format!(
            "revoked sessions that came back: {plain_count} of 1 without --durable-logout (logout answered {plain_status}, \
             session accepted again: {plain_back}); {durable_count} with it (logout answered {durable_status}: WAIT 1 \
             timed out, so the client knows it did not take; session accepted again: {durable_back}). Logout on the healthy \
             cluster, mean of {N} over loopback HTTP: {plain_ms:.2} ms plain, {durable_ms:.2} ms durable ({:+.2} ms for \
             WAIT 1). Failovers took {:.1} s and {:.1} s after SIGCONT",
            durable_ms - plain_ms,
            took1.as_secs_f64(),
            took2.as_secs_f64()
        ),
        ..FaultRow::default()
    })
}
