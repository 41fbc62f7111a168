//! The event store: the kept events of an archive as Parquet, collected once
//! and read by every later question (DESIGN §8).
//!
//! Layout (hive partitions, so DuckDB, Athena and polars read it as they are):
//! ```text
//! STORE/manifest.json                                   the commit point (schema version, parts, runs)
//! STORE/objects-….jsonl.gz                              every source object read (one JSON line each)
//! STORE/account=111122223333/date=2026-11-20/part-….parquet
//! STORE/account=_quarantine/date=2026-11-20/part-….parquet   rows whose account is not 12 digits
//! STORE/.lock                                           while a collect runs (`lock`)
//! ```
//! Every part holds rows in the frame's schema (`frame::COLUMNS`, `source_object` included).
//! The manifest lists every committed part and names the objects file, which lists every
//! source object read (its size and ETag or mtime, record counts, failures, the parts its rows
//! are in): readers of events never load it, collects do. A collect writes new parts
//! under temporary names, renames them, and writes the manifest last (write, then rename):
//! a run interrupted anywhere leaves the previous manifest, and parts it does not list are
//! deleted by the next collect. Readers read only the parts the manifest lists; one that finds
//! a listed part gone (a collect committed meanwhile and deleted the parts it replaced) reads
//! the new manifest once more.
//!
//! The store touches only its own files: a collect writes a store only into a new or empty
//! folder (or an existing store), and deletes only files named as it names them
//! (`source::local::store_file`), never following a symbolic link. Analysts keep evidence
//! next to a store.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub mod lock;
pub mod result;

pub use lock::Lock;

use crate::event::{EventRow, Millis, TimeRange, format_millis};
use crate::frame::{self, COLUMNS};
use crate::source::local::{self, StoreFile, store_file};

/// Bumped whenever the columns or their meaning change.
pub const SCHEMA_VERSION: u32 = 1;
pub const FORMAT: &str = local::STORE_FORMAT;
pub const MANIFEST: &str = local::STORE_MANIFEST;
pub const LOCK: &str = local::STORE_LOCK;
/// Partition value for rows whose account is not a 12-digit id.
pub const QUARANTINE: &str = "_quarantine";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} is not an mfatrail event store (no {MANIFEST}): collect into it with `mfatrail collect --store`")]
    NotAStore(PathBuf),
    #[error(
        "{path} was written with event-store schema version {found}; this mfatrail reads version {SCHEMA_VERSION}: collect again into a new store (mfatrail collect --source <archive> --store <new folder>)"
    )]
    SchemaVersion { path: PathBuf, found: u32 },
    #[error(
        "{path} is not empty and holds no event store (it has {found}{note}): collect writes a store only into a new or empty folder, so that it never deletes or mixes with files it did not write; give a new folder, e.g. --store {suggest}"
    )]
    NotEmpty {
        path: PathBuf,
        found: String,
        note: &'static str,
        suggest: PathBuf,
    },
    #[error(
        "{path} is being collected by another run ({holder}); wait for it, or remove {path}/{LOCK} if no collect is running"
    )]
    Locked { path: PathBuf, holder: String },
    #[error(
        "{path} is being collected by another run on host {host} (pid {pid}, since {since}); this is host {here}, and a lock of another host is never taken over: wait for that collect, or, if none runs there any more, remove {path}/{LOCK}"
    )]
    LockedElsewhere {
        path: PathBuf,
        host: String,
        pid: u32,
        since: String,
        here: String,
    },
    #[error(
        "{path} is being collected by another run that is taking its lock right now ({path}/{LOCK} is still empty); try again in a few seconds (an empty lock older than {} s is taken over)",
        lock::GRACE.as_secs()
    )]
    LockStarting { path: PathBuf },
    #[error(
        "{path} was taken over by another collect while this one ran (it judged this collect gone); nothing was committed: run the collect again once the other one is done"
    )]
    LockLost { path: PathBuf },
    #[error(
        "event store part {path} is listed in the manifest but missing (deleted by hand?): collect again into a new store"
    )]
    PartMissing { path: PathBuf },
    #[error("event store {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("event store manifest {path} is unreadable: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("event store part {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: PolarsError,
    },
}

