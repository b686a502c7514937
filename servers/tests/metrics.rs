//! `GET /metrics` on the Router (`oneshot`): `session-tracked` counts a miss, a hit and — after a
//! logout, by Redis's push — an invalidation, with the entry gone from its gauges; `session-cached`
//! counts hits without tracked-only counters; a scheme without a cache answers an empty
//! exposition; no credential is needed and none changes the answer. Each test has its own Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authbench_procs::redis_server::RedisServer;
use authbench_servers::SameSite;
use authbench_servers::api;
use authbench_servers::metrics::{CONTENT_TYPE, CacheReading};
use authbench_servers::session::{SessionScheme, SessionStore};
use authbench_servers::session_cached::CachedScheme;
use authbench_servers::session_tracked::TrackedScheme;
use authbench_servers::users::{PasswordCost, Users};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PREFIX: &str = "metrics:";
const TTL: Duration = Duration::from_secs(600);
const CAPACITY: u64 = 1000;

fn redis() -> RedisServer {
    assert!(
        authbench_procs::redis_server::find_binary().is_some(),
        "redis-server is required (scripts/test.sh installs it)"
    );
    RedisServer::start().expect("start redis-server")
}

async fn session(url: &str) -> SessionScheme {
    let store = SessionStore::connect(url, PREFIX, TTL, Duration::from_millis(500)).await.expect("connect");
    SessionScheme::new(Arc::new(Users::synthetic(10, PasswordCost::FAST)), store, SameSite::Lax)
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

async fn login(router: &Router) -> String {
    let body = r#"{"username":"user1","password":"password1"}"#;
    let req =
        Request::post(api::LOGIN).header(header::CONTENT_TYPE, "application/json").body(Body::from(body));
    let (status, headers, _) = send(router, req.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned()
}

async fn post_or_get(router: &Router, method: &str, path: &str, cookie: &str) -> StatusCode {
    let req = Request::builder().method(method).uri(path).header(header::COOKIE, cookie);
    send(router, req.body(Body::empty()).unwrap()).await.0
}

/// The exposition's text (checked to be ours: 200, its content type, `# EOF` last).
async fn exposition(router: &Router, cookie: Option<&str>) -> String {
    let mut req = Request::get(api::METRICS);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let (status, headers, body) = send(router, req.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], CONTENT_TYPE);
    let text = String::from_utf8(body).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text
}

async fn reading(router: &Router) -> CacheReading {
    CacheReading::from_exposition(&exposition(router, None).await).unwrap().expect("cache metrics")
}

#[tokio::test]
async fn tracked_counts_a_hit_and_the_invalidation_a_logout_pushes() {
    let redis = redis();
    let url = redis.url();
    let scheme = TrackedScheme::connect(
        session(&url).await,
        &url,
        TTL,
        Duration::from_secs(60),
        CAPACITY,
        Duration::from_secs(1),
    )
    .await
    .expect("tracking connection");
    let router = api::router(scheme);
    let start = reading(&router).await;
    assert_eq!((start.hits, start.misses, start.entries, start.invalidations), (0, 0, 0, Some(0)));
    assert_eq!(start.capacity, CAPACITY);

    let cookie = login(&router).await;
    assert_eq!(post_or_get(&router, "GET", api::ME, &cookie).await, StatusCode::OK, "miss");
    assert_eq!(post_or_get(&router, "GET", api::ME, &cookie).await, StatusCode::OK, "hit");
    let warm = reading(&router).await;
    assert_eq!((warm.misses, warm.hits, warm.entries), (1, 1, 1), "{warm:?}");
    // One entry: the per-entry cost plus the key's allocation (at least its length, `format!` may
    // round it up to twice that).
    let key_len = PREFIX.len() + "{".len() + 16 + "}s:".len() + 32;
    let bytes = |k| authbench_servers::record_cache::entry_bytes(k);
    assert!((bytes(key_len)..=bytes(2 * key_len)).contains(&warm.bytes), "{warm:?}");
    // The exposition reads no credential: sending one (even a logged-in one) changes nothing.
    assert_eq!(exposition(&router, Some(&cookie)).await, exposition(&router, None).await);

    assert_eq!(post_or_get(&router, "POST", api::LOGOUT, &cookie).await, StatusCode::NO_CONTENT);
    // Logout drops this server's copy at once; Redis's push for the DEL arrives about a ms later.
    let deadline = Instant::now() + Duration::from_secs(5);
    let after = loop {
        let r = reading(&router).await;
        if r.invalidations >= Some(1) || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(after.invalidations, Some(1), "one key pushed: {after:?}");
    assert_eq!((after.entries, after.bytes, after.flushes), (0, 0, warm.flushes), "{after:?}");
    assert_eq!(post_or_get(&router, "GET", api::ME, &cookie).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cached_counts_hits_and_schemes_without_a_cache_expose_nothing() {
    let redis = redis();
    let router =
        api::router(CachedScheme::new(session(&redis.url()).await, Duration::from_secs(60), CAPACITY));
    let cookie = login(&router).await;
    for _ in 0..3 {
        assert_eq!(post_or_get(&router, "GET", api::ME, &cookie).await, StatusCode::OK);
    }
    let r = reading(&router).await;
    assert_eq!((r.misses, r.hits, r.entries, r.capacity), (1, 2, 1, CAPACITY), "{r:?}");
    assert_eq!((r.invalidations, r.untracked, r.flushes), (None, None, None), "tracked-only counters");

    let plain = api::router(session(&redis.url()).await);
    assert_eq!(exposition(&plain, None).await, "# EOF\n");
}
