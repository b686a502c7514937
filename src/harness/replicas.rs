//! A scheme's server as the load generator sees it: one `authbench serve` process, or N replicas
//! behind a private HAProxy (`authbench_procs::haproxy`: generated config, free loopback port, `mode
//! http`, round robin, no stickiness, `maxconn` from the fd limit; stopped on drop).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use authbench_procs::haproxy::HaProxy;
use authbench_servers::ServeArgs;

use super::server::ServerProcess;

/// One server or replicas behind a load balancer; stopped on drop (proxy first).
pub struct Replicated {
    /// Declared before `replicas`: dropped (stopped) first.
    proxy: Option<HaProxy>,
    replicas: Vec<ServerProcess>,
    /// Where requests go: the proxy, or the one server.
    pub addr: SocketAddr,
}

impl Replicated {
    /// `n` servers started with the same `args` (so the same keys and store); with `n > 1` an
    /// HAProxy in front of them, its files in `scratch`.
    pub fn spawn(args: &ServeArgs, n: u32, scratch: &Path) -> Result<Replicated> {
        let replicas = (0..n.max(1)).map(|_| ServerProcess::spawn(args)).collect::<Result<Vec<_>>>()?;
        let proxy = if replicas.len() > 1 {
            let backends: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
            Some(HaProxy::start(&backends, scratch).context("start haproxy in front of the replicas")?)
        } else {
            None
        };
        let addr = proxy.as_ref().map_or(replicas[0].addr, HaProxy::addr);
        Ok(Replicated { proxy, replicas, addr })
    }

    /// The first replica's pid (the load generator's `server_pid`).
    pub fn pid(&self) -> u32 {
        self.replicas[0].pid()
    }

    /// The other replicas' pids, summed with [`Self::pid`]'s by the load generator.
    pub fn other_pids(&self) -> Vec<u32> {
        self.replicas[1..].iter().map(ServerProcess::pid).collect()
    }

    pub fn proxy_pid(&self) -> Option<u32> {
        self.proxy.as_ref().map(HaProxy::pid)
    }

    /// Each replica's own address (bypassing the proxy): for the cross-replica checks.
    pub fn replica_addrs(&self) -> Vec<SocketAddr> {
        self.replicas.iter().map(|r| r.addr).collect()
    }

    /// Stop the proxy, then every replica.
    pub fn stop(mut self) {
        self.proxy.take();
        for r in self.replicas.drain(..) {
            r.stop();
        }
    }
}
