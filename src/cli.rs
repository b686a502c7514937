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
    Serve(authbench_servers::ServeArgs),
    /// Load one server with ramping virtual users or a fixed arrival rate; record latency and cost.
    Load(authbench_loadgen::LoadArgs),
    /// The whole experiment: all schemes, ramps, session sweep, revocation; CSV, plots, report.
    Compare(crate::compare::CompareArgs),
    /// Inject faults (Redis outage, target death, Ctrl-C) and record recovery in reliability.md.
    Faults(crate::faults::FaultsArgs),
    /// Merge the results folders of `load --agent I/N` runs into one load folder.
    Merge(authbench_loadgen::MergeArgs),
    /// Rebuild plots, report.md and report.html of a results folder from its CSV files.
    Report(ReportArgs),
    /// A TCP proxy that adds a round-trip time between a server and its Redis.
    DelayProxy(crate::delay_proxy::DelayProxyArgs),
}

/// Options of `authbench report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results folder written by `authbench compare`.
    pub dir: std::path::PathBuf,
}
