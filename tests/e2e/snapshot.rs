//! The IAM snapshot (`--iam-snapshot`): Playbook 5 and 7 offline. The cases of
//! `testdata/snapshot/` (written by `scripts/make-snapshot-fixtures.py`) have the MFA
//! requirement and the devices predate the logs: without the snapshot the verdicts must stay
//! inconclusive (and say the snapshot would help), with it they decide, with `snapshot`
//! evidence; bad snapshot files stop the run with exit 2; `policy-lint` gates CI.

use serde_json::Value;

use crate::scenarios::status;
use crate::util::{finding, run};

const DIR: &str = "testdata/snapshot";

/// `diagnose --format json` of the case, with its snapshot files or without.
fn diagnose(case: &str, user: &str, with_snapshot: bool) -> (i32, Value) {
    let logs = format!("{DIR}/{case}/logs.json");
    let mut args = vec![
        "diagnose".to_owned(),
        "--user".into(),
        user.into(),
        "--source".into(),
        logs,
        "--format".into(),
        "json".into(),
        "-q".into(),
    ];
    if with_snapshot {
        for f in ["iam-auth.json", "virtual.json", &format!("mfa-{user}.json")] {
            args.push("--iam-snapshot".into());
            args.push(format!("{DIR}/{case}/{f}"));
        }
    }
    let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.code != 2, "{case}: {}", o.stderr);
    (o.code, o.json())
}

