//! The oracle's revocation model: which credentials each scheme must accept *now*, and how a
//! successful refresh, logout or logout-all, or a detected refresh-token reuse, changes that.
//!
//! Per scheme (read off `servers/src`, not off the answers):
//! - `cookie`, `jwt` keep no state: every issued credential stays valid; logout changes nothing
//!   (logout-all is a documented 501), a refresh token stays valid after use.
//! - `session`, `session-cached`, `session-tracked`: a refresh rotates the session id (the old id
//!   is dead at once), logout and logout-all end the user's sessions. The caches are this one
//!   server's, so they must never serve a dead id, not even within their TTL. Reuse detection
//!   (`session::ROTATE_LUA`): a rotated-away id is *stale*; at `/api/me`, logout and logout-all
//!   it is just 401, but presented again at `POST /auth/refresh` it is 401 *and* ends the session
//!   its family (the login it descends from) holds now; the user's other session stands.
//! - `jwt-revocable`, `jwt-pubsub`: refresh-token rotation with reuse detection (RFC 9700
//!   §4.14.2). Only a family's current refresh token refreshes, once; the rotated one becomes
//!   *stale* while the family's access tokens stay valid. Presenting a stale one (exactly) is a
//!   401 and revokes the family: its current refresh token and all its access tokens. Logout
//!   revokes the family too; logout-all every token of the user. A tampered token fails signature
//!   verification before any family lookup (`jwt_revocable::refresh`: `verify_claims`, then
//!   `RevocationStore::rotate`), so it must not change the family.
//!
//! The harness logs each pool user in on two "devices" (two sessions, two families), so logout
//! and reuse detection must end one and leave the other standing, logout-all must end both.

use authbench_servers::SchemeKind;
use authbench_servers::api;
use axum::body::Body;
use axum::http::{Request, header};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{TestCaseError, TestCaseResult};
use std::time::{Duration, Instant};

use crate::harness::{Cred, Harness, Resp, check_401};

/// What presenting an exact refresh token (in a valid body) must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    /// Refreshes: 200 with a new pair.
    Live(u64),
    /// Rotated out of a live family: 401, and that family is revoked.
    Stale { uid: u64, family: u64 },
    /// Never issued, mutated, or revoked: 400/401, nothing changes.
    Unknown,
}

/// How long `session-tracked` may still accept a user's *other* sessions after a logout-all
/// through this server: they go by Redis's invalidation push (stated as about a millisecond);
/// generous for a loaded CI machine.
const PUSH_WINDOW: Duration = Duration::from_millis(250);

impl Harness {
    /// Logout, logout-all and refresh revoke credentials (every scheme but `cookie` and `jwt`).
    pub fn keeps_state(&self) -> bool {
        !matches!(self.scheme, SchemeKind::Cookie | SchemeKind::Jwt)
    }

    /// Refresh-token rotation with reuse detection.
    pub fn rotates(&self) -> bool {
        matches!(self.scheme, SchemeKind::JwtRevocable | SchemeKind::JwtPubsub)
    }

    /// Session-id rotation with reuse detection (the session schemes).
    pub fn rotates_sessions(&self) -> bool {
        matches!(self.scheme, SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked)
    }

    /// Whether `token` is a rotated-away session id (or refresh token) of a live family.
    pub fn is_stale(&self, token: &[u8]) -> bool {
        std::str::from_utf8(token).is_ok_and(|t| self.state.borrow().stale_refresh.contains_key(t))
    }

    pub fn family_of(&self, token: &str) -> u64 {
        self.state.borrow().family[token]
    }

    pub fn refresh_state(&self, token: &str) -> RefreshState {
        let st = self.state.borrow();
        if let Some(&uid) = st.issued_refresh.get(token) {
            RefreshState::Live(uid)
        } else if let Some(&uid) = st.stale_refresh.get(token) {
            RefreshState::Stale { uid, family: st.family[token] }
        } else {
            RefreshState::Unknown
        }
    }

    /// A refresh of `old` (the presented session id, or refresh token) answered 200 for `uid`:
    /// record the new credential and retire what the scheme retires.
    pub fn refreshed(&self, uid: u64, old: &str, resp: &Resp) -> Option<Cred> {
        let family = self.family_of(old);
        let fresh = self.record_issued(uid, Some(family), resp)?;
        if !self.keeps_state() {
            return Some(fresh); // the pool keeps its credential: it stays valid
        }
        let mut st = self.state.borrow_mut();
        if self.rotates() {
            // The old access token stays valid; the old refresh token is now stale.
            if st.issued_refresh.remove(old).is_some() {
                st.stale_refresh.insert(old.to_owned(), uid);
            }
        } else if st.issued.remove(old).is_some() {
            // A rotated-away session id: dead, and a replay of it at refresh is a reuse.
            st.stale_refresh.insert(old.to_owned(), uid);
        }
        for c in st.pool.iter_mut().filter(|c| c.family == family) {
            *c = fresh.clone();
        }
        Some(fresh)
    }

