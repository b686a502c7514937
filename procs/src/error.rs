//! The crate's one error type: a process that could not be found, started or driven.

/// What went wrong starting or driving a child process. The messages are the ones `serve`,
/// `compare` and `faults` have always printed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "redis-server not found on PATH: install it (Debian: `apt-get install redis-server`) or pass --redis-url redis://127.0.0.1:6379"
    )]
    RedisServerMissing,
    #[error("redis-server did not start: {0}")]
    RedisServerStart(String),
    #[error("invalid option: {0}")]
    Config(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Process exit code: 2 for anything the user can fix by changing the command or installing
    /// the missing program.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::RedisServerMissing | Error::Config(_) => authbench_util::process::exit::BAD_INPUT,
            _ => authbench_util::process::exit::FAILED,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
