//! A flow: how to log in to a service, carry its credential, use it, renew it and end it — read
//! from a TOML file (docs/flows.md), or one of authbench's own schemes, whose flows are the files
//! in `loadgen/flows/`, read by the same parser. A virtual user runs whichever it is given on one
//! code path ([`crate::vu`]); the revocation probe and compare's foreign targets prepare their
//! requests from the same [`Flow`] ([`Prepared`]).
//!
//! - [`schema`]: the file's tables, checked and typed into a [`Flow`]; paths stay in its folder.
//! - [`builtin`]: the built-in flows, by credential kind, and the seven scheme names.
//! - [`users`]: user n's name and password: a pattern, a list beside the flow, a secret from the
//!   environment.
//! - [`template`]: bodies with `{user}`, `{password}`, `{refresh}`, escaped for their type.
//! - [`extract`]: the credential (cookies or a JSON field), its lifetime, refresh credential and
//!   CSRF token out of an answer: a [`Held`].
//! - [`status`]: expected statuses and what "refused" looks like.
//! - [`shown`]: an answer described for an error message, secrets redacted.
//!
//! Imports go one way: `builtin` → `schema` → this file → `users`, `template`, `extract`,
//! `status`; `shown` stands alone.
//!
//! A flow lives as long as the process: [`Flow::leak`] hands out `&'static Flow`, so a request
//! borrows its path (`Uri::from_static`, no copy) and its prebuilt bodies without a reference count
//! on the hot path. A process loads a handful; the built-in ones are parsed once.

pub mod builtin;
pub mod extract;
pub mod schema;
pub mod shown;
pub mod status;
pub mod template;
pub mod users;

use std::path::PathBuf;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use extract::{Extraction, Held, Missing};

use crate::client::Call;
use status::{Refused, StatusSet};
use template::{Template, Values};
use users::Users;

/// Where a flow came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// One of authbench's own credential kinds (`loadgen/flows/`).
    Builtin(authbench_contract::CredentialKind),
    /// A file the user gave.
    File(PathBuf),
}

/// A request body: bytes fixed when the flow was read, or a template rendered per use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Fixed(Bytes),
    Template(Template),
}

/// One request of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub method: Method,
    pub path: String,
    pub body: Option<(Body, HeaderValue)>,
    /// Statuses that count as success.
    pub expect: StatusSet,
    /// Whether it carries the CSRF token (the flow has one and the method is not GET or HEAD).
    pub csrf: bool,
}

impl Step {
    /// The body when it names no variable (fixed when the flow was read), with its content type.
    pub fn fixed_body(&self) -> Option<(Bytes, &HeaderValue)> {
        match &self.body {
            Some((Body::Fixed(b), ct)) => Some((b.clone(), ct)),
            _ => None,
        }
    }

    /// This step sent with `held`'s credential, its CSRF token where the step carries one, and
    /// its fixed body if it has one.
    pub fn call<'a>(&'static self, held: &'a Held, want_body: bool) -> Call<'a> {
        Call {
            method: self.method.clone(),
            path: &self.path,
            credential: Some(&held.credential),
            csrf: if self.csrf { held.csrf.as_ref() } else { None },
            body: self.fixed_body(),
            want_body,
        }
    }
}

/// An authenticated request of the mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub name: String,
    pub step: Step,
    pub weight: u32,
}

/// How the credential is renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    pub step: Step,
    /// A header that carries the refresh credential (`Authorization: Bearer {refresh}`).
    pub header: Option<(HeaderName, Template)>,
    /// Whether the refresh also carries the credential itself (a cookie service: the cookie).
    pub send_credential: bool,
}

/// A service's auth API, as a virtual user runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// As reported (`summary.json`'s `scheme`).
    pub name: String,
    pub origin: Origin,
    pub users: Users,
    pub login: Step,
    pub extraction: Extraction,
    /// The authenticated requests, at least one, drawn by weight.
    pub requests: Vec<Request>,
    pub refresh: Option<Refresh>,
    pub logout: Option<Step>,
    pub logout_all: Option<Step>,
    pub refused: Refused,
    weights: u64,
}

/// A request of a flow as any client sends it (the control plane's: the probe, pre-flight).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Bytes>,
}

