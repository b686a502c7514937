//! authbench's own schemes as flows. Three wire shapes serve the seven schemes: a sealed cookie
//! (`cookie`), a session cookie (`session`, `session-cached`, `session-tracked`) and a bearer pair
//! (`jwt`, `jwt-revocable`, `jwt-pubsub`). Each is a file in `loadgen/flows/`, compiled in and read
//! by the same parser as any user's flow, once per process.

use std::path::Path;
use std::sync::OnceLock;

use authbench_contract::CredentialKind;

use super::{Flow, Origin};

/// The seven schemes' names and the credential kind each issues (`authbench serve --help`;
/// a test of the binary checks this table against the servers' own).
pub const SCHEMES: [(&str, CredentialKind); 7] = [
    ("cookie", CredentialKind::SealedCookie),
    ("session", CredentialKind::SessionCookie),
    ("jwt", CredentialKind::Bearer),
    ("jwt-revocable", CredentialKind::Bearer),
    ("jwt-pubsub", CredentialKind::Bearer),
    ("session-cached", CredentialKind::SessionCookie),
    ("session-tracked", CredentialKind::SessionCookie),
];

/// The file of each kind, as compiled in.
pub fn text(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::SealedCookie => include_str!("../../flows/cookie.toml"),
        CredentialKind::SessionCookie => include_str!("../../flows/session.toml"),
        CredentialKind::Bearer => include_str!("../../flows/jwt.toml"),
    }
}

/// The built-in flow of a credential kind.
pub fn flow(kind: CredentialKind) -> &'static Flow {
    static FLOWS: OnceLock<[&'static Flow; 3]> = OnceLock::new();
    let flows = FLOWS.get_or_init(|| {
        CredentialKind::ALL.map(|k| {
            let stem = k.as_str();
            super::schema::parse(text(k), Path::new("."), stem, Origin::Builtin(k))
                .unwrap_or_else(|e| panic!("the built-in {stem} flow: {e}"))
                .leak()
        })
    });
    let i = CredentialKind::ALL.iter().position(|k| *k == kind).expect("every kind has a flow");
    flows[i]
}

/// The built-in flow of a kind under a scheme's name, once per name and process.
pub fn named(name: &str, kind: CredentialKind) -> &'static Flow {
    let base = flow(kind);
    if base.name == name {
        return base;
    }
    static NAMED: OnceLock<std::sync::Mutex<Vec<&'static Flow>>> = OnceLock::new();
    let mut named = NAMED.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(f) = named.iter().find(|f| f.name == name && f.origin == base.origin) {
        return f;
    }
    let f = base.named(name).leak();
    named.push(f);
    f
}

/// A scheme's credential kind, by its name.
pub fn kind_of(scheme: &str) -> Option<CredentialKind> {
    SCHEMES.iter().find(|(n, _)| *n == scheme).map(|(_, k)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use authbench_contract::{LoginRequest, RefreshRequest, path};

    /// The flows say what the contract says: the same paths, and login and refresh bodies
    /// byte-identical to the contract's types.
    #[test]
    fn builtin_flows_are_the_contract() {
        for kind in CredentialKind::ALL {
            let f = flow(kind);
            assert_eq!(f.origin, Origin::Builtin(kind));
            assert_eq!(f.login.path, path::LOGIN);
            assert_eq!(f.requests.len(), 1);
            assert_eq!(f.requests[0].step.path, path::ME);
            assert_eq!(f.refresh.as_ref().unwrap().step.path, path::REFRESH);
            assert_eq!(f.logout.as_ref().unwrap().path, path::LOGOUT);
            assert_eq!(f.logout_all.as_ref().unwrap().path, path::LOGOUT_ALL);
            let login = LoginRequest { username: "user42".into(), password: "password42".into() };
            assert_eq!(f.login_body(42).unwrap(), serde_json::to_vec(&login).unwrap());
            assert_eq!(f.extraction.expires_in.is_some(), kind.has_fixed_lifetime());
        }
        let jwt = flow(CredentialKind::Bearer);
        let held = super::super::extract::Held {
            credential: (http::header::AUTHORIZATION, http::HeaderValue::from_static("Bearer a")),
            csrf: None,
            refresh: Some(bytes::Bytes::from_static(b"r.e-f_1")),
            expires_in: Some(900),
        };
        let (body, header, len) = jwt.refresh_parts(jwt.refresh.as_ref().unwrap(), &held);
        let want = RefreshRequest { refresh_token: "r.e-f_1".into() };
        assert_eq!(body.unwrap(), serde_json::to_vec(&want).unwrap());
        assert!(header.is_none() && len == 7);
        assert!(!jwt.refresh.as_ref().unwrap().send_credential);
        assert!(flow(CredentialKind::SessionCookie).refresh.as_ref().unwrap().send_credential);
    }

    #[test]
    fn the_seven_schemes_share_three_flows_under_their_names() {
        for (name, kind) in SCHEMES {
            let f = named(name, kind);
            assert_eq!(f.name, name);
            assert!(std::ptr::eq(f, named(name, kind)), "{name}: one flow per name and process");
            assert_eq!(f.requests, flow(kind).requests);
            assert_eq!(kind_of(name), Some(kind));
        }
        assert_eq!(kind_of("basic"), None);
    }
}