type Result<T> = std::result::Result<T, StoreError>;

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> Self {
        crate::error::Error::Stage(Box::new(e))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One committed part file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PartInfo {
    pub account: String,
    pub date: String,
    pub rows: u64,
    pub bytes: u64,
    pub min_time: Millis,
    pub max_time: Millis,
    /// Rows per event class.
    pub classes: BTreeMap<String, u64>,
}

fn class_counts_of(rows: &[EventRow]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for e in rows {
        *m.entry(e.class.as_str().to_owned()).or_default() += 1;
    }
    m
}

/// One source object read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObjectInfo {
    /// The object as events name it (`source_object` is `<uri>#<record>`).
    pub uri: String,
    pub size: u64,
    /// S3 ETag or local mtime: with the size, what says the object changed.
    pub version: Option<String>,
    pub records: u64,
    pub kept: u64,
    /// Why it could not be read (it is read again by the next collect).
    pub failure: Option<String>,
    /// Parts holding its rows.
    pub parts: Vec<String>,
}

/// One collect run, for the record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    pub at: String,
    pub objects_read: u64,
    pub objects_unchanged: u64,
    pub rows_written: u64,
    pub rows_replaced: u64,
    pub rows_quarantined: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub schema_version: u32,
    pub columns: Vec<String>,
    pub parts: BTreeMap<String, PartInfo>,
    /// The objects file (gzip JSON lines), relative to the store.
    pub objects_file: Option<String>,
    pub objects_count: u64,
    pub runs: Vec<RunInfo>,
    /// Keyed by the object's canonical location (absolute path, or s3://bucket/key); loaded
    /// from `objects_file` by `Store::load_objects` (collect), not by readers.
    #[serde(skip)]
    pub objects: BTreeMap<String, ObjectInfo>,
}

/// One line of the objects file.
#[derive(Debug, Serialize, Deserialize)]
struct ObjectLine {
    key: String,
    #[serde(flatten)]
    info: ObjectInfo,
}

impl Manifest {
    fn new() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            schema_version: SCHEMA_VERSION,
            columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
            parts: BTreeMap::new(),
            objects_file: None,
            objects_count: 0,
            runs: Vec::new(),
            objects: BTreeMap::new(),
        }
    }
}

/// A validated partition value for an account: 12 digits, else the quarantine.
pub fn account_partition(e: &EventRow) -> &str {
    match e.account() {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => a,
        _ => QUARANTINE,
    }
}

/// The UTC date of an event (always a real date: it comes from the parsed time).
pub fn date_partition(t: Millis) -> String {
    format_millis(t.div_euclid(86_400_000) * 86_400_000)[..10].to_owned()
}

/// An opened store.
#[derive(Debug)]
pub struct Store {
    pub root: PathBuf,
    pub manifest: Manifest,
}

/// What a read of the store saw.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReadStats {
    pub parts_listed: u64,
    pub parts_pruned: u64,
    pub parts_read: u64,
    pub bytes: u64,
    pub rows: u64,
    pub rows_kept: u64,
    pub rows_outside: u64,
}

/// What a commit did.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct CommitSummary {
    pub objects_written: u64,
    pub rows_written: u64,
    pub rows_replaced: u64,
    pub rows_quarantined: u64,
    pub parts_written: u64,
    pub parts_rewritten: u64,
    pub bytes_written: u64,
}

/// A source object read by a collect, with its kept events.
#[derive(Debug, Clone)]
pub struct Collected {
    pub key: String,
    pub info: ObjectInfo,
    pub events: Vec<EventRow>,
}

