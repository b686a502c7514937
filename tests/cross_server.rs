//! Revocation across servers, every scheme, real binaries: two servers of one scheme share the
//! store and the keys; a credential is warmed on server B, logged out through server A, and its
//! copy probed through B. Probing A would show ~0 ms for any design that evicts its own cached
//! copy and prove nothing about the other replicas' caches.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{RedisServer, Resp, ServeArgs, Server, require_redis};

/// Two servers of `scheme` on one store (own Redis, one prefix) and one key file.
struct Pair {
    a: Server,
    b: Server,
    _key: tempfile::NamedTempFile,
}

/// The options of a pair's server: this key file, this Redis, one prefix per scheme, `--ttl 60s`.
fn pair_args(scheme: &str, redis: &RedisServer, key: &Path) -> ServeArgs {
    ServeArgs {
        key_file: Some(key.to_owned()),
        redis_url: Some(redis.url()),
        redis_prefix: Some(format!("cross:{scheme}:")),
        ttl: Duration::from_secs(60),
        ..common::serve(scheme)
    }
}

/// `cache_ttl`: `--cache-ttl`, for the cached scheme.
fn pair(scheme: &str, redis: &RedisServer, cache_ttl: Option<Duration>) -> Pair {
    let mut key = tempfile::NamedTempFile::new().unwrap();
    key.write_all(&[0xa5; 64]).unwrap();
    let mut args = pair_args(scheme, redis, key.path());
    args.cache_ttl = cache_ttl.unwrap_or(args.cache_ttl);
    Pair { a: Server::spawn(&args), b: Server::spawn(&args), _key: key }
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
    // (scheme, --cache-ttl, revokes on logout and logout-all, promised window across
    // servers, shortest window: a cache that really serves the other server's stale copy)
    let cached_ttl = Duration::from_millis(400);
    let cases: &[(&str, Option<Duration>, bool, Duration, Duration)] = &[
        ("cookie", None, false, Duration::ZERO, Duration::ZERO),
        ("jwt", None, false, Duration::ZERO, Duration::ZERO),
        ("session", None, true, Duration::from_millis(250), Duration::ZERO),
        ("jwt-revocable", None, true, Duration::from_millis(250), Duration::ZERO),
        // One pub/sub delivery to B's in-memory denylist.
        ("jwt-pubsub", None, true, Duration::from_millis(250), Duration::ZERO),
        ("session-cached", Some(cached_ttl), true, cached_ttl + Duration::from_millis(250), cached_ttl / 2),
        // Redis pushes the invalidation: about a millisecond, far under its (default 1 s) TTL.
        ("session-tracked", None, true, Duration::from_millis(250), Duration::ZERO),
    ];
    for &(scheme, cache_ttl, revokes, promised, at_least) in cases {
        let p = pair(scheme, &redis, cache_ttl);
        for (user, action) in [(41, "/auth/logout"), (42, "/auth/logout-all")] {
            // Stateless schemes: the copy lives on; 300 ms of probing is enough to see that.
            let w = window(&p, user, action, promised.max(Duration::from_millis(300)));
            match (revokes, w) {
                (true, Some(w)) => {
                    assert!(w <= promised, "{scheme} {action}: window {w:?} > {promised:?}");
                    assert!(
                        w >= at_least,
                        "{scheme} {action}: window {w:?} < {at_least:?}: B's cache unused?"
                    );
                }
                (true, None) => panic!("{scheme} {action}: server B still accepts the copy"),
                (false, Some(w)) => panic!("{scheme} {action}: stateless, yet B rejected after {w:?}"),
                (false, None) => {}
            }
        }
    }
}

