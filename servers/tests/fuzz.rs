//! Property tests: random and mutated credentials and bodies thrown at each scheme's Router with
//! `oneshot` (issue 6, "fuzzed credentials and bodies").
//!
//! Mutations start from credentials the Router really issued (bit flips, truncation, extension,
//! insertion, deletion, base64 alphabet and padding swaps, case changes, splices of two issued
//! credentials, JWT segment swaps and forged headers/payloads), or are random bytes; they are then
//! framed into headers in honest and dishonest ways (duplicated cookies, the value split across
//! two headers, other names, quoting, `Bearer` spelled oddly, two `Authorization` headers...).
//!
//! Every response must be one of the statuses the contract allows for that endpoint: never a 5xx
//! (other than `/auth/logout-all`'s documented 501 for a valid stateless credential), never a
//! panic, and never a 2xx unless an issued credential is presented intact — judged by an oracle
//! written independently of the servers' parsers: an issued credential occurs in the credential
//! header(s) as a whole token, not glued to other credential characters. A 200 on `/api/me` must
//! also name that credential's user. Intact credentials in the canonical framing are positive
//! controls: they must get 200, so a harness that rejects everything cannot pass.
//!
//! Case counts (per credential kind, summed over schemes, >= 10,000 each) are the `*_CASES`
//! constants; `AUTHBENCH_FUZZ_MULT=<n>` multiplies them for a longer local run.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authbench_servers::api;
use authbench_servers::config::SameSite;
use authbench_servers::cookie::{CookieScheme, Sealer};
use authbench_servers::jwt::{Codec, JwtScheme};
use authbench_servers::redis_server::RedisServer;
use authbench_servers::session::{SessionScheme, SessionStore};
use authbench_servers::users::{PasswordCost, Users};
use authbench_servers::{JwtAlg, SchemeKind};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestCaseResult, TestRunner};
use serde_json::Value;
use tower::ServiceExt;

// ---- case budget: per kind, summed over schemes, at least the issue's 10,000 ----
const COOKIE_HEADER_CASES: [(SchemeKind, u32); 2] =
    [(SchemeKind::Cookie, 5_000), (SchemeKind::Session, 5_000)];
const AUTHORIZATION_CASES: [(SchemeKind, u32); 1] = [(SchemeKind::Jwt, 10_000)];
const LOGIN_CASES: [(SchemeKind, u32); 3] =
    [(SchemeKind::Cookie, 3_400), (SchemeKind::Session, 3_300), (SchemeKind::Jwt, 3_300)];
const REFRESH_CASES: [(SchemeKind, u32); 3] =
    [(SchemeKind::Cookie, 2_000), (SchemeKind::Session, 2_000), (SchemeKind::Jwt, 6_000)];
const FLOOR: u32 = 10_000;

/// Synthetic users in each Router; login bodies also name users just outside this range.
const USERS: u64 = 40;
/// Users holding a live credential that mutations start from.
const POOL: u64 = 6;

#[test]
fn case_budget_meets_the_issue_floor() {
    for (kind, split) in [
        ("Cookie headers", &COOKIE_HEADER_CASES[..]),
        ("Authorization headers", &AUTHORIZATION_CASES[..]),
        ("login bodies", &LOGIN_CASES[..]),
        ("refresh bodies", &REFRESH_CASES[..]),
    ] {
        let total: u32 = split.iter().map(|(_, n)| n).sum();
        assert!(total >= FLOOR, "{kind}: {total} cases < {FLOOR}");
    }
}

fn budget(split: &[(SchemeKind, u32)], scheme: SchemeKind) -> u32 {
    let mult =
        std::env::var("AUTHBENCH_FUZZ_MULT").ok().and_then(|m| m.parse::<u32>().ok()).unwrap_or(1).max(1);
    split.iter().find(|(s, _)| *s == scheme).map(|(_, n)| n * mult).expect("scheme in split")
}

// ======================================================================================
// The Router under test and what it has issued
// ======================================================================================

/// A live credential of one pool user.
#[derive(Debug, Clone)]
struct Cred {
    uid: u64,
    /// cookie value, session id, or JWT access token
    access: String,
    /// JWT refresh token
    refresh: Option<String>,
}

#[derive(Default)]
struct State {
    /// Every access credential ever issued → its user (revoked ones stay: the oracle only asks
    /// "was this issued", the revocation tests live elsewhere).
    issued: HashMap<String, u64>,
    issued_refresh: HashMap<String, u64>,
    pool: Vec<Cred>,
    /// Cases sent, cases whose credential/body was changed, positive controls passed.
    sent: u32,
    mutated: u32,
    controls: u32,
    statuses: HashMap<u16, u32>,
}

struct Harness {
    scheme: SchemeKind,
    rt: tokio::runtime::Runtime,
    router: Router,
    state: RefCell<State>,
    _redis: Option<RedisServer>,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: bytes::Bytes,
}

