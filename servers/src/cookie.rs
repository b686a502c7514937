//! Stateless encrypted cookie: the user's claims sealed with AES-256-GCM (the `cookie` crate's
//! private jar, the same one axum-extra's `PrivateCookieJar` uses). The cookie name is the AEAD's
//! associated data, so a value moved under another name fails to open. No server state at all:
//! logout can only ask the browser to forget; a copied cookie stays valid until it expires.
//!
//! The sealed claims carry the login's time (`at`) through every refresh: a refresh re-issues
//! the cookie for `--ttl` but never past login + `--max-age` (default 24 h), and a cookie older
//! than that is not refreshed (401), so a copied cookie refreshed in a loop still dies then.

use std::sync::Arc;
use std::time::Duration;

use authbench_contract::CookieIssued;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cookie::{Cookie, CookieJar, Key};
use serde::{Deserialize, Serialize};

use crate::api::{self, Principal, Scheme};
use crate::error::{Error, Result};
use crate::key_file::{self, Purpose};
use crate::kind::SameSite;
use crate::users::Users;

/// Name of the credential cookie: the contract's sealed-cookie name.
pub const COOKIE_NAME: &str = authbench_contract::credential::SEALED_COOKIE;

/// What the cookie carries, sealed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub uid: u64,
    pub iat: u64,
    pub exp: u64,
    /// When the user logged in (Unix s), kept through refreshes: the absolute lifetime counts
    /// from it. Absent (0) is refused at refresh.
    #[serde(rename = "at", default)]
    pub auth_time: u64,
}

impl Principal for Claims {
    fn user_id(&self) -> u64 {
        self.uid
    }
}

/// Seals and opens claims. Separate from the scheme so benches and preloading use the same code.
#[derive(Clone)]
pub struct Sealer {
    key: Key,
}

impl Sealer {
    /// A key generated from the OS CSPRNG.
    pub fn generate() -> Sealer {
        Sealer { key: Key::generate() }
    }

    /// The key derived from a `--key-file`'s bytes (HKDF, [`crate::key_file`]; a file under 32
    /// bytes or all printable ASCII is refused).
    pub fn from_key_file(material: &[u8]) -> Result<Sealer> {
        let key: [u8; 64] = key_file::derive(material, Purpose::Cookie)?;
        Ok(Sealer { key: Key::from(&key) })
    }

    /// Encrypt claims into a cookie value bound to `name`.
    pub fn seal(&self, name: &'static str, claims: &Claims) -> String {
        let json = serde_json::to_string(claims).expect("claims serialize");
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(Cookie::new(name, json));
        jar.get(name).expect("cookie just added").value().to_owned()
    }

    /// Decrypt and authenticate a cookie value presented under `name`; check expiry.
    pub fn open(&self, name: &'static str, value: &str, now: u64) -> Result<Claims> {
        let jar = CookieJar::new();
        let opened = jar
            .private(&self.key)
            .decrypt(Cookie::new(name, value.to_owned()))
            .ok_or(Error::InvalidCredential)?;
        let claims: Claims = serde_json::from_str(opened.value()).map_err(|_| Error::InvalidCredential)?;
        if claims.exp <= now {
            return Err(Error::Expired);
        }
        Ok(claims)
    }
}

/// The cookie scheme's state.
#[derive(Clone)]
pub struct CookieScheme {
    inner: Arc<Inner>,
    /// Absolute lifetime from login (`serve --max-age`), in seconds.
    max_age: u64,
}

struct Inner {
    users: Arc<Users>,
    sealer: Sealer,
    ttl: Duration,
    same_site: SameSite,
    /// [`COOKIE_NAME`], or over HTTPS its `__Host-` form (see [`CookieScheme::over_tls`]).
    cookie: &'static str,
}

impl CookieScheme {
    /// The scheme with the default absolute lifetime ([`crate::session::DEFAULT_MAX_AGE`]).
    pub fn new(users: Arc<Users>, sealer: Sealer, ttl: Duration, same_site: SameSite) -> Self {
        let max_age = crate::session::DEFAULT_MAX_AGE.as_secs();
        CookieScheme { inner: Arc::new(Inner { users, sealer, ttl, same_site, cookie: COOKIE_NAME }), max_age }
    }

