//! One `authbench serve <scheme>` child process per measured run, on port 0.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_procs::child::{self, Signal};
use authbench_servers::{SchemeKind, ServeArgs};

/// The fault scenarios' server: 1,000 users with the cheap password hash, on a free loopback port.
pub fn small(scheme: SchemeKind) -> ServeArgs {
    ServeArgs { fast_login: true, users: 1000, ..ServeArgs::new(scheme) }
}

/// A fresh path for a server's generated certificate.
fn scratch_cert() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("authbench-{}-{n}-cert.pem", std::process::id()))
}

/// A server child; SIGTERM and reaped on drop.
pub struct ServerProcess {
    child: Child,
    pub scheme: SchemeKind,
    pub addr: SocketAddr,
    /// Over HTTPS (`serve --tls`): the certificate (PEM) a client trusts it by. The control plane
    /// ([`super::http`]) has it registered for `addr`.
    pub ca: Option<Vec<u8>>,
}

impl ServerProcess {
    /// Spawn this very binary as `serve` with `args` ([`ServeArgs::to_argv`]) and wait for its
    /// `listening on http(s)://IP:PORT` line (30 s at most: a million users take a few seconds).
    /// The store's URLs go to the child in its environment (`ServeArgs::to_command`), not its
    /// command line: they carry the private Redis's password, and any local user can read a
    /// command line.
    pub fn spawn(args: &ServeArgs) -> Result<ServerProcess> {
        let scheme = args.scheme;
        // A generated certificate goes where this process can read it back.
        let mut args = args.clone();
        if args.tls && args.cert.is_none() && args.cert_out.is_none() {
            args.cert_out = Some(scratch_cert());
        }
        let args = &args;
        let exe = std::env::current_exe().context("locate the authbench binary")?;
        let mut command = Command::new(exe);
        let (argv, env) = args.to_command();
        command.env_remove(authbench_servers::REDIS_URL_ENV).env_remove(authbench_servers::REDIS_CLUSTER_ENV);
        command.args(argv).envs(env).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // SIGTERM (a graceful stop) if this process dies without stopping it.
        let mut child = child::spawn(command, Signal::TERM)
            .with_context(|| format!("spawn `authbench serve {scheme}`"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                bail!("`authbench serve {scheme}` did not report its address within 30 s");
            }
        };
        let Some((addr, tls)) = authbench_contract::listening::parse_over(&line) else {
            let _ = child.kill();
            let status = child.wait().ok();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            bail!("`authbench serve {scheme}` failed ({status:?}): {}", err.trim());
        };
        // Drain stderr so a chatty child can never block on a full pipe.
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut BufReader::new(stderr), &mut std::io::sink());
            });
        }
        let ca = match (tls, args.cert.as_ref().or(args.cert_out.as_ref())) {
            (true, Some(path)) => {
                let pem = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
                super::http::trust(addr, &pem)?;
                Some(pem)
            }
            _ => None,
        };
        Ok(ServerProcess { child, scheme, addr, ca })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then SIGKILL after 5 s.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if !self.alive() {
            return;
        }
        let _ = child::signal(self.child.id(), Signal::TERM);
        for _ in 0..100 {
            if !self.alive() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.terminate();
    }
}
