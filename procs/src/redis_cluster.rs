//! A private Redis Cluster: 3 primaries and 3 replicas of `redis-server` on free loopback ports,
//! made into a cluster by `redis-cli --cluster create`, stopped on drop.
//!
//! Each node is a [`RedisServer`] child (persistence off, dies with authbench) started with
//! `cluster-enabled yes` and a short `cluster-node-timeout`, on a port whose bus port (+10000) is
//! free too; all share one generated password (`requirepass`, and `masterauth` for replication),
//! which `redis-cli --cluster create` gets in its environment and every URL carries. [`RedisCluster::start`] returns once every node reports `cluster_state:ok`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::redis_server::RedisServer;
use crate::slot::key_slot;

/// `cluster-node-timeout` of a private cluster: how long a primary may be unreachable before its
/// replica is promoted. Short, so a failover test is quick; long enough not to flap on a busy box.
pub const NODE_TIMEOUT: Duration = Duration::from_millis(1500);

/// A running Redis Cluster owned by this process.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    /// Every node's `requirepass` and `masterauth`.
    password: String,
    node_timeout: Duration,
    /// Ports of nodes killed on purpose (fault cases): not waited for, not queried.
    killed: Vec<u16>,
}

/// One node's role as `CLUSTER NODES` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRole {
    pub port: u16,
    pub primary: bool,
    /// For a replica, the port of its primary.
    pub primary_port: Option<u16>,
    pub failed: bool,
    /// Slot ranges served (primaries), inclusive.
    pub slots: Vec<(u16, u16)>,
}

/// The `redis-cli` binary: `$AUTHBENCH_REDIS_CLI`, else beside redis-server, else on `PATH`.
pub fn find_cli() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AUTHBENCH_REDIS_CLI") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let beside = crate::redis_server::find_binary().and_then(|b| Some(b.parent()?.join("redis-cli")));
    let path = std::env::var_os("PATH").unwrap_or_default();
    beside
        .into_iter()
        .chain(std::env::split_paths(&path).map(|d| d.join("redis-cli")))
        .chain([PathBuf::from("/usr/bin/redis-cli")])
        .find(|p| p.is_file())
}

/// A short-lived probe connection to the node on `port`.
fn connect(password: &str, port: u16) -> Result<redis::Connection> {
    let client = redis::Client::open(crate::redis_server::url(port, password))
        .map_err(|e| Error::RedisServerStart(authbench_util::redact::redact_url(&e.to_string())))?;
    let conn = client
        .get_connection_with_timeout(Duration::from_millis(500))
        .map_err(|e| Error::RedisServerStart(e.to_string()))?;
    // A paused node (SIGSTOP in a fault case) must not hang the probe.
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    Ok(conn)
}

fn query(password: &str, port: u16, cmd: &redis::Cmd) -> Result<redis::Value> {
    cmd.query(&mut connect(password, port)?).map_err(|e| Error::RedisServerStart(e.to_string()))
}

fn pipe_query<T: redis::FromRedisValue>(password: &str, port: u16, pipe: &redis::Pipeline) -> Result<T> {
    pipe.query(&mut connect(password, port)?).map_err(|e| Error::RedisServerStart(e.to_string()))
}

fn text(v: redis::Value) -> String {
    redis::from_redis_value::<String>(v).unwrap_or_default()
}

impl RedisCluster {
    /// Start 3 primaries + 3 replicas with [`NODE_TIMEOUT`] and wait for `cluster_state:ok`.
    pub fn start() -> Result<RedisCluster> {
        Self::start_with(3, 1, NODE_TIMEOUT)
    }

