//! The traps of IAM-SNAPSHOT-FACTS, one test each.

use super::*;
use crate::policy::parse_policy;

fn load(files: &[(&str, &str)]) -> Result<Snapshot, String> {
    let mut s = Snapshot::default();
    for (name, text) in files {
        s.add(Path::new(name), text.as_bytes())?;
    }
    Ok(s)
}

/// The AWS CLI example of get-account-authorization-details, with its shape errors: a group's
/// AttachedManagedPolicies as an object, a Statement that is one object, and the page cut
/// (`IsTruncated: true`).
const CLI_EXAMPLE: &str = r#"{
  "UserDetailList": [
    {"UserName": "Bob", "GroupList": ["Admins"], "CreateDate": "2013-10-14T18:32:25Z",
     "UserId": "AIDACKCEVSQ6C3EXAMPLE", "Path": "/", "AttachedManagedPolicies": [],
     "Arn": "arn:aws:iam::123456789012:user/Bob",
     "UserPolicyList": [{"PolicyName": "DenyBillingAndIAMPolicy",
        "PolicyDocument": {"Version": "2012-10-17",
          "Statement": {"Effect": "Deny", "Action": ["aws-portal:*", "iam:*"], "Resource": "*"}}}]}
  ],
  "GroupDetailList": [
    {"GroupId": "AIDACKCEVSQ6C7EXAMPLE", "AttachedManagedPolicies": {"PolicyName": "AdministratorAccess",
       "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
     "GroupName": "Admins", "Path": "/", "Arn": "arn:aws:iam::123456789012:group/Admins",
     "CreateDate": "2013-10-14T18:32:24Z", "GroupPolicyList": []}
  ],
  "RoleDetailList": [],
  "Policies": [],
  "Marker": "EXAMPLEkakv9BCuUNFDtxWSyfzetYwEx2ADc8dnzfvERF5S6YMvXKx41t6gCl/eeaCX3Jo94/bKqezEAg8TEVS99EKFLxm3jtbpl25FDWEXAMPLE",
  "IsTruncated": true
}"#;

#[test]
fn the_cli_example_reads_with_its_shape_errors_and_warns_it_is_a_page() {
    let s = load(&[("auth.json", CLI_EXAMPLE)]).unwrap();
    let bob = s.user("123456789012", "bob").expect("Bob");
    assert_eq!(bob.groups, ["Admins"]);
    assert_eq!(bob.inline.len(), 1);
    assert!(parse_policy(&bob.inline[0].text).is_ok(), "one-object Statement");
    let admins = s.group("123456789012", "admins").expect("Admins");
    assert_eq!(admins.attached, ["arn:aws:iam::aws:policy/AdministratorAccess"]);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].contains("incomplete"));
    assert_eq!(s.accounts().into_iter().collect::<Vec<_>>(), ["123456789012"]);
    assert_eq!(s.newest_date, parse_date("2013-10-14T18:32:25Z"));
}

#[test]
fn url_encoded_documents_decode_without_turning_plus_into_space() {
    // As the Go, Java and Rust SDKs return them: percent-encoded, newlines and all; the Sid
    // holds a literal '+', which botocore's unquote keeps.
    let doc = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Sid": "Deny+NoMFA", "Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]
}"#;
    let encoded: String = percent_encoding::utf8_percent_encode(doc, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2B", "+");
    let auth = format!(
        r#"{{"GroupDetailList": [{{"GroupName": "Humans", "Arn": "arn:aws:iam::111122223333:group/Humans",
            "GroupPolicyList": [{{"PolicyName": "RequireMFA", "PolicyDocument": "{encoded}"}}]}}]}}"#
    );
    let s = load(&[("go-collector.json", &auth)]).unwrap();
    let g = s.group("111122223333", "Humans").unwrap();
    let p = parse_policy(&g.inline[0].text).unwrap();
    assert_eq!(p.statements[0].sid.as_deref(), Some("Deny+NoMFA"));
    assert!(p.requires_mfa());
    // A JSON string holding JSON (some exporters) is read as it is.
    let as_string = format!(
        r#"{{"GroupDetailList": [{{"GroupName": "Humans", "Arn": "arn:aws:iam::111122223333:group/Humans",
            "GroupPolicyList": [{{"PolicyName": "RequireMFA", "PolicyDocument": {}}}]}}]}}"#,
        serde_json::to_string(doc).unwrap()
    );
    let s = load(&[("json-string.json", &as_string)]).unwrap();
    assert!(parse_policy(&s.group("111122223333", "humans").unwrap().inline[0].text).is_ok());
}

