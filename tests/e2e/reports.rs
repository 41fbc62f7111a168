//! The reports people look at: the HTML report loaded in headless Chromium (no console error,
//! no network request, no script, the marks the data calls for, hostile strings inert, a
//! screenshot under target/browser/), Markdown and CSV pinned as snapshots, CSV formulas
//! neutralised, colour only when asked or on a terminal.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{repo, run};

const MINUTE: i64 = 60_000;

fn millis(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis()
}

/// The marks the charts must draw, counted from the JSON report the same way.
fn expected_marks(r: &Value) -> (usize, usize, usize, usize, usize) {
    let since = millis(r["window"]["since"].as_str().unwrap());
    let until = millis(r["window"]["until"].as_str().unwrap());
    let marks: Vec<(i64, &str)> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (millis(m["time"].as_str().unwrap()), m["kind"].as_str().unwrap()))
        .collect();
    let buckets = |from: i64, width: i64, kinds: &[&str]| {
        let mut b: Vec<i64> = marks
            .iter()
            .filter(|(t, k)| *t >= from && *t <= until && kinds.contains(k))
            .map(|(t, _)| (t - from) / width)
            .collect();
        b.sort_unstable();
        b.dedup();
        b.len()
    };
    let fail = ["failure", "typo", "denial"];
    let failures = buckets(since, 5 * MINUTE, &fail) + buckets(until - 60 * MINUTE, MINUTE, &fail);
    let successes = buckets(since, 5 * MINUTE, &["success"]) + buckets(until - 60 * MINUTE, MINUTE, &["success"]);
    let count = |k: &str| marks.iter().filter(|(_, kind)| *kind == k).count();
    let t0 = r["baseline"]["first_failure"]
        .as_str()
        .map_or(0, |t| 1 + usize::from(millis(t) >= until - 60 * MINUTE));
    (failures, successes, count("device"), count("policy"), t0)
}

fn browser(html: &Path, name: &str, texts: &[&str]) -> Value {
    let shot = repo().join("target/browser").join(format!("{name}.png"));
    let out = Command::new("python3")
        .arg(repo().join("tests/browser/check_html.py"))
        .arg(html)
        .arg(&shot)
        .args(texts)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "headless Chromium (.ci/run installs chromium and websocket-client): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shot.is_file(), "screenshot {}", shot.display());
    serde_json::from_slice(&out.stdout).expect("checker JSON")
}

