//! The command line: one binary, one subcommand per job. Each crate owns its options.

use clap::{Parser, Subcommand};

/// Server-side sessions or stateless tokens? Equivalent cookie, Redis-session and JWT servers
/// under the same load, measured for latency, CPU, memory and bytes on the wire.
#[derive(Debug, Parser)]
#[command(name = "authbench", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once at start-up: the size of the largest variant (`load`'s options) costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run one auth server (cookie, session or jwt) on loopback.
    #[command(name = authbench_servers::SERVE_COMMAND)]
    Serve(authbench_servers::ServeArgs),
    /// Load one server with ramping virtual users or a fixed arrival rate; record latency and cost.
    Load(authbench_loadgen::LoadArgs),
    /// The whole experiment: all schemes, ramps, session sweep, revocation; CSV, plots, report.
    Compare(crate::compare::CompareArgs),
    /// Inject faults (Redis outage, target death, Ctrl-C) and record recovery in reliability.md.
    Faults(crate::faults::FaultsArgs),
    /// Probe a service through a flow file: `probe revocation` (how long a copy outlives logout).
    Probe {
        #[command(subcommand)]
        what: Probe,
    },
    /// Merge the results folders of `load --agent I/N` runs into one load folder.
    Merge(authbench_loadgen::MergeArgs),
    /// Rebuild plots, report.md and report.html of a results folder from its CSV files.
    Report(ReportArgs),
    /// Answer a design review from a results folder: cores, Redis shards, memory, window, cost.
    Capacity(crate::capacity::CapacityArgs),
    /// A TCP proxy that adds a round-trip time between a server and its Redis.
    #[command(name = authbench_procs::delay_proxy::DELAY_PROXY_COMMAND)]
    DelayProxy(crate::delay_proxy::DelayProxyArgs),
}

/// What `authbench probe` measures.
#[derive(Debug, clap::Subcommand)]
pub enum Probe {
    /// How long a copied credential stays usable after logout (and logout-all), on any service a
    /// flow file describes; whether a replayed rotated refresh credential is refused.
    Revocation(authbench_loadgen::ProbeArgs),
}

/// Options of `authbench report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results folder written by `authbench compare`.
    pub dir: std::path::PathBuf,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use authbench_servers::{JwtAlg, SchemeKind, ServeArgs};
    use clap::Parser;

    use super::{Cli, Command};

    /// What `authbench serve` parses from `args.to_argv()`.
    fn parsed(args: &ServeArgs) -> ServeArgs {
        let argv = std::iter::once("authbench".into()).chain(args.to_argv());
        match Cli::try_parse_from(argv).expect("to_argv parses").command {
            Command::Serve(back) => back,
            other => panic!("not serve: {other:?}"),
        }
    }

    /// The generator's built-in flows cover the servers' schemes, each by the kind it issues.
    #[test]
    fn every_scheme_has_its_built_in_flow() {
        let flows: Vec<(&str, authbench_contract::CredentialKind)> =
            authbench_loadgen::BUILTIN_SCHEMES.to_vec();
        let servers: Vec<_> = SchemeKind::ALL.iter().map(|s| (s.as_str(), s.credential())).collect();
        assert_eq!(flows, servers);
    }

    #[test]
    fn serve_args_round_trip_through_the_parser() {
        // Every field away from its default (a struct literal: a new field must be added here).
        let every = ServeArgs {
            scheme: SchemeKind::SessionTracked,
            addr: "127.0.0.2:4321".parse().unwrap(),
            tls: true,
            cert: Some("/tmp/c.pem".into()),
            key: Some("/tmp/k.pem".into()),
            cert_out: None,
            redis_url: Some("redis://127.0.0.1:7000/3".into()),
            redis_cluster: None,
            store_rtt: Some(Duration::from_micros(250)),
            redis_persistence: authbench_procs::redis_server::Persistence::Aof,
            durable_logout: true,
            redis_prefix: Some("t:round trip:".into()),
            users: 123_457,
            fast_login: true,
            ttl: Duration::from_secs(61),
            max_age: Some(Duration::from_secs(2 * 86400 + 1)),
            max_sessions: 7,
            store_timeout: Duration::from_millis(1250),
            cache_ttl: Duration::from_micros(1500),
            cache_capacity: 999,
            idle_timeout: Duration::from_secs(3),
            refresh_ttl: Duration::from_secs(3600),
            jwt_alg: JwtAlg::EdDsa,
            key_file: Some("/tmp/some dir/key".into()),
            same_site: authbench_servers::SameSite::Strict,
            workers: Some(3),
            max_in_flight: Some(77),
            login_queue: 17,
            login_timeout: Duration::from_millis(2500),
            login_failures: 4,
            login_source_failures: 44,
            login_window: Duration::from_secs(90),
        };
        assert_eq!(parsed(&every), every);
        let cluster = ServeArgs {
            redis_url: None,
            redis_cluster: Some("redis://127.0.0.1:7001,redis://127.0.0.1:7002".into()),
            store_rtt: None,
            ..every.clone()
        };
        assert_eq!(parsed(&cluster), cluster);
        for scheme in SchemeKind::ALL {
            let defaults = ServeArgs::new(scheme);
            assert_eq!(parsed(&defaults), defaults, "{scheme}");
            // `ServeArgs::new` and the parser's defaults agree.
            let bare = Cli::try_parse_from(["authbench", "serve", scheme.as_str()]).unwrap().command;
            assert!(matches!(bare, Command::Serve(a) if a == defaults), "{scheme}");
        }
    }
}
