//! authbench against a service it did not write: tests/foreign/app.py, a Flask app on Flask's
//! stock signed-cookie session (form login, CSRF cookie echoed in a header) and a PyJWT token API
//! (rotating refresh token), run by Debian's python3 with python3-flask and python3-jwt
//! (scripts/lib/deps.sh installs them). The flows are tests/foreign/{web,api}.toml, the same as
//! docs/flows.md's worked examples.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Every user's password: it must appear in no output.
const PASSWORD: &str = "flask-Secret-4242";
/// Debian's interpreter, where python3-flask and python3-jwt are installed.
const PYTHON: &str = "/usr/bin/python3";

/// The Flask app on a free loopback port, killed on drop.
struct App {
    child: Child,
    base: String,
}

impl App {
    fn spawn() -> App {
        let ok = Command::new(PYTHON).args(["-c", "import flask, jwt"]).status().is_ok_and(|s| s.success());
        assert!(
            ok,
            "{PYTHON} with flask and jwt is required (scripts/test.sh installs python3-flask python3-jwt)"
        );
        let mut child = Command::new(PYTHON)
            .arg(dir().join("app.py"))
            .env("APP_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Flask app");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_owned();
        App { child, base }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/foreign")
}

fn authbench(args: &[&str]) -> Output {
    Command::new(common::BIN).args(args).env("APP_PASSWORD", PASSWORD).output().expect("run authbench")
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// No file under `dir` holds the password.
fn assert_no_password_in(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_no_password_in(&path);
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            assert!(!text.contains(PASSWORD), "{} holds the password", path.display());
        }
    }
}

