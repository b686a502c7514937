//! `authbench faults`: inject the faults a harness must survive, against real processes, and
//! record what happened in `faults.csv` and `reliability.md`:
//!
//! - `redis_outage`: redis-server killed under a session load, restarted 3 s later. Every
//!   request during the outage must get a 503 within 500 ms, the load must complete and count
//!   the errors by kind, and the server must serve fresh logins within 2 s of Redis returning.
//! - `target_dies`: the server is SIGKILLed mid-run. `authbench load` must say so, exit
//!   non-zero, and leave every second it measured parseable on disk.
//! - `target_frozen`: the server is SIGSTOPped mid-run (a deadlock, a full accept queue, a GC
//!   pause: connections stay open, nothing answers). `authbench load` must time the requests out,
//!   say "the target stopped answering" as for a killed one (exit 1), count the requests left
//!   waiting as unfinished, and leave its files complete.
//! - `generator_interrupted`: SIGINT to `authbench load` mid-ramp: exit 130, complete files.
//! - `cluster_failover`, `revoked_after_failover`: the Redis Cluster cases, in [`cluster`].
//! - `redis_killed_none`, `redis_killed_aof`: redis-server SIGKILLed mid-load and restarted on the
//!   same port and directory, without persistence and with AOF: sessions lost, logged-out
//!   sessions resurrected, recovery, re-logins ([`crash`]).
//! - `race_<scheme>_<race>`: logout-all against a refreshing thief and against a login loop, for
//!   every scheme with a logout-all, `--race-trials` trials each ([`logout_races`]).
//!
//! Progress: on a terminal, each case's name when it starts and its result when it ends (and a
//! race's trials as they finish); otherwise one line per case, when it ends.
//!
//! [`evidence`]: what a fault run's load left behind — its errors by kind, the audit of its files.
//! Imports go one way: this file → `cluster`, `crash`, `logout_races` → `evidence`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use authbench_loadgen::LoadConfig;
use authbench_loadgen::Mix;
use authbench_loadgen::Scheme;
use authbench_loadgen::run_file;
use authbench_loadgen::{LoadModel, Ramp};
use authbench_procs::child::{self, Signal};
use authbench_procs::redis_server::Persistence;
use authbench_report::data::file;
use authbench_servers::{SchemeKind, ServeArgs};
use authbench_util::process::{self, Threads, exit, fail};
use clap::Args;

use crate::harness::credential::{login, me_status};
use crate::harness::redis::RedisServer;
use crate::harness::server::{ServerProcess, small};
use crate::reliability::FaultRow;

mod cluster;
mod crash;
mod evidence;
mod logout_races;

use evidence::{audit, errors_text};

/// Options of `authbench faults`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Inject faults (Redis outage, target killed, target frozen, Ctrl-C) and record recovery in reliability.md"
)]
pub struct FaultsArgs {
    /// Results folder to write `faults.csv`, `faults/` and `reliability.md` into (may already hold
    /// a compare run: its attack and lost-request sections are kept).
    #[arg(long, default_value = "results/faults")]
    pub out: PathBuf,

    /// Trials of each logout-all race per scheme (session, session-cached, session-tracked,
    /// jwt-revocable, jwt-pubsub; 20 at a time, one user each).
    #[arg(long, default_value_t = logout_races::DEFAULT_TRIALS, value_parser = authbench_util::parse::parse_count)]
    pub race_trials: u64,
}

/// One fault case; it yields one row, the races two.
#[derive(Debug, Clone, Copy)]
enum Case {
    RedisOutage,
    ClusterFailover,
    RevokedAfterFailover,
    TargetDies,
    TargetFrozen,
    GeneratorInterrupted,
    RedisKilled(Persistence),
    Races(SchemeKind),
}

impl Case {
    fn all() -> Vec<Case> {
        let mut all = vec![
            Case::RedisOutage,
            Case::ClusterFailover,
            Case::RevokedAfterFailover,
            Case::TargetDies,
            Case::TargetFrozen,
            Case::GeneratorInterrupted,
            Case::RedisKilled(Persistence::None),
            Case::RedisKilled(Persistence::Aof),
        ];
        all.extend(logout_races::SCHEMES.map(Case::Races));
        all
    }

