//! `authbench load` as k6, wrk, wrk2 and oha users drive it: the target as a positional URL, `-c`,
//! `-d`, `-H`, k6 thresholds with `--abort-on-fail`, `--json`, `--summary-export`, and live
//! Prometheus metrics scraped during a run (`--metrics-addr`).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, ServeArgs, Server};

fn load(args: &[&str]) -> Output {
    Command::new(BIN).arg("load").args(args).arg("--no-progress").output().expect("run authbench load")
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

#[test]
fn abort_on_fail_stops_at_the_first_broken_threshold_keeps_the_files_and_exits_99() {
    let server = Server::spawn(&common::serve("cookie"));
    let url = format!("{}/healthz", server.base);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let started = Instant::now();
    // A median under 1 µs never holds: broken in the first second of a 30 s run.
    let o = load(&[
        &url,
        "-c",
        "4",
        "-d",
        "30s",
        "--threshold",
        "p(50)<0.001",
        "--abort-on-fail",
        "--out",
        out.to_str().unwrap(),
    ]);
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(99), "{stderr}");
    assert!(took < Duration::from_secs(10), "not stopped early: {took:?}");
    assert!(stderr.contains("stopped early (--abort-on-fail): threshold broken: p(50)<0.001"), "{stderr}");
    let summary = json(&std::fs::read(out.join("summary.json")).unwrap());
    assert_eq!(summary["aborted_by_threshold"], "p(50)<0.001");
    assert_eq!(summary["interrupted"], false);
    assert!(summary["duration_s"].as_f64().unwrap() < 5.0, "{summary}");
    assert!(summary["endpoints"]["healthz"]["count"].as_u64().unwrap() > 0, "what was measured is kept");
    assert!(out.join("timeseries.csv").is_file() && out.join("healthz.hlog").is_file());

    // `authbench report` on this load folder: the per-run report, charts as PNG and SVG.
    let r = Command::new(BIN).arg("report").arg(&out).output().unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for section in
        ["Throughput", "Active virtual users", "Latency per second", "Load generator", "p(50)<0.001"]
    {
        assert!(md.contains(section), "report.md lacks {section}:\n{md}");
    }
    for chart in ["load_throughput", "load_active_users", "load_latency", "load_generator"] {
        for ext in ["png", "svg"] {
            let f = out.join(format!("{chart}.{ext}"));
            assert!(std::fs::metadata(&f).is_ok_and(|m| m.len() > 1000), "{} missing", f.display());
        }
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg"), "charts inlined in report.html");

    // A folder with neither kind of result: exit 2, a clear message, nothing written.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not a result").unwrap();
    let r = Command::new(BIN).arg("report").arg(&empty).output().unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("holds no results"), "{stderr}");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 1, "nothing written");

    // Without --abort-on-fail the same rule is judged at the end; rules that hold pass (k6 forms,
    // ms by default, bare = all endpoints together).
    let o = load(&[
        &url,
        "-c",
        "2",
        "-d",
        "1s",
        "--threshold",
        "p(95)<10000",
        "--threshold",
        "healthz.p(99.9)<10s",
        "--threshold",
        "rate<0.5",
        "--threshold",
        "avg<10000",
        "--abort-on-fail",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(" p90 ") && stdout.contains(" p95 "), "{stdout}");
}

#[test]
fn json_on_stdout_summary_export_and_extra_headers() {
    let server = Server::spawn(&common::serve("cookie"));
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("export.json");
    let plain =
        load(&[&server.base, "-c", "2", "-d", "1s", "--json", "--summary-export", export.to_str().unwrap()]);
    assert_eq!(plain.status.code(), Some(0), "{}", String::from_utf8_lossy(&plain.stderr));
    let printed = json(&plain.stdout);
    assert_eq!(printed, json(&std::fs::read(&export).unwrap()), "--summary-export holds the printed summary");
    let healthz = &printed["endpoints"]["healthz"]["latency_us"];
    for p in ["p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(healthz[p].as_u64().is_some(), "{p} missing: {healthz}");
    }
    assert!(printed["total"]["latency_us"]["p95"].as_u64().is_some(), "{printed}");
    let human = String::from_utf8_lossy(&plain.stderr);
    assert!(human.contains("endpoint") && human.contains(" p95 "), "human summary on stderr: {human}");

    // -H: every request carries the header (bytes sent per request grow by its length).
    let pad = format!("X-Pad: {}", "x".repeat(100));
    let padded = load(&[&server.base, "-c", "2", "-d", "1s", "--json", "-H", &pad]);
    assert_eq!(padded.status.code(), Some(0), "{}", String::from_utf8_lossy(&padded.stderr));
    let sent = |v: &serde_json::Value| v["endpoints"]["healthz"]["bytes_sent_per_req"].as_f64().unwrap();
    let grew = sent(&json(&padded.stdout)) - sent(&printed);
    assert!((grew - (pad.len() + 2) as f64).abs() < 0.5, "grew by {grew}, header line is {}", pad.len() + 2);
}

