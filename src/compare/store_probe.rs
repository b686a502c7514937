//! What the session sweep reads from Redis around each level, over its own connections (reads
//! only: it never writes a key, resets statistics or flushes). On a Redis Cluster every reading
//! is taken on each primary and summed (memory, keys, command statistics, hits), "at rest" means
//! every primary is, and a key's `MEMORY USAGE` goes to the primary serving its slot:
//!
//! - **at rest**: wait until no dictionary is being rehashed, so `used_memory` is not read in the
//!   middle of a resize (a resize doubles a table's bucket array; read mid-way, one level carries
//!   both arrays and bends the slope). On Redis 7.0 the reliable signal is `DEBUG HTSTATS 0`:
//!   while a dictionary (keys or expires) rehashes it lists a second table, "rehashing target".
//!   `DEBUG` is enabled for loopback clients on the private redis-server compare starts
//!   (`--enable-debug-command local`). Where `DEBUG` is refused (an external `--redis-url`) the
//!   fallback is weaker and says so: `used_memory` unchanged over 1 s of polling. (Memory alone is
//!   not proof: during a rehash both tables are allocated and `used_memory` stays flat until the
//!   old one is freed, which is why `DEBUG HTSTATS` is preferred.)
//! - **command statistics**: `calls` and `usec` of one command from `INFO commandstats`; the
//!   sweep takes them before and after a level and divides the deltas (Redis's own
//!   `usec_per_call` is a running average since start, not the level's).
//! - **keyspace hits**: `keyspace_hits` from `INFO stats`, for the same before/after delta; and
//!   `tracking_total_keys`, the size of Redis's table of keys tracked for client-side caches.
//! - **memory of sampled keys**: mean `MEMORY USAGE` of a list of keys (the session records and
//!   the per-user indexes, sampled apart).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use authbench_servers::direct::StoreConn;
use redis::aio::MultiplexedConnection;

use super::state_store::Store;

/// How "at rest" was established before memory was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestSignal {
    /// `DEBUG HTSTATS 0` listed no rehashing target.
    NoRehashing,
    /// `DEBUG` refused: `used_memory` unchanged for a second.
    MemoryStable,
    /// Neither within the time limit; memory read anyway.
    TimedOut,
}

impl RestSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            RestSignal::NoRehashing => "debug htstats: no rehashing",
            RestSignal::MemoryStable => "used_memory stable for 1 s (DEBUG unavailable)",
            RestSignal::TimedOut => "timed out waiting for rehashing to finish",
        }
    }
}

/// Cumulative `calls` and `usec` of one command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandStat {
    pub calls: u64,
    pub usec: u64,
}

impl CommandStat {
    /// Microseconds per call between two readings; `None` without calls in between.
    pub fn usec_per_call_since(self, before: CommandStat) -> Option<f64> {
        let calls = self.calls.checked_sub(before.calls)?;
        (calls > 0).then(|| self.usec.saturating_sub(before.usec) as f64 / calls as f64)
    }
}

/// Read-only connections to the store the sweep measures: one per data-holding node, and one
/// that routes a key to its node.
pub struct StoreProbe {
    primaries: Vec<MultiplexedConnection>,
    keyed: StoreConn,
    cluster: bool,
}

impl StoreProbe {
    pub async fn connect(store: &Store) -> Result<StoreProbe> {
        let mut primaries = Vec::new();
        for url in store.primary_urls() {
            primaries.push(crate::harness::redis::probe_connection(url).await?);
        }
        let keyed = StoreConn::connect(&store.target, crate::harness::redis::PROBE_RESPONSE_TIMEOUT)
            .await
            .context("connect to the store for MEMORY USAGE")?;
        Ok(StoreProbe { primaries, keyed, cluster: store.is_cluster() })
    }

    /// `INFO section` of each data-holding node.
    async fn infos(&self, section: &str) -> Result<Vec<String>> {
        let mut texts = Vec::with_capacity(self.primaries.len());
        for conn in &self.primaries {
            let mut conn = conn.clone();
            texts.push(redis::cmd("INFO").arg(section).query_async(&mut conn).await?);
        }
        Ok(texts)
    }

