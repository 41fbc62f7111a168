//! Per-rule cases written by hand (`scripts/make-rule-fixtures.py`, shapes from
//! CLOUDTRAIL-FACTS, not from `mfatrail gen`): for each rule the situations that must confirm
//! and, as carefully, those that must not. Each test states the verdicts that matter, checks
//! that every rule returned a finding and no rule failed, and pins the whole report as a
//! snapshot (status, summary, metrics, evidence of every finding).

use serde_json::Value;

use crate::scenarios::{pinned, status};
use crate::util::run;

/// Runs `diagnose` on `testdata/rules/<case>.json`; `expect` lists (rule, status).
fn case(case: &str, user: &str, exit: i32, expect: &[(&str, &str)]) -> Value {
    let path = format!("testdata/rules/{case}.json");
    let out = run(&["diagnose", "-u", user, "-s", &path, "--format", "json", "-q"]);
    assert_eq!(out.code, exit, "{case}: exit; stderr: {}\n{}", out.stderr, out.stdout);
    let r = out.json();
    let findings = r["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 8, "{case}: every rule reports");
    for f in findings {
        assert_ne!(f["status"], "error", "{case}: {} failed internally", f["rule"]);
    }
    for (rule, want) in expect {
        assert_eq!(status(&r, rule), *want, "{case}: {rule}\n{:#}", r["findings"]);
    }
    let name = case.replace('/', "__");
    insta::assert_json_snapshot!(name, pinned(out.code, &r));
    r
}

#[test]
fn d1_denials_of_stale_mfa_sessions_only() {
    // The crash of the first wave: T0 from denials of MFA sessions. Every rule reports; the
    // age limit added 33 h earlier is found once the window is extended.
    let r = case(
        "d1/denials_of_stale_mfa_sessions_only",
        "nina",
        0,
        &[
            ("D1", "confirmed"),
            ("D3", "ruled_out"),
            ("D6", "confirmed"),
            ("D7", "inconclusive"),
        ],
    );
    assert_eq!(r["baseline"]["signal"], "stale_mfa_denial");
    assert_eq!(r["window"]["extended"], true);
}

#[test]
fn d1_typing_only() {
    let r = case(
        "d1/typing_only",
        "omar",
        1,
        &[
            ("D1", "confirmed"),
            ("D4", "inconclusive"),
            ("D5", "not_evaluable"),
            ("D7", "ruled_out"),
        ],
    );
    assert_eq!(r["baseline"]["signal"], "typo");
    assert_eq!(r["conclusion"]["causes"].as_array().map(Vec::len), Some(0));
}

#[test]
fn d2_deleted_then_cli_fails() {
    case(
        "d2/deleted_then_cli_fails_confirm",
        "alice",
        0,
        &[("D2", "confirmed"), ("D4", "ruled_out")],
    );
}

#[test]
fn d2_device_replaced_must_not_fire() {
    case(
        "d2/device_replaced_must_not_fire",
        "ben",
        1,
        &[("D2", "ruled_out"), ("D3", "ruled_out"), ("D7", "ruled_out")],
    );
}

#[test]
fn d2_same_name_other_account_must_not_fire() {
    // Prod's j.smith signs in without MFA and is denied: D3 (no device) for prod. The sandbox
    // j.smith's device removal is another user's and is never cited.
    let r = case(
        "d2/same_name_other_account_must_not_fire",
        "j.smith",
        0,
        &[("D2", "ruled_out"), ("D3", "confirmed")],
    );
    assert_eq!(r["principal"]["account"], "111122223333");
    let text = r.to_string();
    assert!(
        !text.contains("444455556666"),
        "the sandbox account must not appear:\n{text}"
    );
}

#[test]
fn d3_new_user_never_enabled() {
    case(
        "d3/new_user_never_enabled_confirm",
        "carla",
        0,
        &[("D3", "confirmed"), ("D2", "ruled_out")],
    );
}

#[test]
fn d3_device_enabled_days_before_must_not_fire() {
    case(
        "d3/device_enabled_days_before_must_not_fire",
        "dmitri",
        1,
        &[("D3", "ruled_out"), ("D4", "inconclusive")],
    );
}

#[test]
fn d3_unknown_serial_must_not_fire() {
    case(
        "d3/unknown_serial_must_not_fire",
        "edith",
        1,
        &[("D3", "inconclusive"), ("D2", "ruled_out")],
    );
}

#[test]
fn d4_resync_and_success_between() {
    case(
        "d4/resync_and_success_between_confirm",
        "fatima",
        0,
        &[("D4", "confirmed"), ("D7", "inconclusive"), ("D3", "ruled_out")],
    );
}

#[test]
fn d4_wrong_codes_only_must_not_fire() {
    case(
        "d4/wrong_codes_only_must_not_fire",
        "hugo",
        1,
        &[("D4", "inconclusive"), ("D7", "ruled_out")],
    );
}

#[test]
fn d5_outage_four_users() {
    case(
        "d5/outage_four_users_confirm",
        "ivan",
        0,
        &[("D5", "confirmed"), ("D4", "inconclusive")],
    );
}

#[test]
fn d5_typos_in_the_same_hour_must_not_fire() {
    case(
        "d5/typos_in_the_same_hour_must_not_fire",
        "mia",
        1,
        &[("D5", "ruled_out"), ("D4", "inconclusive")],
    );
}

#[test]
fn d6_group_policy_gains_mfa() {
    case("d6/group_policy_gains_mfa_confirm", "sam", 0, &[("D6", "confirmed")]);
}

#[test]
fn d6_role_trust_requires_mfa() {
    let r = case("d6/role_trust_requires_mfa_confirm", "walt", 0, &[("D6", "confirmed")]);
    assert_eq!(r["baseline"]["signal"], "mfa_required_denial");
}

#[test]
fn d6_terraform_reputs_must_not_fire() {
    case("d6/terraform_reputs_must_not_fire", "tara", 1, &[("D6", "ruled_out")]);
}

#[test]
fn d6_previous_version_unknown_must_not_fire() {
    let r = case(
        "d6/previous_version_unknown_must_not_fire",
        "umar",
        1,
        &[("D6", "inconclusive")],
    );
    let d6 = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "D6")
        .unwrap();
    assert!(
        d6["summary"].as_str().unwrap().contains("not in the data read"),
        "{d6:#}"
    );
}

