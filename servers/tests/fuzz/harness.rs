//! The Router under test, what it has issued, and how a property is run against it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authbench_procs::redis_server::RedisServer;
use authbench_servers::SameSite;
use authbench_servers::api;
use authbench_servers::cookie::{CookieScheme, Sealer};
use authbench_servers::jwt::{Codec, JwtScheme};
use authbench_servers::jwt_revocable::RevocationStore;
use authbench_servers::session::{SessionScheme, SessionStore};
use authbench_servers::users::{PasswordCost, Users};
use authbench_servers::{JwtAlg, SchemeKind};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestCaseResult, TestRunner};
use serde_json::Value;
use tower::ServiceExt;

use crate::budget::{DEVICES, POOL, USERS};

/// A live credential of one pool user.
#[derive(Debug, Clone)]
pub struct Cred {
    pub uid: u64,
    /// cookie value, session id, or JWT access token
    pub access: String,
    /// JWT refresh token
    pub refresh: Option<String>,
    /// The login it descends from (through refreshes): a session, or a refresh-token family.
    pub family: u64,
}

#[derive(Default)]
pub struct State {
    /// Access credentials the scheme must accept now → their user: every one issued for `cookie`
    /// and `jwt`, the live ones for the others ([`crate::ledger`] retires the revoked).
    pub issued: HashMap<String, u64>,
    /// Refresh tokens that must refresh now → their user (`jwt`: every one issued).
    pub issued_refresh: HashMap<String, u64>,
    /// Refresh tokens (session ids) rotated out of a still-live family → their user (rotating
    /// schemes and the session schemes).
    pub stale_refresh: HashMap<String, u64>,
    /// Credentials revoked here (logged out, rotated session ids, revoked families): replayed by
    /// cases, they must never be accepted again.
    pub revoked: Vec<String>,
    pub pool: Vec<Cred>,
    /// Reuses detected and checked (stale refresh token replayed, family then dead).
    pub replays: u32,
    /// Credentials past the maximum age ([`crate::aged`]), and how many cases replayed one exactly.
    pub aged: std::collections::HashSet<String>,
    pub aged_replays: u32,
    /// Every credential issued → its [`Cred::family`].
    pub family: HashMap<String, u64>,
    pub logins: u64,
    /// Cases sent, cases whose credential/body was changed, positive controls passed.
    pub sent: u32,
    pub mutated: u32,
    pub controls: u32,
    pub statuses: HashMap<u16, u32>,
}

pub struct Harness {
    pub scheme: SchemeKind,
    pub rt: tokio::runtime::Runtime,
    pub router: Router,
    pub state: RefCell<State>,
    pub _redis: Option<RedisServer>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Harness {
    pub fn new(scheme: SchemeKind) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let users = Arc::new(Users::synthetic(USERS, PasswordCost::FAST));
        let ttl = Duration::from_secs(900);
        // One private redis-server for a scheme with a store, and the session store its session
        // schemes stand on.
        let redis = scheme.uses_store().then(|| RedisServer::start().expect("start a private redis-server"));
        let url = redis.as_ref().map(RedisServer::url).unwrap_or_default();
        let session = || {
            let timeout = authbench_servers::session::STORE_TIMEOUT;
            let store =
                rt.block_on(SessionStore::connect(&url, "fuzz:", ttl, timeout)).expect("connect to redis");
            SessionScheme::new(users.clone(), store, SameSite::Lax)
        };
        // Credentials past the maximum age ([`crate::aged`]), for pool users.
        let mut aged = Vec::new();
        let aged_sessions = |store: &SessionStore, aged: &mut Vec<String>| {
            for uid in 1..=crate::aged::PER_SCHEME {
                aged.push(rt.block_on(crate::aged::session(store, &url, uid)));
            }
        };
        let aged_families = |store: &RevocationStore, codec: &Codec, aged: &mut Vec<String>| {
            for uid in 1..=crate::aged::PER_SCHEME {
                aged.push(rt.block_on(crate::aged::family_refresh_token(store, codec, uid)));
            }
        };
        let router = match scheme {
            SchemeKind::Cookie => {
                api::router(CookieScheme::new(users, Sealer::generate(), ttl, SameSite::Lax))
            }
            SchemeKind::Jwt => {
                let codec = Codec::generate(JwtAlg::Hs256, ttl, Duration::from_secs(86_400)).unwrap();
                aged.extend((1..=crate::aged::PER_SCHEME).map(|uid| crate::aged::refresh_token(&codec, uid)));
                api::router(JwtScheme::new(users, codec))
            }
            SchemeKind::Session => {
                let s = session();
                aged_sessions(s.store(), &mut aged);
                api::router(s)
            }
            SchemeKind::SessionCached => {
                let s = session();
                aged_sessions(s.store(), &mut aged);
                api::router(authbench_servers::session_cached::CachedScheme::new(
                    s,
                    Duration::from_secs(1),
                    1000,
                ))
            }
            SchemeKind::SessionTracked => {
                let s = session();
                aged_sessions(s.store(), &mut aged);
                let tracked = rt
                    .block_on(authbench_servers::session_tracked::TrackedScheme::connect(
                        s,
                        &url,
                        ttl,
                        Duration::from_secs(1),
                        1000,
                        authbench_servers::session::STORE_TIMEOUT,
                    ))
                    .expect("tracking connection");
                api::router(tracked)
            }
            SchemeKind::JwtRevocable => {
                let codec = Codec::generate(JwtAlg::Hs256, ttl, Duration::from_secs(86_400)).unwrap();
                let store = rt
                    .block_on(authbench_servers::jwt_revocable::RevocationStore::connect(
                        &url,
                        "fuzz:",
                        86_400,
                        authbench_servers::session::STORE_TIMEOUT,
                    ))
                    .expect("connect to redis");
                aged_families(&store, &codec, &mut aged);
                api::router(authbench_servers::jwt_revocable::RevocableScheme::new(users, codec, store))
            }
            SchemeKind::JwtPubsub => {
                let codec = Codec::generate(JwtAlg::Hs256, ttl, Duration::from_secs(86_400)).unwrap();
                let scheme = rt
                    .block_on(authbench_servers::jwt_pubsub::PubsubScheme::connect(
                        users.clone(),
                        codec,
                        &url,
                        "fuzz:",
                        authbench_servers::session::STORE_TIMEOUT,
                        Duration::from_secs(10),
                    ))
                    .expect("subscribe and load the denylist");
                aged_families(scheme.store(), scheme.codec(), &mut aged);
                api::router(scheme)
            }
        };
        // They join the revoked credentials cases replay: never to be accepted.
        let state = State { revoked: aged.clone(), aged: aged.into_iter().collect(), ..State::default() };
        let h = Harness { scheme, rt, router, state: RefCell::new(state), _redis: redis };
        for uid in 1..=POOL {
            for _ in 0..DEVICES {
                let cred = h.login(uid);
                h.state.borrow_mut().pool.push(cred);
            }
        }
        h
    }

