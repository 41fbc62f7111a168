//! Runs source → decode → parse on rayon and builds the frame. Each file is
//! independent: workers keep their buffers in thread-locals and hand back
//! per-file column batches and counters, merged once at the end, so there is
//! no lock on the hot path.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use polars::prelude::DataFrame;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::frame::{self, Columns};
use crate::parse::{FileInfo, ParseOptions, Worker, parse_file};
use crate::progress::bytes_bar;
use crate::source::{ObjectRef, Window, local};
use crate::stats::RunStats;

thread_local! {
    static WORKER: RefCell<Worker> = RefCell::new(Worker::default());
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub sources: Vec<PathBuf>,
    pub parse: ParseOptions,
    /// 0 = one per core.
    pub threads: usize,
    pub progress: bool,
}

/// What a load produced.
pub struct Loaded {
    pub frame: DataFrame,
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

/// Rejects source forms this build cannot read, before any work.
pub fn check_sources(sources: &[PathBuf]) -> Result<()> {
    if sources.is_empty() {
        return Err(Error::usage("--source", "", "give at least one folder or file"));
    }
    for s in sources {
        let t = s.to_string_lossy();
        if t.starts_with("s3://") {
            return Err(Error::usage(
                "--source",
                t.into_owned(),
                "S3 sources are not supported by this build yet; sync the prefix to a folder (aws s3 sync) and pass the folder",
            ));
        }
    }
    Ok(())
}

/// Lists the objects of the window.
pub fn list(sources: &[PathBuf], window: &Window, stats: &mut RunStats) -> Result<Vec<ObjectRef>> {
    check_sources(sources)?;
    local::list(sources, window, stats)
}

/// Lists, reads, decodes and parses every needed object; returns the sorted frame.
pub fn load(opts: &LoadOptions) -> Result<Loaded> {
    let started = Instant::now();
    let mut stats = RunStats::default();
    let objects = list(&opts.sources, &opts.parse.window, &mut stats)?;
    let total: u64 = objects.iter().map(|o| o.size).sum();
    let bar = bytes_bar(total, opts.progress, "reading");
    let parse = opts.parse;
    let results: Vec<(Columns, RunStats)> = pool(opts.threads)?.install(|| {
        objects
            .par_iter()
            .map(|obj| {
                let r = read_one(obj, &parse);
                bar.inc(obj.size);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut batches = Vec::with_capacity(results.len());
    for (cols, s) in results {
        stats.merge(s);
        if !cols.is_empty() {
            batches.push(cols);
        }
    }
    stats.normalize();
    let frame = frame::build(batches)?;
    Ok(Loaded {
        frame,
        stats,
        elapsed: started.elapsed(),
    })
}

fn read_one(obj: &ObjectRef, parse: &ParseOptions) -> (Columns, RunStats) {
    let raw = match std::fs::read(&obj.path) {
        Ok(b) => b,
        Err(e) => {
            let mut s = RunStats::default();
            s.fail(&obj.uri, format!("cannot read: {e}"));
            return (Columns::default(), s);
        }
    };
    let file = FileInfo {
        uri: &obj.uri,
        key_time: obj.key.as_ref().and_then(|k| k.key_time),
    };
    WORKER.with(|w| parse_file(&raw, file, parse, &mut w.borrow_mut()))
}

/// The inflate-only baseline of `scripts/bench-compare.sh`: the same listing,
/// reads and libdeflate inflation as `load`, nothing after. Returns
/// (files, compressed bytes, decompressed bytes, failures, elapsed).
pub fn inflate_only(
    sources: &[PathBuf],
    window: &Window,
    threads: usize,
    cap: u64,
) -> Result<(u64, u64, u64, u64, Duration)> {
    let started = Instant::now();
    let mut stats = RunStats::default();
    let objects = list(sources, window, &mut stats)?;
    let (c, d, f) = pool(threads)?.install(|| {
        objects
            .par_iter()
            .map(|obj| {
                let Ok(raw) = std::fs::read(&obj.path) else {
                    return (0, 0, 1);
                };
                WORKER.with(|w| match w.borrow_mut().decode(&raw, cap) {
                    Ok(json) => (raw.len() as u64, json.len() as u64, 0u64),
                    Err(_) => (raw.len() as u64, 0, 1),
                })
            })
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    });
    Ok((objects.len() as u64, c, d, f, started.elapsed()))
}
