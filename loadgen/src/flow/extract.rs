//! The credential out of a login or refresh answer, and how it is carried on the next requests:
//! the `Set-Cookie`s of the names given, sent back as one `Cookie` header; or a JSON field (a
//! dotted path) sent as `Authorization: Bearer …`, as a cookie, or as a header of its own. Beside
//! it, optionally: its lifetime (renewed at 90% of it), the refresh credential, and a CSRF token
//! echoed in a header. What a client then holds is a [`Held`].

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, header};
use serde_json::Value;

/// `data.token`, `items.0.id`: keys, and indices into arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(Vec<String>);

impl JsonPath {
    pub fn parse(s: &str) -> Result<JsonPath, String> {
        let segs: Vec<String> = s.trim().split('.').map(str::to_owned).collect();
        if segs.iter().any(String::is_empty) {
            return Err(format!("`{s}` is not a dotted JSON path like access_token or data.token"));
        }
        Ok(JsonPath(segs))
    }

    pub fn get<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(v, |v, seg| match v {
            Value::Object(m) => m.get(seg),
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?),
            _ => None,
        })
    }

    /// A string field's text (a number's digits too: some services send numeric ids).
    fn text(&self, v: &Value) -> Option<String> {
        match self.get(v)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// How a credential taken from JSON travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carry {
    /// `Authorization: Bearer <value>`.
    Bearer,
    /// `Cookie: <name>=<value>`.
    Cookie(String),
    /// `<name>: <prefix><value>`.
    Header { name: HeaderName, prefix: String },
}

/// Where the credential is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// These `Set-Cookie` names (any one of them present is enough: authbench's own servers name
    /// theirs `__Host-…` over HTTPS); sent back as one `Cookie` header.
    Cookies(Vec<String>),
    Json {
        path: JsonPath,
        carry: Carry,
    },
}

/// Where a CSRF token is read in the login answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsrfFrom {
    /// A `Set-Cookie` (its cookie is sent back with the credential's).
    Cookie(String),
    Json(JsonPath),
    Header(HeaderName),
}

/// A CSRF token read at login, echoed in `header` on every request that is not GET or HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csrf {
    pub from: CsrfFrom,
    pub header: HeaderName,
}

/// Everything read from a login (or refresh) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction {
    pub source: Source,
    /// Seconds the credential lives, in the answer's JSON.
    pub expires_in: Option<JsonPath>,
    /// The refresh credential, in the answer's JSON.
    pub refresh_token: Option<JsonPath>,
    pub csrf: Option<Csrf>,
}

/// What a logged-in client holds and sends.
#[derive(Debug, Clone)]
pub struct Held {
    /// The header that carries the credential, ready to send.
    pub credential: (HeaderName, HeaderValue),
    pub csrf: Option<(HeaderName, HeaderValue)>,
    /// The refresh credential, as the answer gave it.
    pub refresh: Option<Bytes>,
    /// Seconds the credential lives, when the answer said.
    pub expires_in: Option<u64>,
}

/// What an answer lacked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    #[error("no Set-Cookie named {0}")]
    Cookie(String),
    #[error("the body is not JSON, so it has no `{0}`")]
    NotJson(JsonPath),
    #[error("no string `{0}` in the JSON body")]
    Field(JsonPath),
    #[error("no CSRF token ({0})")]
    Csrf(String),
    #[error("`{0}` is not a valid header value")]
    BadValue(String),
}

