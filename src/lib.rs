//! mfatrail: why do this IAM user's MFA sign-ins fail? Offline, over
//! CloudTrail archives.
//!
//! The pipeline: `source` lists objects and prunes them by the time in their
//! key → `decode` inflates (libdeflate, multi-member safe, capped) → `parse`
//! finds records without parsing, parses the candidates with simd-json and
//! classifies them → `frame` gathers the kept events in one polars DataFrame
//! → `rules` evaluate the runbook's Diagnosis steps → `report` renders them.

pub mod decode;
pub mod error;
pub mod frame;
pub mod r#gen;
pub mod parse;
pub mod policy;
pub mod source;
pub mod stats;
pub mod time;

pub use error::{Error, Result};
pub mod cli;
pub mod commands;
pub mod exit;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod rules;