#[test]
fn empty_and_absent_lists_are_fine() {
    let s = load(&[
        ("filtered.json", r#"{"UserDetailList": [], "Policies": []}"#),
        ("virtual.json", r#"{"VirtualMFADevices": []}"#),
        ("mfa.json", r#"{"MFADevices": []}"#),
    ])
    .unwrap();
    assert!(s.users.is_empty() && s.devices.is_empty() && s.warnings.is_empty());
    assert!(s.has_authorization_details && s.has_virtual_devices);
    // An empty list-mfa-devices names nobody: it is taken to be the user's only when the run is
    // about that one user (diagnose), never for everyone (scan).
    assert!(!s.lists_all_devices_of("111122223333", "alice", "111122223333"));
    let mut s = s;
    s.empty_listing_user = Some("alice".into());
    assert!(s.lists_all_devices_of("111122223333", "Alice", "111122223333"));
    assert!(!s.lists_all_devices_of("111122223333", "bob", "111122223333"));
}

#[test]
fn devices_join_across_listings_and_are_typed_by_serial() {
    let s = load(&[
        (
            "virtual.json",
            r#"{"VirtualMFADevices": [
              {"SerialNumber": "arn:aws:iam::123456789012:mfa/MFATest", "EnableDate": "2012-12-28T00:37:06Z",
               "User": {"UserName": "Bob", "Arn": "arn:aws:iam::123456789012:user/Bob", "CreateDate": "2012-12-28T00:23:17Z"}},
              {"SerialNumber": "arn:aws:iam::123456789012:mfa/ExampleMFADevice"},
              {"SerialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device",
               "User": {"Arn": "arn:aws:iam::123456789012:root"}, "EnableDate": "2020-01-01 10:00:00+00:00"}]}"#,
        ),
        (
            "bob.json",
            r#"{"MFADevices": [
              {"UserName": "Bob", "SerialNumber": "arn:aws:iam::123456789012:mfa/MFATest", "EnableDate": "2012-12-28T00:37:06+00:00"},
              {"UserName": "Bob", "SerialNumber": "GAKT12345678", "EnableDate": "2023-02-18T21:44:42+00:00"},
              {"UserName": "Bob", "SerialNumber": "arn:aws:iam::123456789012:u2f/user/Bob/fidosecuritykey1-7XNL7NFNLZ123456789EXAMPLE", "EnableDate": "2023-09-19T02:25:35+00:00"}]}"#,
        ),
    ])
    .unwrap();
    // The snapshot is of one account: a bare hardware serial is placed in it.
    let bob = s.devices_of("123456789012", "bob", "123456789012");
    let kinds: Vec<&str> = bob.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds, ["hardware", "virtual", "fido"]);
    let virt = &s.devices["arn:aws:iam::123456789012:mfa/MFATest"];
    assert_eq!(virt.seen_in.len(), 2, "joined on SerialNumber");
    assert_eq!(s.devices["arn:aws:iam::123456789012:mfa/ExampleMFADevice"].user, None);
    assert_eq!(
        s.devices["arn:aws:iam::123456789012:mfa/root-account-mfa-device"]
            .user
            .as_deref(),
        Some("root")
    );
    assert!(s.lists_all_devices_of("123456789012", "Bob", ""));
    assert!(
        !s.lists_all_devices_of("123456789012", "alice", ""),
        "bob's list is not alice's"
    );
    assert!(
        !s.lists_all_devices_of("999988887777", "Bob", ""),
        "another account's bob"
    );
    assert_eq!(s.newest_date, parse_date("2023-09-19T02:25:35Z"));
}

