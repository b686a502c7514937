//! Revocation across servers, every scheme, real binaries: two servers of one scheme share the
//! store and the keys; a credential is warmed on server B, logged out through server A, and its
//! copy probed through B. Probing A would show ~0 ms for any design that evicts its own cached
//! copy and prove nothing about the other replicas' caches.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{RedisServer, Resp, Server, require_redis};

/// Two servers of `scheme` on one store (own Redis, one prefix) and one key file.
struct Pair {
    a: Server,
    b: Server,
    _key: tempfile::NamedTempFile,
}

fn pair(scheme: &str, redis: &RedisServer, extra: &[&str]) -> Pair {
    let mut key = tempfile::NamedTempFile::new().unwrap();
    key.write_all(&[0x5a; 64]).unwrap();
    let key_path = key.path().to_str().unwrap().to_owned();
    let url = redis.url();
    let prefix = format!("cross:{scheme}:");
    let mut args: Vec<&str> =
        vec!["--key-file", &key_path, "--redis-url", &url, "--redis-prefix", &prefix, "--ttl", "60s"];
    args.extend_from_slice(extra);
    Pair { a: Server::spawn(scheme, &args), b: Server::spawn(scheme, &args), _key: key }
}

/// The credential header a login answered with.
fn credential(resp: &Resp) -> (&'static str, String) {
    match resp.header("set-cookie") {
        Some(_) => ("Cookie", resp.cookie_pair()),
        None => ("Authorization", format!("Bearer {}", resp.json()["access_token"].as_str().unwrap())),
    }
}

fn me(server: &Server, cred: &(&'static str, String)) -> u16 {
    server.get("/api/me", &[(cred.0, cred.1.as_str())]).status
}

/// Log out (or out everywhere) through A after warming the copy on B; the time until B rejects
/// the copy, `None` if B still accepts it after `within`.
fn window(p: &Pair, user: u64, action: &str, within: Duration) -> Option<Duration> {
    let acting = credential(&p.a.login(user));
    let copy = if action == "/auth/logout" { acting.clone() } else { credential(&p.b.login(user)) };
    assert_eq!(me(&p.b, &acting), 200, "B must accept what A issued (shared store and keys)");
    assert_eq!(me(&p.b, &copy), 200, "warm the copy on B");
    let out = p.a.post(action, &[(acting.0, acting.1.as_str())], None);
    let at = Instant::now();
    if out.status == 501 {
        return None;
    }
    assert_eq!(out.status, 204, "{action} through A: {}", out.body);
    loop {
        if me(&p.b, &copy) == 401 {
            return Some(at.elapsed());
        }
        if at.elapsed() > within {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn revocation_through_one_server_reaches_the_other() {
    require_redis();
    let redis = RedisServer::start().expect("start redis-server");
    // (scheme, revokes on logout and logout-all, promised window across servers)
    let cases: &[(&str, bool, Duration)] = &[
        ("cookie", false, Duration::ZERO),
        ("jwt", false, Duration::ZERO),
        ("session", true, Duration::from_millis(250)),
    ];
    for &(scheme, revokes, promised) in cases {
        let p = pair(scheme, &redis, &[]);
        for (user, action) in [(41, "/auth/logout"), (42, "/auth/logout-all")] {
            // Stateless schemes: the copy lives on; 300 ms of probing is enough to see that.
            let w = window(&p, user, action, promised.max(Duration::from_millis(300)));
            match (revokes, w) {
                (true, Some(w)) => assert!(w <= promised, "{scheme} {action}: window {w:?} > {promised:?}"),
                (true, None) => panic!("{scheme} {action}: server B still accepts the copy"),
                (false, Some(w)) => panic!("{scheme} {action}: stateless, yet B rejected after {w:?}"),
                (false, None) => {}
            }
        }
    }
}
