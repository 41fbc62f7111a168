//! The event store (`mfatrail collect`): the same findings as the raw archive for every
//! scenario; incremental collects (objects added, one changed, collects interrupted at each
//! commit step) end identical to a fresh collect; one collect at a time (hosts compared, stale
//! locks taken over, empty ones after a grace period); another schema version is refused;
//! account values never become paths; a collect never deletes or mixes with files it did not
//! write; a store inside a source folder is read as a store, once, and never collected again;
//! DuckDB reads the store; and `diagnose` without `--until` reads a small share of a long
//! archive.

#![allow(clippy::disallowed_types)] // rewriting a test archive, uncapped is fine

use std::path::{Path, PathBuf};
use std::process::Command;

use mfatrail::event::TimeRange;
use mfatrail::store::Store;
use serde_json::Value;

use crate::scenarios::pinned;
use crate::util::{files, repo, run};

const SCENARIOS: [(&str, &str); 10] = [
    ("device_deleted", "alice"),
    ("group_mfa_no_device", "bob"),
    ("clock_drift", "carol"),
    ("account_wide", "team-01"),
    ("org_multi_account", "org-user-1"),
    ("managed_policy_version", "dave"),
    ("extend_48h", "erin"),
    ("negative_control", "frank"),
    ("late_delivery", "grace"),
    ("two_devices_one_removed", "henry"),
];

fn collect(sources: &[&Path], store: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<String> = vec!["collect".into(), "--store".into(), store.display().to_string()];
    for s in sources {
        args.extend(["--source".into(), s.display().to_string()]);
    }
    args.extend(["--format".into(), "json".into(), "-q".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&argv);
    let v = if out.code == 0 { out.json() } else { Value::Null };
    assert!(out.code == 0 || !out.stderr.is_empty(), "{argv:?}");
    (out.code, v)
}

fn rows(store: &Path) -> Vec<mfatrail::event::EventRow> {
    Store::open(store)
        .expect("store")
        .read(TimeRange::OPEN, &[])
        .expect("read")
        .0
}

#[test]
fn every_scenario_gives_the_same_findings_from_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, user) in SCENARIOS {
        let dir = format!("testdata/scenarios/{name}");
        let store = tmp.path().join(name);
        let (code, c) = collect(&[Path::new(&dir)], &store, &[]);
        assert_eq!(code, 0, "{name}");
        assert!(c["commit"]["rows_written"].as_u64().unwrap() > 0);
        let raw = run(&["diagnose", "-u", user, "-s", &dir, "--format", "json", "-q"]);
        let st = run(&[
            "diagnose",
            "-u",
            user,
            "--store",
            store.to_str().unwrap(),
            "--format",
            "json",
            "-q",
        ]);
        assert_eq!(st.code, raw.code, "{name}: {}", st.stderr);
        assert_eq!(pinned(st.code, &st.json()), pinned(raw.code, &raw.json()), "{name}");
        // No gzip read from a store: its parts are the only inputs.
        let inputs = &st.json()["inputs"];
        assert_eq!(inputs["bytes_decompressed"], 0, "{name}");
        assert_eq!(inputs["stores_read"].as_array().map(Vec::len), Some(1));
        // A store folder given as --source is read as a store too.
        let as_source = run(&[
            "diagnose",
            "-u",
            user,
            "-s",
            store.to_str().unwrap(),
            "--format",
            "json",
            "-q",
        ]);
        assert_eq!(
            pinned(as_source.code, &as_source.json()),
            pinned(raw.code, &raw.json()),
            "{name}"
        );
    }
    // scan and timeline over a store of several scenarios.
    let all = tmp.path().join("all");
    // Relative paths, as the raw runs below name the objects (source_object is compared).
    let dirs: Vec<PathBuf> = SCENARIOS
        .iter()
        .map(|(n, _)| Path::new("testdata/scenarios").join(n))
        .collect();
    let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    assert_eq!(collect(&refs, &all, &[]).0, 0);
    let mut raw_args = vec!["scan", "--format", "json", "-q"];
    let d: Vec<String> = SCENARIOS
        .iter()
        .map(|(n, _)| format!("testdata/scenarios/{n}"))
        .collect();
    for x in &d {
        raw_args.extend(["-s", x.as_str()]);
    }
    let raw = run(&raw_args).json();
    let st = run(&["scan", "--store", all.to_str().unwrap(), "--format", "json", "-q"]).json();
    assert_eq!(raw["users"], st["users"]);
    let raw = run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "--format",
        "json",
        "-q",
    ])
    .json();
    let st = run(&[
        "timeline",
        "-u",
        "alice",
        "--store",
        all.to_str().unwrap(),
        "--format",
        "json",
        "-q",
    ])
    .json();
    assert_eq!(raw["events"], st["events"]);
}