impl Extraction {
    /// Read an answer. `previous`: what a refresh renews (a refresh credential or CSRF token the
    /// answer does not repeat is kept).
    pub fn read(&self, headers: &HeaderMap, body: &[u8], previous: Option<&Held>) -> Result<Held, Missing> {
        let needs_json = matches!(self.source, Source::Json { .. })
            || self.expires_in.is_some()
            || self.refresh_token.is_some()
            || matches!(self.csrf, Some(Csrf { from: CsrfFrom::Json(_), .. }));
        let json: Option<Value> = if needs_json { serde_json::from_slice(body).ok() } else { None };
        let field = |p: &JsonPath| -> Result<String, Missing> {
            let v = json.as_ref().ok_or_else(|| Missing::NotJson(p.clone()))?;
            p.text(v).ok_or_else(|| Missing::Field(p.clone()))
        };
        let csrf_cookie = match &self.csrf {
            Some(Csrf { from: CsrfFrom::Cookie(name), .. }) => Some(name.as_str()),
            _ => None,
        };
        let credential = match &self.source {
            Source::Cookies(names) => {
                let mut pairs =
                    set_cookies(headers, |n| names.iter().any(|w| w == n) || csrf_cookie == Some(n));
                if !pairs.iter().any(|(n, _)| names.iter().any(|w| w == n)) {
                    return Err(Missing::Cookie(names.join(" or ")));
                }
                if let Some((_, old)) = previous.map(|p| &p.credential) {
                    keep_unset(&mut pairs, old);
                }
                let joined = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
                (header::COOKIE, value(joined)?)
            }
            Source::Json { path, carry } => {
                let token = field(path)?;
                match carry {
                    Carry::Bearer => (header::AUTHORIZATION, value(format!("Bearer {token}"))?),
                    Carry::Cookie(name) => (header::COOKIE, value(format!("{name}={token}"))?),
                    Carry::Header { name, prefix } => (name.clone(), value(format!("{prefix}{token}"))?),
                }
            }
        };
        let expires_in = self.expires_in.as_ref().and_then(|p| {
            let v = json.as_ref().and_then(|j| p.get(j))?;
            v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)).or_else(|| v.as_str()?.parse().ok())
        });
        let refresh = match (&self.refresh_token, previous) {
            (None, _) => None,
            (Some(p), None) => Some(Bytes::from(field(p)?)),
            (Some(p), Some(prev)) => field(p).ok().map(Bytes::from).or_else(|| prev.refresh.clone()),
        };
        let csrf = match &self.csrf {
            None => None,
            Some(c) => {
                let token = match &c.from {
                    CsrfFrom::Cookie(name) => set_cookies(headers, |n| n == name).pop().map(|(_, v)| v),
                    CsrfFrom::Json(p) => field(p).ok(),
                    CsrfFrom::Header(h) => headers.get(h).and_then(|v| v.to_str().ok()).map(str::to_owned),
                };
                match (token, previous.and_then(|p| p.csrf.clone())) {
                    (Some(t), _) => Some((c.header.clone(), value(t)?)),
                    (None, Some(kept)) => Some(kept),
                    (None, None) => return Err(Missing::Csrf(describe_csrf(&c.from))),
                }
            }
        };
        Ok(Held { credential, csrf, refresh, expires_in })
    }
}

fn describe_csrf(from: &CsrfFrom) -> String {
    match from {
        CsrfFrom::Cookie(n) => format!("no Set-Cookie named {n}"),
        CsrfFrom::Json(p) => format!("no `{p}` in the JSON body"),
        CsrfFrom::Header(h) => format!("no {h} header"),
    }
}

fn value(s: String) -> Result<HeaderValue, Missing> {
    HeaderValue::from_str(&s).map_err(|_| Missing::BadValue(s.chars().take(20).collect()))
}

