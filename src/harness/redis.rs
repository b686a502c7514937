//! Redis as the harness uses it: the private `redis-server` process (started and owned by
//! `authbench_procs::redis_server`, re-exported here), Redis's own view of its work (INFO
//! sections read over a separate connection), and deleting a run's keys by prefix.

use std::collections::HashMap;

use anyhow::{Context, Result};
pub use authbench_procs::redis_server::RedisServer;
use authbench_procs::redis_server::parse_commandstats;

/// How long the harness waits for one answer from Redis. redis-rs 1.x gives every connection a
/// 500 ms response timeout by default; the harness's own commands (`DEBUG HTSTATS` walking a
/// million-key table, `SCAN`/`UNLINK` batches of 10k keys, a pipeline of 1,000 `MEMORY USAGE`)
/// can take longer than that on a loaded machine, and a timeout there aborted a whole sweep.
/// They are not on any measured path, so a generous bound costs nothing.
pub const PROBE_RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A multiplexed connection for the harness's own reads and clean-up (not the servers' path),
/// with [`PROBE_RESPONSE_TIMEOUT`].
pub async fn probe_connection(url: &str) -> Result<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(url).context("Redis URL")?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
        .set_response_timeout(Some(PROBE_RESPONSE_TIMEOUT));
    client.get_multiplexed_async_connection_with_config(&config).await.context("connect to Redis")
}

/// A connection used only to read INFO (never to write keys).
pub struct RedisInfo {
    conn: redis::aio::MultiplexedConnection,
}

impl RedisInfo {
    pub async fn connect(url: &str) -> Result<RedisInfo> {
        let conn = probe_connection(url).await.context("connect to Redis for INFO")?;
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

    /// Cumulative (`calls`, `usec`) of `commands` (lower-case names), summed, from
    /// `INFO commandstats`: Redis's own time executing them.
    pub async fn command_time(&self, commands: &[&str]) -> Result<(u64, u64)> {
        let text = self.section("commandstats").await?;
        Ok(parse_command_time(&text, commands))
    }

    /// CPU, `used_memory` and key count, parsed as the load generator's sampler does.
    pub async fn sample(&self) -> Result<authbench_loadgen::RedisSample> {
        let mut conn = self.conn.clone();
        let text: String = redis::cmd("INFO").query_async(&mut conn).await?;
        authbench_loadgen::parse_info(&text).context("INFO lacks used_memory or CPU")
    }

    /// (`total_commands_processed`, `total_reads_processed`) from `INFO stats`: their change over a
    /// window is how many commands Redis found per read of a socket (the client's batching).
    pub async fn io(&self) -> Result<(u64, u64)> {
        let text = self.section("stats").await?;
        parse_io(&text).context("INFO stats lacks total_commands_processed or total_reads_processed")
    }

    /// `redis_version`.
    pub async fn version(&self) -> Result<String> {
        let text = self.section("server").await?;
        text.lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .map(|v| v.trim().to_owned())
            .context("no redis_version in INFO server")
    }
}

/// (`total_commands_processed`, `total_reads_processed`) in the text of `INFO stats`.
pub fn parse_io(text: &str) -> Option<(u64, u64)> {
    let field = |f: &str| text.lines().find_map(|l| l.trim().strip_prefix(f)?.parse::<u64>().ok());
    Some((field("total_commands_processed:")?, field("total_reads_processed:")?))
}

/// Commands per read between two [`RedisInfo::io`] readings; `None` without a read.
pub fn commands_per_read(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let reads = after.1.checked_sub(before.1).filter(|&r| r > 0)?;
    Some(after.0.saturating_sub(before.0) as f64 / reads as f64)
}

/// (`calls`, `usec`) of `commands` in the text of `INFO commandstats`, summed.
pub fn parse_command_time(text: &str, commands: &[&str]) -> (u64, u64) {
    let (mut calls, mut usec) = (0, 0);
    for line in text.lines() {
        let Some((name, rest)) = line.trim().strip_prefix("cmdstat_").and_then(|l| l.split_once(':')) else {
            continue;
        };
        if !commands.iter().any(|c| c.eq_ignore_ascii_case(name)) {
            continue;
        }
        let field = |f: &str| -> u64 {
            rest.split(',').find_map(|kv| kv.strip_prefix(f)).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        calls += field("calls=");
        usec += field("usec=");
    }
    (calls, usec)
}

/// Delete the keys under `prefix` (SCAN + UNLINK: never FLUSH, even on our own Redis).
pub async fn clear_prefix(url: &str, prefix: &str) -> Result<()> {
    clear_prefix_on(url, prefix, Node::Single).await
}

/// Keys matching the glob `pattern` on one node.
pub async fn count_matching(url: &str, pattern: &str) -> Result<u64> {
    let mut conn = probe_connection(url).await?;
    let (mut scan, mut n) = (Scan::new(pattern), 0u64);
    while let Some(keys) = scan.next(&mut conn).await? {
        n += keys.len() as u64;
    }
    Ok(n)
}

/// One `SCAN MATCH` pass over a node, a batch of keys at a time (never `KEYS`, which blocks Redis).
struct Scan {
    pattern: String,
    /// `None` once Redis has returned cursor 0: the pass is complete.
    cursor: Option<u64>,
}

impl Scan {
    fn new(pattern: &str) -> Scan {
        Scan { pattern: pattern.to_owned(), cursor: Some(0) }
    }

    /// The next batch (possibly empty), or `None` when the pass is over.
    async fn next(&mut self, conn: &mut redis::aio::MultiplexedConnection) -> Result<Option<Vec<String>>> {
        let Some(cursor) = self.cursor else { return Ok(None) };
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&self.pattern)
            .arg("COUNT")
            .arg(10_000)
            .query_async(conn)
            .await?;
        self.cursor = (next != 0).then_some(next);
        Ok(Some(keys))
    }
}

/// What kind of node [`clear_prefix_on`] deletes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// One Redis: a batch of keys goes in one `UNLINK`.
    Single,
    /// A Redis Cluster primary: a multi-key `UNLINK` across slots is refused (`CROSSSLOT`), so each
    /// key gets its own, pipelined (the keys `SCAN` lists are this node's).
    ClusterPrimary,
}

