//! The report renderer end to end on the synthetic fixture in `tests/fixtures/report/`
//! (made-up numbers in the CSV contract, not a measurement).

use std::fs;
use std::path::{Path, PathBuf};

use authbench_report::{self as report, Error};

const PLOTS: [&str; 13] = [
    "latency_vs_users",
    "throughput_vs_users",
    "throughput_vs_load",
    "latency_vs_load",
    "cpu_vs_load",
    "latency_vs_sessions",
    "memory_vs_sessions",
    "cpu_per_request",
    "latency_spectrum",
    "credential_bytes",
    "revocation_window",
    "memory_vs_logout_rate",
    "design_space",
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

/// A fresh copy of the fixture (or of nothing) in a per-test directory.
fn scratch(name: &str, with_fixture: bool) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    if with_fixture {
        for entry in fs::read_dir(fixture()).unwrap() {
            let p = entry.unwrap().path();
            fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn renders_every_plot_and_both_reports() {
    let dir = scratch("all", true);
    let out = report::render(&dir).unwrap();
    assert!(out.missing.is_empty(), "{:?}", out.missing);
    let names: Vec<&str> = out.plots.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, PLOTS);
    for p in &out.plots {
        let png = fs::read(&p.png).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{}", p.png.display());
        assert!(png.len() > 20_000, "{} looks empty: {} bytes", p.name, png.len());
        let svg = fs::read_to_string(&p.svg).unwrap();
        assert!(svg.contains("<svg") && svg.contains("<text"), "{} has no text", p.name);
    }

    let md = read(&dir, "report.md");
    for section in [
        "## The answer",
        "## Comparison table",
        "## How the answer is computed",
        "## Checks",
        "### Latency against stored sessions",
    ] {
        assert!(md.contains(section), "missing {section}");
    }
    for row in [
        "**Security**",
        "**Expiry**",
        "**CPU per /api/me**",
        "**Max throughput**",
        "**Redis per user**",
        "**Network traffic**",
        "**Re-authentication**",
        "**Logout**",
        "**Logout-all**",
        "**Store**",
    ] {
        assert!(md.contains(row), "comparison table lacks {row}");
    }
    for plot in PLOTS {
        assert!(md.contains(&format!("({plot}.png)")), "report.md lacks {plot}");
    }
    assert!(!md.contains("Not measured in this run"), "fixture has every file");
    assert!(md.contains("| **Security** | 2/2 checks pass | 1/1 checks pass |"), "{md}");
    assert!(md.contains("Run date: 2026-11-27T09:00:00Z"));
    // The fixture's session figures barely move with 1M sessions: a change inside the noise is
    // `no verdict`, with the test and the reason stated.
    assert!(md.contains("(claim 4): **no verdict**: every difference's 95% interval includes zero"), "{md}");
    assert!(md.contains("95% CI across 3 repeats"), "{md}");
    // The answer first: stateless schemes need no Redis shard; the session store does, sized by
    // Redis driven directly (3.1 µs per GETEX at 60% busy) and by bytes per user up to 10M.
    let answer = &md[md.find("## The answer").unwrap()..md.find("## About this run").unwrap()];
    assert!(answer.contains("| **cookie** | 15.0 min ✗ |"), "{answer}");
    assert!(answer.contains("| 0 / 0 / 0 |"), "{answer}");
    assert!(answer.contains("| **session** | 410 µs ✓ |"), "{answer}");
    assert!(answer.contains("| 1 / 6 / 52 |"), "{answer}");
    assert!(answer.contains("Cheapest design that revokes within 1.00 s: **session**"), "{answer}");
    // The README includes answer.md: the table and the verdicts, written beside the report.
    let written = read(&dir, "answer.md");
    assert!(
        written.starts_with("| design | revoked within |")
            && answer.contains(written.lines().nth(2).unwrap())
    );
    assert!(read(&dir, "answer.csv").lines().count() == 1 + 9);
    // The method: every input with its condition, and the validation run's errors.
    assert!(md.contains("| session | app_cpu_cores | 0.520 | 0.500 | +4.0% |"), "{md}");

    // Saturation and load: the knee table, the shared cores, the ramp described as what it is.
    for text in [
        "## Saturation and load",
        "### Throughput against offered load",
        "### CPU per request against load",
        "knee belongs to server, Redis and load generator together",
        "it does not look for the maximum",
        "**Max throughput**",
        "## Run time",
    ] {
        assert!(md.contains(text), "report.md lacks {text:?}");
    }
    assert!(!md.contains("Peak throughput"), "the ramp is not a saturation test");
    // One definition of CPU per request: at the run's utilisation of each scheme's maximum.
    assert!(md.contains("| server µs/req at 60% |"), "{md}");
    assert!(md.contains("### Redis driven directly"), "{md}");
    assert!(md.contains("same arrival rate, 10k req/s"), "{md}");

    let html = read(&dir, "report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), PLOTS.len(), "every plot inlined once");
    assert!(!html.contains("src=\""), "self-contained: no external images");
    assert!(html.contains("<table>"));
}

#[test]
fn rendering_is_deterministic() {
    let dir = scratch("twice", true);
    report::render(&dir).unwrap();
    let (md1, html1) = (read(&dir, "report.md"), read(&dir, "report.html"));
    report::render(&dir).unwrap();
    assert_eq!(md1, read(&dir, "report.md"));
    assert_eq!(html1, read(&dir, "report.html"));
}

#[test]
fn the_conclusion_follows_the_data() {
    let dir = scratch("slow-store", true);
    // Make session /api/me 3× slower at 1M stored sessions in every repeat.
    let csv = read(&dir, "sessions.csv");
    let mut out = String::new();
    for line in csv.lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f[0] == "session" && f[2] == "1000000" {
            let mut g: Vec<String> = f.iter().map(|s| s.to_string()).collect();
            for i in [3, 4, 5] {
                g[i] = format!("{:.1}", f[i].parse::<f64>().unwrap() * 3.0);
            }
            out.push_str(&g.join(","));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    fs::write(dir.join("sessions.csv"), out).unwrap();
    report::render(&dir).unwrap();
    let md = read(&dir, "report.md");
    assert!(md.contains("**Supports the claim**"), "{md}");
    assert!(!md.contains("**Contradicts the claim**"));
}

#[test]
fn missing_files_are_not_measured_not_errors() {
    // A folder with no result file at all is not a report with eight empty sections: it is an
    // error, and nothing is written into it.
    let dir = scratch("empty", false);
    assert!(matches!(report::render(&dir), Err(report::Error::NoResults(_))));
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "nothing written");

    // Only environment.json: every section says it was not measured.
    let dir = scratch("only-environment", false);
    fs::write(dir.join("environment.json"), "{}").unwrap();
    let out = report::render(&dir).unwrap();
    assert!(out.plots.is_empty());
    assert_eq!(out.missing.len(), 10);
    let md = read(&dir, "report.md");
    assert!(md.matches("Not measured in this run").count() >= 7, "{md}");
    assert!(read(&dir, "report.html").contains("Not measured in this run"));

    // Only one file: its plot and its figures, the rest not measured.
    let dir = scratch("only-credentials", false);
    fs::copy(fixture().join("credentials.csv"), dir.join("credentials.csv")).unwrap();
    let out = report::render(&dir).unwrap();
    assert_eq!(out.plots.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["credential_bytes"]);
    let md = read(&dir, "report.md");
    assert!(md.contains("57 B `Cookie` of 143 B/request"), "{md}");
    assert!(md.contains("Not measured in this run"));
}

#[test]
fn bad_input_is_an_error_naming_the_file() {
    let dir = scratch("bad", false);
    fs::write(dir.join("summary.csv"), "scheme,metric,unit,n,mean\njwt,me_p50_us,us,three,1\n").unwrap();
    match report::render(&dir) {
        Err(Error::Csv { path, .. }) => assert!(path.ends_with("summary.csv")),
        other => panic!("expected a CSV error, got {other:?}"),
    }
    assert!(matches!(report::render(&dir.join("nope")), Err(Error::NotADirectory(_))));
}

#[test]
fn charts_show_the_spread_across_repeats_or_say_there_is_none() {
    // The fixture has 3 repeats: every chart with repeats says what its whiskers/bands are.
    let dir = scratch("spread", true);
    report::render(&dir).unwrap();
    for plot in ["latency_vs_users", "throughput_vs_users", "memory_vs_sessions", "cpu_per_request"] {
        let svg = read(&dir, &format!("{plot}.svg"));
        assert!(svg.contains("95% CI of the mean (Student t)"), "{plot} does not say what its spread is");
        assert!(svg.contains("mean of 3 repeats"), "{plot}");
    }
    // On a log axis the interval is taken on log values (an arithmetic one crossed 0 there).
    let svg = read(&dir, "latency_vs_sessions.svg");
    assert!(
        svg.contains("geometric mean of 3 repeats") && svg.contains("t on log latencies"),
        "latency_vs_sessions"
    );
    // ramp.csv alone (no run folders): the levels say they are means of per-second percentiles.
    assert!(read(&dir, "latency_vs_users.svg").contains("mean of per-second percentiles"));

    // Only repeat 1 left: no interval, and the charts say so instead of drawing none silently.
    let dir = scratch("one-repeat", true);
    for name in ["ramp.csv", "sessions.csv"] {
        let kept: String = read(&dir, name)
            .lines()
            .filter(|l| l.starts_with("scheme,") || l.split(',').nth(1) == Some("1"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(dir.join(name), kept).unwrap();
    }
    report::render(&dir).unwrap();
    for plot in ["latency_vs_users", "throughput_vs_users", "latency_vs_sessions", "memory_vs_sessions"] {
        let svg = read(&dir, &format!("{plot}.svg"));
        assert!(svg.contains("1 repeat: no interval"), "{plot} must say that one repeat has no interval");
        assert!(!svg.contains("95% CI of the mean"), "{plot}");
    }
}

/// The JWT variants' memory against logout rate: measured at short lifetimes, projected to the
/// defaults as rate × Σ lifetimes × bytes per key, and said to be one run without an interval.
#[test]
fn memory_against_logout_rate_is_projected_to_the_default_lifetimes() {
    let dir = scratch("logout-memory", true);
    report::render(&dir).unwrap();
    let md = read(&dir, "report.md");
    // 200 B per key × 250/s × (905 s + 604,805 s) = 30.3 GB = 28.2 GiB.
    assert!(md.contains("jwt-revocable: at 250 logouts/s, Redis holds ≈ 28.2 GiB"), "{md}");
    assert!(
        md.contains("| jwt-revocable | 25 → 25 | 6.00 s | plateau | 58.6 KiB | 300 | 300 / 300 | 200 B |"),
        "{md}"
    );
    // Held 2 s of a 6 s lifetime: still rising, and the text says so.
    assert!(md.contains("| jwt-pubsub | 25 → 25 | 2.00 s | rising |"), "{md}");
    assert!(md.contains("1 of the 3 levels ended before the entries' lifetime"), "{md}");
    assert!(md.contains("Single run per rate, no interval."));
    assert!(read(&dir, "memory_vs_logout_rate.svg").contains("7 d refresh"));
}

#[test]
fn the_revocation_window_says_what_it_is_made_of_and_projects_the_default_ttl() {
    let dir = scratch("revocation-ttl", true);
    fs::write(
        dir.join("revocation.csv"),
        "scheme,action,window_s,rejected,note,ttl_s,leeway_s,default_ttl_s\n\
         cookie,logout,2.11,false,,3,0,900\n\
         session,logout,0.00113,true,,3,0,900\n\
         jwt,logout,8.78,false,,3,5,900\n",
    )
    .unwrap();
    report::render(&dir).unwrap();
    let md = read(&dir, "report.md");
    assert!(
        md.contains(
            "| jwt | logout | 8.78 s (1 probe) | 0 of 1 | the rest of its 3 s test TTL + the verifier's 5 s leeway"
        ),
        "{md}"
    );
    assert!(md.contains("| up to 15 min + 5 s leeway |"), "{md}");
    assert!(
        md.contains(
            "| cookie | logout | 2.11 s (1 probe) | 0 of 1 | the rest of its 3 s test TTL | up to 15 min |"
        ),
        "{md}"
    );
    assert!(md.contains("1.13 ms (does not depend on the TTL)"), "{md}");
    let svg = read(&dir, "revocation_window.svg");
    for text in
        ["measured with a 3 s test TTL", "leeway after expiry", "at the default TTL (15 min)", "no interval"]
    {
        assert!(svg.contains(text), "revocation plot lacks {text:?}");
    }
}

#[test]
fn revocation_probes_give_the_window_an_interval_in_table_and_plots() {
    let dir = scratch("revocation-probes", true);
    fs::write(
        dir.join("revocation.csv"),
        "scheme,action,probe,window_s,rejected,note,ttl_s,leeway_s,default_ttl_s\n\
         session,logout,0,0.001,true,,3,0,900\n\
         session,logout,1,0.002,true,,3,0,900\n\
         session,logout,2,0.004,true,,3,0,900\n\
         jwt,logout,0,8.5,false,,3,5,900\n\
         jwt,logout,1,8.6,false,,3,5,900\n\
         jwt,logout,2,8.7,false,,3,5,900\n",
    )
    .unwrap();
    report::render(&dir).unwrap();
    let md = read(&dir, "report.md");
    // Geometric mean of 1, 2 and 4 ms is 2 ms; its interval lies on both sides, above zero.
    assert!(md.contains("| session | logout | 2.00 ms ["), "{md}");
    assert!(md.contains("(3 probes) | 3 of 3 |"), "{md}");
    for plot in ["revocation_window", "design_space"] {
        let svg = read(&dir, &format!("{plot}.svg"));
        assert!(svg.contains("probes"), "{plot} must say its window interval is over probes");
        assert!(!svg.contains("not repeated"), "{plot}");
    }
}

#[test]
fn variants_are_placed_against_their_parent_in_the_claims_and_the_design_space() {
    let dir = scratch("variants", true);
    let mut rev = read(&dir, "revocation.csv");
    rev.push_str("jwt-revocable,logout,0.0012,true,across servers\n");
    fs::write(dir.join("revocation.csv"), rev).unwrap();
    let mut summary = read(&dir, "summary.csv");
    summary.push_str("jwt-revocable,me_cpu_us_per_req_total,us,3,41.5,40.0,43.0\n");
    fs::write(dir.join("summary.csv"), summary).unwrap();
    let out = report::render(&dir).unwrap();
    assert!(out.plots.iter().any(|p| p.name == "design_space"));
    let md = read(&dir, "report.md");
    let claim = md.lines().find(|l| l.contains("The middle of the design space")).expect("variants claim");
    assert!(claim.contains("jwt-revocable buys server-side revocation for JWT"), "{claim}");
    assert!(claim.contains("41.5 µs") && claim.contains("(vs "), "{claim}");
    assert!(!claim.contains("session-cached"), "no session-cached in these results: {claim}");
}

#[test]
fn session_tracked_states_its_hit_ratio_per_level_its_semantics_and_a_pushed_window() {
    let dir = scratch("tracked", true);
    let mut rev = read(&dir, "revocation.csv");
    rev.push_str("session-tracked,logout,0.0018,true,across servers\n");
    fs::write(dir.join("revocation.csv"), rev).unwrap();
    // The fixture predates cache_hit_ratio: add the column, empty for the schemes without a cache.
    let sessions = read(&dir, "sessions.csv");
    let mut lines = sessions.lines();
    let mut out = format!("{},cache_hit_ratio\n", lines.next().unwrap());
    let mut tracked = String::new();
    for line in lines {
        out.push_str(&format!("{line},\n"));
        if let Some(rest) = line.strip_prefix("session,") {
            let level: u64 = rest.split(',').nth(1).unwrap().parse().unwrap();
            let ratio = if level == 0 { 0.95 } else { 0.07 };
            tracked.push_str(&format!("session-tracked,{rest},{ratio}\n"));
        }
    }
    assert!(!tracked.is_empty(), "the fixture has session rows");
    fs::write(dir.join("sessions.csv"), out + &tracked).unwrap();
    report::render(&dir).unwrap();
    let md = read(&dir, "report.md");
    let claim = md.lines().find(|l| l.contains("The middle of the design space")).expect("variants claim");
    assert!(claim.contains("session-tracked buys fewer Redis lookups"), "{claim}");
    assert!(claim.contains("cache hit ratio 0.95 at 0 stored sessions, 0.07 at"), "{claim}");
    assert!(claim.contains("under half the TTL"), "{claim}");
    assert!(md.contains("pushed to the other server's cache by Redis"), "{md}");
}
