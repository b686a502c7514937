//! The `authbench` binary's library: dispatch each subcommand to the crate that owns it.
//!
//! - [`cli`]: the clap definitions.
//! - `servers/` (crate `authbench_servers`): `serve`.
//! - [`compare`]: `compare`, the whole experiment, orchestrating both crates below.
//! - [`faults`]: `faults`, the injected-fault scenarios (its Redis Cluster ones in `faults/cluster.rs`,
//!   Redis killed mid-load by persistence mode in `faults/crash.rs`, the logout-all races as fault
//!   rows in `faults/logout_races.rs`).
//! - [`capacity`]: `capacity`, the design review's answer from a results folder (`report::answer`);
//!   [`calibrate`] carries it to this machine (`--calibrate`).
//! - [`delay_proxy`]: `delay-proxy`, a TCP proxy holding each direction for half an RTT.
//! - [`harness`]: server and Redis processes, HTTP probes, login and credentials, for the above.
//! - [`reliability`]: attack battery, lost-request audit, `reliability.md`.
//! - `loadgen/` (crate `authbench_loadgen`): `load`.
//! - `report/` (crate `authbench_report`): the results folder, and the renderer behind `report`.
//!
//! Imports go one way, never back up (`tests/layout.rs` checks every crate): `cli` → `compare`,
//! `faults` → `reliability` → `harness`; `compare`'s own order is in its module list.

pub mod calibrate;
pub mod capacity;
pub mod cli;
pub mod compare;
pub mod delay_proxy;
pub mod faults;
pub mod harness;
pub mod reliability;

use authbench_util::process::{exit, fail};
use cli::{Cli, Command};

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Load(args) => authbench_loadgen::run_command(args),
        Command::Probe { what: cli::Probe::Revocation(args) } => authbench_loadgen::run_probe_command(args),
        Command::Merge(args) => authbench_loadgen::run_merge_command(args),
        Command::Serve(args) => {
            let runtime = match authbench_servers::runtime(args.workers) {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start the runtime: {e}"), exit::FAILED),
            };
            match runtime.block_on(authbench_servers::run(args)) {
                Ok(()) => exit::OK,
                Err(e) => fail(&e.to_string(), e.exit_code()),
            }
        }
        Command::Compare(args) => compare::run(args),
        Command::Faults(args) => faults::run(args),
        Command::DelayProxy(args) => delay_proxy::run(args),
        Command::Capacity(args) => capacity::run(args),
        Command::Report(args) => match authbench_report::render(&args.dir) {
            Ok(r) => {
                eprintln!("rebuilt {} plots and {}", r.plots.len(), r.markdown.display());
                exit::OK
            }
            Err(e) => fail(&e.to_string(), exit::BAD_INPUT),
        },
    }
}
