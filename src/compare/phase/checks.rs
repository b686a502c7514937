//! The checks phase, before any number is reported: prove each server does its real work and the
//! schemes are equivalent. Every check becomes a row of `checks.csv`; a failed check stops that
//! scheme's run. On the first repeat the attack battery follows (`attacks.csv`).

use std::net::SocketAddr;

use anyhow::{Result, bail};
use authbench_contract::path;
use authbench_servers::SchemeKind;

use authbench_report::data::{CheckRow, file};
/// The credential the checks logged in with, as a request carries it: the CPU phase reports
/// these bytes where the load run did not count them.
pub use authbench_report::run::Presented;

use super::{Unit, UnitResult};
use crate::compare::schedule::Phase;
use crate::compare::state_store::Store;
use crate::harness::credential::{login, me_status};
use crate::harness::http;
use crate::reliability::attack;

/// What the checks learned.
pub struct Checked {
    /// Rows of `checks.csv`.
    pub rows: Vec<CheckRow>,
    /// `/api/me` body of user1, compared across schemes by the caller.
    pub me_body: Vec<u8>,
    pub presented: Presented,
}

/// The checks, then (first repeat) the attack battery, against the unit's server; their rows go
/// into `r`. Strict Redis command counts only when compare owns the store (nobody else sends it
/// commands); on a cluster they are summed over the primaries.
pub async fn run(u: &Unit<'_>, r: &mut UnitResult) -> Result<Presented> {
    let (scheme, addr) = (u.scheme, u.server.addr);
    u.enter(Phase::Checks);
    let strict_store = u.ctx.store.owned.then_some(&u.ctx.store);
    let replicas = u.server.replica_addrs();
    // Behind HAProxy each replica keeps its own cache: a cached variant misses once per replica.
    let checked = check(scheme, addr, strict_store, replicas.len().max(1) as u64).await?;
    r.rows.checks = checked.rows;
    if replicas.len() > 1 {
        u.enter(Phase::ReplicaChecks);
        let rows = super::cross_replica::check(scheme, &replicas).await?;
        let failed: Vec<String> =
            rows.iter().filter(|c| !c.passed).map(|c| format!("{}: {}", c.check, c.detail)).collect();
        r.rows.checks.extend(rows);
        if !failed.is_empty() {
            bail!("{scheme} failed its checks across replicas: {}", failed.join("; "));
        }
    }
    r.rows.me_body = checked.me_body;
    if u.repeat == 1 {
        u.enter(Phase::AttackBattery);
        r.rows.attacks = attack::run(scheme, addr).await?;
        let bad: u64 = r.rows.attacks.iter().map(|a| a.accepted + a.server_errors).sum();
        if bad > 0 {
            bail!("{scheme}: {bad} forged credentials were accepted or caused a 5xx (see {})", file::ATTACKS);
        }
    }
    Ok(checked.presented)
}