fn sources(f: &Value) -> Vec<&str> {
    f["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["source"].as_str())
        .collect()
}

#[test]
fn requirement_and_missing_device_before_the_logs_confirm_only_with_the_snapshot() {
    let case = "requirement_and_no_device_predate_logs";
    let (code, without) = diagnose(case, "dave", false);
    assert_eq!(code, 1);
    assert_eq!(status(&without, "D3"), "inconclusive");
    assert!(
        finding(&without, "D3")["summary"]
            .as_str()
            .unwrap()
            .contains("--iam-snapshot")
    );
    assert!(without.get("iam_snapshot").is_none());
    assert!(
        without["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "P5")
    );

    let (code, with) = diagnose(case, "dave", true);
    assert_eq!(code, 0);
    assert_eq!(with["conclusion"]["causes"], serde_json::json!(["D3"]));
    let d3 = finding(&with, "D3");
    assert_eq!(d3["status"], "confirmed");
    assert!(
        sources(d3).iter().all(|s| *s == "snapshot") && !sources(d3).is_empty(),
        "{d3:#}"
    );
    assert!(
        d3["summary"]
            .as_str()
            .unwrap()
            .contains("inline policy RequireMFA of group Humans (IAM snapshot)")
    );
    assert_eq!(status(&with, "P5"), "confirmed");
    assert_eq!(finding(&with, "P5")["metrics"]["requirements"][0]["source"], "snapshot");
    assert_eq!(status(&with, "P7"), "ruled_out");
    assert_eq!(with["iam_snapshot"]["replayed_to_t0"], true);
}

#[test]
fn a_device_enabled_before_the_logs_rules_out_no_device() {
    let case = "device_predates_logs_must_not_fire";
    let (_, without) = diagnose(case, "fay", false);
    assert_eq!(status(&without, "D3"), "inconclusive");
    let (code, with) = diagnose(case, "fay", true);
    assert_eq!(status(&with, "D3"), "ruled_out");
    assert_eq!(sources(finding(&with, "D3")), ["snapshot"]);
    // With the device known active, three "invalid MFA one time pass code" in one episode are
    // drift (DESIGN §6 D4); without the snapshot the device state is unknown and D4 cannot say.
    assert_eq!(code, 0);
    assert_eq!(status(&with, "D4"), "confirmed");
    assert_ne!(status(&without, "D4"), "confirmed");
    let p7 = finding(&with, "P7");
    assert_eq!(p7["status"], "confirmed");
    assert_eq!(p7["metrics"]["devices"][0]["state_at_t0"], "active");
    assert_eq!(p7["metrics"]["devices"][0]["enabled"], "2025-06-02T14:11:00Z");
}

#[test]
fn a_device_the_logs_deleted_but_the_snapshot_lists_is_named() {
    let (_, with) = diagnose("deleted_device_still_listed", "gus", true);
    let contradictions = with["iam_snapshot"]["contradictions"].as_array().unwrap();
    assert_eq!(contradictions.len(), 1, "{with:#}");
    assert!(
        contradictions[0]
            .as_str()
            .unwrap()
            .contains("mfa/gus is deleted in the logs")
    );
    let p7 = finding(&with, "P7");
    assert!(p7["summary"].as_str().unwrap().contains("disagree"));
    assert_eq!(
        p7["metrics"]["devices"][0]["state_at_t0"], "deleted",
        "the logs decide at T0"
    );
    // Its URL-encoded documents (a Go collector) were read: the requirement is there.
    assert_eq!(status(&with, "P5"), "confirmed");
}

#[test]
fn a_snapshot_of_another_account_is_named_and_not_used() {
    let (_, with) = diagnose("other_account_snapshot", "dave", true);
    let other = with["iam_snapshot"]["other_accounts"].as_str().unwrap();
    assert!(
        other.contains("444455556666") && other.contains("111122223333"),
        "{other}"
    );
    assert_eq!(status(&with, "P5"), "not_evaluable");
    assert_eq!(status(&with, "P7"), "not_evaluable");
    assert_eq!(status(&with, "D3"), "inconclusive");
}

/// `diagnose` of dave on a case's logs with one snapshot file.
fn with_snapshot_file(file: &std::path::Path, extra: &[&str]) -> crate::util::Out {
    let f = file.to_string_lossy();
    let mut args = vec![
        "diagnose",
        "--user",
        "dave",
        "--source",
        "testdata/snapshot/other_account_snapshot/logs.json",
        "--iam-snapshot",
        &f,
        "-q",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn bad_snapshot_files_stop_the_run_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("yaml.json", "UserDetailList:\n- UserName: dave\n", "--output json"),
        (
            "list-users.json",
            r#"{"Users": [{"UserName": "dave"}]}"#,
            "not the output of",
        ),
        ("cut.json", r#"{"UserDetailList": [{"UserName": "da"#, "truncated JSON"),
        ("empty.json", "", "empty file"),
    ];
    for (name, text, want) in cases {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        let o = with_snapshot_file(&p, &[]);
        assert_eq!(o.code, 2, "{name}: {}", o.stderr);
        assert!(
            o.stderr.contains(want) && o.stderr.contains(name),
            "{name}: {}",
            o.stderr
        );
        assert_eq!(o.stderr.trim().lines().count(), 1, "{name}: {}", o.stderr);
        assert!(o.stdout.is_empty());
    }
    // A raw page (IsTruncated) is used, with a warning in the report and on stderr.
    let page = tmp.path().join("page.json");
    std::fs::write(
        &page,
        r#"{"VirtualMFADevices": [], "IsTruncated": true, "Marker": "abc"}"#,
    )
    .unwrap();
    let o = with_snapshot_file(&page, &["--format", "json"]);
    assert_ne!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("incomplete"));
    assert!(
        o.json()["iam_snapshot"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("incomplete")
    );
}

#[test]
fn scan_and_timeline_take_the_snapshot() {
    let case = "requirement_and_no_device_predate_logs";
    let snap: Vec<String> = ["iam-auth.json", "virtual.json", "mfa-dave.json"]
        .iter()
        .flat_map(|f| ["--iam-snapshot".to_owned(), format!("{DIR}/{case}/{f}")])
        .collect();
    let logs = format!("{DIR}/{case}/logs.json");
    let mut scan = vec!["scan", "--source", &logs, "--format", "json", "-q"];
    scan.extend(snap.iter().map(String::as_str));
    let r = run(&scan).json();
    let dave = r["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == "dave")
        .unwrap();
    // scan asks about everyone: an empty list-mfa-devices names nobody, so it does not prove
    // that dave has no device (diagnose --user dave takes it to be his).
    assert_eq!(dave["top_cause"], Value::Null, "{dave:#}");
    let mut tl = vec!["timeline", "-u", "dave", "--source", &logs, "--format", "json", "-q"];
    tl.extend(snap.iter().map(String::as_str));
    let t = run(&tl).json();
    assert_eq!(
        t["iam_snapshot"]["requirements"],
        serde_json::json!(["inline policy RequireMFA of group Humans (IAM snapshot)"])
    );
}

#[test]
fn policy_lint_exits_0_clean_1_findings_2_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean.json");
    std::fs::write(
        &clean,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:GetUser","iam:ListMFADevices","iam:ListVirtualMFADevices","iam:ResyncMFADevice","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
    )
    .unwrap();
    let bad = tmp.path().join("bool.json");
    // Bool (not BoolIfExists) with "false" on everything: misses long-term keys, and locks a
    // user without a device out of enabling one.
    std::fs::write(
        &bad,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyNoMfa","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
    )
    .unwrap();
    let age = tmp.path().join("age.json");
    std::fs::write(
        &age,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Fresh","Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}}]}"#,
    )
    .unwrap();
    let (c, b, a) = (
        clean.to_string_lossy().into_owned(),
        bad.to_string_lossy().into_owned(),
        age.to_string_lossy().into_owned(),
    );
    assert_eq!(run(&["policy-lint", &c]).code, 0);
    let o = run(&["policy-lint", &c, &b, &a, "--format", "json"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let r = o.json();
    assert_eq!(r["documents"], 3);
    let ids: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            d["pitfalls"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        ids,
        [
            "bool_never_applies_to_long_term_keys",
            "locks_out_self_service",
            "age_without_null_guard"
        ]
    );
    assert!(
        r["results"][1]["pitfalls"][0]["statement_text"]
            .as_str()
            .unwrap()
            .contains("DenyNoMfa")
    );
    // Not a policy document, and a bad snapshot: exit 2.
    assert_eq!(
        run(&["policy-lint", "testdata/snapshot/other_account_snapshot/logs.json"]).code,
        2
    );
    assert_eq!(run(&["policy-lint", "--iam-snapshot", &c]).code, 2);
    // One odd document among good ones: each good one is still checked, the odd one is named,
    // and the exit code says 2 at the end.
    let broken = tmp.path().join("broken.json");
    std::fs::write(&broken, r#"{"Version":"2012-10-17","Statement":"#).unwrap();
    let missing = tmp.path().join("missing.json");
    let o = run(&[
        "policy-lint",
        &b,
        &broken.to_string_lossy(),
        &missing.to_string_lossy(),
        &a,
        "--format",
        "json",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let r = o.json();
    assert_eq!((r["documents"].as_u64(), r["errors"].as_u64()), (Some(4), Some(2)));
    assert_eq!(r["findings"], 3, "the two good documents were checked");
    assert!(r["results"][1]["error"].as_str().unwrap().contains("not JSON"), "{r:#}");
    assert!(
        r["results"][2]["error"].as_str().unwrap().contains("cannot read"),
        "{r:#}"
    );
    let text = run(&["policy-lint", &b, &broken.to_string_lossy()]);
    assert_eq!(text.code, 2);
    assert!(text.stdout.contains("NOT CHECKED"), "{}", text.stdout);
    assert!(
        text.stdout.contains("2 document(s), 2 pitfall(s), 1 not checked"),
        "{}",
        text.stdout
    );
    // Every document of a snapshot (URL-encoded ones included).
    let o = run(&[
        "policy-lint",
        "--iam-snapshot",
        "testdata/snapshot/deleted_device_still_listed/iam-auth.json",
        "--format",
        "json",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["results"][0]["requires_mfa"], true);
}

#[test]
fn every_report_format_names_the_snapshot_and_its_contradictions() {
    let case = "deleted_device_still_listed";
    for format in ["text", "markdown", "html"] {
        let mut args = vec![
            "diagnose".to_owned(),
            "--user".into(),
            "gus".into(),
            "--source".into(),
            format!("{DIR}/{case}/logs.json"),
            "--format".into(),
            format.into(),
            "-q".into(),
        ];
        for f in ["iam-auth.json", "virtual.json", "mfa-gus.json"] {
            args.extend(["--iam-snapshot".to_owned(), format!("{DIR}/{case}/{f}")]);
        }
        let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o.code, 0, "{format}: {}", o.stderr);
        assert!(o.stdout.to_ascii_lowercase().contains("iam snapshot"), "{format}");
        assert!(o.stdout.contains("contradiction"), "{format}: {}", o.stdout);
        assert!(o.stdout.contains("P7"), "{format}");
    }
}
