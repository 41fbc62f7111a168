//! A week of two ordinary, noisy accounts (`scripts/make-noisy-account.py`, hand-written
//! shapes, not `mfatrail gen`): typos fixed within a minute, SCP and bucket-policy denies,
//! Terraform re-putting the MFA policy, SSO and role sessions, FIDO keys, Identity Center
//! sign-ins, an MFA-age denial, CI users on long-term keys, a phone swap, one user name in both
//! accounts. Nothing may confirm there. Then one real incident is added, and it must be found.

use serde_json::Value;

use crate::util::run;

const ACCOUNT: &str = "testdata/noisy/account";
const INCIDENT: &str = "testdata/noisy/incident";

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
        assert_eq!(u["failures"], 0, "{}: typing only", u["user"]);
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