    fn name(self) -> String {
        match self {
            Case::RedisOutage => "redis_outage".into(),
            Case::ClusterFailover => "cluster_failover".into(),
            Case::RevokedAfterFailover => "revoked_after_failover".into(),
            Case::TargetDies => "target_dies".into(),
            Case::TargetFrozen => "target_frozen".into(),
            Case::GeneratorInterrupted => "generator_interrupted".into(),
            Case::RedisKilled(p) => crash::scenario(p),
            Case::Races(s) => format!("race_{}", s.as_str().replace('-', "_")),
        }
    }

    /// Run it; the Redis outage needs the private redis-server to kill and restart.
    fn run(
        self,
        redis: &mut RedisServer,
        rt: &tokio::runtime::Runtime,
        work: &Path,
        trials: u64,
    ) -> Result<Vec<FaultRow>> {
        let row = match self {
            Case::RedisOutage => rt.block_on(redis_outage(redis, work)),
            Case::ClusterFailover => rt.block_on(cluster::cluster_failover(work)),
            Case::RevokedAfterFailover => rt.block_on(cluster::revoked_after_failover()),
            Case::TargetDies => target_dies(work),
            Case::TargetFrozen => target_frozen(work),
            Case::GeneratorInterrupted => generator_interrupted(work),
            Case::RedisKilled(p) => rt.block_on(crash::redis_killed(p, work)),
            Case::Races(s) => return rt.block_on(logout_races::races(s, trials)),
        };
        row.map(|r| vec![r])
    }
}

pub fn run(args: FaultsArgs) -> i32 {
    let work = args.out.join(file::FAULTS_DIR);
    if work.exists() {
        return fail(
            &format!(
                "{} already exists: choose another --out so no earlier fault run is overwritten",
                work.display()
            ),
            exit::BAD_INPUT,
        );
    }
    if let Err(e) = std::fs::create_dir_all(&work) {
        return fail(&format!("cannot create {}: {e}", work.display()), exit::BAD_INPUT);
    }
    let mut redis = match RedisServer::start() {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string(), e.exit_code()),
    };
    let runtime = match process::runtime(Threads::Multi) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut rows = Vec::new();
    let terminal = std::io::stderr().is_terminal();
    for case in Case::all() {
        let name = case.name();
        if terminal {
            eprintln!("fault: {name}");
        }
        let found = case.run(&mut redis, &runtime, &work, args.race_trials).unwrap_or_else(|e| {
            vec![FaultRow {
                scenario: name.clone(),
                injected: "–".into(),
                detail: format!("scenario failed to run: {e:#}"),
                ..FaultRow::default()
            }]
        });
        for row in found {
            let verdict = if row.passed { "pass" } else { "FAIL" };
            match terminal {
                true => eprintln!("  {verdict} — {}", row.detail),
                false => eprintln!("fault {}: {verdict} — {}", row.scenario, row.detail),
            }
            rows.push(row);
        }
        // Written after each scenario so an interrupted fault run keeps what it found.
        if let Err(e) = authbench_report::reliability::write_faults(&args.out, &rows)
            .and_then(|()| authbench_report::reliability::render(&args.out))
        {
            return fail(&format!("writing results: {e:#}"), exit::FAILED);
        }
    }
    eprintln!("reliability report: {}", args.out.join(file::RELIABILITY).display());
    if rows.iter().all(|r| r.passed) { exit::OK } else { exit::FAILED }
}

