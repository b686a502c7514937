//! The thread every store connection's I/O runs on: a one-worker tokio runtime of its own, apart
//! from the server's request workers.
//!
//! Why (issue 22, the 10k-login burst flake: 958 requests answered 503 "store unavailable" while
//! Redis answered each command in microseconds): redis-rs reads a multiplexed connection's
//! replies in a driver task, spawned where the connection is made. On the server's runtime that
//! task queued behind every request task woken in the same burst, so Redis's replies sat in the
//! socket while the store bound (`--store-timeout`, 400 ms) ran out, and the server blamed
//! Redis. On this thread the driver reads each reply as it arrives; a request's bounded call
//! polls its reply before its deadline when it next runs, so the bound measures Redis, and the
//! request's own wait for a worker shows as latency, not as an outage.
//!
//! Connections are made here ([`spawn`]), and every call is polled with this runtime as the
//! current one ([`OnIo`]), so a reconnection, and the new connection's driver, start here too.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// The store's I/O runtime, started on first use.
fn runtime() -> &'static tokio::runtime::Runtime {
    static IO: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("authbench-store-io")
            .enable_all()
            .build()
            .expect("start the store's I/O runtime")
    })
}

/// Run `fut` (a connection being made) on the store's I/O runtime and wait for it.
pub async fn spawn<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> T {
    match runtime().spawn(fut).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// A store call polled with the I/O runtime as the current runtime: whatever it spawns (a
/// reconnection and its connection's driver) runs there. The call itself stays on its task.
pub struct OnIo<F>(pub F);

impl<F: Future + Unpin> Future for OnIo<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _io = runtime().enter();
        Pin::new(&mut self.0).poll(cx)
    }
}
