//! The server's bound on requests in progress (`serve --max-in-flight`): past it, a request waits
//! for one to finish before its handler runs. Applied around each connection's service in the
//! accept loop ([`crate::serve`]), not inside the Router: an axum middleware cost ~0.5 µs per
//! request (criterion `end_to_end/healthz` 0.55 → 1.02 µs); this costs a permit's two atomic
//! operations when a slot is free.
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
//! other builds, still saw 39-637 503s on /api/me in 4 of its first 7 runs.
//!
//! Logins are not counted: they wait for a password-hashing slot in their own bounded queue
//! (`--login-queue`), and would otherwise hold every slot while they wait.
//!
//! 64 per worker is past what a CPU-bound server needs to stay busy: a few requests per core, or
//! ~70 per core while each waits 1 ms for a store a network hop away at ~15 µs of CPU each; so
//! the bound does not cap throughput here. A deployment with a slower store raises it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;

/// Requests in progress per worker thread by default.
pub const PER_WORKER: usize = 64;

/// The default bound for `workers` worker threads (`None`: the runtime's default, one per core).
pub fn default_limit(workers: Option<usize>) -> usize {
    let workers = workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    PER_WORKER * workers.max(1)
}

/// The slots every connection's requests share.
#[derive(Clone, Debug)]
pub struct Slots(Arc<Semaphore>);

impl Slots {
    pub fn new(limit: usize) -> Slots {
        Slots(Arc::new(Semaphore::new(limit.max(1))))
    }

    /// `inner` (a connection's service) with its requests, logins aside, holding a slot.
    pub fn around<S>(&self, inner: S) -> InFlight<S> {
        InFlight { inner, slots: self.0.clone() }
    }
}

/// A service whose requests wait for a free slot before `inner` runs them.
#[derive(Clone, Debug)]
pub struct InFlight<S> {
    inner: S,
    slots: Arc<Semaphore>,
}

impl<S, B> tower::Service<http::Request<B>> for InFlight<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let counted = req.uri().path() != crate::api::LOGIN;
        let slots = self.slots.clone();
        // The Router's future does nothing until polled: the handler runs once a slot is held.
        let fut = self.inner.call(req);
        Box::pin(async move {
            let _slot = match counted {
                false => None,
                true => match slots.clone().try_acquire_owned() {
                    Ok(slot) => Some(slot),
                    Err(_) => slots.acquire_owned().await.ok(),
                },
            };
            fut.await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    #[tokio::test]
    async fn no_more_than_the_limit_run_at_once_and_logins_are_not_counted() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (r, m) = (running.clone(), most.clone());
        let slow = move || {
            let (r, m) = (r.clone(), m.clone());
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                r.fetch_sub(1, Ordering::SeqCst);
                "ok"
            }
        };
        let router = Router::new().route("/api/me", get(slow.clone())).route(crate::api::LOGIN, get(slow));
        let slots = Slots::new(3);
        let run = |path: &'static str, n: usize| {
            let calls: Vec<_> = (0..n)
                .map(|_| {
                    let svc = slots.around(router.clone());
                    tokio::spawn(async move {
                        svc.oneshot(http::Request::get(path).body(Body::empty()).unwrap()).await.unwrap().status()
                    })
                })
                .collect();
            async move {
                for c in calls {
                    assert_eq!(c.await.unwrap(), 200);
                }
            }
        };
        run("/api/me", 20).await;
        assert_eq!(most.swap(0, Ordering::SeqCst), 3);
        run(crate::api::LOGIN, 20).await;
        assert!(most.load(Ordering::SeqCst) > 3, "logins wait for hashing, not for a slot");
    }
}
