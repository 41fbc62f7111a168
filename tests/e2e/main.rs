//! End-to-end tests: the `mfatrail` binary on `testdata/` (one test binary,
//! so one link step).

mod bad_input;
mod bombs;
mod cli;
mod corpus;
mod everyday;
mod noisy;
mod real;
mod reports;
mod rules;
mod s3;
mod scenarios;
mod snapshot;
mod sql;
mod store;
mod util;
