//! Process-level glue shared by every `authbench` subcommand (`load` and `merge` in the
//! generator; `serve`, `compare`, `faults` and `report` in the binary): the exit codes, the
//! one-line error report, the tokio runtime, and the Ctrl-C that cancels a run so it can still
//! write what it measured. The one copy: every crate with a command line uses it from here.

use crate::signal::shutdown_signal;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

/// Exit codes of every subcommand.
pub mod exit {
    /// Done.
    pub const OK: i32 = 0;
    /// Failed (a check, a fault scenario, the target, an output file, the runtime).
    pub const FAILED: i32 = 1;
    /// Bad input: anything the user can fix in the command line or the environment.
    pub const BAD_INPUT: i32 = 2;
    /// `load --threshold` violated (as k6).
    pub const THRESHOLDS: i32 = 99;
    /// Interrupted by Ctrl-C; what was measured is written.
    pub const INTERRUPTED: i32 = 130;
}

/// Report `message` as the one `authbench: error:` line on stderr and return `code`.
pub fn fail(message: &str, code: i32) -> i32 {
    eprintln!("authbench: error: {message}");
    code
}

/// Which tokio runtime a command drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// One worker per core: the command's own tasks do the work (`compare`, `faults`).
    Multi,
    /// Orchestration only, the work runs elsewhere (`load`: its virtual users have their own).
    Current,
}

/// Build the runtime, or report why not and hand back the exit code (1).
pub fn runtime(threads: Threads) -> Result<Runtime, i32> {
    let mut builder = match threads {
        Threads::Multi => tokio::runtime::Builder::new_multi_thread(),
        Threads::Current => tokio::runtime::Builder::new_current_thread(),
    };
    builder.enable_all().build().map_err(|e| fail(&format!("cannot start the runtime: {e}"), exit::FAILED))
}

/// Which signals stop a run early, and what a second one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// SIGINT cancels the run; further ones are ignored while it finishes its files (`compare`).
    CtrlC,
    /// SIGINT or SIGTERM cancels the run; a second one exits at once with 130 (`load`).
    CtrlCOrTerm,
}

/// A token cancelled on the first `interrupt`, after printing `message` to stderr. The watcher
/// runs on `runtime`, so it fires while the runtime is driving the command.
pub fn cancel_on(runtime: &Runtime, interrupt: Interrupt, message: &'static str) -> CancellationToken {
    let stop = CancellationToken::new();
    let on_signal = stop.clone();
    runtime.spawn(async move {
        match interrupt {
            Interrupt::CtrlC => {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("{message}");
                    on_signal.cancel();
                }
            }
            Interrupt::CtrlCOrTerm => {
                shutdown_signal().await;
                eprintln!("{message}");
                on_signal.cancel();
                shutdown_signal().await;
                std::process::exit(exit::INTERRUPTED);
            }
        }
    });
    stop
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_returns_the_code_it_is_given() {
        assert_eq!(fail("bad stage list", exit::BAD_INPUT), 2);
        assert_eq!(fail("target died", exit::FAILED), 1);
    }

    #[test]
    fn both_runtimes_start() {
        for threads in [Threads::Multi, Threads::Current] {
            let rt = runtime(threads).expect("runtime");
            assert_eq!(
                rt.block_on(async {
                    tokio::task::yield_now().await;
                    7
                }),
                7,
                "{threads:?}"
            );
        }
    }
}