/// [`clear_prefix`] on one node of either kind.
pub async fn clear_prefix_on(url: &str, prefix: &str, node: Node) -> Result<()> {
    let mut conn = probe_connection(url).await?;
    let mut scan = Scan::new(&format!("{prefix}*"));
    while let Some(keys) = scan.next(&mut conn).await? {
        match node {
            _ if keys.is_empty() => {}
            Node::Single => {
                let _: () = redis::cmd("UNLINK").arg(&keys).query_async(&mut conn).await?;
            }
            Node::ClusterPrimary => {
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.cmd("UNLINK").arg(k).ignore();
                }
                let _: () = pipe.query_async(&mut conn).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_per_read_from_info_stats() {
        let text = "# Stats\r\ntotal_connections_received:3\r\ntotal_commands_processed:1200\r\ntotal_reads_processed:300\r\n";
        assert_eq!(parse_io(text), Some((1200, 300)));
        assert_eq!(parse_io("# Stats\r\ntotal_commands_processed:5\r\n"), None);
        assert_eq!(commands_per_read((1200, 300), (5200, 500)), Some(20.0));
        assert_eq!(commands_per_read((1200, 300), (1300, 300)), None);
    }

    #[test]
    fn parses_commandstats() {
        let text = "# Commandstats\r\ncmdstat_getex:calls=200,usec=300,usec_per_call=1.5\r\ncmdstat_info:calls=2,usec=9\r\n";
        let m = parse_commandstats(text);
        assert_eq!(m["getex"], 200);
        assert_eq!(m["info"], 2);
    }

    #[test]
    fn command_time_sums_the_named_commands() {
        let text = "# Commandstats\r\ncmdstat_get:calls=10,usec=25,usec_per_call=2.50\r\n\
                    cmdstat_pttl:calls=10,usec=5,usec_per_call=0.50\r\ncmdstat_info:calls=3,usec=90\r\n";
        assert_eq!(parse_command_time(text, &["get", "pttl"]), (20, 30));
        assert_eq!(parse_command_time(text, &["getex"]), (0, 0));
    }
}
