//! Three equivalent auth servers over one API contract.
//!
//! - [`api`]: the contract — routes, body limits, the [`api::Scheme`] trait every design implements,
//!   the shared handlers (`/healthz`, login, `/api/me`) and cookie helpers.
//! - [`cookie`]: stateless AES-256-GCM encrypted cookie ([`cookie::Sealer`] seals and opens).
//! - [`session`]: Redis-backed session ([`session::SessionStore`] is every Redis call).
//! - [`jwt`]: stateless access + refresh JWTs ([`jwt::Codec`] signs and verifies).
//! - [`users`]: the synthetic user directory and argon2id password verification.
//! - [`config`]: `authbench serve` options, typed at the edge.
//! - [`serve`]: the hyper accept loop, limits, shutdown, and `serve`'s start-up.
//! - [`linger`]: request bodies read within the limit; oversized ones drained (bounded) before 413.
//! - [`redis_server`]: a private `redis-server` child on a free loopback port.
//! - [`child`]: child processes that die with authbench (parent-death signal), and `kill(2)`.
//! - [`sys`]: the two libc calls std lacks (clock ticks, open-file limit).
//! - [`error`]: the crate's one error enum and its mapping to HTTP status + JSON.

pub mod api;
pub mod child;
pub mod config;
pub mod cookie;
pub mod error;
pub mod jwt;
pub mod linger;
pub mod redis_server;
pub mod serve;
pub mod session;
pub mod sys;
pub mod users;

pub use config::{JwtAlg, SchemeKind, ServeArgs};
pub use error::{Error, Result};