    pub fn send(&self, req: Request<Body>) -> Resp {
        self.rt.block_on(async {
            let resp = self.router.clone().oneshot(req).await.expect("Router is infallible");
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.expect("response body").to_bytes();
            Resp { status: parts.status, headers: parts.headers, body }
        })
    }

    /// Log `uid` in through the Router and record what was issued.
    pub fn login(&self, uid: u64) -> Cred {
        let body = format!(r#"{{"username":"user{uid}","password":"password{uid}"}}"#);
        let req = Request::post(api::LOGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let resp = self.send(req);
        assert_eq!(resp.status, StatusCode::OK, "{} login user{uid}", self.scheme);
        self.record_issued(uid, None, &resp).expect("login issues a credential")
    }

    /// Record the credential a 200 carries: a login's (a new family), or a refresh's in `family`.
    pub fn record_issued(&self, uid: u64, family: Option<u64>, resp: &Resp) -> Option<Cred> {
        let family = family.unwrap_or_else(|| {
            let mut st = self.state.borrow_mut();
            st.logins += 1;
            st.logins
        });
        let cred = match self.scheme {
            SchemeKind::Jwt | SchemeKind::JwtRevocable | SchemeKind::JwtPubsub => {
                let v: Value = serde_json::from_slice(&resp.body).ok()?;
                Cred {
                    uid,
                    access: v["access_token"].as_str()?.to_owned(),
                    refresh: Some(v["refresh_token"].as_str()?.to_owned()),
                    family,
                }
            }
            _ => {
                let set = resp.headers.get(header::SET_COOKIE)?.to_str().ok()?;
                let (_, value) = set.split(';').next()?.split_once('=')?;
                Cred { uid, access: value.to_owned(), refresh: None, family }
            }
        };
        let mut st = self.state.borrow_mut();
        st.issued.insert(cred.access.clone(), uid);
        st.family.insert(cred.access.clone(), family);
        if let Some(r) = &cred.refresh {
            st.issued_refresh.insert(r.clone(), uid);
            st.family.insert(r.clone(), family);
        }
        Some(cred)
    }

    pub fn cookie_name(&self) -> &'static str {
        match self.scheme {
            SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked => {
                authbench_servers::session::COOKIE_NAME
            }
            _ => authbench_servers::cookie::COOKIE_NAME,
        }
    }

    pub fn other_cookie_name(&self) -> &'static str {
        match self.scheme {
            SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked => {
                authbench_servers::cookie::COOKIE_NAME
            }
            _ => authbench_servers::session::COOKIE_NAME,
        }
    }

    /// Characters a credential of this scheme is made of (the oracle's token boundary).
    pub fn alphabet(&self, b: u8) -> bool {
        match self.scheme {
            SchemeKind::Cookie => b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='),
            SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked => {
                b.is_ascii_hexdigit()
            }
            SchemeKind::Jwt | SchemeKind::JwtRevocable | SchemeKind::JwtPubsub => {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
            }
        }
    }

