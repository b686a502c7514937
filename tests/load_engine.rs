//! The load engine against in-process servers on 127.0.0.1:0 (the servers crate's real Routers
//! and accept loop): recording, ramps, the open model, sampling, repeated runs, a dying target.
//! Here rather than in the loadgen crate, which does not depend on the servers.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use authbench_loadgen::config::LoadConfig;
use authbench_loadgen::mix::Mix;
use authbench_loadgen::output::read_hlog;
use authbench_loadgen::ramp::{LoadModel, Ramp};
use authbench_loadgen::{CancellationToken, Scheme, Summary, run};
use authbench_servers::redis_server::RedisServer;
use authbench_servers::{SchemeKind, ServeArgs, build, serve};
use tokio::sync::oneshot;

/// A server on its own runtime thread, stopped when `stop` is sent or dropped.
struct InProcess {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    fn start(scheme: SchemeKind, redis_url: Option<String>) -> InProcess {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = serve::runtime(Some(1)).unwrap();
            rt.block_on(async move {
                let mut args = ServeArgs::new(scheme);
                args.fast_login = true;
                args.users = 2000;
                args.redis_url = redis_url;
                let built = build::build(&args).await.unwrap();
                let listener = serve::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                serve::serve(listener, built.router, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        InProcess { addr: addr_rx.recv().unwrap(), stop: Some(stop), thread: Some(thread) }
    }

    fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The generator's view of one of our schemes.
fn as_loaded(scheme: SchemeKind) -> Option<Scheme> {
    Some(Scheme::new(scheme.as_str(), scheme.credential()))
}

fn closed(vus: f64, secs: f64) -> LoadModel {
    LoadModel::Closed { stages: Ramp::constant(vus, Duration::from_secs_f64(secs)) }
}

/// Total count of every interval histogram in an .hlog file.
fn hlog_total(path: &Path) -> u64 {
    read_hlog(&std::fs::read(path).unwrap()).unwrap().len()
}

/// timeseries.csv as (header, rows of cells).
fn timeseries(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_owned).collect::<Vec<_>>();
    let rows = lines.map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>()).collect::<Vec<_>>();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "ragged row {r:?}");
    }
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histogram_counts_equal_completed_requests_in_every_output() {
    let server = InProcess::start(SchemeKind::Cookie, None);
    let dir = tempfile::tempdir().unwrap();
    let mut c = LoadConfig::new(server.addr, None, closed(4.0, 2.0));
    c.out_dir = Some(dir.path().to_owned());
    let s = run(c, CancellationToken::new()).await.unwrap();
    let h = &s.endpoints["healthz"];
    assert!(h.count > 1000, "{h:?}");
    assert_eq!(h.errors, 0);
    assert_eq!(s.total.count, h.count);
    assert_eq!(hlog_total(&dir.path().join("healthz.hlog")), h.count, "hlog intervals sum to the count");
    let (header, rows) = timeseries(dir.path());
    let count = col(&header, "healthz_count");
    let from_rows: u64 = rows.iter().map(|r| r[count].parse::<u64>().unwrap()).sum();
    assert_eq!(from_rows, h.count, "per-second counts sum to the total");
    assert!(rows.len() >= 2 && rows.len() <= 3, "{} rows", rows.len());
    let saved: Summary =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(saved.endpoints["healthz"].count, h.count);
    assert_eq!(
        saved.endpoints["healthz"].latency_us.as_ref().unwrap().p99,
        h.latency_us.as_ref().unwrap().p99
    );
    assert!(std::fs::read_to_string(dir.path().join("summary.csv")).unwrap().lines().count() == 2);
    assert!(h.bytes_sent_per_req > 30.0 && h.bytes_received_per_req > 30.0, "{h:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramp_active_users_follow_the_target_within_5_percent() {
    let server = InProcess::start(SchemeKind::Jwt, None);
    let dir = tempfile::tempdir().unwrap();
    let stages = Ramp::parse("2s:60,1s:60,2s:20", "--stages").unwrap();
    let mut c = LoadConfig::new(server.addr, as_loaded(SchemeKind::Jwt), LoadModel::Closed { stages });
    c.think = Duration::from_millis(50);
    c.out_dir = Some(dir.path().to_owned());
    let s = run(c, CancellationToken::new()).await.unwrap();
    let (header, rows) = timeseries(dir.path());
    let (target, active) = (col(&header, "target"), col(&header, "active_vus"));
    assert!(rows.len() >= 5, "{rows:?}");
    for r in &rows {
        let (t, a): (f64, f64) = (r[target].parse().unwrap(), r[active].parse().unwrap());
        assert!((a - t).abs() <= (0.05 * t).max(1.0), "active {a} vs target {t} at t={}", r[0]);
    }
    assert_eq!(s.vus_max, 60);
    let me = &s.endpoints["me"];
    assert!(me.count > 500, "{me:?}");
    assert_eq!(me.errors, 0, "{me:?}");
    assert!(s.endpoints["login"].count >= 60, "every user logged in");
    assert!(
        s.endpoints["logout"].count >= 40,
        "users retired by the ramp log out: {:?}",
        s.endpoints["logout"]
    );
    let cred = me.credential_bytes_per_req.unwrap();
    assert!(cred > 100.0, "a Bearer JWT is over 100 bytes: {cred}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_keeps_the_schedule_and_reports_both_latencies() {
    let server = InProcess::start(SchemeKind::Cookie, None);
    let rate_stages = Ramp::constant(300.0, Duration::from_secs(2));
    let c =
        LoadConfig::new(server.addr, as_loaded(SchemeKind::Cookie), LoadModel::Open { rate_stages, vus: 10 });
    let s = run(c, CancellationToken::new()).await.unwrap();
    let open = s.open.clone().unwrap();
    let me = &s.endpoints["me"];
    assert!((595..=601).contains(&open.scheduled), "{open:?}");
    assert!(open.started + 5 >= open.scheduled, "{open:?}");
    // Starts still in flight when the clock ran out are aborted, at most one per pool member.
    assert!(
        me.count + me.errors <= open.started && me.count + me.errors + 10 >= open.started,
        "{me:?} {open:?}"
    );
    // The pool logs in once, before the clock, as set-up: not counted as load (39ea458).
    assert_eq!(s.endpoints["login"].count, 0, "the pool's logins counted as load");
    let (c, u) = (me.latency_us.clone().unwrap(), me.uncorrected_latency_us.clone().unwrap());
    assert!(c.p50 >= u.p50 && c.max >= u.max, "corrected ≥ uncorrected: {c:?} {u:?}");
    // An idle user's timer rounding (≤ 1 ms) is not charged to the server.
    assert!(c.p50 < u.p50 + 1500, "corrected p50 {} vs uncorrected {}", c.p50, u.p50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_runs_sample_server_and_redis_and_can_repeat() {
    let redis = RedisServer::start().unwrap();
    let server = InProcess::start(SchemeKind::Session, Some(redis.url()));
    for first_user in [1, 500] {
        let mut c = LoadConfig::new(server.addr, as_loaded(SchemeKind::Session), closed(5.0, 1.5));
        c.server_pid = Some(std::process::id());
        c.redis_url = Some(redis.url());
        c.first_user = first_user;
        c.mix = Mix { me: 90, refresh: 5, logout: 5 };
        c.thresholds = vec![authbench_loadgen::threshold::Threshold::parse("me.p99<5s").unwrap()];
        let s = run(c, CancellationToken::new()).await.unwrap();
        assert_eq!(s.total.errors, 0, "{s:#?}");
        assert!(s.endpoints["refresh"].count > 0 && s.endpoints["logout"].count > 0);
        assert!(s.server.cpu_us_per_req.unwrap() > 0.0);
        assert!(s.server.rss_bytes_max.unwrap() > 1 << 20);
        assert!(s.redis.cpu_us_per_req.unwrap() > 0.0, "{:?}", s.redis);
        assert!(s.redis.keys_max.unwrap() >= 5, "{:?}", s.redis);
        assert!(s.redis.used_memory_max.unwrap() > 0);
        assert_eq!(s.exit_code(), 0);
        assert!(s.thresholds[0].ok);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_dies_is_counted_and_reported() {
    let mut server = InProcess::start(SchemeKind::Cookie, None);
    let dir = tempfile::tempdir().unwrap();
    let mut c = LoadConfig::new(server.addr, as_loaded(SchemeKind::Cookie), closed(4.0, 3.0));
    c.out_dir = Some(dir.path().to_owned());
    c.timeout = Duration::from_secs(1);
    let stop_after = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        server.stop();
        server
    });
    let s = run(c, CancellationToken::new()).await.unwrap();
    drop(stop_after.await);
    assert!(s.target_lost, "{s:#?}");
    assert_eq!(s.exit_code(), 1);
    assert!(s.endpoints["me"].count > 0, "what was measured before is kept");
    let errors: u64 = s.endpoints.values().map(|e| e.errors).sum();
    assert!(errors > 0, "the failures are counted");
    assert!(s.endpoints.values().any(|e| e.errors_by_kind.contains_key("connect_refused")), "{s:#?}");
    let stop = s.stopped_answering.as_ref().expect("says when it stopped answering");
    assert_eq!(stop.cause, authbench_loadgen::stall::Cause::Gone);
    assert!(stop.at_s > 0.9 && stop.at_s < 1.5, "stopped at {} s, killed at 1.2 s", stop.at_s);
    assert!(dir.path().join("summary.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_token_interrupts_and_still_summarises() {
    let server = InProcess::start(SchemeKind::Cookie, None);
    let stop = CancellationToken::new();
    let s = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        s.cancel();
    });
    let started = std::time::Instant::now();
    let summary = run(LoadConfig::new(server.addr, None, closed(2.0, 30.0)), stop).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(summary.interrupted);
    assert_eq!(summary.exit_code(), 130);
    assert!(summary.duration_s < 2.0 && summary.endpoints["healthz"].count > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_target_fails_before_writing_anything() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut c = LoadConfig::new(SocketAddr::from(([127, 0, 0, 1], port)), None, closed(1.0, 1.0));
    c.out_dir = Some(out.clone());
    let e = run(c, CancellationToken::new()).await.unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e}");
    assert!(e.to_string().contains("unreachable"), "{e}");
    assert!(!out.exists(), "nothing created");
}
