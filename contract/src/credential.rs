//! The kinds of credential a server can issue, and how each travels on a request.

/// How a credential is issued, carried and renewed. A scheme is one of these kinds on the wire,
/// whatever it does behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// A random session id in the [`SESSION_COOKIE`] cookie; the record stays on the server, whose
    /// idle expiry slides with use. Login answers `Set-Cookie` and a [`CookieIssued`](crate::CookieIssued).
    SessionCookie,
    /// The user's claims sealed into the [`SEALED_COOKIE`] cookie; its expiry is fixed at issue.
    /// Login answers `Set-Cookie` and a [`CookieIssued`](crate::CookieIssued).
    SealedCookie,
    /// An access token in `Authorization: Bearer <token>` and a refresh token, both with a fixed
    /// lifetime. Login and refresh answer a [`TokenPair`](crate::TokenPair).
    Bearer,
}

/// Name of the cookie that carries a session id ([`CredentialKind::SessionCookie`]).
pub const SESSION_COOKIE: &str = "ab_sid";
/// Name of the cookie that carries sealed claims ([`CredentialKind::SealedCookie`]).
pub const SEALED_COOKIE: &str = "ab_auth";
/// The prefix of a cookie that a browser accepts only with `Secure`, `Path=/` and no `Domain`,
/// and so only over HTTPS: the credential cookies' names over TLS carry it.
pub const HOST_PREFIX: &str = "__Host-";
/// [`SESSION_COOKIE`] and [`SEALED_COOKIE`] as a server over HTTPS names them (with `Secure`).
pub const SESSION_COOKIE_TLS: &str = "__Host-ab_sid";
pub const SEALED_COOKIE_TLS: &str = "__Host-ab_auth";
/// The `Authorization` scheme of a bearer token: the header is `Bearer <token>`.
pub const BEARER: &str = "Bearer";

impl CredentialKind {
    pub const ALL: [CredentialKind; 3] =
        [CredentialKind::SessionCookie, CredentialKind::SealedCookie, CredentialKind::Bearer];

    /// The cookie that carries the credential; `None` for a bearer token.
    pub const fn cookie_name(self) -> Option<&'static str> {
        match self {
            CredentialKind::SessionCookie => Some(SESSION_COOKIE),
            CredentialKind::SealedCookie => Some(SEALED_COOKIE),
            CredentialKind::Bearer => None,
        }
    }

    /// The cookie's name on a server over HTTPS (`tls`: `__Host-` prefixed) or plain HTTP.
    pub const fn cookie_name_over(self, tls: bool) -> Option<&'static str> {
        match (self, tls) {
            (CredentialKind::SessionCookie, true) => Some(SESSION_COOKIE_TLS),
            (CredentialKind::SealedCookie, true) => Some(SEALED_COOKIE_TLS),
            _ => self.cookie_name(),
        }
    }

    /// Whether the credential expires at a time fixed when it was issued (`expires_in` seconds
    /// later), so a client renews it before then. A server session's expiry slides with use instead.
    pub const fn has_fixed_lifetime(self) -> bool {
        !matches!(self, CredentialKind::SessionCookie)
    }

    /// `session-cookie`, `sealed-cookie`, `bearer`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CredentialKind::SessionCookie => "session-cookie",
            CredentialKind::SealedCookie => "sealed-cookie",
            CredentialKind::Bearer => "bearer",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    pub fn from_name(name: &str) -> Option<CredentialKind> {
        CredentialKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_cookies_differ() {
        for k in CredentialKind::ALL {
            assert_eq!(CredentialKind::from_name(k.as_str()), Some(k));
        }
        assert_eq!(CredentialKind::from_name("cookie"), None);
        assert_ne!(SESSION_COOKIE, SEALED_COOKIE);
        assert_eq!(CredentialKind::Bearer.cookie_name(), None);
        for k in [CredentialKind::SessionCookie, CredentialKind::SealedCookie] {
            let (plain, tls) = (k.cookie_name_over(false).unwrap(), k.cookie_name_over(true).unwrap());
            assert_eq!(tls, format!("{HOST_PREFIX}{plain}"));
        }
        assert!(!CredentialKind::SessionCookie.has_fixed_lifetime());
        assert!(
            CredentialKind::SealedCookie.has_fixed_lifetime() && CredentialKind::Bearer.has_fixed_lifetime()
        );
    }
}