fn html_case(name: &str, user: &str, source: &str, texts: &[&str]) -> Value {
    let dir = repo().join("target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    let html: PathBuf = dir.join(format!("{name}.html"));
    let out = run(&[
        "diagnose",
        "-u",
        user,
        "-s",
        source,
        "-q",
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert!(out.code <= 1, "{name}: {}", out.stderr);
    let json = run(&["diagnose", "-u", user, "-s", source, "-q", "--format", "json"]).json();
    let b = browser(&html, name, texts);
    assert_eq!(b["console"], Value::Array(vec![]), "{name}: console messages");
    assert_eq!(b["requests"], Value::Array(vec![]), "{name}: network requests");
    assert_eq!(b["scripts"], 0, "{name}: script elements");
    assert_eq!(b["pwned"], false, "{name}: an injected script ran");
    let (failures, successes, devices, policies, t0) = expected_marks(&json);
    let got = |k: &str| b["marks"][k].as_u64().unwrap_or(0) as usize;
    assert_eq!(got("failures"), failures, "{name}: failure bars");
    assert_eq!(got("successes"), successes, "{name}: success bars");
    assert_eq!(got("device"), devices, "{name}: device marks");
    assert_eq!(got("policy"), policies, "{name}: policy marks");
    assert_eq!(got("t0"), t0, "{name}: T0 lines");
    assert_eq!(
        got("extension"),
        usize::from(json["window"]["extended"] == true),
        "{name}: extension band"
    );
    for t in texts {
        assert_eq!(b["text_has"][*t], true, "{name}: text {t:?} shown");
    }
    b
}

#[test]
fn html_reports_in_headless_chromium() {
    if !crate::util::available(
        "html_reports_in_headless_chromium",
        &[
            crate::util::Need::Python,
            crate::util::Need::Module("websocket"),
            crate::util::Need::Chromium,
        ],
    ) {
        return;
    }
    html_case(
        "device_deleted",
        "alice",
        "testdata/scenarios/device_deleted",
        &["D2", "What to do next"],
    );
    html_case("clock_drift", "carol", "testdata/scenarios/clock_drift", &["D4"]);
    html_case(
        "managed_policy_version",
        "dave",
        "testdata/scenarios/managed_policy_version",
        &["D6"],
    );
    html_case("extend_48h", "erin", "testdata/scenarios/extend_48h", &["extended"]);
    // Hostile strings stay text: the script is shown, not run.
    html_case(
        "hostile_strings",
        "mallory",
        "testdata/rules/reports/hostile_strings.json",
        &["<script>window.__mfatrail_pwned=1</script>", "gpj.exe"],
    );
    // scan's page too.
    let dir = repo().join("target/browser");
    let html = dir.join("scan.html");
    let out = run(&[
        "scan",
        "-s",
        "testdata/noisy/account",
        "-s",
        "testdata/noisy/incident",
        "-q",
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let b = browser(&html, "scan", &["tom", "idc.boris"]);
    assert_eq!(b["console"], Value::Array(vec![]));
    assert_eq!(b["requests"], Value::Array(vec![]));
    assert_eq!(b["pwned"], false);
}

#[test]
fn markdown_and_csv_are_pinned() {
    let md = run(&[
        "diagnose",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "-q",
        "--format",
        "markdown",
    ]);
    assert_eq!(md.code, 0);
    insta::assert_snapshot!("diagnose_device_deleted_markdown", md.stdout);
    let csv = run(&[
        "scan",
        "-s",
        "testdata/noisy/account",
        "-s",
        "testdata/noisy/incident",
        "-q",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.code, 0);
    insta::assert_snapshot!("scan_noisy_csv", csv.stdout);
    let tl = run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "-q",
        "--format",
        "csv",
    ]);
    assert_eq!(tl.code, 0);
    insta::assert_snapshot!("timeline_device_deleted_csv", tl.stdout);
}

#[test]
fn csv_neutralises_formulas_and_markdown_escapes() {
    let src = "testdata/rules/reports/hostile_strings.json";
    let csv = run(&["timeline", "-u", "mallory", "-s", src, "-q", "--format", "csv"]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    // Every cell that would start a formula starts with a quote instead.
    for line in csv.stdout.split("\r\n").filter(|l| !l.is_empty()) {
        for cell in line.split(',') {
            let c = cell.trim_start_matches('"');
            assert!(!c.starts_with(['=', '+', '@']), "formula cell {cell:?} in {line:?}");
        }
    }
    assert!(csv.stdout.contains("'=HYPERLINK"), "{}", csv.stdout);
    assert!(csv.stdout.contains("'@SUM"), "{}", csv.stdout);
    assert!(!csv.stdout.contains('\u{1b}'), "terminal escapes");
    let md = run(&["diagnose", "-u", "mallory", "-s", src, "-q", "--format", "markdown"]);
    assert!(md.code <= 1, "{}", md.stderr);
    assert!(!md.stdout.contains("<script>"), "raw HTML in Markdown:\n{}", md.stdout);
    // An event id with a backtick and a newline stays one inline code span on its line.
    assert!(!md.stdout.contains("\n<img"), "a raw line of HTML:\n{}", md.stdout);
    assert!(
        md.stdout.contains("`1c7f'\\n<img src=x onerror=alert(1)>`"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("\\<script\\>"), "{}", md.stdout);
    // Formats a command does not write are refused.
    let out = run(&[
        "diagnose",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "-q",
        "--format",
        "csv",
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("diagnose writes text, json, html, markdown"),
        "{}",
        out.stderr
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let src = "testdata/scenarios/device_deleted";
    let plain = run(&["diagnose", "-u", "alice", "-s", src, "-q"]);
    assert!(!plain.stdout.contains('\u{1b}'), "no colour into a pipe");
    let always = run(&["diagnose", "-u", "alice", "-s", src, "-q", "--color", "always"]);
    assert!(always.stdout.contains("\u{1b}[1;31mCONFIRMED"), "{}", always.stdout);
    // The sparkline of the failure series.
    assert!(plain.stdout.contains("Failures: |"), "{}", plain.stdout);
    let no_color = Command::new(env!("CARGO_BIN_EXE_mfatrail"))
        .args(["diagnose", "-u", "alice", "-s", src, "-q", "--color", "auto"])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&no_color.stdout).contains('\u{1b}'));
}