    /// Start `primaries` primaries with `replicas` replicas each.
    pub fn start_with(primaries: usize, replicas: usize, node_timeout: Duration) -> Result<RedisCluster> {
        let cli = find_cli().ok_or(Error::RedisServerMissing)?;
        let n = primaries * (1 + replicas);
        let password = crate::redis_server::new_password();
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            nodes.push(RedisServer::start_cluster_node(node_timeout, &password)?);
        }
        let cluster = RedisCluster { nodes, node_timeout, killed: Vec::new(), password };
        // The password in redis-cli's environment (REDISCLI_AUTH, as `-a` would give it), not on
        // its command line where any local user could read it.
        let output = Command::new(&cli)
            .env("REDISCLI_AUTH", &cluster.password)
            .arg("--cluster")
            .arg("create")
            .args(cluster.nodes.iter().map(|s| format!("127.0.0.1:{}", s.port())))
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::RedisServerStart(format!("{}: {e}", cli.display())))?;
        if !output.status.success() {
            return Err(Error::RedisServerStart(format!(
                "redis-cli --cluster create: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        cluster.wait_ok(Duration::from_secs(20))?;
        cluster.wait_replicas_synced(Duration::from_secs(20))?;
        Ok(cluster)
    }

    /// Nodes not killed on purpose.
    fn live(&self) -> impl Iterator<Item = &RedisServer> {
        self.nodes.iter().filter(|n| !self.killed.contains(&n.port()))
    }

    /// Wait until every live node says `cluster_state:ok` and all slots are served by live
    /// primaries (after a failover: the replica has been promoted).
    pub fn wait_ok(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let served = self.roles().is_ok_and(|roles| {
                // Gossip has settled: no live primary without slots (a node made a replica by
                // `--cluster create` is listed as a primary until the news reaches this node).
                let settled = roles
                    .iter()
                    .filter(|r| !r.failed && !self.killed.contains(&r.port))
                    .all(|r| !r.primary || !r.slots.is_empty());
                settled
                    && roles
                        .iter()
                        .filter(|r| r.primary && !r.failed && !self.killed.contains(&r.port))
                        .map(|r| r.slots.iter().map(|&(a, b)| u32::from(b) - u32::from(a) + 1).sum::<u32>())
                        .sum::<u32>()
                        == 16384
            });
            let ok = served
                && self.live().all(|node| {
                    query(&self.password, node.port(), redis::cmd("CLUSTER").arg("INFO")).map(text).is_ok_and(
                        |info| {
                            info.contains("cluster_state:ok") && info.contains("cluster_slots_assigned:16384")
                        },
                    )
                });
            if ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::RedisServerStart(format!("cluster not ok within {limit:?}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until every replica has finished its first sync: each node listed as a replica has
    /// its link up with no sync in progress, and each primary serving slots counts all of its
    /// replicas as `state=online`, so that a `WAIT 1` can be answered at once.
    pub fn wait_replicas_synced(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if self.replicas_synced() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::RedisServerStart(format!("replicas not in sync within {limit:?}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn replicas_synced(&self) -> bool {
        let Ok(roles) = self.roles() else { return false };
        let live = |port: u16| !self.killed.contains(&port);
        let info = |port: u16| query(&self.password, port, redis::cmd("INFO").arg("replication")).map(text);
        let replicas: Vec<&NodeRole> =
            roles.iter().filter(|r| !r.primary && !r.failed && live(r.port)).collect();
        let replicas_up = replicas.iter().all(|r| {
            info(r.port)
                .is_ok_and(|i| i.contains("master_link_status:up") && i.contains("master_sync_in_progress:0"))
        });
        let primaries_see_them =
            roles.iter().filter(|r| r.primary && !r.slots.is_empty() && live(r.port)).all(|p| {
                let expected = replicas.iter().filter(|r| r.primary_port == Some(p.port)).count();
                info(p.port).is_ok_and(|i| i.matches("state=online").count() >= expected)
            });
        replicas_up && primaries_see_them && self.writes_acknowledged(&roles, &replicas)
    }

    /// The check that matters to `--durable-logout`: a write on each primary is acknowledged by
    /// all its replicas (`WAIT n 100` right after it). A replica reported online can still take
    /// a few hundred milliseconds after its first sync before it answers `WAIT`.
    fn writes_acknowledged(&self, roles: &[NodeRole], replicas: &[&NodeRole]) -> bool {
        roles.iter().filter(|r| r.primary && !r.failed && !self.killed.contains(&r.port)).all(|p| {
            let Some(&(first, _)) = p.slots.first() else { return true };
            let expected = replicas.iter().filter(|r| r.primary_port == Some(p.port)).count();
            // A key in the primary's first slot: its own, so no redirect.
            let Some(key) =
                (0u32..).map(|i| format!("authbench:ready:{i}")).take(100_000).find(|k| key_slot(k) == first)
            else {
                return false;
            };
            let mut pipe = redis::pipe();
            pipe.cmd("SET").arg(&key).arg(1).arg("PX").arg(1000).ignore();
            pipe.cmd("WAIT").arg(expected).arg(100);
            pipe_query(&self.password, p.port, &pipe)
                .is_ok_and(|v: Vec<i64>| v.first().is_some_and(|&n| n >= expected as i64))
        })
    }

    /// Seed URLs of every node, for `--redis-cluster`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// `--redis-cluster`'s value: every node's URL, comma-separated.
    pub fn url_list(&self) -> String {
        self.urls().join(",")
    }

    pub fn node_timeout(&self) -> Duration {
        self.node_timeout
    }

    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    pub fn nodes_mut(&mut self) -> &mut [RedisServer] {
        &mut self.nodes
    }

    /// The node on `port`.
    pub fn node(&self, port: u16) -> Option<&RedisServer> {
        self.nodes.iter().find(|n| n.port() == port)
    }

    pub fn node_mut(&mut self, port: u16) -> Option<&mut RedisServer> {
        self.nodes.iter_mut().find(|n| n.port() == port)
    }

    /// SIGKILL the node on `port` (a crash: no goodbye to the cluster).
    pub fn kill_node(&mut self, port: u16) {
        if let Some(node) = self.node_mut(port) {
            node.kill();
        }
        self.killed.push(port);
    }

    /// SIGSTOP (`true`) or SIGCONT (`false`) the node on `port`.
    pub fn pause_node(&self, port: u16, pause: bool) -> Result<()> {
        let node = self.node(port).ok_or_else(|| Error::Config(format!("no cluster node on port {port}")))?;
        node.signal(if pause { crate::child::Signal::STOP } else { crate::child::Signal::CONT })?;
        Ok(())
    }

    /// The first half of the lost-delete case: SIGSTOP `primary`'s replica and have the primary
    /// close the replication link, so that writes from now on stay in the primary's own backlog
    /// (not even in a socket buffer the replica could read on resuming). Returns the replica.
    ///
    /// Everything written before the call reaches the replica first: replication is
    /// asynchronous, and a write made just before the cut (a session logged in a moment ago)
    /// would otherwise be lost with the primary at random.
    pub fn cut_off_replica(&self, primary: u16) -> Result<u16> {
        let replica = self.replica_of(primary)?;
        self.wait_caught_up(primary, replica, Duration::from_secs(10))?;
        self.pause_node(replica, true)?;
        query(&self.password, primary, redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("replica"))?;
        Ok(replica)
    }

    /// Wait until `replica` has applied every write `primary` had made when called (its
    /// `slave_repl_offset` reaches the primary's `master_repl_offset`).
    pub fn wait_caught_up(&self, primary: u16, replica: u16, limit: Duration) -> Result<()> {
        let offset = |port: u16, field: &str| -> Result<i64> {
            let info = text(query(&self.password, port, redis::cmd("INFO").arg("replication"))?);
            info.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().parse().ok())
                .ok_or_else(|| Error::Config(format!("node {port}: no {field} in INFO replication")))
        };
        let target = offset(primary, "master_repl_offset")?;
        let deadline = Instant::now() + limit;
        while offset(replica, "slave_repl_offset").unwrap_or(-1) < target {
            if Instant::now() > deadline {
                return Err(Error::RedisServerStart(format!(
                    "replica {replica} did not catch up with {primary} within {limit:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The second half: SIGKILL `primary`, SIGCONT `replica`, wait until it is promoted and the
    /// cluster is ok. Returns how long that took after SIGCONT.
    pub fn fail_over(&mut self, primary: u16, replica: u16) -> Result<Duration> {
        self.kill_node(primary);
        self.pause_node(replica, false)?;
        let resumed = Instant::now();
        self.wait_ok(Duration::from_secs(30))?;
        Ok(resumed.elapsed())
    }

    /// Run one command on the node on `port` (a test's or the harness's probe).
    pub fn query(&self, port: u16, cmd: &redis::Cmd) -> Result<redis::Value> {
        query(&self.password, port, cmd)
    }

    /// Ports of the live primaries.
    pub fn live_primaries(&self) -> Result<Vec<u16>> {
        Ok(self
            .roles()?
            .into_iter()
            .filter(|r| r.primary && !r.failed && !self.killed.contains(&r.port))
            .map(|r| r.port)
            .collect())
    }

    /// Roles as seen by the first live node that answers `CLUSTER NODES`.
    pub fn roles(&self) -> Result<Vec<NodeRole>> {
        let mut last = Error::RedisServerStart("no node answered CLUSTER NODES".into());
        for node in self.live() {
            match query(&self.password, node.port(), redis::cmd("CLUSTER").arg("NODES")).map(text) {
                Ok(listing) => return Ok(parse_nodes(&listing)),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The port of the live primary serving `slot`.
    pub fn primary_of_slot(&self, slot: u16) -> Result<u16> {
        self.roles()?
            .into_iter()
            .find(|r| {
                r.primary
                    && !r.failed
                    && !self.killed.contains(&r.port)
                    && r.slots.iter().any(|&(a, b)| (a..=b).contains(&slot))
            })
            .map(|r| r.port)
            .ok_or_else(|| Error::RedisServerStart(format!("no live primary serves slot {slot}")))
    }

    /// The replica of primary `port`.
    pub fn replica_of(&self, port: u16) -> Result<u16> {
        self.roles()?
            .into_iter()
            .find(|r| r.primary_port == Some(port) && !r.failed && !self.killed.contains(&r.port))
            .map(|r| r.port)
            .ok_or_else(|| Error::RedisServerStart(format!("no live replica of {port}")))
    }
}

/// Parse `CLUSTER NODES`: `<id> <ip:port@bus> <flags> <primary-id|-> …` per line.
pub fn parse_nodes(listing: &str) -> Vec<NodeRole> {
    let rows: Vec<Vec<&str>> = listing.lines().map(|l| l.split_whitespace().collect()).collect();
    let port_of = |addr: &str| addr.split('@').next()?.rsplit(':').next()?.parse::<u16>().ok();
    let by_id: std::collections::HashMap<&str, u16> =
        rows.iter().filter(|r| r.len() > 3).filter_map(|r| Some((r[0], port_of(r[1])?))).collect();
    rows.iter()
        .filter(|r| r.len() > 3)
        .filter_map(|r| {
            let flags: Vec<&str> = r[2].split(',').collect();
            Some(NodeRole {
                port: port_of(r[1])?,
                primary: flags.contains(&"master"),
                primary_port: (r[3] != "-").then(|| by_id.get(r[3]).copied()).flatten(),
                failed: flags.iter().any(|f| matches!(*f, "fail" | "fail?")),
                slots: r.iter().skip(8).filter_map(|range| parse_range(range)).collect(),
            })
        })
        .collect()
}

/// `0-5460` or `7` (a single slot); importing/migrating entries (`[…]`) are skipped.
fn parse_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => s.parse().ok().map(|n| (n, n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_nodes_listing_parses() {
        let listing = "\
a1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:30002@40002 master,fail - 0 0 2 connected
c3 127.0.0.1:30004@40004 slave a1 0 0 1 connected
d4 127.0.0.1:30005@40005 master - 0 0 4 connected 5461-10922
";
        let roles = parse_nodes(listing);
        assert_eq!(roles.len(), 4);
        assert_eq!(
            roles[0],
            NodeRole {
                port: 30001,
                primary: true,
                primary_port: None,
                failed: false,
                slots: vec![(0, 5460)]
            }
        );
        assert_eq!(roles[3].slots, vec![(5461, 10922)]);
        assert!(roles[1].failed);
        assert_eq!(roles[2].primary_port, Some(30001));
        assert!(!roles[2].primary);
    }
}
