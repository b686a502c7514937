//! Where a comparison keeps the schemes' state (`--store`): one Redis, or a Redis Cluster, each
//! either private (started for the run, torn down after) or existing (`--redis-url`,
//! `--redis-cluster-url`: only the run's key prefix is written and deleted, nothing flushed).
//!
//! [`Store`] is the one typed target every phase talks to: the options a server child gets, the
//! nodes the load generator samples (CPU summed over every node, replicas included: replication
//! is work the store does), the nodes that hold data (the one Redis, or the cluster's primaries:
//! summed for command statistics and memory, read one by one for keys and memory per shard),
//! and deleting a prefix on each of them.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use authbench_procs::redis_cluster::RedisCluster;
use authbench_procs::redis_server::Persistence;
use authbench_servers::ServeArgs;
use authbench_servers::direct::StoreTarget;

use crate::harness::redis::{self, RedisInfo, RedisServer};

/// `--store`: what kind of store the schemes with state use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// One redis-server.
    #[default]
    Redis,
    /// A Redis Cluster (3 primaries + 3 replicas started for the run, or `--redis-cluster-url`).
    Cluster,
}

/// The store a plan asks for, before anything is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorePlan {
    /// A private redis-server.
    OwnRedis,
    /// `--redis-url`.
    Redis(String),
    /// A private 3 + 3 cluster.
    OwnCluster,
    /// `--redis-cluster-url`: seed nodes of an existing cluster.
    Cluster(Vec<String>),
}

impl StorePlan {
    /// From `--store`, `--redis-url` and `--redis-cluster-url`; a URL of the other kind is refused.
    pub fn new(kind: StoreKind, redis_url: Option<&str>, cluster_url: Option<&str>) -> Result<StorePlan> {
        match (kind, redis_url, cluster_url) {
            (StoreKind::Redis, _, Some(_)) => {
                bail!("--redis-cluster-url needs --store cluster (the default store is one Redis)")
            }
            (StoreKind::Cluster, Some(_), _) => {
                bail!("--redis-url names one Redis: with --store cluster use --redis-cluster-url")
            }
            (StoreKind::Redis, Some(url), None) => Ok(StorePlan::Redis(url.to_owned())),
            (StoreKind::Redis, None, None) => Ok(StorePlan::OwnRedis),
            (StoreKind::Cluster, None, None) => Ok(StorePlan::OwnCluster),
            (StoreKind::Cluster, None, Some(list)) => match StoreTarget::cluster_from_list(list) {
                Ok(StoreTarget::Cluster(urls)) => Ok(StorePlan::Cluster(urls)),
                _ => bail!("--redis-cluster-url needs at least one redis:// URL"),
            },
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, StorePlan::OwnCluster | StorePlan::Cluster(_))
    }

    /// Start what the run owns (a redis-server, with `persistence`, or a cluster); nothing for an
    /// existing store.
    pub fn start(&self, persistence: Persistence) -> Result<Owned, authbench_procs::Error> {
        Ok(match self {
            StorePlan::OwnRedis => Owned::Redis(RedisServer::start_with(persistence)?),
            StorePlan::OwnCluster => Owned::Cluster(RedisCluster::start()?),
            StorePlan::Redis(_) | StorePlan::Cluster(_) => Owned::Nothing,
        })
    }
}

/// The processes a run started for its store; dropping it stops them.
pub enum Owned {
    Nothing,
    Redis(RedisServer),
    Cluster(RedisCluster),
}

/// One Redis node the harness reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub url: String,
    /// `host:port`, for the report.
    pub name: String,
    /// Holds data (the one Redis, or a cluster primary); false for a cluster replica.
    pub primary: bool,
}

/// What one shard (primary) holds at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    pub node: String,
    pub keys: u64,
    pub used_memory: u64,
}

/// The store of one comparison, connected.
pub struct Store {
    /// What the servers connect to.
    pub target: StoreTarget,
    /// True when the run started the store (then strict command counts hold: nobody else uses it).
    pub owned: bool,
    /// Every node (for a cluster, replicas too).
    pub nodes: Vec<Node>,
    /// INFO connections to the data-holding nodes, in `nodes` order.
    primaries: Vec<(Node, RedisInfo)>,
}

