//! The cached session variants, `session-cached` (moka, TTL T) and `session-tracked` (RESP3
//! `CLIENT TRACKING`), on the Router (`oneshot`) and on an in-process server on 127.0.0.1:0:
//! the contract and byte-identical `/api/me` body, tampered and forged ids, revocation across two
//! servers on one store (logout through A, the copy warmed on B), the store calls per cache miss
//! and hits per request (from Redis's `commandstats`), `session-tracked`'s stated expiry, and its
//! failure modes: a lost tracking connection flushes the cache, and a frozen Redis (SIGSTOP)
//! lets a deleted record be served for at most the client TTL. Each test has its own Redis (the
//! freeze and the command counts must not touch the others'). The real binaries are
//! `tests/cross_server.rs`.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authbench_procs::child::Signal;
use authbench_procs::redis_server::RedisServer;
use authbench_servers::SameSite;
use authbench_servers::api;
use authbench_servers::serve::ServeLimits;
use authbench_servers::session::{COOKIE_NAME, SessionScheme, SessionStore};
use authbench_servers::session_cached::CachedScheme;
use authbench_servers::session_tracked::TrackedScheme;
use authbench_servers::users::{PasswordCost, Users};
use authbench_servers::{SchemeKind, ServeArgs};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PREFIX: &str = "variants:";
const STORE_TIMEOUT: Duration = Duration::from_millis(150);

fn redis() -> RedisServer {
    assert!(
        authbench_procs::redis_server::find_binary().is_some(),
        "redis-server is required (scripts/test.sh installs it)"
    );
    RedisServer::start().expect("start redis-server")
}

fn users() -> Arc<Users> {
    Arc::new(Users::synthetic(100, PasswordCost::FAST))
}

async fn session(url: &str, ttl: Duration) -> SessionScheme {
    let store = SessionStore::connect(url, PREFIX, ttl, STORE_TIMEOUT).await.expect("connect");
    SessionScheme::new(users(), store, SameSite::Lax)
}

