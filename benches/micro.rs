//! Criterion micro-benchmarks of every auth primitive, and of each scheme's full Router in-process.
//!
//! Groups (criterion filters by regex over `group/function/parameter`, so `cargo bench -- '^jwt/'`
//! runs the `jwt` group alone and `cargo bench -- jwt` also picks up `end_to_end/api_me/jwt_*`):
//!
//! - `cookie`: seal and open the cookie scheme's claims, AES-256-GCM encrypted (the server's
//!   [`Sealer`]) and, for comparison, HMAC-SHA256 signed (the `cookie` crate's signed jar).
//! - `jwt`: encode and decode with full validation, HS256 / EdDSA / ES256 / RS256, through the
//!   server's [`Codec`] (jsonwebtoken on aws-lc-rs); prints each token's size.
//! - `session`: id generation, and create / lookup / delete against a private redis-server the bench
//!   starts itself (skipped with one line when no redis-server binary is found).
//! - `session_check`: each cached session variant's per-request check on the extractor itself:
//!   a cache hit (CPU clock) for `session-cached` and `session-tracked`, `session-tracked`'s miss
//!   (GET + PTTL, wall clock).
//! - `revocation`: each JWT variant's per-request revocation check alone (after the signature):
//!   `jwt-revocable`'s one `MGET` (wall clock, round trip included), `jwt-pubsub`'s in-memory
//!   denylist lookup with 0 / 10k / 100k entries listed (CPU clock); and a refresh-token rotation
//!   (the shared family script, one `EVALSHA`, wall clock).
//! - `password`: argon2id at the OWASP and `--fast-login` costs, alone and through `Users::verify`
//!   (what a login pays: semaphore + `spawn_blocking` + one argon2id).
//! - `end_to_end`: one authenticated `GET /api/me` through each scheme's full Router built by
//!   `build::build`, via `tower::ServiceExt::oneshot` (no network), and `GET /healthz` as baseline.
//! - `json`: encoding the `/api/me` body.
//!
//! Files: this one (cookie, jwt, password, end_to_end, json), `micro/session.rs` (session,
//! session_check), `micro/revocation.rs` (revocation), `micro/clock.rs` (the clocks and the
//! durations every group shares). Imports go one way: this file → the groups → `clock`.
//!
//! Defaults keep a full run near four minutes on a 2-core machine: 1 s warm-up, 4 s measurement
//! (the command line's `--warm-up-time` / `--measurement-time` override them). Everything runs on
//! one current-thread tokio runtime so a benchmark never waits for a thread hand-off.
//!
//! Clock: the machine is shared (other builds run beside the bench), and wall time then counts the
//! time this process sat preempted. So work that is pure CPU in this process (cookie, jwt,
//! password, json, and end_to_end for healthz, cookie and jwt) is timed with the process CPU clock
//! (`CLOCK_PROCESS_CPUTIME_ID`, all threads: `spawn_blocking` work counts), which on an idle
//! machine equals wall time. What waits on redis-server (`session/*` except `new_sid`, and
//! `end_to_end/api_me/session`) is timed by the wall clock, round trip included.
//! `AUTHBENCH_BENCH_CLOCK=wall` times everything by the wall clock (for an idle machine).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use authbench_procs::redis_server::{self, RedisServer};
use authbench_servers::api::{self, ME};
use authbench_servers::build;
use authbench_servers::cookie::{COOKIE_NAME, Claims, Sealer};
use authbench_servers::jwt::{Codec, TokenType};
use authbench_servers::users::{PasswordCost, Users};
use authbench_servers::{JwtAlg, SchemeKind, ServeArgs};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::IntoResponse;
use criterion::{BenchmarkId, Criterion, SamplingMode};
use http_body_util::BodyExt;
use tower::ServiceExt;

// session, session_check, revocation: one file each; the clocks they share.
#[path = "micro/clock.rs"]
mod clock;
#[path = "micro/revocation.rs"]
mod revocation;
#[path = "micro/session.rs"]
mod session;

use clock::{Bench, Clock, REFRESH_TTL, TTL, USERS};
use revocation::bench_revocation;
use session::{bench_session, bench_session_check};

const ALGS: [JwtAlg; 4] = [JwtAlg::Hs256, JwtAlg::EdDsa, JwtAlg::Es256, JwtAlg::Rs256];

fn alg_name(alg: JwtAlg) -> &'static str {
    match alg {
        JwtAlg::Hs256 => "HS256",
        JwtAlg::EdDsa => "EdDSA",
        JwtAlg::Es256 => "ES256",
        JwtAlg::Rs256 => "RS256",
    }
}

