//! `load --agent I/N`, `--start-at` and `authbench merge`, against in-process servers on
//! 127.0.0.1:0: disjoint users, three agents at R/3 merged equal to one generator at R, and merge
//! refusing bad input without writing anything.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use authbench_loadgen::Agent;
use authbench_loadgen::Endpoint;
use authbench_loadgen::LoadConfig;
use authbench_loadgen::Mix;
use authbench_loadgen::Threshold;
use authbench_loadgen::merge;
use authbench_loadgen::{CancellationToken, Scheme, run};
use authbench_loadgen::{LoadModel, Ramp};
use authbench_loadgen::{read_hlog, write_text_summary};
use authbench_servers::{SchemeKind, ServeArgs, build, serve};
use tokio::sync::oneshot;

/// A jwt server with `users` users on its own runtime thread, stopped when dropped.
struct InProcess {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    fn start(users: u64) -> InProcess {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = serve::runtime(Some(1)).unwrap();
            rt.block_on(async move {
                let mut args = ServeArgs::new(SchemeKind::Jwt);
                args.fast_login = true;
                args.users = users;
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
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn jwt() -> Option<Scheme> {
    Some(Scheme::new("jwt", SchemeKind::Jwt.credential()))
}

/// Agent `agent` of the test `model` (None: the whole test in one generator).
fn config(addr: SocketAddr, model: LoadModel, agent: Option<Agent>, out: Option<&Path>) -> LoadConfig {
    let mut c = LoadConfig::new(addr, jwt(), model);
    c.mix = Mix { me: 100, refresh: 0, logout: 0 };
    c.out_dir = out.map(Path::to_owned);
    c.thresholds = vec![Threshold::parse("me.rps>=1000000").unwrap()];
    if let Some(a) = agent {
        c.slice(a).unwrap();
    }
    c
}

fn agent(index: u64, count: u64) -> Option<Agent> {
    Some(Agent { index, count })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_log_in_disjoint_users_and_a_late_start_is_said() {
    // 7 users over 3 agents: 2, 2, 3 — users 1-2, 3-4, 5-7.
    let model = || LoadModel::Closed { stages: Ramp::constant(7.0, Duration::from_millis(600)) };
    let seven = InProcess::start(7);
    let mut ranges = Vec::new();
    for i in 1..=3 {
        let mut c = config(seven.addr, model(), agent(i, 3), None);
        c.thresholds.clear();
        let s = run(c, CancellationToken::new()).await.unwrap();
        assert_eq!(s.total.errors, 0, "agent {i}: every user exists on a 7-user server: {s:#?}");
        assert_eq!(s.vus_max, [2, 2, 3][i as usize - 1]);
        ranges.push(s.agent.unwrap().users.unwrap());
    }
    assert_eq!(ranges, [[1, 2], [3, 4], [5, 7]], "disjoint and together all 7");
    // Falsifiable: against a 4-user server agent 3's users (5-7) do not exist, agent 1's do.
    let four = InProcess::start(4);
    let mut c = config(four.addr, model(), agent(3, 3), None);
    c.thresholds.clear();
    let s = run(c, CancellationToken::new()).await.unwrap();
    assert_eq!(s.endpoints[&Endpoint::Login].count, 0, "{:?}", s.endpoints[&Endpoint::Login]);
    assert!(
        s.endpoints[&Endpoint::Login].errors_by_status.contains_key("401"),
        "{:?}",
        s.endpoints[&Endpoint::Login]
    );
    // --first-user composes: agent 1 of 3 from user 3 logs in users 3-4.
    let mut c = config(four.addr, model(), None, None);
    c.first_user = 3;
    c.thresholds.clear();
    c.start_at = Some(SystemTime::now() - Duration::from_secs(2));
    c.slice(Agent { index: 1, count: 3 }).unwrap();
    let s = run(c, CancellationToken::new()).await.unwrap();
    assert_eq!(s.total.errors, 0, "{s:#?}");
    let a = s.agent.clone().unwrap();
    assert_eq!(a.users, Some([3, 4]));
    assert!(a.late_by_s.unwrap() >= 2.0, "{a:?}");
    let mut text = Vec::new();
    write_text_summary(&mut text, &s).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("agent 1/3, users user3..user4 · STARTED LATE: 2."), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agents_at_a_third_merge_to_one_generator_at_the_whole_rate() {
    let server = InProcess::start(100);
    let model = || LoadModel::Open { rate_stages: Ramp::constant(300.0, Duration::from_secs(2)), vus: 6 };
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let single = run(config(server.addr, model(), None, Some(&one)), CancellationToken::new()).await.unwrap();

    // Three agents at once, as on three hosts, beginning together.
    let start_at = SystemTime::now() + Duration::from_millis(800);
    let dirs: Vec<PathBuf> = (1..=3).map(|i| tmp.path().join(format!("agent{i}"))).collect();
    let runs = dirs.iter().enumerate().map(|(i, d)| {
        let mut c = config(server.addr, model(), None, Some(d));
        c.start_at = Some(start_at);
        c.slice(Agent { index: i as u64 + 1, count: 3 }).unwrap();
        tokio::spawn(run(c, CancellationToken::new()))
    });
    let mut parts = Vec::new();
    for r in runs.collect::<Vec<_>>() {
        parts.push(r.await.unwrap().unwrap());
    }
    for p in &parts {
        let a = p.agent.as_ref().unwrap();
        assert!(a.late_by_s.unwrap() < 0.2, "started on time: {a:?}");
        assert_eq!(p.server.pid, None);
    }
    let out = tmp.path().join("merged");
    let merged = merge(&out, &dirs).unwrap();

    // Counts: the three lanes are exactly the one schedule.
    let (m, s) = (merged.open.clone().unwrap(), single.open.clone().unwrap());
    assert_eq!(m.scheduled, s.scheduled, "merged {m:?} vs one generator {s:?}");
    assert_eq!(m.scheduled, 601);
    let (mm, sm) = (&merged.endpoints[&Endpoint::Me], &single.endpoints[&Endpoint::Me]);
    for (e, o) in [(mm, &m), (sm, &s)] {
        assert_eq!(e.errors, 0, "{e:?}");
        assert_eq!(
            e.count + e.unfinished + o.dropped,
            o.scheduled,
            "every arrival accounted for: {e:?} {o:?}"
        );
    }
    // Tolerance: a request in flight when the clock stops may be unfinished — at most one per
    // pool member (6 in both runs).
    assert!(mm.count.abs_diff(sm.count) <= 6, "merged {} vs one generator {}", mm.count, sm.count);
    // The pools' logins are set-up, not load (their CPU is not in the figures either).
    assert_eq!(merged.endpoints[&Endpoint::Login].count, 0, "pool logins counted as load");
    assert_eq!(merged.total.count, parts.iter().map(|p| p.total.count).sum::<u64>());
    assert!((merged.duration_s - 2.0).abs() < 0.3, "{}", merged.duration_s);
    assert!((mm.rps - sm.rps).abs() < 0.1 * sm.rps, "{} vs {}", mm.rps, sm.rps);

    // Percentiles come from the merged histograms: equal to the agents' hlogs added up.
    let mut union = authbench_loadgen::new_histogram();
    for d in &dirs {
        union.add(read_hlog(&std::fs::read(d.join("me.hlog")).unwrap()).unwrap()).unwrap();
    }
    let l = mm.latency_us.clone().unwrap();
    assert_eq!(union.len(), mm.count);
    assert_eq!(
        (l.p50, l.p99, l.max),
        (union.value_at_quantile(0.5), union.value_at_quantile(0.99), union.max())
    );
    let merged_hlog = read_hlog(&std::fs::read(out.join("me.hlog")).unwrap()).unwrap();
    assert_eq!(merged_hlog.len(), mm.count, "the merged log holds every request");
    assert_eq!(merged_hlog.value_at_quantile(0.99), l.p99);

    // The merged folder is a load folder: the same files, timeseries counts adding up.
    let names = |d: &Path| {
        let mut v: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&out), names(&one));
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let header: Vec<&str> = ts.lines().next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let rows: Vec<Vec<&str>> = ts.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert!((2..=4).contains(&rows.len()), "{ts}");
    let counted: u64 = rows.iter().map(|r| r[col("me_count")].parse::<u64>().unwrap()).sum();
    assert_eq!(counted, mm.count);
    let target: f64 = rows[0][col("target")].parse().unwrap();
    assert!((target - 300.0).abs() < 1.0, "the agents' targets (100 each) add up: {target}");
    assert_eq!(rows[0][col("server_rss_bytes")], "", "nobody sampled a server here");
    // Per-agent generator figures and clock offsets are kept.
    assert_eq!(merged.agents.len(), 3);
    assert!(merged.agents.iter().all(|a| a.clock_offset_s.abs() < 0.2 && a.generator.cores > 0));
    // The test's threshold judged on the merged result: violated, exit 99.
    assert_eq!(merged.exit_code(), 99);
    assert!(!merged.thresholds[0].ok);

    // Through the binary: merge exits 99, `report` reads the merged folder.
    let bin = env!("CARGO_BIN_EXE_authbench");
    let again = tmp.path().join("again");
    let st = Command::new(bin).arg("merge").arg(&again).args(&dirs).output().unwrap();
    assert_eq!(st.status.code(), Some(99), "{}", String::from_utf8_lossy(&st.stderr));
    assert!(String::from_utf8_lossy(&st.stdout).contains("merged from 3 agents"));
    let st = Command::new(bin).arg("report").arg(&again).output().unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));

    bad_input_is_refused_and_nothing_is_written(tmp.path(), &dirs, &one);
}

/// Merge refuses: a folder of another test, the same agent twice, a non-agent folder, a missing
/// or truncated .hlog, a non-empty OUT — exit 2, and OUT is never created or touched.
fn bad_input_is_refused_and_nothing_is_written(tmp: &Path, dirs: &[PathBuf], one: &Path) {
    let out = tmp.join("refused");
    let refused = |inputs: &[PathBuf], needle: &str| {
        let e = merge(&out, inputs).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(e.to_string().contains(needle), "{needle}: {e}");
        assert!(!out.exists(), "nothing written for `{needle}`");
    };
    refused(&[dirs[0].clone(), one.to_owned()], "not an agent's run");
    refused(&[dirs[0].clone(), dirs[0].clone()], "both agent 1/3");
    // Another test: agent 2's summary says 400 req/s.
    let other = tmp.join("other");
    copy_dir(&dirs[1], &other);
    let text = std::fs::read_to_string(other.join("summary.json")).unwrap();
    std::fs::write(other.join("summary.json"), text.replacen("\"target\": 300.0", "\"target\": 400.0", 1))
        .unwrap();
    refused(&[dirs[0].clone(), other.clone()], "different tests");
    // Truncated: cut the last interval line in half; then a whole line gone; then the file gone.
    let cut = tmp.join("cut");
    copy_dir(&dirs[1], &cut);
    let log = std::fs::read_to_string(cut.join("me.hlog")).unwrap();
    std::fs::write(cut.join("me.hlog"), &log[..log.len() - 40]).unwrap();
    refused(&[dirs[0].clone(), cut.clone()], "me.hlog");
    let lines: Vec<&str> = log.lines().collect();
    std::fs::write(cut.join("me.hlog"), lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    refused(&[dirs[0].clone(), cut.clone()], "truncated");
    std::fs::remove_file(cut.join("me.hlog")).unwrap();
    refused(&[dirs[0].clone(), cut.clone()], "me.hlog");
    // OUT not empty: refused, its file untouched.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep"), "mine").unwrap();
    let e = merge(&out, dirs).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert_eq!(std::fs::read_to_string(out.join("keep")).unwrap(), "mine");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}
