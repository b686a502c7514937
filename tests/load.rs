//! `authbench load` as a process: exit codes, bad input, Ctrl-C, a dying target, the open model's
//! coordinated-omission correction against a frozen server, and cost sampling of a session server.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use authbench_procs::child::Signal;
use common::{BIN, RedisServer, ServeArgs, Server, require_redis};

fn load(args: &[&str]) -> Output {
    Command::new(BIN).arg("load").args(args).arg("--no-progress").output().expect("run authbench load")
}

fn spawn_load(args: &[&str]) -> std::process::Child {
    Command::new(BIN)
        .arg("load")
        .args(args)
        .arg("--no-progress")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authbench load")
}

fn signal(pid: u32, sig: Signal) {
    authbench_procs::child::signal(pid, sig).unwrap_or_else(|e| panic!("kill {sig:?} {pid}: {e}"));
}

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json written");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

fn timeseries_rows(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("timeseries.csv")).expect("timeseries.csv").lines().count() - 1
}

fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "authbench load did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_input_is_one_clear_line_exit_2_and_nothing_written() {
    let server = Server::spawn(&common::serve("cookie"));
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = format!("http://127.0.0.1:{closed_port}");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out_s = out.to_str().unwrap();
    let t = server.base.as_str();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--target", t, "--scheme", "kerberos", "--vus", "1"], "--scheme"),
        (vec!["--target", t, "--scheme", "jwt", "--stages", "10s:100,30x:5"], "--stages"),
        (vec!["--target", t, "--scheme", "jwt", "--rate-stages", "10s"], "--rate-stages"),
        (vec!["--target", t, "--scheme", "jwt", "--vus", "1", "--threshold", "me.p99<<1"], "--threshold"),
        (vec!["--target", t, "--scheme", "jwt", "--vus", "1", "--duration", "forever"], "--duration"),
        (vec!["--target", t, "--scheme", "jwt", "--vus", "1", "--think", "1 parsec"], "--think"),
        (vec!["--target", t, "--scheme", "jwt", "--vus", "1", "--timeout", "0s"], "--timeout"),
        (vec!["--target", t, "--scheme", "jwt", "--vus", "1", "--mix", "me=1,dance=2"], "--mix"),
        (vec!["--target", t, "--scheme", "jwt"], "load model"),
        (vec!["--target", "http://192.0.2.1:80", "--scheme", "none", "--vus", "1"], "loopback"),
        (vec!["--target", &dead, "--scheme", "none", "--vus", "1"], "unreachable"),
        (vec!["--target", t, "--scheme", "none", "--vus", "1", "--server-pid", "4294967"], "--server-pid"),
    ];
    for (args, needle) in cases {
        let mut args = args.clone();
        let has_duration = args.contains(&"--duration");
        args.extend(["--out", out_s]);
        if !has_duration && !args.iter().any(|a| a.starts_with("--stages") || a.starts_with("--rate")) {
            args.extend(["--duration", "1s"]);
        }
        let o = load(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line for {args:?}: {stderr}");
        assert!(stderr.starts_with("authbench: error:") && stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} created the out dir");
    }
}

