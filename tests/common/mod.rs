//! Helpers shared by the binary-level tests: spawn `authbench serve` on port 0, a private
//! redis-server, and a raw HTTP/1.1 client that sends headers exactly as given (duplicates,
//! oversized values, odd casing) — which a convenience client would normalise away.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[allow(unused_imports)]
pub use authbench_procs::redis_server::RedisServer;
#[allow(unused_imports)]
pub use authbench_servers::{SchemeKind, ServeArgs};

pub mod bad_target;

pub const BIN: &str = env!("CARGO_BIN_EXE_authbench");

/// Whether tests that need redis-server can run here; scripts/test.sh installs it, so in CI a
/// missing binary is a failure, not a skip.
pub fn require_redis() {
    assert!(
        authbench_procs::redis_server::find_binary().is_some(),
        "redis-server is required (scripts/test.sh installs it: apt-get install redis-server)"
    );
}

/// A running `authbench serve` child, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub base: String,
}

/// The tests' server options: `scheme` on a free loopback port, 1,000 users, the cheap password
/// hash. Change fields with `ServeArgs { redis_url: …, ..serve("session") }`.
pub fn serve(scheme: &str) -> ServeArgs {
    let scheme = <SchemeKind as clap::ValueEnum>::from_str(scheme, false).expect("a scheme name");
    ServeArgs { fast_login: true, users: 1000, ..ServeArgs::new(scheme) }
}

impl Server {
    /// `authbench serve` with `args`, stdout piped.
    fn command(args: &ServeArgs) -> Command {
        let mut command = Command::new(BIN);
        command.args(args.to_argv()).stdin(Stdio::null()).stdout(Stdio::piped());
        command
    }

    /// Read the child's `listening on http://IP:PORT` line; returns the rest of stdout and the line.
    fn listening(mut child: Child) -> (Server, BufReader<std::process::ChildStdout>, String) {
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read listening line");
        let base = line
            .trim()
            .strip_prefix(authbench_contract::listening::PREFIX)
            .unwrap_or_else(|| panic!("first line should be `listening on ...`, got {line:?}"))
            .to_owned();
        let (addr, _tls) =
            authbench_contract::listening::parse_over(&line).expect("address in listening line");
        (Server { child, addr, base }, stdout, line)
    }

    /// Start a server with `args` (usually [`serve`]'s); its stderr goes to the test's.
    pub fn spawn(args: &ServeArgs) -> Server {
        let child = Self::command(args).stderr(Stdio::inherit()).spawn().expect("spawn authbench serve");
        Self::listening(child).0
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        request(self.addr, "GET", path, headers, None)
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
        request(self.addr, "POST", path, headers, body)
    }

    pub fn login(&self, user: u64) -> Resp {
        let body = format!(r#"{{"username":"user{user}","password":"password{user}"}}"#);
        let resp =
            self.post(authbench_contract::path::LOGIN, &[("Content-Type", "application/json")], Some(&body));
        assert_eq!(resp.status, 200, "login user{user}: {}", resp.body);
        resp
    }

    /// Send SIGTERM and wait for a clean exit; returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = authbench_procs::child::signal(self.child.id(), authbench_procs::child::Signal::TERM);
        let status = self.child.wait().expect("wait for server");
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process as `/proc/PID/stat` describes it (no procps needed).
#[derive(Debug, Clone, PartialEq)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    /// The executable's name (`comm`, at most 15 bytes).
    pub comm: String,
    /// `R`, `S`, `Z`, ...
    pub state: char,
    /// Start time in clock ticks since boot: with `pid`, names the process even if the pid is reused.
    pub start: u64,
}

impl Proc {
    pub fn read(pid: u32) -> Option<Proc> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (head, rest) = stat.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(Proc {
            pid,
            comm,
            state: fields.first()?.chars().next()?,
            ppid: fields.get(1)?.parse().ok()?,
            start: fields.get(19)?.parse().ok()?,
        })
    }

    /// Still running: the same process (pid and start time) exists and is not a zombie.
    pub fn running(&self) -> bool {
        Proc::read(self.pid).is_some_and(|p| p.start == self.start && p.state != 'Z')
    }
}

/// Every process on the machine.
pub fn processes() -> Vec<Proc> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).filter_map(Proc::read).collect()
        })
        .unwrap_or_default()
}

/// The children, grandchildren, ... of `root` as they are now.
pub fn descendants(root: u32) -> Vec<Proc> {
    let all = processes();
    let mut found: Vec<Proc> = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for p in all.iter().filter(|p| p.ppid == parent) {
            parents.push(p.pid);
            found.push(p.clone());
        }
    }
    found
}

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// `name=value` of the Set-Cookie header (attributes dropped).
    pub fn cookie_pair(&self) -> String {
        let set = self.header("set-cookie").expect("Set-Cookie header");
        set.split(';').next().unwrap().trim().to_owned()
    }
}

/// One request on a fresh connection with `Connection: close`; headers are sent verbatim.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut stream = TcpStream::connect(addr).expect("connect to server");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    // The server may answer (431, 413) and close before reading everything: ignore write errors.
    let _ = stream.write_all(req.as_bytes());
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw);
    let (head, body) =
        text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP response head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect::<Vec<_>>();
    let chunked =
        headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    Resp { status, headers, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// Everything a child wrote to stdout and stderr, collected by background threads.
#[derive(Clone, Default)]
pub struct Captured {
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Captured {
    fn drain(&self, mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<()> {
        let out = self.out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    }

    /// All output so far, as bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.out.lock().unwrap().clone()
    }
}

impl Server {
    /// Like [`Server::spawn`], but stdout (after the listening line, which is kept too) and stderr
    /// are captured for inspection instead of inherited. Returns the server, the capture, and the
    /// threads that finish once the child has exited.
    pub fn spawn_captured(args: &ServeArgs) -> (Server, Captured, Vec<std::thread::JoinHandle<()>>) {
        let mut child = Self::command(args).stderr(Stdio::piped()).spawn().expect("spawn authbench serve");
        let captured = Captured::default();
        // Drain stderr before waiting for the listening line, so start-up output can never block.
        let stderr = captured.drain(child.stderr.take().expect("stderr piped"));
        let (server, stdout, line) = Self::listening(child);
        captured.out.lock().unwrap().extend_from_slice(line.as_bytes());
        let stdout = captured.drain(stdout);
        (server, captured, vec![stdout, stderr])
    }
}

/// Issue 22, finding 9: no Redis password in `text` — a private Redis's password is 32 hex
/// digits, and it travels only inside URLs (`redis://:<password>@…`), so neither an unredacted
/// URL's credentials nor such a password may appear.
pub fn assert_no_redis_password(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    assert!(!text.contains("redis://:"), "{what}: an unredacted Redis URL");
    let b = text.as_bytes();
    for (i, _) in text.match_indices('@') {
        let hex = b[..i].iter().rev().take_while(|c| c.is_ascii_hexdigit()).count();
        assert!(hex < 32, "{what}: a password before an @: {}", &text[i.saturating_sub(40)..i + 1]);
    }
}

/// [`assert_no_redis_password`] over every file under `dir`.
pub fn assert_no_redis_password_in(dir: &std::path::Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_no_redis_password_in(&path);
        } else {
            assert_no_redis_password(&path.display().to_string(), &std::fs::read(&path).unwrap());
        }
    }
}
