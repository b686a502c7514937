//! Endpoints, requests, and the response oracle for credential cases.

use authbench_servers::api;
use axum::body::Body;
use axum::http::header;
use axum::http::{Method, Request, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestCaseResult};
use serde_json::Value;

use crate::harness::{Cred, Harness, Resp, check_401, fail};
use crate::mutation::{header_safe, hv};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Me,
    Refresh,
    Logout,
    LogoutAll,
}

pub fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop_oneof![16 => Just(Endpoint::Me), 2 => Just(Endpoint::Refresh), 1 => Just(Endpoint::Logout), 1 => Just(Endpoint::LogoutAll)]
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Me => api::ME,
            Endpoint::Refresh => api::REFRESH,
            Endpoint::Logout => api::LOGOUT,
            Endpoint::LogoutAll => api::LOGOUT_ALL,
        }
    }
    pub fn method(self) -> Method {
        if self == Endpoint::Me { Method::GET } else { Method::POST }
    }
}

/// Judge the answer to a request that presented a credential in `cred_headers`, and apply what a
/// 2xx did to the oracle's model ([`crate::ledger`]).
pub fn judge_credential_case(
    h: &Harness,
    ep: Endpoint,
    cred_headers: &[&[u8]],
    resp: &Resp,
    intact: Option<&Cred>,
    canonical: bool,
) -> TestCaseResult {
    let status = resp.status;
    let presented = h.presented(cred_headers);
    match status.as_u16() {
        401 => {
            check_401(resp)?;
            if ep == Endpoint::Refresh && h.rotates_sessions() {
                h.after_refused_session_refresh(cred_headers)?;
            }
        }
        200 | 204 => {
            if presented.is_empty() {
                return fail(format!(
                    "{} {} answered {status} to a credential that is not live (never issued, \
                     mutated or revoked)",
                    h.scheme,
                    ep.path()
                ));
            }
            if ep == Endpoint::Me {
                let v: Value =
                    serde_json::from_slice(&resp.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let uid = v["user_id"].as_u64().unwrap_or(0);
                prop_assert!(
                    presented.iter().any(|(_, u)| *u == uid),
                    "/api/me named user {uid}, credential belongs to {presented:?}"
                );
            } else if h.keeps_state() {
                // The model must know which credential a state change acted on: the server may
                // only act on a request carrying exactly one.
                let mut tokens: Vec<&String> = presented.iter().map(|(t, _)| t).collect();
                tokens.sort();
                tokens.dedup();
                prop_assert!(tokens.len() == 1, "{} acted on one of several credentials", ep.path());
            }
            let (token, uid) = &presented[0];
            match ep {
                Endpoint::Me => {}
                Endpoint::Refresh => {
                    prop_assert!(
                        h.refreshed(*uid, token, resp).is_some(),
                        "refresh 200 without a credential"
                    );
                }
                Endpoint::Logout | Endpoint::LogoutAll if h.keeps_state() => {
                    h.revoke(*uid, h.family_of(token), ep == Endpoint::LogoutAll)?
                }
                Endpoint::Logout | Endpoint::LogoutAll => {}
            }
        }
        501 if !h.keeps_state() && ep == Endpoint::LogoutAll && !presented.is_empty() => {}
        _ => return fail(format!("{} {} answered {status}: {:?}", h.scheme, ep.path(), resp.body)),
    }
    if let (Some(_), true, Endpoint::Me) = (intact, canonical, ep) {
        prop_assert_eq!(status, StatusCode::OK, "intact credential, canonical framing, rejected");
    }
    Ok(())
}

/// [`judge_credential_case`] for a cookie scheme's case whose cookie value was `value`: also, a
/// session id rotated away before and replayed exactly, canonically framed, at refresh must be
/// refused *and* detected as a reuse (its family's current session ended).
pub fn judge_cookie_case(
    h: &Harness,
    ep: Endpoint,
    value: &[u8],
    cred_headers: &[&[u8]],
    resp: &Resp,
    intact: Option<&Cred>,
    canonical: bool,
) -> TestCaseResult {
    let replay = canonical && ep == Endpoint::Refresh && h.is_stale(value);
    let detected = h.state.borrow().replays;
    judge_credential_case(h, ep, cred_headers, resp, intact, canonical)?;
    if replay {
        prop_assert_eq!(resp.status.as_u16(), 401, "a replayed rotated session id was refreshed");
        prop_assert!(h.state.borrow().replays > detected, "a replayed rotated session id ended no session");
    }
    Ok(())
}

pub fn build_request(
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
pub fn sent(values: &[Vec<u8>]) -> Vec<Vec<u8>> {
    values.iter().map(|v| header_safe(v.clone())).collect()
}

pub fn content_type() -> impl Strategy<Value = String> {
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

pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}
