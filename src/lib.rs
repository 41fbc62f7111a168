//! mfatrail: why do this IAM user's MFA sign-ins fail? Offline, over
//! CloudTrail archives.
//!
//! The pipeline, one direction only: `source` lists objects and prunes them
//! by the time in their key → `decode` inflates (libdeflate, multi-member
//! safe, capped) → `parse` finds records without parsing, parses the
//! candidates with simd-json and classifies them into `event::EventRow`s →
//! `frame` (the polars table) and `index` (built once per run: principals,
//! devices, policies, failure series) → `rules` evaluate the runbook's
//! Diagnosis steps → `report` renders them. `event` is the leaf every stage
//! shares; `scripts/check-layers.sh` keeps imports flowing one way.

pub mod event;

pub mod error;
pub mod exit;
pub mod policy;
pub mod progress;
pub mod stats;
pub mod time;

pub mod decode;
pub mod snapshot;
pub mod source;

pub mod parse;

pub mod frame;
pub mod index;
pub mod sql;
pub mod store;

pub mod pipeline;

pub mod rules;

pub mod report;

pub mod cli;
pub mod commands;

pub use error::{Error, Result};

#[cfg(test)]
mod layers;