/// Copies a scenario's log files (not the digests) into `to`, keeping the layout.
fn copy_logs(from: &Path, to: &Path) {
    for f in files(from) {
        let rel = f.strip_prefix(from).unwrap();
        if !f.to_string_lossy().ends_with(".json.gz") || rel.to_string_lossy().contains("CloudTrail-Digest") {
            continue;
        }
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dst).unwrap();
    }
}

/// Rewrites one log file with one record fewer (a changed object: size and mtime differ).
fn change_one(arch: &Path, nth: usize) -> PathBuf {
    let f = files(arch)
        .into_iter()
        .filter(|f| f.to_string_lossy().ends_with(".json.gz"))
        .nth(nth)
        .unwrap();
    let raw = std::fs::read(&f).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut text).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let recs = v["Records"].as_array_mut().unwrap();
    recs.pop();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, serde_json::to_string(&v).unwrap().as_bytes()).unwrap();
    std::fs::write(&f, enc.finish().unwrap()).unwrap();
    f
}

fn assert_same_as_fresh(store: &Path, arch: &Path, what: &str) {
    let fresh = tempfile::tempdir().unwrap();
    assert_eq!(collect(&[arch], fresh.path(), &[]).0, 0);
    assert_eq!(
        rows(store),
        rows(fresh.path()),
        "{what}: rows differ from a fresh collect"
    );
    let open = |p: &Path| {
        let mut s = Store::open(p).unwrap();
        s.load_objects().unwrap();
        s.manifest
    };
    let (a, b) = (open(store), open(fresh.path()));
    assert_eq!(a.objects.len(), b.objects.len(), "{what}");
    for (k, o) in &a.objects {
        let f = &b.objects[k];
        assert_eq!((o.size, o.records, o.kept), (f.size, f.records, f.kept), "{what}: {k}");
    }
    // Every file on disk is a part the manifest lists (or the manifest itself).
    for f in files(store) {
        let rel = f.strip_prefix(store).unwrap().to_string_lossy().replace('\\', "/");
        assert!(
            rel == "manifest.json" || a.parts.contains_key(&rel) || a.objects_file.as_deref() == Some(rel.as_str()),
            "{what}: stray file {rel}"
        );
    }
}

