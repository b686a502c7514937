//! The server's bound on requests in progress (`serve --max-in-flight`): past it, a request waits
//! for one to finish before its handler runs.
//!
//! Why (issue 22, the 10k-user burst flake: 958, then 1,438 requests answered 503 "store
//! unavailable" while Redis answered each command in microseconds): redis-rs reads a
//! multiplexed connection's replies in a driver task on the server's runtime. With thousands of
//! requests in progress at once, that task queued behind all of them, so replies that came in
//! time sat in the socket while the store bound ran out. A request waiting here is parked, not
//! runnable: the run queue holds at most this many handlers, and a turn of it stays far inside the
//! store bound (64 per worker × ~15 µs of CPU each ≈ 1 ms in release; ~10-20 ms in a debug build,
//! a few times that on a machine busy with other work). The wait shows where it belongs: as the
//! request's latency. 256 per worker was not enough: tests/scale.rs, a debug build beside two
//! other builds, still saw 39-637 503s on /api/me in 4 of 4 runs.
//!
//! Logins are not counted: they wait for a password-hashing slot in their own bounded queue
//! (`--login-queue`), and would otherwise hold every slot while they wait.
//!
//! 64 per worker is past what a CPU-bound server needs to stay busy: a few requests per core, or
//! ~70 per core while each waits 1 ms for a store a network hop away at ~15 µs of CPU each; so
//! the bound does not cap throughput here. A deployment with a slower store raises it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

/// Requests in progress per worker thread by default.
pub const PER_WORKER: usize = 64;

/// The default bound for `workers` worker threads.
pub fn default_limit(workers: usize) -> usize {
    PER_WORKER * workers.max(1)
}

/// `router` with at most `limit` requests (logins aside) in progress at once.
pub fn limit(router: Router, limit: usize) -> Router {
    let slots = Arc::new(Semaphore::new(limit.max(1)));
    router.layer(axum::middleware::from_fn_with_state(slots, wait_for_slot))
}

async fn wait_for_slot(State(slots): State<Arc<Semaphore>>, req: Request, next: Next) -> Response {
    if req.uri().path() == crate::api::LOGIN {
        return next.run(req).await;
    }
    // The semaphore is never closed.
    let _slot = slots.acquire().await.expect("the in-flight semaphore is never closed");
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    #[tokio::test]
    async fn no_more_than_the_limit_run_at_once() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (r, m) = (running.clone(), most.clone());
        let app = limit(
            Router::new().route(
                "/api/me",
                get(move || {
                    let (r, m) = (r.clone(), m.clone());
                    async move {
                        let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                        m.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        r.fetch_sub(1, Ordering::SeqCst);
                        "ok"
                    }
                }),
            ),
            3,
        );
        let calls = (0..20).map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.oneshot(Request::get("/api/me").body(Body::empty()).unwrap()).await.unwrap().status()
            })
        });
        for c in calls.collect::<Vec<_>>() {
            assert_eq!(c.await.unwrap(), 200);
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }
}
