//! Secrets (issue 6): run the real binary with a `--key-file`, log in, send good and bad requests,
//! and check that no key byte, token, session id or password shows up in its stdout/stderr or in
//! any error response — nor in the one-line errors of a failed start (bad key file, Redis URL with
//! a password).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BIN, RedisServer, Resp, ServeArgs, Server};

/// Random bytes from the OS, for key material nobody could guess appears by chance.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).expect("read /dev/urandom");
    buf
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if pad {
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
    }
    out
}

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Every way key material could be printed: raw, hex (both cases), base64 (both alphabets,
/// padded or not) — of the whole key and of each 16-byte window, so a partial leak is caught.
fn key_forms(key: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = Vec::new();
    let mut pieces: Vec<&[u8]> = vec![key];
    pieces.extend(key.chunks(16).filter(|c| c.len() == 16));
    for p in pieces {
        forms.push(p.to_vec());
        forms.push(hex(p).into_bytes());
        forms.push(hex(p).to_uppercase().into_bytes());
        for alphabet in [STD, URL] {
            for pad in [true, false] {
                // A window's encoding is shifted against the whole key's; dropping the last
                // (partial) symbol keeps what is certainly in either.
                let mut enc = base64(p, alphabet, pad);
                enc.truncate(enc.trim_end_matches('=').len().saturating_sub(1));
                forms.push(enc.into_bytes());
            }
        }
    }
    forms
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Fail with the secret's name (never its value) if any secret occurs in `text`.
fn assert_clean(what: &str, text: &[u8], secrets: &[(String, Vec<u8>)]) {
    for (name, secret) in secrets {
        assert!(!contains(text, secret), "{what} contains {name}");
    }
}

/// The parts of a credential worth finding: the whole value, and for a JWT its signature.
fn credential_forms(name: &str, value: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![(name.to_owned(), value.as_bytes().to_vec())];
    if let Some(sig) = value.rsplit('.').next().filter(|s| s.len() >= 16 && value.contains('.')) {
        out.push((format!("{name} signature"), sig.as_bytes().to_vec()));
    }
    out
}

fn flip(value: &str, at: usize) -> String {
    let mut b = value.as_bytes().to_vec();
    b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

const JSON: (&str, &str) = ("Content-Type", "application/json");
const WRONG_PASSWORD: &str = "Wr0ng-pw-7f3a9c1e5b";
const SMUGGLED: &str = "smuggled-secret-4d2b8e";

/// One server run: good and bad requests; returns the error responses and the secrets seen.
fn exercise(server: &Server, scheme: &str) -> (Vec<Resp>, Vec<(String, Vec<u8>)>) {
    let mut errors = Vec::new();
    let mut secrets = vec![
        ("password of user5".to_owned(), b"password5".to_vec()),
        ("wrong password".to_owned(), WRONG_PASSWORD.as_bytes().to_vec()),
        ("smuggled field".to_owned(), SMUGGLED.as_bytes().to_vec()),
    ];
    let keep = |r: Resp, errors: &mut Vec<Resp>| {
        assert!(r.status < 500 || r.status == 501, "{scheme}: {} {:?}", r.status, r.body);
        if r.status >= 400 {
            errors.push(r);
        }
    };

    let login = server.login(5);
    let (cred_headers, credential): (Vec<(&str, String)>, String) = if scheme == "jwt" {
        let v = login.json();
        let access = v["access_token"].as_str().unwrap().to_owned();
        let refresh = v["refresh_token"].as_str().unwrap().to_owned();
        secrets.extend(credential_forms("refresh token", &refresh));
        // access token as a refresh token, a tampered refresh token, refresh token as access
        for body in [
            format!(r#"{{"refresh_token":"{access}"}}"#),
            format!(r#"{{"refresh_token":"{}"}}"#, flip(&refresh, refresh.len() - 3)),
            format!(r#"{{"refresh_token":"{refresh}","x":"{SMUGGLED}"}}"#),
            format!(r#"{{"refresh_token":["{refresh}"]}}"#),
        ] {
            keep(server.post("/auth/refresh", &[JSON], Some(&body)), &mut errors);
        }
        keep(server.get("/api/me", &[("Authorization", &format!("Bearer {refresh}"))]), &mut errors);
        (vec![("Authorization", format!("Bearer {access}"))], access)
    } else {
        let pair = login.cookie_pair();
        let (name, value) = pair.split_once('=').unwrap();
        let value = value.to_owned();
        (vec![("Cookie", format!("{name}={value}"))], value)
    };
    secrets.extend(credential_forms("credential", &credential));
    let (hname, hvalue) = (cred_headers[0].0, cred_headers[0].1.clone());

    // Good requests.
    let me = server.get("/api/me", &[(hname, &hvalue)]);
    assert_eq!(me.status, 200, "{scheme} /api/me: {}", me.body);

    // Bad credentials: tampered at several places, truncated, duplicated, moved, oversized.
    let tampered = [1, credential.len() / 2, credential.len() - 2]
        .map(|at| hvalue.replace(&credential, &flip(&credential, at)));
    for h in &tampered {
        keep(server.get("/api/me", &[(hname, h)]), &mut errors);
    }
    keep(server.get("/api/me", &[(hname, &hvalue[..hvalue.len() - 5])]), &mut errors);
    keep(server.get("/api/me", &[(hname, &hvalue), (hname, &hvalue)]), &mut errors);
    keep(server.get("/api/me", &[(hname, &format!("{hvalue}{}", "A".repeat(5000)))]), &mut errors);
    keep(server.get(&format!("/api/me?token={credential}"), &[]), &mut errors);
    keep(server.get("/api/me", &[("Cookie", &format!("other={credential}"))]), &mut errors);
    // Oversized head carrying the credential: 431 from hyper.
    keep(server.get("/api/me", &[(hname, &hvalue), ("X-Pad", &"p".repeat(9000))]), &mut errors);
    // Logout-all: 204 for session, 501 JSON for the stateless schemes.
    let r = server.post("/auth/logout-all", &[(hname, &hvalue)], None);
    keep(r, &mut errors);

    // Bad logins, several of them carrying a password.
    let bodies = [
        format!(r#"{{"username":"user5","password":"{WRONG_PASSWORD}"}}"#),
        format!(r#"{{"username":"nobody","password":"{WRONG_PASSWORD}"}}"#),
        format!(r#"{{"username":"user5","password":"{WRONG_PASSWORD}""#),
        format!(r#"{{"username":"user5","password":"password5","note":"{SMUGGLED}"}}"#),
        r#"{"username":"user5","password":["password5"]}"#.to_owned(),
        format!(r#"{{"username":{WRONG_PASSWORD}}}"#),
        r#"["user5","password5"]"#.to_owned(),
        format!(r#"{{"username":"user5","password":"password5","pad":"{}"}}"#, "x".repeat(17_000)),
    ];
    for body in &bodies {
        keep(server.post("/auth/login", &[JSON], Some(body)), &mut errors);
    }
    keep(server.post("/auth/login", &[("Content-Type", "text/plain")], Some(&bodies[0])), &mut errors);
    (errors, secrets)
}

fn run_scheme(scheme: &str, key_len: usize) {
    let dir = tempfile::tempdir().unwrap();
    let key = random_bytes(key_len);
    let key_path = dir.path().join("key.bin");
    std::fs::write(&key_path, &key).unwrap();
    let (server, captured, threads) =
        Server::spawn_captured(&ServeArgs { key_file: Some(key_path), ..common::serve(scheme) });

    let (errors, mut secrets) = exercise(&server, scheme);
    assert!(errors.len() >= 15, "{scheme}: only {} error responses", errors.len());
    for (i, form) in key_forms(&key).into_iter().enumerate() {
        secrets.push((format!("key form {i}"), form));
    }
    for r in &errors {
        let headers: String = r.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        assert_clean(
            &format!("{scheme} {} response", r.status),
            format!("{headers}\n{}", r.body).as_bytes(),
            &secrets,
        );
        if r.status == 401 {
            assert!(r.json()["error"].is_string(), "{scheme} 401 body {:?}", r.body);
        }
    }

    let status = server.terminate();
    assert!(status.success(), "{scheme}: exit {status:?}");
    for t in threads {
        t.join().unwrap();
    }
    let output = captured.bytes();
    assert!(
        contains(&output, b"listening on http://127.0.0.1:"),
        "{scheme}: {:?}",
        String::from_utf8_lossy(&output)
    );
    assert!(!contains(&output, b"panicked"), "{scheme} panicked: {}", String::from_utf8_lossy(&output));
    assert_clean(&format!("{scheme} stdout/stderr"), &output, &secrets);
}

#[test]
fn cookie_server_leaks_no_key_cookie_or_password() {
    run_scheme("cookie", 96);
}

#[test]
fn jwt_server_leaks_no_key_token_or_password() {
    run_scheme("jwt", 48);
}

#[test]
fn session_server_leaks_no_session_id_or_password() {
    common::require_redis();
    // The key file is not used by the session scheme; it must not be printed either.
    run_scheme("session", 64);
}

/// `authbench serve ...` expected to fail at start-up: (exit code, stdout + stderr).
fn failed_start(args: &[&str]) -> (Option<i32>, Vec<u8>) {
    let out = Command::new(BIN).arg("serve").args(args).stdin(Stdio::null()).output().expect("run authbench");
    let mut all = out.stdout;
    all.extend_from_slice(&out.stderr);
    (out.status.code(), all)
}

#[test]
fn bad_key_files_are_refused_without_echoing_them() {
    let dir = tempfile::tempdir().unwrap();
    // Too short for HS256 (32) and for the cookie key (64).
    let short = random_bytes(24);
    let short_path = dir.path().join("short.key");
    std::fs::write(&short_path, &short).unwrap();
    // Not a PEM, but secret-looking text, for an asymmetric algorithm.
    let bogus_pem =
        format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", hex(&random_bytes(40)));
    let pem_path = dir.path().join("bogus.pem");
    std::fs::write(&pem_path, &bogus_pem).unwrap();

    let mut secrets: Vec<(String, Vec<u8>)> =
        key_forms(&short).into_iter().enumerate().map(|(i, f)| (format!("short key form {i}"), f)).collect();
    let pem_body = bogus_pem.lines().nth(1).unwrap().as_bytes().to_vec();
    secrets.push(("PEM body".into(), pem_body[..24].to_vec()));
    let short = short_path.to_str().unwrap();
    let pem = pem_path.to_str().unwrap();
    // Issue 22, finding 10: a passphrase (all printable ASCII, here 64 bytes, which the cookie
    // scheme used to take as raw key bytes) and a file one byte short of 32 (HKDF's input).
    let passphrase = format!("correct horse battery staple {} of the team\n", hex(&random_bytes(12)));
    let passphrase_path = dir.path().join("passphrase.txt");
    std::fs::write(&passphrase_path, &passphrase).unwrap();
    secrets.push(("passphrase".into(), passphrase.trim().as_bytes().to_vec()));
    let just_short = random_bytes(31);
    let just_short_path = dir.path().join("31.key");
    std::fs::write(&just_short_path, &just_short).unwrap();
    secrets.extend(key_forms(&just_short).into_iter().map(|f| ("31-byte key form".to_owned(), f)));
    let (phrase, just_short) = (passphrase_path.to_str().unwrap(), just_short_path.to_str().unwrap());
    for (args, says) in [
        (vec!["jwt", "--key-file", short], "fewer than 32"),
        (vec!["cookie", "--key-file", short], "fewer than 32"),
        (vec!["jwt", "--jwt-alg", "EdDSA", "--key-file", pem], "PKCS#8"),
        (vec!["jwt", "--jwt-alg", "ES256", "--key-file", short], "PEM"),
        (vec!["cookie", "--key-file", phrase], "printable ASCII"),
        (vec!["jwt", "--key-file", phrase], "printable ASCII"),
        (vec!["jwt-revocable", "--key-file", just_short], "fewer than 32"),
    ] {
        let (code, output) = failed_start(&args);
        let text = String::from_utf8_lossy(&output);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        assert!(text.contains(says), "{args:?}: the error does not say {says:?}: {text}");
        assert_clean(&format!("{args:?}"), &output, &secrets);
    }
}

/// One raw RESP command to the Redis on `port`, on a connection that never authenticated: the
/// first line of the answer.
fn unauthenticated(port: u16, command: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let words: Vec<&str> = command.split(' ').collect();
    let mut raw = format!("*{}\r\n", words.len());
    for w in &words {
        raw.push_str(&format!("${}\r\n{w}\r\n", w.len()));
    }
    s.write_all(raw.as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    line.trim().to_owned()
}

/// Issue 22, finding 9: every private redis-server gets a generated password. One started by the
/// harness, and the one `serve session` starts for itself (its password read from the config file
/// in its private directory, as only this user can), refuse a client without it — at 934d605 any
/// local process could forge session records in them — and the server's output never shows it.
#[test]
fn private_redis_servers_refuse_unauthenticated_clients_and_never_print_their_password() {
    common::require_redis();
    let redis = RedisServer::start().unwrap();
    for command in ["PING", "SET authbench:forged 1", "PUBLISH authbench:revocations x"] {
        let answer = unauthenticated(redis.port(), command);
        assert!(answer.starts_with("-NOAUTH"), "{command}: {answer}");
    }
    let mut conn = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    assert_eq!(redis::cmd("PING").query::<String>(&mut conn).unwrap(), "PONG", "with the password");

    let (server, captured, threads) = Server::spawn_captured(&common::serve("session"));
    let own = common::descendants(server.pid()).into_iter().find(|p| p.comm == "redis-server").unwrap();
    // redis-server retitles itself `redis-server 127.0.0.1:<port>`: the config file, and so the
    // password, never shows on its command line.
    let title =
        String::from_utf8_lossy(&std::fs::read(format!("/proc/{}/cmdline", own.pid)).unwrap()).into_owned();
    let port: u16 = title.trim_end_matches('\0').rsplit(':').next().unwrap().trim().parse().unwrap();
    let dir = std::env::temp_dir().join(format!("authbench-redis-{}-{port}", server.pid()));
    let conf = std::fs::read_to_string(dir.join("auth.conf")).unwrap();
    let password = conf.lines().find_map(|l| l.strip_prefix("requirepass ")).unwrap().to_owned();
    assert!(!title.contains(&password), "the password is on redis-server's command line: {title}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700, "{}", dir.display());
    assert_eq!(std::fs::metadata(dir.join("auth.conf")).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(unauthenticated(port, "PING").starts_with("-NOAUTH"), "serve's own Redis: no password needed");
    let (errors, _) = exercise(&server, "session");
    let secrets = vec![("private redis password".to_owned(), password.into_bytes())];
    for r in &errors {
        assert_clean("session error response", r.body.as_bytes(), &secrets);
    }
    assert!(server.terminate().success());
    for t in threads {
        t.join().unwrap();
    }
    assert_clean("session with its private Redis: stdout/stderr", &captured.bytes(), &secrets);
}

#[test]
fn redis_passwords_stay_out_of_errors_and_logs() {
    common::require_redis();
    let redis = RedisServer::start().expect("private redis-server");
    let right = redis.password().to_owned();
    let wrong = "wrong-redis-pw-5e77aa";
    let port = redis.port();
    let secrets = vec![
        ("right redis password".to_owned(), right.as_bytes().to_vec()),
        ("wrong redis password".to_owned(), wrong.as_bytes().to_vec()),
    ];

    // Unreachable, wrong password, malformed URL, unix socket with a pass parameter: one clear
    // line, exit 2, no password in it.
    for url in [
        format!("redis://:{wrong}@127.0.0.1:1/"),
        format!("redis://default:{wrong}@127.0.0.1:{port}/"),
        format!("redis://:{wrong}@127.0.0.1:{port}:99/"),
        format!("redis+unix:///nonexistent/redis.sock?pass={wrong}"),
    ] {
        let (code, output) = failed_start(&["session", "--users", "10", "--fast-login", "--redis-url", &url]);
        assert_eq!(code, Some(2), "{}", String::from_utf8_lossy(&output));
        assert!(contains(&output, b"Redis"), "{}", String::from_utf8_lossy(&output));
        assert_clean("failed start with a Redis URL", &output, &secrets);
    }

    // The right password: serves, and says nothing about it.
    let url = format!("redis://:{right}@127.0.0.1:{port}/");
    let (server, captured, threads) =
        Server::spawn_captured(&ServeArgs { redis_url: Some(url.clone()), ..common::serve("session") });
    let (errors, _) = exercise(&server, "session");
    for r in &errors {
        assert_clean("session error response", r.body.as_bytes(), &secrets);
    }
    assert!(server.terminate().success());
    for t in threads {
        t.join().unwrap();
    }
    assert_clean("session with an external Redis: stdout/stderr", &captured.bytes(), &secrets);
}