impl Harness {
    fn new(scheme: SchemeKind) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let users = Arc::new(Users::synthetic(USERS, PasswordCost::FAST));
        let ttl = Duration::from_secs(900);
        let mut redis = None;
        let router = match scheme {
            SchemeKind::Cookie => {
                api::router(CookieScheme::new(users, Sealer::generate(), ttl, SameSite::Lax))
            }
            SchemeKind::Jwt => api::router(JwtScheme::new(
                users,
                Codec::generate(JwtAlg::Hs256, ttl, Duration::from_secs(86_400)).unwrap(),
            )),
            SchemeKind::Session => {
                let server = RedisServer::start().expect("start a private redis-server");
                let url = server.url();
                redis = Some(server);
                let store = rt.block_on(SessionStore::connect(&url, "fuzz:", ttl)).expect("connect to redis");
                api::router(SessionScheme::new(users, store, SameSite::Lax))
            }
        };
        let h = Harness { scheme, rt, router, state: RefCell::new(State::default()), _redis: redis };
        for uid in 1..=POOL {
            let cred = h.login(uid);
            h.state.borrow_mut().pool.push(cred);
        }
        h
    }

    fn send(&self, req: Request<Body>) -> Resp {
        self.rt.block_on(async {
            let resp = self.router.clone().oneshot(req).await.expect("Router is infallible");
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.expect("response body").to_bytes();
            Resp { status: parts.status, headers: parts.headers, body }
        })
    }

    /// Log `uid` in through the Router and record what was issued.
    fn login(&self, uid: u64) -> Cred {
        let body = format!(r#"{{"username":"user{uid}","password":"password{uid}"}}"#);
        let req = Request::post(api::LOGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let resp = self.send(req);
        assert_eq!(resp.status, StatusCode::OK, "{} login user{uid}", self.scheme);
        self.record_issued(uid, &resp).expect("login issues a credential")
    }

    /// Record the credential a 200 (login or refresh) carries.
    fn record_issued(&self, uid: u64, resp: &Resp) -> Option<Cred> {
        let cred = match self.scheme {
            SchemeKind::Jwt => {
                let v: Value = serde_json::from_slice(&resp.body).ok()?;
                Cred {
                    uid,
                    access: v["access_token"].as_str()?.to_owned(),
                    refresh: Some(v["refresh_token"].as_str()?.to_owned()),
                }
            }
            _ => {
                let set = resp.headers.get(header::SET_COOKIE)?.to_str().ok()?;
                let (_, value) = set.split(';').next()?.split_once('=')?;
                Cred { uid, access: value.to_owned(), refresh: None }
            }
        };
        let mut st = self.state.borrow_mut();
        st.issued.insert(cred.access.clone(), uid);
        if let Some(r) = &cred.refresh {
            st.issued_refresh.insert(r.clone(), uid);
        }
        Some(cred)
    }

    fn cookie_name(&self) -> &'static str {
        match self.scheme {
            SchemeKind::Session => authbench_servers::session::COOKIE_NAME,
            _ => authbench_servers::cookie::COOKIE_NAME,
        }
    }

    fn other_cookie_name(&self) -> &'static str {
        match self.scheme {
            SchemeKind::Session => authbench_servers::cookie::COOKIE_NAME,
            _ => authbench_servers::session::COOKIE_NAME,
        }
    }

    /// Characters a credential of this scheme is made of (the oracle's token boundary).
    fn alphabet(&self, b: u8) -> bool {
        match self.scheme {
            SchemeKind::Cookie => b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='),
            SchemeKind::Session => b.is_ascii_hexdigit(),
            SchemeKind::Jwt => b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'),
        }
    }

    /// Users whose issued credential occurs intact, as a whole token, in these header values.
    fn presented(&self, values: &[&[u8]], refresh: bool) -> Vec<u64> {
        let st = self.state.borrow();
        let issued = if refresh { &st.issued_refresh } else { &st.issued };
        let mut found = Vec::new();
        for value in values {
            for (cred, uid) in issued {
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
                        found.push(*uid);
                        break;
                    }
                    from = start + 1;
                }
            }
        }
        found
    }

    fn pool_cred(&self, who: &Index) -> Cred {
        let st = self.state.borrow();
        st.pool[who.index(st.pool.len())].clone()
    }

    fn all_creds(&self) -> Vec<String> {
        self.state
            .borrow()
            .pool
            .iter()
            .flat_map(|c| [Some(c.access.clone()), c.refresh.clone()])
            .flatten()
            .collect()
    }

    /// After a session logout/logout-all/refresh succeeded, the pool's credential of that user
    /// is gone: replace it (by the refreshed one, or a fresh login).
    /// The session scheme's `issued` set is kept to the live sessions, so a 200 for a rotated or
    /// logged-out id fails the oracle too.
    fn replace_pool(&self, uid: u64, refreshed: Option<Cred>) {
        let fresh = refreshed.unwrap_or_else(|| self.login(uid));
        let mut st = self.state.borrow_mut();
        st.issued.retain(|k, u| *u != uid || *k == fresh.access);
        for c in st.pool.iter_mut().filter(|c| c.uid == uid) {
            *c = fresh.clone();
        }
    }

    fn count(&self, status: StatusCode, mutated: bool, control: bool) {
        let mut st = self.state.borrow_mut();
        st.sent += 1;
        st.mutated += u32::from(mutated);
        st.controls += u32::from(control);
        *st.statuses.entry(status.as_u16()).or_default() += 1;
    }

    fn run<S: Strategy>(
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
            max_shrink_iters: 2_000,
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
            "{} {what}: {} sent, {} mutated, {} positive controls, statuses {statuses:?}, {:.1} s",
            self.scheme,
            st.sent,
            st.mutated,
            st.controls,
            t.elapsed().as_secs_f64()
        );
        assert!(st.sent >= cases, "{} {what}: only {} of {cases} cases sent", self.scheme, st.sent);
        assert!(st.mutated >= cases / 2, "{} {what}: only {} mutated cases", self.scheme, st.mutated);
        assert!(st.controls >= 10, "{} {what}: only {} positive controls", self.scheme, st.controls);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn fail(msg: String) -> TestCaseResult {
    Err(TestCaseError::fail(msg))
}

/// A 401 is the contract's JSON error with a challenge.
fn check_401(resp: &Resp) -> TestCaseResult {
    let v: Value =
        serde_json::from_slice(&resp.body).map_err(|e| TestCaseError::fail(format!("401 body: {e}")))?;
    prop_assert!(v["error"].is_string(), "401 without JSON error: {v}");
    prop_assert!(resp.headers.contains_key(header::WWW_AUTHENTICATE), "401 without WWW-Authenticate");
    Ok(())
}

// ======================================================================================
// Mutations
// ======================================================================================

/// One edit of a credential's bytes.
#[derive(Debug, Clone)]
enum Edit {
    FlipBit(Index, u8),
    Truncate(Index),
    Extend(Vec<u8>),
    ExtendAlphabet(String),
    Replace(Index, char),
    Delete(Index, u8),
    Insert(Index, Vec<u8>),
    /// base64 standard <-> base64url.
    AlphabetSwap,
    /// add or strip '=' padding.
    TogglePadding,
    SwapCase(Index, bool),
    /// this credential's prefix + another issued credential's suffix.
    Splice(Index, Index),
    /// JWT-shaped edits on the '.'-separated segments: swap, drop, duplicate, or take the
    /// segment from another issued credential.
    Segment(u8, Index, Index),
    /// Forged JWT header or payload, signature kept.
    Forge(Forgery),
    Double,
}

