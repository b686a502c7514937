//! The API contract every scheme serves: identical paths, status codes and bodies.
//!
//! A scheme implements [`Scheme`]; its credential check is the `FromRequestParts` extractor named by
//! [`Scheme::Principal`]. [`router`] wires the same routes, body limit and JSON encoder for all of
//! them, so what differs between schemes is only the credential. The paths and bodies themselves
//! are `authbench_contract`'s, shared with the load generator.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use authbench_contract::path::{HEALTHZ, LOGIN, LOGOUT, LOGOUT_ALL, ME, METRICS, REFRESH};
use authbench_contract::{CookieIssued, LoginRequest};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::body::Body;
use crate::error::{Error, Result};
use crate::metrics::CacheReading;
use crate::users::Users;

pub use crate::limits::{MAX_BODY_BYTES, MAX_CREDENTIAL_BYTES};

/// What every authenticated principal tells the shared handlers.
pub trait Principal {
    fn user_id(&self) -> u64;
}

/// One auth design. Implementations live in `cookie.rs`, `session.rs` and `jwt.rs`.
pub trait Scheme: Clone + Send + Sync + 'static {
    /// The extractor that proves a request carries a valid credential.
    type Principal: FromRequestParts<Self, Rejection = Error> + Principal + Send + 'static;

    fn users(&self) -> &Arc<Users>;

    /// Issue a credential for a user whose password has been verified.
    fn login(&self, user_id: u64) -> impl Future<Output = Result<Response>> + Send;

    /// Re-issue a credential. Cookie schemes read the cookie; jwt reads `{"refresh_token"}`.
    fn refresh(&self, headers: HeaderMap, body: Bytes) -> impl Future<Output = Result<Response>> + Send;

    fn logout(&self, who: Self::Principal) -> impl Future<Output = Result<Response>> + Send;

    fn logout_all(&self, who: Self::Principal) -> impl Future<Output = Result<Response>> + Send;

    /// The scheme's in-process cache as `GET /metrics` shows it; `None` (the default) for a
    /// scheme without one.
    fn cache(&self) -> impl Future<Output = Option<CacheReading>> + Send {
        std::future::ready(None)
    }
}

/// The Router of a scheme: the same routes and limits for all.
pub fn router<S: Scheme>(scheme: S) -> Router {
    Router::new()
        .route(HEALTHZ, get(healthz))
        .route(METRICS, get(metrics::<S>))
        .route(LOGIN, post(login::<S>))
        .route(ME, get(me::<S>))
        .route(REFRESH, post(refresh::<S>))
        .route(LOGOUT, post(logout::<S>))
        .route(LOGOUT_ALL, post(logout_all::<S>))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(scheme)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Outside the auth API: no credential is read, so one sent changes nothing.
async fn metrics<S: Scheme>(State(scheme): State<S>) -> Response {
    let body = crate::metrics::encode(scheme.cache().await.as_ref());
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body).into_response()
}

