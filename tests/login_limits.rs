//! The login's limits on the real binary (issue 22, finding 5): failures are throttled per source
//! address as the server sees it on the wire (429 with `Retry-After`), per account across replicas
//! sharing a Redis, and the load generator's own logins — logging in again after every logout —
//! never trip the strictest throttle. (The Router-level properties, and the bounded hashing queue
//! under a flood, are the fuzz suite's `throttle` and `flood`.)

mod common;

use authbench_servers::ServeArgs;

use std::process::Command;

use authbench_contract::path;
use common::{BIN, RedisServer, Resp, Server, require_redis};

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn login(server: &Server, user: &str, password: &str) -> Resp {
    let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    server.post(path::LOGIN, &[JSON], Some(&body))
}

#[test]
fn failures_from_one_source_address_are_throttled_on_the_wire() {
    let server =
        Server::spawn(&ServeArgs { login_failures: 0, login_source_failures: 3, ..common::serve("cookie") });
    for user in ["user1", "user2", "nobody"] {
        assert_eq!(login(&server, user, "guess").status, 401);
    }
    // Another account, the right password: the source (127.0.0.1) is over its limit.
    let r = login(&server, "user4", "password4");
    assert_eq!(r.status, 429, "{}", r.body);
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    assert!(r.json()["error"].is_string());
}

#[test]
fn account_failures_are_counted_in_redis_across_replicas() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    let args = ServeArgs {
        redis_url: Some(url),
        redis_prefix: Some("limits:".into()),
        login_failures: 2,
        ..common::serve("session")
    };
    let (a, b) = (Server::spawn(&args), Server::spawn(&args));
    assert_eq!(login(&a, "user5", "guess").status, 401);
    assert_eq!(login(&b, "user5", "guess").status, 401);
    let r = login(&a, "user5", "password5");
    assert_eq!(r.status, 429, "the account's failures on A and B add up: {}", r.body);
    assert!(r.header("retry-after").is_some());
    assert_eq!(login(&b, "user6", "password6").status, 200, "another account is not throttled");
}

#[test]
fn the_load_generators_logins_never_trip_the_strictest_throttle() {
    let server =
        Server::spawn(&ServeArgs { login_failures: 1, login_source_failures: 1, ..common::serve("cookie") });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // Every logout is followed by a new login: hundreds of logins from one address.
    let o = Command::new(BIN)
        .args(["load", "--target", &server.base, "--scheme", "cookie", "--vus", "50", "--duration", "3s"])
        .args(["--think", "5ms", "--mix", "me=50,refresh=20,logout=30", "--no-progress", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["total"]["errors"], 0, "{}", s["endpoints"]);
    let logins = s["endpoints"]["login"]["count"].as_u64().unwrap_or(0);
    assert!(logins >= 100, "only {logins} logins: {}", s["endpoints"]);
}
