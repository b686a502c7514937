//! Stateless encrypted cookie: the user's claims sealed with AES-256-GCM (the `cookie` crate's
//! private jar, the same one axum-extra's `PrivateCookieJar` uses). The cookie name is the AEAD's
//! associated data, so a value moved under another name fails to open. No server state at all:
//! logout can only ask the browser to forget; a copied cookie stays valid until it expires.

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
use crate::config::SameSite;
use crate::error::{Error, Result};
use crate::key_file::{self, Purpose};
use crate::users::Users;

/// Name of the credential cookie: the contract's sealed-cookie name.
pub const COOKIE_NAME: &str = authbench_contract::credential::SEALED_COOKIE;

/// What the cookie carries, sealed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub uid: u64,
    pub iat: u64,
    pub exp: u64,
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
}

struct Inner {
    users: Arc<Users>,
    sealer: Sealer,
    ttl: Duration,
    same_site: SameSite,
}

impl CookieScheme {
    pub fn new(users: Arc<Users>, sealer: Sealer, ttl: Duration, same_site: SameSite) -> Self {
        CookieScheme { inner: Arc::new(Inner { users, sealer, ttl, same_site }) }
    }

    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// Claims for a user, valid from now for the configured TTL.
    pub fn claims_for(&self, uid: u64) -> Claims {
        let iat = api::now_secs();
        Claims { uid, iat, exp: iat + self.inner.ttl.as_secs() }
    }

    /// The `Set-Cookie` value a login issues for `uid` (also used to preload credentials).
    pub fn issue(&self, uid: u64) -> Cookie<'static> {
        let value = self.inner.sealer.seal(COOKIE_NAME, &self.claims_for(uid));
        api::cookie_attrs(COOKIE_NAME, value, self.inner.same_site, Some(self.inner.ttl))
    }

    fn issued_response(&self, uid: u64) -> Response {
        let body = CookieIssued { expires_in: self.inner.ttl.as_secs(), token_type: "cookie".into() };
        api::with_cookie(StatusCode::OK, &self.issue(uid), Some(body))
    }
}

impl FromRequestParts<CookieScheme> for Claims {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, scheme: &CookieScheme) -> Result<Self> {
        let value = api::single_cookie(&parts.headers, COOKIE_NAME)?;
        scheme.inner.sealer.open(COOKIE_NAME, value, api::now_secs())
    }
}

impl Scheme for CookieScheme {
    type Principal = Claims;

    fn users(&self) -> &Arc<Users> {
        &self.inner.users
    }

    async fn login(&self, user_id: u64) -> Result<Response> {
        Ok(self.issued_response(user_id))
    }

    async fn refresh(&self, headers: HeaderMap, _body: Bytes) -> Result<Response> {
        let value = api::single_cookie(&headers, COOKIE_NAME)?;
        let claims = self.inner.sealer.open(COOKIE_NAME, value, api::now_secs())?;
        Ok(self.issued_response(claims.uid))
    }

    async fn logout(&self, _who: Claims) -> Result<Response> {
        let removal = api::removal_cookie(COOKIE_NAME, self.inner.same_site);
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
        let claims = Claims { uid: 7, iat: 100, exp: 200 };
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
        let claims = Claims { uid: 7, iat: 100, exp: 200 };
        let moved = sealer.seal("other", &claims);
        assert!(matches!(sealer.open(COOKIE_NAME, &moved, 150), Err(Error::InvalidCredential)));
    }

    #[test]
    fn key_files_are_derived_not_used_raw_and_short_or_typed_ones_refused() {
        assert!(Sealer::from_key_file(&[1u8; 31]).is_err());
        assert!(Sealer::from_key_file(&[b'k'; 64]).is_err(), "a passphrase");
        let a = Sealer::from_key_file(&[1u8; 32]).unwrap();
        let claims = Claims { uid: 7, iat: 100, exp: 200 };
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
