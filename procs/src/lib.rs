//! The processes authbench starts and owns, below every crate that starts one: `serve` (its own
//! Redis), `compare` and `faults` (Redis, a Redis Cluster, HAProxy), the benches and the tests.
//! Nothing here knows an auth scheme.
//!
//! - [`redis_server`]: a private `redis-server` child on a free loopback port.
//! - [`redis_cluster`]: a private 3-primary/3-replica Redis Cluster of such children.
//! - [`haproxy`]: a private HAProxy (generated config, free loopback port) in front of replicas.
//! - [`delay_proxy`]: a private `authbench delay-proxy` child adding an RTT in front of a Redis.
//! - [`child`]: child processes that die with authbench (parent-death signal), and `kill(2)`.
//! - [`slot`]: Redis Cluster's hash slot of a key.
//! - [`error`]: the crate's one error enum.
//!
//! Imports go one way: `redis_cluster` → `redis_server` → `child`; `haproxy`, `delay_proxy` → `child`; every module
//! → `error`; `redis_cluster` → `slot`.

pub mod child;
pub mod delay_proxy;
pub mod error;
pub mod haproxy;
pub mod redis_cluster;
pub mod redis_server;
pub mod slot;

pub use error::{Error, Result};
