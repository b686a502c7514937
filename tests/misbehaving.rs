//! `authbench load` against a target that misbehaves after its first answer (tests/common/
//! bad_target.rs): each failure is counted under the kind that says what happened, a target that
//! never answers again is "stopped answering" (exit 1), and the files are intact in every case.

mod common;

use std::path::Path;
use std::process::Command;

use common::BIN;
use common::bad_target::{BadTarget, Misbehaviour};

struct Run {
    code: Option<i32>,
    stderr: String,
    summary: serde_json::Value,
}

/// Closed model, 2 users on /healthz, with the files checked for consistency.
fn load(target: &BadTarget, duration: &str, timeout: &str, dir: &Path) -> Run {
    let o = Command::new(BIN)
        .args(["load", "--target", &target.base, "--scheme", "none", "--vus", "2"])
        .args(["--duration", duration, "--timeout", timeout, "--no-progress", "--out"])
        .arg(dir)
        .output()
        .expect("run authbench load");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).expect("summary.json")).unwrap();
    files_are_intact(dir, &summary);
    Run { code: o.status.code(), stderr, summary }
}

/// Every file parses, and every request the summary counts is in the per-second files.
fn files_are_intact(dir: &Path, s: &serde_json::Value) {
    let me = &s["endpoints"]["healthz"];
    let hlog = std::fs::read(dir.join("healthz.hlog")).expect("healthz.hlog");
    let in_hlog = authbench_loadgen::read_hlog(&hlog).expect("hlog parses").len();
    assert_eq!(in_hlog, me["count"].as_u64().unwrap(), "hlog holds every success: {s}");
    let mut ts = csv::Reader::from_path(dir.join("timeseries.csv")).unwrap();
    let header = ts.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = ts.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty());
    let sum = |name: &str| -> u64 {
        let c = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
        rows.iter().map(|r| r[c].parse::<u64>().unwrap_or(0)).sum()
    };
    assert_eq!(sum("healthz_errors"), me["errors"].as_u64().unwrap(), "errors per second add up: {s}");
    assert_eq!(sum("unfinished"), s["total"]["unfinished"].as_u64().unwrap(), "unfinished on disk: {s}");
    for (kind, n) in me["errors_by_kind"].as_object().unwrap() {
        assert_eq!(sum(&format!("err_{kind}")), n.as_u64().unwrap(), "{kind} per second adds up");
    }
    let csv_rows = csv::Reader::from_path(dir.join("summary.csv")).unwrap().records().count();
    assert_eq!(csv_rows, 1, "one endpoint, one summary.csv row");
}

fn kind_count(s: &serde_json::Value, kind: &str) -> u64 {
    s["endpoints"]["healthz"]["errors_by_kind"][kind].as_u64().unwrap_or(0)
}

/// A target that answers, wrongly: every request after the first fails with `kind`, nothing else;
/// the target did answer, so the run is not "stopped answering".
fn answers_wrongly(mode: Misbehaviour, kind: &str) {
    let target = BadTarget::start(mode);
    let dir = tempfile::tempdir().unwrap();
    let r = load(&target, "1s", "2s", dir.path());
    let me = &r.summary["endpoints"]["healthz"];
    assert_eq!(r.code, Some(0), "{mode:?}: {}", r.stderr);
    assert_eq!(me["count"], 0, "{mode:?}: nothing succeeded: {me}");
    let errors = me["errors"].as_u64().unwrap();
    assert!(errors >= 10, "{mode:?}: {me}");
    assert_eq!(kind_count(&r.summary, kind), errors, "{mode:?}: every failure is {kind}: {me}");
    assert_eq!(r.summary["total"]["error_rate"].as_f64(), Some(1.0));
    assert_eq!(r.summary["target_lost"], false, "{mode:?}: it answered, if badly");
    assert!(r.summary["stalls"].as_array().unwrap().is_empty(), "{}", r.summary["stalls"]);
}

#[test]
fn garbage_is_not_http() {
    answers_wrongly(Misbehaviour::Garbage, "not_http");
}

#[test]
fn a_broken_header_line_is_bad_header() {
    answers_wrongly(Misbehaviour::BadHeader, "bad_header");
}

#[test]
fn too_many_headers_is_oversized_header() {
    answers_wrongly(Misbehaviour::OversizedHeader, "oversized_header");
}

#[test]
fn a_short_body_is_truncated_body() {
    answers_wrongly(Misbehaviour::TruncatedBody, "truncated_body");
}

/// A target that never answers again: failures of `kind`, then "stopped answering", exit 1.
fn stops_answering(mode: Misbehaviour, kind: &str, timeout: &str, cause: &str) -> Run {
    let target = BadTarget::start(mode);
    let dir = tempfile::tempdir().unwrap();
    let r = load(&target, "3s", timeout, dir.path());
    let s = &r.summary;
    assert_eq!(r.code, Some(1), "{mode:?}: {}\n{s}", r.stderr);
    assert!(r.stderr.contains("stopped answering"), "{mode:?}: {}", r.stderr);
    assert!(kind_count(s, kind) > 0, "{mode:?}: {kind} counted: {}", s["endpoints"]);
    assert_eq!(s["endpoints"]["healthz"]["count"], 0);
    assert_eq!(s["stopped_answering"]["cause"], cause, "{mode:?}: {}", s["stopped_answering"]);
    assert!(s["stopped_answering"]["at_s"].as_f64().unwrap() < 0.5, "{}", s["stopped_answering"]);
    r
}

#[test]
fn closing_without_an_answer_is_closed_then_stopped_answering() {
    stops_answering(Misbehaviour::Close, "closed", "10s", "silent_at_end");
}

#[test]
fn a_reset_is_reset_then_stopped_answering() {
    stops_answering(Misbehaviour::Reset, "reset", "10s", "silent_at_end");
}

#[test]
fn a_refused_connect_is_connect_refused_then_stopped_answering() {
    stops_answering(Misbehaviour::Refuse, "connect_refused", "10s", "gone");
}

#[test]
fn a_target_that_hangs_times_out_then_stopped_answering() {
    let r = stops_answering(Misbehaviour::Hang, "timeout", "1s", "silent_longer_than_timeout");
    let s = &r.summary;
    assert_eq!(s["total"]["unfinished"], 2, "both users were left waiting: {}", s["total"]);
    assert!(s["total"]["unfinished_max_age_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(s["total"]["error_rate"].as_f64(), Some(1.0), "timeouts and unfinished all count");
}
