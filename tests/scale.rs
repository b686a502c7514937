//! The session server under 10,000 concurrent logged-in users (1 request/s each): it keeps
//! answering, and its connection to Redis stays one multiplexed connection however many users
//! there are (Redis's own `connected_clients`, sampled throughout).

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{BIN, RedisServer, ServeArgs, require_redis};

#[test]
fn session_server_holds_10k_users_with_bounded_redis_connections() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let args = ServeArgs {
        users: 10_000,
        redis_url: Some(redis.url()),
        // The default store bound (400 ms): it once failed here with 958 requests answered 503 at
        // the 10k-user burst, Redis answering in microseconds but its replies read late, queued
        // behind the burst's request tasks on the server's runtime; a call whose bound runs out
        // now yields behind the queued reader and looks again (servers/src/store_bound.rs,
        // servers/tests/store_bound.rs).
        // 10,000 logins in 6 s from a debug build on a shared 2-core machine can outrun the
        // password hashing; past the default hashing queue (1,024) a login answers 503 with
        // Retry-After, which is that bound working (tests/login_limits.rs). This test is about
        // sessions and Redis connections, so the queue holds every user, as compare's does.
        login_queue: 10_000,
        ..common::serve("session")
    };
    let (argv, env) = args.to_command();
    let mut server =
        Command::new(BIN).args(argv).envs(env).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut line)
        .unwrap();
    let target = line.trim().strip_prefix(authbench_contract::listening::PREFIX).unwrap().to_owned();

    // Sample Redis's client count while the load runs.
    let done = Arc::new(AtomicBool::new(false));
    let max_clients = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, max_clients, url) = (done.clone(), max_clients.clone(), redis.url());
        std::thread::spawn(move || {
            let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
            while !done.load(Ordering::Relaxed) {
                let info: String = redis::cmd("INFO").arg("clients").query(&mut conn).unwrap();
                let n: u64 = info
                    .lines()
                    .find_map(|l| l.strip_prefix("connected_clients:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap();
                max_clients.fetch_max(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };

    let out = tempfile::tempdir().unwrap();
    let load = Command::new(BIN)
        .args(["load", "--target", &target, "--scheme", "session", "--stages", "6s:10000,6s:10000"])
        .args(["--think", "1s", "--mix", "me=100", "--no-progress", "--server-pid", &server.id().to_string()])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let _ = server.kill();
    let _ = server.wait();

    let err = String::from_utf8_lossy(&load.stderr);
    assert!(load.status.success(), "load failed: {err}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("summary.json")).unwrap()).unwrap();
    assert!(summary["vus_max"].as_u64().unwrap() >= 10_000, "vus_max {}", summary["vus_max"]);
    assert_eq!(summary["total"]["errors"], 0, "errors under 10k users: {}", summary["endpoints"]);
    let me = summary["endpoints"]["me"]["count"].as_u64().unwrap();
    // At least one request per user (with 0 errors above). Not a throughput bound: how many more
    // requests 12 s gives depends on how busy the machine is (CI shares 2 cores).
    assert!(me >= 10_000, "only {me} /api/me answered for 10k users");
    let clients = max_clients.load(Ordering::Relaxed);
    // The server's one multiplexed connection, the generator's INFO sampler, and this test's.
    assert!(clients <= 4, "Redis saw {clients} clients: the server opens a connection per user");
}
