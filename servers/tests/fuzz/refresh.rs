//! Refresh bodies. The bearer schemes (jwt, jwt-revocable, jwt-pubsub) read `{"refresh_token"}`:
//! a live refresh token in a valid body must refresh (200, a new pair), a stale one (rotated
//! out of a live family) must be 401 and revoke the family, anything else (mutated, revoked,
//! access tokens, invalid bodies) is 400/401 and changes nothing; see [`crate::ledger`]. The cookie
//! schemes (cookie, session, session-cached, session-tracked) ignore the body and read the cookie,
//! judged like any credential header; the session schemes' rotated-away ids are replayed too, and
//! one replayed exactly must be refused and end its family's current session (reuse detection).

use std::fmt;

use authbench_servers::SchemeKind;
use axum::http::StatusCode;
use proptest::collection::vec;
use proptest::prelude::*;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::budget::{REFRESH_CASES, budget};
use crate::frame::{cookie_frame, frame_cookie};
use crate::harness::{Harness, check_401, fail};
use crate::ledger::RefreshState;
use crate::mutation::{Source, materialise, source};
use crate::oracle::{Endpoint, build_request, content_type, json_str, judge_cookie_case, sent};

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

/// The oracle's valid refresh body: JSON content type, a JSON object with exactly one key,
/// `refresh_token`, whose value is a string (the contract's `RefreshRequest`, unknown fields
/// refused; a duplicated key is refused too). Returns that string.
fn refresh_token_in(ct: &str, body: &[u8]) -> Option<String> {
    let json_ct = ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    let Entries(entries) = serde_json::from_slice(body).ok()?;
    match &entries[..] {
        [(key, Value::String(token))] if json_ct && key == "refresh_token" => Some(token.clone()),
        _ => None,
    }
}

/// A JSON object's entries in order, duplicates kept (`Value` keeps only the last).
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Object)
    }
}

fn refresh_bodies_bearer_schemes(scheme: SchemeKind) {
    let h = Harness::new(scheme);
    let cases = budget(&REFRESH_CASES, scheme);
    // 75 % of issued sources are refresh tokens; the rest are access tokens, which must never
    // refresh. Stale and revoked sources replay refresh tokens the run rotated or revoked.
    h.run("refresh bodies", cases, (source(75), refresh_frame(), content_type()), |h, (src, frame, ct)| {
        let (token, intact) = materialise(h, &src);
        let body = render_refresh(&token, &frame);
        let presented = refresh_token_in(&ct, &body);
        let expect = presented.as_deref().map_or(RefreshState::Unknown, |t| h.refresh_state(t));
        let canonical = intact.is_some()
            && src.is_refresh()
            && ct == "application/json"
            && matches!(frame, RefreshFrame::Object);
        let req = build_request(Endpoint::Refresh, "", &[], &[], Some((&ct, body.clone())));
        let resp = h.send(req);
        h.count(resp.status, intact.is_none(), canonical);
        let shown = || format!("{:?} ({ct}), expected {expect:?}", String::from_utf8_lossy(&body));
        match (expect, resp.status.as_u16()) {
            (RefreshState::Live(uid), 200) => {
                let old = presented.as_deref().unwrap_or_default();
                prop_assert!(h.refreshed(uid, old, &resp).is_some(), "refresh 200 without a token pair");
            }
            (RefreshState::Stale { uid, family }, 401) => {
                check_401(&resp)?;
                h.reuse_detected(uid, family)?;
            }
            (RefreshState::Unknown, 400) => {}
            (RefreshState::Unknown, 401) => check_401(&resp)?,
            (_, s) => return fail(format!("refresh answered {s} to {}", shown())),
        }
        // A tampered copy of a stale (or current) refresh token is refused before the family is
        // looked at: the family must still stand.
        if let (true, RefreshState::Unknown, Source::Stale { who, edits, .. }) = (h.rotates(), expect, &src)
            && !edits.is_empty()
        {
            h.family_stands(&h.pool_cred(who))?;
        }
        if canonical {
            prop_assert_eq!(resp.status, StatusCode::OK, "canonical refresh rejected");
        }
        Ok(())
    });
    if h.rotates() {
        let replays = h.state.borrow().replays;
        assert!(replays >= 3, "{scheme} refresh bodies: only {replays} reuses detected and checked");
    }
    h.check_aged_replayed("refresh bodies");
}

#[test]
fn refresh_bodies_jwt_scheme() {
    refresh_bodies_bearer_schemes(SchemeKind::Jwt);
}

#[test]
fn refresh_bodies_jwt_revocable_scheme() {
    refresh_bodies_bearer_schemes(SchemeKind::JwtRevocable);
}

#[test]
fn refresh_bodies_jwt_pubsub_scheme() {
    refresh_bodies_bearer_schemes(SchemeKind::JwtPubsub);
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
            judge_cookie_case(h, Endpoint::Refresh, &value, &refs, &resp, intact.as_ref(), canonical)?;
            if intact.is_some() && canonical {
                prop_assert_eq!(resp.status, StatusCode::OK, "canonical refresh rejected");
            }
            Ok(())
        },
    );
    if h.rotates_sessions() {
        let replays = h.state.borrow().replays;
        assert!(replays >= 3, "{scheme} refresh bodies: only {replays} session reuses detected and checked");
    }
    h.check_aged_replayed("refresh bodies");
}

#[test]
fn refresh_bodies_cookie_scheme() {
    refresh_bodies_cookie_schemes(SchemeKind::Cookie);
}

#[test]
fn refresh_bodies_session_scheme() {
    refresh_bodies_cookie_schemes(SchemeKind::Session);
}

#[test]
fn refresh_bodies_session_cached_scheme() {
    refresh_bodies_cookie_schemes(SchemeKind::SessionCached);
}

#[test]
fn refresh_bodies_session_tracked_scheme() {
    refresh_bodies_cookie_schemes(SchemeKind::SessionTracked);
}