async fn redis_outage(redis: &mut RedisServer, work: &Path) -> Result<FaultRow> {
    let dir = work.join("redis-outage");
    let server =
        ServerProcess::spawn(&ServeArgs { redis_url: Some(redis.url()), ..small(SchemeKind::Session) })?;
    let addr = server.addr;
    let mut config = LoadConfig::new(
        addr,
        Some(Scheme::new(SchemeKind::Session.as_str(), SchemeKind::Session.credential())),
        LoadModel::Closed { stages: Ramp::constant(40.0, Duration::from_secs(12)) },
    );
    config.server_pid = Some(server.pid());
    config.mix = Mix { me: 100, refresh: 0, logout: 0 };
    config.out_dir = Some(dir.clone());
    config.timeout = Duration::from_secs(2);
    let stop = authbench_loadgen::CancellationToken::new();
    let load = tokio::spawn(authbench_loadgen::run(config, stop.clone()));

    tokio::time::sleep(Duration::from_secs(4)).await;
    let probe = login(addr, 999).await?;
    redis.kill();
    let killed = Instant::now();
    // Every request during the outage: 503 JSON, within 500 ms.
    let mut worst = Duration::ZERO;
    let mut statuses = Vec::new();
    while killed.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        statuses.push(me_status(addr, &probe).await?);
        worst = worst.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Redis returns (empty, as after a crash without persistence); the server must recover alone.
    tokio::task::block_in_place(|| redis.restart())?;
    let restarted = Instant::now();
    let recovery = loop {
        if let Ok(fresh) = login(addr, 998).await
            && me_status(addr, &fresh).await? == 200
        {
            break Some(restarted.elapsed());
        }
        if restarted.elapsed() > Duration::from_secs(10) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let summary = load.await?.context("the load run itself failed")?;
    server.stop();
    let (parse, lost, files) = audit(&dir);
    let all_503 = statuses.iter().all(|&s| s == 503);
    let counted_5xx: u64 =
        summary.endpoints.values().map(|e| e.errors_by_kind.get("status_5xx").copied().unwrap_or(0)).sum();
    let passed = all_503
        && worst < Duration::from_millis(500)
        && recovery.is_some_and(|r| r < Duration::from_secs(2))
        && counted_5xx > 0
        && !summary.target_lost
        && parse
        && lost == 0;
    Ok(FaultRow {
        scenario: "redis_outage".into(),
        injected: "redis-server SIGKILL at 4 s under 40 session users, restarted 3 s later".into(),
        requests: summary.total.count + summary.total.errors + summary.total.unfinished,
        errors: errors_text(&summary),
        worst_latency_ms: Some(worst.as_secs_f64() * 1e3),
        recovery_s: recovery.map(|r| r.as_secs_f64()),
        exit_code: None,
        files_parse: parse,
        passed,
        detail: format!(
            "{} probes during the outage, {} answered 503 (worst {:.0} ms); the load completed and counted {counted_5xx} \
             5xx; fresh login + /api/me succeeded {} after Redis returned, without restarting the server; {files}",
            statuses.len(),
            statuses.iter().filter(|&&s| s == 503).count(),
            worst.as_secs_f64() * 1e3,
            recovery
                .map(|r| format!("{:.0} ms", r.as_secs_f64() * 1e3))
                .unwrap_or_else(|| "never (10 s)".into())
        ),
        ..FaultRow::default()
    })
}

/// `authbench load` as a child process against `server`, returning it to be signalled.
fn load_child(server: &ServerProcess, dir: &Path, model: &[&str]) -> Result<std::process::Child> {
    let exe = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .args(["load", "--target", &format!("http://{}", server.addr), "--scheme", "cookie"])
        .args(model)
        .args(["--server-pid", &server.pid().to_string(), "--no-progress", "--out"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    child::spawn(command, Signal::KILL).context("spawn authbench load")
}

fn finish_child(child: std::process::Child) -> Result<(Option<i32>, String)> {
    let out = child.wait_with_output()?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or("").to_owned(),
    ))
}

fn measured_requests(dir: &Path) -> u64 {
    std::fs::read(dir.join(run_file::SUMMARY_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .map(|v| {
            let n = |k: &str| v["total"][k].as_u64().unwrap_or(0);
            n("count") + n("errors") + n("unfinished")
        })
        .unwrap_or(0)
}

fn target_dies(work: &Path) -> Result<FaultRow> {
    let dir = work.join("target-dies");
    let server = ServerProcess::spawn(&small(SchemeKind::Cookie))?;
    let child = load_child(&server, &dir, &["--vus", "20", "--duration", "12s"])?;
    std::thread::sleep(Duration::from_secs(3));
    let _ = child::signal(server.pid(), Signal::KILL);
    let killed = Instant::now();
    let (code, said) = finish_child(child)?;
    let took = killed.elapsed();
    drop(server);
    let (parse, lost, files) = audit(&dir);
    let requests = measured_requests(&dir);
    let passed = code.is_some_and(|c| c != 0 && c != 130)
        && parse
        && lost == 0
        && requests > 0
        && took < Duration::from_secs(11);
    Ok(FaultRow {
        scenario: "target_dies".into(),
        injected: "cookie server SIGKILL at 3 s of a 12 s run".into(),
        requests,
        errors: "connection errors after the kill".into(),
        worst_latency_ms: None,
        recovery_s: None,
        exit_code: code,
        files_parse: parse,
        passed,
        detail: format!(
            "authbench load exited {code:?} {:.1} s after the kill, saying: \"{said}\"; {files}",
            took.as_secs_f64()
        ),
        ..FaultRow::default()
    })
}

fn target_frozen(work: &Path) -> Result<FaultRow> {
    let dir = work.join("target-frozen");
    let server = ServerProcess::spawn(&small(SchemeKind::Cookie))?;
    let child = load_child(&server, &dir, &["--vus", "20", "--duration", "8s", "--timeout", "2s"])?;
    std::thread::sleep(Duration::from_secs(3));
    child::signal(server.pid(), Signal::STOP).context("SIGSTOP the server")?;
    let frozen = Instant::now();
    let outcome = finish_child(child);
    let took = frozen.elapsed();
    // Thawed only after the load exited, then stopped as usual.
    let _ = child::signal(server.pid(), Signal::CONT);
    server.stop();
    let (code, said) = outcome?;
    let (parse, lost, files) = audit(&dir);
    let requests = measured_requests(&dir);
    let summary: Option<authbench_loadgen::Summary> =
        std::fs::read(dir.join(run_file::SUMMARY_JSON)).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let (errors, unfinished, stopped) = summary.as_ref().map_or((String::new(), 0, None), |s| {
        (errors_text(s), s.total.unfinished, s.stopped_answering.clone())
    });
    let timeouts = summary
        .as_ref()
        .map_or(0, |s| s.endpoints.values().filter_map(|e| e.errors_by_kind.get("timeout")).sum::<u64>());
    let passed = code == Some(1)
        && said.contains("stopped answering")
        && stopped.is_some()
        && timeouts > 0
        && unfinished > 0
        && parse
        && lost == 0
        && requests > 0
        && took < Duration::from_secs(10);
    Ok(FaultRow {
        scenario: "target_frozen".into(),
        injected: "cookie server SIGSTOP at 3 s of an 8 s run, --timeout 2s".into(),
        requests,
        errors,
        worst_latency_ms: None,
        recovery_s: None,
        exit_code: code,
        files_parse: parse,
        passed,
        detail: format!(
            "authbench load exited {code:?} {:.1} s after the freeze, saying: \"{said}\"; {timeouts} timeouts, \
             {unfinished} requests left unfinished; {files}",
            took.as_secs_f64()
        ),
        ..FaultRow::default()
    })
}

fn generator_interrupted(work: &Path) -> Result<FaultRow> {
    let dir = work.join("generator-interrupted");
    let server = ServerProcess::spawn(&small(SchemeKind::Cookie))?;
    let child = load_child(&server, &dir, &["--stages", "5s:40,10s:80"])?;
    std::thread::sleep(Duration::from_secs(3));
    let _ = child::signal(child.id(), Signal::INT);
    let (code, said) = finish_child(child)?;
    server.stop();
    let (parse, lost, files) = audit(&dir);
    let requests = measured_requests(&dir);
    let interrupted = std::fs::read(dir.join(run_file::SUMMARY_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v["interrupted"] == true);
    let passed = code == Some(130) && parse && lost == 0 && requests > 0 && interrupted;
    if !dir.join(run_file::SUMMARY_JSON).exists() {
        bail!("no {} after Ctrl-C ({said})", run_file::SUMMARY_JSON);
    }
    Ok(FaultRow {
        scenario: "generator_interrupted".into(),
        injected: "SIGINT to authbench load at 3 s of a 15 s ramp".into(),
        requests,
        errors: "none expected".into(),
        worst_latency_ms: None,
        recovery_s: None,
        exit_code: code,
        files_parse: parse,
        passed,
        detail: format!("exit {code:?}, summary marked interrupted: {interrupted}; {files}"),
        ..FaultRow::default()
    })
}
