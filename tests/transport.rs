//! Every scheme over every transport, through the real binary: HTTP/1.1 and HTTP/2 over TLS
//! (`serve --tls`, ALPN), HTTP/2 in clear text with prior knowledge (h2c) and HTTP/1.1 in clear
//! text. Each time login, `/api/me`, refresh, logout-all and logout keep their contract (status,
//! body, what still works after), the credential cookies carry `Secure` and the `__Host-` prefix
//! over HTTPS and not otherwise; and the attack battery (`attacks.csv`'s inputs) is rejected in
//! full over HTTPS. One server per scheme and mode, looped, to keep CI short.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use authbench::harness::http::{self, Protocol, Resp};
use authbench_contract::credential::{BEARER, HOST_PREFIX};
use authbench_contract::path;
use common::{SchemeKind, ServeArgs, require_redis};

/// One way of reaching a server.
struct Transport {
    name: &'static str,
    tls: bool,
    protocol: Protocol,
    version: ::http::Version,
}

const TRANSPORTS: [Transport; 4] = [
    Transport { name: "h1", tls: false, protocol: Protocol::Http1, version: ::http::Version::HTTP_11 },
    Transport { name: "h2c", tls: false, protocol: Protocol::Http2, version: ::http::Version::HTTP_2 },
    Transport { name: "h1-tls", tls: true, protocol: Protocol::Http1, version: ::http::Version::HTTP_11 },
    Transport { name: "h2-tls", tls: true, protocol: Protocol::Auto, version: ::http::Version::HTTP_2 },
];

/// A credential as the test holds it: the header to send, and for JWTs the refresh token.
#[derive(Clone)]
struct Held {
    header: (&'static str, String),
    refresh: Option<String>,
}

struct Client<'a> {
    c: reqwest::Client,
    base: String,
    t: &'a Transport,
}

impl Client<'_> {
    async fn send(&self, method: &str, p: &str, cred: Option<&Held>, body: Option<&str>) -> Resp {
        let headers: Vec<(&str, &str)> =
            cred.map(|h| vec![(h.header.0, h.header.1.as_str())]).unwrap_or_default();
        let r = http::request(&self.c, &self.base, method, p, &headers, body).await.unwrap();
        assert_eq!(r.version, self.t.version, "{} {method} {p}", self.t.name);
        r
    }

    /// The credential a login or refresh answer carries; checks the cookie's name and flags.
    fn held(&self, r: &Resp, scheme: SchemeKind) -> Held {
        assert_eq!(r.status, 200, "{scheme} over {}: {:?}", self.t.name, r.body);
        match r.headers.get("set-cookie") {
            Some(v) => {
                let v = v.to_str().unwrap();
                let pair = v.split(';').next().unwrap().to_owned();
                let name = pair.split('=').next().unwrap();
                let expected = scheme.credential().cookie_name_over(self.t.tls).unwrap();
                assert_eq!(name, expected, "{scheme} over {}", self.t.name);
                assert_eq!(name.starts_with(HOST_PREFIX), self.t.tls);
                assert_eq!(v.contains("; Secure"), self.t.tls, "{scheme} over {}: {v}", self.t.name);
                assert!(v.contains("Path=/") && !v.contains("Domain"), "{v}");
                Held { header: ("cookie", pair), refresh: None }
            }
            None => {
                let j = r.json().unwrap();
                Held {
                    header: ("authorization", format!("{BEARER} {}", j["access_token"].as_str().unwrap())),
                    refresh: j["refresh_token"].as_str().map(str::to_owned),
                }
            }
        }
    }

    async fn login(&self, scheme: SchemeKind, uid: u64) -> Held {
        let body = format!(r#"{{"username":"user{uid}","password":"password{uid}"}}"#);
        let r = self.send("POST", path::LOGIN, None, Some(&body)).await;
        self.held(&r, scheme)
    }

    async fn me(&self, cred: &Held) -> u16 {
        self.send("GET", path::ME, Some(cred), None).await.status
    }
}

/// Login, me, refresh, logout-all (on a second device), logout: every contract over `t`.
async fn contract(c: &Client<'_>, scheme: SchemeKind, uid: u64) {
    let what = format!("{scheme} over {}", c.t.name);
    let a = c.login(scheme, uid).await;
    let me = c.send("GET", path::ME, Some(&a), None).await;
    assert_eq!(me.status, 200, "{what}");
    assert_eq!(me.json().unwrap()["username"], format!("user{uid}"), "{what}");
    assert_eq!(c.send("GET", path::ME, None, None).await.status, 401, "{what}: no credential");

    let r = match &a.refresh {
        Some(t) => c.send("POST", path::REFRESH, None, Some(&format!(r#"{{"refresh_token":"{t}"}}"#))).await,
        None => c.send("POST", path::REFRESH, Some(&a), None).await,
    };
    let a = c.held(&r, scheme);
    assert_eq!(c.me(&a).await, 200, "{what}: the refreshed credential");

    let b = c.login(scheme, uid).await;
    let all = c.send("POST", path::LOGOUT_ALL, Some(&b), None).await.status;
    let revocable = scheme.uses_store();
    assert_eq!(all, if revocable { 204 } else { 501 }, "{what}: logout-all");
    if revocable {
        // jwt-pubsub's denylist learns through Redis pub/sub: a moment, not a request.
        let mut status = c.me(&a).await;
        for _ in 0..40 {
            if status == 401 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
            status = c.me(&a).await;
        }
        assert_eq!(status, 401, "{what}: the other device after logout-all");
    }
    let d = c.login(scheme, uid).await;
    assert_eq!(c.send("POST", path::LOGOUT, Some(&d), None).await.status, 204, "{what}: logout");
    if revocable {
        assert_eq!(c.me(&d).await, 401, "{what}: after logout");
    }
}

fn cert_path(dir: &tempfile::TempDir, scheme: SchemeKind) -> PathBuf {
    dir.path().join(format!("{scheme}.pem"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scheme_keeps_its_contract_over_every_transport_and_the_attacks_fail_over_https() {
    require_redis();
    let dir = tempfile::tempdir().unwrap();
    for scheme in SchemeKind::ALL {
        for tls in [false, true] {
            let cert = cert_path(&dir, scheme);
            let args =
                ServeArgs { tls, cert_out: tls.then(|| cert.clone()), ..common::serve(scheme.as_str()) };
            let server = common::Server::spawn(&args);
            assert_eq!(server.base.starts_with("https://"), tls, "{}", server.base);
            let ca = tls.then(|| std::fs::read(&cert).unwrap());
            for (i, t) in TRANSPORTS.iter().filter(|t| t.tls == tls).enumerate() {
                let c = http::client_speaking(ca.as_deref(), Duration::from_secs(10), t.protocol).unwrap();
                let client = Client { c, base: server.base.clone(), t };
                contract(&client, scheme, 10 + 10 * i as u64 + u64::from(tls) * 100).await;
            }
            if tls {
                // The battery as compare throws it, through the control plane (h2 by ALPN).
                http::trust(server.addr, ca.as_deref().unwrap()).unwrap();
                let rows = authbench::reliability::attack::run(scheme, server.addr).await.unwrap();
                let tried: u64 = rows.iter().map(|r| r.tried).sum();
                assert!(tried >= 100, "{scheme}: {tried} attacks");
                for r in &rows {
                    assert_eq!(r.tried, r.rejected_4xx, "{scheme} over TLS, {}: {r:?}", r.kind);
                }
            }
        }
    }
}
