//! A flow file's tables (docs/flows.md is their reference), checked and typed into a [`Flow`].
//! Unknown keys are refused, so a misspelt option is an error, not a silent default. The only
//! file a flow may read besides itself is its user list, in its own folder ([`super::users`]).

use std::path::Path;

use http::{HeaderName, HeaderValue, Method};
use serde::Deserialize;

use super::extract::{Carry, Csrf, CsrfFrom, Extraction, JsonPath, Source};
use super::status::{Refused, StatusEntry, StatusSet};
use super::template::{Escape, Template, Var};
use super::users::{Users, UsersFile};
use super::{Body, Flow, Origin, Refresh, Request, Step};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowFile {
    name: Option<String>,
    #[serde(default)]
    users: UsersFile,
    login: StepFile,
    credential: CredentialFile,
    #[serde(default, rename = "request")]
    requests: Vec<StepFile>,
    refresh: Option<StepFile>,
    logout: Option<StepFile>,
    logout_all: Option<StepFile>,
    #[serde(default)]
    refused: RefusedFile,
    csrf: Option<CsrfFile>,
}

/// Most `[[request]]`s a flow may have: each is recorded apart by its number (a byte).
pub const MAX_REQUESTS: usize = 64;

/// Every request's keys; `name`, `weight` for `[[request]]`, `header`, `send_credential` for
/// `[refresh]` (checked where they do not belong).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    method: Option<String>,
    path: String,
    body: Option<String>,
    content_type: Option<String>,
    expect: Option<Vec<StatusEntry>>,
    name: Option<String>,
    weight: Option<u32>,
    header: Option<String>,
    send_credential: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    cookies: Option<Vec<String>>,
    json: Option<String>,
    send: Option<String>,
    prefix: Option<String>,
    expires_in: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusedFile {
    status: Option<Vec<StatusEntry>>,
    redirect: Option<String>,
    body: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CsrfFile {
    cookie: Option<String>,
    json: Option<String>,
    header_from: Option<String>,
    header: String,
}

impl Flow {
    /// Read a flow file, for the rest of the process ([`Flow::leak`]).
    pub fn load(path: &Path) -> Result<&'static Flow, String> {
        load(path).map(Flow::leak)
    }
}

/// Read the flow file at `path`; its name defaults to the file's stem.
pub fn load(path: &Path) -> Result<Flow, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("flow {}: {e}", path.display()))?;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("flow");
    parse(&text, folder, stem, Origin::File(path.to_path_buf()))
        .map_err(|e| format!("flow {}: {e}", path.display()))
}

