//! What revocation costs the JWT variants (`jwt-revocable`, `jwt-pubsub`), measured once per
//! scheme on the revocation phase's server A with its own key prefix:
//! - Redis bytes per revoked token: `used_memory` after [`LOGOUTS`] logouts minus before, ÷ N
//!   (each logout stores the access token's and the refresh token's `jti` and marks the family;
//!   `jwt-pubsub` also its family marker);
//! - `jwt-pubsub`'s in-process denylist bytes per entry: the same N revocations (a `jti` and a
//!   family per logout) inserted into a [`Denylist`], its tables' estimated heap bytes ÷ entries
//!   (an estimate of the layout, not a reading of the server's RSS, which 500 entries cannot move
//!   measurably);
//! - the cost of one refresh (rotation with reuse detection, one script call): Redis commands,
//!   Redis CPU and server CPU per `POST /auth/refresh` over a chain of [`REFRESHES`] rotations.
//!   `commandstats` counts a script's inner commands too: one round trip (`EVALSHA`) reads as 5
//!   (`evalsha`, `get`, `exists`, `get`, `set`).
//!
//! Redis memory grows with revocations, not users: the bytes are per revoked token, and they
//! expire with the token.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use authbench_contract::path;
use authbench_report::metric::Metric;
use authbench_servers::SchemeKind;
use authbench_servers::direct::{Denylist, DenylistEntry as Entry};

use crate::compare::ctx::Ctx;
use crate::harness::credential::login;
use crate::harness::http;

/// Logouts whose Redis memory is measured.
pub const LOGOUTS: u64 = 500;
/// Rotations whose cost is measured.
pub const REFRESHES: u64 = 300;
/// Users of the measurement (above the other phases' few users).
const FIRST_USER: u64 = 100;

/// Whether `scheme` has revocation costs to measure.
pub fn applies(scheme: SchemeKind) -> bool {
    crate::compare::plan::logout::keeps_revocation_entries(scheme)
}

/// The figures, as `summary.csv` metrics of the scheme.
pub async fn measure(
    ctx: &Ctx,
    scheme: SchemeKind,
    addr: SocketAddr,
    pid: u32,
) -> Result<Vec<(Metric, f64)>> {
    let mut out = Vec::new();
    let users = LOGOUTS.min(ctx.plan.users.saturating_sub(FIRST_USER));
    if users == 0 {
        return Ok(out);
    }
    let mut creds = Vec::with_capacity(users as usize);
    for uid in FIRST_USER..FIRST_USER + users {
        creds.push(login(addr, uid).await?);
    }
    let before = ctx.store.memory().await?;
    for c in &creds {
        let r = http::send(addr, "POST", path::LOGOUT, &c.headers(), None).await?;
        if r.status != 204 {
            bail!("{scheme}: logout answered {} while measuring bytes per revoked token", r.status);
        }
    }
    let after = ctx.store.memory().await?;
    out.push((Metric::StoreBytesPerRevokedToken, (after as f64 - before as f64) / users as f64));
    if scheme == SchemeKind::JwtPubsub {
        let list = Denylist::new();
        for c in &creds {
            let id = |claim: &str| -> String { jwt_claim(c.raw(), claim).unwrap_or_default() };
            list.insert(Entry::Jti { jti: id("jti"), until: u64::MAX });
            list.insert(Entry::Family { fid: id("fid"), until: u64::MAX });
        }
        out.push((Metric::DenylistBytesPerEntry, list.approx_bytes() as f64 / list.len().max(1) as f64));
    }

    // A chain of rotations of one family.
    let first = login(addr, FIRST_USER + users).await?;
    let mut token = first.refresh_token.clone().context("login answered no refresh token")?;
    let (calls0, redis0, server0) = (ctx.store.commandstats().await?, ctx.store.cpu().await?, cpu(pid)?);
    for _ in 0..REFRESHES {
        let body = format!(r#"{{"refresh_token":"{token}"}}"#);
        let r = http::send(addr, "POST", path::REFRESH, &[], Some(&body)).await?;
        if r.status != 200 {
            bail!("{scheme}: refresh answered {} while measuring its cost", r.status);
        }
        let v: serde_json::Value = serde_json::from_slice(&r.body)?;
        token = v["refresh_token"].as_str().context("refresh answered no refresh token")?.to_owned();
    }
    let (calls1, redis1, server1) = (ctx.store.commandstats().await?, ctx.store.cpu().await?, cpu(pid)?);
    let commands: u64 = calls1
        .iter()
        .filter(|(k, _)| k.as_str() != "info")
        .map(|(k, v)| v - calls0.get(k).copied().unwrap_or(0))
        .sum();
    let n = REFRESHES as f64;
    out.push((Metric::RefreshRedisCommands, commands as f64 / n));
    out.push((Metric::RefreshCpuRedis, (redis1 - redis0).as_secs_f64() * 1e6 / n));
    out.push((Metric::RefreshCpuServer, server1.cpu_since(&server0).as_secs_f64() * 1e6 / n));
    Ok(out)
}

fn cpu(pid: u32) -> Result<authbench_loadgen::ProcSample> {
    authbench_loadgen::read_proc(pid).context("read the server's CPU from /proc")
}

/// A string claim of a JWT's payload (no verification: our own server's token).
fn jwt_claim(token: &str, claim: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v[claim].as_str().map(str::to_owned)
}