#[test]
fn prometheus_metrics_are_scraped_during_a_run() {
    let server = Server::spawn(&common::serve("cookie"));
    let mut child = Command::new(BIN)
        .args(["load", &server.base, "-c", "3", "-d", "6s", "--no-progress", "--metrics-addr", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url =
        line.trim().strip_prefix("authbench load: metrics on http://").unwrap_or_else(|| panic!("{line:?}"));
    let addr = url.strip_suffix("/metrics").unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(2500));
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
    };
    assert!(value("authbench_requests_total{endpoint=\"healthz\"}") > 0.0, "{text}");
    assert_eq!(value("authbench_active_users"), 3.0, "{text}");
    assert!(value("authbench_request_duration_seconds_count{endpoint=\"healthz\"}") > 0.0, "{text}");
    assert!(text.contains("authbench_generator_lag_seconds"), "{text}");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

/// A non-loopback address of this machine: the source address of its route towards a
/// documentation address (connecting a UDP socket sends nothing). None without one.
fn own_network_address() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").or_else(|_| s.connect("198.51.100.1:9")).ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn remote_targets_need_allow_remote_and_refuse_server_pid() {
    let Some(ip) = own_network_address() else {
        eprintln!("no non-loopback address on this machine: the guard is covered by config.rs's unit test");
        return;
    };
    let args = ServeArgs { users: 10, addr: std::net::SocketAddr::new(ip, 0), ..common::serve("jwt") };
    let mut child = Command::new(BIN)
        .args(args.to_argv())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_owned();
    assert!(base.contains(&ip.to_string()), "{base}");
    let refused = load(&[&base, "-c", "1", "-d", "1s"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--allow-remote"));
    let ok = load(&[&format!("{base}/healthz"), "-c", "2", "-d", "1s", "--allow-remote", "--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let s = json(&ok.stdout);
    assert!(s["endpoints"]["healthz"]["count"].as_u64().unwrap() > 0, "{s}");
    let pid = child.id().to_string();
    let no_pid = load(&[&base, "-c", "1", "-d", "1s", "--allow-remote", "--server-pid", &pid]);
    assert_eq!(no_pid.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_pid.stderr).contains("--server-pid"));
    child.kill().unwrap();
    let _ = child.wait();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("warning: listening on") && err.contains("not on loopback"), "{err}");
}

/// `sh -c 'ulimit -n LIMIT; exec authbench ARGS'`: a process with a small open-file limit.
fn limited(limit: u32, args: &str) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(format!("ulimit -n {limit} && exec {BIN} {args}"));
    c
}

#[test]
fn generator_and_server_stop_at_their_open_file_limit_and_say_so() {
    // Generator: 300 files allow 300 - 128 (its own files) = 172 connections; 400 users asked.
    let server = Server::spawn(&common::serve("jwt"));
    let out = limited(
        300,
        &format!("load {} --scheme jwt -c 400 -d 2s --think 100ms --json --no-progress", server.base),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s = json(&out.stdout);
    assert_eq!(s["limits"]["capped_at"], 172, "{}", s["limits"]);
    assert!(s["limits"]["capped_by"].as_str().unwrap().contains("open-file limit (300"), "{}", s["limits"]);
    assert_eq!(s["vus_max"], 172);
    assert_eq!(s["total"]["errors"], 0, "capped cleanly: {}", s["total"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("LIMIT: the open-file limit (300"));

    // Server: 150 files, 200 users: it says which limit stops it and keeps serving the others.
    let mut child = limited(150, "serve jwt --fast-login --users 1000 --addr 127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap().to_owned();
    let out = load(&[
        &base,
        "--scheme",
        "jwt",
        "-c",
        "200",
        "-d",
        "2s",
        "--think",
        "100ms",
        "--timeout",
        "1s",
        "--json",
    ]);
    let s = json(&out.stdout);
    assert!(s["endpoints"]["me"]["count"].as_u64().unwrap() > 100, "the connected users were served: {s}");
    child.kill().unwrap();
    let _ = child.wait();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("LIMIT: the open-file limit (150) refuses new connections with"), "{err}");
}