#[test]
fn thresholds_set_the_exit_code() {
    let server = Server::spawn(&common::serve("jwt"));
    let ok = load(&[
        "--target",
        &server.base,
        "--scheme",
        "none",
        "--vus",
        "2",
        "--duration",
        "1s",
        "--threshold",
        "healthz.p99<10s",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let bad = load(&[
        "--target",
        &server.base,
        "--scheme",
        "none",
        "--vus",
        "2",
        "--duration",
        "1s",
        "--threshold",
        "healthz.p99<10s",
        "--threshold",
        "healthz.rps>1000000000",
        "--threshold",
        "error_rate<=0%",
    ]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(99), "{stderr}");
    assert!(stderr.contains("threshold violated: healthz.rps>1000000000"), "{stderr}");
    assert!(!stderr.contains("violated: healthz.p99"), "only violated rules are listed: {stderr}");
    assert!(String::from_utf8_lossy(&bad.stdout).contains("FAILED"));
}

#[test]
fn ctrl_c_finishes_writing_and_exits_130() {
    let server = Server::spawn(&common::serve("cookie"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_load(&[
        "--target",
        &server.base,
        "--scheme",
        "cookie",
        "--vus",
        "10",
        "--duration",
        "60s",
        "--out",
        out.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(2200));
    signal(child.id(), Signal::INT);
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    let s = summary(&out);
    assert_eq!(s["interrupted"], true);
    assert!(s["endpoints"]["me"]["count"].as_u64().unwrap() > 0, "{s}");
    assert!(s["duration_s"].as_f64().unwrap() < 10.0);
    assert!(timeseries_rows(&out) >= 2);
    assert!(std::fs::metadata(out.join("me.hlog")).unwrap().len() > 100);
}

#[test]
fn a_target_dying_mid_run_is_counted_on_disk_and_fails_the_run() {
    let server = Server::spawn(&common::serve("jwt"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_load(&[
        "--target",
        &server.base,
        "--scheme",
        "jwt",
        "--vus",
        "5",
        "--duration",
        "4s",
        "--timeout",
        "1s",
        "--server-pid",
        &server.pid().to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    drop(server); // SIGKILL
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    let stderr = {
        use std::io::Read;
        let mut s = String::new();
        child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
        s
    };
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stopped answering"), "{stderr}");
    let s = summary(&out);
    assert_eq!(s["target_lost"], true);
    assert!(s["endpoints"]["me"]["count"].as_u64().unwrap() > 0, "measured before the death is kept");
    let errors: u64 =
        s["endpoints"].as_object().unwrap().values().map(|e| e["errors"].as_u64().unwrap()).sum();
    assert!(errors > 0, "the failures are counted: {s}");
    assert!(timeseries_rows(&out) >= 3);
}

#[test]
fn open_model_shows_a_frozen_server_in_corrected_latency() {
    let server = Server::spawn(&common::serve("jwt"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_load(&[
        "--target",
        &server.base,
        "--scheme",
        "jwt",
        "--rate",
        "200",
        "--duration",
        "3s",
        "--vus",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(1200));
    signal(server.pid(), Signal::STOP);
    std::thread::sleep(Duration::from_millis(500));
    signal(server.pid(), Signal::CONT);
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(0));
    let s = summary(&out);
    let me = &s["endpoints"]["me"];
    let corrected = &me["latency_us"];
    let uncorrected = &me["uncorrected_latency_us"];
    let (c99, c90) = (corrected["p99"].as_u64().unwrap(), corrected["p90"].as_u64().unwrap());
    let u90 = uncorrected["p90"].as_u64().unwrap();
    // ~100 of ~600 requests were scheduled inside the 500 ms freeze: corrected p99 sees it.
    assert!(c99 >= 350_000, "corrected p99 {c99} µs should show the 500 ms stall: {me}");
    // Only the 10 requests in flight waited, the rest were sent late: uncorrected p90 stays small.
    assert!(c90 > 3 * u90.max(1000), "corrected p90 {c90} vs uncorrected p90 {u90}: {me}");
    assert!(s["open"]["late"].as_u64().unwrap() >= 50, "{}", s["open"]);
    assert_eq!(me["errors"], 0);
    assert!(std::fs::metadata(out.join("me.uncorrected.hlog")).is_ok());
}

#[test]
fn session_run_samples_server_and_redis_cost() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    let server = Server::spawn(&ServeArgs { redis_url: Some(url.clone()), ..common::serve("session") });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = load(&[
        "--target",
        &server.base,
        "--scheme",
        "session",
        "--stages",
        "500ms:20,1500ms:20",
        "--think",
        "5ms",
        "--server-pid",
        &server.pid().to_string(),
        "--redis-url",
        &url,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let s = summary(&out);
    assert_eq!(s["total"]["errors"], 0, "{s}");
    assert!(s["server"]["cpu_us_per_req"].as_f64().unwrap() > 0.0, "{s}");
    assert!(s["server"]["rss_bytes_max"].as_u64().unwrap() > 1 << 20);
    assert!(s["redis"]["cpu_us_per_req"].as_f64().unwrap() > 0.0, "{s}");
    assert!(s["redis"]["keys_max"].as_u64().unwrap() >= 20, "one key per live session at least: {s}");
    // `ab_sid=` + 48 hex characters (the user's 16-character tag + 32 random).
    assert_eq!(s["endpoints"]["me"]["credential_bytes_per_req"].as_f64().unwrap(), 55.0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("redis:") && text.contains("µs CPU/request"), "{text}");
}

/// Regression (issue 21): the knee's CPU percentages read 0.66× what the step's own µs/request ×
/// achieved rate gives, because the percentage divided by the time to the summary (after the
/// pool's logins and the drain) rather than the span its two CPU readings bound. Both figures come
/// from the same two readings; they must agree.
#[test]
fn server_cpu_percent_agrees_with_cpu_per_request_times_rate() {
    let server = Server::spawn(&common::serve("cookie"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = load(&[
        "--target",
        &server.base,
        "--scheme",
        "cookie",
        "--rate",
        "1500",
        "--vus",
        "200",
        "-d",
        "2s",
        "--server-pid",
        &server.pid().to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let s = summary(&out);
    let per_req = s["server"]["cpu_us_per_req"].as_f64().unwrap();
    let percent = s["server"]["cpu_percent"].as_f64().unwrap();
    let rate = s["total"]["count"].as_f64().unwrap() / s["duration_s"].as_f64().unwrap();
    let implied = per_req * rate / 1e4;
    let ratio = percent / implied;
    assert!(
        (0.9..=1.1).contains(&ratio),
        "cpu % {percent:.1} vs µs/req × rate {implied:.1} (ratio {ratio:.3}): {s}"
    );
}
