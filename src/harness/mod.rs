//! The harness `compare`, `faults` and the reliability checks stand on: real processes on free
//! loopback ports, and a small client to talk to them outside the load generator's hot path.
//!
//! - [`server`]: one `authbench serve <scheme>` child process on port 0 ([`server::ServerProcess`]).
//! - [`replicas`]: a scheme's server as one process or N replicas behind HAProxy.
//! - [`redis`]: the private redis-server, Redis INFO readings, deleting a run's keys by prefix.
//! - [`http`]: the control plane on reqwest (HTTP and HTTPS, h1 and h2, no proxy, a timeout on
//!   every call, a connection per call) for checks, probes, logins and `/metrics`.
//! - [`metrics`]: the servers' `GET /metrics` cache readings, summed over replicas.
//! - [`credential`]: [`credential::Cred`], the real login, and the `GET /api/me` probe.

pub mod credential;
pub mod http;
pub mod metrics;
pub mod redis;
pub mod replicas;
pub mod server;
