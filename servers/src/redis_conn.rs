//! A bounded, reconnecting Redis connection for one Redis (the session store's, and the JWT
//! variants'): the connection settings and the store timeout, its I/O on the store's own thread
//! ([`crate::store_io`]); and [`redact_url`], a store URL fit for an error message.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::{Error, Result};

/// Connect with a multiplexed, reconnecting connection; a reply later than `response_timeout`
/// fails the call (the server's `--store-timeout`, as for the session scheme).
pub async fn connect(url: &str, response_timeout: Duration) -> Result<ConnectionManager> {
    let client =
        redis::Client::open(url).map_err(|source| Error::RedisConnect { url: redact_url(url), source })?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(300)))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(10))
        .set_max_delay(Duration::from_millis(100));
    // Made on the store's I/O thread, where its driver then reads Redis's replies.
    crate::store_io::spawn(ConnectionManager::new_with_config(client, config))
        .await
        .map_err(|source| Error::RedisConnect { url: redact_url(url), source })
}

/// Run one store call under `timeout`; any failure is "store unavailable" (503).
pub async fn bounded<T>(timeout: Duration, fut: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) | Err(_) => Err(Error::StoreUnavailable),
    }
}

/// A Redis URL fit for an error message or a log line (credentials replaced by `***`): one
/// function for every crate, in `authbench_util`.
pub use authbench_util::redact::redact_url;
