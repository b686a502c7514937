//! The real `authbench serve` binary, every scheme, the whole API contract and the attack list of
//! the servers issue. Any 5xx on bad input fails a test.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use authbench_servers::cookie::{Claims as CookieClaims, Sealer};
use authbench_servers::jwt::{ACCESS_AUDIENCE, Claims as JwtClaims, ISSUER, REFRESH_AUDIENCE, TokenType};
use common::{RedisServer, Resp, ServeArgs, Server, require_redis};

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A server of each scheme; `session` uses a redis-server the test owns.
struct Trio {
    cookie: Server,
    session: Server,
    jwt: Server,
    _redis: RedisServer,
}

fn trio() -> Trio {
    require_redis();
    let redis = RedisServer::start().expect("start redis-server");
    Trio {
        cookie: Server::spawn(&common::serve("cookie")),
        session: Server::spawn(&ServeArgs { redis_url: Some(redis.url()), ..common::serve("session") }),
        jwt: Server::spawn(&common::serve("jwt")),
        _redis: redis,
    }
}

/// How a client presents a credential to a scheme.
#[derive(Clone)]
enum Cred {
    Cookie(String),
    Bearer(String),
}

impl Cred {
    fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Cred::Cookie(pair) => vec![("Cookie", pair.clone())],
            Cred::Bearer(t) => vec![("Authorization", format!("Bearer {t}"))],
        }
    }
    /// The raw credential value (cookie value or token).
    fn value(&self) -> &str {
        match self {
            Cred::Cookie(pair) => pair.split_once('=').unwrap().1,
            Cred::Bearer(t) => t,
        }
    }
    fn with_value(&self, v: &str) -> Cred {
        match self {
            Cred::Cookie(pair) => Cred::Cookie(format!("{}={v}", pair.split_once('=').unwrap().0)),
            Cred::Bearer(_) => Cred::Bearer(v.to_owned()),
        }
    }
}

fn login(server: &Server, user: u64) -> (Cred, Resp) {
    let resp = server.login(user);
    let cred = match resp.header("set-cookie") {
        Some(_) => Cred::Cookie(resp.cookie_pair()),
        None => Cred::Bearer(resp.json()["access_token"].as_str().expect("access_token").to_owned()),
    };
    (cred, resp)
}

fn me(server: &Server, cred: &Cred) -> Resp {
    let h = cred.headers();
    let hs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    server.get("/api/me", &hs)
}

fn post_with(server: &Server, path: &str, cred: &Cred, body: Option<&str>) -> Resp {
    let mut h = cred.headers();
    if body.is_some() {
        h.push(("Content-Type", "application/json".into()));
    }
    let hs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    server.post(path, &hs, body)
}

/// A rejected request: 4xx, JSON `{"error": ...}` when the app (not hyper) answered, never 5xx.
fn assert_rejected(resp: &Resp, what: &str) {
    assert!((400..500).contains(&resp.status), "{what}: expected 4xx, got {} {}", resp.status, resp.body);
    if resp.status == 401 {
        assert!(resp.json()["error"].is_string(), "{what}: 401 body should be JSON error: {}", resp.body);
    }
}

fn flip(s: &str, i: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    // Swap within the credential's own alphabet so the damage is to the content, not the syntax.
    b[i] = match b[i] {
        b'A' => b'B',
        b'0' => b'1',
        b'a' => b'b',
        _ => b'A',
    };
    String::from_utf8(b).unwrap()
}