#[derive(Debug, Clone, Copy)]
enum Forgery {
    AlgNone,
    AlgNoneNoSignature,
    AlgSwap(&'static str),
    SubOtherUser,
    AudRefresh,
    TypRefresh,
    ExpFuture,
    ReEncodeStdBase64,
}

fn edit() -> impl Strategy<Value = Edit> {
    let forgery = prop_oneof![
        Just(Forgery::AlgNone),
        Just(Forgery::AlgNoneNoSignature),
        prop::sample::select(vec!["none", "None", "NONE", "HS384", "HS512", "RS256", "ES256", "EdDSA", ""])
            .prop_map(Forgery::AlgSwap),
        Just(Forgery::SubOtherUser),
        Just(Forgery::AudRefresh),
        Just(Forgery::TypRefresh),
        Just(Forgery::ExpFuture),
        Just(Forgery::ReEncodeStdBase64),
    ];
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Edit::FlipBit(i, b)),
        2 => any::<Index>().prop_map(Edit::Truncate),
        1 => vec(any::<u8>(), 1..8).prop_map(Edit::Extend),
        1 => "[A-Za-z0-9+/=_.-]{1,6}".prop_map(Edit::ExtendAlphabet),
        3 => (any::<Index>(), prop::char::ranges(vec!['0'..='9', 'A'..='Z', 'a'..='z', '+'..='+', '/'..='/', '-'..='-', '_'..='_', '='..='=', '.'..='.'].into()))
            .prop_map(|(i, c)| Edit::Replace(i, c)),
        1 => (any::<Index>(), 1u8..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), vec(any::<u8>(), 1..4)).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => Just(Edit::AlphabetSwap),
        1 => Just(Edit::TogglePadding),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(i, all)| Edit::SwapCase(i, all)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Splice(a, b)),
        1 => (0u8..4, any::<Index>(), any::<Index>()).prop_map(|(op, a, b)| Edit::Segment(op, a, b)),
        2 => forgery.prop_map(Edit::Forge),
        1 => Just(Edit::Double),
    ]
}

fn b64_json(segment: &[u8]) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
}