impl Store {
    /// Connect to the planned store (`owned` is what [`StorePlan::start`] started). Also returns
    /// Redis's version for `environment.json`.
    pub async fn connect(plan: &StorePlan, owned: &Owned) -> Result<(Store, Option<String>)> {
        let (target, is_owned) = match (plan, owned) {
            (StorePlan::Redis(url), _) => (StoreTarget::Single(url.clone()), false),
            (StorePlan::Cluster(urls), _) => (StoreTarget::Cluster(urls.clone()), false),
            (_, Owned::Redis(r)) => (StoreTarget::Single(r.url()), true),
            (_, Owned::Cluster(c)) => (StoreTarget::Cluster(c.urls()), true),
            (_, Owned::Nothing) => bail!("no store was started"),
        };
        let nodes = match &target {
            StoreTarget::Single(url) => {
                vec![Node { url: url.clone(), name: authority(url).to_owned(), primary: true }]
            }
            StoreTarget::Cluster(seeds) => cluster_nodes(seeds).await?,
        };
        let mut primaries = Vec::new();
        for node in nodes.iter().filter(|n| n.primary) {
            let info = RedisInfo::connect(&node.url).await.with_context(|| {
                format!(
                    "cannot reach Redis at {} (pass a reachable --redis-url / --redis-cluster-url, or omit \
                     it to start a private one)",
                    authbench_servers::facts::redact_url(&node.url)
                )
            })?;
            primaries.push((node.clone(), info));
        }
        let version = match primaries.first() {
            Some((_, info)) => info.version().await.ok(),
            None => None,
        };
        Ok((Store { target, owned: is_owned, nodes, primaries }, version))
    }

    pub fn is_cluster(&self) -> bool {
        self.target.is_cluster()
    }

    /// Point a server's options at this store.
    pub fn point(&self, args: &mut ServeArgs) {
        (args.redis_url, args.redis_cluster) = match &self.target {
            StoreTarget::Single(url) => (Some(url.clone()), None),
            StoreTarget::Cluster(urls) => (None, Some(urls.join(","))),
        };
    }

    /// The load generator's `redis_url`: every node, comma-separated (it sums their INFO).
    pub fn sampled_urls(&self) -> String {
        self.nodes.iter().map(|n| n.url.as_str()).collect::<Vec<_>>().join(",")
    }

    /// URLs of the data-holding nodes.
    pub fn primary_urls(&self) -> impl Iterator<Item = &str> {
        self.primaries.iter().map(|(n, _)| n.url.as_str())
    }

    /// Calls per command summed over the data-holding nodes (`INFO commandstats`).
    pub async fn commandstats(&self) -> Result<HashMap<String, u64>> {
        let mut sum = HashMap::new();
        for (_, info) in &self.primaries {
            for (cmd, calls) in info.commandstats().await? {
                *sum.entry(cmd).or_insert(0) += calls;
            }
        }
        Ok(sum)
    }

    /// Keys and `used_memory` of each data-holding node.
    /// `used_memory` summed over the primaries.
    pub async fn memory(&self) -> Result<u64> {
        Ok(self.shards().await?.iter().map(|s| s.used_memory).sum())
    }

    /// redis-server CPU (user + system) summed over the primaries.
    pub async fn cpu(&self) -> Result<std::time::Duration> {
        let mut sum = std::time::Duration::ZERO;
        for (_, info) in &self.primaries {
            sum += info.sample().await?.cpu;
        }
        Ok(sum)
    }

    pub async fn shards(&self) -> Result<Vec<Shard>> {
        let mut shards = Vec::new();
        for (node, info) in &self.primaries {
            let s = info.sample().await?;
            shards.push(Shard { node: node.name.clone(), keys: s.keys, used_memory: s.used_memory });
        }
        Ok(shards)
    }

    /// Keys matching the glob `pattern`, summed over the data-holding nodes (`SCAN`).
    pub async fn count_matching(&self, pattern: &str) -> Result<u64> {
        let mut n = 0;
        for url in self.primary_urls() {
            n += redis::count_matching(url, pattern).await?;
        }
        Ok(n)
    }

    /// Delete the keys under `prefix` on every data-holding node (SCAN + UNLINK; never FLUSH).
    pub async fn clear_prefix(&self, prefix: &str) -> Result<()> {
        let node = if self.is_cluster() { redis::Node::ClusterPrimary } else { redis::Node::Single };
        for url in self.primary_urls() {
            redis::clear_prefix_on(url, prefix, node).await?;
        }
        Ok(())
    }

