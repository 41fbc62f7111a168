//! The bad-input corpus (testdata/bad/, written by scripts/make-bad-corpus.py):
//! every case completes, is counted with a reason, keeps the good records of
//! the same file where the format allows, and the summary accounts for every
//! object and record.

use serde_json::Value;

use crate::util::{finding, run};

const CAP: &str = "1500000"; // the bomb inflates to 3 MB; the 1.2 MB record still fits

fn timeline(path: &str) -> Value {
    let out = run(&[
        "timeline",
        "-u",
        "mallory",
        "-s",
        path,
        "--format",
        "json",
        "-q",
        "--max-file-bytes",
        CAP,
    ]);
    assert_eq!(out.code, 0, "{path}: {}", out.stderr);
    out.json()
}

fn reason(v: &Value, list: &str) -> String {
    v["inputs"][list]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|f| f["reason"].as_str())
        .unwrap_or_else(|| panic!("no entry in {list}: {:#}", v["inputs"]))
        .to_string()
}

fn ids(v: &Value) -> Vec<String> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_case_is_counted_with_a_reason() {
    let b = "testdata/bad/";
    // (file, list the file lands in, words of the reason)
    for (file, list, words) in [
        ("bad-crc.json.gz", "files_failed", "corrupt gzip"),
        ("garbage.json.gz", "files_failed", "not a CloudTrail log"),
        ("empty.json", "files_failed", "empty file"),
        ("bomb.json.gz", "files_failed", "exceeds the cap"),
        ("object-not-cloudtrail.json", "files_failed", "not CloudTrail events"),
        ("number.json", "files_failed", "not a CloudTrail log"),
        ("truncated.json.gz", "files_partial", "truncated gzip"),
    ] {
        let v = timeline(&format!("{b}{file}"));
        assert!(reason(&v, list).contains(words), "{file}: {}", reason(&v, list));
    }
    // Truncated: the complete records before the cut are still evidence.
    assert!(ids(&timeline("testdata/bad/truncated.json.gz")).len() >= 10);
    // Digests, by content or by folder, are skipped and counted.
    assert_eq!(
        timeline("testdata/bad/digest-content.json.gz")["inputs"]["files_skipped_not_events"],
        1
    );
    assert_eq!(timeline("testdata/bad/AWSLogs")["inputs"]["dirs_skipped_not_events"], 1);
    // Empty Records: read, nothing found, nothing failed.
    let v = timeline("testdata/bad/empty-records.json");
    assert_eq!(
        (v["inputs"]["files_read"].as_u64(), v["inputs"]["records"].as_u64()),
        (Some(1), Some(0))
    );
    // A broken NDJSON line costs only itself.
    let v = timeline("testdata/bad/ndjson-broken-line.jsonl");
    assert_eq!(ids(&v), ["bad-03", "bad-05"]);
    assert_eq!(v["inputs"]["records_malformed"], 1);
    assert_eq!(ids(&timeline("testdata/bad/bare-array.json")), ["bad-06", "bad-07"]);
    // Missing, unreadable and far-future times: counted, the good record kept.
    let v = timeline("testdata/bad/time-problems.json");
    assert_eq!(ids(&v), ["bad-11"]);
    assert_eq!(v["inputs"]["records_without_time"], 3);
    let why: Vec<&str> = v["inputs"]["problem_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reason"].as_str().unwrap())
        .collect();
    assert!(
        why.iter().any(|w| w.contains("no eventTime"))
            && why.iter().any(|w| w.contains("unreadable"))
            && why.iter().any(|w| w.contains("far future")),
        "{why:?}"
    );
    // Over 1 MB in one record, 1,000 levels of nesting: parsed.
    assert_eq!(ids(&timeline("testdata/bad/huge-record.json")), ["bad-12"]);
    assert_eq!(ids(&timeline("testdata/bad/deep-nesting.json")), ["bad-13"]);
    // Invalid UTF-8 in one record: that record is malformed, its neighbour kept.
    let v = timeline("testdata/bad/invalid-utf8.json");
    assert_eq!(ids(&v), ["bad-14"]);
    assert_eq!(v["inputs"]["records_malformed"], 1);
}

