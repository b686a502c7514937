//! Logout-all against concurrency: does a credential that keeps changing survive it?
//!
//! Two races, each run as many independent trials (one user per trial, trials run concurrently):
//! - [`Race::RefreshingThief`]: the user is logged in on three devices; a thief holding copies of
//!   two of them refreshes each in a tight loop on its own connection while the victim, on the
//!   third, calls logout-all. The thief keeps refreshing for [`GRACE`] after the 204, then every
//!   credential the thief ended up with is tried on `GET /api/me` and `POST /auth/refresh`.
//! - [`Race::Login`]: someone who knows the password logs in in a loop while the victim calls
//!   logout-all. Every login answered before logout-all was sent must be refused afterwards; a
//!   login sent after the 204 must work (logout-all does not lock the account).
//!
//! A trial fails when any credential that logout-all had to end is accepted [`GRACE`] after the
//! 204 (on the server that answered it), or when any answer is a 5xx. Two loops on one stolen
//! session would race each other (reuse detection ends the family first), which is why the thief
//! steals two sessions: the race measured is logout-all's alone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use authbench_contract::path;
use futures::StreamExt;
use tokio::sync::Mutex;

use crate::harness::credential::{Cred, login, me_status, refresh};
use crate::harness::http;

/// How long after logout-all's 204 a revoked credential must already be refused (the window every
/// synchronous scheme promises on the server that answered).
pub const GRACE: Duration = Duration::from_millis(100);

/// Which race.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Race {
    RefreshingThief,
    Login,
}

impl Race {
    pub fn as_str(self) -> &'static str {
        match self {
            Race::RefreshingThief => "logout_all_vs_refresh",
            Race::Login => "logout_all_vs_login",
        }
    }
}

/// What a batch of trials found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaceOutcome {
    pub trials: u64,
    /// Trials in which a credential logout-all had to end was accepted [`GRACE`] after the 204.
    pub survived: u64,
    /// Of those credentials: accepted by `GET /api/me`, and by `POST /auth/refresh`.
    pub accepted_me: u64,
    pub accepted_refresh: u64,
    /// Credentials tried after the 204 (the thief's, or the logins answered before it was sent).
    pub checked: u64,
    /// Refreshes (or logins) the thief completed while the race ran: how hard it pushed.
    pub thief_ops: u64,
    /// Login race: logins sent after the 204 that were refused (should be 0).
    pub refused_after: u64,
    /// Answers of 500 or above, anywhere in the trial.
    pub server_errors: u64,
    /// Trials that could not run (a login failed, logout-all did not answer 204).
    pub broken: u64,
}

impl RaceOutcome {
    fn add(&mut self, o: &RaceOutcome) {
        self.trials += o.trials;
        self.survived += o.survived;
        self.accepted_me += o.accepted_me;
        self.accepted_refresh += o.accepted_refresh;
        self.checked += o.checked;
        self.thief_ops += o.thief_ops;
        self.refused_after += o.refused_after;
        self.server_errors += o.server_errors;
        self.broken += o.broken;
    }

    /// No credential survived, no 5xx, every trial ran.
    pub fn passed(&self) -> bool {
        self.survived == 0 && self.server_errors == 0 && self.broken == 0 && self.refused_after == 0
    }
}

/// Run `trials` trials of `race` against `addr`, `concurrency` at a time, on users
/// `first_user..first_user + trials` (each used by one trial only). `progress` is called after
/// each finished trial with the running totals.
pub async fn run(
    addr: SocketAddr,
    race: Race,
    trials: u64,
    concurrency: usize,
    first_user: u64,
    mut progress: impl FnMut(&RaceOutcome),
) -> RaceOutcome {
    let mut total = RaceOutcome::default();
    let mut runs = futures::stream::iter((0..trials).map(|i| {
        let uid = first_user + i;
        async move {
            match race {
                Race::RefreshingThief => thief_trial(addr, uid, i).await,
                Race::Login => login_trial(addr, uid, i).await,
            }
            .unwrap_or(RaceOutcome { trials: 1, broken: 1, ..RaceOutcome::default() })
        }
    }))
    .buffer_unordered(concurrency.max(1));
    while let Some(one) = runs.next().await {
        total.add(&one);
        progress(&total);
    }
    total
}

/// A delay that spreads logout-all over the thief's refresh cycle: 0–19 ms, by trial number.
fn stagger(i: u64) -> Duration {
    Duration::from_millis(i.wrapping_mul(7919) % 20)
}

async fn logout_all(addr: SocketAddr, victim: &Cred) -> Result<Instant> {
    let r = http::send(addr, "POST", path::LOGOUT_ALL, &victim.headers(), None).await?;
    if r.status != 204 {
        bail!("logout-all answered {}", r.status);
    }
    Ok(Instant::now())
}

