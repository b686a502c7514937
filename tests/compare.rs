//! `authbench compare --quick` end to end against real servers and a real redis-server (which
//! compare starts itself), `authbench report` rebuilding the same report from the CSVs, and the
//! summary agreeing with the per-run files it came from.

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, require_redis};

fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
        })
        .collect()
}

fn summary_value(rows: &[std::collections::HashMap<String, String>], scheme: &str, metric: &str) -> f64 {
    rows.iter()
        .find(|r| r["scheme"] == scheme && r["metric"] == metric)
        .unwrap_or_else(|| panic!("summary.csv has no {scheme}/{metric}"))["mean"]
        .parse()
        .unwrap()
}

#[test]
fn quick_compare_writes_every_file_and_report_rebuilds_identically() {
    require_redis();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // No --no-progress: stderr is a pipe here, not a terminal, so the phases must still be logged,
    // one line each (a bar would be hidden and a redirected log would say nothing for the run).
    let o = Command::new(BIN)
        .args(["compare", "--quick", "--seed", "7", "--stages", "2s:20"])
        // The originals: the variants have their own end-to-end tests (CI's time budget).
        .args(["--schemes", "cookie,session,jwt"])
        .args(["--sessions", "0,2k", "--rate", "0.3k", "--memory-levels", "20k,40k"])
        // A tiny validation workload (2,000 stored sessions, 200 active at 1 req/s).
        .args(["--validate-users", "2k", "--validate-active", "200", "--validate-rate", "1"])
        .args(["--validate-window", "3s", "--out"])
        .arg(&out)
        // Outside the checkout: environment.json must still name the commit that built the binary.
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "compare --quick failed: {}: {stderr}", o.status);
    for line in ["jwt r1: checks", "session r1: sweep 2000 sessions", "cookie: revocation window"] {
        assert!(stderr.contains(line), "no `{line}` on a redirected stderr:\n{stderr}");
    }
    // The private Redis's password is in no results file.
    common::assert_no_redis_password_in(&out);

    for f in [
        "summary.csv",
        "ramp.csv",
        "sessions.csv",
        "spectrum.csv",
        "revocation.csv",
        "credentials.csv",
        "checks.csv",
        "environment.json",
        "report.md",
        "report.html",
        "attacks.csv",
        "lost.csv",
        "reliability.md",
        "saturation.csv",
        "phases.csv",
        "healthz_pairs.csv",
    ] {
        let p = out.join(f);
        assert!(p.is_file() && std::fs::metadata(&p).unwrap().len() > 0, "{f} missing or empty");
    }
    let pngs = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(pngs >= 5, "expected the plots as PNG, found {pngs}");

    // Every check passed, for every scheme, including cross-scheme equivalence.
    let checks = csv_rows(&out.join("checks.csv"));
    for scheme in ["cookie", "session", "jwt"] {
        assert!(checks.iter().any(|c| c["scheme"] == scheme), "no checks for {scheme}");
    }
    for c in &checks {
        assert_eq!(c["passed"], "true", "check failed: {c:?}");
    }
    assert!(checks.iter().any(|c| c["check"] == "one_store_lookup_per_request" && c["scheme"] == "session"));
    assert_eq!(checks.iter().filter(|c| c["check"] == "me_body_identical_across_schemes").count(), 3);

    // Forged credentials: all rejected with 4xx; nothing the generator counted is missing on disk.
    let attacks = csv_rows(&out.join("attacks.csv"));
    for scheme in ["cookie", "session", "jwt"] {
        let tried: u64 = attacks
            .iter()
            .filter(|a| a["scheme"] == scheme)
            .map(|a| a["tried"].parse::<u64>().unwrap())
            .sum();
        assert!(tried >= 150, "{scheme}: only {tried} attack inputs");
    }
    for a in &attacks {
        assert_eq!(a["tried"], a["rejected_4xx"], "not all rejected: {a:?}");
    }
    let lost = csv_rows(&out.join("lost.csv"));
    assert!(lost.len() >= 3 * 4, "lost.csv should cover every run phase: {}", lost.len());
    assert!(lost.iter().all(|l| l["lost"] == "0"), "lost requests: {lost:?}");
    assert!(lost.iter().any(|l| l["measured"].parse::<u64>().unwrap() > 1000));
    let reliability = std::fs::read_to_string(out.join("reliability.md")).unwrap();
    assert!(reliability.contains(", 0 lost**"), "{reliability}");

    // The saturation search ran for every scheme, each step judged; phases were timed.
    let steps = csv_rows(&out.join("saturation.csv"));
    for scheme in ["cookie", "session", "jwt"] {
        let mine: Vec<_> = steps.iter().filter(|s| s["scheme"] == scheme).collect();
        assert!(mine.len() >= 2, "{scheme}: {} saturation steps", mine.len());
        assert!(
            mine.iter().all(|s| !s["limits"].is_empty() && s["offered_rps"].parse::<f64>().unwrap() > 0.0)
        );
        assert!(mine.iter().filter(|s| s["knee"] == "true").count() <= 1, "one knee per repeat");
        // No cache: the open model's own pool, no population, no hit ratio.
        assert!(mine.iter().all(|s| s["users"].is_empty() && s["hit_ratio"].is_empty()), "{mine:?}");
    }
    // The store one hop away (`--quick`'s default --store-rtt 0,1ms): session's /api/me crosses
    // it, jwt's does not; the revocation windows were probed again with the hop in place.
    let rtt = csv_rows(&out.join("store_rtt.csv"));
    let p50 = |scheme: &str, rtt_us: &str| -> f64 {
        let row = rtt.iter().find(|r| r["scheme"] == scheme && r["rtt_us"] == rtt_us);
        row.unwrap_or_else(|| panic!("store_rtt.csv lacks {scheme} at {rtt_us} µs: {rtt:?}"))["p50_us"]
            .parse()
            .unwrap()
    };
    assert!(
        p50("session", "1000.0") >= 1000.0 && p50("session", "1000.0") > p50("session", "0.0"),
        "{rtt:?}"
    );
    assert!(p50("jwt", "1000.0") < 1000.0, "jwt makes no store call: {rtt:?}");
    assert!(!rtt.iter().any(|r| r["scheme"] == "cookie"), "cookie is not in the store-RTT set");
    let session_rtt = rtt.iter().find(|r| r["scheme"] == "session" && r["rtt_us"] == "1000.0").unwrap();
    assert!(session_rtt["proxy_cpu_us_per_req"].parse::<f64>().unwrap() > 0.0, "{session_rtt:?}");
    let windows = csv_rows(&out.join("store_rtt_revocation.csv"));
    assert!(windows.iter().any(|w| w["scheme"] == "session" && w["rejected"] == "true"), "{windows:?}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("## Store round trip") && report.contains("session − jwt"),
        "no store-RTT section"
    );

    // The default transports, h1 and h2-tls, for every scheme: the cookie mode follows TLS, the
    // h2 crate never indexes a credential (same bytes on requests 2 and 100), TLS costs bytes.
    let transport = csv_rows(&out.join("transport.csv"));
    for scheme in ["cookie", "session", "jwt"] {
        let of = |t: &str| {
            transport
                .iter()
                .find(|r| r["scheme"] == scheme && r["transport"] == t)
                .unwrap_or_else(|| panic!("transport.csv lacks {scheme} over {t}: {transport:?}"))
        };
        let (h1, h2) = (of("h1"), of("h2-tls"));
        assert_eq!(h1["errors"], "0", "{h1:?}");
        assert_eq!(h2["errors"], "0", "{h2:?}");
        assert_eq!(h2["cookie"].starts_with("__Host-"), scheme != "jwt", "{h2:?}");
        assert_eq!(h2["sent_2"], h2["sent_100"], "{h2:?}");
        let first: u64 = h2["sent_1"].parse().unwrap();
        assert!(first > 1000 + h2["sent_2"].parse::<u64>().unwrap(), "a TLS handshake on request 1: {h2:?}");
        assert!(h2["resumed_share"].parse::<f64>().unwrap() > 0.5, "logins resume: {h2:?}");
        // Both at the same utilisation: aimed at the h1 ladder step's busy share, and reached it
        // (loosely: a shared CI machine).
        for r in [h1, h2] {
            let target: f64 = r["target_server_busy"].parse().unwrap_or_else(|_| {
                let ladder = std::fs::read_to_string(out.join("cpu_vs_load.csv")).unwrap_or_default();
                panic!("no target: {r:?}; cpu_vs_load.csv:\n{ladder}")
            });
            let reached: f64 = r["server_busy"].parse().unwrap();
            assert!(target > 0.0 && reached > target / 3.0 && reached < target * 3.0, "{r:?}");
        }
    }
    assert!(
        report.contains("## Transport")
            && report.contains("of which the TLS handshake")
            && report.contains("at the same utilisation over every transport"),
        "no transport section"
    );

    // Every written step's server CPU % is its CPU per request times its achieved rate
    // (µs × req/s ÷ 1e4), within 10%: both come from one CPU span. Steps where the generator
    // itself was saturated are left out: its sampler and its schedule fall behind the planned
    // window the achieved rate is divided by (12% apart on one such step on this machine).
    let mut agreeing = 0;
    for file in ["saturation.csv", "cpu_vs_load.csv"] {
        for s in csv_rows(&out.join(file)) {
            let f = |k: &str| s[k].parse::<f64>().unwrap();
            if s["generator_saturated"] == "true" || f("achieved_rps") <= 0.0 {
                continue;
            }
            let implied = f("server_cpu_us_per_req") * f("achieved_rps") / 1e4;
            let pct = f("server_cpu_pct");
            assert!(
                (pct - implied).abs() <= 0.1 * pct,
                "{file}: cpu {pct:.2}% vs µs/req × rps {implied:.2}%: {s:?}"
            );
            agreeing += 1;
        }
    }
    assert!(agreeing >= 6, "only {agreeing} unsaturated steps to check");
    let phases = csv_rows(&out.join("phases.csv"));
    for phase in ["checks", "saturation", "ramp", "sweep", "store rtt", "transport", "revocation window"] {
        assert!(phases.iter().any(|p| p["phase"] == phase), "phases.csv lacks {phase}");
    }

    // The environment names the seed and the order it produced.
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("environment.json")).unwrap()).unwrap();
    assert_eq!(env["seed"], 7);
    assert_eq!(env["scheme_order_per_repeat"][0].as_array().unwrap().len(), 3);
    assert!(env["command_line"].as_array().unwrap().iter().any(|a| a == "--quick"));
    // --pin auto (the default): on 2+ CPUs the generator and the servers run apart, and it says so.
    let pinning = env["pinning"].as_str().unwrap();
    if std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2 {
        assert!(pinning.starts_with("load generator (compare, every thread) on CPU "), "{pinning}");
    }
    // The build's commit and compiler (build.rs), not the HEAD of the directory it ran in.
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    assert_eq!(env["git_commit"].as_str().map(str::to_owned), git(&["rev-parse", "HEAD"]));
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(env["rustc"].as_str(), Some(String::from_utf8_lossy(&rustc.stdout).trim()));

    // Summary numbers come from the per-run files: with one repeat, the mean is that run's value.
    // CPU per request has one definition: the utilisation's step (60% of the repeat's maximum, open
    // model), and the /healthz ratio pairs it with /healthz at the same offered rate.
    let summary = csv_rows(&out.join("summary.csv"));
    let pairs = csv_rows(&out.join("healthz_pairs.csv"));
    let run_json = |dir: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(out.join(dir).join("summary.json")).unwrap()).unwrap()
    };
    for scheme in ["cookie", "session", "jwt"] {
        let run = run_json(&format!("runs/{scheme}-r1/load-60pct"));
        let healthz = run_json(&format!("runs/{scheme}-r1/healthz-60pct"));
        let server_cpu = run["server"]["cpu_us_per_req"].as_f64().unwrap();
        let in_summary = summary_value(&summary, scheme, "me_cpu_us_per_req_server");
        assert!(
            (server_cpu - in_summary).abs() < 1e-6 * server_cpu.max(1.0),
            "{scheme}: {server_cpu} vs {in_summary}"
        );
        let rps = run["endpoints"]["me"]["rps"].as_f64().unwrap();
        assert!((rps - summary_value(&summary, scheme, "me_steady_rps")).abs() < 1e-6 * rps);
        assert!(summary_value(&summary, scheme, "credential_bytes") > 10.0);
        let pair = pairs.iter().find(|p| p["scheme"] == scheme).expect("a /healthz pair per scheme");
        let h = healthz["server"]["cpu_us_per_req"].as_f64().unwrap();
        assert!((pair["healthz_server_cpu_us"].parse::<f64>().unwrap() - h).abs() < 1e-9 * h, "{pair:?}");
        // The same offered rate as the scheme's 60% step.
        let ladder = csv_rows(&out.join("cpu_vs_load.csv"));
        let step = ladder.iter().find(|l| l["scheme"] == scheme && l["share"] == "0.6").unwrap();
        assert_eq!(pair["offered_rps"], step["offered_rps"], "{pair:?} {step:?}");
        let redis = summary_value(&summary, scheme, "me_cpu_us_per_req_redis");
        let ratio = summary_value(&summary, scheme, "cpu_ratio_me_over_healthz");
        assert!((ratio - (server_cpu + redis) / h).abs() < 1e-6 * ratio, "{scheme}: ratio {ratio}");
        // Nothing runs the saturated closed-loop windows any more.
        assert!(
            !out.join(format!("runs/{scheme}-r1/me")).exists()
                && !out.join(format!("runs/{scheme}-r1/healthz")).exists()
        );
    }
    // Session stores state; the stateless schemes store nothing.
    let sessions = csv_rows(&out.join("sessions.csv"));
    let keys = |scheme: &str, level: &str| -> u64 {
        sessions.iter().find(|r| r["scheme"] == scheme && r["sessions"] == level).unwrap()["redis_keys"]
            .parse()
            .unwrap()
    };
    assert!(keys("session", "2000") >= keys("session", "0") + 2000, "preloaded sessions are in Redis");
    assert!(keys("jwt", "2000") <= keys("jwt", "0") + 5, "jwt stores nothing");

    // Revocation: immediate for session, not before expiry for the stateless schemes.
    let rev = csv_rows(&out.join("revocation.csv"));
    // Five independent probe pairs per scheme, so the window has an interval.
    for scheme in ["session", "jwt"] {
        let probes: std::collections::HashSet<&str> =
            rev.iter().filter(|r| r["scheme"] == scheme).map(|r| r["probe"].as_str()).collect();
        assert_eq!(probes.len(), 5, "{scheme}: {rev:?}");
    }
    for r in &rev {
        let window: f64 = r["window_s"].parse().unwrap();
        match r["scheme"].as_str() {
            "session" => assert!(r["rejected"] == "true" && window < 0.25, "{r:?}"),
            // Stateless: the copy lives until it expires (server run with --ttl 3s; at least 1 s left).
            _ => assert!(
                r["rejected"] == "false" && window >= 1.0,
                "stateless {} cannot revoke: {r:?}",
                r["action"]
            ),
        }
        // Probed one at a time with server B under load at the utilisation step's rate, each
        // beside its floor: an always-valid credential's round trip through B just before.
        assert!(r["note"].contains("under load on server B at "), "{r:?}");
        let floor: f64 = r["floor_s"].parse().unwrap();
        assert!(floor > 0.0 && floor < 0.25, "{r:?}");
    }

    // Redis driven directly once per run: session's GETEX at the plan's Redis utilisation over the
    // sweep's largest key space (one repeat in --quick), and claim 4's control at each stored
    // level at the sweep's rate (target_busy NaN).
    let direct = csv_rows(&out.join("redis_direct.csv"));
    let at_util: Vec<_> = direct.iter().filter(|d| d["target_busy"] == "0.6").collect();
    assert_eq!(at_util.len(), 1, "{direct:?}");
    assert_eq!((at_util[0]["lookup"].as_str(), at_util[0]["keyspace"].as_str()), ("GETEX", "10000"));
    assert!(at_util[0]["busy"].parse::<f64>().unwrap() > 0.1, "{direct:?}");
    let control: Vec<_> = direct.iter().filter(|d| d["target_busy"] == "NaN").collect();
    assert_eq!(control.len(), 1, "{direct:?}");
    assert_eq!((control[0]["keyspace"].as_str(), control[0]["offered_rps"].as_str()), ("2000", "300.0"));
    assert!(control[0]["usec_per_call"].parse::<f64>().unwrap() > 0.0);
    assert_eq!(env["redis_shard_utilisation"], 0.6);
    assert_eq!(env["session_level_order_per_repeat"], serde_json::json!([[0, 2000]]));

    // Redis bytes per stored session at each --memory-levels level, from the previous one, with
    // the main hash table's buckets (a resize between 20k and 40k keys' worth: 2^15 → 2^16 → 2^17).
    let bytes = csv_rows(&out.join("store_bytes.csv"));
    let levels: Vec<_> = bytes.iter().filter(|b| b["item"] == "session").collect();
    assert_eq!(
        levels.iter().map(|b| b["items"].as_str()).collect::<Vec<_>>(),
        ["20000", "40000"],
        "{bytes:?}"
    );
    for b in &levels {
        assert_eq!(b["scheme"], "session");
        let per: f64 = b["bytes_per_item"].parse().unwrap();
        assert!((300.0..1200.0).contains(&per), "{per} B per session: {b:?}");
        assert!(b["table_buckets"].parse::<u64>().unwrap().is_power_of_two(), "{b:?}");
    }
    assert_eq!(env["memory_levels"], serde_json::json!([20_000, 40_000]));

    // Production login: one row per scheme from a server without --fast-login (the servers'
    // default argon2id), at a fixed rate below its maximum. An m=19 MiB hash costs milliseconds of
    // CPU; --fast-login's costs about a hundred microseconds.
    let logins = csv_rows(&out.join("login_cost.csv"));
    assert_eq!(logins.len(), 3, "{logins:?}");
    for scheme in ["cookie", "session", "jwt"] {
        let l = logins.iter().find(|l| l["scheme"] == scheme).expect("a login_cost row per scheme");
        assert_eq!(
            (l["argon2_m_kib"].as_str(), l["argon2_t"].as_str(), l["argon2_p"].as_str()),
            ("19456", "2", "1")
        );
        assert_eq!(l["errors"], "0", "{l:?}");
        assert!(l["logins"].parse::<u64>().unwrap() > 0 && l["offered_rps"].parse::<f64>().unwrap() > 0.0);
        let per_login: f64 = l["server_cpu_us_per_login"].parse().unwrap();
        assert!(per_login > 2_000.0, "{scheme}: {per_login} µs per login is not the production cost");
        let per_core: f64 = l["logins_per_core_s"].parse().unwrap();
        assert!((per_core * per_login - 1e6).abs() < 1.0, "{l:?}");
        assert!(l["p99_ms"].parse::<f64>().unwrap() >= l["p50_ms"].parse::<f64>().unwrap());
        // Redis CPU per login only where the login writes to the store.
        assert_eq!(l["redis_cpu_us_per_login"].is_empty(), scheme != "session", "{l:?}");
    }

    // Validation, the last phase: this run's rows predict the tiny workload for session and jwt
    // (the validated schemes of the run), which is then run and measured. Each figure has a
    // finite prediction and measurement and its error; no bound on the error.
    let val = csv_rows(&out.join("validation.csv"));
    for (scheme, figures) in [
        ("session", &["app_cpu_cores", "redis_cpu_cores", "redis_memory_bytes", "p99_us"][..]),
        ("jwt", &["app_cpu_cores", "p99_us"][..]),
    ] {
        for figure in figures {
            let v = val
                .iter()
                .find(|v| v["scheme"] == scheme && v["figure"] == *figure)
                .unwrap_or_else(|| panic!("no {scheme} {figure} row: {val:?}"));
            let num = |c: &str| -> f64 { v[c].parse().unwrap() };
            assert!(num("predicted").is_finite() && num("measured").is_finite(), "{v:?}");
            let error = (num("predicted") - num("measured")) / num("measured") * 100.0;
            assert!((num("error_pct") - error).abs() < 1e-6 * error.abs().max(1.0), "{v:?}");
            assert_eq!(v["note"].is_empty(), num("error_pct").abs() <= 15.0, "{v:?}");
        }
    }
    assert!(val.iter().all(|v| v["scheme"] != "cookie"), "{val:?}");
    assert!(stderr.contains("session: validation app_cpu_cores: predicted"), "the errors are not printed");

    // `authbench report` rebuilds the same report from the CSVs alone.
    let copy = tmp.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        if name.ends_with(".csv") || name == "environment.json" {
            std::fs::copy(&p, copy.join(&name)).unwrap();
        }
    }
    let status = Command::new(BIN).arg("report").arg(&copy).status().unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        std::fs::read_to_string(copy.join("report.md")).unwrap(),
        "report rebuilt from CSV differs from the original"
    );
}