impl Flow {
    /// Keep the flow for the rest of the process (see the module doc).
    pub fn leak(self) -> &'static Flow {
        Box::leak(Box::new(self))
    }

    /// The header its credential travels in (`Cookie`, `Authorization`, or the flow's own).
    pub fn credential_header(&self) -> String {
        use extract::{Carry, Source};
        match &self.extraction.source {
            Source::Cookies(_) | Source::Json { carry: Carry::Cookie(_), .. } => "Cookie".into(),
            Source::Json { carry: Carry::Bearer, .. } => "Authorization".into(),
            Source::Json { carry: Carry::Header { name, .. }, .. } => name.as_str().to_owned(),
        }
    }

    /// The same flow under another name (a built-in flow serves several schemes).
    pub fn named(&self, name: &str) -> Flow {
        Flow { name: name.to_owned(), ..self.clone() }
    }

    /// The authenticated request a uniform random `r` picks by weight.
    pub fn pick(&self, r: u64) -> &Request {
        &self.requests[self.pick_index(r)]
    }

    /// The number (index) of the authenticated request a uniform random `r` picks by weight.
    pub fn pick_index(&self, r: u64) -> usize {
        if self.requests.len() == 1 {
            return 0;
        }
        let mut x = r % self.weights;
        for (i, req) in self.requests.iter().enumerate() {
            if x < u64::from(req.weight) {
                return i;
            }
            x -= u64::from(req.weight);
        }
        0
    }

    /// User `n`'s login body (rendered once per virtual user).
    pub fn login_body(&self, n: u64) -> Option<Bytes> {
        let (user, password) = self.users.get(n);
        self.login
            .body
            .as_ref()
            .map(|(b, _)| render(b, &Values { user: &user, password: &password, refresh: "" }))
    }

    /// Read a login or refresh answer.
    pub fn read(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        previous: Option<&Held>,
    ) -> Result<Held, Missing> {
        self.extraction.read(headers, body, previous)
    }

    /// A refresh's body, the header carrying the refresh credential, and that credential's length
    /// (else the credential's own).
    pub fn refresh_parts(
        &self,
        r: &Refresh,
        held: &Held,
    ) -> (Option<Bytes>, Option<(HeaderName, HeaderValue)>, u64) {
        let token =
            held.refresh.as_deref().map(|t| std::str::from_utf8(t).unwrap_or_default()).unwrap_or_default();
        let values = Values { user: "", password: "", refresh: token };
        let body = r.step.body.as_ref().map(|(b, _)| render(b, &values));
        let header = r.header.as_ref().and_then(|(name, t)| {
            HeaderValue::from_maybe_shared(t.render(&values)).ok().map(|v| (name.clone(), v))
        });
        let uses_token = body.is_some()
            && matches!(&r.step.body, Some((Body::Template(t), _)) if t.uses(template::Var::Refresh))
            || header.is_some();
        let len = if uses_token { token.len() } else { held.credential.1.len() } as u64;
        (body, header, len)
    }

    /// User `n`'s login, prepared for any client.
    pub fn prepare_login(&self, n: u64) -> Prepared {
        let mut p = prepare(&self.login, None);
        p.body = self.login_body(n);
        p
    }

    /// `step` carrying `held` (its credential, and its CSRF token where the step takes it).
    pub fn prepare(&self, step: &Step, held: &Held) -> Prepared {
        prepare(step, Some(held))
    }

    /// The refresh of `held`, when the flow has one.
    pub fn prepare_refresh(&self, held: &Held) -> Option<Prepared> {
        let r = self.refresh.as_ref()?;
        let (body, header, _) = self.refresh_parts(r, held);
        let mut p = prepare(&r.step, if r.send_credential { Some(held) } else { None });
        if !r.send_credential && r.step.csrf {
            p.headers.extend(held.csrf.clone());
        }
        p.headers.extend(header);
        p.body = body;
        Some(p)
    }
}

fn render(body: &Body, values: &Values<'_>) -> Bytes {
    match body {
        Body::Fixed(b) => b.clone(),
        Body::Template(t) => t.render(values),
    }
}

fn prepare(step: &Step, held: Option<&Held>) -> Prepared {
    let mut headers = Vec::new();
    if let Some(h) = held {
        headers.push(h.credential.clone());
        if step.csrf {
            headers.extend(h.csrf.clone());
        }
    }
    if let Some((_, ct)) = &step.body {
        headers.push((http::header::CONTENT_TYPE, ct.clone()));
    }
    let body = step.body.as_ref().map(|(b, _)| render(b, &Values::default()));
    Prepared { method: step.method.clone(), path: step.path.clone(), headers, body }
}