#[test]
fn bad_files_are_refused_with_one_line_reasons() {
    let cases = [
        ("", "empty file"),
        ("UserDetailList:\n- UserName: Bob\n", "--output json"),
        ("{\"UserDetailList\": [{\"UserName\": \"Bo", "truncated JSON"),
        ("{\"Records\": []}", "not the output of"),
        ("{\"Users\": [{\"UserName\": \"Bob\"}]}", "top-level keys: Users"),
        ("[1, 2]", "not an object"),
        ("{\"a\": 1,}", "not valid JSON"),
    ];
    for (text, want) in cases {
        let err = load(&[("x.json", text)]).unwrap_err();
        assert!(err.contains(want), "{text:?}: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
    let mut s = Snapshot::default();
    assert!(
        s.add(Path::new("bin"), &[0xff, 0xfe, 0x00])
            .unwrap_err()
            .contains("UTF-8")
    );
}

#[test]
fn managed_policy_versions_keep_the_default_and_the_history() {
    let s = load(&[(
        "auth.json",
        r#"{"Policies": [{"PolicyName": "RequireMFA", "Arn": "arn:aws:iam::111122223333:policy/RequireMFA",
            "DefaultVersionId": "v2", "UpdateDate": "2024-05-01T00:00:00Z",
            "PolicyVersionList": [
              {"VersionId": "v2", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                   "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}},
              {"VersionId": "v1", "IsDefaultVersion": false, "Document": {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}]}"#,
    )])
    .unwrap();
    let m = &s.managed["arn:aws:iam::111122223333:policy/RequireMFA"];
    assert_eq!(m.default_version.as_deref(), Some("v2"));
    let defaults: Vec<bool> = m.versions.iter().map(|v| v.2).collect();
    assert_eq!(defaults, [true, false]);
}

#[test]
fn a_snapshot_of_two_accounts_keeps_its_hardware_tokens_in_the_right_one() {
    // bob is a user of 111122223333 only; his hardware token's serial names no account. A
    // namesake carol exists in both accounts: her bare serial cannot be placed.
    let auth = r#"{"UserDetailList": [
        {"UserName": "bob", "Arn": "arn:aws:iam::111122223333:user/bob", "GroupList": []},
        {"UserName": "carol", "Arn": "arn:aws:iam::111122223333:user/carol", "GroupList": []},
        {"UserName": "carol", "Arn": "arn:aws:iam::444455556666:user/carol", "GroupList": []}]}"#;
    let s = load(&[
        ("auth.json", auth),
        ("virtual.json", r#"{"VirtualMFADevices": []}"#),
        (
            "bob.json",
            r#"{"MFADevices": [{"UserName": "bob", "SerialNumber": "GAHT11112222", "EnableDate": "2025-01-02T03:04:05Z"}]}"#,
        ),
        (
            "carol.json",
            r#"{"MFADevices": [{"UserName": "carol", "SerialNumber": "GAHT33334444", "EnableDate": "2025-01-02T03:04:05Z"}]}"#,
        ),
    ])
    .unwrap();
    assert_eq!(s.accounts().len(), 2);
    let bob = s.devices_of("111122223333", "bob", "");
    assert_eq!(bob.len(), 1);
    assert!(s.devices_of("444455556666", "bob", "").is_empty());
    assert!(s.lists_all_devices_of("111122223333", "bob", ""));
    assert!(!s.lists_all_devices_of("444455556666", "bob", ""));
    let token = &s.devices["GAHT11112222"];
    assert_eq!(s.device_account(token, "").as_deref(), Some("111122223333"));
    assert_eq!(
        s.device_account(&s.devices["GAHT33334444"], ""),
        None,
        "carol is in both"
    );
}