#[test]
fn d6_ec2_only_condition_must_not_fire() {
    case(
        "d6/ec2_only_condition_must_not_fire",
        "vera",
        1,
        &[("D6", "ruled_out"), ("D3", "ruled_out")],
    );
}

#[test]
fn d7_fido_key_intermittent() {
    // A FIDO key has no clock: D4 never calls it drift; the pattern is intermittent.
    let r = case(
        "d7/fido_key_intermittent_confirm",
        "xena",
        0,
        &[("D7", "confirmed"), ("D4", "ruled_out")],
    );
    let d4 = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "D4")
        .unwrap();
    assert!(d4["summary"].as_str().unwrap().contains("FIDO"), "{d4:#}");
}

#[test]
fn d7_typos_through_the_day_must_not_fire() {
    case(
        "d7/typos_through_the_day_must_not_fire",
        "yuri",
        1,
        &[("D7", "ruled_out"), ("D4", "inconclusive")],
    );
}

#[test]
fn identity_center_user_is_not_an_iam_user() {
    let r = case(
        "principals/identity_center_user",
        "zoe",
        1,
        &[("D1", "not_evaluable"), ("X", "not_evaluable")],
    );
    assert_eq!(r["principal"]["kind"], "identity_center_user");
    assert!(
        r["conclusion"]["text"]
            .as_str()
            .unwrap()
            .contains("IAM Identity Center")
    );
    // D1 shows the events it saw, never a silent "no correlation".
    let d1 = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "D1")
        .unwrap();
    assert!(!d1["evidence"].as_array().unwrap().is_empty());
}

#[test]
fn root_device_and_sign_ins_link_to_root() {
    let r = case(
        "principals/root_lost_device",
        "root",
        1,
        &[("D1", "confirmed"), ("D3", "ruled_out"), ("D7", "ruled_out")],
    );
    assert_eq!(r["principal"]["kind"], "root");
    let d3 = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "D3")
        .unwrap();
    assert!(
        d3["summary"].as_str().unwrap().contains("root-account-mfa-device"),
        "{d3:#}"
    );
}

#[test]
fn assume_role_with_mfa_fails_for_the_calling_user() {
    let r = case(
        "principals/assume_role_with_mfa_bad_code",
        "anton",
        1,
        &[("D1", "confirmed")],
    );
    assert_eq!(r["baseline"]["failures"], 3);
    assert_eq!(r["baseline"]["event_names"][0], "AssumeRole");
}

#[test]
fn same_name_in_two_accounts_asks_which() {
    let path = "testdata/rules/principals/same_name_two_accounts_both_failing.json";
    let out = run(&["diagnose", "-u", "j.doe", "-s", path, "-q"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("111122223333") && out.stderr.contains("444455556666"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--account"), "{}", out.stderr);
    for acct in ["111122223333", "444455556666"] {
        let r = run(&[
            "diagnose",
            "-u",
            "j.doe",
            "-s",
            path,
            "--account",
            acct,
            "--format",
            "json",
            "-q",
        ])
        .json();
        assert_eq!(r["principal"]["account"], acct);
        assert_eq!(r["baseline"]["failures"], 2, "{acct}: only that account's failures");
    }
}
