//! The routes every scheme serves, with identical status codes and bodies (README, "API").

/// `GET`: 200 `ok`, no credential — the no-auth baseline.
pub const HEALTHZ: &str = "/healthz";
/// `POST` a [`LoginRequest`](crate::LoginRequest): 200 and a credential; bad credentials 401.
pub const LOGIN: &str = "/auth/login";
/// `GET` with a credential: 200 and the user's JSON; a missing or invalid credential 401.
pub const ME: &str = "/api/me";
/// `POST`: a new credential. Cookie kinds send the cookie; bearer sends a
/// [`RefreshRequest`](crate::RefreshRequest).
pub const REFRESH: &str = "/auth/refresh";
/// `POST` with a credential: 204.
pub const LOGOUT: &str = "/auth/logout";
/// `POST` with a credential: 204 where the server can end every session of the user, else 501.
pub const LOGOUT_ALL: &str = "/auth/logout-all";
/// `GET`, no credential: the server's own counters and gauges as OpenMetrics text (what an
/// operator's Prometheus scrapes). Outside the auth API: no scheme's `/api/me` contract depends on
/// it, and it answers the same with or without a credential.
pub const METRICS: &str = "/metrics";
