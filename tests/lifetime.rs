//! The absolute lifetime of a login, on every scheme (issue 22, findings 3 and 4): with
//! `serve S --ttl 2s --max-age 3s`, a credential refreshed every 0.5 s keeps being refreshed until
//! about 3 s after the login, and is refused from then on — however often it was refreshed. At
//! 934d605 every scheme refreshed it forever (each refresh re-issued a full lifetime).
//!
//! Times are whole seconds on the server, so the test allows the second the login fell in: a
//! refresh sent less than 2 s after the login was sent must succeed, one sent 3 s or more after
//! the login was answered must be refused. The JWT schemes' newest access token expires at the
//! login + 3 s too, and jwt-revocable's family key never lives past it.

mod common;

use authbench_servers::ServeArgs;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authbench_contract::path;
use base64::Engine;
use common::{RedisServer, Resp, Server, require_redis};

const JSON: (&str, &str) = ("Content-Type", "application/json");
const PREFIX: &str = "lifetime:";

/// A credential as the client holds it: the cookie pair, or the JWT pair.
enum Cred {
    Cookie(String),
    Bearer { access: String, refresh: String },
}

impl Cred {
    fn from(resp: &Resp) -> Cred {
        match resp.header("set-cookie") {
            Some(_) => Cred::Cookie(resp.cookie_pair()),
            None => {
                let j = resp.json();
                Cred::Bearer {
                    access: j["access_token"].as_str().unwrap().to_owned(),
                    refresh: j["refresh_token"].as_str().unwrap().to_owned(),
                }
            }
        }
    }

    fn refresh(&self, server: &Server) -> Resp {
        match self {
            Cred::Cookie(pair) => server.post(path::REFRESH, &[("Cookie", pair)], None),
            Cred::Bearer { refresh, .. } => {
                let body = format!(r#"{{"refresh_token":"{refresh}"}}"#);
                server.post(path::REFRESH, &[JSON], Some(&body))
            }
        }
    }
}

fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn refresh_chain_ends_at_max_age(scheme: &str) {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    let mut args = ServeArgs {
        ttl: Duration::from_secs(2),
        max_age: Some(Duration::from_secs(3)),
        ..common::serve(scheme)
    };
    if scheme != "cookie" && scheme != "jwt" {
        (args.redis_url, args.redis_prefix) = (Some(url.clone()), Some(PREFIX.into()));
    }
    if scheme == "session-tracked" {
        args.cache_ttl = Duration::from_millis(500); // below half of --ttl, as session-tracked needs
    }
    let server = Server::spawn(&args);
    let login_sent = Instant::now();
    let mut cred = Cred::from(&server.login(1));
    let (logged_in, logged_in_unix) = (Instant::now(), unix_now());
    let mut refreshed = 0;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let sent = Instant::now();
        let r = cred.refresh(&server);
        match r.status {
            200 => {
                assert!(
                    sent < logged_in + Duration::from_secs(3),
                    "{scheme}: refreshed {:?} after the login, past --max-age 3s",
                    sent - logged_in
                );
                cred = Cred::from(&r);
                refreshed += 1;
                if let Cred::Bearer { access, refresh } = &cred {
                    let exp = claims(access)["exp"].as_u64().unwrap();
                    assert!(exp <= logged_in_unix + 3, "{scheme}: an access token outlives the max age");
                    let refresh = claims(refresh);
                    assert!(refresh["exp"].as_u64().unwrap() <= logged_in_unix + 3, "{scheme}: refresh exp");
                    if scheme.starts_with("jwt-") {
                        let key = format!("{PREFIX}f:{}", refresh["fid"].as_str().unwrap());
                        let mut conn = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
                        let pttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut conn).unwrap();
                        assert!(
                            (0..=3000).contains(&pttl),
                            "{scheme}: the family key's expiry was renewed past the max age (PTTL {pttl} ms)"
                        );
                    }
                }
            }
            401 => {
                assert!(
                    sent >= login_sent + Duration::from_secs(2),
                    "{scheme}: refused {:?} after the login, before --max-age 3s: {}",
                    sent - login_sent,
                    r.body
                );
                break;
            }
            s => panic!("{scheme}: refresh answered {s}: {}", r.body),
        }
        assert!(sent < logged_in + Duration::from_secs(5), "{scheme}: still refreshed 5 s after the login");
    }
    assert!(refreshed >= 3, "{scheme}: only {refreshed} refreshes before the end");
    // The end is the end: the newest credential does not refresh either.
    assert_eq!(
        cred.refresh(&server).status,
        401,
        "{scheme}: the newest credential refreshed past the max age"
    );
    if let Cred::Cookie(pair) = &cred {
        let me = server.get(path::ME, &[("Cookie", pair)]);
        assert_eq!(me.status, 401, "{scheme}: /api/me accepted a credential past the max age");
    }
}

#[test]
fn cookie_refresh_chain_ends_at_max_age() {
    refresh_chain_ends_at_max_age("cookie");
}

#[test]
fn session_refresh_chain_ends_at_max_age() {
    refresh_chain_ends_at_max_age("session");
}

#[test]
fn session_cached_refresh_chain_ends_at_max_age() {
    refresh_chain_ends_at_max_age("session-cached");
}

#[test]
fn session_tracked_refresh_chain_ends_at_max_age() {
    refresh_chain_ends_at_max_age("session-tracked");
}

#[test]
fn jwt_refresh_chain_ends_at_max_age() {
    refresh_chain_ends_at_max_age("jwt");
}

#[test]
fn jwt_revocable_refresh_chain_ends_at_max_age() {
    refresh_chain_ends_at_max_age("jwt-revocable");
}

#[test]
fn jwt_pubsub_refresh_chain_ends_at_max_age() {
    refresh_chain_ends_at_max_age("jwt-pubsub");
}