fn main() {
    // Cargo unifies plotters' features: the report crate enables `ab_glyph`, under which plotters has
    // no font until one is registered, and criterion's charts would panic with `FontUnavailable`.
    // Register its embedded DejaVu Sans so the HTML report keeps its charts on a machine without fonts.
    authbench_report::plot::register_font();

    let all_wall = std::env::var("AUTHBENCH_BENCH_CLOCK").is_ok_and(|v| v == "wall");
    let cpu_clock = if all_wall { Clock::Wall } else { Clock::ProcessCpu };
    println!(
        "clock: {} for CPU-bound benchmarks; wall time for session/{{create,lookup,delete}} and \
         end_to_end/api_me/session",
        cpu_clock.name()
    );
    let criterion = |clock| {
        Criterion::default()
            .with_measurement(clock)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4))
            .configure_from_args()
    };
    let mut cpu = criterion(cpu_clock);
    let mut wall = criterion(Clock::Wall);

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    // One private redis-server for `session` and `end_to_end/api_me/session`, stopped on drop.
    let redis = match redis_server::find_binary() {
        None => {
            println!(
                "session: SKIPPED (and end_to_end/api_me/session): no redis-server binary on PATH, \
                 $AUTHBENCH_REDIS_SERVER, /usr/bin or /usr/sbin"
            );
            None
        }
        Some(_) => Some(RedisServer::start().expect("start a private redis-server")),
    };

    bench_cookie(&mut cpu);
    bench_jwt(&mut cpu);
    if let Some(redis) = &redis {
        bench_session(&mut cpu, &mut wall, &rt, &redis.url());
        bench_session_check(&mut cpu, &mut wall, &rt, &redis.url());
    }
    bench_revocation(&mut cpu, &mut wall, &rt, redis.as_ref().map(RedisServer::url));
    bench_password(&mut cpu, &rt);
    bench_end_to_end(&mut cpu, &mut wall, &rt, redis.as_ref().map(RedisServer::url));
    bench_json(&mut cpu);

    cpu.final_summary();
    wall.final_summary();
    drop(redis);
}

// ---------------------------------------------------------------------------------------------
// cookie

/// The signed (not encrypted) variant: HMAC-SHA256 over the same JSON, as a `cookie` signed jar.
struct Signer {
    key: cookie::Key,
}

impl Signer {
    fn sign(&self, claims: &Claims) -> String {
        let json = serde_json::to_string(claims).expect("claims serialize");
        let mut jar = cookie::CookieJar::new();
        jar.signed_mut(&self.key).add(cookie::Cookie::new(COOKIE_NAME, json));
        jar.get(COOKIE_NAME).expect("cookie just added").value().to_owned()
    }

    /// Same steps as [`Sealer::open`]: authenticate, parse, check expiry.
    fn verify(&self, value: &str, now: u64) -> Option<Claims> {
        let jar = cookie::CookieJar::new();
        let verified = jar.signed(&self.key).verify(cookie::Cookie::new(COOKIE_NAME, value.to_owned()))?;
        let claims: Claims = serde_json::from_str(verified.value()).ok()?;
        (claims.exp > now).then_some(claims)
    }
}

fn claims() -> Claims {
    let now = api::now_secs();
    Claims { uid: 1, iat: now, exp: now + TTL.as_secs(), auth_time: now }
}