    /// Live credentials (and their users) that occur intact, as a whole token, in these header
    /// values.
    pub fn presented(&self, values: &[&[u8]]) -> Vec<(String, u64)> {
        self.presented_among(values, |st| &st.issued)
    }

    /// The credentials of one of the [`State`]'s maps (live, stale...) that occur intact, as a
    /// whole token, in these header values.
    pub fn presented_among(
        &self,
        values: &[&[u8]],
        map: impl Fn(&State) -> &HashMap<String, u64>,
    ) -> Vec<(String, u64)> {
        let st = self.state.borrow();
        let mut found = Vec::new();
        for value in values {
            for (cred, uid) in map(&st) {
                let c = cred.as_bytes();
                let mut from = 0;
                while let Some(pos) = find(&value[from..], c) {
                    let start = from + pos;
                    let end = start + c.len();
                    // Cookie values may end in '=' padding and follow `name=`, so only an
                    // alphabet character other than '=' glues the token on the left.
                    let left_ok = start == 0 || {
                        let b = value[start - 1];
                        b == b'=' || !self.alphabet(b)
                    };
                    let right_ok = end == value.len() || !self.alphabet(value[end]);
                    if left_ok && right_ok {
                        found.push((cred.clone(), *uid));
                        break;
                    }
                    from = start + 1;
                }
            }
        }
        found.sort(); // HashMap order is random per run; a case must act the same on replay
        found
    }

    pub fn pool_cred(&self, who: &Index) -> Cred {
        let st = self.state.borrow();
        st.pool[who.index(st.pool.len())].clone()
    }

    pub fn all_creds(&self) -> Vec<String> {
        self.state
            .borrow()
            .pool
            .iter()
            .flat_map(|c| [Some(c.access.clone()), c.refresh.clone()])
            .flatten()
            .collect()
    }

    pub fn count(&self, status: StatusCode, mutated: bool, control: bool) {
        let mut st = self.state.borrow_mut();
        st.sent += 1;
        st.mutated += u32::from(mutated);
        st.controls += u32::from(control);
        *st.statuses.entry(status.as_u16()).or_default() += 1;
    }

    pub fn run<S: Strategy>(
        &self,
        what: &str,
        cases: u32,
        strategy: S,
        test: impl Fn(&Self, S::Value) -> TestCaseResult,
    ) where
        S::Value: std::fmt::Debug,
    {
        let t = Instant::now();
        let config = Config {
            cases,
            failure_persistence: None,
            // The Router and the ledger keep state across cases: shrinking would re-run cases
            // against it and report a later, different failure in place of the first one.
            max_shrink_iters: 0,
            max_global_rejects: cases,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        if let Err(e) = runner.run(&strategy, |v| test(self, v)) {
            panic!("{} {what}: {e}", self.scheme);
        }
        let st = self.state.borrow();
        let mut statuses: Vec<_> = st.statuses.iter().collect();
        statuses.sort();
        eprintln!(
            "{} {what}: {} sent, {} mutated, {} positive controls, {} revoked credentials, {} reuses \
             checked, {} exact replays past the maximum age, statuses {statuses:?}, {:.1} s",
            self.scheme,
            st.sent,
            st.mutated,
            st.controls,
            st.revoked.len(),
            st.replays,
            st.aged_replays,
            t.elapsed().as_secs_f64()
        );
        assert!(st.sent >= cases, "{} {what}: only {} of {cases} cases sent", self.scheme, st.sent);
        assert!(st.mutated >= cases / 2, "{} {what}: only {} mutated cases", self.scheme, st.mutated);
        assert!(st.controls >= 10, "{} {what}: only {} positive controls", self.scheme, st.controls);
    }

    /// After a credential property: credentials past the maximum age, where the scheme has any,
    /// were replayed exactly (and, the oracle saw to it, never accepted).
    pub fn check_aged_replayed(&self, what: &str) {
        let st = self.state.borrow();
        if !st.aged.is_empty() {
            assert!(
                st.aged_replays >= 3,
                "{} {what}: only {} aged credentials replayed",
                self.scheme,
                st.aged_replays
            );
        }
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn fail(msg: String) -> TestCaseResult {
    Err(TestCaseError::fail(msg))
}

/// A 401 is the contract's JSON error with a challenge.
pub fn check_401(resp: &Resp) -> TestCaseResult {
    let v: Value =
        serde_json::from_slice(&resp.body).map_err(|e| TestCaseError::fail(format!("401 body: {e}")))?;
    prop_assert!(v["error"].is_string(), "401 without JSON error: {v}");
    prop_assert!(resp.headers.contains_key(header::WWW_AUTHENTICATE), "401 without WWW-Authenticate");
    Ok(())
}