#[test]
fn incremental_collects_end_like_a_fresh_one() {
    let tmp = tempfile::tempdir().unwrap();
    let arch = tmp.path().join("archive");
    copy_logs(&repo().join("testdata/scenarios/device_deleted"), &arch);
    let store = tmp.path().join("store");
    // Part of the archive first, then all of it: only the rest is read.
    let (_, first) = collect(&[&arch], &store, &["--until", "2026-11-26"]);
    let (_, second) = collect(&[&arch], &store, &[]);
    assert!(first["objects_read"].as_u64().unwrap() > 0);
    assert_eq!(
        second["objects_unchanged"].as_u64().unwrap(),
        first["objects_read"].as_u64().unwrap(),
        "{second:#}"
    );
    assert_same_as_fresh(&store, &arch, "partial then whole");
    // Nothing new: nothing read.
    let (_, again) = collect(&[&arch], &store, &[]);
    assert_eq!(again["objects_read"], 0);
    // New objects (another account's logs) are added.
    copy_logs(&repo().join("testdata/scenarios/clock_drift"), &arch);
    let (_, added) = collect(&[&arch], &store, &[]);
    assert!(added["objects_read"].as_u64().unwrap() > 0);
    assert_same_as_fresh(&store, &arch, "objects added");
    // A changed object replaces its rows, never duplicates them.
    change_one(&arch, 3);
    let (_, changed) = collect(&[&arch], &store, &[]);
    assert_eq!(changed["objects_read"], 1, "{changed:#}");
    assert_same_as_fresh(&store, &arch, "one object changed");
    // Collects killed at each step of the commit leave a readable store; the next collect
    // finishes the job.
    for (k, point) in ["parts_written", "manifest_written"].iter().enumerate() {
        let before = rows(&store);
        change_one(&arch, 5 + k);
        let out = Command::new(env!("CARGO_BIN_EXE_mfatrail"))
            .args([
                "collect",
                "--store",
                store.to_str().unwrap(),
                "--source",
                arch.to_str().unwrap(),
                "-q",
            ])
            .env("MFATRAIL_TEST_CRASH_AT", point)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(9),
            "{point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let after = rows(&store);
        if *point == "parts_written" {
            assert_eq!(after, before, "{point}: the previous commit is what readers see");
        }
        // The lock of the killed collect is taken over (its process is gone).
        let (code, resumed) = collect(&[&arch], &store, &[]);
        assert_eq!(code, 0, "{point}");
        assert!(resumed["orphans_removed"].as_u64().unwrap() > 0, "{point}: {resumed:#}");
        assert_same_as_fresh(&store, &arch, point);
    }
}

/// This host's name, as collect records it in the lock.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("Linux")
        .trim()
        .to_string()
}

#[test]
fn one_collect_at_a_time_and_one_schema_version() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let src = repo().join("testdata/scenarios/device_deleted");
    assert_eq!(collect(&[&src], &store, &[]).0, 0);
    let lock = store.join(".lock");
    let collect_again = || {
        run(&[
            "collect",
            "--store",
            store.to_str().unwrap(),
            "-s",
            src.to_str().unwrap(),
            "-q",
        ])
    };
    let host = hostname();
    // A live collect on this host holds the lock (this test process stands for it).
    std::fs::write(&lock, format!("{} {host} 2026-11-29T08:00:00Z\n", std::process::id())).unwrap();
    let out = collect_again();
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("being collected by another run"), "{}", out.stderr);
    // Another host's lock is never taken over, whatever its pid means here: the error names
    // the host and how to remove the lock if no collect runs there.
    let theirs = "4194303 analysis-vm-2 2026-11-29T08:00:00Z\n";
    std::fs::write(&lock, theirs).unwrap();
    let out = collect_again();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("on host analysis-vm-2")
            && out.stderr.contains("never taken over")
            && out.stderr.contains(&format!("remove {}", lock.display())),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), theirs);
    // An empty lock: a collect taking it right now, until it is older than the grace period
    // (then a collect that crashed between the create and the write).
    std::fs::write(&lock, "").unwrap();
    let out = collect_again();
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("try again in a few seconds"), "{}", out.stderr);
    let f = std::fs::File::options().write(true).open(&lock).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(600))
        .unwrap();
    drop(f);
    assert_eq!(collect(&[&src], &store, &[]).0, 0);
    assert!(!lock.exists());
    // A lock of this host whose process is gone is taken over.
    std::fs::write(&lock, format!("4194303 {host} 2026-11-29T08:00:00Z\n")).unwrap();
    assert_eq!(collect(&[&src], &store, &[]).0, 0);
    assert!(!lock.exists());
    // Another schema version: a clear error saying what to do.
    let m = store.join("manifest.json");
    let text = std::fs::read_to_string(&m)
        .unwrap()
        .replace("\"schema_version\": 1", "\"schema_version\": 99");
    std::fs::write(&m, text).unwrap();
    let out = run(&["diagnose", "-u", "alice", "--store", store.to_str().unwrap(), "-q"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("schema version 99") && out.stderr.contains("collect again"),
        "{}",
        out.stderr
    );
}