/// A flow from its text; `folder` is where its user list may be, `stem` its default name.
pub fn parse(text: &str, folder: &Path, stem: &str, origin: Origin) -> Result<Flow, String> {
    // The message without the quoted line: that line may hold a password.
    let f: FlowFile = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => format!("line {}: {}", text[..span.start].lines().count().max(1), e.message()),
        None => e.message().to_owned(),
    })?;
    let users = Users::from_file(&f.users, folder)?;
    let csrf = f.csrf.as_ref().map(csrf).transpose()?;
    let has_csrf = csrf.is_some();
    let extraction = extraction(&f.credential, csrf)?;
    let refresh_token = f.credential.refresh_token.is_some();
    let login = step(&f.login, "login", Method::POST, &[Var::User, Var::Password], has_csrf)?;
    refuse_extra(&f.login, "login")?;
    if f.requests.is_empty() {
        return Err("at least one [[request]] is needed: the authenticated request(s) the load sends".into());
    }
    if f.requests.len() > MAX_REQUESTS {
        return Err(format!(
            "{} [[request]]s: at most {MAX_REQUESTS} (each is counted apart in the summary)",
            f.requests.len()
        ));
    }
    let requests = f
        .requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let what = format!("request {}", i + 1);
            if r.header.is_some() || r.send_credential.is_some() {
                return Err(format!("{what}: `header` and `send_credential` belong to [refresh]"));
            }
            Ok(Request {
                name: r.name.clone().unwrap_or_else(|| r.path.clone()),
                step: step(r, &what, Method::GET, &[], has_csrf)?,
                weight: r.weight.unwrap_or(1),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let weights = requests.iter().map(|r| u64::from(r.weight)).sum();
    if weights == 0 {
        return Err("the [[request]] weights are all 0".into());
    }
    let refresh = f.refresh.as_ref().map(|r| refresh(r, refresh_token, has_csrf)).transpose()?;
    let end = |s: &Option<StepFile>, what: &str| -> Result<Option<Step>, String> {
        let Some(s) = s else { return Ok(None) };
        refuse_extra(s, what)?;
        step(s, what, Method::POST, &[], has_csrf).map(Some)
    };
    let refused = &f.refused;
    let refused = Refused {
        status: match &refused.status {
            Some(s) => StatusSet::parse(s).map_err(|e| format!("refused.status: {e}"))?,
            None => Refused::default().status,
        },
        redirect: refused.redirect.clone(),
        body: refused.body.clone().filter(|b| !b.is_empty()),
    };
    Ok(Flow {
        name: f.name.clone().unwrap_or_else(|| stem.to_owned()),
        origin,
        users,
        login,
        extraction,
        requests,
        refresh,
        logout: end(&f.logout, "logout")?,
        logout_all: end(&f.logout_all, "logout_all")?,
        refused,
        weights,
    })
}

fn refuse_extra(s: &StepFile, what: &str) -> Result<(), String> {
    if s.name.is_some() || s.weight.is_some() || s.header.is_some() || s.send_credential.is_some() {
        return Err(format!(
            "{what}: `name` and `weight` belong to [[request]], `header` and `send_credential` to [refresh]"
        ));
    }
    Ok(())
}

fn step(s: &StepFile, what: &str, method: Method, vars: &[Var], has_csrf: bool) -> Result<Step, String> {
    let method = match &s.method {
        Some(m) => Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("{what}.method `{m}` is not an HTTP method"))?,
        None => method,
    };
    if !s.path.starts_with('/') || s.path.parse::<http::uri::PathAndQuery>().is_err() {
        return Err(format!("{what}.path `{}`: a path on the target, starting with /", s.path));
    }
    let body = match &s.body {
        None => None,
        Some(text) => {
            let ct = s.content_type.as_deref().unwrap_or("application/json");
            let ct_value = HeaderValue::from_str(ct)
                .map_err(|_| format!("{what}.content_type `{ct}` is not a header value"))?;
            let t = Template::parse(text, Escape::for_content_type(ct), vars)
                .map_err(|e| format!("{what}.body: {e}"))?;
            let fixed = [Var::User, Var::Password, Var::Refresh].iter().all(|v| !t.uses(*v));
            let body = if fixed { Body::Fixed(t.render(&Default::default())) } else { Body::Template(t) };
            Some((body, ct_value))
        }
    };
    if s.content_type.is_some() && s.body.is_none() {
        return Err(format!("{what}.content_type without a body"));
    }
    let expect = match &s.expect {
        Some(e) => StatusSet::parse(e).map_err(|e| format!("{what}.expect: {e}"))?,
        None => StatusSet::class(2),
    };
    if expect.is_empty() {
        return Err(format!("{what}.expect: no status in it"));
    }
    let csrf = has_csrf && !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    Ok(Step { method, path: s.path.clone(), body, expect, csrf })
}

fn refresh(r: &StepFile, has_token: bool, has_csrf: bool) -> Result<Refresh, String> {
    if r.name.is_some() || r.weight.is_some() {
        return Err("refresh: `name` and `weight` belong to [[request]]".into());
    }
    let vars: &[Var] = if has_token { &[Var::Refresh] } else { &[] };
    let no_token = |e: String| {
        if e.contains("{refresh}") && !has_token {
            format!("{e}: name the refresh credential first (credential.refresh_token)")
        } else {
            e
        }
    };
    let step = step(r, "refresh", Method::POST, vars, has_csrf).map_err(no_token)?;
    let header = match &r.header {
        None => None,
        Some(h) => {
            let (name, value) =
                h.split_once(':').ok_or_else(|| format!("refresh.header `{h}`: expected `Name: value`"))?;
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| format!("refresh.header `{h}`: not a header name"))?;
            let t = Template::parse(value.trim(), Escape::Raw, vars)
                .map_err(|e| no_token(format!("refresh.header: {e}")))?;
            Some((name, t))
        }
    };
    if header.is_some() && r.send_credential == Some(true) {
        return Err("refresh: `header` carries the refresh credential in place of the credential: not with send_credential = true".into());
    }
    let uses_token = header.as_ref().is_some_and(|(_, t)| t.uses(Var::Refresh))
        || matches!(&step.body, Some((Body::Template(t), _)) if t.uses(Var::Refresh));
    if has_token && !uses_token {
        return Err("refresh: credential.refresh_token is read but never sent: use {refresh} in refresh.body or refresh.header".into());
    }
    Ok(Refresh { step, header, send_credential: r.send_credential.unwrap_or(!uses_token) })
}

