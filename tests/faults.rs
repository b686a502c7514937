//! `authbench faults` end to end: Redis killed and restarted under a session load, the target
//! killed mid-run, the target frozen (SIGSTOP) mid-run, the generator interrupted, Redis
//! SIGKILLed without and with AOF, and the logout-all races (a few trials: the full 1,000 are the
//! default) — each must pass, with its files on disk.

mod common;

use std::process::Command;

#[test]
fn every_fault_scenario_passes_and_is_reported() {
    common::require_redis();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(common::BIN)
        .args(["faults", "--race-trials", "40", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // The private Redis's (and cluster's) password: in no results file, nor in what faults printed.
    common::assert_no_redis_password_in(tmp.path());
    common::assert_no_redis_password("faults' stderr", &out.stderr);
    let mut r = csv::Reader::from_path(tmp.path().join("faults.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let get =
        |row: &csv::StringRecord, col: &str| row[headers.iter().position(|h| h == col).unwrap()].to_owned();
    // 6 faults, 2 Redis crashes (none, aof), 5 schemes x 2 races.
    assert_eq!(rows.len(), 18, "{err}");
    // Not a terminal: one line per case.
    assert_eq!(err.lines().filter(|l| l.starts_with("fault ")).count(), 18, "{err}");
    for row in &rows {
        assert_eq!(get(row, "passed"), "true", "{} failed: {}", get(row, "scenario"), get(row, "detail"));
        assert_eq!(get(row, "files_parse"), "true");
    }
    let outage = rows.iter().find(|r| get(r, "scenario") == "redis_outage").unwrap();
    let worst: f64 = get(outage, "worst_latency_ms").parse().unwrap();
    assert!(worst < 500.0, "503 took {worst} ms");
    let recovery: f64 = get(outage, "recovery_s").parse().unwrap();
    assert!(recovery < 2.0, "recovered after {recovery} s");
    assert!(get(outage, "errors").contains("status_5xx"), "outage errors counted by kind");
    // The outage is visible, by kind, in the load run's per-second file.
    let ts = std::fs::read_to_string(tmp.path().join("faults/redis-outage/timeseries.csv")).unwrap();
    let header: Vec<&str> = ts.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "err_status_5xx").expect("err_status_5xx column");
    let seconds_with_5xx = ts
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(col).is_some_and(|v| v.parse::<u64>().unwrap_or(0) > 0))
        .count();
    assert!(seconds_with_5xx >= 2, "outage seconds with 5xx: {seconds_with_5xx}");
    let dies = rows.iter().find(|r| get(r, "scenario") == "target_dies").unwrap();
    assert_ne!(get(dies, "exit_code"), "0");
    let frozen = rows.iter().find(|r| get(r, "scenario") == "target_frozen").unwrap();
    assert_eq!(get(frozen, "exit_code"), "1", "a hung target ends the run as a killed one does");
    assert!(get(frozen, "detail").contains("stopped answering"), "{}", get(frozen, "detail"));
    assert!(get(frozen, "errors").contains("timeout"), "{}", get(frozen, "errors"));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("faults/target-frozen/summary.json")).unwrap())
            .unwrap();
    assert!(s["total"]["unfinished"].as_u64().unwrap() > 0, "{}", s["total"]);
    assert_eq!(s["stopped_answering"]["cause"], "silent_longer_than_timeout", "{}", s["stopped_answering"]);
    // Redis Cluster: a killed primary's errors stay inside the failover window and the server
    // recovers by itself; a 2xx logout lost in a failover comes back without --durable-logout,
    // never with it.
    let failover = rows.iter().find(|r| get(r, "scenario") == "cluster_failover").unwrap();
    assert!(get(failover, "detail").contains("all inside"), "{}", get(failover, "detail"));
    let revoked = rows.iter().find(|r| get(r, "scenario") == "revoked_after_failover").unwrap();
    let detail = get(revoked, "detail");
    assert!(detail.contains("came back: 1 of 1 without") && detail.contains("0 with it"), "{detail}");
    // Redis SIGKILLed mid-load: without persistence every session goes (stated), with AOF none;
    // a session logged out before the kill never comes back.
    for (scenario, lost) in [("redis_killed_none", "40"), ("redis_killed_aof", "0")] {
        let row = rows.iter().find(|r| get(r, "scenario") == scenario).unwrap();
        assert_eq!(get(row, "sessions_lost"), lost, "{}", get(row, "detail"));
        assert_eq!(get(row, "resurrected"), "0", "{}", get(row, "detail"));
        assert!(!get(row, "relogins").is_empty() && !get(row, "recovery_s").is_empty());
    }
    for scheme in ["session", "session_cached", "session_tracked", "jwt_revocable", "jwt_pubsub"] {
        for race in ["logout_all_vs_refresh", "logout_all_vs_login"] {
            let name = format!("race_{scheme}_{race}");
            let row = rows.iter().find(|r| get(r, "scenario") == name).unwrap_or_else(|| panic!("no {name}"));
            assert_eq!((get(row, "trials").as_str(), get(row, "survivors").as_str()), ("40", "0"), "{name}");
            assert_eq!(get(row, "server_errors"), "0", "{name}");
        }
    }
    let int = rows.iter().find(|r| get(r, "scenario") == "generator_interrupted").unwrap();
    assert_eq!(get(int, "exit_code"), "130");
    assert!(out.status.success(), "{err}");
    let md = std::fs::read_to_string(tmp.path().join("reliability.md")).unwrap();
    assert!(md.contains("| redis_outage |") && md.contains("pass"), "{md}");
    assert!(md.contains("| redis_killed_aof | 0 | 0 |"), "{md}");
    assert!(md.contains("only a crash of the OS or a power loss could lose the last second"), "{md}");
    assert!(md.contains("| race_jwt_pubsub_logout_all_vs_refresh | 40 | 0 |"), "{md}");
}
