//! One `authbench serve <scheme>` child process per measured run, on port 0.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_servers::SchemeKind;
use authbench_servers::child::{self, Signal};

/// `serve --redis-url`'s and `--redis-cluster`'s environment variables.
const REDIS_URL_ENV: &str = "AUTHBENCH_REDIS_URL";
const REDIS_CLUSTER_ENV: &str = "AUTHBENCH_REDIS_CLUSTER";

/// A server child; SIGTERM and reaped on drop.
pub struct ServerProcess {
    child: Child,
    pub scheme: SchemeKind,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Spawn this very binary as `serve <scheme> --addr 127.0.0.1:0 <extra>` and wait for its
    /// `listening on http://IP:PORT` line (30 s at most: a million users take a few seconds).
    /// A `--redis-url` or `--redis-cluster` in `extra` goes to the child in its environment
    /// (`AUTHBENCH_REDIS_URL`, `AUTHBENCH_REDIS_CLUSTER`) rather than its command line: the URLs
    /// carry the private Redis's password, and any local user can read a command line.
    pub fn spawn(scheme: SchemeKind, extra: &[String]) -> Result<ServerProcess> {
        let exe = std::env::current_exe().context("locate the authbench binary")?;
        let mut command = Command::new(exe);
        command.env_remove(REDIS_URL_ENV).env_remove(REDIS_CLUSTER_ENV);
        let mut args = Vec::with_capacity(extra.len());
        let mut it = extra.iter();
        while let Some(arg) = it.next() {
            match (arg.as_str(), it.as_slice().first()) {
                ("--redis-url", Some(url)) => {
                    command.env(REDIS_URL_ENV, url);
                    it.next();
                }
                ("--redis-cluster", Some(urls)) => {
                    command.env(REDIS_CLUSTER_ENV, urls);
                    it.next();
                }
                _ => args.push(arg.clone()),
            }
        }
        command
            .args(["serve", scheme.as_str(), "--addr", "127.0.0.1:0"])
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
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
        let Some(addr) = authbench_contract::listening::parse(&line) else {
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
        Ok(ServerProcess { child, scheme, addr })
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