/// axum's own 404 and 405 have empty bodies: answer them in the crate's JSON shape (axum still
/// adds `Allow` to the 405).
async fn not_found() -> Error {
    Error::NotFound
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

/// The client's address when the server knows it: the `ConnectInfo` [`crate::serve`] puts on
/// every request (a Router called without it, as by `oneshot`, has none).
pub struct Source(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> std::result::Result<Self, Self::Rejection> {
        Ok(Source(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// Login: throttled, hashed within the bounded queue, the whole request within the login
/// timeout (503 with `Retry-After` past it; see [`crate::users`]).
async fn login<S: Scheme>(
    State(scheme): State<S>,
    Source(source): Source,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response> {
    let request: LoginRequest = parse_json(&headers, &body)?;
    let users = scheme.users().clone();
    let timeout = users.login_limits().timeout;
    let login = async {
        let user_id = users.authenticate(&request.username, &request.password, source).await?;
        scheme.login(user_id).await
    };
    tokio::time::timeout(timeout, login)
        .await
        .unwrap_or(Err(Error::Busy { retry_after: crate::users::BUSY_RETRY_AFTER }))
}

async fn me<S: Scheme>(State(scheme): State<S>, who: S::Principal) -> Result<Response> {
    let user = scheme.users().get(who.user_id()).ok_or(Error::InvalidCredential)?;
    Ok(Json(user.me()).into_response())
}

async fn refresh<S: Scheme>(
    State(scheme): State<S>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response> {
    scheme.refresh(headers, body).await
}

async fn logout<S: Scheme>(State(scheme): State<S>, who: S::Principal) -> Result<Response> {
    scheme.logout(who).await
}

async fn logout_all<S: Scheme>(State(scheme): State<S>, who: S::Principal) -> Result<Response> {
    scheme.logout_all(who).await
}

/// Parse a JSON body; wrong content type or shape is a 400, never a 5xx.
pub fn parse_json<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T> {
    let is_json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return Err(Error::BadRequest("expected Content-Type: application/json"));
    }
    // serde's derived struct visitor also accepts a JSON array of the fields in order
    // (`["user1","password1"]`); the contract is an object, so anything else is refused here.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(Error::BadRequest("body is not the expected JSON object"));
    }
    serde_json::from_slice(body).map_err(|_| Error::BadRequest("body is not the expected JSON object"))
}

/// The value of the one cookie called `name` across all `Cookie` headers.
///
/// Missing → [`Error::MissingCredential`]; present more than once → [`Error::AmbiguousCredential`]
/// (a browser sends duplicates when cookies of different paths or domains collide; picking one
/// silently is how session-fixation bugs start); longer than [`MAX_CREDENTIAL_BYTES`] →
/// [`Error::InvalidCredential`]. Hand-written rather than building a `cookie::CookieJar` per
/// request: the jar allocates for every cookie and drops duplicates silently.
pub fn single_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str> {
    // On bytes, not `to_str()`: a header that also carries another cookie with non-ASCII bytes
    // (legal obs-text, e.g. `pref=café`) must neither hide our cookie nor a duplicate of it.
    let mut found: Option<&'h [u8]> = None;
    for value in headers.get_all(header::COOKIE) {
        for pair in value.as_bytes().split(|&b| b == b';') {
            let Some(eq) = pair.iter().position(|&b| b == b'=') else { continue };
            if pair[..eq].trim_ascii() == name.as_bytes() {
                if found.is_some() {
                    return Err(Error::AmbiguousCredential);
                }
                found = Some(pair[eq + 1..].trim_ascii());
            }
        }
    }
    let value = found.ok_or(Error::MissingCredential)?;
    if value.is_empty() {
        return Err(Error::MissingCredential);
    }
    if value.len() > MAX_CREDENTIAL_BYTES {
        return Err(Error::InvalidCredential);
    }
    std::str::from_utf8(value).map_err(|_| Error::InvalidCredential)
}

/// A `Set-Cookie` response with a small JSON body describing the credential.
pub fn with_cookie(status: StatusCode, cookie: &cookie::Cookie<'_>, body: Option<CookieIssued>) -> Response {
    let set_cookie = cookie.to_string();
    match body {
        Some(body) => (status, [(header::SET_COOKIE, set_cookie)], Json(body)).into_response(),
        None => (status, [(header::SET_COOKIE, set_cookie)]).into_response(),
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Credential cookie attributes shared by the cookie and session schemes.
pub fn cookie_attrs(
    name: &'static str,
    value: String,
    same_site: crate::kind::SameSite,
    max_age: Option<std::time::Duration>,
) -> cookie::Cookie<'static> {
    // A `__Host-` name (a server over HTTPS) is only kept by a browser with `Secure`, `Path=/`
    // and no `Domain`: the name decides, so the two can never disagree.
    let secure = name.starts_with(authbench_contract::credential::HOST_PREFIX);
    let mut c = cookie::Cookie::build((name, value))
        .path("/")
        .secure(secure)
        .http_only(true)
        .same_site(match same_site {
            crate::kind::SameSite::Lax => cookie::SameSite::Lax,
            crate::kind::SameSite::Strict => cookie::SameSite::Strict,
        })
        .build();
    if let Some(age) = max_age {
        c.set_max_age(cookie::time::Duration::seconds(age.as_secs() as i64));
    }
    c
}

/// The deletion of a credential cookie: same name, path and attributes, empty value, already expired.
pub fn removal_cookie(name: &'static str, same_site: crate::kind::SameSite) -> cookie::Cookie<'static> {
    let mut c = cookie_attrs(name, String::new(), same_site, None);
    c.make_removal();
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde::Deserialize;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for c in cookies {
            h.append(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        h
    }

    #[test]
    fn single_cookie_finds_one_and_refuses_duplicates() {
        assert_eq!(single_cookie(&headers(&["a=1; sid=abc; b=2"]), "sid").unwrap(), "abc");
        assert_eq!(single_cookie(&headers(&["a=1", "sid=abc"]), "sid").unwrap(), "abc");
        assert!(matches!(single_cookie(&headers(&["sid=1; sid=2"]), "sid"), Err(Error::AmbiguousCredential)));
        assert!(matches!(
            single_cookie(&headers(&["sid=1", "sid=2"]), "sid"),
            Err(Error::AmbiguousCredential)
        ));
        assert!(matches!(single_cookie(&headers(&["xsid=1"]), "sid"), Err(Error::MissingCredential)));
        assert!(matches!(single_cookie(&headers(&["sid="]), "sid"), Err(Error::MissingCredential)));
        let long = format!("sid={}", "a".repeat(MAX_CREDENTIAL_BYTES + 1));
        assert!(matches!(single_cookie(&headers(&[&long]), "sid"), Err(Error::InvalidCredential)));
    }

    #[test]
    fn parse_json_wants_an_object_not_an_array_of_the_fields() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Two {
            a: String,
            b: String,
        }
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(parse_json::<Two>(&h, br#" {"a":"x","b":"y"}"#).is_ok());
        assert!(matches!(parse_json::<Two>(&h, br#"["x","y"]"#), Err(Error::BadRequest(_))));
        assert!(matches!(parse_json::<Two>(&h, br#" ["x","y"]"#), Err(Error::BadRequest(_))));
        assert!(matches!(parse_json::<Two>(&h, b""), Err(Error::BadRequest(_))));
    }

    #[test]
    fn single_cookie_sees_past_other_cookies_with_non_ascii_bytes() {
        let h = |values: &[&[u8]]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(header::COOKIE, HeaderValue::from_bytes(v).unwrap());
            }
            h
        };
        // A browser sends every cookie of the site in one header; another app's UTF-8 cookie
        // used to make the whole header unreadable, so the user was logged out.
        assert_eq!(single_cookie(&h(&[b"pref=caf\xc3\xa9; sid=abc"]), "sid").unwrap(), "abc");
        // ... and used to hide a duplicate in that header.
        assert!(matches!(
            single_cookie(&h(&[b"sid=1; pref=\xff", b"sid=2"]), "sid"),
            Err(Error::AmbiguousCredential)
        ));
        assert!(matches!(single_cookie(&h(&[b"sid=\xff\xfe"]), "sid"), Err(Error::InvalidCredential)));
    }

    #[test]
    fn removal_keeps_attributes_and_expires() {
        let c = removal_cookie("sid", crate::kind::SameSite::Strict).to_string();
        assert!(c.starts_with("sid=;"), "{c}");
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=0"] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
    }
}
