//! Library errors. Every variant names the object it failed on, so a message
//! printed at the edge is enough to find the file or key again.

use std::path::PathBuf;

/// Errors that stop a whole run (bad options, unreadable source roots).
/// Per-file problems are not errors of the run: they are counted in
/// [`crate::stats::RunStats`] and reported in the summary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read source {path}: {source}")]
    Source {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid {what}: {value:?} ({reason})")]
    Usage {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("cannot build the event frame: {0}")]
    Frame(#[from] polars::error::PolarsError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot build the thread pool: {0}")]
    ThreadPool(String),
    /// An error of a later stage (the event store), kept whole.
    #[error(transparent)]
    Stage(Box<dyn std::error::Error + Send + Sync + 'static>),
    #[error("{name} is a user name in {} accounts ({}): choose one with --account", .accounts.len(), .accounts.join(", "))]
    AmbiguousUser { name: String, accounts: Vec<String> },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn usage(what: &'static str, value: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Usage {
            what,
            value: value.into(),
            reason: reason.into(),
        }
    }
}
