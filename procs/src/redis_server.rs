//! A private `redis-server` child: free loopback port, persistence off, stopped on drop.
//!
//! Used by `serve session` without `--redis-url`, by `compare`, by the benches and by the tests, so
//! nothing in authbench ever needs a fixed port or touches a Redis it did not start.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A running redis-server owned by this process.
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// The `redis-server` binary: `$AUTHBENCH_REDIS_SERVER` when set (authoritative: a missing file
/// there means "not found"), else the first on `PATH`, else Debian's path.
/// `INFO commandstats` as calls per command (lower-case name): what the checks and tests count
/// Redis commands per request with.
pub fn parse_commandstats(text: &str) -> std::collections::HashMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse().ok()?;
            Some((name.to_ascii_lowercase(), calls))
        })
        .collect()
}

/// [`parse_commandstats`] of the Redis at `url`, read now on a fresh connection.
pub fn commandstats(url: &str) -> Result<std::collections::HashMap<String, u64>> {
    let failed = |e: redis::RedisError| Error::RedisServerStart(format!("INFO commandstats: {e}"));
    let mut conn = redis::Client::open(url).map_err(failed)?.get_connection().map_err(failed)?;
    let info: String = redis::cmd("INFO").arg("commandstats").query(&mut conn).map_err(failed)?;
    Ok(parse_commandstats(&info))
}

pub fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AUTHBENCH_REDIS_SERVER") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
}

/// `DEBUG` from loopback clients, on Redis 7 and later (where it is off by default and the
/// option exists; older versions allow it anyway and would refuse the unknown option).
/// `compare` reads `DEBUG HTSTATS` to know when incremental rehashing has finished before it
/// reads memory. This server is private and bound to loopback.
fn debug_command_args(binary: &PathBuf) -> Vec<&'static str> {
    let version = Command::new(binary).arg("--version").stderr(Stdio::null()).output();
    let major = version.ok().and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let v = text.split_whitespace().find_map(|w| w.strip_prefix("v="))?.to_owned();
        v.split('.').next()?.parse::<u32>().ok()
    });
    if major.is_some_and(|m| m >= 7) { vec!["--enable-debug-command", "local"] } else { Vec::new() }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

impl RedisServer {
    /// Start redis-server on a free loopback port and wait until it answers `PING`.
    pub fn start() -> Result<RedisServer> {
        let binary = find_binary().ok_or(Error::RedisServerMissing)?;
        let mut last_error = String::new();
        // The port is free when chosen but could be taken before redis binds it: retry a few times.
        for _ in 0..5 {
            let port = free_port()?;
            match Self::spawn(&binary, port, &[]) {
                Ok(server) => return Ok(server),
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(Error::RedisServerStart(last_error))
    }

    /// Start a Redis Cluster node (`cluster-enabled yes`, the given node timeout) on a free
    /// loopback port whose cluster bus port (port + 10000) is free too. Not yet part of a cluster:
    /// see [`crate::redis_cluster`].
    pub fn start_cluster_node(node_timeout: Duration) -> Result<RedisServer> {
        let binary = find_binary().ok_or(Error::RedisServerMissing)?;
        let extra = [
            "--cluster-enabled".to_owned(),
            "yes".to_owned(),
            "--cluster-node-timeout".to_owned(),
            node_timeout.as_millis().to_string(),
            "--cluster-config-file".to_owned(),
            "nodes.conf".to_owned(),
            // A replica's first sync starts at once (default: a 5 s wait for more replicas).
            "--repl-diskless-sync-delay".to_owned(),
            "0".to_owned(),
        ];
        let mut last_error = String::new();
        for _ in 0..20 {
            let port = free_port()?;
            if port > u16::MAX - 10_000 || TcpListener::bind((Ipv4Addr::LOCALHOST, port + 10_000)).is_err() {
                continue;
            }
            match Self::spawn(&binary, port, &extra) {
                Ok(server) => return Ok(server),
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(Error::RedisServerStart(format!("no free port pair for a cluster node: {last_error}")))
    }

    fn spawn(binary: &PathBuf, port: u16, extra: &[String]) -> Result<RedisServer> {
        let dir = std::env::temp_dir().join(format!("authbench-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut command = Command::new(binary);
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--protected-mode", "yes"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"])
            .args(["--maxclients", "20000"])
            .args(debug_command_args(binary))
            .args(extra)
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SIGTERM if authbench dies without running destructors (SIGKILL, abort), so a crashed
        // harness never leaves a redis-server behind.
        let child = crate::child::spawn(command, crate::child::Signal::TERM)
            .map_err(|e| Error::RedisServerStart(format!("{}: {e}", binary.display())))?;
        let mut server = RedisServer { child, port, dir };
        server.wait_ready(Duration::from_secs(10))?;
        Ok(server)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        let client = redis::Client::open(self.url()).map_err(|e| Error::RedisServerStart(e.to_string()))?;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let mut err = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = stderr.read_to_string(&mut err);
                }
                return Err(Error::RedisServerStart(format!("exited with {status}: {}", err.trim())));
            }
            if let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(200))
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::RedisServerStart("did not answer PING within 10 s".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Send a signal to the server (SIGSTOP/SIGCONT/SIGKILL in fault cases).
    pub fn signal(&self, signal: crate::child::Signal) -> std::io::Result<()> {
        crate::child::signal(self.child.id(), signal)
    }

    /// Whether the process has exited (reaping it if so).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stop the server now (SIGKILL); used by fault tests. `restart` brings it back on the same port.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start a fresh, empty redis-server on the same port after [`kill`](Self::kill).
    pub fn restart(&mut self) -> Result<()> {
        let binary = find_binary().ok_or(Error::RedisServerMissing)?;
        let fresh = Self::spawn(&binary, self.port, &[])?;
        let old = std::mem::replace(self, fresh);
        drop(old);
        Ok(())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
