//! The `authbench` binary's library: dispatch each subcommand to the crate that owns it.
//!
//! - [`cli`]: the clap definitions.
//! - `servers/` (crate `authbench_servers`): `serve`.
//! - `loadgen/` (crate `authbench_loadgen`): `load`, `compare`, `report`.

pub mod cli;

use cli::{Cli, Command};

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Serve(args) => {
            let runtime = match authbench_servers::serve::runtime(args.workers) {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("cannot start the runtime: {e}"), 1),
            };
            match runtime.block_on(authbench_servers::serve::run(args)) {
                Ok(()) => 0,
                Err(e) => fail(&e.to_string(), e.exit_code()),
            }
        }
    }
}

fn fail(message: &str, code: i32) -> i32 {
    eprintln!("authbench: error: {message}");
    code
}
