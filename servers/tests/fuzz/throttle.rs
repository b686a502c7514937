//! Login throttling (issue 22, finding 5): random sequences of logins — right and wrong
//! passwords, known and unknown users, from a few source addresses or none — against a Router
//! whose throttle allows 3 failures per account and 5 per source address in a 60 s window. The
//! oracle counts failures itself: a login for an account or from a source over its limit must be
//! 429 with a `Retry-After` within the window, whatever its password; any other login 200 or 401
//! as its password says; nothing else, never a 5xx. In process (`cookie`) and in Redis
//! (`session`: the counters under the server's prefix, shared by replicas).

use std::cell::Cell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use authbench_procs::redis_server::RedisServer;
use authbench_servers::SameSite;
use authbench_servers::api;
use authbench_servers::cookie::{CookieScheme, Sealer};
use authbench_servers::session::{SessionScheme, SessionStore};
use authbench_servers::throttle::{Limits, Throttle};
use authbench_servers::users::{PasswordCost, Users};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tower::ServiceExt;

const LIMITS: Limits = Limits { account_failures: 3, source_failures: 5, window: Duration::from_secs(60) };
/// user1..user4, and `nobody` (unknown: counted like a wrong password).
const ACCOUNTS: u64 = 5;
const SOURCES: [Option<&str>; 4] = [None, Some("10.0.0.1"), Some("10.0.0.2"), Some("::1")];

#[derive(Debug, Clone)]
struct Attempt {
    account: u64,
    right: bool,
    source: usize,
}

fn attempt() -> impl Strategy<Value = Attempt> {
    (1..=ACCOUNTS, prop::bool::weighted(0.4), 0..SOURCES.len()).prop_map(|(account, right, source)| Attempt {
        account,
        right,
        source,
    })
}

enum Backend {
    InProcess,
    Redis(RedisServer),
}

fn router(rt: &tokio::runtime::Runtime, backend: &Backend, case: u64) -> Router {
    let users = Arc::new(Users::synthetic(ACCOUNTS - 1, PasswordCost::FAST));
    match backend {
        Backend::InProcess => {
            users.throttle_with(Throttle::local(LIMITS));
            api::router(CookieScheme::new(users, Sealer::generate(), Duration::from_secs(900), SameSite::Lax))
        }
        Backend::Redis(redis) => {
            // A prefix per case: each starts with no failures counted.
            let prefix = format!("throttle{case}:");
            let timeout = authbench_servers::session::STORE_TIMEOUT;
            let store = rt
                .block_on(SessionStore::connect(&redis.url(), &prefix, Duration::from_secs(900), timeout))
                .unwrap();
            users.throttle_with(Throttle::redis(store.conn().clone(), &prefix, timeout, LIMITS));
            api::router(SessionScheme::new(users, store, SameSite::Lax))
        }
    }
}

fn throttling(backend: Backend, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let case = Cell::new(0u64);
    let (throttled, refused, admitted) = (Cell::new(0u32), Cell::new(0u32), Cell::new(0u32));
    let bump = |c: &Cell<u32>| c.set(c.get() + 1);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&vec(attempt(), 1..40), |attempts| {
        case.set(case.get() + 1);
        let router = router(&rt, &backend, case.get());
        let (mut by_account, mut by_source) = (HashMap::<u64, u32>::new(), HashMap::<usize, u32>::new());
        for a in &attempts {
            let over = by_account.get(&a.account).copied().unwrap_or(0) >= LIMITS.account_failures
                || (SOURCES[a.source].is_some()
                    && by_source.get(&a.source).copied().unwrap_or(0) >= LIMITS.source_failures);
            let (status, retry) = send(&rt, &router, a);
            let known = a.account < ACCOUNTS;
            match (over, status) {
                (true, 429) => {
                    let r = retry.unwrap_or(0);
                    prop_assert!((1..=60).contains(&r), "429 with Retry-After {retry:?}");
                    bump(&throttled);
                }
                (false, 200) if a.right && known => bump(&admitted),
                (false, 401) if !(a.right && known) => {
                    *by_account.entry(a.account).or_default() += 1;
                    if SOURCES[a.source].is_some() {
                        *by_source.entry(a.source).or_default() += 1;
                    }
                    bump(&refused);
                }
                (_, s) => prop_assert!(false, "{a:?}: answered {s}, over a limit: {over}"),
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("login throttling: {e}");
    }
    let (throttled, refused, admitted) = (throttled.get(), refused.get(), admitted.get());
    eprintln!("login throttling: {admitted} admitted, {refused} refused (401), {throttled} throttled (429)");
    assert!(throttled >= 50 && admitted >= 50 && refused >= 50, "too few of a kind");
}

fn send(rt: &tokio::runtime::Runtime, router: &Router, a: &Attempt) -> (u16, Option<u64>) {
    let name = if a.account == ACCOUNTS { "nobody".to_owned() } else { format!("user{}", a.account) };
    let password = if a.right { format!("password{}", a.account) } else { "guess".to_owned() };
    let body = serde_json::json!({ "username": name, "password": password }).to_string();
    let mut req = Request::post(api::LOGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    if let Some(ip) = SOURCES[a.source] {
        let ip: IpAddr = ip.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    }
    rt.block_on(async {
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let retry = resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok());
        let _ = resp.into_body().collect().await;
        (status, retry)
    })
}

#[test]
fn login_throttling_in_process_cookie_scheme() {
    throttling(Backend::InProcess, 200);
}

#[test]
fn login_throttling_in_redis_session_scheme() {
    let redis = RedisServer::start().expect("start a private redis-server");
    throttling(Backend::Redis(redis), 100);
}
