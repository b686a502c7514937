//! A private HAProxy in front of server replicas: Debian's `haproxy`, started unprivileged from a
//! generated config on a free loopback port, stopped on drop. A system haproxy the package may
//! have started is never used or touched.
//!
//! The config: foreground (`-db`), no `user`/`group`/`chroot`/`daemon`, `mode http`, round robin,
//! no stickiness and no `prefer-last-server`, so the requests of one keep-alive client connection
//! are spread over the replicas; `maxconn` from the open-file limit (two sockets per proxied
//! connection, some to spare). Its files live in a scratch folder of the caller's.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A running haproxy owned by this process.
pub struct HaProxy {
    child: Child,
    addr: SocketAddr,
    config: PathBuf,
}

/// The `haproxy` binary: `$AUTHBENCH_HAPROXY`, else on `PATH`, else Debian's `/usr/sbin/haproxy`.
pub fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AUTHBENCH_HAPROXY") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
}

/// `maxconn` for an open-file limit: each proxied connection holds two sockets; keep 100 spare.
pub fn maxconn_for(nofile: u64) -> u64 {
    (nofile.saturating_sub(100) / 2).clamp(64, 100_000)
}

/// The generated config for `backends` behind `listen`.
pub fn config_text(listen: SocketAddr, backends: &[SocketAddr], maxconn: u64) -> String {
    let mut text = format!(
        "global\n    maxconn {maxconn}\n\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n\
         \x20   option http-keep-alive\n\n\
         frontend authbench\n    bind {listen}\n    default_backend replicas\n\n\
         backend replicas\n    balance roundrobin\n"
    );
    for (i, b) in backends.iter().enumerate() {
        text.push_str(&format!("    server r{i} {b}\n"));
    }
    text
}

impl HaProxy {
    /// Start haproxy in front of `backends`, its config in `scratch`; returns once it accepts.
    pub fn start(backends: &[SocketAddr], scratch: &Path) -> Result<HaProxy> {
        let binary = find_binary().ok_or_else(|| {
            Error::Config("haproxy not found: install it (Debian: `apt-get install haproxy`)".into())
        })?;
        let nofile = authbench_util::sys::raise_nofile_limit().unwrap_or(1024);
        std::fs::create_dir_all(scratch)?;
        let mut last = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let config = scratch.join(format!("haproxy-{port}.cfg"));
            std::fs::write(&config, config_text(addr, backends, maxconn_for(nofile)))?;
            let mut command = Command::new(&binary);
            command
                .arg("-db")
                .arg("-f")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let child = crate::child::spawn(command, crate::child::Signal::TERM)
                .map_err(|e| Error::Config(format!("{}: {e}", binary.display())))?;
            let mut proxy = HaProxy { child, addr, config };
            match proxy.wait_ready(Duration::from_secs(10)) {
                Ok(()) => return Ok(proxy),
                Err(e) => last = e.to_string(),
            }
        }
        Err(Error::Config(format!("haproxy did not start: {last}")))
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let mut err = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = stderr.read_to_string(&mut err);
                }
                return Err(Error::Config(format!("haproxy exited with {status}: {}", err.trim())));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::Config("haproxy did not accept connections within 10 s".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = crate::child::signal(self.child.id(), crate::child::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_is_round_robin_without_stickiness_or_privileges() {
        let a: SocketAddr = "127.0.0.1:1001".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:1002".parse().unwrap();
        let text = config_text("127.0.0.1:2000".parse().unwrap(), &[a, b], 500);
        assert!(text.contains("mode http") && text.contains("balance roundrobin"));
        assert!(text.contains("server r0 127.0.0.1:1001") && text.contains("server r1 127.0.0.1:1002"));
        assert!(text.contains("maxconn 500") && text.contains("bind 127.0.0.1:2000"));
        for word in ["user ", "group ", "chroot", "daemon", "stick", "prefer-last-server", "cookie "] {
            assert!(!text.contains(word), "{word} in {text}");
        }
        assert_eq!(maxconn_for(1024), 462);
        assert_eq!(maxconn_for(10), 64);
    }
}