#[test]
fn healthz_login_and_me_are_identical_across_schemes() {
    let t = trio();
    let mut bodies = Vec::new();
    for (name, server) in [("cookie", &t.cookie), ("session", &t.session), ("jwt", &t.jwt)] {
        let health = server.get("/healthz", &[]);
        assert_eq!(health.status, 200, "{name} healthz");
        let (cred, resp) = login(server, 7);
        match &cred {
            Cred::Cookie(_) => {
                let set = resp.header("set-cookie").unwrap();
                for attr in ["HttpOnly", "Path=/", "SameSite=Lax"] {
                    assert!(set.contains(attr), "{name} Set-Cookie lacks {attr}: {set}");
                }
                assert!(set.len() < 4096, "{name} cookie too large: {}", set.len());
            }
            Cred::Bearer(_) => {
                let j = resp.json();
                assert_eq!(j["token_type"], "Bearer");
                assert!(j["refresh_token"].is_string());
                assert_eq!(j["expires_in"], 900);
            }
        }
        let r = me(server, &cred);
        assert_eq!(r.status, 200, "{name} me: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/json"), "{name}");
        bodies.push(r.body);
    }
    assert_eq!(bodies[0], bodies[1], "cookie and session /api/me differ");
    assert_eq!(bodies[1], bodies[2], "session and jwt /api/me differ");
    let j: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(j["username"], "user7");
    assert_eq!(j["user_id"], 7);
    assert_eq!(j["display_name"], "User 7");
}