    /// Wait (polling every 50 ms, at most `limit`) until no dictionary is rehashing on any node.
    pub async fn wait_at_rest(&self, limit: Duration) -> Result<(RestSignal, Duration)> {
        let started = Instant::now();
        let mut signal = RestSignal::NoRehashing;
        for conn in &self.primaries {
            let left = limit.saturating_sub(started.elapsed());
            let (s, _) = node_at_rest(conn, left, self.stable_within()).await?;
            // The weakest signal of any node is the store's.
            signal = match (signal, s) {
                (_, RestSignal::TimedOut) | (RestSignal::TimedOut, _) => RestSignal::TimedOut,
                (_, RestSignal::MemoryStable) | (RestSignal::MemoryStable, _) => RestSignal::MemoryStable,
                _ => RestSignal::NoRehashing,
            };
        }
        Ok((signal, started.elapsed()))
    }

    /// How much `used_memory` may move and still count as stable where `DEBUG` is refused: exactly
    /// unchanged on one Redis; an idle cluster node's `used_memory` moves by a few KiB (its bus and
    /// client buffers), so an existing cluster polled for "unchanged" never came to rest in 30 s.
    fn stable_within(&self) -> u64 {
        if self.cluster { CLUSTER_MEMORY_JITTER } else { 0 }
    }

    /// CPU, `used_memory` and key count, parsed as the load generator's sampler does, summed over
    /// the data-holding nodes.
    pub async fn sample(&self) -> Result<authbench_loadgen::RedisSample> {
        let mut sum: Option<authbench_loadgen::RedisSample> = None;
        for text in self.infos("default").await? {
            let s = authbench_loadgen::parse_info(&text).context("INFO lacks used_memory or CPU")?;
            sum = Some(match sum {
                None => s,
                Some(a) => authbench_loadgen::RedisSample {
                    cpu: a.cpu + s.cpu,
                    used_memory: a.used_memory + s.used_memory,
                    keys: a.keys + s.keys,
                },
            });
        }
        sum.context("no Redis node to read")
    }

    /// `calls` and `usec` of `command` (lower case, e.g. `getex`), summed; zero if never called.
    pub async fn command_stat(&self, command: &str) -> Result<CommandStat> {
        self.command_stats(&[command]).await
    }

    /// [`Self::command_stat`] summed over several commands.
    pub async fn command_stats(&self, commands: &[&str]) -> Result<CommandStat> {
        let mut sum = CommandStat::default();
        for text in self.infos("commandstats").await? {
            for command in commands {
                let s = parse_command_stat(&text, command);
                sum.calls += s.calls;
                sum.usec += s.usec;
            }
        }
        Ok(sum)
    }

    /// `keyspace_hits` (cumulative), summed.
    pub async fn keyspace_hits(&self) -> Result<u64> {
        self.stats_field("keyspace_hits").await
    }

    /// `tracking_total_keys`: keys in Redis's tracking table (keys some `CLIENT TRACKING`
    /// connection read and nobody has written since: Redis memory a tracked cache costs), summed.
    pub async fn tracking_keys(&self) -> Result<u64> {
        self.stats_field("tracking_total_keys").await
    }

    /// A numeric field of `INFO stats`, summed over the nodes.
    async fn stats_field(&self, field: &str) -> Result<u64> {
        let mut sum = 0;
        for text in self.infos("stats").await? {
            sum += text
                .lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .with_context(|| format!("no {field} in INFO stats"))?;
        }
        Ok(sum)
    }

    /// Mean `MEMORY USAGE` (bytes, exact: `SAMPLES 0`) over `keys`; keys that do not exist are
    /// skipped. `None` when none exists. One pipeline on one Redis; on a cluster one command per
    /// key, concurrently (a pipeline goes to its first key's node only).
    pub async fn mean_memory_usage(&self, keys: &[String]) -> Result<Option<f64>> {
        if keys.is_empty() {
            return Ok(None);
        }
        let usage = |k: &String| {
            let mut cmd = redis::cmd("MEMORY");
            cmd.arg("USAGE").arg(k).arg("SAMPLES").arg(0);
            cmd
        };
        let sizes: Vec<Option<u64>> = if self.cluster {
            let reads = keys.iter().map(|k| {
                let mut conn = self.keyed.clone();
                let cmd = usage(k);
                async move { cmd.query_async::<Option<u64>>(&mut conn).await }
            });
            futures::future::join_all(reads)
                .await
                .into_iter()
                .collect::<Result<_, _>>()
                .context("MEMORY USAGE")?
        } else {
            let mut pipe = redis::pipe();
            for k in keys {
                pipe.add_command(usage(k));
            }
            let mut conn = self.keyed.clone();
            pipe.query_async(&mut conn).await.context("MEMORY USAGE")?
        };
        let found: Vec<u64> = sizes.into_iter().flatten().collect();
        Ok((!found.is_empty()).then(|| found.iter().sum::<u64>() as f64 / found.len() as f64))
    }
}

