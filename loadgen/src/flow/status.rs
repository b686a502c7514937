//! Which answers a flow expects and what "refused" looks like: [`StatusSet`] (codes and classes,
//! one bit per code, so the hot path's check is a shift and a mask) and [`Refused`] (a status
//! set, a redirect to a login page, or a body match).

use http::{HeaderMap, StatusCode, header};

/// A set of status codes (100..=999), written `[200, 204]`, `["2xx"]`, `["4xx", 503]`.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusSet([u64; 16]);

impl StatusSet {
    pub const EMPTY: StatusSet = StatusSet([0; 16]);

    /// Every code of a class: `class(2)` is 200..=299.
    pub fn class(c: u16) -> StatusSet {
        let mut s = StatusSet::EMPTY;
        for code in c * 100..c * 100 + 100 {
            s.insert(code);
        }
        s
    }

    pub fn of(codes: &[u16]) -> StatusSet {
        let mut s = StatusSet::EMPTY;
        for &c in codes {
            s.insert(c);
        }
        s
    }

    fn insert(&mut self, code: u16) {
        let i = usize::from(code.clamp(100, 999) - 100);
        self.0[i / 64] |= 1 << (i % 64);
    }

    pub fn contains(&self, status: StatusCode) -> bool {
        let i = usize::from(status.as_u16().saturating_sub(100));
        i < 900 && self.0[i / 64] & (1 << (i % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// `200`, `4xx` or a comma list of them: what a flow file says, one entry each.
    pub fn parse(entries: &[StatusEntry]) -> Result<StatusSet, String> {
        let mut s = StatusSet::EMPTY;
        for e in entries {
            match e {
                StatusEntry::Code(c) if (100..=999).contains(c) => s.insert(*c),
                StatusEntry::Code(c) => return Err(format!("status {c} is not between 100 and 999")),
                StatusEntry::Class(t) => {
                    let t = t.trim().to_ascii_lowercase();
                    let class =
                        t.strip_suffix("xx").filter(|d| d.len() == 1).and_then(|d| d.parse::<u16>().ok());
                    if let Some(d) = class.filter(|d| (1..=9).contains(d)) {
                        (d * 100..d * 100 + 100).for_each(|c| s.insert(c));
                    } else if let Some(c) = t.parse::<u16>().ok().filter(|c| (100..=999).contains(c)) {
                        s.insert(c);
                    } else {
                        return Err(format!("`{t}` is not a status (200) or a class (2xx)"));
                    }
                }
            }
        }
        Ok(s)
    }

    /// The codes, as `200, 204` or a class where every code of it is in (`2xx`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for class in 1..=9u16 {
            let codes: Vec<u16> = (class * 100..class * 100 + 100)
                .filter(|c| self.contains(StatusCode::from_u16(*c).expect("100..=999")))
                .collect();
            if codes.len() == 100 {
                parts.push(format!("{class}xx"));
            } else {
                parts.extend(codes.iter().map(u16::to_string));
            }
        }
        parts.join(", ")
    }
}

impl std::fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StatusSet[{}]", self.describe())
    }
}

/// One entry of a status list in a flow file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(untagged)]
pub enum StatusEntry {
    Code(u16),
    Class(String),
}

/// How the service says a credential is not (or no longer) accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Any of these statuses (default 401, 403).
    pub status: StatusSet,
    /// A redirect (3xx) whose `Location` contains this, e.g. `/login`.
    pub redirect: Option<String>,
    /// A body that contains this (a login page served with 200, say). Reading it costs the body
    /// of every authenticated request, so only a flow that says so pays.
    pub body: Option<String>,
}

impl Default for Refused {
    fn default() -> Self {
        Refused { status: StatusSet::of(&[401, 403]), redirect: None, body: None }
    }
}

impl Refused {
    /// Whether an answer refuses the credential.
    pub fn by(&self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> bool {
        if self.status.contains(status) {
            return true;
        }
        if let Some(to) = &self.redirect
            && status.is_redirection()
            && headers.get(header::LOCATION).is_some_and(|l| contains(l.as_bytes(), to.as_bytes()))
        {
            return true;
        }
        self.body.as_ref().is_some_and(|b| contains(body, b.as_bytes()))
    }

    /// Whether judging an answer needs its body.
    pub fn needs_body(&self) -> bool {
        self.body.is_some()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(json: &str) -> Result<StatusSet, String> {
        StatusSet::parse(&serde_json::from_str::<Vec<StatusEntry>>(json).unwrap())
    }

    #[test]
    fn codes_and_classes() {
        let s = set(r#"[200, "204", "4xx"]"#).unwrap();
        for c in [200, 204, 400, 401, 499] {
            assert!(s.contains(StatusCode::from_u16(c).unwrap()), "{c}");
        }
        for c in [201, 302, 500, 999] {
            assert!(!s.contains(StatusCode::from_u16(c).unwrap()), "{c}");
        }
        assert_eq!(s.describe(), "200, 204, 4xx");
        assert!(set(r#"["2xy"]"#).is_err() && set("[42]").is_err() && set(r#"["0xx"]"#).is_err());
        assert!(StatusSet::EMPTY.is_empty() && !StatusSet::class(2).is_empty());
    }

    #[test]
    fn refused_by_status_redirect_or_body() {
        let r =
            Refused { redirect: Some("/login".into()), body: Some("Sign in".into()), ..Refused::default() };
        let none = HeaderMap::new();
        assert!(r.by(StatusCode::UNAUTHORIZED, &none, b""));
        assert!(!r.by(StatusCode::OK, &none, b"{}"));
        assert!(r.by(StatusCode::OK, &none, b"<h1>Sign in</h1>"));
        let mut to_login = HeaderMap::new();
        to_login.insert(header::LOCATION, "/login?next=%2Fme".parse().unwrap());
        assert!(r.by(StatusCode::FOUND, &to_login, b""));
        let mut elsewhere = HeaderMap::new();
        elsewhere.insert(header::LOCATION, "/home".parse().unwrap());
        assert!(!r.by(StatusCode::FOUND, &elsewhere, b""));
        assert!(r.needs_body() && !Refused::default().needs_body());
    }
}
