//! Local folders and files. Folders are walked with the layout in mind: a
//! year, month or day folder whose key times cannot hold events of the window
//! is not entered, and digest/insight folders are skipped (both counted). A
//! folder holding an event store (`mfatrail collect`) is handed back as a store:
//! its own files are never listed as raw files (counted), anything else in it is.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, TimeZone, Utc};

use super::key::{KeyKind, classify_key, day_start};
use super::{Location, ObjectRef, Window};
use crate::error::{Error, Result};
use crate::stats::RunStats;
use crate::time::{MINUTE, Millis};

/// File names read from folders; a file named on the command line is read whatever its name.
/// Besides logs: query results of `mfatrail sql` (`.parquet`, and Athena's UNLOAD files, named
/// after the query id, `20261129_101500_00042_abcde_<uuid>`, without an extension).
pub fn is_log_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [".json.gz", ".gz", ".json", ".jsonl", ".ndjson", ".parquet"]
        .iter()
        .any(|s| n.ends_with(s))
        || is_query_id_name(&n)
}

/// `YYYYMMDD_HHMMSS_NNNNN_xxxxx_…` with no extension: a Trino/Athena query id leading the name.
fn is_query_id_name(n: &str) -> bool {
    let parts: Vec<&str> = n.splitn(5, '_').collect();
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    parts.len() == 5
        && digits(parts[0], 8)
        && digits(parts[1], 6)
        && digits(parts[2], 5)
        && parts[3].len() == 5
        && parts[3].bytes().all(|b| b.is_ascii_alphanumeric())
        && !parts[4].contains('.')
}

/// The event store's names (DESIGN §8), known at this layer so that a walk tells a store's
/// files from raw ones; `store` deletes only files these names describe.
pub const STORE_MANIFEST: &str = "manifest.json";
pub const STORE_FORMAT: &str = "mfatrail-event-store";
pub const STORE_LOCK: &str = ".lock";

/// Whether `dir` holds an event store: a `manifest.json` that `mfatrail collect` wrote (its
/// first field names the format), not any file of that name.
pub fn is_store_dir(dir: &Path) -> bool {
    use std::io::Read;
    let Ok(f) = fs::File::open(dir.join(STORE_MANIFEST)) else {
        return false;
    };
    let mut head = Vec::with_capacity(256);
    if f.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    head.contains("\"format\"") && head.contains(&format!("\"{STORE_FORMAT}\""))
}

/// A collect's run name: `YYYYMMDDTHHMMSS-<pid>`.
pub fn is_run_name(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| !r.is_empty() && r.iter().all(u8::is_ascii_digit);
    b.len() > 16 && digits(&b[..8]) && b[8] == b'T' && digits(&b[9..15]) && b[15] == b'-' && digits(&b[16..])
}

/// A file an event store writes, by its path relative to the store's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFile {
    Manifest,
    /// `manifest.json.tmp`: a manifest being written.
    ManifestTmp,
    Lock,
    /// `objects-<run>.jsonl.gz[.tmp]`.
    Objects {
        tmp: bool,
    },
    /// `account=<id>/date=<day>/part-<run>-[r]<n>.parquet[.tmp]`.
    Part {
        tmp: bool,
    },
}

/// What `rel` (relative to a store's root, `/`-separated) is, if the store writes it: exactly
/// the names a collect gives its files, nothing that merely looks like them.
pub fn store_file(rel: &str) -> Option<StoreFile> {
    let comps: Vec<&str> = rel.split('/').collect();
    match comps[..] {
        [STORE_MANIFEST] => Some(StoreFile::Manifest),
        ["manifest.json.tmp"] => Some(StoreFile::ManifestTmp),
        [STORE_LOCK] => Some(StoreFile::Lock),
        [name] => {
            let (name, tmp) = strip_tmp(name);
            let run = name.strip_prefix("objects-")?.strip_suffix(".jsonl.gz")?;
            is_run_name(run).then_some(StoreFile::Objects { tmp })
        }
        [account, date, name] => {
            let account = account.strip_prefix("account=")?;
            let ok_account =
                account == "_quarantine" || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
            let date = date.strip_prefix("date=")?.as_bytes();
            let ok_date = date.len() == 10
                && date.iter().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        *b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            let (name, tmp) = strip_tmp(name);
            let rest = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
            let (run, n) = rest.rsplit_once('-')?;
            let n = n.strip_prefix('r').unwrap_or(n);
            let ok_n = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
            (ok_account && ok_date && ok_n && is_run_name(run)).then_some(StoreFile::Part { tmp })
        }
        _ => None,
    }
}

