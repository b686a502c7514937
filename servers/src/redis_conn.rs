//! A bounded, reconnecting Redis connection for one Redis (the session store's, and the JWT
//! variants'): the connection settings; and [`redact_url`], a store URL fit for an error message.
//! The store bound itself is [`crate::store_bound`].

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::{Error, Result};

/// Connect with a multiplexed, reconnecting connection. Calls are bounded by the store bound
/// (`response_timeout`, the server's `--store-timeout`: [`crate::store_bound`]); redis-rs's own
/// response timeout is set past it, so that it never cuts the bound's late turns short.
pub async fn connect(url: &str, response_timeout: Duration) -> Result<ConnectionManager> {
    let client =
        redis::Client::open(url).map_err(|source| Error::RedisConnect { url: redact_url(url), source })?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(300)))
        .set_response_timeout(Some(crate::store_bound::client_timeout(response_timeout)))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(10))
        .set_max_delay(Duration::from_millis(100));
    ConnectionManager::new_with_config(client, config)
        .await
        .map_err(|source| Error::RedisConnect { url: redact_url(url), source })
}

/// A Redis URL fit for an error message or a log line (credentials replaced by `***`): one
/// function for every crate, in `authbench_util`.
pub use authbench_util::redact::redact_url;
