//! Where the session store lives — one Redis or a Redis Cluster — and the one connection type the
//! store uses for both.
//!
//! A single Redis goes through redis-rs's reconnecting `ConnectionManager`; a Cluster through
//! `cluster-async`'s `ClusterConnection`, which routes each command (and each pipeline, by its
//! first key) to the primary serving the slot, follows `MOVED`/`ASK`, and refreshes its slot map
//! after a failover by itself. Both are multiplexed and cheap to clone; every call on either is
//! bounded by the store bound ([`crate::store_bound`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::error::{Error, Result};
use crate::redis_conn::redact_url;

/// The session store's Redis: one server, or the seed nodes of a Cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTarget {
    Single(String),
    Cluster(Vec<String>),
}

impl StoreTarget {
    /// A Cluster from `URL[,URL…]` (any reachable node will do; more survive one being down).
    pub fn cluster_from_list(list: &str) -> Result<StoreTarget> {
        let urls: Vec<String> =
            list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if urls.is_empty() {
            return Err(Error::Config("--redis-cluster needs at least one URL".into()));
        }
        Ok(StoreTarget::Cluster(urls))
    }

    /// For messages: the URL(s), credentials redacted.
    pub fn redacted(&self) -> String {
        match self {
            StoreTarget::Single(url) => redact_url(url),
            StoreTarget::Cluster(urls) => urls.iter().map(|u| redact_url(u)).collect::<Vec<_>>().join(","),
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, StoreTarget::Cluster(_))
    }
}

/// A multiplexed connection to either kind of store.
#[derive(Clone)]
pub enum StoreConn {
    Single(ConnectionManager),
    Cluster(Arc<ClusterHandle>),
}

/// A Cluster connection that can be rebuilt. redis-rs's cluster client answers an I/O error on a
/// dead primary by reconnecting to that same address, and refreshes its slot map on `MOVED`; a
/// server that was idle while a primary died can keep trying the dead address. So after a failed
/// store call the store asks for a fresh connection ([`StoreConn::failed`]): built in the
/// background from the seed nodes (it reads the slot map anew), at most once a second, and
/// swapped in; requests in flight keep the old one.
pub struct ClusterHandle {
    client: ClusterClient,
    conn: RwLock<ClusterConnection>,
    rebuilding: AtomicBool,
    last_rebuild: Mutex<Instant>,
}

/// Least time between two rebuilds of a Cluster connection.
const REBUILD_INTERVAL: Duration = Duration::from_secs(1);

impl ClusterHandle {
    fn current(&self) -> ClusterConnection {
        self.conn.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl StoreConn {
    /// Connect with bounded timeouts: `response_timeout` per reply (300 ms on the request path,
    /// a minute for bulk preloading).
    pub async fn connect(target: &StoreTarget, response_timeout: Duration) -> Result<StoreConn> {
        let failed = |source| Error::RedisConnect { url: target.redacted(), source };
        match target {
            StoreTarget::Single(url) => {
                // The same multiplexed, bounded connection as every single-Redis store.
                Ok(StoreConn::Single(crate::redis_conn::connect(url, response_timeout).await?))
            }
            StoreTarget::Cluster(urls) => {
                // Retries are short and few: a request is bounded by the store timeout anyway, and
                // during a failover the client refreshes its slot map on the errors it gets.
                let client = ClusterClient::builder(urls.iter().map(String::as_str))
                    .connection_timeout(Duration::from_millis(300))
                    .response_timeout(crate::store_bound::client_timeout(response_timeout))
                    .retries(3)
                    .min_retry_wait(10)
                    .max_retry_wait(100)
                    .build()
                    .map_err(failed)?;
                let conn = client.get_async_connection().await.map_err(failed)?;
                Ok(StoreConn::Cluster(Arc::new(ClusterHandle {
                    client,
                    conn: RwLock::new(conn),
                    rebuilding: AtomicBool::new(false),
                    last_rebuild: Mutex::new(Instant::now()),
                })))
            }
        }
    }
}

impl StoreConn {
    /// A store call failed: on a Cluster, rebuild the connection in the background (rate-limited).
    /// A single Redis's `ConnectionManager` reconnects by itself.
    pub fn failed(&self) {
        let StoreConn::Cluster(handle) = self else { return };
        {
            let mut last = handle.last_rebuild.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() < REBUILD_INTERVAL || handle.rebuilding.swap(true, Ordering::AcqRel) {
                return;
            }
            *last = Instant::now();
        }
        let handle = handle.clone();
        tokio::spawn(async move {
            let fresh = handle.client.get_async_connection();
            if let Ok(Ok(fresh)) = tokio::time::timeout(Duration::from_secs(5), fresh).await {
                *handle.conn.write().unwrap_or_else(|e| e.into_inner()) = fresh;
            }
            handle.rebuilding.store(false, Ordering::Release);
        });
    }
}

impl ConnectionLike for StoreConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            StoreConn::Single(c) => c.req_packed_command(cmd),
            StoreConn::Cluster(h) => {
                let mut conn = h.current();
                Box::pin(async move { conn.req_packed_command(cmd).await })
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            StoreConn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            StoreConn::Cluster(h) => {
                let mut conn = h.current();
                Box::pin(async move { conn.req_packed_commands(pipeline, offset, count).await })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            StoreConn::Single(c) => c.get_db(),
            StoreConn::Cluster(h) => h.current().get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_lists_split_on_commas() {
        assert_eq!(
            StoreTarget::cluster_from_list("redis://a:1, redis://b:2,").unwrap(),
            StoreTarget::Cluster(vec!["redis://a:1".into(), "redis://b:2".into()])
        );
        assert!(StoreTarget::cluster_from_list(" , ").is_err());
        assert_eq!(
            StoreTarget::cluster_from_list("redis://:pw@a:1,redis://b:2").unwrap().redacted(),
            "redis://***@a:1,redis://b:2"
        );
    }
}