impl Store {
    /// Whether `dir` holds an event store (a manifest that mfatrail wrote).
    pub fn is_store(dir: &Path) -> bool {
        local::is_store_dir(dir)
    }

    /// Opens an existing store (checks the schema version).
    pub fn open(root: &Path) -> Result<Store> {
        let path = root.join(MANIFEST);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotAStore(root.into())),
            Err(e) => return Err(io(&path)(e)),
        };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| StoreError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if v["format"] != FORMAT {
            return Err(StoreError::NotAStore(root.into()));
        }
        let found = v["schema_version"].as_u64().unwrap_or(0) as u32;
        if found != SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                path: root.into(),
                found,
            });
        }
        let manifest: Manifest = serde_json::from_value(v).map_err(|e| StoreError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        Ok(Store {
            root: root.into(),
            manifest,
        })
    }

    /// Loads the objects file (collect needs it; readers of events do not).
    pub fn load_objects(&mut self) -> Result<()> {
        let Some(rel) = self.manifest.objects_file.clone() else {
            return Ok(());
        };
        let path = self.root.join(&rel);
        let raw = fs::read(&path).map_err(io(&path))?;
        let mut text = Vec::new();
        crate::decode::Inflater::new()
            .inflate(&raw, &mut text, 1 << 40)
            .map_err(|e| StoreError::Manifest {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let mut objects = BTreeMap::new();
        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let o: ObjectLine = serde_json::from_slice(line).map_err(|e| StoreError::Manifest {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            objects.insert(o.key, o.info);
        }
        self.manifest.objects = objects;
        Ok(())
    }

    fn write_objects(&self, rel: &str, objects: &BTreeMap<String, ObjectInfo>) -> Result<()> {
        let path = self.root.join(rel);
        let tmp = self.root.join(format!("{rel}.tmp"));
        let f = fs::File::create(&tmp).map_err(io(&tmp))?;
        let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::fast());
        for (key, info) in objects {
            let line = ObjectLine {
                key: key.clone(),
                info: info.clone(),
            };
            serde_json::to_writer(&mut gz, &line).map_err(|e| StoreError::Manifest {
                path: tmp.clone(),
                reason: e.to_string(),
            })?;
            gz.write_all(b"\n").map_err(io(&tmp))?;
        }
        let w = gz.finish().map_err(io(&tmp))?;
        let f = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// Opens the store at `root`, creating an empty one in a new or empty folder. A folder
    /// holding anything else is refused: the store never mixes with files it did not write.
    pub fn create_or_open(root: &Path) -> Result<Store> {
        if Store::is_store(root) {
            return Store::open(root);
        }
        match fs::read_dir(root) {
            Ok(entries) => {
                // What a first collect killed before its manifest leaves does not count.
                let foreign = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .find(|name| store_file(name).is_none_or(|f| f == StoreFile::Manifest));
                if let Some(name) = foreign {
                    let foreign_manifest = root.join(MANIFEST).exists();
                    return Err(StoreError::NotEmpty {
                        path: root.into(),
                        found: format!("{name:?}"),
                        note: if foreign_manifest {
                            ", and a manifest.json that mfatrail did not write"
                        } else {
                            ""
                        },
                        suggest: root.join("mfatrail-store"),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(root)(e)),
        }
        fs::create_dir_all(root).map_err(io(root))?;
        let mut s = Store {
            root: root.into(),
            manifest: Manifest::new(),
        };
        s.write_manifest()?;
        Ok(s)
    }

    /// Takes the store's lock (one collect at a time; see [`lock`]).
    pub fn lock(&self) -> Result<Lock> {
        lock::acquire(&self.root)
    }

    fn write_manifest(&mut self) -> Result<()> {
        let path = self.root.join(MANIFEST);
        let tmp = self.root.join(format!("{MANIFEST}.tmp"));
        let text = serde_json::to_string_pretty(&self.manifest).map_err(|e| StoreError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        {
            let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(text.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// Deletes files a crashed collect left behind: parts and objects files the manifest does
    /// not list, and temporary files. Only names the store writes, where it writes them
    /// (`source::local::store_file`); symbolic links are neither followed nor deleted, and
    /// anything else is left alone. Returns how many.
    pub fn remove_orphans(&self) -> Result<u64> {
        let mut n = 0;
        let mut remove = |p: &Path| match fs::remove_file(p) {
            Ok(()) => {
                n += 1;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(p)(e)),
        };
        // (file type, name, path) of a folder's entries; the type is the entry's own
        // (`DirEntry::file_type` does not follow links).
        let entries = |d: &Path| -> Result<Vec<(fs::FileType, String, PathBuf)>> {
            Ok(fs::read_dir(d)
                .map_err(io(d))?
                .filter_map(|e| e.ok())
                .filter_map(|e| Some((e.file_type().ok()?, e.file_name().into_string().ok()?, e.path())))
                .collect())
        };
        for (ft, name, path) in entries(&self.root)? {
            if ft.is_file() {
                let orphan = match store_file(&name) {
                    Some(StoreFile::ManifestTmp | StoreFile::Objects { tmp: true }) => true,
                    Some(StoreFile::Objects { tmp: false }) => {
                        self.manifest.objects_file.as_deref() != Some(name.as_str())
                    }
                    _ => false,
                };
                if orphan {
                    remove(&path)?;
                }
                continue;
            }
            if !(ft.is_dir() && name.starts_with("account=")) {
                continue;
            }
            for (ft, date, path) in entries(&path)? {
                if !(ft.is_dir() && date.starts_with("date=")) {
                    continue;
                }
                for (ft, file, path) in entries(&path)? {
                    let rel = format!("{name}/{date}/{file}");
                    let orphan = ft.is_file()
                        && match store_file(&rel) {
                            Some(StoreFile::Part { tmp: true }) => true,
                            Some(StoreFile::Part { tmp: false }) => !self.manifest.parts.contains_key(&rel),
                            _ => false,
                        };
                    if orphan {
                        remove(&path)?;
                    }
                }
            }
        }
        Ok(n)
    }

    /// Whether the object must be read: new, changed (size or version), or failed before.
    pub fn needs(&self, key: &str, size: u64, version: Option<&str>) -> bool {
        match self.manifest.objects.get(key) {
            Some(o) => o.size != size || o.version.as_deref() != version || o.failure.is_some(),
            None => true,
        }
    }

    fn part_path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write_part(&self, rel: &str, events: &[EventRow]) -> Result<u64> {
        let path = self.part_path(rel);
        let tmp = path.with_extension("parquet.tmp");
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut df = frame::build(events).map_err(|source| StoreError::Parquet {
            path: path.clone(),
            source,
        })?;
        {
            // Buffered: the writer emits many small pieces (one write call each otherwise).
            let mut w = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&tmp).map_err(io(&tmp))?);
            // Snappy: every engine reads it (Athena, Trino, DuckDB), and it decodes fast.
            ParquetWriter::new(&mut w)
                .with_compression(ParquetCompression::Snappy)
                .finish(&mut df)
                .map_err(|source| StoreError::Parquet {
                    path: tmp.clone(),
                    source,
                })?;
            let f = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(fs::metadata(&path).map(|m| m.len()).unwrap_or(0))
    }

    fn read_part(&self, rel: &str) -> Result<Vec<EventRow>> {
        let path = self.part_path(rel);
        let f = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::PartMissing { path }),
            Err(e) => return Err(io(&path)(e)),
        };
        // Parts are small: one thread, no pool to start.
        let df = ParquetReader::new(f)
            .read_parallel(ParallelStrategy::None)
            .finish()
            .map_err(|source| StoreError::Parquet {
                path: path.clone(),
                source,
            })?;
        frame::rows(&df).map_err(|source| StoreError::Parquet { path, source })
    }

    /// Commits a collect under its `lock`: rows of changed objects are replaced, new rows
    /// written, manifest last. `run` names the new parts (unique per collect).
    pub fn commit(&mut self, lock: &Lock, run: &str, batch: Vec<Collected>, unchanged: u64) -> Result<CommitSummary> {
        let mut sum = CommitSummary::default();
        // 1. Parts holding rows of objects read again: rewrite them without those rows.
        let replaced: BTreeSet<String> = batch
            .iter()
            .filter_map(|c| self.manifest.objects.get(&c.key))
            .map(|o| format!("{}#", o.uri))
            .collect();
        let touched: BTreeSet<String> = batch
            .iter()
            .filter_map(|c| self.manifest.objects.get(&c.key))
            .flat_map(|o| o.parts.iter().cloned())
            .collect();
        let mut renamed: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut new_parts: BTreeMap<String, PartInfo> = BTreeMap::new();
        for (k, old) in touched.iter().enumerate() {
            let Some(info) = self.manifest.parts.get(old).cloned() else {
                continue;
            };
            let rows = self.read_part(old)?;
            let before = rows.len();
            let keep: Vec<EventRow> = rows
                .into_iter()
                .filter(|e| !replaced.iter().any(|p| e.source_object.starts_with(p.as_str())))
                .collect();
            sum.rows_replaced += (before - keep.len()) as u64;
            if keep.is_empty() {
                renamed.insert(old.clone(), None);
                continue;
            }
            let rel = format!("account={}/date={}/part-{run}-r{k}.parquet", info.account, info.date);
            let bytes = self.write_part(&rel, &keep)?;
            sum.parts_rewritten += 1;
            new_parts.insert(
                rel.clone(),
                PartInfo {
                    rows: keep.len() as u64,
                    bytes,
                    min_time: keep.iter().map(|e| e.event_time).min().unwrap_or(info.min_time),
                    max_time: keep.iter().map(|e| e.event_time).max().unwrap_or(info.max_time),
                    classes: class_counts_of(&keep),
                    ..info
                },
            );
            renamed.insert(old.clone(), Some(rel));
        }
        // 2. New rows, by partition.
        let mut by_part: BTreeMap<(String, String), Vec<EventRow>> = BTreeMap::new();
        let mut object_parts: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        for c in &batch {
            for e in &c.events {
                let p = (account_partition(e).to_owned(), date_partition(e.event_time));
                if p.0 == QUARANTINE {
                    sum.rows_quarantined += 1;
                }
                object_parts.entry(c.key.clone()).or_default().insert(p.clone());
                by_part.entry(p).or_default().push(e.clone());
            }
        }
        let mut part_names: BTreeMap<(String, String), String> = BTreeMap::new();
        // Parts are independent files: written in parallel (Parquet encoding is the cost).
        let written: Vec<Result<(String, String, String, PartInfo)>> = by_part
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(n, ((account, date), mut rows))| {
                frame::sort_events(&mut rows);
                let rel = format!("account={account}/date={date}/part-{run}-{n}.parquet");
                let bytes = self.write_part(&rel, &rows)?;
                let info = PartInfo {
                    account: account.clone(),
                    date: date.clone(),
                    rows: rows.len() as u64,
                    bytes,
                    min_time: rows.first().map_or(0, |e| e.event_time),
                    max_time: rows.last().map_or(0, |e| e.event_time),
                    classes: class_counts_of(&rows),
                };
                Ok((account, date, rel, info))
            })
            .collect();
        for w in written {
            let (account, date, rel, info) = w?;
            sum.parts_written += 1;
            sum.rows_written += info.rows;
            sum.bytes_written += info.bytes;
            new_parts.insert(rel.clone(), info);
            part_names.insert((account, date), rel);
        }
        crash_point("parts_written");
        // 3. The new manifest.
        let mut m = self.manifest.clone();
        for (old, new) in &renamed {
            m.parts.remove(old);
            for o in m.objects.values_mut() {
                if let Some(i) = o.parts.iter().position(|p| p == old) {
                    match new {
                        Some(n) => o.parts[i] = n.clone(),
                        None => {
                            o.parts.remove(i);
                        }
                    }
                }
            }
        }
        m.parts.extend(new_parts);
        for c in batch {
            let mut info = c.info;
            info.parts = object_parts
                .get(&c.key)
                .into_iter()
                .flatten()
                .filter_map(|p| part_names.get(p).cloned())
                .collect();
            m.objects.insert(c.key, info);
            sum.objects_written += 1;
        }
        for o in m.objects.values_mut() {
            o.parts.sort();
            o.parts.dedup();
        }
        m.runs.push(RunInfo {
            at: format_millis(chrono::Utc::now().timestamp_millis() / 1000 * 1000),
            objects_read: sum.objects_written,
            objects_unchanged: unchanged,
            rows_written: sum.rows_written,
            rows_replaced: sum.rows_replaced,
            rows_quarantined: sum.rows_quarantined,
        });
        let objects_file = format!("objects-{run}.jsonl.gz");
        // Still this collect's store: the commit point is written only under the lock.
        lock.check()?;
        self.write_objects(&objects_file, &m.objects)?;
        let previous_objects = m.objects_file.replace(objects_file);
        m.objects_count = m.objects.len() as u64;
        let old = std::mem::replace(&mut self.manifest, m);
        if let Err(e) = self.write_manifest() {
            self.manifest = old;
            return Err(e);
        }
        crash_point("manifest_written");
        // 4. The parts replaced are no longer listed: delete them (a crash here leaves
        // orphans that the next collect deletes).
        for old in renamed.keys().chain(previous_objects.iter()) {
            let _ = fs::remove_file(self.part_path(old));
        }
        Ok(sum)
    }

    /// Reads the events in `range` (by event time) of the given accounts (all when empty).
    /// A listed part found gone was replaced by a collect that committed meanwhile (it
    /// deletes the parts it replaced once its manifest is written): the new manifest is read
    /// and the read done again, once.
    pub fn read(&self, range: TimeRange, accounts: &[String]) -> Result<(Vec<EventRow>, ReadStats)> {
        match self.read_listed(range, accounts) {
            Err(StoreError::PartMissing { .. }) => Store::open(&self.root)?.read_listed(range, accounts),
            got => got,
        }
    }

    fn read_listed(&self, range: TimeRange, accounts: &[String]) -> Result<(Vec<EventRow>, ReadStats)> {
        let mut st = ReadStats::default();
        let mut out = Vec::new();
        for (rel, p) in &self.manifest.parts {
            st.parts_listed += 1;
            let in_time = range.since.is_none_or(|s| p.max_time >= s) && range.until.is_none_or(|u| p.min_time <= u);
            let in_account = accounts.is_empty() || accounts.contains(&p.account);
            if !(in_time && in_account) {
                st.parts_pruned += 1;
                continue;
            }
            let rows = self.read_part(rel)?;
            st.parts_read += 1;
            st.bytes += p.bytes;
            st.rows += rows.len() as u64;
            for e in rows {
                if range.contains(e.event_time) {
                    st.rows_kept += 1;
                    out.push(e);
                } else {
                    st.rows_outside += 1;
                }
            }
        }
        frame::sort_events(&mut out);
        Ok((out, st))
    }

    /// Rows per class over the whole store (what `collect` reports; DuckDB must agree), from
    /// the counts the manifest keeps per part.
    pub fn class_counts(&self) -> BTreeMap<String, u64> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for p in self.manifest.parts.values() {
            for (c, n) in &p.classes {
                *counts.entry(c.clone()).or_default() += n;
            }
        }
        counts
    }
}

/// Test hook: `MFATRAIL_TEST_CRASH_AT=<point>` stops the process at that point of a commit,
/// as a crash would (the incremental tests interrupt collects with it).
fn crash_point(point: &str) {
    if std::env::var("MFATRAIL_TEST_CRASH_AT").is_ok_and(|p| p == point) {
        std::process::exit(9);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_come_from_validated_values() {
        let mut e = crate::event::tests::ev(0, crate::event::EventClass::MfaFailure, Some("a"), None, None);
        assert_eq!(account_partition(&e), "111122223333");
        for bad in ["../../x", "11112222333", "11112222333a", "", "111122223333/.."] {
            e.recipient_account_id = Some(bad.into());
            e.account_id = Some(bad.into());
            assert_eq!(account_partition(&e), QUARANTINE, "{bad}");
        }
        assert_eq!(date_partition(0), "1970-01-01");
        assert_eq!(date_partition(1_795_000_000_000), "2026-11-18");
        assert_eq!(date_partition(-1), "1969-12-31");
    }

    /// A collected object `uri` with `n` events (one a minute from `from`).
    fn object(uri: &str, from: i64, n: i64, size: u64) -> Collected {
        let events: Vec<EventRow> = (0..n)
            .map(|i| {
                let mut e =
                    crate::event::tests::ev(from + i, crate::event::EventClass::MfaFailure, Some("a"), None, None);
                e.event_id = format!("{uri}-{i}");
                e.source_object = format!("{uri}#{i}");
                e
            })
            .collect();
        Collected {
            key: uri.into(),
            info: ObjectInfo {
                uri: uri.into(),
                size,
                version: None,
                records: n as u64,
                kept: n as u64,
                failure: None,
                parts: Vec::new(),
            },
            events,
        }
    }

    #[test]
    fn a_reader_finds_the_parts_a_concurrent_collect_committed() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Store::create_or_open(dir.path()).unwrap();
        let lock = writer.lock().unwrap();
        writer
            .commit(
                &lock,
                "20261127T100000-1",
                vec![object("/a.json", 0, 3, 10), object("/b.json", 1, 2, 10)],
                0,
            )
            .unwrap();
        // A reader opens the store: its manifest lists the first collect's part.
        let reader = Store::open(dir.path()).unwrap();
        let (before, _) = reader.read(TimeRange::OPEN, &[]).unwrap();
        assert_eq!(before.len(), 5);
        // A collect commits meanwhile: /a.json changed, its part is rewritten and the old one
        // deleted once the new manifest is written.
        writer.load_objects().unwrap();
        writer
            .commit(&lock, "20261127T110000-1", vec![object("/a.json", 0, 1, 11)], 1)
            .unwrap();
        for rel in reader.manifest.parts.keys() {
            assert!(!dir.path().join(rel).exists(), "{rel} replaced");
        }
        // The reader's manifest is stale: it reads the new one once and gets the new rows.
        let (after, st) = reader.read(TimeRange::OPEN, &[]).unwrap();
        assert_eq!(after.len(), 3, "{st:?}");
        assert_eq!(
            after,
            Store::open(dir.path()).unwrap().read(TimeRange::OPEN, &[]).unwrap().0
        );
        // A part deleted by hand is an error naming it, not a silent gap.
        let part = dir
            .path()
            .join(Store::open(dir.path()).unwrap().manifest.parts.keys().next().unwrap());
        fs::remove_file(&part).unwrap();
        match reader.read(TimeRange::OPEN, &[]) {
            Err(e @ StoreError::PartMissing { .. }) => assert!(e.to_string().contains(&part.display().to_string())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_store_is_made_only_in_a_new_or_empty_folder() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new/store");
        assert!(Store::create_or_open(&new).is_ok());
        assert!(Store::is_store(&new));
        let empty = dir.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert!(Store::create_or_open(&empty).is_ok());
        // What a first collect killed before its manifest leaves does not make it foreign.
        let killed = dir.path().join("killed");
        fs::create_dir(&killed).unwrap();
        fs::write(killed.join("manifest.json.tmp"), "{").unwrap();
        assert!(Store::create_or_open(&killed).is_ok());
        let case = dir.path().join("case");
        fs::create_dir(&case).unwrap();
        fs::write(case.join("notes.tmp"), "evidence").unwrap();
        match Store::create_or_open(&case) {
            Err(e @ StoreError::NotEmpty { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("notes.tmp") && msg.contains("new or empty folder"),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }
        // A manifest.json of something else is not a store.
        let other = dir.path().join("other");
        fs::create_dir(&other).unwrap();
        fs::write(other.join(MANIFEST), r#"{"format": "something-else"}"#).unwrap();
        assert!(!Store::is_store(&other));
        match Store::create_or_open(&other) {
            Err(e @ StoreError::NotEmpty { .. }) => assert!(e.to_string().contains("did not write"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(fs::read_dir(&case).unwrap().count(), 1);
        assert_eq!(fs::read_dir(&other).unwrap().count(), 1);
    }

    #[test]
    fn orphans_are_only_files_the_store_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let outside = dir.path().join("outside");
        let mut store = Store::create_or_open(&root).unwrap();
        let lock = store.lock().unwrap();
        store
            .commit(&lock, "20261127T100000-1", vec![object("/a.json", 0, 3, 10)], 0)
            .unwrap();
        let part = store.manifest.parts.keys().next().unwrap().clone();
        let pdir = root.join(&part).parent().unwrap().to_path_buf();
        let put = |p: &Path| {
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"x").unwrap();
        };
        // Left by a crashed collect: removed.
        let orphans = [
            pdir.join("part-20261127T110000-2-0.parquet"),
            pdir.join("part-20261127T110000-2-r0.parquet"),
            pdir.join("part-20261127T110000-2-1.parquet.tmp"),
            root.join("account=_quarantine/date=2026-11-27/part-20261127T110000-2-3.parquet"),
            root.join("objects-20261127T110000-2.jsonl.gz"),
            root.join("objects-20261127T110000-2.jsonl.gz.tmp"),
            root.join("manifest.json.tmp"),
        ];
        // An analyst's files, and names that only look like the store's: kept.
        let kept = [
            root.join("athena-results.parquet"),
            root.join("notes.tmp"),
            root.join("objects-of-interest.txt"),
            root.join("objects-20261127.jsonl.gz"),
            pdir.join("my-query.parquet"),
            pdir.join("part-final.parquet"),
            pdir.join("notes.tmp"),
            root.join("account=evidence/date=2026-11-27/part-20261127T110000-2-0.parquet"),
            root.join("account=111122223333/summary.parquet"),
            outside.join("date=2026-11-27/part-20261127T110000-2-0.parquet"),
            outside.join("part-20261127T110000-2-0.parquet"),
        ];
        for p in orphans.iter().chain(&kept) {
            put(p);
        }
        #[cfg(unix)]
        {
            // Links into the outside: never followed, never deleted.
            std::os::unix::fs::symlink(&outside, root.join("account=222233334444")).unwrap();
            std::os::unix::fs::symlink(
                outside.join("date=2026-11-27"),
                root.join("account=111122223333/date=2026-11-28"),
            )
            .unwrap();
            std::os::unix::fs::symlink(
                outside.join("part-20261127T110000-2-0.parquet"),
                pdir.join("part-20261127T110000-2-9.parquet"),
            )
            .unwrap();
        }
        assert_eq!(store.remove_orphans().unwrap(), orphans.len() as u64);
        for p in &orphans {
            assert!(!p.exists(), "{} left", p.display());
        }
        for p in &kept {
            assert!(p.exists(), "{} deleted", p.display());
        }
        assert!(root.join(&part).exists() && root.join(MANIFEST).exists());
        assert!(root.join(store.manifest.objects_file.as_deref().unwrap()).exists());
        #[cfg(unix)]
        assert!(fs::symlink_metadata(pdir.join("part-20261127T110000-2-9.parquet")).is_ok());
        drop(lock);
    }
}
