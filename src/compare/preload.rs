//! Session-scaling preload: idle logged-in users created through each scheme's real
//! credential-issuing code. For `session` that writes Redis (the cost being measured); for
//! `cookie` and `jwt` it seals or signs credentials and stores nothing — which is the point.
//! What it issues is kept as the pool the sweep's lookups draw from.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use authbench_contract::credential::BEARER;
use authbench_loadgen::CredentialsBuilder;
use authbench_servers::SchemeKind;
use authbench_servers::direct::CookieClaims as Claims;
use authbench_servers::direct::RevocationStore;
use authbench_servers::direct::SessionStore;
use authbench_servers::direct::TokenType;

use super::keys::IssueKeys;

/// Sessions per pipeline; several pipelines in flight on the multiplexed connection.
const BATCH: u64 = 2_000;
const IN_FLIGHT: usize = 4;

/// The header a scheme's credential travels in (the contract, as the generator knows it).
pub fn credential_header(scheme: SchemeKind) -> http::HeaderName {
    match scheme {
        SchemeKind::Cookie | SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked => {
            http::header::COOKIE
        }
        SchemeKind::Jwt | SchemeKind::JwtRevocable | SchemeKind::JwtPubsub => http::header::AUTHORIZATION,
    }
}

/// The stores a preload writes into: the session store for `session`, the families for
/// `jwt-revocable`.
#[derive(Clone, Copy, Default)]
pub struct Stores<'a> {
    pub session: Option<&'a SessionStore>,
    pub revocable: Option<&'a RevocationStore>,
}

/// Bring the number of idle logged-in users from `from` to `to`: users `from + 1 ..= to` get one
/// session (or one issued credential) each, so a level of N stored sessions is N distinct users.
/// Every credential issued is appended to `issued`, in user order, ready to send. Returns the
/// time it took.
pub async fn grow(
    scheme: SchemeKind,
    from: u64,
    to: u64,
    stores: Stores<'_>,
    keys: &IssueKeys,
    issued: &mut CredentialsBuilder,
) -> Result<Duration> {
    let started = Instant::now();
    if to <= from {
        return Ok(started.elapsed());
    }
    match scheme {
        SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked => {
            let store = stores.session.context("session preload needs the session store")?;
            let prefix = format!("{}=", authbench_contract::credential::SESSION_COOKIE);
            let mut starts = (from..to).step_by(BATCH as usize).peekable();
            while starts.peek().is_some() {
                let wave: Vec<u64> = starts.by_ref().take(IN_FLIGHT).collect();
                let calls = wave.iter().map(|&s| store.create_many((s..(s + BATCH).min(to)).map(|i| i + 1)));
                // join_all keeps the order of the calls: credentials stay in user order.
                for r in futures::future::join_all(calls).await {
                    let sids = r.map_err(|e| anyhow::anyhow!("{e} while preloading sessions into Redis"))?;
                    for sid in sids {
                        issued.push_parts(prefix.as_bytes(), sid.as_bytes());
                    }
                }
            }
        }
        SchemeKind::Cookie => {
            let sealer = keys.cookie.clone();
            let name = authbench_contract::credential::SEALED_COOKIE;
            let batch = tokio::task::spawn_blocking(move || {
                let now = authbench_servers::facts::now_secs();
                let prefix = format!("{name}=");
                let mut out = CredentialsBuilder::new();
                for uid in from + 1..=to {
                    let c = Claims { uid, iat: now, exp: now + 900, auth_time: now };
                    out.push_parts(prefix.as_bytes(), sealer.seal(name, &c).as_bytes());
                }
                out
            })
            .await?;
            issued.append(batch);
        }
        SchemeKind::Jwt => {
            let codec = keys.jwt.clone();
            let batch = tokio::task::spawn_blocking(move || -> Result<CredentialsBuilder> {
                let now = authbench_servers::facts::now_secs();
                let prefix = format!("{BEARER} ");
                let mut out = CredentialsBuilder::new();
                for uid in from + 1..=to {
                    out.push_parts(prefix.as_bytes(), codec.issue(uid, TokenType::Access, now)?.as_bytes());
                }
                Ok(out)
            })
            .await??;
            issued.append(batch);
        }
        SchemeKind::JwtRevocable | SchemeKind::JwtPubsub => {
            // The server's own issuing code: a family per login in Redis, a signed pair per user.
            let store =
                stores.revocable.context("jwt-revocable/jwt-pubsub preload needs the revocation store")?;
            let prefix = format!("{BEARER} ");
            let mut starts = (from..to).step_by(BATCH as usize);
            for s in starts.by_ref() {
                let uids: Vec<u64> = ((s + 1)..=(s + BATCH).min(to)).collect();
                let tokens = store
                    .issue_many(&keys.jwt, &uids)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e} while preloading jwt-revocable families into Redis"))?;
                for t in tokens {
                    issued.push_parts(prefix.as_bytes(), t.as_bytes());
                }
            }
        }
    }
    Ok(started.elapsed())
}
