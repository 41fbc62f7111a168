//! Command-level behaviour: determinism across thread counts, timeline,
//! window pruning, gen.

use crate::util::{run, stable};

#[test]
fn same_report_with_one_or_many_threads() {
    for (user, dir) in [
        ("alice", "testdata/scenarios/device_deleted"),
        ("team-01", "testdata/scenarios/account_wide"),
    ] {
        let one = run(&[
            "diagnose",
            "-u",
            user,
            "-s",
            dir,
            "--format",
            "json",
            "-q",
            "--threads",
            "1",
        ]);
        let many = run(&[
            "diagnose",
            "-u",
            user,
            "-s",
            dir,
            "--format",
            "json",
            "-q",
            "--threads",
            "4",
        ]);
        assert_eq!(stable(one.json()), stable(many.json()), "{dir}");
    }
}

#[test]
fn timeline_shows_what_happened_to_the_user() {
    let out = run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "-q",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "mfa_failure",
        "mfa_required_denied",
        "Inputs",
        "MB/s",
    ] {
        assert!(out.stdout.contains(needle), "{needle} missing:\n{}", out.stdout);
    }
    let j = run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "-q",
        "--format",
        "json",
    ])
    .json();
    let times: Vec<&str> = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_time"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "time order");
}

#[test]
fn since_until_prune_day_folders() {
    let all = run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "-q",
        "--format",
        "json",
    ])
    .json();
    let day = run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "-q",
        "--format",
        "json",
        "--since",
        "2026-11-27",
        "--until",
        "2026-11-27",
        "--delivery-lag",
        "0m",
    ])
    .json();
    assert!(
        day["inputs"]["dirs_pruned"].as_u64().unwrap() > 0,
        "day folders outside the window are not walked"
    );
    assert!(day["inputs"]["files_read"].as_u64() < all["inputs"]["files_read"].as_u64());
    assert!(
        day["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["event_time"].as_str().unwrap().starts_with("2026-11-27"))
    );
    assert!(!day["events"].as_array().unwrap().is_empty());
}

#[test]
fn gen_is_deterministic_and_readable() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        let out = run(&[
            "gen",
            "--out",
            &d.path().to_string_lossy(),
            "--mb",
            "0.5",
            "--seed",
            "9",
            "--scenario",
            "clock_drift",
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let fa = crate::util::files(a.path());
    let fb = crate::util::files(b.path());
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap(), "{}", x.display());
    }
    let r = run(&[
        "diagnose",
        "-u",
        "carol",
        "-s",
        &a.path().to_string_lossy(),
        "--format",
        "json",
        "-q",
    ])
    .json();
    assert_eq!(r["conclusion"]["causes"][0], "D4");
}

#[test]
fn account_filter_restricts_the_analysis() {
    let dir = "testdata/scenarios/device_deleted";
    let all = run(&["diagnose", "-u", "alice", "-s", dir, "--format", "json", "-q"]);
    assert_eq!(all.code, 0);
    let other = run(&[
        "diagnose",
        "-u",
        "alice",
        "-s",
        dir,
        "--format",
        "json",
        "-q",
        "--account",
        "999999999999",
    ]);
    assert_eq!(other.code, 1, "no events of alice in another account");
    assert_eq!(other.json()["baseline"]["failures"], 0);
}

#[test]
fn timeline_names_the_account_and_takes_account() {
    // j.smith exists in prod and in the sandbox: two users. Each line says its account, and
    // --account shows one of them.
    let src = "testdata/rules/d2/same_name_other_account_must_not_fire.json";
    let both = run(&["timeline", "-u", "j.smith", "-s", src, "-q"]);
    assert_eq!(both.code, 0, "{}", both.stderr);
    assert!(
        both.stdout.contains("Several principals have that name"),
        "{}",
        both.stdout
    );
    assert!(both.stdout.contains("111122223333") && both.stdout.contains("444455556666"));
    let one = run(&[
        "timeline",
        "-u",
        "j.smith",
        "--account",
        "444455556666",
        "-s",
        src,
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let r = one.json();
    assert_eq!(r["principals"].as_array().map(Vec::len), Some(1));
    assert_eq!(r["principals"][0]["account"], "444455556666");
    let events = r["events"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|e| e["recipient_account_id"] == "444455556666"),
        "{events:#?}"
    );
}
