//! A week of two ordinary, noisy accounts (`scripts/make-noisy-account.py`, hand-written
//! shapes, not `mfatrail gen`): typos fixed within a minute, failures fixed only half an hour
//! later, SCP and bucket-policy denies, Terraform re-putting the MFA policy and re-attaching a
//! managed one, SSO and role sessions, FIDO keys, a user with two devices, Identity Center
//! sign-ins, an MFA-age denial, CI users on long-term keys, console MFA users whose tools are
//! denied by the enforcing policy, contractors denied by a guardrail, a phone swap, one user
//! name in both accounts. Nothing may confirm there. Then real incidents are added (a deleted
//! device; a two-hour outage), and they must be found.

use serde_json::Value;

use crate::util::{finding, run};

const ACCOUNT: &str = "testdata/noisy/account";
const INCIDENT: &str = "testdata/noisy/incident";
const OUTAGE: &str = "testdata/noisy/outage";

fn scan(sources: &[&str]) -> Value {
    let mut args = vec!["scan", "--format", "json", "-q"];
    for s in sources {
        args.extend(["-s", s]);
    }
    let out = run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

fn users(r: &Value) -> &Vec<Value> {
    r["users"].as_array().expect("users")
}

#[test]
fn nothing_confirms_on_an_ordinary_week() {
    let r = scan(&[ACCOUNT]);
    assert!(users(&r).len() >= 20, "the typists are listed: {}", users(&r).len());
    for u in users(&r) {
        assert_eq!(
            u["causes"].as_array().map(Vec::len),
            Some(0),
            "{} ({}) must have no cause: {}",
            u["user"],
            u["account"],
            u["conclusion"]
        );
        assert!(matches!(u["kind"].as_str(), Some("iam_user" | "root")), "{u:#}");
    }
    // Role sessions (SSO, CI, Lambda, service-linked) are never listed as users.
    let names: Vec<&str> = users(&r).iter().filter_map(|u| u["user"].as_str()).collect();
    for role in [
        "AWSReservedSSO",
        "GitHubActionsDeploy",
        "lambda-exec-orders",
        "AWSServiceRoleForConfig",
    ] {
        assert!(
            !names.iter().any(|n| n.contains(role)),
            "{role} listed among users: {names:?}"
        );
    }
    // Identity Center users are listed apart.
    let idc: Vec<&str> = r["identity_center_users"]
        .as_array()
        .expect("identity_center_users")
        .iter()
        .filter_map(|u| u["principal"].as_str())
        .collect();
    assert!(!idc.is_empty() && idc.iter().all(|n| n.starts_with("idc.")), "{idc:?}");
}

#[test]
fn every_user_diagnosed_alone_has_no_cause_either() {
    for (user, acct) in [
        ("dana", "111122223333"),
        ("greta", "111122223333"),
        ("maya", "111122223333"),
        ("j.smith", "444455556666"),
    ] {
        let out = run(&[
            "diagnose",
            "-u",
            user,
            "--account",
            acct,
            "-s",
            ACCOUNT,
            "--format",
            "json",
            "-q",
        ]);
        assert_eq!(out.code, 1, "{user}: {}\n{}", out.stderr, out.stdout);
        let r = out.json();
        for f in r["findings"].as_array().unwrap() {
            if f["rule"] != "D1" && f["rule"] != "X" {
                assert_ne!(
                    f["status"], "confirmed",
                    "{user}: {} confirmed: {}",
                    f["rule"], f["summary"]
                );
            }
        }
    }
}

#[test]
fn the_injected_incident_is_found_and_only_it() {
    let r = scan(&[ACCOUNT, INCIDENT]);
    let first = &users(&r)[0];
    assert_eq!(first["user"], "tom", "the incident ranks first: {first:#}");
    assert_eq!(first["top_cause"], "D2", "{first:#}");
    for u in users(&r).iter().skip(1) {
        assert_eq!(
            u["causes"].as_array().map(Vec::len),
            Some(0),
            "{}: {}",
            u["user"],
            u["conclusion"]
        );
    }
    let out = run(&[
        "diagnose", "-u", "tom", "-s", ACCOUNT, "-s", INCIDENT, "--format", "json", "-q",
    ]);
    assert_eq!(out.code, 0);
    let d = out.json();
    assert_eq!(d["conclusion"]["causes"][0], "D2");
    // T0 is the first failure after the deletion, not one of tom's typos earlier in the week.
    assert_eq!(d["baseline"]["first_failure"], "2026-11-19T14:40:00Z");
}

#[test]
fn a_two_hour_outage_is_account_wide_and_only_for_its_users() {
    let r = scan(&[ACCOUNT, OUTAGE]);
    let hit = ["femi", "hamid", "ines", "jonas", "wes"];
    for u in users(&r) {
        let name = u["user"].as_str().unwrap();
        let causes: Vec<&str> = u["causes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        if hit.contains(&name) {
            assert!(causes.contains(&"D5"), "{name}: {u:#}");
            assert_eq!(u["scope"], "account", "{name}");
            for c in ["D2", "D3", "D4", "D6"] {
                assert!(!causes.contains(&c), "{name}: {c} confirmed: {}", u["conclusion"]);
            }
        } else {
            assert!(causes.is_empty(), "{name} ({}): {}", u["account"], u["conclusion"]);
        }
    }
    // The outage's own hours never set the account's usual level.
    let out = run(&[
        "diagnose", "-u", "femi", "-s", ACCOUNT, "-s", OUTAGE, "--format", "json", "-q",
    ]);
    let d = out.json();
    let d5 = finding(&d, "D5");
    assert_eq!(d5["metrics"]["failing_users"], 5, "{d5:#}");
}