/// `used_memory` a cluster node's bus moves by while idle, tolerated by the stability fallback.
const CLUSTER_MEMORY_JITTER: u64 = 16 * 1024;

/// [`StoreProbe::wait_at_rest`] on one node; `within`: bytes `used_memory` may move and count as
/// stable.
pub async fn node_at_rest(
    conn: &MultiplexedConnection,
    limit: Duration,
    within: u64,
) -> Result<(RestSignal, Duration)> {
    let started = Instant::now();
    let mut stable_since: Option<(u64, Instant)> = None;
    loop {
        let mut conn = conn.clone();
        let stats: redis::RedisResult<String> =
            redis::cmd("DEBUG").arg("HTSTATS").arg(0).query_async(&mut conn).await;
        match stats {
            Ok(text) if !rehashing(&text) => return Ok((RestSignal::NoRehashing, started.elapsed())),
            Ok(_) => {}
            Err(_) => {
                let info: String = redis::cmd("INFO").arg("memory").query_async(&mut conn).await?;
                let used = used_memory(&info).context("INFO memory")?;
                match stable_since {
                    Some((m, since)) if m.abs_diff(used) <= within => {
                        if since.elapsed() >= Duration::from_secs(1) {
                            return Ok((RestSignal::MemoryStable, started.elapsed()));
                        }
                    }
                    _ => stable_since = Some((used, Instant::now())),
                }
            }
        }
        if started.elapsed() >= limit {
            return Ok((RestSignal::TimedOut, started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The main dictionary's size in buckets (`table size` of `DEBUG HTSTATS 0`'s first table: the
/// one being rehashed away from while a resize is under way), `None` when `DEBUG` gave no table.
pub fn table_buckets(htstats: &str) -> Option<u64> {
    let main = htstats.split("[Expires HT]").next()?;
    main.lines().find_map(|l| l.trim().strip_prefix("table size:")).and_then(|v| v.trim().parse().ok())
}

/// `DEBUG HTSTATS 0` of one node, if `DEBUG` is allowed.
pub async fn htstats(conn: &MultiplexedConnection) -> Option<String> {
    let mut conn = conn.clone();
    redis::cmd("DEBUG").arg("HTSTATS").arg(0).query_async(&mut conn).await.ok()
}

/// Whether `DEBUG HTSTATS` output shows a dictionary being rehashed.
fn rehashing(htstats: &str) -> bool {
    htstats.contains("rehashing target")
}

fn used_memory(info: &str) -> Option<u64> {
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok())
}

fn parse_command_stat(text: &str, command: &str) -> CommandStat {
    let wanted = format!("cmdstat_{command}:");
    let Some(rest) = text.lines().find_map(|l| l.strip_prefix(wanted.as_str())) else {
        return CommandStat::default();
    };
    let field = |name: &str| -> u64 {
        rest.split(',').find_map(|kv| kv.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    };
    CommandStat { calls: field("calls="), usec: field("usec=") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_tables_bucket_count_from_htstats() {
        let text = "[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 16777216\n number of elements: 9999\n\
                    [Expires HT]\nHash table 0 stats (main hash table):\n table size: 8388608\n";
        assert_eq!(table_buckets(text), Some(16_777_216));
        assert_eq!(table_buckets("[Dictionary HT]\nNo stats available for empty dictionaries\n"), None);
    }

    #[test]
    fn command_stat_deltas() {
        let before = parse_command_stat(
            "# Commandstats\r\ncmdstat_getex:calls=200,usec=300,usec_per_call=1.50,rejected_calls=0\r\n",
            "getex",
        );
        assert_eq!(before, CommandStat { calls: 200, usec: 300 });
        let after = CommandStat { calls: 1200, usec: 2300 };
        assert_eq!(after.usec_per_call_since(before), Some(2.0));
        assert_eq!(before.usec_per_call_since(before), None);
        assert_eq!(parse_command_stat("cmdstat_get:calls=5,usec=9", "getex"), CommandStat::default());
    }

    #[test]
    fn rehashing_is_read_from_htstats() {
        let idle = "[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 4\n[Expires HT]\n";
        let busy = "[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 4\nHash table 1 stats (rehashing target):\n table size: 8\n";
        assert!(!rehashing(idle));
        assert!(rehashing(busy));
        assert_eq!(used_memory("# Memory\r\nused_memory:1234\r\nused_memory_human:1K\r\n"), Some(1234));
    }
}
