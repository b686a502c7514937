//! What authbench's load generator and its servers must agree on, and nothing else: the generator
//! builds and runs against any service that keeps this contract, without the servers' code.
//!
//! Keyed by *credential kind*, not by scheme name: a new scheme that issues one of the existing
//! kinds (a session id in a cookie, a sealed cookie, a bearer token) needs no generator change.
//!
//! - [`path`]: the six routes of the auth API every scheme serves, and `/metrics` beside them.
//! - [`credential`]: [`CredentialKind`], the cookie names and the bearer header form.
//! - [`body`]: the JSON bodies on the wire — login request, the answers that issue a credential,
//!   the refresh request, the error body.
//! - [`listening`]: the `listening on http://IP:PORT` line a server prints first, and its parser.
//!
//! Imports go one way: the modules use none of each other; `lib.rs` re-exports their types.

pub mod body;
pub mod credential;
pub mod listening;
pub mod path;

pub use body::{CookieIssued, ErrorBody, LoginRequest, RefreshRequest, TokenPair};
pub use credential::CredentialKind;