/// `(name, value)` of every `Set-Cookie` whose name `wanted` takes, in order; a later one of the
/// same name replaces an earlier.
fn set_cookies(headers: &HeaderMap, wanted: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for v in headers.get_all(header::SET_COOKIE) {
        let Some((name, value)) = v.to_str().ok().and_then(|s| s.split(';').next()?.split_once('=')) else {
            continue;
        };
        let name = name.trim();
        if wanted(name) {
            out.retain(|(n, _)| n != name);
            out.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    out
}

/// A refresh that re-set some cookies keeps the others from the `Cookie` header sent before.
fn keep_unset(pairs: &mut Vec<(String, String)>, old: &HeaderValue) {
    let Ok(old) = old.to_str() else { return };
    for (n, v) in old.split(';').filter_map(|p| p.trim().split_once('=')) {
        if !pairs.iter().any(|(m, _)| m == n) {
            pairs.push((n.to_owned(), v.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for c in cookies {
            h.append(header::SET_COOKIE, c.parse().unwrap());
        }
        h
    }

    fn cookies(names: &[&str]) -> Extraction {
        Extraction {
            source: Source::Cookies(names.iter().map(|s| s.to_string()).collect()),
            expires_in: None,
            refresh_token: None,
            csrf: None,
        }
    }

    #[test]
    fn cookies_by_name_into_one_header() {
        let e = cookies(&["ab_sid", "__Host-ab_sid"]);
        let h = headers(&["__Host-ab_sid=abc; Path=/; Secure; HttpOnly"]);
        let held = e.read(&h, b"", None).unwrap();
        assert_eq!(held.credential, (header::COOKIE, HeaderValue::from_static("__Host-ab_sid=abc")));
        assert_eq!(
            e.read(&headers(&["other=1"]), b"", None).unwrap_err(),
            Missing::Cookie("ab_sid or __Host-ab_sid".into())
        );
        let e = Extraction {
            csrf: Some(Csrf {
                from: CsrfFrom::Cookie("csrf".into()),
                header: HeaderName::from_static("x-csrf"),
            }),
            ..cookies(&["session"])
        };
        let held = e.read(&headers(&["session=s1; HttpOnly", "csrf=t1", "tracking=x"]), b"", None).unwrap();
        assert_eq!(held.credential.1, "session=s1; csrf=t1");
        assert_eq!(held.csrf.as_ref().unwrap().1, "t1");
        // A refresh that re-sets only the session keeps the CSRF cookie and token.
        let renewed = e.read(&headers(&["session=s2"]), b"", Some(&held)).unwrap();
        assert_eq!(renewed.credential.1, "session=s2; csrf=t1");
        assert_eq!(renewed.csrf.unwrap().1, "t1");
    }

    #[test]
    fn json_fields_carried_as_bearer_cookie_or_header() {
        let body = br#"{"data":{"token":"t0k","ttl":"60"},"refresh":"r1","expires_in":900}"#;
        let mut e = Extraction {
            source: Source::Json { path: JsonPath::parse("data.token").unwrap(), carry: Carry::Bearer },
            expires_in: Some(JsonPath::parse("expires_in").unwrap()),
            refresh_token: Some(JsonPath::parse("refresh").unwrap()),
            csrf: None,
        };
        let held = e.read(&HeaderMap::new(), body, None).unwrap();
        assert_eq!(held.credential.1, "Bearer t0k");
        assert_eq!((held.expires_in, held.refresh.as_deref()), (Some(900), Some(&b"r1"[..])));
        e.expires_in = Some(JsonPath::parse("data.ttl").unwrap());
        assert_eq!(e.read(&HeaderMap::new(), body, None).unwrap().expires_in, Some(60));
        e.source = Source::Json {
            path: JsonPath::parse("data.token").unwrap(),
            carry: Carry::Header { name: HeaderName::from_static("x-api-key"), prefix: "Token ".into() },
        };
        assert_eq!(e.read(&HeaderMap::new(), body, None).unwrap().credential.1, "Token t0k");
        // A refresh answer without a new refresh token keeps the old one; a login must have it.
        let prev = e.read(&HeaderMap::new(), body, None).unwrap();
        let again = e.read(&HeaderMap::new(), br#"{"data":{"token":"t1"}}"#, Some(&prev)).unwrap();
        assert_eq!(again.refresh.as_deref(), Some(&b"r1"[..]));
        assert_eq!(
            e.read(&HeaderMap::new(), br#"{"data":{"token":"t1"}}"#, None).unwrap_err(),
            Missing::Field(JsonPath::parse("refresh").unwrap())
        );
        assert!(matches!(e.read(&HeaderMap::new(), b"<html>", None), Err(Missing::NotJson(_))));
        assert!(JsonPath::parse("a..b").is_err());
        let arr: Value = serde_json::from_str(r#"{"items":[{"id":7}]}"#).unwrap();
        assert_eq!(JsonPath::parse("items.0.id").unwrap().text(&arr).as_deref(), Some("7"));
    }
}