/// Run the equivalence and real-work checks against one live server (or `servers` replicas
/// behind one address, each with its own cache).
pub async fn check(
    scheme: SchemeKind,
    addr: SocketAddr,
    redis: Option<&Store>,
    servers: u64,
) -> Result<Checked> {
    let mut rows = Vec::new();
    let mut add = |check: &'static str, passed: bool, detail: String| {
        rows.push(CheckRow {
            scheme: scheme.to_string(),
            check: check.to_owned(),
            passed,
            detail,
            category: None,
        });
    };
    let cred = login(addr, 1).await?;
    let me = http::send(addr, "GET", path::ME, &cred.headers(), None).await?;
    add("me_ok", me.status == 200, format!("GET /api/me answered {}", me.status));

    let raw = cred.raw().to_owned();
    let mid = raw.len() / 2;
    let mut tampered = raw.clone().into_bytes();
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = cred.with_raw(&String::from_utf8(tampered).expect("ascii credential"));
    let status = me_status(addr, &tampered).await?;
    add("tampered_rejected", status == 401, format!("credential with byte {mid} changed answered {status}"));
    let forged = cred.with_raw("forged-credential");
    let status = me_status(addr, &forged).await?;
    add("forged_rejected", status == 401, format!("made-up credential answered {status}"));

    // Store work per request, from Redis's own command statistics (summed over a cluster's
    // primaries, where the cluster's own traffic is left out).
    if let Some(info) = redis {
        let cluster = info.is_cluster();
        const N: u64 = 200;
        // The cached variants count on a fresh credential: its first request is a miss, so the
        // commands-per-miss check cannot pass vacuously on a record cached by the checks above.
        let fresh;
        let counted = match scheme {
            SchemeKind::SessionCached | SchemeKind::SessionTracked => {
                fresh = login(addr, 3).await?;
                &fresh
            }
            _ => &cred,
        };
        let before = info.commandstats().await?;
        let started = std::time::Instant::now();
        for _ in 0..N {
            let s = me_status(addr, counted).await?;
            if s != 200 {
                bail!("GET /api/me answered {s} during the store-lookup check");
            }
        }
        let elapsed = started.elapsed();
        let after = info.commandstats().await?;
        let delta = |cmd: &str| after.get(cmd).copied().unwrap_or(0) - before.get(cmd).copied().unwrap_or(0);
        let total: u64 = after
            .iter()
            .filter(|(k, _)| k.as_str() != "info" && !(cluster && cluster_traffic(k)))
            .map(|(k, v)| v - before.get(k).copied().unwrap_or(0))
            .sum();
        match scheme {
            SchemeKind::Session => add(
                "one_store_lookup_per_request",
                delta("getex") == N && total == N,
                format!("{N} x GET /api/me: {} GETEX, {total} Redis commands in all", delta("getex")),
            ),
            SchemeKind::JwtRevocable => add(
                "one_store_lookup_per_request",
                delta("mget") == N && total == N,
                format!(
                    "{N} x GET /api/me: {} MGET (revoked jti, logout-all epoch, family), {total} Redis commands in all",
                    delta("mget")
                ),
            ),
            SchemeKind::SessionCached => {
                // One GETEX per miss: at most the first request (the record may be cached already
                // from the checks above), then one per cache TTL elapsed.
                let ttl = authbench_servers::facts::DEFAULT_CACHE_TTL.as_secs_f64();
                let most = servers * (1 + (elapsed.as_secs_f64() / ttl).ceil() as u64);
                let misses = delta("getex");
                add(
                    "store_lookups_per_cache_miss",
                    (1..=most).contains(&misses) && total == misses,
                    format!(
                        "{N} x GET /api/me in {:.0} ms: {misses} GETEX (expected 1 to {most}: one per miss), \
                         {total} Redis commands in all; hit ratio {:.3}",
                        elapsed.as_secs_f64() * 1e3,
                        1.0 - misses as f64 / N as f64
                    ),
                )
            }
            SchemeKind::SessionTracked => {
                // Per miss: GET + PTTL on the tracking connection, plus an EXPIRE when under half
                // the idle TTL remains; per hit: nothing. Misses: at most the first request, then
                // one per cache TTL (no invalidation happens here).
                let ttl = authbench_servers::facts::DEFAULT_CACHE_TTL.as_secs_f64();
                let most = servers * (1 + (elapsed.as_secs_f64() / ttl).ceil() as u64);
                let (misses, pttl, expire) = (delta("get"), delta("pttl"), delta("expire"));
                add(
                    "store_commands_per_cache_miss",
                    (1..=most).contains(&misses)
                        && pttl == misses
                        && expire <= misses
                        && total == misses + pttl + expire,
                    format!(
                        "{N} x GET /api/me in {:.0} ms: {misses} misses (GET, expected 1 to {most}), \
                         {pttl} PTTL, {expire} EXPIRE, {total} Redis commands in all \
                         (expected 2 per miss, +1 per expiry refresh); {} hits, hit ratio {:.3}",
                        elapsed.as_secs_f64() * 1e3,
                        N - misses.min(N),
                        1.0 - misses as f64 / N as f64
                    ),
                )
            }
            SchemeKind::JwtPubsub => {
                // The subscription's keep-alive PING (every 500 ms) is not per request.
                let per_request = total - delta("ping");
                add(
                    "no_store_calls",
                    per_request == 0,
                    format!(
                        "{N} x GET /api/me: {per_request} Redis commands besides the subscription's {} PING \
                         (in-memory denylist: expected 0)",
                        delta("ping")
                    ),
                )
            }
            _ => add(
                "no_store_calls",
                total == 0,
                format!("{N} x GET /api/me: {total} Redis commands (stateless: expected 0)"),
            ),
        }
    }

    match scheme.parent() {
        SchemeKind::Jwt => {
            use base64::Engine;
            let payload = raw.split('.').nth(1).unwrap_or("");
            let decoded =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap_or_default();
            let text = String::from_utf8_lossy(&decoded).to_string();
            let clean = !text.contains("password") && text.contains("\"sub\"");
            add("payload_readable_without_key_holds_no_secret", clean, format!("payload decodes to {text}"));
        }
        SchemeKind::Cookie => {
            let clear = raw.contains("uid") || raw.contains("user1");
            add(
                "cookie_encrypted",
                !clear,
                format!("{}-byte sealed value; no claim readable in clear", raw.len()),
            );
        }
        SchemeKind::JwtRevocable
        | SchemeKind::JwtPubsub
        | SchemeKind::SessionCached
        | SchemeKind::SessionTracked => {
            unreachable!("a variant's parent is an original scheme")
        }
        SchemeKind::Session => {
            // The user's keyed tag (16 hex, opaque: HMAC of the user id) + 128 random bits (32 hex).
            let opaque = authbench_servers::facts::is_session_id(&raw);
            add(
                "session_id_opaque_128_bit",
                opaque,
                format!(
                    "session id is {} hex characters ({}-character keyed user tag + 128 random bits expected)",
                    raw.len(),
                    authbench_servers::facts::SESSION_TAG_LEN
                ),
            );
        }
    }

    // Replay after logout: rejected by the schemes with a store, accepted by the stateless ones
    // until expiry.
    let victim = login(addr, 2).await?;
    let out = http::send(addr, "POST", path::LOGOUT, &victim.headers(), None).await?;
    let replay = me_status(addr, &victim).await?;
    let expected = if scheme.uses_store() { 401 } else { 200 };
    add(
        "replay_after_logout",
        out.status == 204 && replay == expected,
        format!("logout {} then replay answered {replay} (documented: {expected})", out.status),
    );

    let failed: Vec<String> =
        rows.iter().filter(|c| !c.passed).map(|c| format!("{}: {}", c.check, c.detail)).collect();
    if !failed.is_empty() {
        bail!("{scheme} failed its pre-measurement checks: {}", failed.join("; "));
    }
    Ok(Checked {
        rows,
        me_body: me.body.to_vec(),
        presented: Presented { header: cred.header, bytes: cred.value.len() },
    })
}

/// Commands a Redis Cluster's primaries receive that are no request's work: a replica's
/// `REPLCONF ACK`, and the cluster client's `PING` / `CLUSTER SLOTS` / `COMMAND` when it (re)reads
/// the slot map.
fn cluster_traffic(command: &str) -> bool {
    matches!(command, "replconf" | "ping" | "cluster" | "command")
}
