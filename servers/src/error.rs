//! The crate's one error type, and the one place that maps each failure to an HTTP status and JSON body.
//!
//! Every error answer the servers' code or axum gives has the one shape `{"error": "<message>"}`
//! with `Content-Type: application/json`: credential and login failures (401), malformed or
//! mistyped bodies (400), an unread body (408), an oversized body (413, see `linger`), an unknown
//! route (404) and a known route with another method (405, with `Allow`), a stateless
//! `logout-all` (501), a throttled login (429, with `Retry-After`), a failed store (503), a login
//! refused because too many wait for a hashing slot or it took too long (503, with `Retry-After`). Documented exceptions — hyper answers these itself,
//! before any of our code runs, and offers no hook: a request head over 8 KiB (431, empty body),
//! a request that is not HTTP/1.1 (400, empty body), and a request head that does not arrive
//! within the header read timeout (the connection is closed without an answer).

use authbench_contract::ErrorBody;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Everything that can go wrong in a server: bad credentials on a request, or a failed start-up.
///
/// Request-time variants carry no secret: messages are fixed strings, never a token, key or password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- request time: 4xx for anything a client sent ----
    #[error("missing credential")]
    MissingCredential,
    #[error("invalid credential")]
    InvalidCredential,
    #[error("credential expired")]
    Expired,
    #[error("ambiguous credential: the credential cookie appears more than once")]
    AmbiguousCredential,
    #[error("wrong username or password")]
    BadLogin,
    #[error("malformed request: {0}")]
    BadRequest(&'static str),
    #[error("request body not received in time")]
    BodyTimeout,
    #[error("request body larger than {} bytes", crate::limits::MAX_BODY_BYTES)]
    PayloadTooLarge,
    #[error("no such route")]
    NotFound,
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("a stateless credential cannot be revoked before it expires")]
    CannotRevoke,
    #[error("too many failed logins: try again later")]
    Throttled {
        /// Seconds until the window that tripped ends (`Retry-After`).
        retry_after: u64,
    },
    // ---- request time: the store, not the client, failed ----
    #[error("session store unavailable")]
    StoreUnavailable,
    #[error("too many logins waiting: try again shortly")]
    Busy {
        /// Seconds to say in `Retry-After`.
        retry_after: u64,
    },
    /// Bulk work outside the request path (preloading): the Redis error itself, for the operator.
    #[error("Redis: {0}")]
    Redis(#[source] redis::RedisError),
    #[error("internal error")]
    Internal,

    // ---- start-up ----
    /// A process `serve` starts (its own redis-server) was not found or did not start.
    #[error(transparent)]
    Process(#[from] authbench_procs::Error),
    #[error("cannot connect to Redis at {url}: {source}")]
    RedisConnect { url: String, source: redis::RedisError },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("refusing to listen on {0}: authbench servers bind loopback addresses only")]
    NotLoopback(std::net::SocketAddr),
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("invalid option: {0}")]
    Config(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    /// HTTP status for request-time errors. Start-up errors never reach a handler.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::MissingCredential
            | Error::InvalidCredential
            | Error::Expired
            | Error::AmbiguousCredential
            | Error::BadLogin => StatusCode::UNAUTHORIZED,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::CannotRevoke => StatusCode::NOT_IMPLEMENTED,
            Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::StoreUnavailable | Error::Redis(_) | Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Process exit code for start-up errors: 2 for anything the user can fix by changing the command.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Process(e) => e.exit_code(),
            Error::RedisConnect { .. }
            | Error::Bind { .. }
            | Error::NotLoopback(_)
            | Error::KeyFile { .. }
            | Error::Config(_) => authbench_util::process::exit::BAD_INPUT,
            _ => authbench_util::process::exit::FAILED,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match self {
            Error::Throttled { retry_after } | Error::Busy { retry_after } => Some(retry_after),
            _ => None,
        };
        let mut response = (status, Json(ErrorBody { error: self.to_string() })).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer, Cookie"));
        }
        response
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
