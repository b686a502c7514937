//! The store bound (`serve --store-timeout`): how long one store call may take before the server
//! answers 503 "store unavailable". It must measure Redis, not this server's own run queue.
//!
//! Why it is more than `tokio::time::timeout` (issue 22, the 10k-login burst flake: 958 requests
//! answered 503 while Redis answered each command in microseconds): redis-rs reads a multiplexed
//! connection's replies in a driver task on the server's runtime. In a burst that task queues
//! behind every request task woken at the same time, so a reply that came in time can sit in the
//! socket while the bound runs out, and the server blames Redis. So when the bound runs out the
//! call yields its turn ([`LATE_TURNS`] times): each yield puts it behind the tasks already
//! queued — the driver among them once its socket was readable — and the call is looked at once
//! more. A reply that came in time is then read; a Redis that did not answer still gives 503,
//! one or two run-queue turns later (microseconds on an idle server). Alone, the late turns did
//! not hold a 10k-user burst (a driver that overflowed to the runtime's shared queue can stay
//! behind thousands of tasks); the bound on requests in progress ([`crate::in_flight`]) keeps
//! that queue short.
//!
//! The earlier fix ran every store connection's I/O on a thread of its own (5298de7). It held the
//! bound, but every store call then crossed threads twice, and an idle thread's wake-up cost the
//! Redis-touching criterion benchmarks +50–60% (results/before-after/); this costs nothing until
//! a bound runs out.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use crate::error::{Error, Result};

/// How many times a call whose bound ran out yields before it is judged late. One turn suffices
/// when the driver sits in this worker's queue; a few more cover a driver that overflowed to the
/// runtime's shared queue, which a worker reads only every few dozen tasks.
pub const LATE_TURNS: usize = 4;

/// The response timeout to give redis-rs's own client for a store bound of `bound`: a backstop
/// far past the bound, so that only [`bounded`] decides. redis-rs checks its timeout in the same
/// poll as the bound's, before the late turns, so a timeout near the bound would end a call
/// whose reply came in time (its turns take as long as the run queue is deep: seconds in a burst
/// on a busy machine).
pub fn client_timeout(bound: Duration) -> Duration {
    bound.saturating_mul(2).max(CLIENT_TIMEOUT_FLOOR)
}

/// The least [`client_timeout`].
const CLIENT_TIMEOUT_FLOOR: Duration = Duration::from_secs(10);

/// Run one store call under `timeout`; a failure, or no reply within the bound and the late turns,
/// is "store unavailable" (503), never a 500.
pub async fn bounded<T>(timeout: Duration, fut: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
    match within(timeout, fut).await {
        Some(Ok(v)) => Ok(v),
        Some(Err(_)) | None => Err(Error::StoreUnavailable),
    }
}

/// `fut`'s output if it is ready within `timeout`, or after [`LATE_TURNS`] yields past it.
pub async fn within<F: Future>(timeout: Duration, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    if let Ok(v) = tokio::time::timeout(timeout, fut.as_mut()).await {
        return Some(v);
    }
    for _ in 0..LATE_TURNS {
        tokio::task::yield_now().await;
        if let Poll::Ready(v) = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_that_never_answers_is_late_after_its_bound() {
        let started = tokio::time::Instant::now();
        let late = within(Duration::from_millis(30), std::future::pending::<()>()).await;
        assert!(late.is_none());
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn a_prompt_call_is_answered() {
        assert_eq!(within(Duration::from_millis(30), async { 7 }).await, Some(7));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_reply_read_by_a_task_queued_behind_the_late_call_is_still_taken() {
        // The "driver" (the task that delivers the reply) gets the worker only after the call has
        // found its bound passed, as in a burst; a plain timeout answers "late" here.
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let call = tokio::spawn(within(Duration::from_millis(20), rx));
        tokio::task::yield_now().await; // the call starts its timer
        std::thread::sleep(Duration::from_millis(40)); // the worker busy past the bound
        tokio::task::yield_now().await; // the timer fires: the call runs and finds its bound passed
        tokio::spawn(async move { tx.send(1).unwrap() });
        assert_eq!(call.await.unwrap().map(|r| r.unwrap()), Some(1));
    }
}
