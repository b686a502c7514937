//! A network hop between the servers and the store (`compare --store-rtt`): an `authbench
//! delay-proxy` child in front of the one Redis, or in front of every Redis Cluster node, which
//! then announces its proxy's port (`cluster-announce-ip/-port`) so that `MOVED` and `CLUSTER
//! SLOTS` send the servers' cluster client through the proxies too. Dropping the hop stops the
//! proxies and puts the announced ports back (0: the node's own).
//!
//! The proxies' pids are sampled for their CPU like the server's.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use authbench_procs::delay_proxy::{self, DelayProxy};
use authbench_servers::ServeArgs;
use authbench_servers::direct::StoreTarget;

use super::state_store::Store;

/// Proxies at one RTT in front of a store, and where the servers connect through them.
pub struct Hop {
    /// Where servers connect: the store's target with every address replaced by its proxy's.
    target: StoreTarget,
    /// Cluster nodes whose announced port now names their proxy (reset on drop).
    announced: Vec<String>,
    proxies: Vec<DelayProxy>,
}

/// `CONFIG SET cluster-announce-ip/-port` on one node (`port` 0: its own again).
fn announce(url: &str, port: u16) -> Result<()> {
    let mut conn = ::redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(2))?;
    let _: () = ::redis::cmd("CONFIG")
        .arg("SET")
        .arg("cluster-announce-ip")
        .arg(if port == 0 { "" } else { "127.0.0.1" })
        .arg("cluster-announce-port")
        .arg(port)
        .query(&mut conn)?;
    Ok(())
}

/// Whether every node's `CLUSTER NODES` names only `ports` (gossip has carried every
/// announcement: `CLUSTER SLOTS` and `MOVED` answer from the same table).
fn slots_name_only(urls: &[String], ports: &[u16]) -> bool {
    urls.iter().all(|url| {
        let Ok(mut conn) = ::redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
        else {
            return false;
        };
        let Ok(text) = ::redis::cmd("CLUSTER").arg("NODES").query::<String>(&mut conn) else { return false };
        text.lines().all(|l| {
            let addr = l.split_whitespace().nth(1).unwrap_or("");
            let port = addr.split(['@', ',']).next().and_then(|a| a.rsplit_once(':')).map(|(_, p)| p);
            port.and_then(|p| p.parse().ok()).is_some_and(|p: u16| ports.contains(&p))
        })
    })
}

impl Hop {
    /// Proxies at `rtt` in front of `store` (an existing Cluster is refused by the plan: its
    /// announced ports are not ours to change).
    pub fn start(store: &Store, rtt: Duration) -> Result<Hop> {
        let proxy = |url: &str| -> Result<(DelayProxy, String)> {
            let up = delay_proxy::url_addr(url).context("a store URL without host:port")?;
            let p = DelayProxy::start_here(up, rtt)?;
            let via = delay_proxy::via(url, p.addr()).context("a store URL without host:port")?;
            Ok((p, via))
        };
        match &store.target {
            StoreTarget::Single(url) => {
                let (p, via) = proxy(url)?;
                Ok(Hop { target: StoreTarget::Single(via), announced: Vec::new(), proxies: vec![p] })
            }
            StoreTarget::Cluster(_) => {
                let urls: Vec<String> = store.nodes.iter().map(|n| n.url.clone()).collect();
                let mut hop = Hop {
                    target: StoreTarget::Cluster(Vec::new()),
                    announced: Vec::new(),
                    proxies: Vec::new(),
                };
                let mut seeds = Vec::new();
                for url in &urls {
                    let (p, via) = proxy(url)?;
                    announce(url, p.addr().port()).context("cluster-announce-port")?;
                    hop.announced.push(url.clone());
                    hop.proxies.push(p);
                    seeds.push(via);
                }
                hop.target = StoreTarget::Cluster(seeds);
                let ports: Vec<u16> = hop.proxies.iter().map(|p| p.addr().port()).collect();
                let started = Instant::now();
                while !slots_name_only(&urls, &ports) {
                    if started.elapsed() > Duration::from_secs(15) {
                        bail!("the cluster's nodes did not all announce their delay proxies within 15 s");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Ok(hop)
            }
        }
    }

    /// Point a server's options at the store through the proxies.
    pub fn point(&self, args: &mut ServeArgs) {
        (args.redis_url, args.redis_cluster) = match &self.target {
            StoreTarget::Single(url) => (Some(url.clone()), None),
            StoreTarget::Cluster(urls) => (None, Some(urls.join(","))),
        };
    }

    /// The proxies' pids, for their CPU.
    pub fn pids(&self) -> Vec<u32> {
        self.proxies.iter().map(DelayProxy::pid).collect()
    }
}

impl Drop for Hop {
    /// Put the nodes' own ports back and wait (15 s at most) until gossip has carried that to
    /// every node, so a server started next is not sent to a proxy that is gone.
    fn drop(&mut self) {
        for url in &self.announced {
            let _ = announce(url, 0);
        }
        let own: Vec<u16> =
            self.announced.iter().filter_map(|u| delay_proxy::url_addr(u)).map(|a| a.port()).collect();
        let started = Instant::now();
        while !own.is_empty()
            && !slots_name_only(&self.announced, &own)
            && started.elapsed() < Duration::from_secs(15)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
