//! Reports: text for the terminal, JSON for machines (DESIGN §2 contract).

pub mod diagnosis;
pub mod sanitize;

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use crate::stats::{FailedObject, RunStats};
pub use sanitize::{clip, sanitize};

/// Output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The `inputs` block of the JSON contract: DESIGN §2 names first, extras after.
#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    pub files_listed: u64,
    pub files_pruned: u64,
    pub files_read: u64,
    pub files_failed: Vec<FailedObject>,
    pub files_partial: Vec<FailedObject>,
    pub dirs_failed: Vec<FailedObject>,
    pub bytes_compressed: u64,
    pub bytes_decompressed: u64,
    pub records: u64,
    pub records_kept: u64,
    pub records_malformed: u64,
    pub records_parsed: u64,
    pub records_dropped: u64,
    pub records_without_time: u64,
    pub records_outside_window: u64,
    pub files_skipped_not_events: u64,
    pub files_outside_layout: u64,
    pub files_ignored: u64,
    pub dirs_pruned: u64,
    pub dirs_skipped_not_events: u64,
    pub problem_examples: Vec<FailedObject>,
    pub elapsed_seconds: f64,
    pub mb_per_second: f64,
}

impl Inputs {
    pub fn new(s: &RunStats, elapsed: Duration) -> Inputs {
        let secs = elapsed.as_secs_f64();
        Inputs {
            files_listed: s.files_listed,
            files_pruned: s.files_pruned,
            files_read: s.files_read,
            files_failed: s.files_failed.clone(),
            files_partial: s.files_partial.clone(),
            dirs_failed: s.dirs_failed.clone(),
            bytes_compressed: s.bytes_compressed,
            bytes_decompressed: s.bytes_decompressed,
            records: s.records,
            records_kept: s.records_kept,
            records_malformed: s.records_malformed,
            records_parsed: s.records_parsed,
            records_dropped: s.records_dropped,
            records_without_time: s.records_without_time,
            records_outside_window: s.records_outside_window,
            files_skipped_not_events: s.files_skipped_not_events,
            files_outside_layout: s.files_outside_layout,
            files_ignored: s.files_ignored,
            dirs_pruned: s.dirs_pruned,
            dirs_skipped_not_events: s.dirs_skipped_not_events,
            problem_examples: s.problem_examples.clone(),
            elapsed_seconds: (secs * 1000.0).round() / 1000.0,
            mb_per_second: if secs > 0.0 {
                ((s.bytes_decompressed as f64 / 1e6 / secs) * 10.0).round() / 10.0
            } else {
                0.0
            },
        }
    }
}

pub fn human_bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < U.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

/// The run summary, in text: what was listed, pruned, read, failed, kept.
pub fn write_summary(w: &mut dyn Write, s: &RunStats, elapsed: Duration) -> std::io::Result<()> {
    let i = Inputs::new(s, elapsed);
    writeln!(w, "Inputs")?;
    writeln!(
        w,
        "  files:   {} listed = {} pruned by key time + {} digest/insight skipped + {} read ({} partial) + {} failed; {} outside the key layout (read unpruned); {} ignored (not JSON names)",
        i.files_listed,
        i.files_pruned,
        i.files_skipped_not_events,
        i.files_read,
        i.files_partial.len(),
        i.files_failed.len(),
        i.files_outside_layout,
        i.files_ignored
    )?;
    if i.dirs_pruned + i.dirs_skipped_not_events > 0 {
        writeln!(
            w,
            "  folders: {} year/month/day folders not walked (outside the window), {} digest/insight folders skipped",
            i.dirs_pruned, i.dirs_skipped_not_events
        )?;
    }
    for f in &i.files_failed {
        writeln!(w, "  FAILED   {}: {}", sanitize(&f.object), sanitize(&f.reason))?;
    }
    for f in &i.files_partial {
        writeln!(w, "  PARTIAL  {}: {}", sanitize(&f.object), sanitize(&f.reason))?;
    }
    for f in &i.dirs_failed {
        writeln!(
            w,
            "  FAILED   {} (folder): {}",
            sanitize(&f.object),
            sanitize(&f.reason)
        )?;
    }
    writeln!(
        w,
        "  bytes:   {} compressed, {} decompressed",
        human_bytes(i.bytes_compressed),
        human_bytes(i.bytes_decompressed)
    )?;
    writeln!(
        w,
        "  records: {} found = {} kept + {} not MFA-relevant + {} outside the window + {} malformed (invalid JSON) + {} without a usable eventTime; {} parsed (the rest skipped by the byte pre-filter, not validated)",
        i.records,
        i.records_kept,
        i.records_dropped,
        i.records_outside_window,
        i.records_malformed,
        i.records_without_time,
        i.records_parsed
    )?;
    for m in &i.problem_examples {
        writeln!(w, "  UNUSABLE {}: {}", sanitize(&m.object), clip(&m.reason, 160))?;
    }
    writeln!(
        w,
        "  time:    {:.2} s, {:.1} MB/s decompressed",
        i.elapsed_seconds, i.mb_per_second
    )?;
    Ok(())
}
