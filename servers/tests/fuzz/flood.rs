//! An oversize login flood (issue 22, finding 5): far more concurrent logins than the hashing
//! queue holds, at the default (OWASP) argon2 cost — right and wrong passwords, unknown users,
//! bodies over the size limit — thrown at once at a Router whose queue holds 8. Every answer is
//! 200, 401, 413 or 503 with `Retry-After`; never anything else; the logins waiting for a hash
//! never exceed the bound (so neither does the memory they hold), and the right ones that got in
//! were served. A second flood with a login timeout shorter than a hash shows the timeout: 503
//! with `Retry-After`, none waiting afterwards.

use std::sync::Arc;
use std::time::Duration;

use authbench_servers::SameSite;
use authbench_servers::api;
use authbench_servers::cookie::{CookieScheme, Sealer};
use authbench_servers::users::{LoginLimits, PasswordCost, Users};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

const FLOOD: u64 = 400;

fn body(i: u64) -> String {
    match i % 5 {
        0 | 1 => format!(r#"{{"username":"user{i}","password":"password{i}"}}"#),
        2 => format!(r#"{{"username":"user{i}","password":"guess{i}"}}"#),
        3 => format!(r#"{{"username":"nobody{i}","password":"password{i}"}}"#),
        _ => format!(r#"{{"username":"user{i}","password":"{}"}}"#, "x".repeat(api::MAX_BODY_BYTES)),
    }
}

/// Fire the flood at once; the statuses and `Retry-After` values, in order.
async fn flood(router: &Router) -> Vec<(u16, Option<String>)> {
    let sends = (1..=FLOOD).map(|i| {
        let router = router.clone();
        tokio::spawn(async move {
            let req = Request::post(api::LOGIN)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body(i)))
                .unwrap();
            let resp = router.oneshot(req).await.unwrap();
            let retry = resp.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
            let status = resp.status().as_u16();
            let _ = resp.into_body().collect().await;
            (status, retry)
        })
    });
    futures::future::join_all(sends).await.into_iter().map(Result::unwrap).collect()
}

fn scheme(users: Arc<Users>) -> Router {
    api::router(CookieScheme::new(users, Sealer::generate(), Duration::from_secs(900), SameSite::Lax))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_login_flood_is_bounded_and_answered() {
    let limits = LoginLimits { queue: 8, timeout: Duration::from_secs(60) };
    let users = Arc::new(Users::synthetic(FLOOD, PasswordCost::OWASP).with_login(limits));
    let answers = flood(&scheme(users.clone())).await;
    let count = |s: u16| answers.iter().filter(|(x, _)| *x == s).count();
    for (i, (status, retry)) in answers.iter().enumerate() {
        let i = i as u64 + 1;
        match status {
            200 => assert!(i % 5 < 2, "login {i} admitted with a wrong password"),
            401 => assert!(matches!(i % 5, 2 | 3), "login {i}: a right password refused"),
            413 => assert_eq!(i % 5, 4, "login {i}: 413 for a body within the limit"),
            503 => assert_eq!(retry.as_deref(), Some("1"), "login {i}: 503 without Retry-After"),
            s => panic!("login {i} answered {s}"),
        }
    }
    let q = users.queue();
    eprintln!(
        "login flood of {FLOOD}: {} admitted, {} refused, {} too large, {} busy (503); at most {} waited (bound {})",
        count(200),
        count(401),
        count(413),
        count(503),
        q.peak,
        q.bound
    );
    assert!(q.peak <= 8, "{} logins waited for a hash at once, bound 8", q.peak);
    assert_eq!(q.waiting, 0);
    assert!(count(503) > 0, "the flood never filled the queue");
    assert!(count(200) > 0, "no login got through the flood");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_past_its_timeout_answers_503_with_retry_after() {
    // Shorter than one hash at the OWASP cost: the logins that wait (or hash) time out.
    let limits = LoginLimits { queue: 64, timeout: Duration::from_millis(5) };
    let users = Arc::new(Users::synthetic(FLOOD, PasswordCost::OWASP).with_login(limits));
    let answers = flood(&scheme(users.clone())).await;
    let timed_out = answers.iter().filter(|(s, r)| *s == 503 && r.as_deref() == Some("1")).count();
    assert!(answers.iter().all(|(s, _)| [200, 401, 413, 503].contains(s)), "{answers:?}");
    assert!(timed_out > 0, "no login timed out");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(users.queue().waiting, 0, "timed-out logins still counted as waiting");
}