/// `/api/me` on another server than the one that revoked: the status once it is not 200, polled
/// for up to 250 ms (`jwt-pubsub`: one pub/sub delivery; the store schemes: at once).
fn soon(server: &Server, cred: &(&'static str, String)) -> u16 {
    let at = Instant::now();
    loop {
        let s = me(server, cred);
        if s != 200 || at.elapsed() > Duration::from_millis(250) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn refresh(server: &Server, refresh_token: &str) -> Resp {
    let body = format!(r#"{{"refresh_token":"{refresh_token}"}}"#);
    server.post("/auth/refresh", &[("Content-Type", "application/json")], Some(&body))
}

fn bearer(resp: &Resp) -> (&'static str, String) {
    ("Authorization", format!("Bearer {}", resp.json()["access_token"].as_str().unwrap()))
}

/// Redis's command counters: (command, calls).
fn commandstats(conn: &mut redis::Connection) -> std::collections::HashMap<String, u64> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(conn).unwrap();
    authbench_procs::redis_server::parse_commandstats(&info)
}

#[test]
fn jwt_revocable_checks_with_one_mget_and_a_replayed_refresh_token_kills_its_family() {
    require_redis();
    let redis = RedisServer::start().expect("start redis-server");
    let p = pair("jwt-revocable", &redis, None);
    rotation_and_store_calls(&p, &redis, Some("mget"));
}

/// `jwt-pubsub`: the same rotation and revocation behaviour across servers as `jwt-revocable`,
/// no Redis command per request; a server restarted after a logout loads it before listening; a
/// dropped subscription while another server logs a token out never lets that token through
/// (503 while down, 401 once reloaded).
#[test]
fn jwt_pubsub_sends_nothing_per_request_and_a_missed_message_never_lets_a_revoked_token_through() {
    require_redis();
    let redis = RedisServer::start().expect("start redis-server");
    let p = pair("jwt-pubsub", &redis, None);
    rotation_and_store_calls(&p, &redis, None);
    let mut conn = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let channel = "cross:jwt-pubsub:revocations";
    let subscribers = |conn: &mut redis::Connection| -> u64 {
        let (_, n): (String, u64) = redis::cmd("PUBSUB").arg("NUMSUB").arg(channel).query(conn).unwrap();
        n
    };
    assert_eq!(subscribers(&mut conn), 2, "both servers subscribed");

    // Drop B's subscription, then log out through A at once: B is (almost always) not subscribed
    // when the message goes out; retried until that is certain. B's subscriber is the newest
    // pub/sub client: B started after A, and only B's is ever dropped.
    let mut missed = false;
    for attempt in 0..5 {
        let cred = bearer(&p.a.login(70 + attempt));
        assert_eq!(me(&p.b, &cred), 200, "warm the copy on B");
        let list: String =
            redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("pubsub").query(&mut conn).unwrap();
        let newest = list
            .lines()
            .filter_map(|l| l.strip_prefix("id=")?.split(' ').next()?.parse::<u64>().ok())
            .max()
            .expect("a pub/sub client");
        let _: u64 = redis::cmd("CLIENT").arg("KILL").arg("ID").arg(newest).query(&mut conn).unwrap();
        let down = subscribers(&mut conn) == 1;
        assert_eq!(p.a.post("/auth/logout", &[(cred.0, cred.1.as_str())], None).status, 204);
        let (mut seen_503, at) = (false, Instant::now());
        let status = loop {
            match me(&p.b, &cred) {
                200 => panic!("B accepted a token revoked while its subscription was down"),
                503 => seen_503 = true,
                s => break s,
            }
            assert!(at.elapsed() < Duration::from_secs(5), "B still 503 after 5 s");
            std::thread::sleep(Duration::from_millis(2));
        };
        assert_eq!(status, 401, "after the reload B knows the stored revocation");
        if down {
            assert!(seen_503, "B answered 503 while it could not know the list");
            missed = true;
            break;
        }
    }
    assert!(missed, "never managed to publish while B was unsubscribed");
    // A fresh login works again on both once resubscribed.
    let fresh = bearer(&p.a.login(80));
    assert_eq!(me(&p.b, &fresh), 200);

    // A server started after the logout loads the stored revocations before it listens.
    let revoked = bearer(&p.a.login(81));
    assert_eq!(p.a.post("/auth/logout", &[(revoked.0, revoked.1.as_str())], None).status, 204);
    let c = Server::spawn(&pair_args("jwt-pubsub", &redis, p._key.path()));
    assert_eq!(me(&c, &revoked), 401, "a new server knows revocations made before it started");
    assert_eq!(me(&c, &fresh), 200);
}

/// Rotation with reuse detection, logout and logout-all across two servers of a JWT variant, and
/// the Redis commands per `/api/me`: `per_request` once each (`jwt-revocable`: `mget`), or none
/// at all (`jwt-pubsub`; its subscription's keep-alive `ping` is not per request).
fn rotation_and_store_calls(p: &Pair, redis: &RedisServer, per_request: Option<&str>) {
    let mut conn = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();

    // One Redis command per authenticated request, on either server.
    let login = p.a.login(51);
    let access = bearer(&login);
    assert_eq!(me(&p.b, &access), 200);
    let before = commandstats(&mut conn);
    const N: u64 = 50;
    for i in 0..N {
        let server = if i % 2 == 0 { &p.a } else { &p.b };
        assert_eq!(me(server, &access), 200);
    }
    let after = commandstats(&mut conn);
    let delta = |c: &str| after.get(c).copied().unwrap_or(0) - before.get(c).copied().unwrap_or(0);
    let total: u64 = after.keys().filter(|k| *k != "info" && *k != "ping").map(|k| delta(k)).sum();
    match per_request {
        Some(cmd) => {
            assert_eq!((delta(cmd), total), (N, N), "{N} x /api/me: one {cmd} each and nothing else")
        }
        None => assert_eq!(total, 0, "{N} x /api/me: no Redis command"),
    }

    // Rotation: the legitimate client refreshes through A; the thief replays the old refresh
    // token through B; both the thief and the legitimate client's current tokens die.
    let stolen = login.json()["refresh_token"].as_str().unwrap().to_owned();
    let rotated = refresh(&p.a, &stolen);
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let current_refresh = rotated.json()["refresh_token"].as_str().unwrap().to_owned();
    let current_access = bearer(&rotated);
    assert_ne!(current_refresh, stolen, "refresh must rotate");
    assert_eq!(me(&p.b, &current_access), 200);
    assert_eq!(refresh(&p.b, &stolen).status, 401, "replayed (already rotated) refresh token");
    assert_eq!(refresh(&p.a, &current_refresh).status, 401, "reuse revokes the whole family");
    assert_eq!(me(&p.b, &current_access), 401, "and the family's live access tokens");
    assert_eq!(soon(&p.a, &access), 401, "the first access token of the family too");

    // Another login of the same user is another family: untouched.
    let other = bearer(&p.b.login(51));
    assert_eq!(me(&p.a, &other), 200);

    // Logout revokes the access token and its refresh token, through the other server too.
    let l = p.a.login(52);
    let (acc, rt) = (bearer(&l), l.json()["refresh_token"].as_str().unwrap().to_owned());
    assert_eq!(p.a.post("/auth/logout", &[(acc.0, acc.1.as_str())], None).status, 204);
    assert_eq!(soon(&p.b, &acc), 401);
    assert_eq!(refresh(&p.b, &rt).status, 401, "logout revokes the refresh token");
    let revoked_jtis: u64 = redis::cmd("DBSIZE").query(&mut conn).unwrap();
    assert!(revoked_jtis > 0);

    // Logout-all: every token of the user issued before it, on every server; a later login works.
    let d1 = bearer(&p.a.login(53));
    let d2 = p.b.login(53);
    assert_eq!(p.b.post("/auth/logout-all", &[(d1.0, d1.1.as_str())], None).status, 204);
    assert_eq!(soon(&p.a, &bearer(&d2)), 401);
    assert_eq!(refresh(&p.a, d2.json()["refresh_token"].as_str().unwrap()).status, 401);
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(me(&p.b, &bearer(&p.a.login(53))), 200, "a login after logout-all is valid");
}

#[test]
fn session_cached_sends_one_getex_per_miss_and_evicts_its_own_copy_on_logout() {
    require_redis();
    let redis = RedisServer::start().expect("start redis-server");
    let p = pair("session-cached", &redis, Some(Duration::from_millis(300)));
    let mut conn = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    let cred = credential(&p.a.login(61));
    let before = commandstats(&mut conn);
    let started = Instant::now();
    const N: u64 = 60;
    for _ in 0..N {
        assert_eq!(me(&p.b, &cred), 200);
    }
    let elapsed = started.elapsed();
    let after = commandstats(&mut conn);
    let delta = |c: &str| after.get(c).copied().unwrap_or(0) - before.get(c).copied().unwrap_or(0);
    let total: u64 = after.keys().filter(|k| *k != "info").map(|k| delta(k)).sum();
    let most = 1 + (elapsed.as_secs_f64() / 0.3).ceil() as u64;
    assert!(
        (1..=most).contains(&delta("getex")) && total == delta("getex"),
        "{N} requests in {elapsed:?}: {} GETEX, {total} commands (expected 1..={most} GETEX, nothing else)",
        delta("getex")
    );
    // The server that handles the logout drops its own copy at once.
    assert_eq!(me(&p.a, &cred), 200);
    assert_eq!(p.a.post("/auth/logout", &[(cred.0, cred.1.as_str())], None).status, 204);
    assert_eq!(me(&p.a, &cred), 401, "own cache evicted on logout");
    // ... and on refresh: the rotated-away id is not served from the cache either.
    let old = credential(&p.a.login(62));
    assert_eq!(me(&p.a, &old), 200);
    let r = p.a.post("/auth/refresh", &[(old.0, old.1.as_str())], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(me(&p.a, &old), 401, "own cache evicted on refresh");
    assert_eq!(me(&p.a, &credential(&r)), 200);
}
