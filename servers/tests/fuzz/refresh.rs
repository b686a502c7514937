//! Refresh bodies: jwt's `{"refresh_token"}`; the cookie schemes ignore the body and read the cookie.

use authbench_servers::SchemeKind;
use axum::http::StatusCode;
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;

use crate::budget::{REFRESH_CASES, budget};
use crate::frame::{cookie_frame, frame_cookie};
use crate::harness::{Harness, check_401, fail};
use crate::mutation::{Source, materialise, source};
use crate::oracle::{Endpoint, build_request, content_type, json_str, judge_credential_case, sent};

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