    /// Set the absolute lifetime (`serve --max-age`): no cookie lives, nor is refreshed, past
    /// login + this.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age.as_secs();
        self
    }

    /// Served over HTTPS (`serve --tls`): the cookie is `__Host-ab_auth`, with `Secure`.
    pub fn over_tls(mut self, tls: bool) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("set before the scheme is shared");
        inner.cookie = authbench_contract::CredentialKind::SealedCookie.cookie_name_over(tls).expect("a cookie kind");
        self
    }

    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// Claims for a user who logged in at `auth_time`, valid from now for the configured TTL but
    /// never past the absolute lifetime.
    pub fn claims_for(&self, uid: u64, auth_time: u64) -> Claims {
        let iat = api::now_secs();
        let exp = (iat + self.inner.ttl.as_secs()).min(auth_time.saturating_add(self.max_age));
        Claims { uid, iat, exp, auth_time }
    }

    /// The `Set-Cookie` value issued for `uid`, logged in at `auth_time`.
    pub fn issue(&self, uid: u64, auth_time: u64) -> Cookie<'static> {
        let claims = self.claims_for(uid, auth_time);
        let value = self.inner.sealer.seal(self.inner.cookie, &claims);
        let lifetime = Duration::from_secs(claims.exp.saturating_sub(claims.iat));
        api::cookie_attrs(self.inner.cookie, value, self.inner.same_site, Some(lifetime))
    }

    fn issued_response(&self, uid: u64, auth_time: u64) -> Response {
        let cookie = self.issue(uid, auth_time);
        let expires_in = cookie.max_age().map_or(0, |d| d.whole_seconds().max(0) as u64);
        let body = CookieIssued { expires_in, token_type: "cookie".into() };
        api::with_cookie(StatusCode::OK, &cookie, Some(body))
    }
}

impl FromRequestParts<CookieScheme> for Claims {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, scheme: &CookieScheme) -> Result<Self> {
        let value = api::single_cookie(&parts.headers, scheme.inner.cookie)?;
        scheme.inner.sealer.open(scheme.inner.cookie, value, api::now_secs())
    }
}

impl Scheme for CookieScheme {
    type Principal = Claims;

    fn users(&self) -> &Arc<Users> {
        &self.inner.users
    }

    async fn login(&self, user_id: u64) -> Result<Response> {
        Ok(self.issued_response(user_id, api::now_secs()))
    }

    /// A new cookie for the same login, unless the login is `--max-age` old (401).
    async fn refresh(&self, headers: HeaderMap, _body: Bytes) -> Result<Response> {
        let value = api::single_cookie(&headers, self.inner.cookie)?;
        let now = api::now_secs();
        let claims = self.inner.sealer.open(self.inner.cookie, value, now)?;
        if now >= claims.auth_time.saturating_add(self.max_age) {
            return Err(Error::Expired);
        }
        Ok(self.issued_response(claims.uid, claims.auth_time))
    }

    async fn logout(&self, _who: Claims) -> Result<Response> {
        let removal = api::removal_cookie(self.inner.cookie, self.inner.same_site);
        Ok(api::with_cookie(StatusCode::NO_CONTENT, &removal, None))
    }

    async fn logout_all(&self, _who: Claims) -> Result<Response> {
        Err(Error::CannotRevoke)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let sealer = Sealer::generate();
        let claims = Claims { uid: 7, iat: 100, exp: 200, auth_time: 100 };
        let value = sealer.seal(COOKIE_NAME, &claims);
        assert_eq!(sealer.open(COOKIE_NAME, &value, 150).unwrap(), claims);
        assert!(matches!(sealer.open(COOKIE_NAME, &value, 200), Err(Error::Expired)));
        // The payload is encrypted: the user id does not appear in clear.
        assert!(!value.contains("uid"));
        // Every byte flip is rejected.
        let bytes = value.as_bytes();
        for i in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut t = bytes.to_vec();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).unwrap();
            assert!(sealer.open(COOKIE_NAME, &t, 150).is_err(), "flip at {i} accepted");
        }
        // Another key cannot open it.
        assert!(Sealer::generate().open(COOKIE_NAME, &value, 150).is_err());
    }

    #[test]
    fn value_is_bound_to_the_cookie_name() {
        let sealer = Sealer::generate();
        let claims = Claims { uid: 7, iat: 100, exp: 200, auth_time: 100 };
        let moved = sealer.seal("other", &claims);
        assert!(matches!(sealer.open(COOKIE_NAME, &moved, 150), Err(Error::InvalidCredential)));
    }

    #[test]
    fn key_files_are_derived_not_used_raw_and_short_or_typed_ones_refused() {
        assert!(Sealer::from_key_file(&[1u8; 31]).is_err());
        assert!(Sealer::from_key_file(&[b'k'; 64]).is_err(), "a passphrase");
        let a = Sealer::from_key_file(&[1u8; 32]).unwrap();
        let claims = Claims { uid: 7, iat: 100, exp: 200, auth_time: 100 };
        let value = a.seal(COOKIE_NAME, &claims);
        assert_eq!(
            Sealer::from_key_file(&[1u8; 32]).unwrap().open(COOKIE_NAME, &value, 150).unwrap(),
            claims
        );
        // The file's first 64 bytes used raw (as before HKDF) do not open it.
        let raw = Sealer { key: Key::from(&[1u8; 64]) };
        assert!(raw.open(COOKIE_NAME, &raw.seal(COOKIE_NAME, &claims), 150).is_ok());
        assert!(
            Sealer::from_key_file(&[1u8; 64])
                .unwrap()
                .open(COOKIE_NAME, &raw.seal(COOKIE_NAME, &claims), 150)
                .is_err()
        );
    }
}