fn load(flow: &str, app: &App, out: &Path, extra: &[&str]) -> serde_json::Value {
    let flow = dir().join(flow);
    let mut args = vec![
        "load",
        "--flow",
        flow.to_str().unwrap(),
        &app.base,
        "-c",
        "2",
        "-d",
        "4s",
        "--no-progress",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = authbench(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !String::from_utf8_lossy(&o.stdout).contains(PASSWORD));
    assert_no_password_in(out);
    summary(out)
}

#[test]
fn load_a_flask_cookie_session_with_csrf_and_a_jwt_api_with_refresh() {
    let app = App::spawn();
    let tmp = tempfile::tempdir().unwrap();

    let s = load("web.toml", &app, &tmp.path().join("web"), &[]);
    assert_eq!(s["scheme"], "flask-web");
    let me = &s["endpoints"]["me"];
    assert!(me["count"].as_u64().unwrap() > 20, "{s}");
    assert_eq!(me["errors"], 0, "home and the CSRF-checked note both accepted: {s}");

    // Each request by its name too, adding up to `me`.
    let named = |s: &serde_json::Value, name: &str| {
        let r = s["requests"].as_array().unwrap().iter().find(|r| r["name"] == name).cloned();
        r.unwrap_or_else(|| panic!("no request {name}: {s}"))
    };
    let (home, note) = (named(&s, "home"), named(&s, "note"));
    assert!(home["count"].as_u64().unwrap() > 0 && note["count"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(
        home["count"].as_u64().unwrap() + note["count"].as_u64().unwrap(),
        me["count"].as_u64().unwrap(),
        "{s}"
    );

    // The open model: each arrival draws home or note by weight, and note carries the CSRF token.
    let s = load("web.toml", &app, &tmp.path().join("web-open"), &["-R", "100"]);
    assert_eq!(s["model"], "open", "{s}");
    assert_eq!(s["endpoints"]["me"]["errors"], 0, "no CSRF refusal (403): {s}");
    for name in ["home", "note"] {
        let r = named(&s, name);
        assert!(r["count"].as_u64().unwrap() > 0, "{name}: {s}");
        assert_eq!(r["errors"], 0, "{name}: {s}");
    }
    let (home, note) =
        (named(&s, "home")["count"].as_u64().unwrap(), named(&s, "note")["count"].as_u64().unwrap());
    assert!(home > note, "weights 4:1 — home {home}, note {note}");
    // The per-run report shows them under `me`.
    let run = tmp.path().join("web-open");
    let o = authbench(&["report", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("| me: home |") && report.contains("| me: note |"), "{report}");

    let s = load("api.toml", &app, &tmp.path().join("api"), &[]);
    assert!(s.get("requests").is_none(), "one request: `me` alone, as a built-in scheme: {s}");
    assert_eq!(s["scheme"], "flask-api");
    assert!(s["endpoints"]["me"]["count"].as_u64().unwrap() > 20, "{s}");
    assert_eq!(s["endpoints"]["me"]["errors"], 0, "{s}");
    // 2 s tokens renewed at 90 % (and the mix's 1 % refreshes): each rotated pair accepted. Nobody
    // logs in again: no token expired unrenewed, and the mix's logout share, with no [logout] in
    // the flow, sends the request instead of dropping the session.
    assert_eq!(s["endpoints"]["login"]["count"], 2, "{s}");
    let refresh = &s["endpoints"]["refresh"];
    assert!(refresh["count"].as_u64().unwrap() >= 2, "{s}");
    assert_eq!(refresh["errors"], 0, "{s}");
}

#[test]
fn the_revocation_probe_finds_flasks_stock_session_still_accepted_after_logout() {
    let app = App::spawn();
    let probe = |flow: &str, extra: &[&str]| {
        let flow = dir().join(flow);
        let mut args = vec!["probe", "revocation", "--flow", flow.to_str().unwrap(), &app.base];
        args.extend_from_slice(&["--probe-url", &app.base, "--repeats", "2", "--bound", "1s"]);
        args.extend_from_slice(extra);
        let o = authbench(&args);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(!stdout.contains(PASSWORD) && !String::from_utf8_lossy(&o.stderr).contains(PASSWORD));
        (o.status.code(), stdout, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    // The signed cookie carries the session itself: logout clears the browser's copy, not a
    // copied one — a true finding, and --require-within fails the CI step.
    let (code, out, err) = probe("web.toml", &["--require-within", "1s"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("STILL ACCEPTED after logout in 2 of 2 probes"), "{out}");

    // The token API cuts a user's tokens at logout-all, and refuses a rotated refresh token.
    let (code, out, err) = probe("api.toml", &["--require-within", "1s", "--json"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let found: serde_json::Value = serde_json::from_str(&out).unwrap();
    let windows = found["windows_s"].as_array().unwrap();
    assert!(windows.len() == 2 && windows.iter().all(|w| w.as_f64().is_some_and(|s| s < 1.0)), "{found}");
    assert!(found["logout_all_s"].as_f64().is_some(), "reaches the other device: {found}");
    assert_eq!(found["replayed_refresh_refused"], true, "{found}");
}

#[test]
fn compare_puts_flask_targets_beside_no_built_in_scheme() {
    let app = App::spawn();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("compare");
    let target = |name: &str, flow: &str| format!("{name}={},flow={}", app.base, dir().join(flow).display());
    // The web app's server CPU is read from its process (pid=); the token API's is not.
    let web = format!("{},pid={}", target("flask", "web.toml"), app.child.id());
    let api = target("flaskapi", "api.toml");
    // Short and gentle: a 2 s ramp of 20 users, an SLO a Python server on a shared machine keeps.
    let args = ["compare", "--quick", "--schemes", "none", "--no-progress", "--spectrum-rate", "100"];
    let mut args: Vec<&str> = args.to_vec();
    args.extend_from_slice(&["--stages", "2s:20", "--slo-p99", "250ms"]);
    args.extend_from_slice(&["--target", &web, "--target", &api, "--out", out.to_str().unwrap()]);
    let o = authbench(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !String::from_utf8_lossy(&o.stdout).contains(PASSWORD));
    assert_no_password_in(&out);

    let read = |file: &str| std::fs::read_to_string(out.join(file)).unwrap();
    let csv = |file: &str, scheme: &str| -> Vec<std::collections::HashMap<String, String>> {
        let text = read(file);
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_owned).collect();
        lines
            .filter(|l| l.starts_with(&format!("{scheme},")))
            .map(|l| header.iter().cloned().zip(l.split(',').map(str::to_owned)).collect())
            .collect()
    };
    for scheme in ["flask", "flaskapi"] {
        assert_eq!(csv("credentials.csv", scheme).len(), 1, "{}", read("credentials.csv"));
        assert!(csv("spectrum.csv", scheme).len() > 5, "{}", read("spectrum.csv"));
        // The ramp, the knee search (a maximum found) and CPU against load, as the built-ins get.
        assert!(csv("ramp.csv", scheme).len() >= 2, "{}", read("ramp.csv"));
        let steps = csv("saturation.csv", scheme);
        assert!(steps.len() >= 2, "{}", read("saturation.csv"));
        assert!(steps.iter().any(|r| r["sustained"] == "true"), "a maximum: {}", read("saturation.csv"));
        assert!(!csv("cpu_vs_load.csv", scheme).is_empty(), "{}", read("cpu_vs_load.csv"));
    }
    let cpu = |scheme: &str| -> Vec<Option<f64>> {
        csv("cpu_vs_load.csv", scheme).iter().map(|r| r["server_cpu_us_per_req"].parse().ok()).collect()
    };
    assert!(cpu("flask").iter().all(|c| c.is_some_and(|c| c > 0.0)), "pid=: {}", read("cpu_vs_load.csv"));
    assert!(cpu("flaskapi").iter().all(Option::is_none), "no pid=: {}", read("cpu_vs_load.csv"));
    assert!(out.join("runs/flask-r1/ramp/summary.json").exists());

    // Flask's signed cookie outlives logout when copied; the token API cuts it, on every device.
    let revocation = read("revocation.csv");
    assert!(
        revocation.lines().any(|l| l.starts_with("flask,logout,") && l.contains(",false,")),
        "{revocation}"
    );
    assert!(
        revocation.lines().any(|l| l.starts_with("flaskapi,logout_all,") && l.contains(",true,")),
        "{revocation}"
    );
    assert!(read("credentials.csv").contains("flaskapi,Authorization,"));

    let env: serde_json::Value = serde_json::from_str(&read("environment.json")).unwrap();
    let targets = env["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2, "{env}");
    assert_eq!(targets[0]["server_cpu"], "measured (pid=)");
    assert_eq!(targets[1]["server_cpu"], "not measured (no pid=)");
    let run: Vec<&str> = targets[0]["run"].as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    assert!(
        run.contains(&"ramp") && run.contains(&"knee search") && run.contains(&"CPU against load"),
        "{env}"
    );
    let not_run = targets[0]["not_run"].as_array().unwrap();
    assert!(
        not_run
            .iter()
            .any(|p| p["phase"] == "session-scaling sweep" && !p["reason"].as_str().unwrap().is_empty())
    );
    assert!(!not_run.iter().any(|p| p["phase"].as_str().unwrap().contains("ramp")), "{env}");
    let report = read("report.md");
    assert!(report.contains("Your services (--target)"), "{report}");
    assert!(report.contains("**flask** (") && report.contains("**flaskapi** ("), "{report}");
    assert!(report.contains("Not run: checks and attack battery ("), "{report}");
}