fn forge(cred: &[u8], forgery: Forgery, other_uid: u64) -> Vec<u8> {
    let parts: Vec<&[u8]> = cred.split(|&b| b == b'.').collect();
    if parts.len() != 3 {
        return cred.to_vec();
    }
    let (mut head, mut claims) = match (b64_json(parts[0]), b64_json(parts[1])) {
        (Some(h), Some(c)) => (h, c),
        _ => return cred.to_vec(),
    };
    let mut sig = parts[2].to_vec();
    match forgery {
        Forgery::AlgNone => head["alg"] = "none".into(),
        Forgery::AlgNoneNoSignature => {
            head["alg"] = "none".into();
            sig.clear();
        }
        Forgery::AlgSwap(alg) => head["alg"] = alg.into(),
        Forgery::SubOtherUser => claims["sub"] = other_uid.to_string().into(),
        Forgery::AudRefresh => claims["aud"] = "authbench-refresh".into(),
        Forgery::TypRefresh => claims["typ"] = "refresh".into(),
        Forgery::ExpFuture => claims["exp"] = (api::now_secs() + 10 * 365 * 86_400).into(),
        Forgery::ReEncodeStdBase64 => {
            let std = base64::engine::general_purpose::STANDARD;
            let h = std.encode(URL_SAFE_NO_PAD.decode(parts[0]).unwrap_or_default());
            let c = std.encode(URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default());
            return [h.as_bytes(), b".", c.as_bytes(), b".", &sig].concat();
        }
    }
    let h = URL_SAFE_NO_PAD.encode(head.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    [h.as_bytes(), b".", c.as_bytes(), b".", &sig].concat()
}

fn apply(mut v: Vec<u8>, edits: &[Edit], others: &[String], other_uid: u64) -> Vec<u8> {
    for e in edits {
        let len = v.len();
        match e {
            Edit::FlipBit(i, bit) if len > 0 => v[i.index(len)] ^= 1 << bit,
            Edit::Truncate(i) if len > 0 => v.truncate(i.index(len)),
            Edit::Extend(tail) => v.extend_from_slice(tail),
            Edit::ExtendAlphabet(s) => v.extend_from_slice(s.as_bytes()),
            Edit::Replace(i, c) if len > 0 => v[i.index(len)] = *c as u8,
            Edit::Delete(i, n) if len > 0 => {
                let start = i.index(len);
                v.drain(start..(start + *n as usize).min(len));
            }
            Edit::Insert(i, bytes) => {
                let at = i.index(len + 1);
                v.splice(at..at, bytes.iter().copied());
            }
            Edit::AlphabetSwap => {
                for b in v.iter_mut() {
                    *b = match *b {
                        b'+' => b'-',
                        b'-' => b'+',
                        b'/' => b'_',
                        b'_' => b'/',
                        x => x,
                    }
                }
            }
            Edit::TogglePadding => {
                if v.last() == Some(&b'=') {
                    while v.last() == Some(&b'=') {
                        v.pop();
                    }
                } else {
                    v.push(b'=');
                    while !v.len().is_multiple_of(4) {
                        v.push(b'=');
                    }
                }
            }
            Edit::SwapCase(i, all) if len > 0 => {
                let swap = |b: &mut u8| {
                    if b.is_ascii_lowercase() { b.make_ascii_uppercase() } else { b.make_ascii_lowercase() }
                };
                if *all {
                    v.iter_mut().for_each(swap);
                } else {
                    swap(&mut v[i.index(len)]);
                }
            }
            Edit::Splice(a, b) if !others.is_empty() => {
                let other = others[a.index(others.len())].as_bytes();
                let cut = b.index(len.min(other.len()) + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[cut.min(other.len())..]);
            }
            Edit::Segment(op, a, b) => {
                let mut segs: Vec<Vec<u8>> = v.split(|&x| x == b'.').map(<[u8]>::to_vec).collect();
                let n = segs.len();
                let (i, j) = (a.index(n), b.index(n));
                match op {
                    0 => segs.swap(i, j),
                    1 => {
                        segs.remove(i);
                    }
                    2 => {
                        let s = segs[i].clone();
                        segs.insert(j, s);
                    }
                    _ if !others.is_empty() => {
                        let other: Vec<&[u8]> =
                            others[j % others.len()].as_bytes().split(|&x| x == b'.').collect();
                        segs[i] = other[i.min(other.len() - 1)].to_vec();
                    }
                    _ => {}
                }
                v = segs.join(&b'.');
            }
            Edit::Forge(f) => v = forge(&v, *f, other_uid),
            Edit::Double => v = v.repeat(2),
            _ => {}
        }
    }
    v
}

/// Where a case's credential comes from.
#[derive(Debug, Clone)]
enum Source {
    /// A pool user's live credential (or its refresh token), edited.
    Issued {
        who: Index,
        refresh: bool,
        edits: Vec<Edit>,
    },
    RandomBytes(Vec<u8>),
    RandomAlphabet(String),
}

fn source(refresh_share: u32) -> impl Strategy<Value = Source> {
    let edits = prop_oneof![1 => Just(Vec::new()), 7 => vec(edit(), 1..4)];
    prop_oneof![
        16 => (any::<Index>(), prop::bool::weighted(f64::from(refresh_share) / 100.0), edits)
            .prop_map(|(who, refresh, edits)| Source::Issued { who, refresh, edits }),
        2 => vec(any::<u8>(), 0..300).prop_map(Source::RandomBytes),
        2 => "[A-Za-z0-9+/=_.-]{0,300}".prop_map(Source::RandomAlphabet),
    ]
}

/// The credential bytes of a case, and whether they are an issued credential left intact.
fn materialise(h: &Harness, src: &Source) -> (Vec<u8>, Option<Cred>) {
    match src {
        Source::Issued { who, refresh, edits } => {
            let cred = h.pool_cred(who);
            let base = match (refresh, &cred.refresh) {
                (true, Some(r)) => r.clone(),
                _ => cred.access.clone(),
            };
            let other_uid = cred.uid % POOL + 1;
            let out = apply(base.clone().into_bytes(), edits, &h.all_creds(), other_uid);
            let intact = out == base.as_bytes();
            (out, intact.then_some(cred))
        }
        Source::RandomBytes(b) => (b.clone(), None),
        Source::RandomAlphabet(s) => (s.clone().into_bytes(), None),
    }
}

/// Header bytes must be visible ASCII, obs-text or tab: map the rest so every case can be sent.
fn header_safe(mut v: Vec<u8>) -> Vec<u8> {
    for b in v.iter_mut() {
        if (*b < 0x20 && *b != b'\t') || *b == 0x7f {
            *b = b'~';
        }
    }
    v
}

fn hv(v: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(&header_safe(v.to_vec())).expect("header-safe bytes")
}

// ======================================================================================
// Framing into headers
// ======================================================================================

#[derive(Debug, Clone)]
enum CookieFrame {
    Plain,
    AmongOthers,
    /// next to another site cookie holding UTF-8 (obs-text), as a browser sends it
    AmongNonAscii,
    DuplicatedSameHeader,
    DuplicatedTwoHeaders,
    DuplicatedWithAnotherIssued(Index),
    EmptyThenValue,
    NameCase,
    OtherSchemesName,
    Spaces,
    Quoted,
    SplitAcrossHeaders(Index),
    CommaSeparated,
    NoName,
    InQueryOnly,
    RawHeader(Vec<u8>),
}

fn cookie_frame() -> impl Strategy<Value = CookieFrame> {
    prop_oneof![
        12 => Just(CookieFrame::Plain),
        3 => Just(CookieFrame::AmongOthers),
        1 => Just(CookieFrame::AmongNonAscii),
        1 => Just(CookieFrame::DuplicatedSameHeader),
        1 => Just(CookieFrame::DuplicatedTwoHeaders),
        1 => any::<Index>().prop_map(CookieFrame::DuplicatedWithAnotherIssued),
        1 => Just(CookieFrame::EmptyThenValue),
        1 => Just(CookieFrame::NameCase),
        1 => Just(CookieFrame::OtherSchemesName),
        1 => Just(CookieFrame::Spaces),
        1 => Just(CookieFrame::Quoted),
        1 => any::<Index>().prop_map(CookieFrame::SplitAcrossHeaders),
        1 => Just(CookieFrame::CommaSeparated),
        1 => Just(CookieFrame::NoName),
        1 => Just(CookieFrame::InQueryOnly),
        1 => vec(any::<u8>(), 0..200).prop_map(CookieFrame::RawHeader),
    ]
}

/// `Cookie` header values and a query string carrying `value`; and whether this is the
/// canonical framing a browser sends (positive control when the value is intact).
fn frame_cookie(h: &Harness, value: &[u8], frame: &CookieFrame) -> (Vec<Vec<u8>>, String, bool) {
    let name = h.cookie_name().as_bytes();
    let pair = |n: &[u8], v: &[u8]| [n, b"=", v].concat();
    let mut query = String::new();
    let headers = match frame {
        CookieFrame::Plain => return (vec![pair(name, value)], query, true),
        CookieFrame::AmongOthers => {
            return (vec![[b"theme=dark; ", &pair(name, value)[..], b"; lang=en"].concat()], query, true);
        }
        CookieFrame::AmongNonAscii => {
            return (vec![["pref=café; ".as_bytes(), &pair(name, value)[..]].concat()], query, true);
        }
        CookieFrame::DuplicatedSameHeader => {
            vec![[&pair(name, value)[..], b"; ", &pair(name, value)].concat()]
        }
        CookieFrame::DuplicatedTwoHeaders => vec![pair(name, value), pair(name, value)],
        CookieFrame::DuplicatedWithAnotherIssued(i) => {
            let other = h.pool_cred(i).access;
            vec![[&pair(name, value)[..], b"; ", &pair(name, other.as_bytes())].concat()]
        }
        CookieFrame::EmptyThenValue => vec![[&pair(name, b"")[..], b"; ", &pair(name, value)].concat()],
        CookieFrame::NameCase => vec![pair(&name.to_ascii_uppercase(), value)],
        CookieFrame::OtherSchemesName => vec![pair(h.other_cookie_name().as_bytes(), value)],
        CookieFrame::Spaces => vec![[b"  ", name, b" = ", value, b"  ;"].concat()],
        CookieFrame::Quoted => vec![[name, b"=\"", value, b"\""].concat()],
        CookieFrame::SplitAcrossHeaders(at) => {
            let cut = at.index(value.len() + 1);
            vec![pair(name, &value[..cut]), value[cut..].to_vec()]
        }
        CookieFrame::CommaSeparated => vec![[b"a=1, ", &pair(name, value)[..], b", b=2"].concat()],
        CookieFrame::NoName => vec![value.to_vec()],
        CookieFrame::InQueryOnly => {
            query = format!("?{}={}", h.cookie_name(), percent(value));
            vec![b"theme=dark".to_vec()]
        }
        CookieFrame::RawHeader(raw) => vec![raw.clone()],
    };
    (headers, query, false)
}

fn percent(v: &[u8]) -> String {
    v.iter().map(|b| format!("%{b:02X}")).collect()
}

#[derive(Debug, Clone)]
enum AuthFrame {
    Bearer,
    LowerScheme,
    UpperScheme,
    DoubleSpace,
    Tab,
    NoSpace,
    Basic,
    TokenOnly,
    TwoHeaders,
    TwoHeadersWithAnotherIssued(Index),
    SplitAcrossHeaders(Index),
    TrailingJunk,
    CommaList,
    Quoted,
    AsCookie,
    InQueryOnly,
    RawHeader(Vec<u8>),
}

fn auth_frame() -> impl Strategy<Value = AuthFrame> {
    prop_oneof![
        12 => Just(AuthFrame::Bearer),
        1 => Just(AuthFrame::LowerScheme),
        1 => Just(AuthFrame::UpperScheme),
        1 => Just(AuthFrame::DoubleSpace),
        1 => Just(AuthFrame::Tab),
        1 => Just(AuthFrame::NoSpace),
        1 => Just(AuthFrame::Basic),
        1 => Just(AuthFrame::TokenOnly),
        1 => Just(AuthFrame::TwoHeaders),
        1 => any::<Index>().prop_map(AuthFrame::TwoHeadersWithAnotherIssued),
        1 => any::<Index>().prop_map(AuthFrame::SplitAcrossHeaders),
        1 => Just(AuthFrame::TrailingJunk),
        1 => Just(AuthFrame::CommaList),
        1 => Just(AuthFrame::Quoted),
        1 => Just(AuthFrame::AsCookie),
        1 => Just(AuthFrame::InQueryOnly),
        1 => vec(any::<u8>(), 0..200).prop_map(AuthFrame::RawHeader),
    ]
}

/// `(Authorization values, Cookie values, query, canonical?)` carrying `token`.
type AuthFramed = (Vec<Vec<u8>>, Vec<Vec<u8>>, String, bool);

fn frame_auth(h: &Harness, token: &[u8], frame: &AuthFrame) -> AuthFramed {
    let bearer = |scheme: &[u8], sep: &[u8], t: &[u8]| [scheme, sep, t].concat();
    let none = Vec::new();
    let mut query = String::new();
    let auth = match frame {
        AuthFrame::Bearer => return (vec![bearer(b"Bearer", b" ", token)], none, query, true),
        AuthFrame::LowerScheme => return (vec![bearer(b"bearer", b" ", token)], none, query, true),
        AuthFrame::UpperScheme => return (vec![bearer(b"BEARER", b" ", token)], none, query, true),
        AuthFrame::DoubleSpace => vec![bearer(b"Bearer", b"  ", token)],
        AuthFrame::Tab => vec![bearer(b"Bearer", b"\t", token)],
        AuthFrame::NoSpace => vec![bearer(b"Bearer", b"", token)],
        AuthFrame::Basic => vec![bearer(b"Basic", b" ", token)],
        AuthFrame::TokenOnly => vec![token.to_vec()],
        AuthFrame::TwoHeaders => vec![bearer(b"Bearer", b" ", token), bearer(b"Bearer", b" ", token)],
        AuthFrame::TwoHeadersWithAnotherIssued(i) => {
            let other = h.pool_cred(i).access;
            vec![bearer(b"Bearer", b" ", token), bearer(b"Bearer", b" ", other.as_bytes())]
        }
        AuthFrame::SplitAcrossHeaders(at) => {
            let cut = at.index(token.len() + 1);
            vec![bearer(b"Bearer", b" ", &token[..cut]), token[cut..].to_vec()]
        }
        AuthFrame::TrailingJunk => vec![[&bearer(b"Bearer", b" ", token)[..], b" extra"].concat()],
        AuthFrame::CommaList => vec![[&bearer(b"Bearer", b" ", token)[..], b", Basic Zm9v"].concat()],
        AuthFrame::Quoted => vec![[b"Bearer \"", token, b"\""].concat()],
        AuthFrame::AsCookie => {
            return (
                none,
                vec![[b"ab_auth=", token].concat(), [b"access_token=", token].concat()],
                query,
                false,
            );
        }
        AuthFrame::InQueryOnly => {
            query = format!("?access_token={}", percent(token));
            none
        }
        AuthFrame::RawHeader(raw) => vec![raw.clone()],
    };
    (auth, Vec::new(), query, false)
}

// ======================================================================================
// Endpoints and the response oracle for credential cases
// ======================================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Me,
    Refresh,
    Logout,
    LogoutAll,
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop_oneof![16 => Just(Endpoint::Me), 2 => Just(Endpoint::Refresh), 1 => Just(Endpoint::Logout), 1 => Just(Endpoint::LogoutAll)]
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Me => api::ME,
            Endpoint::Refresh => api::REFRESH,
            Endpoint::Logout => api::LOGOUT,
            Endpoint::LogoutAll => api::LOGOUT_ALL,
        }
    }
    fn method(self) -> Method {
        if self == Endpoint::Me { Method::GET } else { Method::POST }
    }
}

