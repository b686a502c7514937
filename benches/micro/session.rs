//! The `session` group (store create/lookup/delete against a private redis-server) and the
//! `session_check` group (each session variant's per-request check). Part of `micro.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authbench_servers::api::ME;
use authbench_servers::id;
use authbench_servers::session::{STORE_TIMEOUT, SessionStore};
use authbench_servers::users::{PasswordCost, Users};
use axum::http::{Request, header};
use criterion::BenchmarkId;

use super::clock::{Bench, TTL, USERS};

pub fn bench_session(cpu: &mut Bench, wall: &mut Bench, rt: &tokio::runtime::Runtime, url: &str) {
    let store = rt
        .block_on(SessionStore::connect(url, "bench:store:", TTL, STORE_TIMEOUT))
        .expect("connect to redis");
    let sid = rt.block_on(store.create(1)).expect("create a session");
    assert_eq!(rt.block_on(store.lookup(&sid)).expect("lookup").uid, 1);

    let mut g = cpu.benchmark_group("session");
    g.bench_function("new_sid", |b| b.iter(id::new_sid));
    g.finish();

    let mut g = wall.benchmark_group("session");
    let store = &store;
    g.bench_function("create", |b| {
        let mut uid = 0u64;
        b.to_async(rt).iter(|| {
            uid = uid % USERS + 1;
            let uid = uid;
            async move { store.create(uid).await.expect("create") }
        })
    });
    let sid = &sid;
    g.bench_function("lookup", |b| {
        b.to_async(rt).iter(|| async move { store.lookup(sid).await.expect("lookup") })
    });
    g.bench_function("delete", |b| {
        // Each iteration deletes a distinct live session; creating them (pipelined) is not timed.
        b.to_async(rt).iter_custom(|iters| async move {
            let mut sids = Vec::with_capacity(iters as usize);
            let mut left = iters;
            while left > 0 {
                // Small pipelines: one reply must arrive within the store's 300 ms response timeout.
                let n = left.min(500);
                sids.extend(
                    store.create_many(std::iter::repeat_n(2, n as usize)).await.expect("create_many"),
                );
                left -= n;
            }
            let start = Instant::now();
            for sid in &sids {
                store.delete(sid, 2).await.expect("delete");
            }
            start.elapsed()
        })
    });
    g.finish();
}

/// Each session variant's per-request check (the `SessionAuth` extractor on a request's parts):
/// the cache hit path on the CPU clock (no Redis command), session-tracked's miss on the wall
/// clock (GET + PTTL on the tracking connection; session-cached's miss is the session scheme's
/// GETEX, benched as `end_to_end/api_me/session`).
pub fn bench_session_check(cpu: &mut Bench, wall: &mut Bench, rt: &tokio::runtime::Runtime, url: &str) {
    use authbench_servers::SameSite;
    use authbench_servers::session::{SessionAuth, SessionScheme};
    use authbench_servers::session_cached::CachedScheme;
    use authbench_servers::session_tracked::TrackedScheme;
    use axum::extract::FromRequestParts;

    let users = Arc::new(Users::synthetic(USERS, PasswordCost::FAST));
    let session = |prefix: &'static str| {
        let store = rt.block_on(SessionStore::connect(url, prefix, TTL, STORE_TIMEOUT)).expect("connect");
        SessionScheme::new(users.clone(), store, SameSite::Lax)
    };
    // Client TTL an hour: every timed hit is a hit. Capacity set explicitly, as `serve` does.
    let hour = Duration::from_secs(3600);
    let cached = CachedScheme::new(session("bench:check:cached:"), hour, 1000);
    let tracked = rt
        .block_on(TrackedScheme::connect(
            session("bench:check:tracked:"),
            url,
            TTL,
            hour,
            1000,
            STORE_TIMEOUT,
        ))
        .expect("tracking connection");
    let parts = |sid: String| {
        let cookie = format!("{}={sid}", authbench_servers::session::COOKIE_NAME);
        let request = Request::get(ME).header(header::COOKIE, cookie).body(()).expect("request");
        request.into_parts().0
    };
    let cached_parts = parts(rt.block_on(cached.base().store().create(1)).expect("create"));
    let tracked_parts = parts(rt.block_on(tracked.base().store().create(1)).expect("create"));
    let check_cached = |mut p: http::request::Parts| {
        let cached = cached.clone();
        async move { SessionAuth::from_request_parts(&mut p, &cached).await.expect("cached check").uid }
    };
    let check_tracked = |mut p: http::request::Parts| {
        let tracked = tracked.clone();
        async move { SessionAuth::from_request_parts(&mut p, &tracked).await.expect("tracked check").uid }
    };
    // Warm both caches.
    assert_eq!(rt.block_on(check_cached(cached_parts.clone())), 1);
    assert_eq!(rt.block_on(check_tracked(tracked_parts.clone())), 1);

    let mut g = cpu.benchmark_group("session_check");
    g.bench_function(BenchmarkId::new("hit", "session-cached"), |b| {
        b.to_async(rt).iter(|| check_cached(cached_parts.clone()))
    });
    g.bench_function(BenchmarkId::new("hit", "session-tracked"), |b| {
        b.to_async(rt).iter(|| check_tracked(tracked_parts.clone()))
    });
    g.finish();
    // Every timed call above was a hit: one miss each, the warm-up's.
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(cached.stats().misses.load(Relaxed), 1, "session-cached: a timed check missed");
    assert_eq!(tracked.stats().misses.load(Relaxed), 1, "session-tracked: a timed check missed");
    assert_eq!(tracked.stats().untracked.load(Relaxed), 0, "session-tracked: tracking went down");
    let mut g = wall.benchmark_group("session_check");
    g.bench_function(BenchmarkId::new("miss", "session-tracked"), |b| {
        b.to_async(rt).iter(|| {
            tracked.clear();
            check_tracked(tracked_parts.clone())
        })
    });
    g.finish();
}
