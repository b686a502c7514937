//! A bounded, reconnecting Redis connection for the schemes that keep state beside a JWT
//! (`jwt-revocable`): the same connection settings and store timeout as the session scheme; and
//! [`redact_url`], a store URL fit for an error message.

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
    ConnectionManager::new_with_config(client, config)
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

/// A Redis URL fit for an error message or a log line: the credentials in it — everything between
/// `://` and the last `@` (`user:password@`), and a `pass=`/`password=` query parameter
/// (`redis+unix:///sock?pass=...`) — are replaced by `***`. Unparseable input is redacted the same way.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let mut out = match rest.rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_owned(),
    };
    for key in ["pass=", "password="] {
        let mut from = 0;
        while let Some(i) = out[from..].find(key) {
            let start = from + i + key.len();
            let end = out[start..].find('&').map_or(out.len(), |j| start + j);
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_urls_keep_no_credentials() {
        assert_eq!(redact_url("redis://127.0.0.1:6379/"), "redis://127.0.0.1:6379/");
        assert_eq!(redact_url("redis://:hunter2@127.0.0.1:6379/0"), "redis://***@127.0.0.1:6379/0");
        assert_eq!(redact_url("rediss://alice:hun@ter2@host/"), "rediss://***@host/");
        assert_eq!(redact_url("redis://:pa/ss@host/"), "redis://***@host/");
        assert_eq!(redact_url("hunter2@host"), "***@host");
        assert_eq!(
            redact_url("redis+unix:///tmp/r.sock?db=1&pass=hunter2"),
            "redis+unix:///tmp/r.sock?db=1&pass=***"
        );
        assert_eq!(
            redact_url("redis+unix:///s?password=a&pass=b&x=1"),
            "redis+unix:///s?password=***&pass=***&x=1"
        );
    }
}