    /// For `environment.json`.
    pub fn describe(&self) -> String {
        let primaries = self.primaries.len();
        let replicas = self.nodes.len() - primaries;
        match (&self.target, self.owned) {
            (StoreTarget::Single(_), true) => "private redis-server, persistence off".to_owned(),
            (StoreTarget::Single(_), false) => "external (--redis-url), key prefix".to_owned(),
            (StoreTarget::Cluster(_), true) => format!(
                "private Redis Cluster: {primaries} primaries + {replicas} replicas, persistence off, \
                 cluster-node-timeout {} ms",
                authbench_procs::redis_cluster::NODE_TIMEOUT.as_millis()
            ),
            (StoreTarget::Cluster(_), false) => format!(
                "external Redis Cluster (--redis-cluster-url): {primaries} primaries + {replicas} replicas, key prefix"
            ),
        }
    }
}

/// Every node of the cluster, from `CLUSTER NODES` of the first seed that answers (failed nodes
/// left out).
async fn cluster_nodes(seeds: &[String]) -> Result<Vec<Node>> {
    let mut last = None;
    for seed in seeds {
        let listing: Result<String> = async {
            let mut conn = redis::probe_connection(seed).await?;
            Ok(::redis::cmd("CLUSTER").arg("NODES").query_async(&mut conn).await?)
        }
        .await;
        match listing {
            Ok(text) => {
                let nodes = parse_cluster_nodes(&text, seed);
                if !nodes.iter().any(|n| n.primary) {
                    bail!("CLUSTER NODES from {} lists no live primary", authority(seed));
                }
                return Ok(nodes);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no seed URL")).context("read the cluster's nodes"))
}

/// Nodes of a `CLUSTER NODES` listing as URLs built like `seed` (same scheme and credentials).
fn parse_cluster_nodes(listing: &str, seed: &str) -> Vec<Node> {
    let (scheme, rest) = seed.split_once("://").unwrap_or(("redis", seed));
    let userinfo = rest.split('/').next().and_then(|a| a.rsplit_once('@')).map(|(u, _)| u);
    listing
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let flags = f.get(2)?;
            if flags.contains("fail") || flags.contains("handshake") || flags.contains("noaddr") {
                return None;
            }
            let addr = f.get(1)?.split(['@', ',']).next()?;
            if addr.starts_with(':') {
                return None;
            }
            let url = match userinfo {
                Some(u) => format!("{scheme}://{u}@{addr}"),
                None => format!("{scheme}://{addr}"),
            };
            Some(Node { url, name: addr.to_owned(), primary: flags.contains("master") })
        })
        .collect()
}

/// `host:port` of a URL (credentials and path left out).
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split('/').next().unwrap_or(rest);
    auth.rsplit_once('@').map_or(auth, |(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_refuses_a_url_of_the_other_kind() {
        assert_eq!(StorePlan::new(StoreKind::Redis, None, None).unwrap(), StorePlan::OwnRedis);
        assert_eq!(StorePlan::new(StoreKind::Cluster, None, None).unwrap(), StorePlan::OwnCluster);
        let e = StorePlan::new(StoreKind::Redis, None, Some("redis://a:1")).unwrap_err().to_string();
        assert!(e.contains("--store cluster"), "{e}");
        let e = StorePlan::new(StoreKind::Cluster, Some("redis://a:1"), None).unwrap_err().to_string();
        assert!(e.contains("--redis-cluster-url"), "{e}");
        assert!(StorePlan::new(StoreKind::Cluster, None, Some(" , ")).is_err());
        assert_eq!(
            StorePlan::new(StoreKind::Cluster, None, Some("redis://a:1, redis://b:2")).unwrap(),
            StorePlan::Cluster(vec!["redis://a:1".into(), "redis://b:2".into()])
        );
    }

    #[test]
    fn cluster_nodes_become_urls_like_the_seed() {
        let listing = "\
a1 10.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
b2 10.0.0.2:30002@40002,host-b master,fail - 0 0 2 connected
c3 10.0.0.3:30004@40004 slave a1 0 0 1 connected
";
        let nodes = parse_cluster_nodes(listing, "redis://user:pw@10.0.0.1:30001/0");
        assert_eq!(
            nodes,
            vec![
                Node {
                    url: "redis://user:pw@10.0.0.1:30001".into(),
                    name: "10.0.0.1:30001".into(),
                    primary: true
                },
                Node {
                    url: "redis://user:pw@10.0.0.3:30004".into(),
                    name: "10.0.0.3:30004".into(),
                    primary: false
                },
            ]
        );
        assert_eq!(authority("redis://u:p@h:1/2"), "h:1");
        assert_eq!(authority("redis://h:1"), "h:1");
    }
}