fn extraction(c: &CredentialFile, csrf: Option<Csrf>) -> Result<Extraction, String> {
    let path = |what: &str, p: &Option<String>| {
        p.as_deref().map(JsonPath::parse).transpose().map_err(|e| format!("credential.{what}: {e}"))
    };
    let source = match (&c.cookies, &c.json) {
        (Some(_), Some(_)) => return Err("credential: give `cookies` or `json`, not both".into()),
        (None, None) => {
            return Err(
                "credential: say where it is: `cookies = [\"name\"]` or `json = \"access_token\"`".into()
            );
        }
        (Some(names), None) => {
            if c.send.is_some() || c.prefix.is_some() {
                return Err("credential: `send` and `prefix` are for a `json` credential".into());
            }
            if names.is_empty() || names.iter().any(|n| n.is_empty() || n.contains(['=', ';', ' '])) {
                return Err("credential.cookies: one or more cookie names".into());
            }
            Source::Cookies(names.clone())
        }
        (None, Some(p)) => {
            let carry = match c.send.as_deref().unwrap_or("bearer").trim() {
                "bearer" if c.prefix.is_none() => Carry::Bearer,
                s => match s.split_once(':') {
                    Some(("cookie", name)) if c.prefix.is_none() && !name.trim().is_empty() => {
                        Carry::Cookie(name.trim().to_owned())
                    }
                    Some(("header", name)) => Carry::Header {
                        name: HeaderName::from_bytes(name.trim().as_bytes())
                            .map_err(|_| format!("credential.send `{s}`: not a header name"))?,
                        prefix: c.prefix.clone().unwrap_or_default(),
                    },
                    _ => {
                        return Err(format!(
                            "credential.send `{s}`: expected bearer, cookie:NAME or header:NAME (with an optional prefix)"
                        ));
                    }
                },
            };
            Source::Json { path: JsonPath::parse(p).map_err(|e| format!("credential.json: {e}"))?, carry }
        }
    };
    if matches!((&csrf, &source), (Some(Csrf { from: CsrfFrom::Cookie(_), .. }), Source::Json { .. })) {
        return Err("csrf.cookie goes with a cookie credential (a bearer token needs no CSRF token)".into());
    }
    Ok(Extraction {
        source,
        expires_in: path("expires_in", &c.expires_in)?,
        refresh_token: path("refresh_token", &c.refresh_token)?,
        csrf,
    })
}

fn csrf(c: &CsrfFile) -> Result<Csrf, String> {
    let header = HeaderName::from_bytes(c.header.trim().as_bytes())
        .map_err(|_| format!("csrf.header `{}`: not a header name", c.header))?;
    let from = match (&c.cookie, &c.json, &c.header_from) {
        (Some(n), None, None) => CsrfFrom::Cookie(n.clone()),
        (None, Some(p), None) => CsrfFrom::Json(JsonPath::parse(p).map_err(|e| format!("csrf.json: {e}"))?),
        (None, None, Some(h)) => CsrfFrom::Header(
            HeaderName::from_bytes(h.trim().as_bytes())
                .map_err(|_| format!("csrf.header_from `{h}`: not a header name"))?,
        ),
        _ => return Err("csrf: read the token from one of `cookie`, `json` or `header_from`".into()),
    };
    Ok(Csrf { from, header })
}

/// `Bytes` of a fixed body.
#[cfg(test)]
fn fixed(body: &Option<(Body, HeaderValue)>) -> Option<&bytes::Bytes> {
    match body {
        Some((Body::Fixed(b), _)) => Some(b),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