    /// A logout or a detected reuse ended `family` (a session, or a refresh-token family); a
    /// logout-all (`all`) every family of `uid`. Their credentials join the revoked ones cases
    /// replay, the user's other families must still stand, and the pool gets fresh logins.
    pub fn revoke(&self, uid: u64, family: u64, all: bool) -> TestCaseResult {
        let (dead, others): (Vec<String>, Vec<String>) = {
            let mut guard = self.state.borrow_mut();
            let st = &mut *guard;
            let ends = |t: &String, u: u64| u == uid && (all || st.family[t] == family);
            let dead_access: Vec<String> =
                st.issued.iter().filter(|(t, u)| ends(t, **u)).map(|(t, _)| t.clone()).collect();
            let others = st
                .issued
                .iter()
                .filter(|(t, u)| **u == uid && !ends(t, **u))
                .map(|(t, _)| t.clone())
                .collect();
            let mut dead = dead_access.clone();
            for map in [&st.issued_refresh, &st.stale_refresh] {
                dead.extend(map.iter().filter(|(t, u)| ends(t, **u)).map(|(t, _)| t.clone()));
            }
            for t in &dead {
                st.issued.remove(t);
                st.issued_refresh.remove(t);
                st.stale_refresh.remove(t);
            }
            st.revoked.extend(dead);
            (dead_access, others)
        };
        // Checked here, right after the revocation: the next cases may not present them soon.
        let tracked_all = all && self.scheme == SchemeKind::SessionTracked;
        for cred in &dead {
            let since = Instant::now();
            loop {
                let status = self.me(cred).status.as_u16();
                if status == 401 {
                    break;
                }
                prop_assert!(
                    status == 200 && tracked_all && since.elapsed() < PUSH_WINDOW,
                    "a revoked credential answered {status} on /api/me"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        for cred in &others {
            prop_assert_eq!(self.me(cred).status.as_u16(), 200, "revoking one family ended another");
        }
        let slots: Vec<usize> = {
            let st = self.state.borrow();
            let gone = |c: &Cred| c.uid == uid && (all || c.family == family);
            st.pool.iter().enumerate().filter(|(_, c)| gone(c)).map(|(i, _)| i).collect()
        };
        for i in slots {
            let fresh = self.login(uid);
            self.state.borrow_mut().pool[i] = fresh;
        }
        Ok(())
    }

    /// A reuse was detected in `family` (the server answered 401 to its stale refresh token or
    /// session id): the family's current credentials (refresh token, session) and every access
    /// token it issued must now be rejected, the user's other family must not be.
    pub fn reuse_detected(&self, uid: u64, family: u64) -> TestCaseResult {
        let (live, refresh): (bool, Vec<String>) = {
            let st = self.state.borrow();
            let live = st.issued.iter().any(|(t, u)| *u == uid && st.family[t] == family);
            (live, st.issued_refresh.keys().filter(|t| st.family[*t] == family).cloned().collect())
        };
        prop_assert!(live, "family {family} of user {uid} is not live");
        // Access tokens first (in `revoke`): the server that detected the reuse must reject them
        // at once, not once its own pub/sub message comes back (`jwt-pubsub`), nor once Redis's
        // invalidation push comes back (`session-tracked`).
        self.revoke(uid, family, false)?;
        for r in &refresh {
            let body = format!(r#"{{"refresh_token":{}}}"#, serde_json::to_string(r).unwrap());
            let req = Request::post(api::REFRESH)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap();
            let resp = self.send(req);
            prop_assert_eq!(resp.status.as_u16(), 401, "family's current refresh token after a reuse");
            check_401(&resp)?;
        }
        self.state.borrow_mut().replays += 1;
        Ok(())
    }

    /// A session refresh answered 401 to a request whose Cookie headers carry `values`: for each
    /// stale session id in them (a whole token), find out whether the server took it for a reuse
    /// — the family's current session is then refused — and if so check that reuse like any
    /// other. Whether the server read that id out of a dishonest framing is the server's parser's
    /// business; the callers demand detection for an exact stale id in a canonical framing.
    pub fn after_refused_session_refresh(&self, values: &[&[u8]]) -> TestCaseResult {
        for (stale, uid) in self.presented_among(values, |st| &st.stale_refresh) {
            let family = self.family_of(&stale);
            let current: Vec<String> = {
                let st = self.state.borrow();
                st.issued.keys().filter(|t| st.family[*t] == family).cloned().collect()
            };
            let Some(current) = current.first() else { continue };
            match self.me(current).status.as_u16() {
                200 => {}
                401 => self.reuse_detected(uid, family)?,
                s => return Err(TestCaseError::fail(format!("/api/me answered {s} to a live session"))),
            }
        }
        Ok(())
    }

    fn me(&self, cred: &str) -> Resp {
        let req = if self.rotates() || self.scheme == SchemeKind::Jwt {
            Request::get(api::ME).header(header::AUTHORIZATION, format!("Bearer {cred}"))
        } else {
            Request::get(api::ME).header(header::COOKIE, format!("{}={cred}", self.cookie_name()))
        };
        self.send(req.body(Body::empty()).unwrap())
    }

    /// One of the stale refresh tokens of `who`'s family, if it has any.
    pub fn stale_of(&self, who: &Index, pick: &Index) -> Option<String> {
        let family = self.pool_cred(who).family;
        let st = self.state.borrow();
        let mut stale: Vec<&String> = st.stale_refresh.keys().filter(|t| st.family[*t] == family).collect();
        stale.sort(); // HashMap order is random per run; a case must pick the same one on replay
        (!stale.is_empty()).then(|| stale[pick.index(stale.len())].clone())
    }

    /// One of the revoked credentials, if any.
    pub fn revoked_one(&self, pick: &Index) -> Option<String> {
        let st = self.state.borrow();
        (!st.revoked.is_empty()).then(|| st.revoked[pick.index(st.revoked.len())].clone())
    }

    /// After a mutated copy of a stale or current token was refused: the family of `cred` still
    /// stands (its newest access token is accepted), so the tampered token did not reach reuse
    /// detection.
    pub fn family_stands(&self, cred: &Cred) -> TestCaseResult {
        let status = self.me(&cred.access).status.as_u16();
        prop_assert_eq!(status, 200, "a refused, tampered refresh token revoked the family");
        Ok(())
    }
}
