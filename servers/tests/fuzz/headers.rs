//! Cookie headers (cookie, session, session-cached, session-tracked) and Authorization headers
//! (jwt, jwt-revocable, jwt-pubsub) on `/api/me`, `/auth/refresh` (cookie schemes), `/auth/logout`
//! and `/auth/logout-all`: a 2xx only for a live credential presented intact, `/api/me` naming its
//! user; revoked credentials (replayed exactly or edited) never accepted again.

use authbench_servers::SchemeKind;
use proptest::prelude::*;

use crate::budget::{AUTHORIZATION_CASES, COOKIE_HEADER_CASES, budget};
use crate::frame::{auth_frame, cookie_frame, frame_auth, frame_cookie};
use crate::harness::Harness;
use crate::mutation::{materialise, source};
use crate::oracle::{Endpoint, build_request, endpoint, judge_cookie_case, judge_credential_case, sent};

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
        judge_cookie_case(h, ep, &value, &refs, &resp, intact.as_ref(), canonical)
    });
    h.check_aged_replayed("Cookie headers");
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
fn cookie_headers_session_cached_scheme() {
    cookie_headers(SchemeKind::SessionCached);
}

#[test]
fn cookie_headers_session_tracked_scheme() {
    cookie_headers(SchemeKind::SessionTracked);
}

#[test]
fn authorization_headers_jwt_scheme() {
    authorization_headers(SchemeKind::Jwt);
}

#[test]
fn authorization_headers_jwt_revocable_scheme() {
    authorization_headers(SchemeKind::JwtRevocable);
}

#[test]
fn authorization_headers_jwt_pubsub_scheme() {
    authorization_headers(SchemeKind::JwtPubsub);
}

fn authorization_headers(scheme: SchemeKind) {
    let h = Harness::new(scheme);
    let cases = budget(&AUTHORIZATION_CASES, scheme);
    // 20 % of the mutations start from a refresh token: it must never work as an access token.
    let ep =
        prop_oneof![18 => Just(Endpoint::Me), 1 => Just(Endpoint::Logout), 1 => Just(Endpoint::LogoutAll)];
    h.run("Authorization headers", cases, (source(20), auth_frame(), ep), |h, (src, frame, ep)| {
        let (token, intact) = materialise(h, &src);
        let intact = intact.filter(|_| !src.is_refresh());
        let (auth, cookies, query, canonical) = frame_auth(h, &token, &frame);
        let resp = h.send(build_request(ep, &query, &auth, &cookies, None));
        let on_wire = sent(&auth);
        let refs: Vec<&[u8]> = on_wire.iter().map(Vec::as_slice).collect();
        h.count(resp.status, intact.is_none(), intact.is_some() && canonical && ep == Endpoint::Me);
        judge_credential_case(h, ep, &refs, &resp, intact.as_ref(), canonical)
    });
    h.check_aged_replayed("Authorization headers");
}
