//! The scheme under load as the generator sees it: a name for the reports and the flow its users
//! run. authbench's own schemes are built-in flows ([`crate::flow::builtin`]), keyed by the kind
//! of credential their server issues, so a new server scheme that issues an existing kind needs
//! no change here; any other service is a flow file (`--flow`).

use authbench_contract::CredentialKind;

use crate::error::{Error, Result};
use crate::flow::{Flow, Origin, builtin};

/// A scheme to log in to. `None` in a `LoadConfig` is the no-auth baseline
/// (`GET /healthz`).
#[derive(Debug, Clone)]
pub struct Scheme {
    /// As reported in `summary.json` / `summary.csv`.
    pub name: String,
    /// What its users do: for the built-in schemes, the flow of their credential kind.
    pub flow: &'static Flow,
}

impl PartialEq for Scheme {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && std::ptr::eq(self.flow, other.flow)
    }
}

impl Eq for Scheme {}

impl Scheme {
    /// A built-in scheme: the flow of the credential kind its server issues, under `name`.
    pub fn new(name: impl Into<String>, credential: CredentialKind) -> Scheme {
        let name = name.into();
        Scheme { flow: builtin::named(&name, credential), name }
    }

    /// A flow's users, under the flow's name.
    pub fn from_flow(flow: &'static Flow) -> Scheme {
        Scheme { name: flow.name.clone(), flow }
    }

    /// The credential kind of a built-in scheme; `None` for a flow file.
    pub fn credential(&self) -> Option<CredentialKind> {
        match self.flow.origin {
            Origin::Builtin(kind) => Some(kind),
            Origin::File(_) => None,
        }
    }

    /// Parse `--scheme`: `none` (the baseline), one of authbench's seven schemes, or a credential
    /// kind by its contract name (`sealed-cookie`, `session-cookie`, `bearer`) for any other
    /// server that keeps authbench's contract.
    pub fn parse(s: &str) -> Result<Option<Scheme>> {
        let s = s.trim();
        if s == "none" {
            return Ok(None);
        }
        match builtin::kind_of(s).or_else(|| CredentialKind::from_name(s)) {
            Some(kind) => Ok(Some(Scheme::new(s, kind))),
            None => Err(Error::BadInput(format!(
                "--scheme `{s}`: expected none or one of {} (or a credential kind: sealed-cookie, \
                 session-cookie, bearer); any other service: --flow FILE",
                builtin::SCHEMES.map(|(n, _)| n).join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_map_to_built_in_flows() {
        assert_eq!(Scheme::parse("none").unwrap(), None);
        assert_eq!(
            Scheme::parse("cookie").unwrap(),
            Some(Scheme::new("cookie", CredentialKind::SealedCookie))
        );
        let session = Scheme::parse(" session").unwrap().unwrap();
        assert_eq!(session.credential(), Some(CredentialKind::SessionCookie));
        assert_eq!(session.flow.name, "session");
        let jwt = Scheme::parse("jwt-pubsub").unwrap().unwrap();
        assert_eq!((jwt.credential(), jwt.flow.name.as_str()), (Some(CredentialKind::Bearer), "jwt-pubsub"));
        assert_eq!(Scheme::parse("bearer").unwrap(), Some(Scheme::new("bearer", CredentialKind::Bearer)));
        let e = Scheme::parse("basic").unwrap_err().to_string();
        assert!(
            e.contains("--scheme")
                && e.contains("cookie, session, jwt, jwt-revocable")
                && e.contains("--flow"),
            "{e}"
        );
    }
}