fn strip_tmp(name: &str) -> (&str, bool) {
    match name.strip_suffix(".tmp") {
        Some(n) => (n, true),
        None => (name, false),
    }
}

/// Lists every object under `roots` that can hold events of `window`, and the event stores
/// found on the way (a root or a folder under one; their own files are not listed).
/// Sorted by path so that runs are reproducible.
pub fn list(roots: &[PathBuf], window: &Window, stats: &mut RunStats) -> Result<(Vec<ObjectRef>, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let mut stores = Vec::new();
    for root in roots {
        let meta = fs::metadata(root).map_err(|e| Error::Source {
            path: root.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            let mut walk = Walk {
                window,
                stats: &mut *stats,
                out: &mut out,
                stores: &mut stores,
            };
            walk.dir(root, None);
        } else {
            consider_file(root, &meta, true, window, stats, &mut out);
        }
    }
    out.sort_by(|a, b| a.uri.cmp(&b.uri));
    out.dedup_by(|a, b| a.loc == b.loc);
    Ok((out, stores))
}

fn consider_file(
    path: &Path,
    meta: &fs::Metadata,
    named: bool,
    window: &Window,
    stats: &mut RunStats,
    out: &mut Vec<ObjectRef>,
) {
    let uri = path.to_string_lossy().into_owned();
    // The modification time, to the nanosecond: with the size, it tells a changed file.
    let version = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| format!("mtime:{}.{:09}", d.as_secs(), d.subsec_nanos()));
    out.extend(consider(
        uri,
        Location::File(path.to_path_buf()),
        meta.len(),
        version,
        named,
        window,
        stats,
    ));
}

/// Where a folder sits in the layout, if it is a year, month or day folder of
/// `AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/`: the key times it can hold.
fn folder_key_range(path: &Path) -> Option<(Millis, Millis)> {
    let comps: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let comps: Vec<&str> = comps.iter().map(String::as_str).collect();
    folder_key_range_of(&comps)
}

/// The same from path components (shared with the S3 listing).
pub(crate) fn folder_key_range_of(comps: &[&str]) -> Option<(Millis, Millis)> {
    let i = comps.iter().rposition(|c| *c == "AWSLogs")?;
    let mut rest = &comps[i + 1..];
    if rest.first().is_some_and(|o| o.starts_with("o-")) {
        rest = &rest[1..];
    }
    if rest.len() < 4 || rest[1] != "CloudTrail" {
        return None;
    }
    let date = &rest[3..];
    let ym = |y: &str, m: u32| -> Option<Millis> {
        let d = NaiveDate::from_ymd_opt(y.parse().ok()?, m, 1)?;
        Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?).timestamp_millis())
    };
    match date {
        [y] if y.len() == 4 => {
            let lo = ym(y, 1)?;
            let next = NaiveDate::from_ymd_opt(y.parse::<i32>().ok()? + 1, 1, 1)?;
            let hi = Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0)?).timestamp_millis();
            Some((lo, hi - MINUTE))
        }
        [y, m] if m.len() == 2 => {
            let month: u32 = m.parse().ok()?;
            let lo = ym(y, month)?;
            let first = NaiveDate::from_ymd_opt(y.parse().ok()?, month, 1)?;
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(first.year(), month + 1, 1)?
            };
            let hi = Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0)?).timestamp_millis();
            Some((lo, hi - MINUTE))
        }
        [y, m, d] => {
            let lo = day_start(y, m, d)?;
            Some((lo, lo + 24 * 60 * MINUTE - MINUTE))
        }
        _ => None,
    }
}

/// Decides on one file found under a source: counted, pruned or kept.
/// `named`: given on the command line (read whatever its name).
pub(crate) fn consider(
    uri: String,
    loc: Location,
    size: u64,
    version: Option<String>,
    named: bool,
    window: &Window,
    stats: &mut RunStats,
) -> Option<ObjectRef> {
    let name = uri.rsplit(['/', '\\']).next().unwrap_or("");
    if !named && !is_log_name(name) {
        stats.files_ignored += 1;
        return None;
    }
    stats.files_listed += 1;
    match classify_key(&uri) {
        KeyKind::NotEvents(_) => {
            stats.files_skipped_not_events += 1;
            None
        }
        KeyKind::Log(k) => {
            if let Some((lo, hi)) = k.delivery_range()
                && !window.overlaps_key_times(lo, hi)
            {
                stats.files_pruned += 1;
                return None;
            }
            Some(ObjectRef {
                uri,
                loc,
                size,
                key: Some(k),
                version,
            })
        }
        KeyKind::Other => {
            stats.files_outside_layout += 1;
            Some(ObjectRef {
                uri,
                loc,
                size,
                key: None,
                version,
            })
        }
    }
}

