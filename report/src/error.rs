//! The crate's one error type: what can go wrong reading or writing a results folder.

use std::path::PathBuf;

/// What can go wrong reading or writing a results directory; missing input files are not errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("results directory {0} does not exist or is not a directory")]
    NotADirectory(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error(
        "{0} holds no results: neither a compare run (summary.csv, ramp.csv, ...) nor a load run (timeseries.csv + summary.json)"
    )]
    NoResults(PathBuf),
    #[error("drawing plot {plot}: {message}")]
    Plot { plot: String, message: String },
    #[error("latency histogram: {0}")]
    Histogram(String),
}
