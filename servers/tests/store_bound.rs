//! The store's bound (`--store-timeout`) is Redis's, not the server's own runtime's (issue 22, the
//! 10k-login burst flake: 958 requests answered 503 "store unavailable" while Redis itself
//! answered in microseconds).
//!
//! A runtime whose worker is busy — here 100 tasks burning 20 ms of CPU between yields, a full
//! turn of the run queue about two seconds, as a burst of thousands of requests makes it — must
//! not turn Redis's prompt replies into store timeouts. At 934d605 the connection's driver task
//! (which reads Redis's replies off the socket) queued behind those tasks, so a reply sent in well
//! under a millisecond was read only after the bound had passed: the store call answered 503. Now
//! a call whose bound runs out yields its turn behind the queued driver and looks again
//! (`servers/src/store_bound.rs`), so only a Redis that does not answer in time gives 503.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use authbench_procs::redis_server::RedisServer;
use authbench_servers::Error;
use authbench_servers::jwt_revocable::RevocationStore;
use authbench_servers::session::SessionStore;

const BOUND: Duration = Duration::from_millis(150);

/// Keep the runtime's worker busy until `stop`, the way a burst of requests does: `tasks` tasks,
/// each woken by its socket becoming readable (as an HTTP connection's task is, and the Redis
/// connection's driver), burning `slice` of CPU per wake-up. A thread keeps every socket readable.
fn busy(tasks: usize, slice: Duration, stop: &Arc<AtomicBool>) {
    use std::io::Write;
    use tokio::io::AsyncReadExt;
    let mut feeds = Vec::new();
    for _ in 0..tasks {
        let (feed, socket) = std::os::unix::net::UnixStream::pair().unwrap();
        socket.set_nonblocking(true).unwrap();
        feed.set_nonblocking(true).unwrap();
        feeds.push(feed);
        let mut socket = tokio::net::UnixStream::from_std(socket).unwrap();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                if socket.read(&mut buf).await.is_err() {
                    return;
                }
                let t = Instant::now();
                while t.elapsed() < slice {
                    std::hint::spin_loop();
                }
            }
        });
    }
    let stop = stop.clone();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            for f in &mut feeds {
                let _ = f.write(b"x");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

#[test]
fn a_busy_runtime_does_not_turn_prompt_redis_replies_into_store_timeouts() {
    assert!(authbench_procs::redis_server::find_binary().is_some(), "redis-server is required");
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let store = SessionStore::connect(&url, "busy:", Duration::from_secs(60), BOUND).await.unwrap();
        let revocation = RevocationStore::connect(&url, "busy:", 3600, BOUND).await.unwrap();
        let sid = store.create(1).await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        busy(100, Duration::from_millis(20), &stop);
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Requests as the server runs them: tasks on the busy runtime.
        let calls: Vec<_> = (0..20)
            .map(|i| {
                let (store, revocation, sid) = (store.clone(), revocation.clone(), sid.clone());
                tokio::spawn(async move {
                    let started = Instant::now();
                    let result = match i % 2 {
                        0 => store.lookup(&sid).await.map(|_| ()),
                        _ => revocation.check("jti", 1, "fid", 1).await.or_else(|e| match e {
                            Error::InvalidCredential => Ok(()), // no such family: Redis answered
                            e => Err(e),
                        }),
                    };
                    (result, started.elapsed())
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for c in calls {
            outcomes.push(c.await.unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        let slowest = outcomes.iter().map(|(_, t)| *t).max().unwrap();
        let failed: Vec<_> = outcomes.iter().filter(|(r, _)| r.is_err()).collect();
        assert!(slowest > BOUND, "the runtime was not busy enough to test anything: slowest call {slowest:?}");
        assert!(
            failed.is_empty(),
            "{} of 20 store calls answered 'store unavailable' though Redis answered at once (slowest {slowest:?})",
            failed.len()
        );
    });
}
