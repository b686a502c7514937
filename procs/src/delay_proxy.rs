//! A private `authbench delay-proxy` child between a server and its Redis (or one Redis Cluster
//! node): it holds each direction for half an RTT, so the store is one network hop away on
//! loopback. Started from this very binary (`serve`, `compare` and the tests all run inside
//! `authbench`), on a free loopback port, dying with its parent; stopped on drop.
//!
//! The proxy itself (threads, the release clock) is the binary's `src/delay_proxy.rs`; this file
//! only starts it and reads its `listening on IP:PORT` line.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::child::{self, Signal};
use crate::error::{Error, Result};

/// The subcommand that runs the proxy: `authbench delay-proxy --upstream A --rtt D`.
pub const DELAY_PROXY_COMMAND: &str = "delay-proxy";

/// A running proxy child; SIGKILLed (it has nothing to flush) and reaped on drop.
pub struct DelayProxy {
    child: Child,
    addr: SocketAddr,
    upstream: SocketAddr,
    rtt: Duration,
}

impl DelayProxy {
    /// Start `exe delay-proxy` in front of `upstream` with `rtt`; returns once it listens.
    pub fn start(exe: &Path, upstream: SocketAddr, rtt: Duration) -> Result<DelayProxy> {
        let mut command = Command::new(exe);
        command
            .arg(DELAY_PROXY_COMMAND)
            .arg("--upstream")
            .arg(upstream.to_string())
            .arg("--rtt")
            .arg(format!("{}us", rtt.as_micros()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let failed = |why: String| Error::Config(format!("delay-proxy in front of {upstream}: {why}"));
        let mut child = child::spawn(command, Signal::KILL).map_err(|e| failed(e.to_string()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
        match parse_line(&line) {
            Some(addr) => Ok(DelayProxy { child, addr, upstream, rtt }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(failed(format!("no `listening on` line within 10 s (got {:?})", line.trim())))
            }
        }
    }

    /// [`start`](Self::start) with this process's own executable (which must be `authbench`).
    pub fn start_here(upstream: SocketAddr, rtt: Duration) -> Result<DelayProxy> {
        Self::start(&std::env::current_exe()?, upstream, rtt)
    }

    /// Where to connect instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    pub fn rtt(&self) -> Duration {
        self.rtt
    }

    /// The proxy's pid, for sampling its CPU like the server's.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address of the proxy's first line, `listening on IP:PORT`.
pub fn parse_line(line: &str) -> Option<SocketAddr> {
    line.trim().strip_prefix("listening on ")?.parse().ok()
}

/// The address (`host:port`, resolved) a `redis://` URL points at; `None` for another form.
pub fn url_addr(url: &str) -> Option<SocketAddr> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let host_port = if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:6379") };
    let host_port = host_port.replace("localhost:", "127.0.0.1:");
    host_port.parse().ok()
}

/// `url` with its `host:port` replaced by `addr` (user, password, path and query kept).
pub fn via(url: &str, addr: SocketAddr) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@")).unwrap_or_default();
    let slash = if rest.contains('/') { "/" } else { "" };
    Some(format!("{scheme}://{user}{addr}{slash}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_pointed_at_the_proxy_keeping_their_password() {
        let url = "redis://:s3cret@127.0.0.1:6380/";
        assert_eq!(url_addr(url), Some("127.0.0.1:6380".parse().unwrap()));
        let proxy: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(via(url, proxy).unwrap(), "redis://:s3cret@127.0.0.1:40001/");
        assert_eq!(via("redis://127.0.0.1:7000", proxy).unwrap(), "redis://127.0.0.1:40001");
        assert_eq!(url_addr("redis://localhost/3"), Some("127.0.0.1:6379".parse().unwrap()));
        assert_eq!(parse_line("listening on 127.0.0.1:5\n"), Some("127.0.0.1:5".parse().unwrap()));
        assert_eq!(parse_line("listening on http://127.0.0.1:5"), None);
    }
}
