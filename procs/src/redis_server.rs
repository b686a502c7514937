//! A private `redis-server` child: free loopback port, a generated password, persistence off
//! (or AOF: [`Persistence`]), stopped on drop.
//!
//! Used by `serve session` without `--redis-url`, by `compare`, by the benches and by the tests, so
//! nothing in authbench ever needs a fixed port or touches a Redis it did not start.
//!
//! **Password.** Each server gets a random 128-bit `requirepass` (a Cluster node `masterauth`
//! too, the cluster's one password), written to a config file in the server's own directory
//! (mode 0700, the file 0600) rather than on its command line, which any local user can read in
//! `/proc`. Every client gets it in the URL, `redis://:<password>@127.0.0.1:<port>/`
//! ([`RedisServer::url`]); whatever prints a URL prints it through [`crate::session::redact_url`].
//! Without it another local process could forge session records or publish false revocations.

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
    password: String,
    persistence: Persistence,
    /// Extra arguments (a Cluster node's), kept for a restart.
    extra: Vec<String>,
}

/// Whether a private Redis keeps its data across a crash of its process (`--redis-persistence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Persistence {
    /// In memory only (`save ""`, `appendonly no`): a restart starts empty.
    #[default]
    None,
    /// The append-only file, fsynced every second (`appendonly yes`, `appendfsync everysec`) in
    /// the server's own directory: a restart after a process crash (SIGKILL) reloads every write
    /// Redis had answered; an OS crash or power loss could lose the last second.
    Aof,
}

impl Persistence {
    pub fn as_str(self) -> &'static str {
        match self {
            Persistence::None => "none",
            Persistence::Aof => "aof",
        }
    }

    fn args(self) -> [&'static str; 6] {
        match self {
            Persistence::None => ["--save", "", "--appendonly", "no", "--appendfsync", "everysec"],
            Persistence::Aof => ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
        }
    }
}

/// The `redis-server` binary: `$AUTHBENCH_REDIS_SERVER` when set (authoritative: a missing file
/// there means "not found"), else the first on `PATH`, else Debian's path.
/// `INFO commandstats` as calls per command (lower-case name): what the checks and tests count
/// Redis commands per request with. `AUTH` is left out: it is a connection's set-up (every
/// private Redis has a password), never a request's work, and every probe connection sends one.
pub fn parse_commandstats(text: &str) -> std::collections::HashMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.split(',').find_map(|kv| kv.strip_prefix("calls="))?.parse().ok()?;
            Some((name.to_ascii_lowercase(), calls))
        })
        .filter(|(name, _)| name != "auth")
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

/// A new random password (128 bits from the OS's generator, hex).
pub fn new_password() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl RedisServer {
    /// Start redis-server on a free loopback port, persistence off, and wait until it answers
    /// `PING`.
    pub fn start() -> Result<RedisServer> {
        Self::start_with(Persistence::None)
    }

    /// [`start`](Self::start) with the given persistence.
    pub fn start_with(persistence: Persistence) -> Result<RedisServer> {
        let binary = find_binary().ok_or(Error::RedisServerMissing)?;
        let mut last_error = String::new();
        // The port is free when chosen but could be taken before redis binds it: retry a few times.
        for _ in 0..5 {
            let port = free_port()?;
            match Self::spawn(&binary, port, new_password(), persistence, Vec::new()) {
                Ok(server) => return Ok(server),
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(Error::RedisServerStart(last_error))
    }

    /// Start a Redis Cluster node (`cluster-enabled yes`, the given node timeout, the cluster's
    /// `password` as its `requirepass` and `masterauth`) on a free loopback port whose cluster bus
    /// port (port + 10000) is free too. Not yet part of a cluster: see [`crate::redis_cluster`].
    pub fn start_cluster_node(node_timeout: Duration, password: &str) -> Result<RedisServer> {
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
            match Self::spawn(&binary, port, password.to_owned(), Persistence::None, extra.to_vec()) {
                Ok(server) => return Ok(server),
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(Error::RedisServerStart(format!("no free port pair for a cluster node: {last_error}")))
    }

    fn spawn(
        binary: &PathBuf,
        port: u16,
        password: String,
        persistence: Persistence,
        extra: Vec<String>,
    ) -> Result<RedisServer> {
        let dir = std::env::temp_dir().join(format!("authbench-redis-{}-{port}", std::process::id()));
        private_dir(&dir)?;
        let masterauth = extra.iter().any(|a| a == "--cluster-enabled");
        let conf = write_auth_conf(&dir, &password, masterauth)?;
        let child = Self::spawn_child(binary, port, &dir, &conf, persistence, &extra)?;
        let mut server = RedisServer { child, port, dir, password, persistence, extra };
        server.wait_ready(Duration::from_secs(10))?;
        Ok(server)
    }

    fn spawn_child(
        binary: &PathBuf,
        port: u16,
        dir: &std::path::Path,
        conf: &std::path::Path,
        persistence: Persistence,
        extra: &[String],
    ) -> Result<Child> {
        let mut command = Command::new(binary);
        // The config file (the password) first: arguments after it override or add to it.
        command
            .arg(conf)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--protected-mode", "yes"])
            .args(persistence.args())
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .args(["--maxclients", "20000"])
            .args(debug_command_args(binary))
            .args(extra)
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SIGTERM if authbench dies without running destructors (SIGKILL, abort), so a crashed
        // harness never leaves a redis-server behind.
        crate::child::spawn(command, crate::child::Signal::TERM)
            .map_err(|e| Error::RedisServerStart(format!("{}: {e}", binary.display())))
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

    /// The URL every client uses: the password in it (redact it before printing: see
    /// [`crate::session::redact_url`]).
    pub fn url(&self) -> String {
        url(self.port, &self.password)
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    pub fn persistence(&self) -> Persistence {
        self.persistence
    }

    /// The server's own directory (its config file, and with [`Persistence::Aof`] its data).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Stop the server now (SIGKILL: a crash); used by fault tests. `restart` brings it back on
    /// the same port, directory and password.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start redis-server again after [`kill`](Self::kill): same port, password, persistence and
    /// directory, so with [`Persistence::Aof`] it reloads its data; without, it starts empty.
    pub fn restart(&mut self) -> Result<()> {
        let binary = find_binary().ok_or(Error::RedisServerMissing)?;
        let conf = self.dir.join(AUTH_CONF);
        self.child = Self::spawn_child(&binary, self.port, &self.dir, &conf, self.persistence, &self.extra)?;
        // Loading an AOF can take a while (a million sessions: seconds).
        self.wait_ready(Duration::from_secs(60))
    }
}

/// The config file holding the password, in the server's directory.
const AUTH_CONF: &str = "auth.conf";

/// `redis://:<password>@127.0.0.1:<port>/`.
pub fn url(port: u16, password: &str) -> String {
    format!("redis://:{password}@127.0.0.1:{port}/")
}

/// Create `dir` (if needed) readable by this user only.
fn private_dir(dir: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// Write the config file with `requirepass` (and `masterauth`, for a Cluster node's replication),
/// mode 0600. Returns its path.
fn write_auth_conf(dir: &std::path::Path, password: &str, masterauth: bool) -> Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(AUTH_CONF);
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path)?;
    writeln!(file, "requirepass {password}")?;
    if masterauth {
        writeln!(file, "masterauth {password}")?;
    }
    Ok(path)
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
