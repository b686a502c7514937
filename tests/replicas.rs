//! Two replicas of each scheme behind a private HAProxy (round robin, no stickiness): a credential
//! issued by one replica is accepted by the other, every request through the proxy is served, and
//! revocation through one replica holds on the other for the schemes with a store.

mod common;

use authbench_procs::haproxy::HaProxy;
use common::{RedisServer, Resp, ServeArgs, Server, request, require_redis};

fn me(addr: std::net::SocketAddr, cred: &(String, String)) -> Resp {
    request(addr, "GET", "/api/me", &[(cred.0.as_str(), cred.1.as_str())], None)
}

/// The credential header a login answer carries: the cookie, or `Authorization: Bearer`.
fn credential(resp: &Resp) -> (String, String) {
    match resp.header("set-cookie") {
        Some(_) => ("Cookie".into(), resp.cookie_pair()),
        None => {
            let token = resp.json()["access_token"].as_str().unwrap().to_owned();
            ("Authorization".into(), format!("Bearer {token}"))
        }
    }
}

#[test]
fn two_replicas_behind_haproxy_share_credentials_for_every_scheme() {
    use std::time::{Duration, Instant};
    require_redis();
    assert!(
        authbench_procs::haproxy::find_binary().is_some(),
        "haproxy is required (apt-get install haproxy)"
    );
    let redis = RedisServer::start().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    // Shared key material: stateless schemes verify what any replica issued.
    let cookie_key = scratch.path().join("cookie.key");
    std::fs::write(&cookie_key, [7u8; 64]).unwrap();
    let jwt_key = scratch.path().join("jwt.key");
    std::fs::write(&jwt_key, [0x99u8; 32]).unwrap();
    // The scheme and its promised revocation window across replicas (None: valid until expiry).
    let ms = Duration::from_millis;
    for (scheme, window) in [
        ("cookie", None),
        ("session", Some(ms(0))),
        ("jwt", None),
        ("jwt-revocable", Some(ms(0))),
        ("jwt-pubsub", Some(ms(0))),
        ("session-cached", Some(ms(200))),
        ("session-tracked", Some(ms(0))),
    ] {
        let revocable = window.is_some();
        let mut args = ServeArgs { workers: Some(1), ..common::serve(scheme) };
        match scheme {
            "cookie" => args.key_file = Some(cookie_key.clone()),
            "jwt" => args.key_file = Some(jwt_key.clone()),
            _ => {}
        }
        if revocable {
            args.redis_url = Some(redis.url());
            args.redis_prefix = Some(format!("replicas:{scheme}:"));
            if scheme.starts_with("jwt-") {
                args.key_file = Some(jwt_key.clone());
            }
            if scheme == "session-cached" {
                args.cache_ttl = Duration::from_millis(200);
            }
        }
        let a = Server::spawn(&args);
        let b = Server::spawn(&args);
        let proxy = HaProxy::start(&[a.addr, b.addr], scratch.path()).expect("start haproxy");

        // Issued by A, accepted by B; and through the proxy, whichever replica answers.
        let cred = credential(&a.login(1));
        assert_eq!(me(b.addr, &cred).status, 200, "{scheme}: B refuses A's credential");
        for i in 0..6 {
            assert_eq!(me(proxy.addr(), &cred).status, 200, "{scheme}: request {i} through haproxy");
        }
        // A login through the proxy works on both replicas directly.
        let body = r#"{"username":"user2","password":"password2"}"#;
        let via =
            request(proxy.addr(), "POST", "/auth/login", &[("Content-Type", "application/json")], Some(body));
        assert_eq!(via.status, 200, "{scheme}: login through haproxy: {}", via.body);
        let cred2 = credential(&via);
        assert_eq!(me(a.addr, &cred2).status, 200, "{scheme}");
        assert_eq!(me(b.addr, &cred2).status, 200, "{scheme}");

        // Logout through A; B's answer says whether revocation holds across replicas.
        let out = request(a.addr, "POST", "/auth/logout", &[(cred.0.as_str(), cred.1.as_str())], None);
        assert_eq!(out.status, 204, "{scheme}: logout: {}", out.body);
        let logged_out = Instant::now();
        let mut after = me(b.addr, &cred).status;
        if let Some(window) = window {
            // B may answer 200 within the promised window (a push in flight, a cached copy);
            // 250 ms of slack for a busy machine, below any cache TTL here but session-cached's.
            while after == 200 && logged_out.elapsed() < window + ms(250) {
                std::thread::sleep(ms(5));
                after = me(b.addr, &cred).status;
            }
            assert_eq!(
                after, 401,
                "{scheme}: revoked through A, still accepted by B after {window:?} + slack"
            );
            assert_eq!(me(proxy.addr(), &cred).status, 401, "{scheme}: revoked, accepted through haproxy");
        } else {
            // Stateless: nothing to share, the copy stays valid until it expires (documented).
            assert_eq!(after, 200, "{scheme}: a stateless credential is valid until expiry");
        }
        let pid = proxy.pid();
        drop(proxy);
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z ")),
            "haproxy {pid} still running after drop"
        );
    }
}