async fn thief_trial(addr: SocketAddr, uid: u64, i: u64) -> Result<RaceOutcome> {
    let victim = login(addr, uid).await?;
    let stolen = [login(addr, uid).await?, login(addr, uid).await?];
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));
    let server_errors = Arc::new(AtomicU64::new(0));
    let mut loops = Vec::new();
    for cred in stolen {
        let held = Arc::new(Mutex::new(cred));
        let (stop, ops, errors, h) = (stop.clone(), ops.clone(), server_errors.clone(), held.clone());
        loops.push((
            held,
            tokio::spawn(async move {
                while !stop.load(Ordering::Acquire) {
                    let cur = h.lock().await.clone();
                    match refresh(addr, &cur).await {
                        Ok((_, Some(next))) => {
                            ops.fetch_add(1, Ordering::Relaxed);
                            *h.lock().await = next;
                        }
                        Ok((status, None)) => {
                            if status >= 500 {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            // Refused: the thief has lost this session (or will, at once).
                            break;
                        }
                        Err(_) => break,
                    }
                }
            }),
        ));
    }
    tokio::time::sleep(stagger(i)).await;
    let done = logout_all(addr, &victim).await;
    tokio::time::sleep(GRACE).await;
    stop.store(true, Ordering::Release);
    for (_, handle) in &mut loops {
        let _ = handle.await;
    }
    done?;
    let mut out = RaceOutcome { trials: 1, thief_ops: ops.load(Ordering::Relaxed), ..RaceOutcome::default() };
    out.server_errors = server_errors.load(Ordering::Relaxed);
    let mut survived = false;
    for (held, _) in loops {
        let cred = held.lock().await.clone();
        let (me, refreshed) = try_credential(addr, &cred, &mut out).await?;
        survived |= me || refreshed;
    }
    out.survived = u64::from(survived);
    Ok(out)
}

/// Try a credential that must be dead: `GET /api/me`, then `POST /auth/refresh`. Returns which of
/// the two accepted it.
async fn try_credential(addr: SocketAddr, cred: &Cred, out: &mut RaceOutcome) -> Result<(bool, bool)> {
    out.checked += 1;
    let me = me_status(addr, cred).await?;
    let (refreshed, next) = refresh(addr, cred).await?;
    for s in [me, refreshed] {
        out.server_errors += u64::from(s >= 500);
    }
    let (me, refreshed) = (me == 200, next.is_some());
    out.accepted_me += u64::from(me);
    out.accepted_refresh += u64::from(refreshed);
    Ok((me, refreshed))
}

async fn login_trial(addr: SocketAddr, uid: u64, i: u64) -> Result<RaceOutcome> {
    let victim = login(addr, uid).await?;
    let stop = Arc::new(AtomicBool::new(false));
    // Each login the loop completes, with when it was sent and answered.
    let logins: Arc<Mutex<Vec<(Instant, Instant, Cred)>>> = Arc::default();
    let (s, l) = (stop.clone(), logins.clone());
    // At most 16 logins, well under the session schemes' default cap of 32 sessions per user, so
    // the cap never ends the victim's own session first.
    let looping = tokio::spawn(async move {
        for _ in 0..16 {
            if s.load(Ordering::Acquire) {
                break;
            }
            let sent = Instant::now();
            if let Ok(cred) = login(addr, uid).await {
                l.lock().await.push((sent, Instant::now(), cred));
            }
        }
    });
    tokio::time::sleep(stagger(i)).await;
    let sent = Instant::now();
    let done = logout_all(addr, &victim).await;
    tokio::time::sleep(GRACE).await;
    stop.store(true, Ordering::Release);
    let _ = looping.await;
    let answered = done?;
    let logins = std::mem::take(&mut *logins.lock().await);
    let mut out = RaceOutcome { trials: 1, thief_ops: logins.len() as u64, ..RaceOutcome::default() };
    let mut survived = false;
    // Answered before logout-all was sent: must be dead. Only the last few: the others were
    // answered earlier still, and each check is two requests.
    let before: Vec<&Cred> = logins.iter().filter(|(_, got, _)| *got < sent).map(|(_, _, c)| c).collect();
    for cred in before.iter().rev().take(3) {
        let (me, refreshed) = try_credential(addr, cred, &mut out).await?;
        survived |= me || refreshed;
    }
    // Sent after the 204: must work.
    if let Some((_, _, cred)) = logins.iter().find(|(s, _, _)| *s > answered) {
        out.refused_after += u64::from(me_status(addr, cred).await? != 200);
    }
    out.survived = u64::from(survived);
    Ok(out)
}
