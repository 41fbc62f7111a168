//! Runs source → decode → parse on rayon and gathers the kept events, sorted.
//! Each file is independent: workers keep their buffers in thread-locals and
//! hand back per-file events and counters, merged once at the end, so there
//! is no lock on the hot path.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::event::{EventRow, TimeRange};
use crate::frame::sort_events;
use crate::parse::{FileInfo, ParseOptions, Worker, parse_file};
use crate::progress::bytes_bar;
use crate::source::s3::{S3Options, S3Source, S3Uri, parse_s3_uri};
use crate::source::{Location, ObjectRef, Window, local};
use crate::stats::RunStats;

thread_local! {
    static WORKER: RefCell<Worker> = RefCell::new(Worker::default());
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub sources: Vec<PathBuf>,
    /// The events asked for, and the delivery lag that widens the listing.
    pub window: Window,
    /// Parse every record (validates all JSON; slower).
    pub full_parse: bool,
    /// Cap on a file's decompressed size.
    pub max_file_bytes: u64,
    /// 0 = one per core.
    pub threads: usize,
    pub progress: bool,
    pub s3: S3Options,
}

impl LoadOptions {
    fn parse(&self) -> ParseOptions {
        ParseOptions {
            window: TimeRange {
                since: self.window.since,
                until: self.window.until,
            },
            full_parse: self.full_parse,
            max_file_bytes: self.max_file_bytes,
        }
    }
}

/// What a load produced.
pub struct Loaded {
    /// Every kept event, sorted by (time, event id, source object).
    pub events: Vec<EventRow>,
    pub stats: RunStats,
    pub elapsed: Duration,
}

/// Builds the rayon pool for `--threads`.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::ThreadPool(e.to_string()))
}

/// Splits sources into local paths and S3 URIs; rejects malformed ones before any work.
pub fn split_sources(sources: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<S3Uri>)> {
    if sources.is_empty() {
        return Err(Error::usage(
            "--source",
            "",
            "give at least one folder, file or s3://bucket/prefix",
        ));
    }
    let (mut local, mut remote) = (Vec::new(), Vec::new());
    for s in sources {
        let t = s.to_string_lossy();
        if t.starts_with("s3://") {
            let uri = parse_s3_uri(&t)
                .ok_or_else(|| Error::usage("--source", t.to_string(), "expected s3://bucket or s3://bucket/prefix"))?;
            remote.push(uri);
        } else {
            local.push(s.clone());
        }
    }
    Ok((local, remote))
}

type FileResult = (Vec<EventRow>, RunStats);

/// Lists, reads, decodes and parses every needed object; returns the sorted frame.
pub fn load(opts: &LoadOptions) -> Result<Loaded> {
    let started = Instant::now();
    let window = opts.window;
    let mut stats = RunStats::default();
    let (local_roots, s3_uris) = split_sources(&opts.sources)?;
    let local_objs = if local_roots.is_empty() {
        Vec::new()
    } else {
        local::list(&local_roots, &window, &mut stats)?
    };
    let s3 = if s3_uris.is_empty() {
        None
    } else {
        Some(S3Source::connect(&opts.s3)?)
    };
    let mut s3_objs = Vec::new();
    if let Some(src) = &s3 {
        for u in &s3_uris {
            s3_objs.extend(src.list(u, &window, &mut stats)?);
        }
    }
    let total: u64 = local_objs.iter().chain(&s3_objs).map(|o| o.size).sum();
    let bar = bytes_bar(total, opts.progress, "reading");
    let parse = opts.parse();
    let pool = pool(opts.threads)?;
    let mut results: Vec<FileResult> = pool.install(|| {
        local_objs
            .par_iter()
            .map(|obj| {
                let r = match &obj.loc {
                    Location::File(path) => match std::fs::read(path) {
                        Ok(raw) => parse_one(&raw, obj, &parse),
                        Err(e) => failed(obj, format!("cannot read: {e}")),
                    },
                    Location::S3 { .. } => failed(obj, "internal: S3 object in the local list"),
                };
                bar.inc(obj.size);
                r
            })
            .collect()
    });
    if let Some(src) = &s3
        && !s3_objs.is_empty()
    {
        // Whole objects buffered between the network and the CPU: bounded memory.
        let (tx, mut rx) = tokio::sync::mpsc::channel(opts.s3.concurrency.max(2));
        std::thread::scope(|scope| {
            scope.spawn(move || src.fetch(s3_objs, tx));
            let got: Vec<FileResult> = pool.install(|| {
                std::iter::from_fn(move || rx.blocking_recv())
                    .par_bridge()
                    .map(|(obj, bytes)| {
                        let r = match bytes {
                            Ok(raw) => parse_one(&raw, &obj, &parse),
                            Err(why) => failed(&obj, why),
                        };
                        bar.inc(obj.size);
                        r
                    })
                    .collect()
            });
            results.extend(got);
        });
    }
    bar.finish_and_clear();
    let mut events = Vec::with_capacity(results.iter().map(|r| r.0.len()).sum());
    for (rows, s) in results {
        stats.merge(s);
        events.extend(rows);
    }
    stats.normalize();
    sort_events(&mut events);
    Ok(Loaded {
        events,
        stats,
        elapsed: started.elapsed(),
    })
}

fn failed(obj: &ObjectRef, why: impl Into<String>) -> FileResult {
    let mut s = RunStats::default();
    s.fail(&obj.uri, why);
    (Vec::new(), s)
}

fn parse_one(raw: &[u8], obj: &ObjectRef, parse: &ParseOptions) -> FileResult {
    let file = FileInfo {
        uri: &obj.uri,
        key_time: obj.key.as_ref().and_then(|k| k.key_time),
    };
    WORKER.with(|w| parse_file(raw, file, parse, &mut w.borrow_mut()))
}

/// The inflate-only baseline of `scripts/bench-compare.sh` (local sources): the
/// same listing, reads and libdeflate inflation as `load`, nothing after.
/// Returns (files, compressed bytes, decompressed bytes, failures, elapsed).
pub fn inflate_only(
    sources: &[PathBuf],
    window: &Window,
    threads: usize,
    cap: u64,
) -> Result<(u64, u64, u64, u64, Duration)> {
    let started = Instant::now();
    let mut stats = RunStats::default();
    let (local_roots, s3_uris) = split_sources(sources)?;
    if !s3_uris.is_empty() {
        return Err(Error::usage(
            "--source",
            "s3://",
            "the inflate baseline reads local folders only",
        ));
    }
    let objects = local::list(&local_roots, window, &mut stats)?;
    let (c, d, f) = pool(threads)?.install(|| {
        objects
            .par_iter()
            .map(|obj| {
                let Location::File(path) = &obj.loc else {
                    return (0, 0, 1);
                };
                let Ok(raw) = std::fs::read(path) else { return (0, 0, 1) };
                WORKER.with(|w| match w.borrow_mut().decode(&raw, cap) {
                    Ok(json) => (raw.len() as u64, json.len() as u64, 0u64),
                    Err(_) => (raw.len() as u64, 0, 1),
                })
            })
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    });
    Ok((objects.len() as u64, c, d, f, started.elapsed()))
}
