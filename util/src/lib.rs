//! The few helpers every authbench crate needs and none owns, so that the load generator and the
//! servers share them without depending on each other. Not part of the wire contract (that is
//! `authbench-contract`).
//!
//! - [`parse`]: the command-line grammar of counts (`10k`, `1m`) and durations (`500ms`, `15m`).
//! - [`sys`]: the two libc calls std lacks (clock ticks, open-file limit).
//! - [`affinity`]: CPU affinity — pin this process, or spawn a child pinned before its exec.
//! - [`signal`]: the future that resolves on SIGINT or SIGTERM.
//! - [`redact`]: credentials out of a URL before it is printed.
//! - [`process`]: exit codes, the one `authbench: error:` line, the tokio runtime and the Ctrl-C
//!   that cancels a run, shared by every subcommand.
//!
//! Imports go one way: `process` → `signal`; the others stand alone.

pub mod affinity;
pub mod parse;
pub mod process;
pub mod redact;
pub mod signal;
pub mod sys;