fn bench_cookie(c: &mut Bench) {
    let sealer = Sealer::generate();
    let signer = Signer { key: cookie::Key::generate() };
    let claims = claims();
    let now = api::now_secs();
    let sealed = sealer.seal(COOKIE_NAME, &claims);
    let signed = signer.sign(&claims);
    assert_eq!(sealer.open(COOKIE_NAME, &sealed, now).expect("sealed cookie opens"), claims);
    assert_eq!(signer.verify(&signed, now), Some(claims));
    println!(
        "credential size: cookie encrypted {} bytes value, {} bytes `Cookie: {COOKIE_NAME}=...` header; \
         signed {} bytes value",
        sealed.len(),
        "Cookie: ".len() + COOKIE_NAME.len() + 1 + sealed.len(),
        signed.len()
    );

    let mut g = c.benchmark_group("cookie");
    g.bench_function("encrypted_seal", |b| b.iter(|| sealer.seal(COOKIE_NAME, black_box(&claims))));
    g.bench_function("encrypted_open", |b| {
        b.iter(|| sealer.open(COOKIE_NAME, black_box(&sealed), now).expect("opens"))
    });
    g.bench_function("signed_sign", |b| b.iter(|| signer.sign(black_box(&claims))));
    g.bench_function("signed_verify", |b| {
        b.iter(|| signer.verify(black_box(&signed), now).expect("verifies"))
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// jwt

fn bench_jwt(c: &mut Bench) {
    let mut g = c.benchmark_group("jwt");
    for alg in ALGS {
        let name = alg_name(alg);
        let codec = Codec::generate(alg, TTL, REFRESH_TTL).expect("generate JWT keys");
        let now = api::now_secs();
        let token = codec.issue(1, TokenType::Access, now).expect("sign");
        assert_eq!(codec.verify(&token, TokenType::Access).expect("verify"), 1);
        println!(
            "credential size: jwt {name} access token {} bytes, {} bytes `Authorization: Bearer ...` header",
            token.len(),
            "Authorization: Bearer ".len() + token.len()
        );
        g.bench_with_input(BenchmarkId::new("encode", name), &codec, |b, codec| {
            b.iter(|| codec.issue(black_box(1), TokenType::Access, now).expect("sign"))
        });
        g.bench_with_input(BenchmarkId::new("decode", name), &codec, |b, codec| {
            b.iter(|| codec.verify(black_box(&token), TokenType::Access).expect("verify"))
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// password

fn bench_password(c: &mut Bench, rt: &tokio::runtime::Runtime) {
    let mut g = c.benchmark_group("password");
    // One OWASP-cost hash is ~20-40 ms: ten flat samples, criterion's minimum.
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    for (name, cost) in [("owasp", PasswordCost::OWASP), ("fast", PasswordCost::FAST)] {
        eprintln!("password {name}: {cost}");
        let argon2 = cost.argon2();
        let salt = [7u8; 16];
        let mut stored = [0u8; 32];
        argon2.hash_password_into(b"password1", &salt, &mut stored).expect("argon2id");
        g.bench_function(BenchmarkId::new("argon2id", name), |b| {
            b.iter(|| {
                let mut computed = [0u8; 32];
                argon2.hash_password_into(black_box(b"password1"), &salt, &mut computed).expect("argon2id");
                assert_eq!(computed, stored);
            })
        });

        let users = Arc::new(Users::synthetic(USERS, cost));
        // The first login materialises the stored hash; measure the steady state after it.
        assert_eq!(rt.block_on(users.verify("user1", "password1")).expect("login"), 1);
        let users = &users;
        g.bench_function(BenchmarkId::new("login_verify", name), |b| {
            b.to_async(rt)
                .iter(|| async move { users.verify("user1", black_box("password1")).await.expect("login") })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// end_to_end

/// A scheme's Router exactly as `authbench serve` builds it, plus a credential header obtained
/// through its own `POST /auth/login`.
struct Target {
    label: String,
    router: Router,
    credential: (header::HeaderName, HeaderValue),
    /// Keeps a private redis-server alive if `build::build` started one (never here: we pass a URL).
    _built: build::Built,
}

async fn send(
    router: &Router,
    request: Request<Body>,
) -> (StatusCode, axum::body::Bytes, axum::http::HeaderMap) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    (parts.status, body.collect().await.expect("body").to_bytes(), parts.headers)
}

async fn target(args: ServeArgs, label: String) -> Target {
    let built = build::build(&args).await.expect("build the scheme's Router");
    let router = built.router.clone();
    let login = Request::post(api::LOGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"username":"user1","password":"password1"}"#))
        .expect("request");
    let (status, body, headers) = send(&router, login).await;
    assert_eq!(status, StatusCode::OK, "{label} login: {body:?}");
    let credential = match args.scheme {
        SchemeKind::Jwt | SchemeKind::JwtRevocable | SchemeKind::JwtPubsub => {
            let json: serde_json::Value = serde_json::from_slice(&body).expect("login JSON");
            let token = json["access_token"].as_str().expect("access_token");
            (header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).expect("header"))
        }
        SchemeKind::Cookie | SchemeKind::Session | SchemeKind::SessionCached | SchemeKind::SessionTracked => {
            let set_cookie = headers[header::SET_COOKIE].to_str().expect("ascii Set-Cookie");
            let pair = set_cookie.split(';').next().expect("name=value");
            (header::COOKIE, HeaderValue::from_str(pair).expect("header"))
        }
    };
    Target { label, router, credential, _built: built }
}

fn me_request(credential: &(header::HeaderName, HeaderValue)) -> Request<Body> {
    let mut request = Request::get(ME).body(Body::empty()).expect("request");
    request.headers_mut().insert(credential.0.clone(), credential.1.clone());
    request
}

fn bench_end_to_end(
    cpu: &mut Bench,
    wall: &mut Bench,
    rt: &tokio::runtime::Runtime,
    redis_url: Option<String>,
) {
    let base = |scheme| ServeArgs { users: USERS, fast_login: true, ..ServeArgs::new(scheme) };
    let mut targets = vec![rt.block_on(target(base(SchemeKind::Cookie), "cookie".into()))];
    if let Some(url) = redis_url {
        let args = ServeArgs {
            redis_url: Some(url.clone()),
            redis_prefix: Some("bench:e2e:".into()),
            ..base(SchemeKind::Session)
        };
        targets.push(rt.block_on(target(args, "session".into())));
        let args = ServeArgs {
            redis_url: Some(url.clone()),
            redis_prefix: Some("bench:e2e:revocable:".into()),
            ..base(SchemeKind::JwtRevocable)
        };
        targets.push(rt.block_on(target(args, "jwt-revocable".into())));
        // No Redis call per request: signature + in-memory denylist (CPU clock).
        let args = ServeArgs {
            redis_url: Some(url.clone()),
            redis_prefix: Some("bench:e2e:pubsub:".into()),
            ..base(SchemeKind::JwtPubsub)
        };
        targets.push(rt.block_on(target(args, "jwt-pubsub".into())));
        // Hits from the in-process cache (1 s TTL): one GETEX per second, the rest in memory.
        let args = ServeArgs {
            redis_url: Some(url.clone()),
            redis_prefix: Some("bench:e2e:cached:".into()),
            ..base(SchemeKind::SessionCached)
        };
        targets.push(rt.block_on(target(args, "session-cached".into())));
        // Hits from the tracked cache: Redis would push an invalidation on a change; the client
        // TTL (1 s) bounds a copy, so one GET + PTTL per second, the rest in memory.
        let args = ServeArgs {
            redis_url: Some(url),
            redis_prefix: Some("bench:e2e:tracked:".into()),
            ..base(SchemeKind::SessionTracked)
        };
        targets.push(rt.block_on(target(args, "session-tracked".into())));
    }
    for alg in ALGS {
        let args = ServeArgs { jwt_alg: alg, ..base(SchemeKind::Jwt) };
        targets.push(rt.block_on(target(args, format!("jwt_{}", alg_name(alg)))));
    }

    // Every scheme did its real work: the same /api/me body, and a tampered credential refused.
    let mut bodies = Vec::new();
    for t in &targets {
        let (status, body, _) = rt.block_on(send(&t.router, me_request(&t.credential)));
        assert_eq!(status, StatusCode::OK, "{}: {body:?}", t.label);
        bodies.push(body);
        let mut tampered = t.credential.1.as_bytes().to_vec();
        let i = tampered.len() - 5;
        tampered[i] = if tampered[i] == b'a' { b'b' } else { b'a' };
        let bad = (t.credential.0.clone(), HeaderValue::from_bytes(&tampered).expect("header"));
        let (status, _, _) = rt.block_on(send(&t.router, me_request(&bad)));
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}: tampered credential accepted", t.label);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "/api/me bodies differ across schemes");

    // The session scheme waits on redis-server: wall clock, loopback round trip included. Run first:
    // criterion's group summary page shows the group's last clock, and the CPU-clock rows compare.
    let mut g = wall.benchmark_group("end_to_end");
    // jwt-revocable's one MGET per request waits on redis-server too.
    let waits = |t: &&Target| t.label == "session" || t.label == "jwt-revocable";
    for t in targets.iter().filter(waits) {
        g.bench_function(BenchmarkId::new("api_me", &t.label), |b| {
            b.to_async(rt).iter(|| async move { send(&t.router, me_request(&t.credential)).await })
        });
    }
    g.finish();
    let mut g = cpu.benchmark_group("end_to_end");
    let healthz = &targets[0].router;
    g.bench_function("healthz", |b| {
        b.to_async(rt).iter(|| async move {
            let request = Request::get(api::HEALTHZ).body(Body::empty()).expect("request");
            send(healthz, request).await
        })
    });
    for t in targets.iter().filter(|t| !waits(t)) {
        g.bench_function(BenchmarkId::new("api_me", &t.label), |b| {
            b.to_async(rt).iter(|| async move { send(&t.router, me_request(&t.credential)).await })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// json

fn bench_json(c: &mut Bench) {
    let users = Users::synthetic(USERS, PasswordCost::FAST);
    let user = users.get(1).expect("user1");
    let mut g = c.benchmark_group("json");
    g.bench_function("me_to_vec", |b| b.iter(|| serde_json::to_vec(&black_box(user).me()).expect("encode")));
    g.bench_function("me_response", |b| b.iter(|| axum::Json(black_box(user).me()).into_response()));
    g.finish();
}
