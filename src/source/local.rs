//! Local folders and files. Folders are walked with the layout in mind: a
//! year, month or day folder whose key times cannot hold events of the window
//! is not entered, and digest/insight folders are skipped (both counted).

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

/// Lists every object under `roots` that can hold events of `window`.
/// Sorted by path so that runs are reproducible.
pub fn list(roots: &[PathBuf], window: &Window, stats: &mut RunStats) -> Result<Vec<ObjectRef>> {
    let mut out = Vec::new();
    for root in roots {
        let meta = fs::metadata(root).map_err(|e| Error::Source {
            path: root.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            walk(root, window, stats, &mut out);
        } else {
            consider_file(root, &meta, true, window, stats, &mut out);
        }
    }
    out.sort_by(|a, b| a.uri.cmp(&b.uri));
    out.dedup_by(|a, b| a.loc == b.loc);
    Ok(out)
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

fn walk(dir: &Path, window: &Window, stats: &mut RunStats, out: &mut Vec<ObjectRef>) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            stats.dir_failed(dir.to_string_lossy(), format!("cannot list folder: {e}"));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        // Symlinked folders are not followed (no loops); symlinked files are.
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            let name = entry.file_name();
            if name == "CloudTrail-Digest" || name == "CloudTrail-Insight" {
                stats.dirs_skipped_not_events += 1;
                continue;
            }
            if let Some((lo, hi)) = folder_key_range(&path)
                && !window.overlaps_key_times(lo, hi)
            {
                stats.dirs_pruned += 1;
                continue;
            }
            walk(&path, window, stats, out);
        } else {
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => consider_file(&path, &m, false, window, stats, out),
                Ok(_) => {}
                Err(e) => {
                    // Listed (it is there), and failed: a dangling link or a file gone meanwhile.
                    stats.files_listed += 1;
                    stats.fail(path.to_string_lossy(), format!("cannot stat: {e}"));
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
        let objs = list(&[r.to_path_buf()], &w, &mut stats).unwrap();
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
    fn missing_root_is_an_error() {
        let mut stats = RunStats::default();
        let err = list(&[PathBuf::from("/nonexistent/mfatrail")], &Window::open(0), &mut stats);
        assert!(matches!(err, Err(Error::Source { .. })));
    }
}
