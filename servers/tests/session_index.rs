//! A user's session index stays bounded (issue 22, finding 7): at most `--max-sessions` members,
//! a login beyond it ending the user's oldest session, and each login pruning members that are
//! gone (expired, logged out). At 934d605 every login added a member for good (a set with the
//! newest session's TTL), so logout-all's script walked an index that grew with every login.

use std::sync::Arc;
use std::time::Duration;

use authbench_procs::redis_server::RedisServer;
use authbench_servers::SameSite;
use authbench_servers::api;
use authbench_servers::session::{SessionScheme, SessionStore};
use authbench_servers::users::{PasswordCost, Users};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use tower::ServiceExt;

async fn login(router: &Router, uid: u64) -> String {
    let body = format!(r#"{{"username":"user{uid}","password":"password{uid}"}}"#);
    let req =
        Request::post(api::LOGIN).header(header::CONTENT_TYPE, "application/json").body(Body::from(body));
    let resp = router.clone().oneshot(req.unwrap()).await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned()
}

async fn me(router: &Router, cookie: &str) -> u16 {
    let req = Request::get(api::ME).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    router.clone().oneshot(req).await.unwrap().status().as_u16()
}

fn index_size(url: &str, store: &SessionStore, uid: u64) -> u64 {
    let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
    redis::cmd("ZCARD").arg(store.user_key(uid)).query(&mut conn).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_is_capped_oldest_first_and_pruned_at_login() {
    assert!(authbench_procs::redis_server::find_binary().is_some(), "redis-server is required");
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    let users = Arc::new(Users::synthetic(10, PasswordCost::FAST));
    let timeout = authbench_servers::session::STORE_TIMEOUT;
    let store = SessionStore::connect(&url, "index:", Duration::from_secs(1), timeout)
        .await
        .unwrap()
        .with_max_age(Duration::from_secs(60))
        .with_max_sessions(3);
    let router = api::router(SessionScheme::new(users, store.clone(), SameSite::Lax));

    // Five logins, a cap of three: the two oldest end, the three newest stand.
    let mut cookies = Vec::new();
    for _ in 0..5 {
        cookies.push(login(&router, 1).await);
    }
    let statuses: Vec<u16> = futures::future::join_all(cookies.iter().map(|c| me(&router, c))).await;
    assert_eq!(statuses, [401, 401, 200, 200, 200], "the oldest sessions end first");
    assert_eq!(index_size(&url, &store, 1), 3);

    // Sessions that expired (idle TTL 1 s) are pruned by the next login.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let fresh = login(&router, 1).await;
    assert_eq!(me(&router, &fresh).await, 200);
    assert_eq!(index_size(&url, &store, 1), 1, "expired members pruned at login");
}
