//! The crate's one error enum, and its mapping to process exit codes.
//!
//! Everything here is a run-level failure (bad input, unreachable target, unwritable output).
//! Failures of single requests are not errors of the run: they are counted by
//! [`crate::record::ErrorKind`] and never allocate.

use std::path::PathBuf;

use authbench_util::process::exit;

/// Why a load run could not start or could not write its results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed option: stages, thresholds, mix, durations, conflicting load models.
    #[error("{0}")]
    BadInput(String),
    /// authbench sends traffic only to this machine.
    #[error(
        "target `{0}` is not a loopback address: authbench loads 127.0.0.0/8 or ::1 unless given --allow-remote"
    )]
    NotLoopback(String),
    /// The pre-flight `GET /healthz` failed.
    #[error("target {target} is unreachable: {reason}")]
    Unreachable { target: String, reason: String },
    /// A flow's login did not yield the credential it describes, or the credential was refused:
    /// what was tried, and the answer (secrets redacted).
    #[error("flow `{flow}` failed its pre-flight: {what}\n{answer}")]
    Preflight { flow: String, what: String, answer: String },
    /// `--redis-url` did not answer PING.
    #[error("redis at {url} is unreachable: {reason}")]
    RedisUnreachable { url: String, reason: String },
    /// `--server-pid` names no readable process.
    #[error("--server-pid {pid}: no such process ({reason})")]
    NoSuchProcess { pid: u32, reason: String },
    /// Creating or writing an output file.
    #[error("cannot write {}: {source}", path.display())]
    Output { path: PathBuf, source: std::io::Error },
    /// Starting the tokio runtime or another OS resource.
    #[error("{what}: {source}")]
    Os { what: &'static str, source: std::io::Error },
}

impl Error {
    /// 2 for anything the user can fix in the command line or the target, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput(_)
            | Error::NotLoopback(_)
            | Error::Unreachable { .. }
            | Error::Preflight { .. }
            | Error::RedisUnreachable { .. }
            | Error::NoSuchProcess { .. } => exit::BAD_INPUT,
            Error::Output { .. } | Error::Os { .. } => exit::FAILED,
        }
    }

    pub(crate) fn output(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Output { path, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
