//! The way back from typed [`ServeArgs`] to the command line `authbench serve` parses: the one
//! place that spells its options for a parent process (compare, faults, the tests).
//!
//! Every option is stated, so the child never depends on a default agreeing with
//! [`ServeArgs::new`]; the destructuring below does not compile when a field is added until the
//! field is spelled here too. `authbench`'s `cli` tests parse the result back through clap.

use std::ffi::OsString;

use authbench_util::parse::format_duration;
use clap::ValueEnum;

use crate::config::ServeArgs;

/// The subcommand that runs one server: `authbench serve <scheme> [options]`.
pub const SERVE_COMMAND: &str = "serve";

/// The name clap gives a value of a `ValueEnum` on the command line.
fn value_name(v: &impl ValueEnum) -> String {
    v.to_possible_value().expect("no variant is skipped").get_name().to_owned()
}

use crate::config::{REDIS_CLUSTER_ENV, REDIS_URL_ENV};

impl ServeArgs {
    /// [`to_argv`](Self::to_argv) with the store's URLs moved to the environment: they may carry a
    /// password, and any local user can read a process's command line. The way a parent starts
    /// `serve`.
    pub fn to_command(&self) -> (Vec<OsString>, Vec<(&'static str, String)>) {
        let mut env = Vec::new();
        if let Some(url) = &self.redis_url {
            env.push((REDIS_URL_ENV, url.clone()));
        }
        if let Some(urls) = &self.redis_cluster {
            env.push((REDIS_CLUSTER_ENV, urls.clone()));
        }
        let argv = ServeArgs { redis_url: None, redis_cluster: None, ..self.clone() }.to_argv();
        (argv, env)
    }

    /// The arguments after the program name that start a server with exactly these options:
    /// `serve <scheme> --addr … --users … …`.
    pub fn to_argv(&self) -> Vec<OsString> {
        let ServeArgs {
            scheme,
            addr,
            tls,
            cert,
            key,
            cert_out,
            redis_url,
            redis_cluster,
            store_rtt,
            redis_persistence,
            durable_logout,
            redis_prefix,
            users,
            fast_login,
            ttl,
            max_age,
            max_sessions,
            store_timeout,
            cache_ttl,
            cache_capacity,
            idle_timeout,
            refresh_ttl,
            jwt_alg,
            key_file,
            same_site,
            workers,
            max_in_flight,
            login_queue,
            login_timeout,
            login_failures,
            login_source_failures,
            login_window,
        } = self;
        let mut argv: Vec<OsString> = vec![SERVE_COMMAND.into(), value_name(scheme).into()];
        let mut option = |name: &str, value: OsString| {
            argv.push(format!("--{name}").into());
            argv.push(value);
        };
        option("addr", addr.to_string().into());
        for (name, path) in [("cert", cert), ("key", key), ("cert-out", cert_out)] {
            if let Some(path) = path {
                option(name, path.into());
            }
        }
        if let Some(url) = redis_url {
            option("redis-url", url.into());
        }
        if let Some(urls) = redis_cluster {
            option("redis-cluster", urls.into());
        }
        if let Some(rtt) = store_rtt {
            option("store-rtt", format!("{}us", rtt.as_micros()).into());
        }
        if let Some(prefix) = redis_prefix {
            option("redis-prefix", prefix.into());
        }
        option("users", users.to_string().into());
        option("ttl", format_duration(*ttl).into());
        option("redis-persistence", value_name(redis_persistence).into());
        if let Some(age) = max_age {
            option("max-age", format_duration(*age).into());
        }
        option("max-sessions", max_sessions.to_string().into());
        option("store-timeout", format_duration(*store_timeout).into());
        option("cache-ttl", format_duration(*cache_ttl).into());
        option("cache-capacity", cache_capacity.to_string().into());
        option("idle-timeout", format_duration(*idle_timeout).into());
        option("refresh-ttl", format_duration(*refresh_ttl).into());
        option("jwt-alg", value_name(jwt_alg).into());
        if let Some(path) = key_file {
            option("key-file", path.into());
        }
        option("same-site", value_name(same_site).into());
        option("login-queue", login_queue.to_string().into());
        option("login-timeout", format_duration(*login_timeout).into());
        option("login-failures", login_failures.to_string().into());
        option("login-source-failures", login_source_failures.to_string().into());
        option("login-window", format_duration(*login_window).into());
        if let Some(n) = workers {
            option("workers", n.to_string().into());
        }
        if let Some(n) = max_in_flight {
            option("max-in-flight", n.to_string().into());
        }
        for (flag, on) in [("tls", tls), ("durable-logout", durable_logout), ("fast-login", fast_login)] {
            if *on {
                argv.push(format!("--{flag}").into());
            }
        }
        argv
    }
}
