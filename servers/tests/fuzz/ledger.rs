//! The oracle's revocation model: which credentials each scheme must accept *now*, and how a
//! successful refresh, logout or logout-all, or a detected refresh-token reuse, changes that.
//!
//! Per scheme (read off `servers/src`, not off the answers):
//! - `cookie`, `jwt` keep no state: every issued credential stays valid; logout changes nothing
//!   (logout-all is a documented 501), a refresh token stays valid after use.
//! - `session`, `session-cached`, `session-tracked`: a refresh rotates the session id (the old id
//!   is dead at once), logout and logout-all end the user's sessions. The caches are this one
//!   server's, so they must never serve a dead id, not even within their TTL.
//! - `jwt-revocable`, `jwt-pubsub`: refresh-token rotation with reuse detection (RFC 9700
//!   §4.14.2). Only a family's current refresh token refreshes, once; the rotated one becomes
//!   *stale* while the family's access tokens stay valid. Presenting a stale one (exactly) is a
//!   401 and revokes the family: its current refresh token and all its access tokens. Logout
//!   revokes the family too; logout-all every token of the user. A tampered token fails signature
//!   verification before any family lookup (`jwt_revocable::refresh`: `verify_claims`, then
//!   `RevocationStore::rotate`), so it must not change the family.
//!
//! The harness logs each pool user in once, so a user's live credentials are one family (one
//! session); revoking it revokes everything that user was issued here.

use authbench_servers::SchemeKind;
use authbench_servers::api;
use axum::body::Body;
use axum::http::{Request, header};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseResult;

use crate::harness::{Cred, Harness, Resp, check_401};

/// What presenting an exact refresh token (in a valid body) must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    /// Refreshes: 200 with a new pair.
    Live(u64),
    /// Rotated out of a live family: 401, and the family is revoked.
    Stale(u64),
    /// Never issued, mutated, or revoked: 400/401, nothing changes.
    Unknown,
}

impl Harness {
    /// Logout, logout-all and refresh revoke credentials (every scheme but `cookie` and `jwt`).
    pub fn keeps_state(&self) -> bool {
        !matches!(self.scheme, SchemeKind::Cookie | SchemeKind::Jwt)
    }

    /// Refresh-token rotation with reuse detection.
    pub fn rotates(&self) -> bool {
        matches!(self.scheme, SchemeKind::JwtRevocable | SchemeKind::JwtPubsub)
    }

    pub fn refresh_state(&self, token: &str) -> RefreshState {
        let st = self.state.borrow();
        if let Some(&uid) = st.issued_refresh.get(token) {
            RefreshState::Live(uid)
        } else if let Some(&uid) = st.stale_refresh.get(token) {
            RefreshState::Stale(uid)
        } else {
            RefreshState::Unknown
        }
    }

    /// A refresh of `old` (the presented session id, or refresh token) answered 200 for `uid`:
    /// record the new credential and retire what the scheme retires.
    pub fn refreshed(&self, uid: u64, old: &str, resp: &Resp) -> Option<Cred> {
        let fresh = self.record_issued(uid, resp)?;
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
            st.revoked.push(old.to_owned());
        }
        for c in st.pool.iter_mut().filter(|c| c.uid == uid) {
            *c = fresh.clone();
        }
        Some(fresh)
    }

    /// `uid`'s credentials were revoked (logout, logout-all, reuse detection): they join the
    /// revoked ones that cases replay, and the pool gets a fresh login.
    pub fn revoke_user(&self, uid: u64, logout_all: bool) {
        {
            let mut guard = self.state.borrow_mut();
            let st = &mut *guard;
            let mut dead = Vec::new();
            for map in [&mut st.issued, &mut st.issued_refresh, &mut st.stale_refresh] {
                map.retain(|k, u| {
                    if *u == uid {
                        dead.push(k.clone());
                    }
                    *u != uid
                });
            }
            st.revoked.extend(dead);
        }
        if logout_all && self.rotates() {
            // The logout-all epoch revokes tokens issued *at or before* its millisecond (the
            // clock cannot order two tokens within one): a login in that millisecond would be
            // born revoked, so the fresh login waits for the next one.
            let t = authbench_servers::jwt_revocable::now_ms();
            while authbench_servers::jwt_revocable::now_ms() <= t {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }
        let fresh = self.login(uid);
        let mut st = self.state.borrow_mut();
        for c in st.pool.iter_mut().filter(|c| c.uid == uid) {
            *c = fresh.clone();
        }
    }

    /// A reuse was detected for `uid` (the server answered 401 to its stale refresh token): the
    /// family's current refresh token and every access token it issued must now be rejected.
    pub fn reuse_detected(&self, uid: u64) -> TestCaseResult {
        let (refresh, access): (Vec<String>, Vec<String>) = {
            let st = self.state.borrow();
            let of = |m: &std::collections::HashMap<String, u64>| {
                m.iter().filter(|(_, u)| **u == uid).map(|(k, _)| k.clone()).collect::<Vec<_>>()
            };
            (of(&st.issued_refresh), of(&st.issued))
        };
        prop_assert!(!refresh.is_empty() && !access.is_empty(), "user {uid} has no live family");
        // Access tokens first: the server that detected the reuse must reject them at once, not
        // once its own pub/sub message comes back (`jwt-pubsub`).
        for a in &access {
            let req = Request::get(api::ME)
                .header(header::AUTHORIZATION, format!("Bearer {a}"))
                .body(Body::empty());
            let resp = self.send(req.unwrap());
            prop_assert_eq!(resp.status.as_u16(), 401, "family's access token after a reuse");
        }
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
        self.revoke_user(uid, false);
        Ok(())
    }

    /// One of `who`'s stale refresh tokens, if it has any.
    pub fn stale_of(&self, who: &Index, pick: &Index) -> Option<String> {
        let uid = self.pool_cred(who).uid;
        let st = self.state.borrow();
        let mut stale: Vec<&String> =
            st.stale_refresh.iter().filter(|(_, u)| **u == uid).map(|(k, _)| k).collect();
        stale.sort(); // HashMap order is random per run; a case must pick the same one on replay
        (!stale.is_empty()).then(|| stale[pick.index(stale.len())].clone())
    }

    /// One of the revoked credentials, if any.
    pub fn revoked_one(&self, pick: &Index) -> Option<String> {
        let st = self.state.borrow();
        (!st.revoked.is_empty()).then(|| st.revoked[pick.index(st.revoked.len())].clone())
    }

    /// After a mutated copy of a stale or current token was refused: `uid`'s family still stands
    /// (its newest access token is accepted), so the tampered token did not reach reuse detection.
    pub fn family_stands(&self, uid: u64) -> TestCaseResult {
        let cred = self.state.borrow().pool.iter().find(|c| c.uid == uid).cloned().expect("pool user");
        let req = Request::get(api::ME)
            .header(header::AUTHORIZATION, format!("Bearer {}", cred.access))
            .body(Body::empty())
            .unwrap();
        let resp = self.send(req);
        prop_assert_eq!(resp.status.as_u16(), 200, "a refused, tampered refresh token revoked the family");
        Ok(())
    }
}
