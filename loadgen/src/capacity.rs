//! How many connections one generator process can hold, which limit says so (open files less a
//! reserve, or ephemeral ports × source addresses), and what the summary reports when a limit
//! capped the run or refused connects.

use std::sync::atomic::Ordering;

use crate::ramp::LoadModel;
use crate::summary::LimitHit;

/// File descriptors a run keeps besides its connections: stdio, output files, each worker
/// runtime's epoll and wake-up fds, the metrics listener, /proc reads, Redis probe.
const FD_RESERVE: u64 = 128;

/// How many connections this process can hold, and which limit says so.
#[derive(Debug, Clone)]
pub struct Capacity {
    pub users: u64,
    pub limit: String,
}

/// The open-file limit less [`FD_RESERVE`], or — for a loopback IPv4 target, whose connections
/// are spread over [`crate::client::SOURCE_ADDRESSES`] source addresses — the ephemeral ports,
/// whichever is smaller.
pub fn connection_capacity(nofile: u64, target: std::net::SocketAddr) -> Option<Capacity> {
    let files = (nofile > FD_RESERVE).then(|| Capacity {
        users: nofile - FD_RESERVE,
        limit: format!("the open-file limit ({nofile}, ulimit -n)"),
    });
    let ports = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok().and_then(|t| {
        let mut it = t.split_whitespace().map(|n| n.parse::<u64>().ok());
        let (lo, hi) = (it.next()??, it.next()??);
        let sources = if crate::client::source_for(target, 0).is_some() {
            u64::from(crate::client::SOURCE_ADDRESSES)
        } else {
            1
        };
        (hi >= lo).then(|| Capacity {
            users: (hi - lo + 1) * sources,
            limit: format!("the ephemeral port range ({lo}-{hi}) × {sources} source address(es)"),
        })
    });
    [files, ports].into_iter().flatten().min_by_key(|c| c.users)
}

/// Most connections the model asks for at once.
pub fn needed_users(model: &LoadModel) -> u64 {
    match model {
        LoadModel::Closed { stages } => stages.max().ceil() as u64,
        LoadModel::Open { vus, .. } => *vus,
    }
}

/// Which of the process's limits capped the run or refused connects, if any (the summary says so).
pub fn limits_hit(
    limits: &crate::client::OsLimits,
    capacity: Option<Capacity>,
    vus_max: u64,
) -> Option<LimitHit> {
    let files = limits.files.load(Ordering::Relaxed);
    let ports = limits.ports.load(Ordering::Relaxed);
    (files + ports > 0 || capacity.is_some()).then(|| LimitHit {
        open_files_limit: authbench_util::sys::raise_nofile_limit().unwrap_or(0),
        capped_at: capacity.as_ref().map(|c| c.users),
        capped_by: capacity.map(|c| c.limit),
        connects_refused_open_files: files,
        connects_refused_no_port: ports,
        vus_max,
    })
}
