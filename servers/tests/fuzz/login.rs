//! Login bodies (every scheme).

use authbench_servers::SchemeKind;
use authbench_servers::api;
use authbench_servers::testing::{Edit, apply};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;

use crate::budget::{LOGIN_CASES, POOL, USERS, budget};
use crate::harness::{Harness, check_401, fail};
use crate::mutation::{edit, hv};
use crate::oracle::{content_type, json_str};

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

#[test]
fn login_bodies_session_cached_scheme() {
    login_bodies(SchemeKind::SessionCached);
}

#[test]
fn login_bodies_session_tracked_scheme() {
    login_bodies(SchemeKind::SessionTracked);
}

#[test]
fn login_bodies_jwt_revocable_scheme() {
    login_bodies(SchemeKind::JwtRevocable);
}

#[test]
fn login_bodies_jwt_pubsub_scheme() {
    login_bodies(SchemeKind::JwtPubsub);
}