async fn tracked(url: &str, ttl: Duration, cache_ttl: Duration) -> TrackedScheme {
    TrackedScheme::connect(session(url, ttl).await, url, ttl, cache_ttl, 1000, STORE_TIMEOUT)
        .await
        .expect("tracking connection")
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

/// Log user `uid` in; the `sid=…` cookie pair.
async fn login(router: &Router, uid: u64) -> String {
    let body = format!(r#"{{"username":"user{uid}","password":"password{uid}"}}"#);
    let req =
        Request::post(api::LOGIN).header(header::CONTENT_TYPE, "application/json").body(Body::from(body));
    let (status, headers, body) = send(router, req.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "login: {}", String::from_utf8_lossy(&body));
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn me(router: &Router, cookie: &str) -> (u16, Vec<u8>) {
    let req = Request::get(api::ME).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let (status, _, body) = send(router, req).await;
    (status.as_u16(), body)
}

async fn post(router: &Router, path: &str, cookie: &str) -> u16 {
    let req = Request::post(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    send(router, req).await.0.as_u16()
}

/// Poll `router` with `cookie` until it answers 401; the time since `since`, or `None` after `limit`.
async fn rejected_within(router: &Router, cookie: &str, since: Instant, limit: Duration) -> Option<Duration> {
    loop {
        let (status, _) = me(router, cookie).await;
        if status == 401 {
            return Some(since.elapsed());
        }
        assert!(status == 200 || status == 503, "unexpected {status}");
        if since.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn commandstats(url: &str) -> HashMap<String, u64> {
    authbench_procs::redis_server::commandstats(url).expect("INFO commandstats")
}

fn delta(before: &HashMap<String, u64>, after: &HashMap<String, u64>, cmd: &str) -> u64 {
    after.get(cmd).copied().unwrap_or(0) - before.get(cmd).copied().unwrap_or(0)
}

/// Commands other than our own INFO between two snapshots.
fn total(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> u64 {
    after.keys().filter(|k| *k != "info").map(|k| delta(before, after, k)).sum()
}

/// Flip one hex digit in the middle of the id.
fn tampered(cookie: &str) -> String {
    let mut bytes = cookie.as_bytes().to_vec();
    let i = COOKIE_NAME.len() + 1 + (bytes.len() - COOKIE_NAME.len() - 1) / 2;
    bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_variants_keep_the_contract_and_refuse_tampered_and_forged_ids() {
    let r = redis();
    let url = r.url();
    let ttl = Duration::from_secs(60);
    let plain = api::router(session(&url, ttl).await);
    let cached = api::router(CachedScheme::new(session(&url, ttl).await, Duration::from_secs(60), 1000));
    let tracked = api::router(tracked(&url, ttl, Duration::from_secs(60)).await);
    let cookie = login(&plain, 7).await;
    let (status, reference) = me(&plain, &cookie).await;
    assert_eq!(status, 200);
    for (name, router) in [("session-cached", &cached), ("session-tracked", &tracked)] {
        // Twice: the miss and the hit answer the same bytes as the session scheme.
        for _ in 0..2 {
            assert_eq!(me(router, &cookie).await, (200, reference.clone()), "{name}: /api/me body");
        }
        let own = login(router, 8).await;
        assert_eq!(me(router, &own).await.0, 200, "{name}: its own login");
        assert_eq!(me(router, &tampered(&own)).await.0, 401, "{name}: tampered id");
        let forged = format!("{COOKIE_NAME}={}", "0123456789abcdef".repeat(3));
        assert_eq!(me(router, &forged).await.0, 401, "{name}: forged id");
        assert_eq!(me(router, &format!("{COOKIE_NAME}=not-hex")).await.0, 401, "{name}: malformed id");
        let missing = Request::get(api::ME).body(Body::empty()).unwrap();
        assert_eq!(send(router, missing).await.0, StatusCode::UNAUTHORIZED, "{name}: no credential");
        assert_eq!(post(router, api::LOGOUT, &own).await, 204, "{name}: logout");
        assert_eq!(me(router, &own).await.0, 401, "{name}: own copy gone after logout");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_across_servers_is_a_push_for_tracked_and_up_to_t_for_cached() {
    let r = redis();
    let url = r.url();
    let ttl = Duration::from_secs(60);
    let t = Duration::from_millis(300);
    let (a, b) = (api::router(tracked(&url, ttl, ttl).await), api::router(tracked(&url, ttl, ttl).await));
    for (uid, action) in [(11, api::LOGOUT), (12, api::LOGOUT_ALL)] {
        let cookie = login(&a, uid).await;
        let copy = if action == api::LOGOUT { cookie.clone() } else { login(&b, uid).await };
        assert_eq!(me(&b, &copy).await.0, 200, "warm B");
        assert_eq!(me(&b, &copy).await.0, 200, "B serves its copy");
        assert_eq!(post(&a, action, &cookie).await, 204);
        let w = rejected_within(&b, &copy, Instant::now(), Duration::from_secs(1)).await;
        let w = w.unwrap_or_else(|| panic!("session-tracked {action}: B still accepts after 1 s"));
        // About a millisecond; 100 ms leaves room for a busy machine, the cached TTL is 60 s.
        assert!(w < Duration::from_millis(100), "session-tracked {action}: window {w:?}");
        println!("session-tracked {action}: window across servers {w:?}");
    }
    let cached = |s| CachedScheme::new(s, t, 1000);
    let (a, b) =
        (api::router(cached(session(&url, ttl).await)), api::router(cached(session(&url, ttl).await)));
    let cookie = login(&a, 13).await;
    assert_eq!(me(&b, &cookie).await.0, 200, "warm B");
    assert_eq!(post(&a, api::LOGOUT, &cookie).await, 204);
    let at = Instant::now();
    assert_eq!(me(&b, &cookie).await.0, 200, "session-cached: B's copy outlives the logout");
    let w = rejected_within(&b, &cookie, at, t + Duration::from_millis(500)).await;
    let w = w.expect("session-cached: B still accepts after T + 500 ms");
    assert!(w <= t + Duration::from_millis(150), "session-cached: window {w:?} > T {t:?} + 150 ms");
    println!("session-cached logout: window across servers {w:?} (T {t:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_calls_are_counted_per_cache_miss_and_hits_per_request() {
    let r = redis();
    let url = r.url();
    let ttl = Duration::from_secs(60);
    let t = Duration::from_millis(300);
    const N: u64 = 100;
    let tracked = tracked(&url, ttl, t).await;
    let cached = CachedScheme::new(session(&url, ttl).await, t, 1000);
    for variant in ["session-tracked", "session-cached"] {
        let router = match variant {
            "session-tracked" => api::router(tracked.clone()),
            _ => api::router(cached.clone()),
        };
        let cookie = login(&router, 21).await;
        let (hits0, misses0) = match variant {
            "session-tracked" => (tracked.stats().hits.load(SEQ), tracked.stats().misses.load(SEQ)),
            _ => (cached.stats().hits.load(SEQ), cached.stats().misses.load(SEQ)),
        };
        let before = commandstats(&url);
        let started = Instant::now();
        for _ in 0..N {
            assert_eq!(me(&router, &cookie).await.0, 200);
        }
        let elapsed = started.elapsed();
        let after = commandstats(&url);
        let (hits, misses) = match variant {
            "session-tracked" => (tracked.stats().hits.load(SEQ), tracked.stats().misses.load(SEQ)),
            _ => (cached.stats().hits.load(SEQ), cached.stats().misses.load(SEQ)),
        };
        let (hits, misses) = (hits - hits0, misses - misses0);
        let most = 1 + (elapsed.as_secs_f64() / t.as_secs_f64()).ceil() as u64;
        assert_eq!(hits + misses, N, "{variant}: every request a hit or a miss");
        assert!((1..=most).contains(&misses), "{variant}: {misses} misses in {elapsed:?} (at most {most})");
        let all = total(&before, &after);
        if variant == "session-tracked" {
            let (get, pttl) = (delta(&before, &after, "get"), delta(&before, &after, "pttl"));
            assert!(
                get == misses && pttl == misses && all == 2 * misses,
                "{variant}: {misses} misses, {hits} hits: {get} GET, {pttl} PTTL, {all} commands in all"
            );
        } else {
            let getex = delta(&before, &after, "getex");
            assert!(
                getex == misses && all == misses,
                "{variant}: {misses} misses: {getex} GETEX, {all} in all"
            );
        }
        println!(
            "{variant}: {N} requests in {elapsed:?}: {hits} hits, {misses} misses, {all} Redis commands"
        );
    }
}

const SEQ: std::sync::atomic::Ordering = std::sync::atomic::Ordering::SeqCst;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracked_expiry_is_refreshed_only_under_half_the_ttl() {
    let r = redis();
    let url = r.url();
    let ttl = Duration::from_secs(2);
    let scheme = tracked(&url, ttl, Duration::from_millis(100)).await;
    let router = api::router(scheme.clone());
    let cookie = login(&router, 31).await;
    let sid = cookie.split_once('=').unwrap().1;
    let key = scheme.base().store().session_key(sid);
    let mut conn = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let mut pttl = || -> i64 { redis::cmd("PTTL").arg(&key).query(&mut conn).unwrap() };
    let before = commandstats(&url);
    assert_eq!(me(&router, &cookie).await.0, 200);
    assert_eq!(delta(&before, &commandstats(&url), "expire"), 0, "over half the TTL left: no refresh");
    assert!(pttl() <= 2000);
    // Past half the TTL, the next miss refreshes the expiry (a write: not cached that time).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(pttl() < 1000);
    assert_eq!(me(&router, &cookie).await.0, 200);
    assert_eq!(delta(&before, &commandstats(&url), "expire"), 1, "one refresh");
    let left = pttl();
    assert!(left > 1500, "expiry refreshed to the full TTL: {left} ms left");
}

/// Redis's id of the (one) client with tracking on.
fn tracking_client(conn: &mut redis::Connection) -> u64 {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(conn).unwrap();
    let ids: Vec<u64> = list
        .lines()
        .filter(|l| l.split(' ').any(|kv| kv.strip_prefix("flags=").is_some_and(|f| f.contains('t'))))
        .filter_map(|l| l.split(' ').find_map(|kv| kv.strip_prefix("id="))?.parse().ok())
        .collect();
    assert_eq!(ids.len(), 1, "one tracking client expected: {list}");
    ids[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_tracking_connection_flushes_the_cache_and_never_serves_stale() {
    let r = redis();
    let url = r.url();
    let ttl = Duration::from_secs(60);
    // B caches for a minute: only an invalidation or a flush can end its copy in this test.
    let b_scheme = tracked(&url, ttl, ttl).await;
    let b = api::router(b_scheme.clone());
    let a = api::router(session(&url, ttl).await);
    let mut admin = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();

    let cookie = login(&a, 41).await;
    assert_eq!(me(&b, &cookie).await.0, 200);
    let hits = b_scheme.stats().hits.load(SEQ);
    assert_eq!(me(&b, &cookie).await.0, 200);
    assert_eq!(b_scheme.stats().hits.load(SEQ), hits + 1, "the second request is a hit");

    let flushes = b_scheme.stats().flushes.load(SEQ);
    let id = tracking_client(&mut admin);
    let _: u64 = redis::cmd("CLIENT").arg("KILL").arg("ID").arg(id).query(&mut admin).unwrap();
    let t0 = Instant::now();
    while b_scheme.stats().flushes.load(SEQ) == flushes {
        assert!(t0.elapsed() < Duration::from_secs(2), "B did not notice its tracking connection end");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The logout's invalidation has nowhere to go: B's copy must be gone already.
    assert_eq!(post(&a, api::LOGOUT, &cookie).await, 204);
    let status = me(&b, &cookie).await.0;
    assert!(status == 401 || status == 503, "revoked session after a lost tracking connection: {status}");

    // B tracks again (a new connection), and its copies are invalidated by pushes again.
    while !b_scheme.tracking() {
        assert!(t0.elapsed() < Duration::from_secs(3), "B did not reconnect its tracking connection");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cookie = login(&a, 42).await;
    assert_eq!(me(&b, &cookie).await.0, 200);
    assert_eq!(me(&b, &cookie).await.0, 200);
    assert_eq!(post(&a, api::LOGOUT, &cookie).await, 204);
    let w = rejected_within(&b, &cookie, Instant::now(), Duration::from_secs(1)).await;
    assert!(w.is_some_and(|w| w < Duration::from_millis(100)), "after reconnecting: window {w:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_lets_a_deleted_record_live_at_most_the_client_ttl() {
    let r = redis();
    let url = r.url();
    let ttl = Duration::from_secs(60);
    let t = Duration::from_millis(800);
    let short = tracked(&url, ttl, t).await;
    let long = tracked(&url, ttl, Duration::from_secs(30)).await;
    let (short_r, long_r) = (api::router(short.clone()), api::router(long.clone()));
    let key =
        |s: &TrackedScheme, cookie: &str| s.base().store().session_key(cookie.split_once('=').unwrap().1);

    // The logout through another path: the record's DEL, sent while Redis is frozen, runs when it
    // resumes. Returns when it has run.
    let delete = |key: String| {
        let url = url.clone();
        std::thread::spawn(move || {
            let mut conn = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
            let _: u64 = redis::cmd("DEL").arg(key).query(&mut conn).unwrap();
        })
    };

    // Case 1: frozen longer than the client TTL T. The copy is served (stale) until T after it
    // was cached, then 503 (a miss cannot reach Redis); after the resume the DEL has run: 401.
    let cookie = login(&short_r, 51).await;
    assert_eq!(me(&short_r, &cookie).await.0, 200);
    let cached_by = Instant::now();
    r.signal(Signal::STOP).unwrap();
    let deleting = delete(key(&short, &cookie));
    let mut last_200 = None;
    let mut statuses = Vec::new();
    while cached_by.elapsed() < t + Duration::from_millis(400) {
        // Before sending: the cache decides after this, so a 200 proves a copy alive at `sent`.
        let sent = cached_by.elapsed();
        let status = me(&short_r, &cookie).await.0;
        statuses.push(status);
        match status {
            200 => last_200 = Some(sent),
            503 => {}
            s => panic!("frozen Redis: {s}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    r.signal(Signal::CONT).unwrap();
    deleting.join().unwrap();
    assert_eq!(statuses.first(), Some(&200), "the copy is served while Redis is frozen: the bound is real");
    let stale = last_200.unwrap();
    // 25 ms: the cache's clock granularity, not the design.
    assert!(
        stale < t + Duration::from_millis(25),
        "a copy served {stale:?} after it was cached, past the client TTL {t:?}"
    );
    assert_eq!(statuses.last(), Some(&503), "after T, a miss waits for the frozen Redis: {statuses:?}");
    let resumed = Instant::now();
    let w = rejected_within(&short_r, &cookie, resumed, Duration::from_secs(1)).await;
    assert!(w.is_some(), "deleted record still accepted 1 s after Redis resumed");
    println!(
        "frozen past T: stale copy served until {stale:?} after caching (T {t:?}); 401 {w:?} after resume"
    );

    // Case 2: frozen for less than T (30 s). The copy is served while frozen; the DEL runs at the
    // resume and its invalidation ends the copy at once, long before T.
    let cookie = login(&long_r, 52).await;
    assert_eq!(me(&long_r, &cookie).await.0, 200);
    r.signal(Signal::STOP).unwrap();
    let deleting = delete(key(&long, &cookie));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(me(&long_r, &cookie).await.0, 200, "stale while frozen, within T");
    r.signal(Signal::CONT).unwrap();
    let resumed = Instant::now();
    deleting.join().unwrap();
    let w = rejected_within(&long_r, &cookie, resumed, Duration::from_secs(2)).await;
    assert!(w.is_some_and(|w| w < Duration::from_millis(300)), "after resume: {w:?} (T is 30 s)");
    println!("frozen under T: 401 {w:?} after resume (T 30 s)");
}

/// A minimal HTTP/1.1 exchange on a fresh connection: (status, body).
async fn wire(addr: std::net::SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (body, len) = match method {
        "POST" if path == api::LOGIN => {
            let b = r#"{"username":"user61","password":"password61"}"#;
            (b, format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()))
        }
        _ => ("", String::new()),
    };
    let req = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}{len}\r\n{body}");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (status, head.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_servers_on_port_0_answer_like_the_session_scheme() {
    let r = redis();
    let mut bodies = Vec::new();
    let mut stops = Vec::new();
    for scheme in [SchemeKind::Session, SchemeKind::SessionCached, SchemeKind::SessionTracked] {
        let mut args = ServeArgs::new(scheme);
        args.users = 100;
        args.fast_login = true;
        args.redis_url = Some(r.url());
        args.redis_prefix = Some(format!("wire:{scheme}:"));
        let server = common::start(&args, ServeLimits::default()).await;
        let addr = server.addr;
        stops.push(server);
        let (status, head, _) = wire(addr, "POST", api::LOGIN, "").await;
        assert_eq!(status, 200, "{scheme} login");
        let set = head.lines().find_map(|l| l.strip_prefix("set-cookie: ")).expect("set-cookie");
        let cookie = set.split(';').next().unwrap().to_owned();
        let (status, _, body) = wire(addr, "GET", api::ME, &format!("Cookie: {cookie}\r\n")).await;
        assert_eq!(status, 200, "{scheme} /api/me");
        bodies.push(body);
        let bad = format!("Cookie: {}\r\n", tampered(&cookie));
        assert_eq!(wire(addr, "GET", api::ME, &bad).await.0, 401, "{scheme} tampered");
        assert_eq!(wire(addr, "GET", api::ME, "").await.0, 401, "{scheme} no credential");
        let (status, _, _) = wire(addr, "POST", api::LOGOUT, &format!("Cookie: {cookie}\r\n")).await;
        assert_eq!(status, 204, "{scheme} logout");
        assert_eq!(
            wire(addr, "GET", api::ME, &format!("Cookie: {cookie}\r\n")).await.0,
            401,
            "{scheme} replay"
        );
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "byte-identical /api/me bodies: {bodies:?}");
}

/// A session kept alive by its requests past the idle TTL is still ended by logout-all (the
/// user's index lives the absolute lifetime, not the idle TTL), for all three session schemes;
/// and a record older than the absolute lifetime is refused however it was found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_all_ends_a_session_kept_alive_past_the_idle_ttl() {
    let r = redis();
    let url = r.url();
    let ttl = Duration::from_secs(2);
    let cache_ttl = Duration::from_millis(200);
    let routers = [
        ("session", api::router(session(&url, ttl).await), 11),
        ("session-cached", api::router(CachedScheme::new(session(&url, ttl).await, cache_ttl, 1000)), 12),
        ("session-tracked", api::router(tracked(&url, ttl, cache_ttl).await), 13),
    ];
    let runs = routers.iter().map(|(name, router, uid)| async move {
        let cookie = login(router, *uid).await;
        let start = Instant::now();
        while start.elapsed() < ttl + Duration::from_millis(1200) {
            assert_eq!(me(router, &cookie).await.0, 200, "{name}: an active session stays alive");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(post(router, api::LOGOUT_ALL, &cookie).await, 204, "{name}: logout-all");
        assert_eq!(me(router, &cookie).await.0, 401, "{name}: logout-all ended the long-lived session");
    });
    futures::future::join_all(runs).await;

    let store = SessionStore::connect(&url, PREFIX, Duration::from_secs(60), STORE_TIMEOUT)
        .await
        .unwrap()
        .with_max_age(Duration::from_secs(600));
    let record = |age: u64| authbench_servers::session::Record { uid: 1, iat: api::now_secs() - age };
    assert!(store.admit("sid", &record(10)).is_ok());
    assert!(store.admit("sid", &record(600)).is_err(), "older than the absolute lifetime");
}

/// Issue 22, finding 6: a `session-cached` miss that read a record from Redis just before a
/// logout (logout-all, refresh) on the same server deleted it and dropped this server's copy must
/// not put the copy back when it finishes. Deterministic: the miss's two halves
/// ([`CachedScheme::read`], `Miss::keep`) with the logout run between them. Without the
/// generation check the record was served from the cache for up to `--cache-ttl` (60 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_miss_racing_a_logout_on_the_same_server_keeps_no_copy() {
    let r = redis();
    let url = r.url();
    let ttl = Duration::from_secs(60);
    let scheme = CachedScheme::new(session(&url, ttl).await, Duration::from_secs(60), 1000);
    let router = api::router(scheme.clone());
    for (uid, action, answer) in [(31, api::LOGOUT, 204), (32, api::LOGOUT_ALL, 204), (33, api::REFRESH, 200)]
    {
        let cookie = login(&router, uid).await;
        let sid = cookie.split_once('=').unwrap().1;
        let miss = scheme.read(sid).await.expect("the record is in Redis");
        assert_eq!(
            post(&router, action, &cookie).await,
            answer,
            "{action} between the miss's read and insert"
        );
        // The request the miss serves began before the logout: it may still be answered.
        assert!(miss.keep(&scheme).await.is_ok());
        assert_eq!(
            me(&router, &cookie).await.0,
            401,
            "{action}: the miss put the ended session back in the cache"
        );
    }
}
