//! Real AWS-written samples: every record parses (exact counts from
//! INDEX.md, none malformed), and none of them yields a confirmed cause.

use crate::util::{repo, run};

#[test]
fn every_real_sample_parses_with_exact_counts() {
    let counts = std::fs::read_to_string(repo().join("testdata/real/COUNTS.tsv")).expect("COUNTS.tsv");
    let shared = repo().join("../shared/realdata");
    let mut checked = 0;
    for line in counts.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (dir, file, n): (&str, &str, u64) = (cols[0], cols[1], cols[2].parse().expect("count"));
        let local = repo().join("testdata/real").join(dir).join(file);
        let path = if local.exists() {
            local
        } else {
            shared.join(dir).join(file)
        };
        if !path.exists() {
            // Only the non-Apache samples live outside testdata/, and CI has shared/ beside the clone.
            assert!(
                !dir.starts_with("DataDog") && !dir.starts_with("panther") && !dir.starts_with("flosell"),
                "{dir}/{file} missing"
            );
            continue;
        }
        let p = path.to_string_lossy();
        let out = run(&[
            "timeline",
            "-u",
            "nobody",
            "-s",
            &p,
            "--full-parse",
            "--format",
            "json",
            "-q",
        ]);
        assert_eq!(out.code, 0, "{p}: {}", out.stderr);
        let i = &out.json()["inputs"];
        assert_eq!(i["records"].as_u64(), Some(n), "{p}: record count");
        assert_eq!(i["records_parsed"].as_u64(), Some(n), "{p}: --full-parse parses all");
        assert_eq!(i["records_malformed"].as_u64(), Some(0), "{p}: malformed");
        assert_eq!(i["files_failed"].as_array().map(Vec::len), Some(0), "{p}: failed");
        checked += 1;
    }
    assert!(checked >= 76, "only {checked} files checked");
}

#[test]
fn real_samples_yield_no_confirmed_cause() {
    let mut args = vec!["scan", "-s", "testdata/real", "--format", "json", "-q"];
    let shared = repo().join("../shared/realdata");
    let s = shared.to_string_lossy().into_owned();
    if shared.exists() {
        args.extend(["-s", &s]);
    }
    let out = run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    let users = r["users"].as_array().expect("users");
    assert!(!users.is_empty(), "the samples hold a few MFA failures (doc examples)");
    for u in users {
        assert_eq!(
            u["causes"].as_array().map(Vec::len),
            Some(0),
            "real data must not confirm a cause: {u:#}"
        );
        // And diagnose agrees, user by user.
        let name = u["user"].as_str().unwrap();
        let mut d = vec!["diagnose", "-u", name, "-s", "testdata/real", "--format", "json", "-q"];
        if shared.exists() {
            d.extend(["-s", &s]);
        }
        let out = run(&d);
        assert_eq!(out.code, 1, "{name}: expected no correlation");
    }
}

/// The pre-filter keeps exactly what a full parse keeps.
#[test]
fn prefilter_keeps_what_full_parse_keeps() {
    for src in [
        "testdata/real",
        "testdata/scenarios/clock_drift",
        "testdata/scenarios/managed_policy_version",
    ] {
        let fast = run(&["timeline", "-u", "nobody", "-s", src, "--format", "json", "-q"]).json();
        let full = run(&[
            "timeline",
            "-u",
            "nobody",
            "-s",
            src,
            "--format",
            "json",
            "-q",
            "--full-parse",
        ])
        .json();
        assert_eq!(fast["inputs"]["records_kept"], full["inputs"]["records_kept"], "{src}");
        assert!(
            fast["inputs"]["records_parsed"].as_u64() < full["inputs"]["records_parsed"].as_u64(),
            "{src}"
        );
    }
}