#[test]
fn bad_logins_and_bodies_are_4xx() {
    let t = trio();
    for server in [&t.cookie, &t.session, &t.jwt] {
        let wrong =
            server.post("/auth/login", &[JSON], Some(r#"{"username":"user1","password":"password2"}"#));
        assert_eq!(wrong.status, 401, "{}", wrong.body);
        assert!(wrong.json()["error"].is_string());
        assert!(wrong.header("set-cookie").is_none(), "no cookie on failed login");
        let unknown = server.post("/auth/login", &[JSON], Some(r#"{"username":"nobody","password":"x"}"#));
        assert_eq!(unknown.status, 401);
        let beyond =
            server.post("/auth/login", &[JSON], Some(r#"{"username":"user1001","password":"password1001"}"#));
        assert_eq!(beyond.status, 401, "user beyond --users must not exist");
        for body in ["", "{", "[]", r#"{"username":"user1"}"#, r#"{"username":1,"password":2}"#, "\u{0}\u{1}"]
        {
            assert_rejected(
                &server.post("/auth/login", &[JSON], Some(body)),
                &format!("login body {body:?}"),
            );
        }
        let no_type = server.post("/auth/login", &[], Some(r#"{"username":"user1","password":"password1"}"#));
        assert_rejected(&no_type, "login without content type");
        let huge = format!(r#"{{"username":"user1","password":"{}"}}"#, "p".repeat(64 * 1024));
        assert_eq!(server.post("/auth/login", &[JSON], Some(&huge)).status, 413);
    }
}

#[test]
fn missing_garbage_tampered_truncated_and_oversized_credentials_are_rejected() {
    let t = trio();
    for (name, server) in [("cookie", &t.cookie), ("session", &t.session), ("jwt", &t.jwt)] {
        let (cred, _) = login(server, 3);
        assert_eq!(me(server, &cred).status, 200);
        assert_rejected(&server.get("/api/me", &[]), &format!("{name} no credential"));
        let v = cred.value().to_owned();
        let positions = [0, 1, v.len() / 3, v.len() / 2, v.len() - 2, v.len() - 1];
        for i in positions {
            let r = me(server, &cred.with_value(&flip(&v, i)));
            assert_rejected(&r, &format!("{name} bit flip at {i}"));
        }
        for cut in [1, v.len() / 2, v.len() - 1] {
            assert_rejected(&me(server, &cred.with_value(&v[..cut])), &format!("{name} truncated to {cut}"));
        }
        assert_rejected(&me(server, &cred.with_value(&format!("{v}A"))), &format!("{name} extended"));
        for garbage in ["garbage", "a.b.c", "....", "%00%ff", "eyJhbGciOiJub25lIn0.e30."] {
            assert_rejected(&me(server, &cred.with_value(garbage)), &format!("{name} garbage {garbage}"));
        }
        for size in [8 * 1024, 64 * 1024] {
            let big = "A".repeat(size);
            assert_rejected(&me(server, &cred.with_value(&big)), &format!("{name} {size} B credential"));
        }
        // A credential in the query string is ignored.
        let q = server.get(&format!("/api/me?token={v}&access_token={v}&ab_sid={v}&ab_auth={v}"), &[]);
        assert_eq!(q.status, 401, "{name} credential in query string must be ignored");
        // The server still works after all that.
        assert_eq!(me(server, &cred).status, 200, "{name} after attacks");
    }
}

#[test]
fn cookie_names_are_bound_and_duplicates_refused() {
    let t = trio();
    for (name, server, cookie) in [("cookie", &t.cookie, "ab_auth"), ("session", &t.session, "ab_sid")] {
        let (cred, _) = login(server, 5);
        let v = cred.value().to_owned();
        let other = if cookie == "ab_auth" { "ab_sid" } else { "ab_auth" };
        let moved = server.get("/api/me", &[("Cookie", &format!("{other}={v}"))]);
        assert_eq!(moved.status, 401, "{name}: value under another cookie name accepted");
        let dup = server.get("/api/me", &[("Cookie", &format!("{cookie}={v}; {cookie}={v}"))]);
        assert_eq!(dup.status, 401, "{name}: duplicate cookie names accepted");
        let dup2 = server
            .get("/api/me", &[("Cookie", &format!("{cookie}={v}")), ("Cookie", &format!("{cookie}=x"))]);
        assert_eq!(dup2.status, 401, "{name}: duplicate Cookie headers accepted");
        let with_others = server.get("/api/me", &[("Cookie", &format!("theme=dark; {cookie}={v}; lang=en"))]);
        assert_eq!(with_others.status, 200, "{name}: other cookies beside the credential must not matter");
    }
}

#[test]
fn cookie_value_sealed_under_another_name_fails_with_the_servers_own_key() {
    let mut key = tempfile::NamedTempFile::new().unwrap();
    key.write_all(&[0xc2u8; 64]).unwrap();
    let server =
        Server::spawn(&ServeArgs { key_file: Some(key.path().to_owned()), ..common::serve("cookie") });
    let sealer = Sealer::from_key_file(&[0xc2u8; 64]).unwrap();
    let now = authbench_servers::api::now_secs();
    let claims = CookieClaims { uid: 9, iat: now, exp: now + 600, auth_time: now };
    // Same key, right name: accepted — proves the key file is used, so the next rejection is the name.
    let right = sealer.seal("ab_auth", &claims);
    assert_eq!(server.get("/api/me", &[("Cookie", &format!("ab_auth={right}"))]).status, 200);
    let moved = sealer.seal("ab_other", &claims);
    assert_eq!(server.get("/api/me", &[("Cookie", &format!("ab_auth={moved}"))]).status, 401);
    let expired =
        sealer.seal("ab_auth", &CookieClaims { uid: 9, iat: now - 100, exp: now - 1, auth_time: now - 100 });
    let r = server.get("/api/me", &[("Cookie", &format!("ab_auth={expired}"))]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "credential expired");
}

#[test]
fn refresh_logout_and_replay_follow_each_schemes_documented_behaviour() {
    let t = trio();

    // cookie: refresh re-issues; logout sends a deletion; a copied cookie stays valid (stateless).
    let (c, _) = login(&t.cookie, 11);
    let r = post_with(&t.cookie, "/auth/refresh", &c, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let fresh = Cred::Cookie(r.cookie_pair());
    assert_eq!(me(&t.cookie, &fresh).status, 200);
    let out = post_with(&t.cookie, "/auth/logout", &c, None);
    assert_eq!(out.status, 204);
    let del = out.header("set-cookie").unwrap();
    assert!(del.starts_with("ab_auth=;") && del.contains("Max-Age=0") && del.contains("HttpOnly"), "{del}");
    assert_eq!(
        me(&t.cookie, &c).status,
        200,
        "stateless cookie: replay after logout is accepted until expiry"
    );
    assert_eq!(post_with(&t.cookie, "/auth/logout-all", &c, None).status, 501);
    assert_eq!(post_with(&t.cookie, "/auth/refresh", &c.with_value("junk"), None).status, 401);

    // session: new id on every login and refresh; old id dead; logout deletes at once.
    let (s1, _) = login(&t.session, 12);
    let (s2, _) = login(&t.session, 12);
    assert_ne!(s1.value(), s2.value(), "login must issue a new session id");
    let r = post_with(&t.session, "/auth/refresh", &s1, None);
    assert_eq!(r.status, 200);
    let s1b = Cred::Cookie(r.cookie_pair());
    assert_ne!(s1b.value(), s1.value(), "refresh must rotate the session id");
    assert_eq!(me(&t.session, &s1).status, 401, "old id after refresh");
    assert_eq!(me(&t.session, &s1b).status, 200);
    assert_eq!(post_with(&t.session, "/auth/refresh", &s1, None).status, 401, "refresh is single-use");
    // The replay of a rotated-away id is a reuse: the session its login holds now ends too, the
    // user's other device stands.
    assert_eq!(me(&t.session, &s1b).status, 401, "reuse detection ends the family's current session");
    assert_eq!(me(&t.session, &s2).status, 200, "reuse detection ends that family only");
    let (s4, _) = login(&t.session, 12);
    assert_eq!(post_with(&t.session, "/auth/logout", &s4, None).status, 204);
    assert_eq!(me(&t.session, &s4).status, 401, "session replay after logout must be rejected");
    let unknown = s1.with_value(&authbench_servers::id::new_sid());
    assert_eq!(me(&t.session, &unknown).status, 401, "unknown session id must not be adopted");
    assert!(post_with(&t.session, "/auth/refresh", &unknown, None).header("set-cookie").is_none());
    // logout-all on one device ends the other.
    assert_eq!(me(&t.session, &s2).status, 200);
    let (s3, _) = login(&t.session, 12);
    assert_eq!(post_with(&t.session, "/auth/logout-all", &s3, None).status, 204);
    assert_eq!(me(&t.session, &s2).status, 401, "logout-all must end the other device");
    assert_eq!(me(&t.session, &s3).status, 401);

    // jwt: refresh takes {"refresh_token"}, rotates; access and refresh tokens are not interchangeable.
    let (a, resp) = login(&t.jwt, 13);
    let refresh = resp.json()["refresh_token"].as_str().unwrap().to_owned();
    let body = format!(r#"{{"refresh_token":"{refresh}"}}"#);
    let r = t.jwt.post("/auth/refresh", &[JSON], Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let pair = r.json();
    assert_ne!(pair["refresh_token"].as_str().unwrap(), refresh, "refresh token must rotate");
    assert_eq!(me(&t.jwt, &Cred::Bearer(pair["access_token"].as_str().unwrap().into())).status, 200);
    assert_eq!(me(&t.jwt, &Cred::Bearer(refresh.clone())).status, 401, "refresh token used as access");
    let as_refresh = format!(r#"{{"refresh_token":"{}"}}"#, a.value());
    assert_eq!(t.jwt.post("/auth/refresh", &[JSON], Some(&as_refresh)).status, 401, "access used as refresh");
    assert_rejected(&t.jwt.post("/auth/refresh", &[JSON], Some("{}")), "empty refresh body");
    assert_eq!(post_with(&t.jwt, "/auth/logout", &a, None).status, 204);
    assert_eq!(me(&t.jwt, &a).status, 200, "stateless JWT: replay after logout is accepted until expiry");
    assert_eq!(post_with(&t.jwt, "/auth/logout-all", &a, None).status, 501);
    assert!(
        post_with(&t.jwt, "/auth/logout-all", &a, None).json()["error"].as_str().unwrap().contains("revoked")
    );
}

/// A jwt server given a known key file, and the HS256 secret it derives from it (HKDF).
fn jwt_server_with_known_key() -> (Server, tempfile::NamedTempFile, Vec<u8>) {
    let file: Vec<u8> = (0u8..48).map(|i| i.wrapping_mul(37) ^ 0xb5).collect();
    let mut key = tempfile::NamedTempFile::new().unwrap();
    key.write_all(&file).unwrap();
    let server = Server::spawn(&ServeArgs { key_file: Some(key.path().to_owned()), ..common::serve("jwt") });
    let secret: [u8; 32] =
        authbench_servers::key_file::derive(&file, authbench_servers::key_file::Purpose::JwtHs256).unwrap();
    (server, key, secret.to_vec())
}

fn forge(secret: &[u8], alg: jsonwebtoken::Algorithm, claims: &JwtClaims) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn jwt_forgeries_are_rejected() {
    let (server, _key, secret) = jwt_server_with_known_key();
    let now = authbench_servers::api::now_secs();
    let good = JwtClaims {
        sub: "21".into(),
        iat: now,
        exp: now + 600,
        iss: ISSUER.into(),
        aud: ACCESS_AUDIENCE.into(),
        typ: TokenType::Access,
        jti: None,
        fid: None,
        iat_ms: None,
        auth_time: None,
    };
    let bearer = |t: &str| server.get("/api/me", &[("Authorization", &format!("Bearer {t}"))]);
    // Control: a token with the right key and claims is accepted, so each rejection below is about
    // the one thing changed.
    assert_eq!(bearer(&forge(&secret, jsonwebtoken::Algorithm::HS256, &good)).status, 200);

    let wrong_key = forge(b"another-secret-another-secret-another", jsonwebtoken::Algorithm::HS256, &good);
    assert_eq!(bearer(&wrong_key).status, 401, "wrong key");
    let hs512 = forge(&secret, jsonwebtoken::Algorithm::HS512, &good);
    assert_eq!(bearer(&hs512).status, 401, "algorithm not pinned");
    let payload = b64(&serde_json::to_string(&good).unwrap());
    let none = format!("{}.{payload}.", b64(r#"{"alg":"none","typ":"JWT"}"#));
    assert_eq!(bearer(&none).status, 401, "alg none");
    let none_sig = format!("{}.{payload}.{}", b64(r#"{"alg":"none"}"#), b64("x"));
    assert_eq!(bearer(&none_sig).status, 401, "alg none with signature");
    // Swapped payload: user 21's signature on user 22's claims.
    let other =
        forge(&secret, jsonwebtoken::Algorithm::HS256, &JwtClaims { sub: "22".into(), ..good.clone() });
    let good_token = forge(&secret, jsonwebtoken::Algorithm::HS256, &good);
    let parts: Vec<&str> = good_token.split('.').collect();
    let other_parts: Vec<&str> = other.split('.').collect();
    let swapped = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
    assert_eq!(bearer(&swapped).status, 401, "swapped payload");
    let wrong_aud = JwtClaims { aud: "someone-else".into(), ..good.clone() };
    assert_eq!(bearer(&forge(&secret, jsonwebtoken::Algorithm::HS256, &wrong_aud)).status, 401, "wrong aud");
    let wrong_iss = JwtClaims { iss: "evil".into(), ..good.clone() };
    assert_eq!(bearer(&forge(&secret, jsonwebtoken::Algorithm::HS256, &wrong_iss)).status, 401, "wrong iss");
    let expired = JwtClaims { exp: now - 60, ..good.clone() };
    let r = bearer(&forge(&secret, jsonwebtoken::Algorithm::HS256, &expired));
    assert_eq!(r.status, 401, "expired beyond leeway");
    assert_eq!(r.json()["error"], "credential expired");
    let within_leeway = JwtClaims { exp: now - 1, ..good.clone() };
    assert_eq!(bearer(&forge(&secret, jsonwebtoken::Algorithm::HS256, &within_leeway)).status, 200, "leeway");
    let refresh_typed = JwtClaims { typ: TokenType::Refresh, ..good.clone() };
    assert_eq!(bearer(&forge(&secret, jsonwebtoken::Algorithm::HS256, &refresh_typed)).status, 401, "typ");
    let refresh_aud = JwtClaims { aud: REFRESH_AUDIENCE.into(), ..good.clone() };
    assert_eq!(
        bearer(&forge(&secret, jsonwebtoken::Algorithm::HS256, &refresh_aud)).status,
        401,
        "refresh aud"
    );
    let unknown_user = JwtClaims { sub: "999999".into(), ..good.clone() };
    assert_eq!(bearer(&forge(&secret, jsonwebtoken::Algorithm::HS256, &unknown_user)).status, 401);
    assert_eq!(server.get("/api/me", &[("Authorization", "Basic dXNlcjE6cGFzc3dvcmQx")]).status, 401);
    let two = server
        .get("/api/me", &[("Authorization", &format!("Bearer {good_token}")), ("Authorization", "Bearer x")]);
    assert_eq!(two.status, 401, "two Authorization headers");
}

#[test]
fn jwt_payload_holds_no_secret_and_asymmetric_algorithms_work() {
    for alg in ["HS256", "EdDSA", "ES256", "RS256"] {
        let jwt_alg = clap::ValueEnum::from_str(alg, false).unwrap();
        let server = Server::spawn(&ServeArgs { jwt_alg, ..common::serve("jwt") });
        let (cred, _) = login(&server, 4);
        let token = cred.value().to_owned();
        let header = token.split('.').next().unwrap();
        use base64::Engine;
        let header: serde_json::Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap())
                .unwrap();
        assert_eq!(header["alg"], alg);
        let payload = token.split('.').nth(1).unwrap();
        let payload =
            String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
                .unwrap();
        for secret in ["password", "password4", "argon", "salt", "key"] {
            assert!(!payload.contains(secret), "{alg} payload contains {secret:?}: {payload}");
        }
        let claims: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let keys: Vec<&str> = claims.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6, "{alg} payload has unexpected claims: {payload}");
        assert_eq!(me(&server, &cred).status, 200, "{alg}");
    }
}

#[test]
fn redis_outage_gives_fast_503_and_recovers_without_restart() {
    require_redis();
    let mut redis = RedisServer::start().unwrap();
    let server = Server::spawn(&ServeArgs { redis_url: Some(redis.url()), ..common::serve("session") });
    let (cred, _) = login(&server, 2);
    assert_eq!(me(&server, &cred).status, 200);
    redis.kill();
    for _ in 0..5 {
        let started = Instant::now();
        let r = me(&server, &cred);
        let took = started.elapsed();
        assert_eq!(r.status, 503, "{}", r.body);
        assert_eq!(r.json()["error"], "session store unavailable");
        assert!(took < Duration::from_millis(500), "503 took {took:?}");
    }
    assert_eq!(server.get("/healthz", &[]).status, 200, "healthz does not need Redis");
    redis.restart().unwrap();
    // The restarted Redis is empty, so the old session is gone: recovery means new logins and
    // lookups succeed again, with no server restart.
    let deadline = Instant::now() + Duration::from_secs(2);
    let recovered = loop {
        let r = server.post("/auth/login", &[JSON], Some(r#"{"username":"user2","password":"password2"}"#));
        if r.status == 200 {
            break Some(r);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let r = recovered.expect("session server did not recover within 2 s of Redis returning");
    assert_eq!(me(&server, &Cred::Cookie(r.cookie_pair())).status, 200);
    assert_eq!(me(&server, &cred).status, 401, "old session died with the old Redis");
}

#[test]
fn a_frozen_redis_gives_503_after_the_store_timeout() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let server = Server::spawn(&ServeArgs {
        redis_url: Some(redis.url()),
        store_timeout: Duration::from_millis(250),
        ..common::serve("session")
    });
    let (cred, _) = login(&server, 3);
    assert_eq!(me(&server, &cred).status, 200);
    // SIGSTOP: the connection stays open and Redis never answers, so only the bound ends the wait.
    authbench_procs::child::signal(redis.pid(), authbench_procs::child::Signal::STOP).unwrap();
    let started = Instant::now();
    let r = me(&server, &cred);
    let took = started.elapsed();
    authbench_procs::child::signal(redis.pid(), authbench_procs::child::Signal::CONT).unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(took >= Duration::from_millis(250), "503 after {took:?}, before the 250 ms bound");
    assert!(took < Duration::from_millis(1500), "503 took {took:?} with a 250 ms bound");
}

#[test]
fn sigterm_shuts_down_cleanly_and_stops_the_private_redis() {
    require_redis();
    let server = Server::spawn(&common::serve("session"));
    let (cred, _) = login(&server, 1);
    assert_eq!(me(&server, &cred).status, 200);
    let children = common::descendants(server.pid());
    assert_eq!(children.len(), 1, "session without --redis-url should own one redis-server child");
    assert_eq!(children[0].comm, "redis-server");
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(!children[0].running(), "private redis-server still running after shutdown");
}

#[test]
fn external_redis_keys_stay_under_the_prefix() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let _: () = redis::cmd("SET").arg("someone-elses-key").arg("keep me").query(&mut conn).unwrap();
    let server = Server::spawn(&ServeArgs {
        redis_url: Some(redis.url()),
        redis_prefix: Some("ab-test:".into()),
        ..common::serve("session")
    });
    let (cred, _) = login(&server, 8);
    let _ = login(&server, 9);
    assert_eq!(post_with(&server, "/auth/logout-all", &cred, None).status, 204);
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
    for k in &keys {
        assert!(k == "someone-elses-key" || k.starts_with("ab-test:"), "key outside prefix: {k}");
    }
    assert!(
        keys.iter().any(|k| k.starts_with("ab-test:{") && k.contains("}s:")),
        "user9's session should remain: {keys:?}"
    );
    let kept: String = redis::cmd("GET").arg("someone-elses-key").query(&mut conn).unwrap();
    assert_eq!(kept, "keep me");
}

#[test]
fn bad_serve_options_exit_2_with_one_clear_line() {
    // A missing redis-server binary (AUTHBENCH_REDIS_SERVER is authoritative when set).
    let out = std::process::Command::new(common::BIN)
        .args(common::serve("session").to_argv())
        .env("AUTHBENCH_REDIS_SERVER", "/nonexistent/redis-server")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("apt-get install redis-server") && err.contains("--redis-url"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
    // What a person might type: values no ServeArgs can hold, so spelled as strings.
    for args in [
        vec!["serve", "nosuch"],
        vec!["serve", "jwt", "--ttl", "soon"],
        vec!["serve", "session", "--store-timeout", "soon"],
        vec!["serve", "jwt", "--jwt-alg", "none"],
        vec!["serve", "cookie", "--users", "lots"],
        vec!["serve", "cookie", "--addr", "10.1.2.3:80"],
        vec!["serve", "cookie", "--key-file", "/nonexistent/key"],
        // One store or the other; the cluster flags are the session scheme's; a prefix whose
        // `{…}` would replace the users' hash tags is refused.
        vec![
            "serve",
            "session",
            "--redis-url",
            "redis://127.0.0.1:1/",
            "--redis-cluster",
            "redis://127.0.0.1:2/",
        ],
        vec!["serve", "session", "--redis-cluster", " , "],
        vec!["serve", "jwt-revocable", "--redis-cluster", "redis://127.0.0.1:1/"],
        vec!["serve", "session", "--redis-prefix", "a{b}:"],
        // Persistence is the private Redis's: not with a Redis serve does not start.
        vec!["serve", "session", "--redis-persistence", "aof", "--redis-url", "redis://127.0.0.1:1/"],
        vec!["serve", "session", "--redis-persistence", "sometimes"],
    ] {
        let out = std::process::Command::new(common::BIN).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(!err.trim().is_empty(), "{args:?} gave no error");
    }
    // Port in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let args = ServeArgs { addr: taken.local_addr().unwrap(), ..common::serve("cookie") };
    let out = std::process::Command::new(common::BIN).args(args.to_argv()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}

#[test]
fn idle_timeout_closes_an_idle_keep_alive_connection_when_set() {
    use std::io::Read;
    let server = Server::spawn(&ServeArgs { idle_timeout: Duration::from_secs(1), ..common::serve("jwt") });
    let mut idle = std::net::TcpStream::connect(server.addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    // Nothing sent: the server closes the connection after the idle timeout, not before.
    assert_eq!(idle.read(&mut buf).unwrap_or(0), 0);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(4), "{waited:?}");
}