/// The JWT variants' Redis memory against logout rate (issue 12), in the smallest compare that
/// runs them: two paced rates each, held 2 s (`--quick`), both within the entries' 6 s lifetime,
/// so every logout of the phase is still in Redis at the end of each rate.
#[test]
fn quick_compare_measures_memory_against_logout_rate() {
    require_redis();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = Command::new(BIN)
        .args(["compare", "--quick", "--no-progress", "--seed", "5", "--stages", "2s:20"])
        .args(["--schemes", "jwt-revocable,jwt-pubsub", "--sessions", "0,2k", "--rate", "0.3k"])
        .args(["--store-rtt", "none", "--transport", "none"])
        .args(["--logout-rates", "100,400", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "compare failed: {}", String::from_utf8_lossy(&o.stderr));

    let rows = csv_rows(&out.join("revocation_memory.csv"));
    let summary = csv_rows(&out.join("summary.csv"));
    let num = |r: &std::collections::HashMap<String, String>, c: &str| -> f64 {
        r[c].parse().unwrap_or_else(|e| panic!("{c} = {:?}: {e}", r[c]))
    };
    for scheme in ["jwt-revocable", "jwt-pubsub"] {
        let mine: Vec<_> = rows.iter().filter(|r| r["scheme"] == scheme).collect();
        assert_eq!(mine.len(), 2, "{scheme}: one row per rate: {rows:?}");
        let per_token = summary_value(&summary, scheme, "store_bytes_per_revoked_token");
        let mut live = 0.0;
        for r in &mine {
            let (offered, achieved) = (num(r, "offered_rps"), num(r, "achieved_rps"));
            assert!(achieved > 0.8 * offered && achieved < 1.2 * offered, "{scheme}: paced rate {r:?}");
            // 1 s access and refresh lifetime + 5 s leeway: nothing has expired yet.
            assert_eq!(num(r, "access_ttl_s") + num(r, "leeway_s"), 6.0);
            live += num(r, "logouts");
            let memory = num(r, "memory_bytes");
            let expected = live * per_token;
            assert!(
                memory > 0.5 * expected && memory < 3.0 * expected,
                "{scheme}: {memory} B for {live} live revoked logouts × {per_token} B per revoked token"
            );
            // Redis's own count of revocation entries follows the logouts.
            let (entries, model) = (num(r, "entries"), num(r, "expected_entries"));
            assert!(
                (entries - model).abs() <= 0.1 * model + 5.0,
                "{scheme}: {entries} entries, {model} expected"
            );
            assert!(num(r, "keys") >= entries, "{scheme}: {r:?}");
        }
        assert!(
            num(mine[1], "memory_bytes") > 2.0 * num(mine[0], "memory_bytes"),
            "{scheme}: memory must rise with the logout rate: {mine:?}"
        );
    }
    // Redis bytes per stored item: each variant's family key (100k families issued through the
    // servers' own code on a Redis of its own) and its revocation entries (the rows above).
    let bytes = csv_rows(&out.join("store_bytes.csv"));
    for scheme in ["jwt-revocable", "jwt-pubsub"] {
        let family: Vec<_> =
            bytes.iter().filter(|b| b["scheme"] == scheme && b["item"] == "family").collect();
        assert_eq!(family.len(), 1, "{bytes:?}");
        assert_eq!(family[0]["items"], "100000");
        let b = num(family[0], "bytes_per_item");
        assert!((100.0..1000.0).contains(&b), "{b} B per family");
        let revoked = bytes.iter().filter(|b| b["scheme"] == scheme && b["item"] == "revoked").count();
        assert_eq!(revoked, 2, "one per logout rate: {bytes:?}");
    }
    let phases = csv_rows(&out.join("phases.csv"));
    let timed: Vec<_> = phases.iter().filter(|p| p["phase"] == "logout memory").collect();
    assert_eq!(timed.len(), 2, "one timed phase per JWT variant: {phases:?}");
    assert!(
        out.join("memory_vs_logout_rate.png").is_file() && out.join("memory_vs_logout_rate.svg").is_file()
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("Redis memory against logout rate")
            && report.contains("Single run per rate, no interval")
    );
    assert!(report.contains("logouts/s, Redis holds ≈"), "no projection for the default lifetimes");
}

/// `--store cluster --replicas 2` (one run for both, to spare CI): compare starts a 3 + 3 Redis
/// Cluster, runs the session scheme on it as two replicas behind HAProxy, and reports keys and
/// memory per shard, memory per session on the cluster, Redis CPU summed over the nodes, the
/// checks across replicas and HAProxy's CPU as its own part.
#[test]
fn quick_compare_on_a_redis_cluster_behind_haproxy() {
    require_redis();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = Command::new(BIN)
        .args(["compare", "--quick", "--no-progress", "--seed", "3", "--stages", "2s:20"])
        .args(["--schemes", "session", "--store", "cluster", "--sessions", "0,2k", "--rate", "0.3k"])
        .args(["--replicas", "2", "--store-rtt", "1ms", "--transport", "none"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "compare --store cluster failed: {}", String::from_utf8_lossy(&o.stderr));
    // The private cluster's password: in no results file, nor in what compare printed.
    common::assert_no_redis_password_in(&out);
    common::assert_no_redis_password("compare's stderr", &o.stderr);

    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("environment.json")).unwrap()).unwrap();
    assert_eq!(env["store"], "cluster");
    let nodes = env["store_nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 6, "{nodes:?}");
    assert_eq!(nodes.iter().filter(|n| n["primary"] == true).count(), 3);

    let checks = csv_rows(&out.join("checks.csv"));
    let lookup = checks.iter().find(|c| c["check"] == "one_store_lookup_per_request").expect("lookup check");
    assert_eq!(lookup["passed"], "true", "{lookup:?}");

    // 2,000 sessions = 2,000 records + 2,000 user indexes, spread over the three primaries.
    let shards: Vec<_> =
        csv_rows(&out.join("shards.csv")).into_iter().filter(|s| s["sessions"] == "2000").collect();
    assert_eq!(shards.len(), 3, "{shards:?}");
    let keys: Vec<u64> = shards.iter().map(|s| s["keys"].parse().unwrap()).collect();
    assert_eq!(keys.iter().sum::<u64>(), 4_000, "{keys:?}");
    assert!(keys.iter().all(|&k| (800..=2_000).contains(&k)), "uneven spread: {keys:?}");
    assert!(shards.iter().all(|s| s["used_memory"].parse::<f64>().unwrap() > 1e6));

    let sessions = csv_rows(&out.join("sessions.csv"));
    let top = sessions.iter().find(|s| s["sessions"] == "2000").unwrap();
    assert_eq!(top["redis_keys"], "4000", "keys summed over the primaries");
    assert!(top["redis_cpu_us_per_req"].parse::<f64>().unwrap() > 0.0);
    let summary = csv_rows(&out.join("summary.csv"));
    let per_session = summary_value(&summary, "session", "store_bytes_per_session");
    assert!((200.0..2_000.0).contains(&per_session), "memory per session on the cluster: {per_session} B");

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Session store"), "no store section");
    assert!(report.contains("summed over all 6 nodes") && report.contains("per shard"), "{report}");

    // Replicas: two workers-capped servers behind HAProxy, checked across, HAProxy's CPU apart.
    assert_eq!(env["replicas"], 2);
    let cores = env["cores"].as_u64().unwrap();
    assert!(2 * env["workers_per_replica"].as_u64().unwrap() <= cores, "{env}");
    for check in ["credential_accepted_across_replicas", "revocation_holds_across_replicas"] {
        let row = checks.iter().find(|c| c["check"] == check).unwrap_or_else(|| panic!("no {check}"));
        assert_eq!(row["passed"], "true", "{row:?}");
    }
    let proxy = summary_value(&summary, "session", "me_cpu_us_per_req_proxy");
    let server = summary_value(&summary, "session", "me_cpu_us_per_req_server");
    let redis = summary_value(&summary, "session", "me_cpu_us_per_req_redis");
    let total = summary_value(&summary, "session", "me_cpu_us_per_req_total");
    assert!(proxy > 0.5 && proxy < server * 5.0, "HAProxy {proxy} µs vs servers {server} µs");
    assert!((total - (server + redis + proxy)).abs() < 1e-6 * total, "the total includes HAProxy's part");
    assert!(report.contains("## Replicas") && report.contains("HAProxy share"), "no replicas section");

    // Through a delay proxy per node: every node announced its proxy, so the cluster client's
    // redirections went through them too (else /api/me would not take the RTT).
    let rtt = csv_rows(&out.join("store_rtt.csv"));
    let p50: f64 =
        rtt.iter().find(|r| r["rtt_us"] == "1000.0").expect("a 1 ms row")["p50_us"].parse().unwrap();
    assert!(p50 >= 1000.0, "session on the cluster at 1 ms RTT: p50 {p50} µs");
}

/// `session-tracked` as two replicas: compare reads every replica's `/metrics` (directly, not
/// through HAProxy) and records the invalidations Redis pushed per second of the ramp (its mix
/// logs out and refreshes) and, per sweep level, the caches' entries, capacity and estimated
/// bytes, summed, with Redis's tracking-table size; the report states them.
#[test]
fn quick_compare_records_session_trackeds_cache_across_replicas() {
    require_redis();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = Command::new(BIN)
        .args(["compare", "--quick", "--no-progress", "--seed", "5", "--stages", "2s:20"])
        .args(["--schemes", "session-tracked", "--replicas", "2", "--sessions", "0,2k", "--rate", "0.3k"])
        .args(["--store-rtt", "none", "--transport", "none"])
        .args(["--hit-users", "2k"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "compare failed: {}", String::from_utf8_lossy(&o.stderr));

    let ramp: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("runs/session-tracked-r1/ramp/summary.json")).unwrap(),
    )
    .unwrap();
    let writes = ["logout", "refresh"]
        .iter()
        .map(|e| ramp["endpoints"][e]["count"].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert!(writes > 0, "the ramp's mix logged out or refreshed nobody: {}", ramp["endpoints"]);
    let summary = csv_rows(&out.join("summary.csv"));
    let per_s = summary_value(&summary, "session-tracked", "cache_invalidations_per_s");
    // Each write of a record some replica read is pushed to it; the ramp's writes bound that.
    let seconds = ramp["duration_s"].as_f64().unwrap();
    assert!(per_s > 0.0 && per_s <= 2.0 * writes as f64 / seconds * 1.5, "{per_s}/s for {writes} writes");

    let sessions = csv_rows(&out.join("sessions.csv"));
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for level in &sessions {
        let num = |c: &str| -> f64 { level[c].parse().unwrap_or_else(|_| panic!("{c} = {:?}", level[c])) };
        let (entries, capacity, bytes) = (num("cache_entries"), num("cache_capacity"), num("cache_bytes"));
        assert_eq!(capacity, 200_000.0, "two replicas' --cache-capacity summed");
        assert!(entries >= 1.0 && entries <= capacity, "{level:?}");
        let per_entry = bytes / entries;
        assert!((300.0..2_000.0).contains(&per_entry), "{per_entry} B per cached record");
        // Redis tracks every key a replica read and nobody wrote since: at least what is cached.
        assert!(num("redis_tracking_keys") >= 1.0, "{level:?}");
    }
    // Each replica caches at most the sessions looked up; Redis tracks those, plus the missing keys
    // the checks' forged ids read (a read of a missing key is tracked too, and never written).
    let top = sessions.iter().find(|s| s["sessions"] == "2000").unwrap();
    let used: f64 = top["distinct_sessions_used"].parse().unwrap();
    assert!(
        top["cache_entries"].parse::<f64>().unwrap() <= 2.0 * used,
        "more cached than looked up: {top:?}"
    );
    assert!(top["redis_tracking_keys"].parse::<f64>().unwrap() <= used + 500.0, "{top:?}");

    // The hit ratio at the workload's per-user rate: 2,000 users drawn uniformly at 0.1 req/s each
    // (200 req/s), the two replicas' /metrics counters over a 4 s window after three cache TTLs of
    // warm-up (--quick's shorter phase);
    // each replica sees each user at 0.05 req/s, which the model beside it is given.
    let hits = csv_rows(&out.join("hit_ratio.csv"));
    assert_eq!(hits.len(), 1, "{hits:?}");
    let h = &hits[0];
    let num = |c: &str| -> f64 { h[c].parse().unwrap() };
    assert_eq!((num("users"), num("total_rps"), num("rate_per_user")), (2000.0, 200.0, 0.1));
    assert!(num("warm_s") >= 3.0 * num("cache_ttl_s") && num("window_s") >= 4.0, "{h:?}");
    let lookups = num("hits") + num("misses");
    assert!((lookups / (200.0 * num("window_s")) - 1.0).abs() < 0.2, "{lookups} cache lookups: {h:?}");
    assert!((num("measured") - num("hits") / lookups).abs() < 1e-9);
    assert!((num("model") - 0.05 / 1.05).abs() < 1e-9, "{h:?}");
    assert!((num("measured") - num("model")).abs() < 0.04, "{h:?}");

    // The search and the ladder drew from the preloaded population: about offered ÷ 0.1 users (at
    // most --quick's 50,000), each step with the hit ratio the two replicas counted.
    for file in ["saturation.csv", "cpu_vs_load.csv"] {
        let rows = csv_rows(&out.join(file));
        assert!(!rows.is_empty(), "{file} is empty");
        for s in rows {
            let users: f64 = s["users"].parse().unwrap_or_else(|_| panic!("{file}: no users: {s:?}"));
            let offered: f64 = s["offered_rps"].parse().unwrap();
            assert_eq!(users, (offered / 0.1).ceil().min(50_000.0), "{file}: {s:?}");
            let h: f64 = s["hit_ratio"].parse().unwrap_or_else(|_| panic!("{file}: no hit ratio: {s:?}"));
            assert!((0.0..=1.0).contains(&h), "{file}: {s:?}");
        }
    }

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("drew each step's credentials uniformly"), "no population in the method");
    assert!(report.contains("**What the session caches cost**"), "no cache bullet");
    assert!(report.contains("invalidations pushed by Redis during the ramp"), "no invalidations/s");
    assert!(report.contains("per cached record") && report.contains("tracking table"), "no cache memory");
}

