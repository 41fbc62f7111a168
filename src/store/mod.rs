//! The event store: the kept events of an archive as Parquet, collected once
//! and read by every later question (DESIGN §8).
//!
//! Layout (hive partitions, so DuckDB, Athena and polars read it as they are):
//! ```text
//! STORE/manifest.json                                   the commit point (schema version, parts, runs)
//! STORE/objects-….jsonl.gz                              every source object read (one JSON line each)
//! STORE/account=111122223333/date=2026-11-20/part-….parquet
//! STORE/account=_quarantine/date=2026-11-20/part-….parquet   rows whose account is not 12 digits
//! STORE/.lock                                           while a collect runs
//! ```
//! Every part holds rows in the frame's schema (`frame::COLUMNS`, `source_object` included).
//! The manifest lists every committed part and names the objects file, which lists every
//! source object read (its size and ETag or mtime, record counts, failures, the parts its rows
//! are in): readers of events never load it, collects do. A collect writes new parts
//! under temporary names, renames them, and writes the manifest last (write, then rename):
//! a run interrupted anywhere leaves the previous manifest, and parts it does not list are
//! deleted by the next collect. Readers read only the parts the manifest lists.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub mod result;

use crate::event::{EventRow, Millis, TimeRange, format_millis};
use crate::frame::{self, COLUMNS};

/// Bumped whenever the columns or their meaning change.
pub const SCHEMA_VERSION: u32 = 1;
pub const FORMAT: &str = "mfatrail-event-store";
pub const MANIFEST: &str = "manifest.json";
pub const LOCK: &str = ".lock";
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
        "{path} is being collected by another run ({holder}); wait for it, or remove {path}/{LOCK} if no collect is running"
    )]
    Locked { path: PathBuf, holder: String },
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

/// Held while a collect runs; removes the lock file when dropped.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether a process with this id runs here (Linux: /proc; elsewhere assume it does).
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

impl Store {
    /// Whether `dir` holds an event store.
    pub fn is_store(dir: &Path) -> bool {
        dir.join(MANIFEST).is_file()
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

    /// Opens the store at `root`, creating an empty one when the folder has none.
    pub fn create_or_open(root: &Path) -> Result<Store> {
        if Store::is_store(root) {
            return Store::open(root);
        }
        fs::create_dir_all(root).map_err(io(root))?;
        let mut s = Store {
            root: root.into(),
            manifest: Manifest::new(),
        };
        s.write_manifest()?;
        Ok(s)
    }

    /// Takes the store's lock (one collect at a time). A lock left by a process that is gone
    /// is taken over.
    pub fn lock(&self) -> Result<Lock> {
        let path = self.root.join(LOCK);
        for _ in 0..2 {
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
                    writeln!(
                        f,
                        "{} {} {}",
                        std::process::id(),
                        host.trim(),
                        format_millis(chrono::Utc::now().timestamp_millis())
                    )
                    .map_err(io(&path))?;
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    let pid = holder.split_whitespace().next().and_then(|p| p.parse::<u32>().ok());
                    match pid {
                        Some(pid) if !alive(pid) => {
                            // The collect that held it is gone: its work is uncommitted, take over.
                            fs::remove_file(&path).map_err(io(&path))?;
                        }
                        _ => {
                            return Err(StoreError::Locked {
                                path: self.root.clone(),
                                holder: format!("pid, host, since: {}", holder.trim()),
                            });
                        }
                    }
                }
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Err(StoreError::Locked {
            path: self.root.clone(),
            holder: "unknown".into(),
        })
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

    /// Deletes files a crashed collect left behind: parts the manifest does not list, and
    /// temporary files. Returns how many.
    pub fn remove_orphans(&self) -> Result<u64> {
        let mut n = 0;
        let mut stack = vec![self.root.clone()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).map_err(io(&d))?.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let rel = p
                    .strip_prefix(&self.root)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                let orphan = (rel.ends_with(".parquet") && !self.manifest.parts.contains_key(&rel))
                    || (rel.starts_with("objects-") && self.manifest.objects_file.as_deref() != Some(rel.as_str()))
                    || rel.ends_with(".tmp") && rel != format!("{MANIFEST}.tmp");
                if orphan || rel == format!("{MANIFEST}.tmp") {
                    fs::remove_file(&p).map_err(io(&p))?;
                    n += 1;
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
        let f = fs::File::open(&path).map_err(io(&path))?;
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

    /// Commits a collect: rows of changed objects are replaced, new rows written, manifest
    /// last. `run` names the new parts (unique per collect).
    pub fn commit(&mut self, run: &str, batch: Vec<Collected>, unchanged: u64) -> Result<CommitSummary> {
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
    pub fn read(&self, range: TimeRange, accounts: &[String]) -> Result<(Vec<EventRow>, ReadStats)> {
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
}
