//! `authbench load --flow FILE URL` end to end against a real server (authbench's own cookie
//! server, described by a flow file as a foreign service would be): a run whose password comes
//! from the environment and appears in no output; a login that does not yield the described
//! credential stopped at pre-flight with the answer shown, secrets redacted, nothing run; a user
//! list outside the flow's folder refused.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Server;

const PASSWORD: &str = "password1";

/// A flow for `serve cookie`: user1 from a list beside the file, the password from `AB_FLOW_PW`.
fn flow(cookie: &str, list: &str) -> String {
    format!(
        r#"name = "my-service"
[users]
list = "{list}"
password_env = "AB_FLOW_PW"
[login]
path = "/auth/login"
body = '{{"username":"{{user}}","password":"{{password}}"}}'
[credential]
cookies = ["{cookie}"]
[[request]]
name = "me"
path = "/api/me"
[logout]
path = "/auth/logout"
[refused]
status = [401, 403]
"#
    )
}

fn load(file: &Path, url: &str, out: &Path) -> Output {
    Command::new(common::BIN)
        .args(["load", "--flow"])
        .arg(file)
        .args([url, "-c", "2", "-d", "2s", "--no-progress", "--json", "--out"])
        .arg(out)
        .env("AB_FLOW_PW", PASSWORD)
        .output()
        .expect("run authbench load")
}

/// No file under `dir` holds `secret`.
fn assert_absent_in(dir: &Path, secret: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_absent_in(&path, secret);
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            assert!(!text.contains(secret), "{} holds the password", path.display());
        }
    }
}

#[test]
fn a_flow_file_runs_keeps_its_password_out_and_fails_clearly_before_running() {
    let server = Server::spawn(&common::serve("cookie"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("flows");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("users.txt"), "user1\n").unwrap();

    let good = dir.join("good.toml");
    std::fs::write(&good, flow("ab_auth", "users.txt")).unwrap();
    let out = tmp.path().join("run");
    let o = load(&good, &server.base, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scheme"], "my-service", "{summary}");
    assert!(summary["endpoints"]["me"]["count"].as_u64().unwrap() > 10, "{summary}");
    assert!(out.join("me.hlog").is_file());
    assert_absent_in(&out, PASSWORD);
    for (what, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        assert!(!String::from_utf8_lossy(text).contains(PASSWORD), "{what} holds the password");
    }

    // The login works but sets no cookie of this name: pre-flight shows the answer, redacted.
    let wrong = dir.join("wrong.toml");
    std::fs::write(&wrong, flow("session_id", "users.txt")).unwrap();
    let out = tmp.path().join("never");
    let o = load(&wrong, &server.base, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pre-flight") && stderr.contains("HTTP 200"), "{stderr}");
    assert!(stderr.contains("set-cookie: ab_auth=<"), "the cookie named, its value not: {stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(!out.exists(), "nothing ran, nothing written");

    // A user list outside the flow's folder.
    std::fs::write(tmp.path().join("outside.txt"), "user1\n").unwrap();
    let escape = dir.join("escape.toml");
    std::fs::write(&escape, flow("ab_auth", "../outside.txt")).unwrap();
    let o = load(&escape, &server.base, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("its own folder"), "{stderr}");
}
