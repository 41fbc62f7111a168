//! Reports: text for the terminal, JSON for machines (DESIGN §2 contract).

pub mod csv;
pub mod diagnosis;
pub mod html;
pub mod markdown;
pub mod sanitize;
pub mod scan;
pub mod style;

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use crate::stats::RunStats;
pub use sanitize::{clip, sanitize};
pub use style::{ColorChoice, Style};

/// Output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// One self-contained page (inline CSS and SVG, no script): diagnose and scan.
    Html,
    /// For tickets: diagnose and scan.
    Markdown,
    /// For spreadsheets (formulas neutralised): timeline and scan.
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
        }
    }
}

/// The `inputs` block of the JSON contract: the run counters (DESIGN §2
/// names, plus the extras) and the timing.
#[derive(Debug, Clone, Serialize)]
pub struct Inputs {
    #[serde(flatten)]
    pub stats: RunStats,
    pub elapsed_seconds: f64,
    pub mb_per_second: f64,
    /// The process's peak resident memory so far (Linux; absent elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
}

impl Inputs {
    pub fn new(s: &RunStats, elapsed: Duration) -> Inputs {
        let secs = elapsed.as_secs_f64();
        Inputs {
            stats: s.clone(),
            elapsed_seconds: (secs * 1000.0).round() / 1000.0,
            mb_per_second: if secs > 0.0 {
                ((s.bytes_decompressed as f64 / 1e6 / secs) * 10.0).round() / 10.0
            } else {
                0.0
            },
            peak_rss_bytes: crate::stats::peak_rss(),
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
    for st in &s.stores_read {
        writeln!(
            w,
            "  store:   {} (event store: its Parquet parts count as files, its rows as records; no gzip read)",
            sanitize(st)
        )?;
    }
    let unchanged = if s.files_unchanged > 0 {
        format!(" + {} unchanged in the event store", s.files_unchanged)
    } else {
        String::new()
    };
    writeln!(
        w,
        "  files:   {} listed = {} pruned by key time + {} digest/insight skipped{unchanged} + {} read ({} partial) + {} failed; {} outside the key layout (read unpruned); {} ignored (not JSON names)",
        s.files_listed,
        s.files_pruned,
        s.files_skipped_not_events,
        s.files_read,
        s.files_partial.len(),
        s.files_failed.len(),
        s.files_outside_layout,
        s.files_ignored
    )?;
    if s.dirs_pruned + s.dirs_skipped_not_events > 0 {
        writeln!(
            w,
            "  folders: {} year/month/day folders not walked (outside the window), {} digest/insight folders skipped",
            s.dirs_pruned, s.dirs_skipped_not_events
        )?;
    }
    if !s.stores_skipped.is_empty() {
        let names: Vec<String> = s.stores_skipped.iter().map(|n| sanitize(n)).collect();
        writeln!(
            w,
            "  skipped: {} event store folder(s) inside the sources, not read as raw logs ({} of their files not listed): {}",
            names.len(),
            s.files_in_stores,
            names.join(", ")
        )?;
    } else if s.files_in_stores > 0 {
        writeln!(
            w,
            "  stores:  {} files of event stores inside the sources not listed as raw files (the stores are read as stores)",
            s.files_in_stores
        )?;
    }
    for f in &s.files_failed {
        writeln!(w, "  FAILED   {}: {}", sanitize(&f.object), sanitize(&f.reason))?;
    }
    for f in &s.files_partial {
        writeln!(w, "  PARTIAL  {}: {}", sanitize(&f.object), sanitize(&f.reason))?;
    }
    for f in &s.dirs_failed {
        writeln!(
            w,
            "  FAILED   {} (folder): {}",
            sanitize(&f.object),
            sanitize(&f.reason)
        )?;
    }
    if !s.phases.is_empty() {
        let p: Vec<String> = s
            .phases
            .iter()
            .map(|p| format!("{} objects to {}", p.objects_read, p.name))
            .collect();
        writeln!(w, "  phases:  {}", p.join("; then "))?;
    }
    writeln!(
        w,
        "  bytes:   {} compressed, {} decompressed",
        human_bytes(s.bytes_compressed),
        human_bytes(s.bytes_decompressed)
    )?;
    writeln!(
        w,
        "  records: {} found = {} kept + {} not MFA-relevant + {} outside the window + {} duplicate copies (one eventID delivered twice) + {} malformed (invalid JSON) + {} without a usable eventTime; {} parsed (the rest skipped by the byte pre-filter, not validated)",
        s.records,
        s.records_kept,
        s.records_dropped,
        s.records_outside_window,
        s.records_duplicate,
        s.records_malformed,
        s.records_without_time,
        s.records_parsed
    )?;
    for m in &s.problem_examples {
        writeln!(w, "  UNUSABLE {}: {}", sanitize(&m.object), clip(&m.reason, 160))?;
    }
    let rss = i
        .peak_rss_bytes
        .map(|b| format!(", peak memory {}", human_bytes(b)))
        .unwrap_or_default();
    writeln!(
        w,
        "  time:    {:.2} s, {:.1} MB/s decompressed{rss}",
        i.elapsed_seconds, i.mb_per_second
    )?;
    if let Some(f) = &s.s3 {
        writeln!(
            w,
            "  s3:      {} LISTs, {} GETs, at most {} in flight holding {}",
            f.lists,
            f.gets,
            f.peak_gets_in_flight,
            human_bytes(f.peak_bytes_in_flight)
        )?;
    }
    Ok(())
}
