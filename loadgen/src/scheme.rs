//! The scheme under load as the generator sees it: a name for the reports and the kind of
//! credential its server issues. The kind alone decides how a virtual user logs in, presents and
//! renews its credential, so a new server scheme that issues an existing kind needs no change here.

use authbench_contract::CredentialKind;

use crate::error::{Error, Result};

/// A scheme to log in to. `None` in a `LoadConfig` is the no-auth baseline
/// (`GET /healthz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    /// As reported in `summary.json` / `summary.csv`.
    pub name: String,
    pub credential: CredentialKind,
}

/// `--scheme` names of authbench's own servers and the credential each issues.
const KNOWN: [(&str, CredentialKind); 3] = [
    ("cookie", CredentialKind::SealedCookie),
    ("session", CredentialKind::SessionCookie),
    ("jwt", CredentialKind::Bearer),
];

impl Scheme {
    pub fn new(name: impl Into<String>, credential: CredentialKind) -> Scheme {
        Scheme { name: name.into(), credential }
    }

    /// Parse `--scheme`: `none` (the baseline), one of authbench's schemes (`cookie`, `session`,
    /// `jwt`), or a credential kind by its contract name (`sealed-cookie`, `session-cookie`,
    /// `bearer`) for any other server that issues one.
    pub fn parse(s: &str) -> Result<Option<Scheme>> {
        let s = s.trim();
        if s == "none" {
            return Ok(None);
        }
        let known = KNOWN.iter().find(|(name, _)| *name == s).map(|(_, kind)| *kind);
        match known.or_else(|| CredentialKind::from_name(s)) {
            Some(kind) => Ok(Some(Scheme::new(s, kind))),
            None => Err(Error::BadInput(format!(
                "--scheme `{s}`: expected none, cookie, session or jwt (or a credential kind: \
                 sealed-cookie, session-cookie, bearer)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_map_to_credential_kinds() {
        assert_eq!(Scheme::parse("none").unwrap(), None);
        assert_eq!(
            Scheme::parse("cookie").unwrap(),
            Some(Scheme::new("cookie", CredentialKind::SealedCookie))
        );
        assert_eq!(Scheme::parse(" session").unwrap().unwrap().credential, CredentialKind::SessionCookie);
        assert_eq!(Scheme::parse("jwt").unwrap().unwrap().credential, CredentialKind::Bearer);
        assert_eq!(Scheme::parse("bearer").unwrap(), Some(Scheme::new("bearer", CredentialKind::Bearer)));
        let e = Scheme::parse("basic").unwrap_err().to_string();
        assert!(e.contains("--scheme") && e.contains("none, cookie, session or jwt"), "{e}");
    }
}
