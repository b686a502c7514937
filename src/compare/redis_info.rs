//! Redis's own view of its work: INFO sections read over a separate connection.

use std::collections::HashMap;

use anyhow::{Context, Result};

/// A connection used only to read INFO (never to write keys).
pub struct RedisInfo {
    conn: redis::aio::MultiplexedConnection,
}

impl RedisInfo {
    pub async fn connect(url: &str) -> Result<RedisInfo> {
        let client = redis::Client::open(url).context("Redis URL")?;
        let conn = client.get_multiplexed_async_connection().await.context("connect to Redis for INFO")?;
        Ok(RedisInfo { conn })
    }

    async fn section(&self, name: &str) -> Result<String> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("INFO").arg(name).query_async(&mut conn).await?)
    }

    /// Calls per command (lower-case name), from `INFO commandstats`.
    pub async fn commandstats(&self) -> Result<HashMap<String, u64>> {
        let text = self.section("commandstats").await?;
        Ok(parse_commandstats(&text))
    }

    /// `used_memory` in bytes.
    pub async fn used_memory(&self) -> Result<u64> {
        let text = self.section("memory").await?;
        field(&text, "used_memory").context("no used_memory in INFO memory")
    }

    /// `redis_version`.
    pub async fn version(&self) -> Result<String> {
        let text = self.section("server").await?;
        text.lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .map(|v| v.trim().to_owned())
            .context("no redis_version in INFO server")
    }

    /// Keys in the current database.
    pub async fn dbsize(&self) -> Result<u64> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("DBSIZE").query_async(&mut conn).await?)
    }

    /// `MEMORY USAGE key`.
    pub async fn memory_usage(&self, key: &str) -> Result<Option<u64>> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("MEMORY").arg("USAGE").arg(key).arg("SAMPLES").arg(0).query_async(&mut conn).await?)
    }
}

fn field(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
}

fn parse_commandstats(text: &str) -> HashMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse().ok()?;
            Some((name.to_ascii_lowercase(), calls))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commandstats_and_fields() {
        let text = "# Commandstats\r\ncmdstat_getex:calls=200,usec=300,usec_per_call=1.5\r\ncmdstat_info:calls=2,usec=9\r\n";
        let m = parse_commandstats(text);
        assert_eq!(m["getex"], 200);
        assert_eq!(m["info"], 2);
        assert_eq!(field("used_memory:1024\r\nused_memory_human:1K\r\n", "used_memory"), Some(1024));
    }
}
