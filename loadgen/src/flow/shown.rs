//! An answer described for an error message, with its secrets out: cookie values, credentials,
//! the password that was sent, JSON string values (their length is shown instead) and long
//! token-like runs in a text body. What a pre-flight failure prints, so a user can see why a
//! login did not yield the credential the flow describes.

use http::{HeaderMap, StatusCode, header};
use serde_json::Value;

/// Headers whose whole value is a secret.
const SECRET_HEADERS: [header::HeaderName; 3] =
    [header::AUTHORIZATION, header::COOKIE, header::PROXY_AUTHORIZATION];
/// A run of this many token characters in a text body is redacted.
const TOKEN_RUN: usize = 20;
/// Most of a body shown.
const BODY_CHARS: usize = 400;

/// `status`, one line per header, and the body's shape; `secrets` (the password sent) never appear.
pub fn answer(status: StatusCode, headers: &HeaderMap, body: &[u8], secrets: &[&str]) -> String {
    let mut out = format!("HTTP {status}");
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes());
        let shown = if SECRET_HEADERS.contains(name) {
            format!("<{} bytes>", v.len())
        } else if name == header::SET_COOKIE {
            let (pair, attrs) = v.split_once(';').unwrap_or((&v, ""));
            let (n, val) = pair.split_once('=').unwrap_or((pair, ""));
            let attrs = if attrs.is_empty() { String::new() } else { format!(";{attrs}") };
            format!("{}=<{} bytes>{attrs}", n.trim(), val.trim().len())
        } else {
            v.into_owned()
        };
        out.push_str(&format!("\n  {name}: {}", scrub(&shown, secrets)));
    }
    out.push_str(&format!("\n  body: {}", body_shape(headers, body, secrets)));
    out
}

fn body_shape(headers: &HeaderMap, body: &[u8], secrets: &[&str]) -> String {
    if body.is_empty() {
        return "(empty)".into();
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let text = skeleton(&v).to_string();
        return format!("JSON {}", cut(&text));
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    match std::str::from_utf8(body) {
        Ok(text) if ct.starts_with("text/") || ct.is_empty() => {
            let squashed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("{} bytes: {}", body.len(), cut(&scrub(&redact_runs(&squashed), secrets)))
        }
        _ => format!("{} bytes of {}", body.len(), if ct.is_empty() { "binary" } else { ct }),
    }
}

/// The JSON with every string replaced by its length: the keys say what is there, no value leaks.
fn skeleton(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(format!("<{} bytes>", s.len())),
        Value::Array(a) => Value::Array(a.iter().map(skeleton).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), skeleton(v))).collect()),
        other => other.clone(),
    }
}

fn redact_runs(text: &str) -> String {
    let is_token = |c: char| c.is_ascii_alphanumeric() || "-_.=+/%".contains(c);
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if is_token(c) {
            run.push(c);
            continue;
        }
        if run.len() >= TOKEN_RUN {
            out.push_str(&format!("<{} bytes>", run.len()));
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

fn scrub(text: &str, secrets: &[&str]) -> String {
    secrets.iter().filter(|s| !s.is_empty()).fold(text.to_owned(), |t, s| t.replace(s, "<password>"))
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(BODY_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_secret_survives() {
        let mut h = HeaderMap::new();
        h.append(header::SET_COOKIE, "session=eyJhbGciOi.secret-token; HttpOnly; Path=/".parse().unwrap());
        h.append(header::CONTENT_TYPE, "application/json".parse().unwrap());
        h.append("x-echo", "pw hunter2 here".parse().unwrap());
        let body = br#"{"token":"eyJhbGciOi.secret-token","expires_in":900,"user":{"name":"alice"}}"#;
        let text = answer(StatusCode::OK, &h, body, &["hunter2"]);
        assert!(
            !text.contains("secret-token") && !text.contains("hunter2") && !text.contains("alice"),
            "{text}"
        );
        assert!(
            text.contains("HTTP 200 OK") && text.contains("session=<23 bytes>; HttpOnly; Path=/"),
            "{text}"
        );
        assert!(
            text.contains(r#""expires_in":900"#) && text.contains("x-echo: pw <password> here"),
            "{text}"
        );
        let mut html = HeaderMap::new();
        html.insert(header::CONTENT_TYPE, "text/html".parse().unwrap());
        let page = b"<p>Invalid login for hunter2</p> <input value=\"abcdefghijklmnopqrstuvwxyz012345\">";
        let text = answer(StatusCode::UNAUTHORIZED, &html, page, &["hunter2"]);
        assert!(
            text.contains("Invalid login") && !text.contains("hunter2") && !text.contains("abcdefghij"),
            "{text}"
        );
        assert!(answer(StatusCode::NO_CONTENT, &HeaderMap::new(), b"", &[]).ends_with("body: (empty)"));
    }
}
