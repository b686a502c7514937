//! Session-scaling preload: idle logged-in users created through each scheme's real
//! credential-issuing code. For `session` that writes Redis (the cost being measured); for
//! `cookie` and `jwt` it seals or signs credentials and stores nothing — which is the point.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use authbench_servers::SchemeKind;
use authbench_servers::cookie::Claims;
use authbench_servers::jwt::TokenType;
use authbench_servers::session::SessionStore;

use super::keys::IssueKeys;

/// Sessions per pipeline; several pipelines in flight on the multiplexed connection.
const BATCH: u64 = 2_000;
const IN_FLIGHT: usize = 4;

/// Bring the number of idle sessions from `from` to `to`, for user ids cycling over `1..=users`.
/// Returns the time it took.
pub async fn grow(
    scheme: SchemeKind,
    from: u64,
    to: u64,
    users: u64,
    store: Option<&SessionStore>,
    keys: &IssueKeys,
) -> Result<Duration> {
    let started = Instant::now();
    if to <= from {
        return Ok(started.elapsed());
    }
    let uid = move |i: u64| i % users + 1;
    match scheme {
        SchemeKind::Session => {
            let store = store.context("session preload needs the session store")?;
            let mut starts = (from..to).step_by(BATCH as usize).peekable();
            while starts.peek().is_some() {
                let wave: Vec<u64> = starts.by_ref().take(IN_FLIGHT).collect();
                let calls = wave.iter().map(|&s| store.create_many((s..(s + BATCH).min(to)).map(uid)));
                for r in futures::future::join_all(calls).await {
                    r.map_err(|e| anyhow::anyhow!("{e} while preloading sessions into Redis"))?;
                }
            }
        }
        SchemeKind::Cookie => {
            let sealer = keys.cookie.clone();
            tokio::task::spawn_blocking(move || {
                let now = authbench_servers::api::now_secs();
                for i in from..to {
                    let c = Claims { uid: uid(i), iat: now, exp: now + 900 };
                    std::hint::black_box(sealer.seal(authbench_servers::cookie::COOKIE_NAME, &c));
                }
            })
            .await?;
        }
        SchemeKind::Jwt => {
            let codec = keys.jwt.clone();
            tokio::task::spawn_blocking(move || -> Result<()> {
                let now = authbench_servers::api::now_secs();
                for i in from..to {
                    std::hint::black_box(codec.issue(uid(i), TokenType::Access, now)?);
                }
                Ok(())
            })
            .await??;
        }
    }
    Ok(started.elapsed())
}