/// One walk of the local roots.
struct Walk<'a> {
    window: &'a Window,
    stats: &'a mut RunStats,
    out: &'a mut Vec<ObjectRef>,
    stores: &'a mut Vec<PathBuf>,
}

impl Walk<'_> {
    /// Walks `dir`; `store` is the root of the event store it is in, if any.
    fn dir<'p>(&mut self, dir: &'p Path, mut store: Option<&'p Path>) {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.stats
                    .dir_failed(dir.to_string_lossy(), format!("cannot list folder: {e}"));
                return;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        // A store's folder: read as a store by the caller, never as raw files. Found from the
        // entries already listed (no extra call per folder of an archive).
        if store.is_none() && entries.iter().any(|e| e.file_name() == STORE_MANIFEST) && is_store_dir(dir) {
            self.stores.push(dir.to_path_buf());
            store = Some(dir);
        }
        for entry in entries {
            let path = entry.path();
            // Symlinked folders are not followed (no loops); symlinked files are.
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                let name = entry.file_name();
                if name == "CloudTrail-Digest" || name == "CloudTrail-Insight" {
                    self.stats.dirs_skipped_not_events += 1;
                    continue;
                }
                if let Some((lo, hi)) = folder_key_range(&path)
                    && !self.window.overlaps_key_times(lo, hi)
                {
                    self.stats.dirs_pruned += 1;
                    continue;
                }
                self.dir(&path, store);
                continue;
            }
            if let Some(root) = store
                && let Ok(rel) = path.strip_prefix(root)
                && store_file(&rel.to_string_lossy().replace('\\', "/")).is_some()
            {
                self.stats.files_in_stores += 1;
                continue;
            }
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => consider_file(&path, &m, false, self.window, self.stats, self.out),
                Ok(_) => {}
                Err(e) => {
                    // Listed (it is there), and failed: a dangling link or a file gone meanwhile.
                    self.stats.files_listed += 1;
                    self.stats.fail(path.to_string_lossy(), format!("cannot stat: {e}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{DayEnd, HOUR, parse_time_arg};

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b"{\"Records\":[]}").unwrap();
    }

    #[test]
    fn walks_only_folders_in_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let base = "AWSLogs/111122223333/CloudTrail/us-east-1";
        touch(
            r,
            &format!("{base}/2026/11/26/111122223333_CloudTrail_us-east-1_20261126T2300Z_aaaaaaaaaaaaaaaa.json.gz"),
        );
        touch(
            r,
            &format!("{base}/2026/11/27/111122223333_CloudTrail_us-east-1_20261127T0000Z_aaaaaaaaaaaaaaaa.json.gz"),
        );
        touch(
            r,
            &format!("{base}/2026/11/27/111122223333_CloudTrail_us-east-1_20261127T1300Z_aaaaaaaaaaaaaaaa.json.gz"),
        );
        touch(
            r,
            &format!("{base}/2026/11/27/111122223333_CloudTrail_us-east-1_20261127T1500Z_aaaaaaaaaaaaaaaa.json.gz"),
        );
        touch(
            r,
            &format!("{base}/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T1200Z_aaaaaaaaaaaaaaaa.json.gz"),
        );
        touch(
            r,
            &format!("{base}/2025/01/01/111122223333_CloudTrail_us-east-1_20250101T1200Z_aaaaaaaaaaaaaaaa.json.gz"),
        );
        touch(
            r,
            "AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2026/10/01/x.json.gz",
        );
        touch(
            r,
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/27/d.json.gz",
        );
        touch(r, "loose/export.json");
        touch(r, "loose/README.txt");
        let w = Window {
            since: Some(parse_time_arg("2026-11-27T00:00:00Z", DayEnd::Start).unwrap()),
            until: Some(parse_time_arg("2026-11-27T12:00:00Z", DayEnd::Start).unwrap()),
            lag: 2 * HOUR,
        };
        let mut stats = RunStats::default();
        let (objs, stores) = list(&[r.to_path_buf()], &w, &mut stats).unwrap();
        assert!(stores.is_empty());
        let names: Vec<_> = objs
            .iter()
            .map(|o| o.uri.rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            vec![
                "111122223333_CloudTrail_us-east-1_20261127T0000Z_aaaaaaaaaaaaaaaa.json.gz",
                "111122223333_CloudTrail_us-east-1_20261127T1300Z_aaaaaaaaaaaaaaaa.json.gz",
                "export.json",
            ]
        );
        // 11/26 day folder is walked (its late files may hold 00:00+ events) but its 23:00 file is pruned;
        // 11/27 15:00 is beyond until+lag.
        assert_eq!(stats.files_pruned, 2);
        // 2025 year, 11/25 day, and o-abc's 2026/10 month are not walked.
        assert_eq!(stats.dirs_pruned, 3);
        assert_eq!(stats.dirs_skipped_not_events, 1);
        assert_eq!(stats.files_ignored, 1);
        assert_eq!(stats.files_outside_layout, 1);
    }

    #[test]
    fn store_names_are_exactly_the_ones_a_collect_writes() {
        let run = "20261127T101500-4242";
        assert!(is_run_name(run));
        for bad in [
            "",
            "20261127T101500",
            "20261127T101500-",
            "2026112xT101500-1",
            "20261127-101500-1",
        ] {
            assert!(!is_run_name(bad), "{bad}");
        }
        let yes = [
            ("manifest.json", StoreFile::Manifest),
            ("manifest.json.tmp", StoreFile::ManifestTmp),
            (".lock", StoreFile::Lock),
            (
                "objects-20261127T101500-4242.jsonl.gz",
                StoreFile::Objects { tmp: false },
            ),
            (
                "objects-20261127T101500-4242.jsonl.gz.tmp",
                StoreFile::Objects { tmp: true },
            ),
            (
                "account=111122223333/date=2026-11-27/part-20261127T101500-4242-0.parquet",
                StoreFile::Part { tmp: false },
            ),
            (
                "account=_quarantine/date=2026-11-27/part-20261127T101500-4242-r12.parquet.tmp",
                StoreFile::Part { tmp: true },
            ),
        ];
        for (rel, kind) in yes {
            assert_eq!(store_file(rel), Some(kind), "{rel}");
        }
        for rel in [
            "results.parquet",
            "notes.tmp",
            "objects-of-interest.jsonl.gz",
            "objects-20261127T101500-4242.json",
            "sub/manifest.json",
            "account=111122223333/date=2026-11-27/results.parquet",
            "account=111122223333/date=2026-11-27/part-x.parquet",
            "account=1111/date=2026-11-27/part-20261127T101500-4242-0.parquet",
            "account=111122223333/date=27-11-2026/part-20261127T101500-4242-0.parquet",
            "account=111122223333/part-20261127T101500-4242-0.parquet",
            "x/account=111122223333/date=2026-11-27/part-20261127T101500-4242-0.parquet",
        ] {
            assert_eq!(store_file(rel), None, "{rel}");
        }
    }

    #[test]
    fn a_store_in_a_source_tree_is_handed_back_not_listed() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        touch(r, "logs/export.json");
        let store = r.join("store");
        fs::create_dir_all(&store).unwrap();
        fs::write(
            store.join(STORE_MANIFEST),
            format!("{{\n  \"format\": \"{STORE_FORMAT}\",\n  \"schema_version\": 1\n}}"),
        )
        .unwrap();
        touch(&store, "objects-20261127T101500-1.jsonl.gz");
        touch(
            &store,
            "account=111122223333/date=2026-11-27/part-20261127T101500-1-0.parquet",
        );
        touch(&store, ".lock");
        // Not the store's: an analyst's file next to it is a raw file like any other.
        touch(&store, "athena/20261129_101500_00042_abcde_0f3a.parquet");
        // A manifest.json of something else is a raw file.
        touch(r, "other/manifest.json");
        let mut stats = RunStats::default();
        let (objs, stores) = list(&[r.to_path_buf()], &Window::open(0), &mut stats).unwrap();
        assert_eq!(stores, vec![store.clone()]);
        let names: Vec<_> = objs
            .iter()
            .map(|o| o.uri.strip_prefix(&*r.to_string_lossy()).unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "/logs/export.json",
                "/other/manifest.json",
                "/store/athena/20261129_101500_00042_abcde_0f3a.parquet"
            ]
        );
        // Its manifest, objects file, part and lock.
        assert_eq!(stats.files_in_stores, 4);
        assert_eq!(stats.files_listed, 3);
        // The store given as the root: the same.
        let mut stats = RunStats::default();
        let (objs, stores) = list(std::slice::from_ref(&store), &Window::open(0), &mut stats).unwrap();
        assert_eq!((objs.len(), stores), (1, vec![store]));
    }

    #[test]
    fn missing_root_is_an_error() {
        let mut stats = RunStats::default();
        let err = list(&[PathBuf::from("/nonexistent/mfatrail")], &Window::open(0), &mut stats);
        assert!(matches!(err, Err(Error::Source { .. })));
    }
}
