//! The task that keeps `jwt-pubsub`'s [`Denylist`] current: subscribe to the revocation channel,
//! *then* load the stored revocations, then mark the list ready and apply every message; on any
//! loss (the stream ends, a `PING` is not answered within the store timeout) mark it not ready
//! (authenticated requests answer 503), reconnect and reload. Subscribing before loading means a
//! revocation published during the load is either in the load or in the stream: none is missed.
//! Expired entries are pruned every [`PRUNE_EVERY`].
//!
//! The task never returns while the runtime runs; should it end anyway — a panic in it, the
//! runtime shutting down — a guard it holds marks the list not ready as it unwinds
//! ([`watched`]), so the server fails closed (503) rather than trust a list nobody keeps.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};

use crate::denylist::Denylist;
use crate::error::{Error, Result};
use crate::jwt_revocable::RevocationStore;

/// How often the subscription is pinged: the bound on noticing a silently dead connection.
pub const PING_EVERY: Duration = Duration::from_millis(500);
/// How often expired entries are dropped.
pub const PRUNE_EVERY: Duration = Duration::from_secs(1);
/// Pause between reconnection attempts.
const RETRY_AFTER: Duration = Duration::from_millis(50);

/// What the task needs.
pub struct Subscriber {
    pub client: redis::Client,
    pub store: RevocationStore,
    pub list: Arc<Denylist>,
    pub channel: String,
    pub access_ttl: u64,
    pub timeout: Duration,
}

impl Subscriber {
    /// Run forever (until the runtime stops): reconnect on every loss.
    pub async fn run(self) {
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // An error and a lost stream end the same way: not ready at once, then try again.
            let _ = self.session(&mut prune).await;
            self.list.set_ready(false);
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }

    /// One subscription's life: returns when it is lost.
    async fn session(&self, prune: &mut tokio::time::Interval) -> Result<()> {
        let t = self.timeout.max(Duration::from_millis(300));
        let pubsub = tokio::time::timeout(t, self.client.get_async_pubsub())
            .await
            .map_err(|_| Error::StoreUnavailable)?
            .map_err(Error::Redis)?;
        let (mut sink, mut stream) = pubsub.split();
        tokio::time::timeout(t, sink.subscribe(&self.channel))
            .await
            .map_err(|_| Error::StoreUnavailable)?
            .map_err(Error::Redis)?;
        for entry in self.store.stored_revocations(self.access_ttl).await? {
            self.list.insert(entry);
        }
        // Whatever arrived during the load is applied before the list counts as complete.
        while let Some(Some(msg)) = stream.next().now_or_never() {
            self.apply(&msg);
        }
        self.list.set_ready(true);
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                msg = stream.next() => match msg {
                    Some(msg) => self.apply(&msg),
                    None => return Ok(()),
                },
                _ = ping.tick() => {
                    let answered = tokio::time::timeout(t, sink.ping::<redis::Value>()).await;
                    if !matches!(answered, Ok(Ok(_))) {
                        return Ok(());
                    }
                }
                _ = prune.tick() => {
                    self.list.prune(crate::api::now_secs());
                }
            }
        }
    }

    fn apply(&self, msg: &redis::Msg) {
        if let Ok(payload) = std::str::from_utf8(msg.get_payload_bytes()) {
            #[cfg(feature = "testing")]
            if payload == PANIC_MESSAGE {
                panic!("subscriber: {PANIC_MESSAGE} received (test builds only)");
            }
            self.list.apply_message(payload);
        }
    }
}

/// Test builds only (feature `testing`): a message that makes the subscriber task panic, so a
/// test can watch the server fail closed.
#[cfg(feature = "testing")]
pub const PANIC_MESSAGE: &str = "testing:panic";

/// Marks the list not ready when dropped: on any exit of the task that holds it, a panic's
/// unwinding included.
struct NotReadyOnExit(Arc<Denylist>);

impl Drop for NotReadyOnExit {
    fn drop(&mut self) {
        self.0.set_ready(false);
        if std::thread::panicking() {
            eprintln!("authbench serve: jwt-pubsub's subscriber task panicked: answering 503 from now on");
        }
    }
}

/// `task` with a guard that marks `list` not ready however it ends (returns or panics).
pub async fn watched(list: Arc<Denylist>, task: impl Future<Output = ()>) {
    let _guard = NotReadyOnExit(list);
    task.await;
}

/// Start the task and wait (up to `wait`) until the list is first complete: a server accepts
/// requests only after it has loaded the stored revocations.
pub async fn start(sub: Subscriber, wait: Duration) -> Result<()> {
    let list = sub.list.clone();
    tokio::spawn(watched(list.clone(), sub.run()));
    let deadline = tokio::time::Instant::now() + wait;
    while !list.is_ready() {
        if tokio::time::Instant::now() > deadline {
            return Err(Error::StoreUnavailable);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_panics_or_returns_leaves_the_list_not_ready() {
        for panics in [true, false] {
            let list = Arc::new(Denylist::new());
            let l = list.clone();
            let task = tokio::spawn(watched(list.clone(), async move {
                l.set_ready(true);
                if panics {
                    panic!("boom");
                }
            }));
            assert_eq!(task.await.is_err(), panics);
            assert!(!list.is_ready(), "ready after the task ended (panicked: {panics})");
        }
    }
}
