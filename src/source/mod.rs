//! Sources: enumerate the objects of a run (local files now; S3 later) and
//! prune those whose key time cannot hold events of the window.

pub mod key;
pub mod local;
pub mod s3;
pub mod window;

use std::path::PathBuf;

pub use key::{KeyKind, LogKey, classify_key};
pub use window::Window;

/// Where an object's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

/// One object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// What reports print: the path as given, or `s3://bucket/key`.
    pub uri: String,
    pub loc: Location,
    pub size: u64,
    /// Parsed layout, when the key follows it.
    pub key: Option<LogKey>,
    /// S3 ETag, or a local file's modification time: with the size, what tells a changed
    /// object (the event store reads only new or changed objects again).
    pub version: Option<String>,
}