/// Judge the answer to a request that presented a credential in `cred_headers`.
fn judge_credential_case(
    h: &Harness,
    ep: Endpoint,
    cred_headers: &[&[u8]],
    resp: &Resp,
    intact: Option<&Cred>,
    canonical: bool,
) -> TestCaseResult {
    let status = resp.status;
    let presented = h.presented(cred_headers, false);
    let stateless = h.scheme != SchemeKind::Session;
    match status.as_u16() {
        401 => check_401(resp)?,
        200 | 204 => {
            if presented.is_empty() {
                return fail(format!(
                    "{} {} answered {status} to a credential that was not issued",
                    h.scheme,
                    ep.path()
                ));
            }
            if ep == Endpoint::Me {
                let v: Value =
                    serde_json::from_slice(&resp.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let uid = v["user_id"].as_u64().unwrap_or(0);
                prop_assert!(
                    presented.contains(&uid),
                    "/api/me named user {uid}, credential belongs to {presented:?}"
                );
            }
            if ep == Endpoint::Refresh {
                let refreshed = h.record_issued(presented[0], resp);
                prop_assert!(refreshed.is_some(), "refresh 200 without a credential");
                if !stateless {
                    h.replace_pool(presented[0], refreshed);
                }
            }
            if matches!(ep, Endpoint::Logout | Endpoint::LogoutAll) && !stateless {
                h.replace_pool(presented[0], None);
            }
        }
        501 if stateless && ep == Endpoint::LogoutAll && !presented.is_empty() => {}
        _ => return fail(format!("{} {} answered {status}: {:?}", h.scheme, ep.path(), resp.body)),
    }
    if let (Some(_), true, Endpoint::Me) = (intact, canonical, ep) {
        prop_assert_eq!(status, StatusCode::OK, "intact credential, canonical framing, rejected");
    }
    Ok(())
}

fn build_request(
    ep: Endpoint,
    query: &str,
    auth: &[Vec<u8>],
    cookies: &[Vec<u8>],
    body: Option<(&str, Vec<u8>)>,
) -> Request<Body> {
    let mut req = Request::builder().method(ep.method()).uri(format!("{}{query}", ep.path()));
    for a in auth {
        req = req.header(header::AUTHORIZATION, hv(a));
    }
    for c in cookies {
        req = req.header(header::COOKIE, hv(c));
    }
    match body {
        Some((ct, b)) => {
            if !ct.is_empty() {
                req = req.header(header::CONTENT_TYPE, hv(ct.as_bytes()));
            }
            req.body(Body::from(b)).unwrap()
        }
        None => req.body(Body::empty()).unwrap(),
    }
}

/// Header values exactly as sent (after making them sendable), for the oracle.
fn sent(values: &[Vec<u8>]) -> Vec<Vec<u8>> {
    values.iter().map(|v| header_safe(v.clone())).collect()
}

// ======================================================================================
// Cookie headers (cookie, session) and Authorization headers (jwt)
// ======================================================================================

fn cookie_headers(scheme: SchemeKind) {
    let h = Harness::new(scheme);
    let cases = budget(&COOKIE_HEADER_CASES, scheme);
    h.run("Cookie headers", cases, (source(0), cookie_frame(), endpoint()), |h, (src, frame, ep)| {
        let (value, intact) = materialise(h, &src);
        let (headers, query, canonical) = frame_cookie(h, &value, &frame);
        let resp = h.send(build_request(ep, &query, &[], &headers, None));
        let on_wire = sent(&headers);
        let refs: Vec<&[u8]> = on_wire.iter().map(Vec::as_slice).collect();
        h.count(resp.status, intact.is_none(), intact.is_some() && canonical && ep == Endpoint::Me);
        judge_credential_case(h, ep, &refs, &resp, intact.as_ref(), canonical)
    });
}

#[test]
fn cookie_headers_cookie_scheme() {
    cookie_headers(SchemeKind::Cookie);
}

#[test]
fn cookie_headers_session_scheme() {
    cookie_headers(SchemeKind::Session);
}

#[test]
fn authorization_headers_jwt_scheme() {
    let h = Harness::new(SchemeKind::Jwt);
    let cases = budget(&AUTHORIZATION_CASES, SchemeKind::Jwt);
    // 20 % of the mutations start from a refresh token: it must never work as an access token.
    let ep =
        prop_oneof![18 => Just(Endpoint::Me), 1 => Just(Endpoint::Logout), 1 => Just(Endpoint::LogoutAll)];
    h.run("Authorization headers", cases, (source(20), auth_frame(), ep), |h, (src, frame, ep)| {
        let (token, intact) = materialise(h, &src);
        let is_refresh = matches!(src, Source::Issued { refresh: true, .. });
        let intact = intact.filter(|_| !is_refresh);
        let (auth, cookies, query, canonical) = frame_auth(h, &token, &frame);
        let resp = h.send(build_request(ep, &query, &auth, &cookies, None));
        let on_wire = sent(&auth);
        let refs: Vec<&[u8]> = on_wire.iter().map(Vec::as_slice).collect();
        h.count(resp.status, intact.is_none(), intact.is_some() && canonical && ep == Endpoint::Me);
        judge_credential_case(h, ep, &refs, &resp, intact.as_ref(), canonical)
    });
}

// ======================================================================================
// Login bodies (every scheme)
// ======================================================================================

#[derive(Debug, Clone)]
enum Field {
    Right,
    OffByOne,
    OtherUser,
    CaseSwapped,
    Padded,
    UnicodeEscaped,
    Empty,
    Long(usize),
    Number,
    Null,
    Array,
    Object,
    Random(String),
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        10 => Just(Field::Right),
        2 => Just(Field::OffByOne),
        1 => Just(Field::OtherUser),
        1 => Just(Field::CaseSwapped),
        1 => Just(Field::Padded),
        2 => Just(Field::UnicodeEscaped),
        1 => Just(Field::Empty),
        1 => prop::sample::select(vec![255usize, 256, 257, 4096]).prop_map(Field::Long),
        1 => Just(Field::Number),
        1 => Just(Field::Null),
        1 => Just(Field::Array),
        1 => Just(Field::Object),
        1 => "\\PC{0,40}".prop_map(Field::Random),
    ]
}

