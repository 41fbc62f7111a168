//! Runs source → decode → parse on rayon and gathers the kept events, sorted.
//! Each file is independent: workers keep their buffers in thread-locals and
//! hand back per-file events and counters, merged once at the end, so there
//! is no lock on the hot path. Event stores (`mfatrail collect`) given as
//! sources are read from their Parquet parts instead: no gzip at all.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::decode::ONE_SHOT_LIMIT;
use crate::error::{Error, Result};
use crate::event::{EventRow, TimeRange};
use crate::frame::{merge_sorted, sort_events};
use crate::parse::{FileInfo, ParseOptions, Worker, parse_file, parse_reader};
use crate::progress::bytes_bar;
use crate::source::s3::{S3Options, S3Source, S3Uri, parse_s3_uri};
use crate::source::{Location, ObjectRef, Window, local};
use crate::stats::RunStats;
use crate::store::Store;

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
    /// Keep only events inside `window` (`collect` keeps every event of each object it reads,
    /// so that the store never holds part of an object).
    pub filter_events: bool,
    /// 0 = one per core.
    pub threads: usize,
    pub progress: bool,
    pub s3: S3Options,
}

impl LoadOptions {
    fn parse(&self) -> ParseOptions {
        ParseOptions {
            window: if self.filter_events {
                self.range()
            } else {
                TimeRange::OPEN
            },
            full_parse: self.full_parse,
            max_file_bytes: self.max_file_bytes,
        }
    }
    fn range(&self) -> TimeRange {
        TimeRange {
            since: self.window.since,
            until: self.window.until,
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

/// The sources of a run, by kind.
#[derive(Debug, Default)]
pub struct Sources {
    pub local: Vec<PathBuf>,
    pub s3: Vec<S3Uri>,
    /// Folders holding an event store (a `manifest.json` of `mfatrail collect`).
    pub stores: Vec<PathBuf>,
}

/// Splits sources into local paths, S3 URIs and event stores; rejects malformed ones
/// before any work.
pub fn split_sources(sources: &[PathBuf]) -> Result<Sources> {
    if sources.is_empty() {
        return Err(Error::usage(
            "--source",
            "",
            "give at least one folder, file, event store or s3://bucket/prefix",
        ));
    }
    let mut out = Sources::default();
    for s in sources {
        let t = s.to_string_lossy();
        if t.starts_with("s3://") {
            let uri = parse_s3_uri(&t)
                .ok_or_else(|| Error::usage("--source", t.to_string(), "expected s3://bucket or s3://bucket/prefix"))?;
            out.s3.push(uri);
        } else if Store::is_store(s) {
            out.stores.push(s.clone());
        } else {
            out.local.push(s.clone());
        }
    }
    Ok(out)
}

/// The raw objects a run needs, listed and pruned (event stores are not listed here).
pub struct Listing {
    local: Vec<ObjectRef>,
    s3: Vec<ObjectRef>,
    /// S3 sources not listed yet: [`read`] lists them while it fetches (see [`list_lazily`]).
    s3_unlisted: Vec<S3Uri>,
    source: Option<Arc<S3Source>>,
    /// Event stores: given as sources, or found inside a source folder (each once).
    pub stores: Vec<PathBuf>,
    pub stats: RunStats,
    started: Instant,
}

impl Listing {
    /// Objects listed for reading (none yet of the S3 sources listed lazily).
    pub fn len(&self) -> usize {
        self.local.len() + self.s3.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Every object, local first.
    pub fn objects(&self) -> impl Iterator<Item = &ObjectRef> {
        self.local.iter().chain(&self.s3)
    }
    /// Keeps only the objects `keep` wants (the listing stays listed: the caller counts why).
    pub fn retain(&mut self, mut keep: impl FnMut(&ObjectRef) -> bool) {
        self.local.retain(&mut keep);
        self.s3.retain(&mut keep);
    }
    /// Moves the objects `take` wants into a listing of their own (same S3 client, no
    /// counters), for reads in steps.
    pub fn split_off(&mut self, mut take: impl FnMut(&ObjectRef) -> bool) -> Listing {
        let (local, rest): (Vec<ObjectRef>, Vec<ObjectRef>) =
            std::mem::take(&mut self.local).into_iter().partition(&mut take);
        self.local = rest;
        let (s3, rest): (Vec<ObjectRef>, Vec<ObjectRef>) =
            std::mem::take(&mut self.s3).into_iter().partition(&mut take);
        self.s3 = rest;
        Listing {
            local,
            s3,
            s3_unlisted: Vec::new(),
            source: self.source.clone(),
            stores: Vec::new(),
            stats: RunStats::default(),
            started: Instant::now(),
        }
    }
}

/// Lists and prunes every raw source of `opts`.
pub fn list(opts: &LoadOptions) -> Result<Listing> {
    list_sources(opts, true)
}

/// Like [`list`], except that S3 sources are listed by [`read`] while it fetches: the first
/// objects are read while the listing goes on. For runs that read all they list at once.
pub fn list_lazily(opts: &LoadOptions) -> Result<Listing> {
    list_sources(opts, false)
}

fn list_sources(opts: &LoadOptions, s3_now: bool) -> Result<Listing> {
    let started = Instant::now();
    let window = opts.window;
    let mut stats = RunStats::default();
    let sources = split_sources(&opts.sources)?;
    // Store folders are walked too: a store is read as a store, and what else lies in its
    // folder (logs an analyst keeps next to it) as raw files. A store found inside a source
    // folder is read as a store, its own files never as raw ones.
    let roots: Vec<PathBuf> = sources.local.iter().chain(&sources.stores).cloned().collect();
    let (local, found) = if roots.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        local::list(&roots, &window, &mut stats)?
    };
    let stores = distinct_stores(sources.stores.into_iter().chain(found));
    let source = if sources.s3.is_empty() {
        None
    } else {
        Some(Arc::new(S3Source::connect(&opts.s3)?))
    };
    let mut s3 = Vec::new();
    let mut s3_unlisted = Vec::new();
    match &source {
        Some(src) if s3_now => {
            for u in &sources.s3 {
                s3.extend(src.list(u, &window, &mut stats)?);
            }
            // An object under two of the sources is read once.
            s3.sort_by(|a, b| a.uri.cmp(&b.uri));
            s3.dedup_by(|a, b| a.loc == b.loc);
            stats.s3 = Some(src.flight());
        }
        _ => s3_unlisted = sources.s3,
    }
    Ok(Listing {
        local,
        s3,
        s3_unlisted,
        source,
        stores,
        stats,
        started,
    })
}

/// Each store once, whichever paths named it (a root given and found again in a walk).
fn distinct_stores(stores: impl Iterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut seen = std::collections::HashSet::new();
    stores
        .filter(|s| seen.insert(std::fs::canonicalize(s).unwrap_or_else(|_| s.clone())))
        .collect()
}

/// One object read.
pub struct ObjectOutcome {
    pub object: ObjectRef,
    /// Sorted as `frame::sort_events` sorts.
    pub events: Vec<EventRow>,
    pub stats: RunStats,
}

/// Reads, decodes and parses the objects of `listing`, each on its own; the listing's
/// counters come first in `stats`.
pub struct ReadResult {
    pub objects: Vec<ObjectOutcome>,
    pub stats: RunStats,
    pub elapsed: Duration,
}

pub fn read(opts: &LoadOptions, listing: Listing) -> Result<ReadResult> {
    let Listing {
        local,
        s3,
        s3_unlisted,
        source,
        mut stats,
        started,
        ..
    } = listing;
    if local.is_empty() && s3.is_empty() && s3_unlisted.is_empty() {
        // Nothing to read (an event store alone): no thread pool, no progress bar.
        return Ok(ReadResult {
            objects: Vec::new(),
            stats,
            elapsed: started.elapsed(),
        });
    }
    let flight_before = source.as_ref().map(|s| s.flight());
    let total: u64 = local.iter().chain(&s3).map(|o| o.size).sum();
    let bar = bytes_bar(total, opts.progress, "reading");
    let parse = opts.parse();
    let pool = pool(opts.threads)?;
    let outcome = |object: ObjectRef, (mut events, stats): (Vec<EventRow>, RunStats)| {
        bar.inc(object.size);
        // On the worker: `load` then only merges.
        sort_events(&mut events);
        ObjectOutcome { object, events, stats }
    };
    let mut results: Vec<ObjectOutcome> = pool.install(|| {
        local
            .into_par_iter()
            .map(|obj| {
                let read = match &obj.loc {
                    // Too large to hold whole: read as a stream (memory stays flat).
                    Location::File(path) if obj.size > ONE_SHOT_LIMIT => match std::fs::File::open(path) {
                        Ok(f) => parse_streamed(f, &obj, &parse),
                        Err(e) => failed(&obj, format!("cannot read: {e}")),
                    },
                    Location::File(path) => match std::fs::read(path) {
                        Ok(raw) => parse_one(&raw, &obj, &parse),
                        Err(e) => failed(&obj, format!("cannot read: {e}")),
                    },
                    Location::S3 { .. } => failed(&obj, "internal: S3 object in the local list"),
                };
                outcome(obj, read)
            })
            .collect()
    });
    if let Some(src) = &source
        && !(s3.is_empty() && s3_unlisted.is_empty())
    {
        // Whole objects buffered between the network and the CPU. What bounds memory is the
        // source's byte budget, not this queue's length: a queue full before the budget would
        // wake the fetching thread once per object parsed.
        let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
        let (listed, got) = std::thread::scope(|scope| {
            let fetching = scope.spawn(|| {
                let (large, small): (Vec<ObjectRef>, Vec<ObjectRef>) =
                    s3.into_iter().partition(|o| o.size > ONE_SHOT_LIMIT);
                if s3_unlisted.is_empty() {
                    src.fetch(small, tx);
                    return Ok((large, RunStats::default()));
                }
                let mut st = RunStats::default();
                let found = |o: &ObjectRef| bar.inc_length(o.size);
                let more = src.list_and_fetch(&s3_unlisted, &opts.window, &mut st, ONE_SHOT_LIMIT, found, tx)?;
                Ok::<_, crate::error::Error>(([large, more].concat(), st))
            });
            let got: Vec<ObjectOutcome> = pool.install(|| {
                std::iter::from_fn(move || rx.blocking_recv())
                    .par_bridge()
                    .map(|(obj, bytes, held)| {
                        let read = match bytes {
                            Ok(raw) => parse_one(&raw, &obj, &parse),
                            Err(why) => failed(&obj, why),
                        };
                        drop(held);
                        outcome(obj, read)
                    })
                    .collect()
            });
            let listed = fetching
                .join()
                .unwrap_or_else(|_| Err(crate::error::Error::ThreadPool("the S3 fetch thread panicked".into())));
            (listed, got)
        });
        let (large, listing_stats) = listed?;
        stats.merge(listing_stats);
        results.extend(got);
        // Objects too large to hold whole: read in ranges by the CPU stage.
        let got: Vec<ObjectOutcome> = pool.install(|| {
            large
                .into_par_iter()
                .map(|obj| {
                    let read = parse_streamed(src.ranged(&obj), &obj, &parse);
                    outcome(obj, read)
                })
                .collect()
        });
        results.extend(got);
    }
    bar.finish_and_clear();
    // Deterministic order whatever the scheduling.
    results.sort_by(|a, b| a.object.uri.cmp(&b.object.uri));
    for r in &results {
        stats.merge(r.stats.clone());
    }
    if let (Some(src), Some(before)) = (&source, flight_before) {
        // This read's requests only: a listing read in steps shares one source.
        stats.add_s3(Some(src.flight().since(&before)));
    }
    Ok(ReadResult {
        objects: results,
        stats,
        elapsed: started.elapsed(),
    })
}

/// Reads the event stores of `listing` in the window of `opts`, counting parts as files and
/// rows as records so the run summary balances. One sorted run of events per store.
pub fn read_stores(
    opts: &LoadOptions,
    stores: &[PathBuf],
    accounts: &[String],
    stats: &mut RunStats,
) -> Result<Vec<Vec<EventRow>>> {
    let mut runs = Vec::new();
    for dir in stores {
        let store = Store::open(dir)?;
        let (rows, st) = store.read(opts.range(), accounts)?;
        stats.files_listed += st.parts_listed;
        stats.files_pruned += st.parts_pruned;
        stats.files_read += st.parts_read;
        stats.bytes_compressed += st.bytes;
        stats.records += st.rows;
        stats.records_parsed += st.rows;
        stats.records_kept += st.rows_kept;
        stats.records_outside_window += st.rows_outside;
        stats.stores_read.push(dir.display().to_string());
        runs.push(rows);
    }
    Ok(runs)
}

/// Lists, reads, decodes and parses every needed object (and reads the event stores given
/// as sources); returns the sorted events.
pub fn load(opts: &LoadOptions) -> Result<Loaded> {
    let listing = list_lazily(opts)?;
    let stores = listing.stores.clone();
    let read = read(opts, listing)?;
    let mut stats = read.stats;
    // Each object's events were sorted on the workers: one merge gathers and orders them.
    let mut runs: Vec<Vec<EventRow>> = read.objects.into_iter().map(|o| o.events).collect();
    // `Store::read` sorts each store's rows: they merge as runs too.
    runs.extend(read_stores(opts, &stores, &opts.s3.accounts, &mut stats)?);
    stats.normalize();
    let mut events = merge_sorted(runs, opts.threads != 1);
    stats.drop_duplicates(crate::frame::dedup(&mut events));
    Ok(Loaded {
        events,
        stats,
        elapsed: read.elapsed,
    })
}

fn failed(obj: &ObjectRef, why: impl Into<String>) -> (Vec<EventRow>, RunStats) {
    let mut s = RunStats::default();
    s.fail(&obj.uri, why);
    (Vec::new(), s)
}

fn parse_one(raw: &[u8], obj: &ObjectRef, parse: &ParseOptions) -> (Vec<EventRow>, RunStats) {
    if crate::store::result::is_parquet(raw) {
        return read_result(raw, obj, parse);
    }
    let file = FileInfo {
        uri: &obj.uri,
        key_time: obj.key.as_ref().and_then(|k| k.key_time),
    };
    WORKER.with(|w| parse_file(raw, file, parse, &mut w.borrow_mut()))
}

fn parse_streamed(input: impl std::io::Read, obj: &ObjectRef, parse: &ParseOptions) -> (Vec<EventRow>, RunStats) {
    use std::io::{BufRead, Read};
    let mut input = std::io::BufReader::with_capacity(1 << 16, input);
    // A large query result (Parquet) is read whole: its rows are all kept anyway.
    if input.fill_buf().is_ok_and(crate::store::result::is_parquet) {
        let mut raw = Vec::with_capacity(obj.size.min(1 << 30) as usize);
        return match input.read_to_end(&mut raw) {
            Ok(_) => read_result(&raw, obj, parse),
            Err(e) => failed(obj, format!("cannot read: {e}")),
        };
    }
    let file = FileInfo {
        uri: &obj.uri,
        key_time: obj.key.as_ref().and_then(|k| k.key_time),
    };
    WORKER.with(|w| parse_reader(input, obj.size, file, parse, &mut w.borrow_mut()))
}

/// Reads one query result of `mfatrail sql` (Parquet in the store's schema; DESIGN §8),
/// counting its rows as records so that the run summary balances.
fn read_result(raw: &[u8], obj: &ObjectRef, parse: &ParseOptions) -> (Vec<EventRow>, RunStats) {
    let got = match crate::store::result::read(raw) {
        Ok(g) => g,
        Err(why) => return failed(obj, why),
    };
    let mut stats = RunStats {
        files_read: 1,
        bytes_compressed: raw.len() as u64,
        records: got.total,
        records_parsed: got.total,
        ..RunStats::default()
    };
    for _ in 0..got.without_time {
        stats.without_time(&obj.uri, "query result row without a usable event_time");
    }
    for _ in 0..got.unknown_class {
        stats.malformed(
            &obj.uri,
            "query result row with a class or outcome this mfatrail does not know",
        );
    }
    let mut events = Vec::with_capacity(got.rows.len());
    for (i, mut e) in got.rows.into_iter().enumerate() {
        if !parse.window.contains(e.event_time) {
            stats.records_outside_window += 1;
            continue;
        }
        if e.source_object.is_empty() {
            e.source_object = format!("{}#{i}", obj.uri);
        }
        stats.records_kept += 1;
        events.push(e);
    }
    (events, stats)
}

/// Whether a path is an event store folder (for `--store` and store sources).
pub fn is_store(p: &Path) -> bool {
    Store::is_store(p)
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
    let Sources {
        local: local_roots,
        s3: s3_uris,
        ..
    } = split_sources(sources)?;
    if !s3_uris.is_empty() {
        return Err(Error::usage(
            "--source",
            "s3://",
            "the inflate baseline reads local folders only",
        ));
    }
    let (objects, _stores) = local::list(&local_roots, window, &mut stats)?;
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
                    Err(crate::decode::DecodeError::NeedsStream) => {
                        match std::io::copy(&mut crate::decode::stream(&raw[..], cap), &mut std::io::sink()) {
                            Ok(n) => (raw.len() as u64, n, 0),
                            Err(_) => (raw.len() as u64, 0, 1),
                        }
                    }
                    Err(_) => (raw.len() as u64, 0, 1),
                })
            })
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    });
    Ok((objects.len() as u64, c, d, f, started.elapsed()))
}
