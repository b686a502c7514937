//! Every error answer of our code and of axum has one JSON shape, `{"error": "<message>"}` with
//! `Content-Type: application/json` — checked on the Router with `oneshot` (the in-process wire
//! level is `limits.rs`, which checks the same shape on every 4xx it provokes). hyper's own
//! answers (431, malformed HTTP, header read timeout) never reach the Router: they are the
//! documented exceptions in `servers/src/error.rs`.

use std::sync::Arc;
use std::time::Duration;

use authbench_servers::JwtAlg;
use authbench_servers::SameSite;
use authbench_servers::api;
use authbench_servers::cookie::{CookieScheme, Sealer};
use authbench_servers::jwt::{Codec, JwtScheme};
use authbench_servers::users::{PasswordCost, Users};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn routers() -> Vec<(&'static str, Router)> {
    let users = Arc::new(Users::synthetic(100, PasswordCost::FAST));
    let ttl = Duration::from_secs(900);
    vec![
        ("cookie", api::router(CookieScheme::new(users.clone(), Sealer::generate(), ttl, SameSite::Lax))),
        (
            "jwt",
            api::router(JwtScheme::new(
                users,
                Codec::generate(JwtAlg::Hs256, ttl, Duration::from_secs(86_400)).unwrap(),
            )),
        ),
    ]
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, serde_json::Value) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!("{} body is not JSON ({e}): {:?}", parts.status, String::from_utf8_lossy(&bytes))
    });
    (parts.status, parts.headers, json)
}

fn post(path: &str, content_type: Option<&str>, body: Body) -> Request<Body> {
    let mut b = Request::builder().method(Method::POST).uri(path);
    if let Some(ct) = content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    b.body(body).unwrap()
}

#[tokio::test]
async fn every_error_our_code_or_axum_gives_is_one_json_shape() {
    for (scheme, router) in routers() {
        let big = vec![b'x'; api::MAX_BODY_BYTES + 1];
        let mut cases: Vec<(&str, Request<Body>, StatusCode)> = vec![
            ("no credential", Request::get(api::ME).body(Body::empty()).unwrap(), StatusCode::UNAUTHORIZED),
            (
                "bad bearer",
                Request::get(api::ME)
                    .header(header::AUTHORIZATION, "Bearer x.y.z")
                    .body(Body::empty())
                    .unwrap(),
                StatusCode::UNAUTHORIZED,
            ),
            ("unknown path", Request::get("/nope").body(Body::empty()).unwrap(), StatusCode::NOT_FOUND),
            (
                "wrong method",
                Request::delete(api::LOGIN).body(Body::empty()).unwrap(),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            ("not JSON", post(api::LOGIN, Some("text/plain"), Body::from("{}")), StatusCode::BAD_REQUEST),
            (
                "malformed JSON",
                post(api::LOGIN, Some("application/json"), Body::from(r#"{"username":"#)),
                StatusCode::BAD_REQUEST,
            ),
            (
                "wrong password",
                post(
                    api::LOGIN,
                    Some("application/json"),
                    Body::from(r#"{"username":"user1","password":"no"}"#),
                ),
                StatusCode::UNAUTHORIZED,
            ),
            (
                "oversized body",
                post(api::LOGIN, Some("application/json"), Body::from(big)),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        if scheme == "jwt" {
            let login = post(
                api::LOGIN,
                Some("application/json"),
                Body::from(r#"{"username":"user1","password":"password1"}"#),
            );
            let (status, _, tokens) = send(&router, login).await;
            assert_eq!(status, StatusCode::OK);
            let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
            let req = Request::post(api::LOGOUT_ALL)
                .header(header::AUTHORIZATION, bearer)
                .body(Body::empty())
                .unwrap();
            cases.push(("logout-all", req, StatusCode::NOT_IMPLEMENTED));
        }
        for (what, req, expected) in cases {
            let (status, headers, json) = send(&router, req).await;
            assert_eq!(status, expected, "{scheme} {what}: {json}");
            let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
            assert_eq!(ct, Some("application/json"), "{scheme} {what}");
            let object = json.as_object().unwrap_or_else(|| panic!("{scheme} {what}: {json}"));
            assert_eq!(object.len(), 1, "{scheme} {what}: {json}");
            assert!(object["error"].as_str().is_some_and(|m| !m.is_empty()), "{scheme} {what}: {json}");
            if status == StatusCode::METHOD_NOT_ALLOWED {
                assert_eq!(
                    headers.get(header::ALLOW).and_then(|v| v.to_str().ok()),
                    Some("POST"),
                    "{scheme}"
                );
            }
        }
    }
}