#[test]
fn policy_that_is_not_json_is_reported_by_d6() {
    let out = run(&[
        "diagnose",
        "-u",
        "mallory",
        "-s",
        "testdata/bad/policy-not-json.json",
        "-s",
        "testdata/bad/bare-array.json",
        "--format",
        "json",
        "-q",
    ]);
    let v = out.json();
    let d6 = finding(&v, "D6").clone();
    let unreadable = d6["metrics"]["unreadable_policy_documents"].as_array().unwrap().clone();
    assert_eq!(unreadable.len(), 1, "{d6:#}");
    assert!(unreadable[0].as_str().unwrap().contains("bad-16"));
}

#[test]
fn summary_accounts_for_every_object_and_record() {
    for strict in [false, true] {
        let mut args = vec![
            "timeline",
            "-u",
            "mallory",
            "-s",
            "testdata/bad",
            "--format",
            "json",
            "-q",
            "--max-file-bytes",
            CAP,
        ];
        if strict {
            args.push("--strict");
        }
        let out = run(&args);
        assert_eq!(out.code, if strict { 3 } else { 0 }, "{}", out.stderr);
        let i = &out.json()["inputs"];
        let n = |k: &str| i[k].as_u64().unwrap_or_else(|| panic!("{k}"));
        let failed = i["files_failed"].as_array().unwrap().len() as u64;
        assert_eq!(
            n("files_listed"),
            n("files_pruned") + n("files_skipped_not_events") + n("files_read") + failed,
            "{i:#}"
        );
        assert_eq!(
            n("records"),
            n("records_kept")
                + n("records_dropped")
                + n("records_outside_window")
                + n("records_malformed")
                + n("records_without_time"),
            "{i:#}"
        );
        assert!(failed >= 6 && n("records_malformed") >= 2 && n("records_without_time") >= 3);
    }
}

#[test]
fn hostile_strings_are_inert_in_text_and_valid_in_json() {
    let src = "testdata/bad/hostile-strings.json";
    for cmd in ["timeline", "diagnose", "scan"] {
        let mut args = vec![cmd, "-s", src, "-q"];
        if cmd != "scan" {
            args.extend(["-u", "mallory"]);
        }
        let out = run(&args);
        for bad in ['\u{1b}', '\u{0}', '\r', '\u{202e}', '\u{200b}'] {
            assert!(!out.stdout.contains(bad), "{cmd}: raw {:?} reached the terminal", bad);
        }
        let json = run(&[args.as_slice(), &["--format", "json"]].concat());
        let v: Value = serde_json::from_str(&json.stdout).unwrap_or_else(|e| panic!("{cmd}: invalid JSON: {e}"));
        assert!(v.is_object());
    }
    let v = timeline(src);
    assert!(
        v["events"][0]["user_agent"].as_str().unwrap().contains("<script>"),
        "JSON keeps the exact text"
    );
}

#[test]
fn bad_flags_are_loud() {
    for (args, needle) in [
        (
            vec![
                "timeline",
                "-u",
                "a",
                "-s",
                "testdata/bad",
                "--since",
                "2026-11-28",
                "--until",
                "2026-11-27",
            ],
            "must not be after --until",
        ),
        (
            vec!["timeline", "-u", "a", "-s", "testdata/bad", "--until", "27/11/2026"],
            "expected RFC 3339",
        ),
        (
            vec!["timeline", "-u", "a", "-s", "testdata/bad", "--format", "xml"],
            "invalid value",
        ),
        (
            vec![
                "diagnose",
                "-u",
                "a",
                "-s",
                "testdata/bad",
                "--delivery-lag",
                "two hours",
            ],
            "expected e.g. 24h",
        ),
        (
            vec![
                "diagnose",
                "-u",
                "a",
                "-s",
                "testdata/bad",
                "--window",
                "48h",
                "--extend-to",
                "24h",
            ],
            "at least --window",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}");
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

#[test]
fn same_answer_whatever_the_file_order() {
    let a = run(&[
        "diagnose",
        "-u",
        "carol",
        "-s",
        "testdata/scenarios/clock_drift",
        "-s",
        "testdata/scenarios/device_deleted",
        "--format",
        "json",
        "-q",
    ]);
    let b = run(&[
        "diagnose",
        "-u",
        "carol",
        "-s",
        "testdata/scenarios/device_deleted",
        "-s",
        "testdata/scenarios/clock_drift",
        "--format",
        "json",
        "-q",
        "--threads",
        "1",
    ]);
    assert_eq!(crate::util::stable(a.json()), crate::util::stable(b.json()));
}