#[test]
fn crafted_accounts_never_become_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("evil.json");
    std::fs::write(
        &src,
        r#"{"Records":[{"eventTime":"2026-11-27T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","eventID":"evil-1","userIdentity":{"type":"IAMUser","userName":"mallory","accountId":"../../x"},"recipientAccountId":"../../x","requestParameters":{"serialNumber":"arn:aws:iam::1:mfa/m"},"errorCode":"AccessDenied","errorMessage":"MultiFactorAuthentication failed with invalid MFA one time pass code. "}]}"#,
    )
    .unwrap();
    let store = tmp.path().join("deep/store");
    let (code, c) = collect(&[&src], &store, &[]);
    assert_eq!(code, 0);
    assert_eq!(c["commit"]["rows_quarantined"], 1, "{c:#}");
    let parts: Vec<PathBuf> = files(&store)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|x| x == "parquet"))
        .collect();
    assert_eq!(parts.len(), 1);
    assert!(parts[0].starts_with(store.join("account=_quarantine")), "{parts:?}");
    // Nothing was written outside the store.
    let outside: Vec<PathBuf> = files(tmp.path())
        .into_iter()
        .filter(|f| !f.starts_with(&store) && *f != src)
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
}

#[test]
fn duckdb_reads_the_store_as_mfatrail_counts_it() {
    if !crate::util::available(
        "duckdb_reads_the_store_as_mfatrail_counts_it",
        &[crate::util::Need::Python, crate::util::Need::Module("duckdb")],
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let srcs: Vec<PathBuf> = ["device_deleted", "managed_policy_version"]
        .iter()
        .map(|n| repo().join("testdata/scenarios").join(n))
        .collect();
    let refs: Vec<&Path> = srcs.iter().map(PathBuf::as_path).collect();
    let (_, c) = collect(&refs, &store, &[]);
    // Exactly the query of the README.
    let query = format!(
        "SELECT class, count(*) FROM read_parquet('{}/**/*.parquet', hive_partitioning=true) GROUP BY 1 ORDER BY 1",
        store.display()
    );
    let out = Command::new("python3")
        .args([
            "-c",
            &format!("import duckdb, json\nprint(json.dumps(duckdb.sql({query:?}).fetchall()))"),
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "DuckDB (pip install duckdb; .ci/run installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<(String, u64)> = serde_json::from_slice(&out.stdout).unwrap();
    let want: Vec<(String, u64)> = c["classes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn diagnose_without_until_reads_a_small_share_of_a_month() {
    let tmp = tempfile::tempdir().unwrap();
    let arch = tmp.path().join("month");
    let made = run(&[
        "gen",
        "--out",
        arch.to_str().unwrap(),
        "--mb",
        "300",
        "--hours",
        "720",
        "--since",
        "2026-10-28",
        "--scenario",
        "device_deleted",
        "--seed",
        "5",
    ]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let a = arch.to_str().unwrap();
    let phased = run(&["diagnose", "-u", "alice", "-s", a, "--format", "json", "-q"]).json();
    let i = &phased["inputs"];
    let (listed, read) = (i["files_listed"].as_u64().unwrap(), i["files_read"].as_u64().unwrap());
    assert!(read * 10 <= listed, "read {read} of {listed} objects");
    let phases = i["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2);
    assert_eq!(
        phases.iter().map(|p| p["objects_read"].as_u64().unwrap()).sum::<u64>(),
        read
    );
    // The same findings as with --until given.
    let until = phased["window"]["until"].as_str().unwrap().to_string();
    let given = run(&[
        "diagnose", "-u", "alice", "-s", a, "--until", &until, "--format", "json", "-q",
    ])
    .json();
    assert_eq!(pinned(0, &phased)["findings"], pinned(0, &given)["findings"]);
    assert_eq!(phased["conclusion"]["causes"][0], "D2");
}

/// Puts a small file at `p`, making its folders.
fn put(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn collect_touches_only_its_own_files() {
    let tmp = tempfile::tempdir().unwrap();
    let arch = tmp.path().join("archive");
    copy_logs(&repo().join("testdata/scenarios/device_deleted"), &arch);
    let outside = tmp.path().join("outside");
    put(&outside.join("evidence.parquet"), "kept elsewhere");
    put(
        &outside.join("date=2026-11-27/part-20261127T100000-1-0.parquet"),
        "looks like a part",
    );
    // An analyst's case folder: Athena results, notes, a file named like the store's, a link.
    let case = tmp.path().join("inc-42");
    let theirs = [
        case.join("20261129_101500_00042_abcde_results.parquet"),
        case.join("notes.tmp"),
        case.join("objects-of-interest.csv"),
    ];
    for f in &theirs {
        put(f, "the analyst's");
    }
    std::os::unix::fs::symlink(&outside, case.join("linked")).unwrap();
    let out = run(&[
        "collect",
        "--store",
        case.to_str().unwrap(),
        "-s",
        arch.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains(&case.display().to_string())
            && out.stderr.contains("not empty")
            && out.stderr.contains("new or empty folder")
            && out.stderr.contains("--store"),
        "{}",
        out.stderr
    );
    for f in &theirs {
        assert_eq!(std::fs::read_to_string(f).unwrap(), "the analyst's");
    }
    assert!(!case.join("manifest.json").exists());
    assert_eq!(std::fs::read_dir(&case).unwrap().count(), 4);

    // A store, with an analyst's files put into it afterwards, and links out of it.
    let store = tmp.path().join("store");
    assert_eq!(collect(&[&arch], &store, &[]).0, 0);
    let part = Store::open(&store)
        .unwrap()
        .manifest
        .parts
        .keys()
        .next()
        .unwrap()
        .clone();
    let pdir = store.join(&part).parent().unwrap().to_path_buf();
    let theirs = [
        store.join("athena-results.parquet"),
        store.join("notes.tmp"),
        store.join("objects-of-interest.csv"),
        store.join("objects-20261127.jsonl.gz"),
        pdir.join("my-query.parquet"),
        pdir.join("notes.tmp"),
        pdir.join("part-final.parquet"),
    ];
    for f in &theirs {
        put(f, "the analyst's");
    }
    let links = [
        (outside.clone(), store.join("account=999999999999")),
        (outside.clone(), store.join("evidence")),
        (outside.join("evidence.parquet"), store.join("evidence.parquet")),
        (
            outside.join("date=2026-11-27/part-20261127T100000-1-0.parquet"),
            pdir.join("part-20261127T100000-1-7.parquet"),
        ),
    ];
    for (to, at) in &links {
        std::os::unix::fs::symlink(to, at).unwrap();
    }
    // A collect killed after its parts, then one that finishes its job: the leftovers of the
    // killed one are deleted, nothing else.
    change_one(&arch, 2);
    let killed = Command::new(env!("CARGO_BIN_EXE_mfatrail"))
        .args([
            "collect",
            "--store",
            store.to_str().unwrap(),
            "--source",
            arch.to_str().unwrap(),
            "-q",
        ])
        .env("MFATRAIL_TEST_CRASH_AT", "parts_written")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), Some(9));
    let (code, resumed) = collect(&[&arch], &store, &[]);
    assert_eq!(code, 0);
    assert!(resumed["orphans_removed"].as_u64().unwrap() > 0, "{resumed:#}");
    for f in &theirs {
        assert_eq!(std::fs::read_to_string(f).unwrap(), "the analyst's", "{}", f.display());
    }
    for (to, at) in &links {
        assert!(
            std::fs::symlink_metadata(at).is_ok_and(|m| m.file_type().is_symlink()),
            "{}",
            at.display()
        );
        assert!(to.exists(), "{}", to.display());
    }
    assert_eq!(
        std::fs::read_to_string(outside.join("evidence.parquet")).unwrap(),
        "kept elsewhere"
    );
    // And the store is what a fresh collect makes.
    let fresh = tempfile::tempdir().unwrap();
    assert_eq!(collect(&[&arch], fresh.path(), &[]).0, 0);
    assert_eq!(rows(&store), rows(fresh.path()));
}

#[test]
fn a_store_inside_a_source_folder_is_read_as_a_store_and_never_collected() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("inc-42");
    copy_logs(&repo().join("testdata/scenarios/device_deleted"), &case.join("logs"));
    let logs = files(&case.join("logs")).len() as u64;
    // `collect --source . --store ./store`, from the case folder: its own store is not read.
    let collect_here = || {
        let o = Command::new(env!("CARGO_BIN_EXE_mfatrail"))
            .args([
                "collect", "--source", ".", "--store", "./store", "--format", "json", "-q",
            ])
            .current_dir(&case)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let first = collect_here();
    assert_eq!(first["objects_read"], logs, "{first:#}");
    assert_eq!(first["inputs"]["stores_skipped"], serde_json::json!(["./store"]));
    assert_eq!(first["inputs"]["files_failed"].as_array().map(Vec::len), Some(0));
    for _ in 0..2 {
        let again = collect_here();
        assert_eq!(again["objects_read"], 0, "{again:#}");
        assert_eq!(again["objects_unchanged"], logs);
        assert!(again["inputs"]["files_in_stores"].as_u64().unwrap() >= 3, "{again:#}");
    }
    let store = case.join("store");
    let mut s = Store::open(&store).unwrap();
    s.load_objects().unwrap();
    assert_eq!(s.manifest.objects.len() as u64, logs);
    assert!(
        s.manifest.objects.keys().all(|k| k.contains("/logs/")),
        "{:?}",
        s.manifest.objects.keys()
    );
    // The text summary names the store skipped.
    let o = Command::new(env!("CARGO_BIN_EXE_mfatrail"))
        .args(["collect", "--source", ".", "--store", "./store", "-q"])
        .current_dir(&case)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("skipped: 1 event store folder(s) inside the sources"),
        "{text}"
    );

    // Reading the case folder: the store is read as a store (its manifest and parts are no raw
    // files), its events once; the findings are those of the logs.
    let c = case.to_str().unwrap();
    let l = case.join("logs");
    let raw = run(&[
        "diagnose",
        "-u",
        "alice",
        "-s",
        l.to_str().unwrap(),
        "--format",
        "json",
        "-q",
    ]);
    let both = run(&["diagnose", "-u", "alice", "-s", c, "--format", "json", "-q"]);
    assert_eq!(pinned(both.code, &both.json()), pinned(raw.code, &raw.json()));
    let i = &both.json()["inputs"];
    assert_eq!(
        i["stores_read"],
        serde_json::json!([store.display().to_string()]),
        "{i:#}"
    );
    assert_eq!(i["files_failed"].as_array().map(Vec::len), Some(0), "{i:#}");
    let on_disk = files(&store).len() as u64;
    assert_eq!(i["files_in_stores"], on_disk, "{i:#}");
    let text = run(&["diagnose", "-u", "alice", "-s", c]).stdout;
    assert!(
        text.contains(&format!("stores:  {on_disk} files of event stores inside the sources")),
        "{text}"
    );
    let n = |k: &str| i[k].as_u64().unwrap();
    assert_eq!(
        n("files_listed"),
        n("files_pruned")
            + n("files_skipped_not_events")
            + n("files_unchanged")
            + n("files_read")
            + i["files_failed"].as_array().unwrap().len() as u64,
        "{i:#}"
    );
    let ids = |v: &Value| {
        let mut ids: Vec<String> = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let raw = run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        l.to_str().unwrap(),
        "--format",
        "json",
        "-q",
    ])
    .json();
    let both = run(&["timeline", "-u", "alice", "-s", c, "--format", "json", "-q"]).json();
    assert_eq!(ids(&both), ids(&raw));
    assert!(
        both["inputs"]["records_duplicate"].as_u64().unwrap() > 0,
        "the store's copies, dropped"
    );
}
