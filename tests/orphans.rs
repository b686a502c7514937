//! Children die with their parent: a `kill -9` of `authbench serve` or of a running
//! `authbench compare --quick` leaves no server and no redis-server behind (the parent-death
//! signal of `procs/src/child.rs`). Children are found through /proc by parent pid while the
//! parent runs, then must stop running (or be zombies awaiting a reaper) within a few seconds.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use authbench_procs::child::{Signal, signal};
use common::{BIN, Proc, Server, descendants, require_redis};

/// Wait until none of `procs` is running; returns those still running after `limit`.
fn still_running_after(procs: &[Proc], limit: Duration) -> Vec<Proc> {
    let deadline = Instant::now() + limit;
    loop {
        let alive: Vec<Proc> = procs.iter().filter(|p| p.running()).cloned().collect();
        if alive.is_empty() || Instant::now() > deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn kill_9_of_serve_stops_its_private_redis() {
    require_redis();
    let mut server = Server::spawn(&common::serve("session"));
    let children = descendants(server.pid());
    assert!(children.iter().any(|p| p.comm == "redis-server"), "no redis-server child: {children:?}");
    signal(server.pid(), Signal::KILL).unwrap();
    server.child.wait().unwrap();
    let left = still_running_after(&children, Duration::from_secs(5));
    assert!(left.is_empty(), "orphans after kill -9 of serve: {left:?}");
}

#[test]
fn kill_9_of_compare_leaves_no_orphan() {
    require_redis();
    let tmp = tempfile::tempdir().unwrap();
    let mut compare = Command::new(BIN)
        .args(["compare", "--quick", "--no-progress", "--out"])
        .arg(tmp.path().join("run"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until compare runs its redis-server and a `serve` child (started from async code,
    // long after the main thread spawned Redis).
    let deadline = Instant::now() + Duration::from_secs(60);
    let children = loop {
        let found = descendants(compare.id());
        let redis = found.iter().any(|p| p.comm == "redis-server");
        let server = found.iter().any(|p| p.comm == "authbench");
        if redis && server {
            break found;
        }
        assert!(Instant::now() < deadline, "compare did not start redis-server and a server: {found:?}");
        assert!(compare.try_wait().unwrap().is_none(), "compare exited early");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Let the server get to work (blocking-pool threads come and go meanwhile).
    std::thread::sleep(Duration::from_secs(2));
    let children: Vec<Proc> = descendants(compare.id()).into_iter().chain(children).collect();
    signal(compare.id(), Signal::KILL).unwrap();
    compare.wait().unwrap();
    let left = still_running_after(&children, Duration::from_secs(10));
    assert!(left.is_empty(), "orphans after kill -9 of compare: {left:?}");
}
