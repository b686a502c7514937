//! What the servers promise that a process outside them relies on: the verifier's clock leeway
//! (revocation windows are computed with it), the session id's shape, the cached schemes' default
//! TTL, the reader of `GET /metrics`, the redaction of a store URL for a log line, and the password
//! hashing costs a server runs with (`PasswordCost`: the default and `--fast-login`). The wire
//! contract itself (paths, cookie names, bodies) is `authbench_contract`'s.

pub use crate::api::now_secs;
pub use crate::jwt::LEEWAY_SECS as JWT_LEEWAY_SECS;
pub use crate::metrics::CacheReading;
pub use crate::redis_conn::redact_url;
pub use crate::session_cached::DEFAULT_CACHE_TTL;
pub use crate::session_key::{TAG_LEN as SESSION_TAG_LEN, is_well_formed as is_session_id};
pub use crate::users::PasswordCost;
