//! One file per subcommand; `run` dispatches.

pub mod collect;
pub mod diagnose;
pub mod r#gen;
pub mod inflate;
pub mod policy_lint;
pub mod scan;
pub mod sql;
pub mod timeline;

use std::io::Write;

use crate::cli::{Cli, Command, ReadArgs};
use crate::error::Result;
use crate::event::EventRow;
use crate::exit::Exit;
use crate::pipeline::LoadOptions;
use crate::source::Window;

/// Runs a parsed command line, writing reports to `out` and notes to `err`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<Exit> {
    match cli.command {
        Command::Diagnose(a) => diagnose::run(a, out),
        Command::Scan(a) => scan::run(a, out),
        Command::Timeline(a) => timeline::run(a, out, err),
        Command::Collect(a) => collect::run(a, out),
        Command::Gen(a) => r#gen::run(a, out),
        Command::Sql(a) => sql::run(a, out),
        Command::PolicyLint(a) => policy_lint::run(a, out),
        Command::Inflate(a) => inflate::run(a, out),
    }
}

/// Builds the load options of a reading command for `window` (since/until set by the caller).
pub fn load_options(r: &ReadArgs, since: Option<i64>, until: Option<i64>) -> Result<LoadOptions> {
    Ok(LoadOptions {
        sources: r.sources.iter().cloned().chain(r.store.clone()).collect(),
        window: Window {
            since,
            until,
            lag: r.delivery_lag,
        },
        full_parse: r.full_parse,
        max_file_bytes: r.max_file_bytes,
        filter_events: true,
        threads: r.threads,
        progress: !r.quiet,
        s3: crate::source::s3::S3Options {
            profile: r.profile.clone(),
            region: r.aws_region.clone(),
            endpoint_url: r.endpoint_url.clone(),
            concurrency: r.s3_concurrency.max(1),
            page_size: r.s3_page_size.clamp(1, 1000),
            accounts: Vec::new(),
            regions: Vec::new(),
        },
    })
}

/// Exit for a finished run: strict mode turns unreadable input into code 3.
pub fn strict_exit(r: &ReadArgs, stats: &crate::stats::RunStats, ok: Exit) -> Exit {
    let unreadable = !stats.files_failed.is_empty()
        || !stats.files_partial.is_empty()
        || !stats.dirs_failed.is_empty()
        || stats.records_malformed > 0
        || stats.records_without_time > 0;
    if r.strict && unreadable {
        Exit::StrictFailures
    } else {
        ok
    }
}

/// Opens `--output` or uses stdout.
pub fn with_output<T>(
    path: &Option<std::path::PathBuf>,
    out: &mut dyn Write,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
) -> Result<T> {
    match path {
        Some(p) => {
            let file = std::fs::File::create(p).map_err(|e| crate::Error::Source {
                path: p.clone(),
                source: e,
            })?;
            let mut w = std::io::BufWriter::new(file);
            let v = f(&mut w)?;
            w.flush()?;
            Ok(v)
        }
        None => Ok(f(out)?),
    }
}

/// Keeps the events that `--account`/`--region` select (global-service events always).
pub fn filter_rows(rows: Vec<EventRow>, f: &crate::cli::FilterArgs) -> Vec<EventRow> {
    if f.accounts.is_empty() && f.regions.is_empty() {
        return rows;
    }
    rows.into_iter()
        .filter(|e| f.accounts.is_empty() || e.account().is_some_and(|a| f.accounts.iter().any(|x| x == a)))
        .filter(|e| {
            f.regions.is_empty()
                || matches!(
                    e.event_source.as_str(),
                    "iam.amazonaws.com" | "sts.amazonaws.com" | "signin.amazonaws.com"
                )
                || e.aws_region
                    .as_deref()
                    .is_some_and(|r| f.regions.iter().any(|x| x == r))
        })
        .collect()
}

/// Loads `--iam-snapshot` files (a bad one stops the run: exit 2) and `--snapshot-time`;
/// warnings (an incomplete page) go to stderr, and into the report.
pub fn load_snapshot(a: &crate::cli::SnapshotArgs) -> Result<Option<(crate::snapshot::Snapshot, Option<i64>)>> {
    if a.files.is_empty() {
        return Ok(None);
    }
    let time = a
        .snapshot_time
        .as_deref()
        .map(|t| crate::time::parse_time_arg(t, crate::time::DayEnd::End))
        .transpose()?;
    let snap = crate::snapshot::Snapshot::load(&a.files)?;
    for w in &snap.warnings {
        eprintln!("mfatrail: warning: {w}");
    }
    Ok(Some((snap, time)))
}

/// The index of a run, with the IAM snapshot if one was given.
pub fn index(events: Vec<EventRow>, snapshot: Option<(crate::snapshot::Snapshot, Option<i64>)>) -> crate::index::Index {
    match snapshot {
        Some((s, t)) => crate::index::Index::build_with(events, Some(s), t),
        None => crate::index::Index::build(events),
    }
}

/// Frees a run's index on a thread of its own: its hundred thousand small strings take
/// milliseconds to free, which the exit (or the caller's next step) need not wait for.
pub(crate) fn discard<T: Send + 'static>(big: T) {
    // If no thread can be started, the value comes back inside the error and is freed here.
    let _ = std::thread::Builder::new()
        .name("discard".into())
        .spawn(move || drop(big));
}

/// `--since`/`--until` (dates mean start/end of day); since must not be after until.
pub fn since_until(since: &Option<String>, until: &Option<String>) -> Result<(Option<i64>, Option<i64>)> {
    use crate::time::{DayEnd, format_millis, parse_time_arg};
    let s = since.as_deref().map(|t| parse_time_arg(t, DayEnd::Start)).transpose()?;
    let u = until.as_deref().map(|t| parse_time_arg(t, DayEnd::End)).transpose()?;
    if let (Some(a), Some(b)) = (s, u)
        && a > b
    {
        return Err(crate::Error::usage(
            "--since",
            format_millis(a),
            "must not be after --until",
        ));
    }
    Ok((s, u))
}

/// The longest window a pass may take: ten years, past any CloudTrail retention that matters
/// (and far from the arithmetic's limits).
pub const MAX_WINDOW: i64 = 3660 * 24 * crate::time::HOUR;

/// `--window`/`--extend-to` in milliseconds, checked.
pub fn passes(p: &crate::cli::PassArgs) -> Result<(i64, i64)> {
    if p.extend_to > MAX_WINDOW {
        return Err(crate::Error::usage(
            "--extend-to",
            crate::time::format_duration(p.extend_to),
            "must be at most 3660 days",
        ));
    }
    if p.window <= 0 || p.extend_to < p.window {
        return Err(crate::Error::usage(
            "--extend-to",
            crate::time::format_duration(p.extend_to),
            "must be at least --window (> 0)",
        ));
    }
    Ok((p.window, p.extend_to))
}

/// Refuses a format the command does not write.
pub fn check_format(command: &'static str, f: crate::report::Format, allowed: &[crate::report::Format]) -> Result<()> {
    if allowed.contains(&f) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
    Err(crate::Error::usage(
        "--format",
        f.as_str(),
        format!("{command} writes {}", names.join(", ")),
    ))
}

/// The text style of a command's output: colour only on a terminal (unless forced).
pub fn style(o: &crate::cli::OutputArgs) -> crate::report::Style {
    use std::io::IsTerminal;
    let terminal = o.output.is_none() && std::io::stdout().is_terminal();
    crate::report::Style {
        color: o.color.enabled(terminal),
    }
}