#[test]
fn compare_bad_input_exits_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("never");
    for args in [
        vec!["--stages", "ten seconds"],
        vec!["--sessions", "lots"],
        vec!["--schemes", "cookie,kerberos"],
        vec!["--rate", "-5"],
        vec!["--rate", "2x"],
        vec!["--repeat", "0"],
        vec!["--redis-cluster-url", "redis://127.0.0.1:1"],
        vec!["--store", "cluster", "--redis-url", "redis://127.0.0.1:1"],
        vec!["--store", "cluster", "--schemes", "session,jwt-revocable"],
        vec!["--store", "sharded"],
        vec!["--replicas", "0"],
        vec!["--replicas", "100000"],
        vec!["--redis-persistence", "aof", "--store", "cluster"],
        vec!["--redis-persistence", "aof", "--redis-url", "redis://127.0.0.1:1"],
        vec!["--redis-persistence", "rdb"],
    ] {
        let o = Command::new(BIN).arg("compare").args(&args).arg("--out").arg(&out).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} created the output directory");
    }
    // Replicas without haproxy: refused before anything starts, saying what to install.
    let o = Command::new(BIN)
        .args(["compare", "--replicas", "2", "--out"])
        .arg(&out)
        .env("AUTHBENCH_HAPROXY", tmp.path().join("no-haproxy"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("haproxy"), "{err}");
    assert!(!out.exists());
    // A non-empty --out is refused rather than overwritten.
    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "earlier result").unwrap();
    let o = Command::new(BIN).args(["compare", "--quick", "--out"]).arg(&full).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    assert_eq!(std::fs::read_to_string(full.join("keep.txt")).unwrap(), "earlier result");
    // An unwritable --out.
    let o = Command::new(BIN)
        .args(["compare", "--quick", "--out", "/proc/authbench-cannot-write"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    // report on a folder that does not exist.
    let o = Command::new(BIN).args(["report"]).arg(tmp.path().join("nope")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}
