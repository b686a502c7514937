//! `authbench load` against a real `authbench serve` frozen with SIGSTOP mid-run — a deadlocked
//! server, a full accept queue or a GC pause: connections stay open, nothing answers.
//!
//! - a freeze shorter than the timeout shows as latency and a named stall, exit 0;
//! - a freeze longer than the timeout is timeouts, then "the target stopped answering", exit 1;
//! - a freeze to the end (default 10 s timeout, shorter run) leaves requests unfinished and, in
//!   the open model, arrivals dropped: "stopped answering", exit 1;
//!
//! and every file is intact in each case.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Server};

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill").args([sig, &pid.to_string()]).status().expect("kill").success();
    assert!(ok, "kill {sig} {pid}");
}

fn spawn_load(server: &Server, out: &Path, args: &[&str]) -> Child {
    Command::new(BIN)
        .args(["load", "--target", &server.base, "--scheme", "none", "--no-progress", "--out"])
        .arg(out)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authbench load")
}

/// Freeze the server `at` after the load started, for `length` (None: until the load exits).
fn freeze_during(
    server: &Server,
    mut load: Child,
    at: Duration,
    length: Option<Duration>,
) -> (i32, String, String) {
    std::thread::sleep(at);
    signal(server.pid(), "-STOP");
    if let Some(length) = length {
        std::thread::sleep(length);
        signal(server.pid(), "-CONT");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while load.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "authbench load did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(server.pid(), "-CONT");
    let o = load.wait_with_output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (o.status.code().unwrap_or(-1), text(&o.stdout), text(&o.stderr))
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).expect("summary.json")).unwrap()
}

/// timeseries.csv as (header, rows); every row as long as the header.
fn timeseries(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_owned).collect()).collect();
    assert!(rows.iter().all(|r| r.len() == header.len()), "ragged timeseries.csv");
    (header, rows)
}

fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let c = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    rows.iter().map(|r| r[c].parse::<f64>().unwrap_or(0.0)).collect()
}

/// Every success is in the .hlog, every error and unfinished request in timeseries.csv.
fn files_are_intact(dir: &Path, endpoint: &str) -> serde_json::Value {
    let s = summary(dir);
    let e = &s["endpoints"][endpoint];
    let hlog = std::fs::read(dir.join(format!("{endpoint}.hlog"))).unwrap();
    let in_hlog = authbench_loadgen::read_hlog(&hlog).unwrap().len();
    assert_eq!(in_hlog, e["count"].as_u64().unwrap(), "{e}");
    let (header, rows) = timeseries(dir);
    let sum = |name: &str| column(&header, &rows, name).iter().sum::<f64>() as u64;
    assert_eq!(sum(&format!("{endpoint}_errors")), e["errors"].as_u64().unwrap());
    assert_eq!(sum("unfinished"), s["total"]["unfinished"].as_u64().unwrap());
    if let Some(open) = s["open"].as_object() {
        assert_eq!(sum("dropped"), open["dropped"].as_u64().unwrap());
        assert_eq!(
            open["scheduled"].as_u64().unwrap(),
            open["started"].as_u64().unwrap() + open["dropped"].as_u64().unwrap()
        );
    }
    assert_eq!(csv::Reader::from_path(dir.join("summary.csv")).unwrap().records().count(), 1);
    s
}

#[test]
fn a_freeze_shorter_than_the_timeout_is_latency_and_a_named_stall() {
    let server = Server::spawn(&common::serve("cookie"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let load = spawn_load(&server, &out, &["--vus", "4", "--duration", "4s", "--timeout", "5s"]);
    let (code, stdout, stderr) =
        freeze_during(&server, load, Duration::from_millis(1000), Some(Duration::from_millis(1800)));
    assert_eq!(code, 0, "{stderr}");
    let s = files_are_intact(&out, "healthz");
    let h = &s["endpoints"]["healthz"];
    assert_eq!(h["errors"], 0, "{h}");
    assert_eq!(s["total"]["unfinished"], 0);
    assert!(h["latency_us"]["max"].as_u64().unwrap() >= 1_500_000, "the freeze is in the latency: {h}");
    let stalls = s["stalls"].as_array().unwrap();
    assert_eq!(stalls.len(), 1, "{stalls:?}");
    let d = stalls[0]["duration_s"].as_f64().unwrap();
    assert!((1.5..2.3).contains(&d), "stall of {d} s for an 1.8 s freeze: {stalls:?}");
    assert_eq!(stalls[0]["max_in_flight"], 4);
    assert!(s["stopped_answering"].is_null() && s["target_lost"] == false);
    assert!(stdout.contains("STALL: no answer from"), "{stdout}");
    let (header, rows) = timeseries(&out);
    let oldest = column(&header, &rows, "oldest_in_flight_ms");
    assert!(oldest.iter().any(|&ms| ms >= 500.0), "a second ends with a request waiting: {oldest:?}");
}

#[test]
fn a_freeze_longer_than_the_timeout_is_timeouts_then_stopped_answering() {
    let server = Server::spawn(&common::serve("cookie"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let load = spawn_load(&server, &out, &["--vus", "4", "--duration", "4s", "--timeout", "1s"]);
    let (code, stdout, stderr) = freeze_during(&server, load, Duration::from_millis(1200), None);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("the target stopped answering at"), "{stderr}");
    let s = files_are_intact(&out, "healthz");
    let h = &s["endpoints"]["healthz"];
    assert!(h["count"].as_u64().unwrap() > 100, "what was measured before is kept: {h}");
    assert!(h["errors_by_kind"]["timeout"].as_u64().unwrap() >= 4, "{h}");
    let stop = &s["stopped_answering"];
    assert_eq!(stop["cause"], "silent_longer_than_timeout", "{stop}");
    let at = stop["at_s"].as_f64().unwrap();
    assert!((0.8..1.6).contains(&at), "stopped at {at} s: {stop}");
    assert_eq!(s["total"]["unfinished"], 4, "each user's last request was left waiting: {}", s["total"]);
    assert!(stdout.contains("UNFINISHED") && stdout.contains("TARGET LOST"), "{stdout}");
    let (header, rows) = timeseries(&out);
    assert!(column(&header, &rows, "stalled").contains(&1.0), "a stalled second on disk");
    assert!(column(&header, &rows, "in_flight").contains(&4.0));
}

#[test]
fn open_model_frozen_to_the_end_leaves_unfinished_and_dropped_and_stops() {
    let server = Server::spawn(&common::serve("cookie"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let load = spawn_load(&server, &out, &["--rate", "200", "--vus", "10", "--duration", "4s"]);
    let (code, _, stderr) = freeze_during(&server, load, Duration::from_millis(1200), None);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stopped answering"), "{stderr}");
    let s = files_are_intact(&out, "healthz");
    let h = &s["endpoints"]["healthz"];
    assert_eq!(h["errors"], 0, "the default 10 s timeout never fired: {h}");
    assert_eq!(s["total"]["unfinished"], 10, "every pool member waits: {}", s["total"]);
    assert!(s["total"]["error_rate"].as_f64().unwrap() > 0.0, "unfinished requests count as failures");
    let open = &s["open"];
    assert!(open["dropped"].as_u64().unwrap() >= 300, "~2.8 s of 200/s never sent: {open}");
    assert!(open["dropped_oldest_age_ms"].as_f64().unwrap() >= 2000.0, "{open}");
    assert_eq!(s["stopped_answering"]["cause"], "silent_at_end");
}
