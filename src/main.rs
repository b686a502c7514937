//! `authbench`: parse the command line once, run the library, map errors to exit codes.

use clap::Parser;

fn main() {
    let cli = authbench::cli::Cli::parse();
    std::process::exit(authbench::run(cli));
}