#[derive(Debug, Clone)]
enum LoginBody {
    /// `{"username":"user{u}","password":"password{u}"}` with byte edits on the JSON text.
    Edited {
        user: u64,
        edits: Vec<Edit>,
    },
    /// Field by field, with extra, missing, duplicated or reordered keys.
    Fields {
        user: u64,
        username: Field,
        password: Field,
        shape: Shape,
    },
    Random(Vec<u8>),
    Oversized(u64),
}

#[derive(Debug, Clone)]
enum Shape {
    Object,
    Reordered,
    ExtraField,
    MissingUsername,
    MissingPassword,
    DuplicatePassword,
    AsArray,
    Wrapped,
    TrailingJunk,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        12 => Just(Shape::Object),
        2 => Just(Shape::Reordered),
        1 => Just(Shape::ExtraField),
        1 => Just(Shape::MissingUsername),
        1 => Just(Shape::MissingPassword),
        1 => Just(Shape::DuplicatePassword),
        1 => Just(Shape::AsArray),
        1 => Just(Shape::Wrapped),
        1 => Just(Shape::TrailingJunk),
    ]
}

fn login_body() -> impl Strategy<Value = LoginBody> {
    let user = 0..=USERS + 2;
    prop_oneof![
        6 => (user.clone(), prop_oneof![1 => Just(Vec::new()), 5 => vec(edit(), 1..3)])
            .prop_map(|(user, edits)| LoginBody::Edited { user, edits }),
        8 => (user.clone(), field(), field(), shape())
            .prop_map(|(user, username, password, shape)| LoginBody::Fields { user, username, password, shape }),
        1 => vec(any::<u8>(), 0..200).prop_map(LoginBody::Random),
        1 => user.prop_map(LoginBody::Oversized),
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => Just("application/json".to_owned()),
        1 => Just("application/json; charset=utf-8".to_owned()),
        1 => Just("APPLICATION/JSON".to_owned()),
        1 => Just(String::new()),
        1 => Just("text/plain".to_owned()),
        1 => Just("application/jsonp".to_owned()),
        1 => Just("application/x-www-form-urlencoded".to_owned()),
        1 => "[ -~]{0,30}",
    ]
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn field_json(f: &Field, right: &str, user: u64) -> String {
    match f {
        Field::Right => json_str(right),
        Field::OffByOne => json_str(&right.replace(&user.to_string(), &(user + 1).to_string())),
        Field::OtherUser => json_str(&right.replace(&user.to_string(), &(user % POOL + 1).to_string())),
        Field::CaseSwapped => json_str(&right.to_ascii_uppercase()),
        Field::Padded => json_str(&format!(" {right}")),
        Field::UnicodeEscaped => {
            format!("\"{}\"", right.chars().map(|c| format!("\\u{:04x}", c as u32)).collect::<String>())
        }
        Field::Empty => "\"\"".to_owned(),
        Field::Long(n) => json_str(&format!("{right}{}", "x".repeat(n.saturating_sub(right.len())))),
        Field::Number => user.to_string(),
        Field::Null => "null".to_owned(),
        Field::Array => format!("[{}]", json_str(right)),
        Field::Object => format!("{{\"value\":{}}}", json_str(right)),
        Field::Random(s) => json_str(s),
    }
}

fn render_login(body: &LoginBody) -> (Vec<u8>, bool) {
    match body {
        LoginBody::Edited { user, edits } => {
            let text = format!(r#"{{"username":"user{user}","password":"password{user}"}}"#);
            let out = apply(text.clone().into_bytes(), edits, &[], user % POOL + 1);
            let intact = out == text.as_bytes();
            (out, intact)
        }
        LoginBody::Fields { user, username, password, shape } => {
            let u = field_json(username, &format!("user{user}"), *user);
            let p = field_json(password, &format!("password{user}"), *user);
            let intact = matches!((username, password, shape), (Field::Right, Field::Right, Shape::Object));
            let text = match shape {
                Shape::Object => format!(r#"{{"username":{u},"password":{p}}}"#),
                Shape::Reordered => format!(r#"{{ "password" : {p} , "username" : {u} }}"#),
                Shape::ExtraField => format!(r#"{{"username":{u},"password":{p},"remember":true}}"#),
                Shape::MissingUsername => format!(r#"{{"password":{p}}}"#),
                Shape::MissingPassword => format!(r#"{{"username":{u}}}"#),
                Shape::DuplicatePassword => {
                    format!(r#"{{"username":{u},"password":"wrong","password":{p}}}"#)
                }
                Shape::AsArray => format!("[{u},{p}]"),
                Shape::Wrapped => format!(r#"{{"login":{{"username":{u},"password":{p}}}}}"#),
                Shape::TrailingJunk => format!(r#"{{"username":{u},"password":{p}}}}}"#),
            };
            (text.into_bytes(), intact)
        }
        LoginBody::Random(b) => (b.clone(), false),
        LoginBody::Oversized(user) => {
            let pad = "x".repeat(api::MAX_BODY_BYTES);
            (
                format!(r#"{{"username":"user{user}","password":"password{user}","pad":"{pad}"}}"#)
                    .into_bytes(),
                false,
            )
        }
    }
}

/// The oracle's own idea of a valid login: a JSON object with exactly the two string fields, a
/// known user and that user's password, sent as JSON.
fn valid_login(content_type: &str, body: &[u8]) -> bool {
    let json_ct =
        content_type.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else { return false };
    let (Some(Value::String(u)), Some(Value::String(p))) = (map.get("username"), map.get("password")) else {
        return false;
    };
    let user = u.strip_prefix("user").and_then(|n| n.parse::<u64>().ok()).filter(|n| (1..=USERS).contains(n));
    json_ct
        && map.len() == 2
        && user.is_some_and(|n| u == &format!("user{n}") && p == &format!("password{n}"))
}

fn login_bodies(scheme: SchemeKind) {
    let h = Harness::new(scheme);
    let cases = budget(&LOGIN_CASES, scheme);
    h.run("login bodies", cases, (login_body(), content_type()), |h, (body, ct)| {
        let (bytes, intact) = render_login(&body);
        let valid = valid_login(&ct, &bytes);
        let len = bytes.len();
        let resp = h.send(build_request_login(&ct, bytes.clone()));
        let canonical_ok = intact && ct == "application/json" && valid;
        h.count(resp.status, !intact, canonical_ok);
        match resp.status.as_u16() {
            200 => prop_assert!(valid, "login 200 for {:?} ({ct})", String::from_utf8_lossy(&bytes)),
            400 => {}
            401 => check_401(&resp)?,
            413 => prop_assert!(len > api::MAX_BODY_BYTES, "413 for a {len}-byte body"),
            s => return fail(format!("login answered {s} to {:?} ({ct})", String::from_utf8_lossy(&bytes))),
        }
        if canonical_ok {
            prop_assert_eq!(resp.status, StatusCode::OK, "canonical login rejected");
        }
        Ok(())
    });
}

fn build_request_login(ct: &str, body: Vec<u8>) -> Request<Body> {
    let mut req = Request::post(api::LOGIN);
    if !ct.is_empty() {
        req = req.header(header::CONTENT_TYPE, hv(ct.as_bytes()));
    }
    req.body(Body::from(body)).unwrap()
}

#[test]
fn login_bodies_cookie_scheme() {
    login_bodies(SchemeKind::Cookie);
}

#[test]
fn login_bodies_session_scheme() {
    login_bodies(SchemeKind::Session);
}

#[test]
fn login_bodies_jwt_scheme() {
    login_bodies(SchemeKind::Jwt);
}

// ======================================================================================
// Refresh bodies: jwt's {"refresh_token"}; the cookie schemes ignore the body and read the cookie
// ======================================================================================

#[derive(Debug, Clone)]
enum RefreshFrame {
    Object,
    ExtraField,
    WrongKey,
    AsArray,
    Nested,
    DuplicateKey,
    UnicodeEscaped,
    Spaces,
    NotAString,
    Raw(Vec<u8>),
}

fn refresh_frame() -> impl Strategy<Value = RefreshFrame> {
    prop_oneof![
        14 => Just(RefreshFrame::Object),
        1 => Just(RefreshFrame::ExtraField),
        1 => Just(RefreshFrame::WrongKey),
        1 => Just(RefreshFrame::AsArray),
        1 => Just(RefreshFrame::Nested),
        1 => Just(RefreshFrame::DuplicateKey),
        1 => Just(RefreshFrame::UnicodeEscaped),
        1 => Just(RefreshFrame::Spaces),
        1 => Just(RefreshFrame::NotAString),
        1 => vec(any::<u8>(), 0..200).prop_map(RefreshFrame::Raw),
    ]
}

fn render_refresh(token: &[u8], frame: &RefreshFrame) -> Vec<u8> {
    let t = json_str(&String::from_utf8_lossy(token));
    match frame {
        RefreshFrame::Object => format!(r#"{{"refresh_token":{t}}}"#),
        RefreshFrame::ExtraField => format!(r#"{{"refresh_token":{t},"grant_type":"refresh_token"}}"#),
        RefreshFrame::WrongKey => format!(r#"{{"refreshToken":{t}}}"#),
        RefreshFrame::AsArray => format!("[{t}]"),
        RefreshFrame::Nested => format!(r#"{{"refresh_token":{{"token":{t}}}}}"#),
        RefreshFrame::DuplicateKey => format!(r#"{{"refresh_token":"x","refresh_token":{t}}}"#),
        RefreshFrame::UnicodeEscaped => {
            let esc: String =
                String::from_utf8_lossy(token).chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
            format!(r#"{{"refresh_token":"{esc}"}}"#)
        }
        RefreshFrame::Spaces => format!("  {{ \"refresh_token\" :\n {t} }}  "),
        RefreshFrame::NotAString => format!(r#"{{"refresh_token":[{t}]}}"#),
        RefreshFrame::Raw(raw) => return raw.clone(),
    }
    .into_bytes()
}

/// The oracle's valid refresh body: exactly `{"refresh_token": <issued refresh token>}` as JSON.
fn presented_refresh(h: &Harness, ct: &str, body: &[u8]) -> Option<u64> {
    let json_ct = ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else { return None };
    let token = map.get("refresh_token")?.as_str()?;
    if !json_ct || map.len() != 1 {
        return None;
    }
    h.state.borrow().issued_refresh.get(token).copied()
}

#[test]
fn refresh_bodies_jwt_scheme() {
    let h = Harness::new(SchemeKind::Jwt);
    let cases = budget(&REFRESH_CASES, SchemeKind::Jwt);
    // 75 % of issued sources are refresh tokens; the rest are access tokens, which must never
    // refresh.
    h.run("refresh bodies", cases, (source(75), refresh_frame(), content_type()), |h, (src, frame, ct)| {
        let (token, intact) = materialise(h, &src);
        let is_refresh = matches!(src, Source::Issued { refresh: true, .. });
        let body = render_refresh(&token, &frame);
        let owner = presented_refresh(h, &ct, &body);
        let canonical = intact.is_some()
            && is_refresh
            && ct == "application/json"
            && matches!(frame, RefreshFrame::Object);
        let req = build_request(Endpoint::Refresh, "", &[], &[], Some((&ct, body.clone())));
        let resp = h.send(req);
        h.count(resp.status, intact.is_none(), canonical);
        match resp.status.as_u16() {
            200 => {
                let Some(uid) = owner else {
                    return fail(format!("refresh 200 for {:?} ({ct})", String::from_utf8_lossy(&body)));
                };
                prop_assert!(h.record_issued(uid, &resp).is_some(), "refresh 200 without a token pair");
            }
            400 => {}
            401 => check_401(&resp)?,
            s => return fail(format!("refresh answered {s} to {:?} ({ct})", String::from_utf8_lossy(&body))),
        }
        if canonical {
            prop_assert_eq!(resp.status, StatusCode::OK, "canonical refresh rejected");
        }
        Ok(())
    });
}

fn refresh_bodies_cookie_schemes(scheme: SchemeKind) {
    let h = Harness::new(scheme);
    let cases = budget(&REFRESH_CASES, scheme);
    let body = prop_oneof![
        3 => Just(Vec::new()),
        1 => vec(any::<u8>(), 0..300),
        1 => refresh_frame().prop_map(|f| render_refresh(b"x", &f)),
    ];
    h.run(
        "refresh bodies",
        cases,
        (source(0), cookie_frame(), body, content_type()),
        |h, (src, frame, body, ct)| {
            let (value, intact) = materialise(h, &src);
            let (headers, query, canonical) = frame_cookie(h, &value, &frame);
            let req = build_request(Endpoint::Refresh, &query, &[], &headers, Some((&ct, body)));
            let resp = h.send(req);
            let on_wire = sent(&headers);
            let refs: Vec<&[u8]> = on_wire.iter().map(Vec::as_slice).collect();
            h.count(resp.status, intact.is_none(), intact.is_some() && canonical);
            judge_credential_case(h, Endpoint::Refresh, &refs, &resp, intact.as_ref(), canonical)?;
            if intact.is_some() && canonical {
                prop_assert_eq!(resp.status, StatusCode::OK, "canonical refresh rejected");
            }
            Ok(())
        },
    );
}

#[test]
fn refresh_bodies_cookie_scheme() {
    refresh_bodies_cookie_schemes(SchemeKind::Cookie);
}

#[test]
fn refresh_bodies_session_scheme() {
    refresh_bodies_cookie_schemes(SchemeKind::Session);
}
