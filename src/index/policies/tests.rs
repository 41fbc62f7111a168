use super::*;
use crate::event::{EventClass, Principal, PrincipalKind};
use crate::index::tests::{ACCT, ev};
use crate::snapshot::Snapshot;

pub const MFA_DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:GetUser","iam:ListMFADevices","iam:ListVirtualMFADevices","iam:ResyncMFADevice","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
pub const PLAIN_DOC: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;

/// A policy event by `ops`, `min` minutes in; `f` fills in what the event names.
pub(crate) fn policy(min: i64, name: &str, f: impl FnOnce(&mut EventRow)) -> EventRow {
    let mut e = ev(min, EventClass::PolicyChange, Some("ops"), None, None);
    e.event_name = name.into();
    f(&mut e);
    e
}
fn user(n: &str) -> PrincipalKey {
    Principal::new(PrincipalKind::IamUser, ACCT, n).key()
}
/// PutUserPolicy of an inline policy `RequireMFA` on user `u`.
pub(crate) fn put(min: i64, u: &str, doc: &str) -> EventRow {
    let (u, doc) = (u.to_string(), doc.to_string());
    policy(min, "PutUserPolicy", move |e| {
        e.target_user = Some(u);
        e.policy_name = Some("RequireMFA".into());
        e.policy_document = Some(doc);
    })
}

#[test]
fn a_first_put_is_unknown_a_second_is_judged() {
    let book = PolicyBook::build(&[
        put(1, "dave", MFA_DOC),
        put(2, "dave", MFA_DOC),
        put(3, "erin", PLAIN_DOC),
        put(4, "erin", MFA_DOC),
    ]);
    let effects: Vec<_> = book.changes.iter().map(|c| c.effect.clone()).collect();
    assert!(matches!(effects[0], ChangeEffect::Unknown(_)));
    assert_eq!(effects[1], ChangeEffect::Keeps);
    assert_eq!(effects[2], ChangeEffect::NoRequirement);
    assert_eq!(effects[3], ChangeEffect::Adds);
    assert_eq!(book.requirements_at(&user("dave"), 60_000).len(), 1);
    assert_eq!(book.requirements_at(&user("erin"), 3 * 60_000).len(), 0);
    assert_eq!(book.requirements_at(&user("erin"), 4 * 60_000).len(), 1);
}

#[test]
fn a_created_user_has_no_earlier_policies() {
    let book = PolicyBook::build(&[
        ev(0, EventClass::UserCreated, Some("ops"), Some("fay"), None),
        put(1, "fay", MFA_DOC),
    ]);
    assert_eq!(book.changes[0].effect, ChangeEffect::Adds);
}

/// Managed policy `arn` created plain (v1), reaching dave through group finance, then a new
/// default version v2 that requires MFA, 10 minutes in.
pub(crate) fn finance_versions(arn: &str) -> Vec<EventRow> {
    vec![
        policy(1, "CreatePolicy", |e| {
            e.policy_arn = Some(arn.into());
            e.policy_document = Some(PLAIN_DOC.into());
            e.set_as_default = Some(true);
            e.policy_version = Some("v1".into());
        }),
        policy(2, "AddUserToGroup", |e| {
            e.target_user = Some("dave".into());
            e.group_name = Some("finance".into());
        }),
        policy(3, "AttachGroupPolicy", |e| {
            e.group_name = Some("finance".into());
            e.policy_arn = Some(arn.into());
        }),
        policy(10, "CreatePolicyVersion", |e| {
            e.policy_arn = Some(arn.into());
            e.policy_document = Some(MFA_DOC.into());
            e.set_as_default = Some(true);
            e.policy_version = Some("v2".into());
        }),
    ]
}

#[test]
fn managed_versions_groups_and_reach() {
    let arn = "arn:aws:iam::111122223333:policy/FinanceAccess";
    let events = finance_versions(arn);
    let book = PolicyBook::build(&events);
    let v2 = book.changes.last().unwrap();
    assert_eq!(v2.effect, ChangeEffect::Adds);
    assert!(matches!(book.reach(v2, &user("dave"), 20 * 60_000), Reach::Yes(_)));
    assert_eq!(book.reach(v2, &user("zoe"), 20 * 60_000), Reach::Unknown);
    assert_eq!(book.requirements_at(&user("dave"), 9 * 60_000).len(), 0);
    assert_eq!(book.requirements_at(&user("dave"), 11 * 60_000).len(), 1);
    // Same name in another account: a different user.
    let other = Principal::new(PrincipalKind::IamUser, "444455556666", "dave").key();
    assert_eq!(book.reach(v2, &other, 20 * 60_000), Reach::Unknown);
    assert!(book.requirements_at(&other, 20 * 60_000).is_empty());
}

#[test]
fn trust_policy_requiring_mfa_makes_assume_role_denials_count() {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#;
    let update = policy(1, "UpdateAssumeRolePolicy", |e| {
        e.target_role = Some("Admin".into());
        e.policy_document = Some(trust.into());
    });
    let mut denied = ev(5, EventClass::AssumeRoleDenied, Some("gus"), None, None);
    denied.event_source = "sts.amazonaws.com".into();
    denied.event_name = "AssumeRole".into();
    denied.target_role = Some("arn:aws:iam::111122223333:role/Admin".into());
    let book = PolicyBook::build(&[update, denied.clone()]);
    assert!(book.trust_denial_counts(&denied).is_some());
    assert!(matches!(book.changes[0].effect, ChangeEffect::Unknown(_)));
    assert!(matches!(book.reach(&book.changes[0], &user("gus"), 0), Reach::Yes(_)));
    // With a device named, the trust policy denied for another reason.
    let mut with_serial = denied.clone();
    with_serial.mfa_serial = Some("arn:aws:iam::111122223333:mfa/gus".into());
    assert!(book.trust_denial_counts(&with_serial).is_none());
}

fn snapshot(files: &[(&str, &str)]) -> Snapshot {
    let mut s = Snapshot::default();
    for (name, text) in files {
        s.add(std::path::Path::new(name), text.as_bytes()).unwrap();
    }
    s
}

#[test]
fn the_snapshot_seeds_what_the_logs_leave_alone_and_its_origin_is_said() {
    let auth = format!(
        r#"{{"UserDetailList": [{{"UserName": "dave", "Arn": "arn:aws:iam::{ACCT}:user/dave", "GroupList": ["Humans"]}}],
            "GroupDetailList": [{{"GroupName": "Humans", "Arn": "arn:aws:iam::{ACCT}:group/Humans",
              "GroupPolicyList": [{{"PolicyName": "RequireMFA", "PolicyDocument": {MFA_DOC}}}]}}]}}"#
    );
    let snap = snapshot(&[("auth.json", &auth)]);
    // Logs: nothing about dave's groups; the snapshot (at minute 100) says he is in Humans.
    let (book, contradictions) = PolicyBook::build_seeded(&[put(1, "erin", PLAIN_DOC)], &snap, 100 * 60_000, ACCT);
    assert!(contradictions.is_empty());
    let reqs = book.requirements_at(&user("dave"), 50 * 60_000);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].via, "inline policy RequireMFA of group Humans (IAM snapshot)");
    assert_eq!(book.docs[reqs[0].doc].event, None);
    // Without the snapshot: nothing known.
    assert!(
        PolicyBook::build(&[])
            .requirements_at(&user("dave"), 50 * 60_000)
            .is_empty()
    );
}

#[test]
fn logged_changes_win_and_contradictions_are_named() {
    let auth = format!(
        r#"{{"UserDetailList": [{{"UserName": "dave", "Arn": "arn:aws:iam::{ACCT}:user/dave", "GroupList": ["Humans"]}}],
            "GroupDetailList": [{{"GroupName": "Humans", "Arn": "arn:aws:iam::{ACCT}:group/Humans",
              "GroupPolicyList": [{{"PolicyName": "RequireMFA", "PolicyDocument": {MFA_DOC}}}]}}]}}"#
    );
    let snap = snapshot(&[("auth.json", &auth)]);
    let removed = policy(10, "RemoveUserFromGroup", |e| {
        e.target_user = Some("dave".into());
        e.group_name = Some("Humans".into());
    });
    let (book, contradictions) = PolicyBook::build_seeded(&[removed], &snap, 100 * 60_000, ACCT);
    assert_eq!(contradictions.len(), 1, "{contradictions:?}");
    assert!(contradictions[0].contains("user dave in group Humans: absent in the logs"));
    // The logs decide after the removal; before it the snapshot's state is not replayed
    // (the logs touched the fact).
    assert!(book.requirements_at(&user("dave"), 50 * 60_000).is_empty());

    // Joining after the snapshot was taken (a --snapshot-time before the logs): the snapshot
    // shows the user was not a member, so the addition adds the requirement.
    let snap = snapshot(&[(
        "auth.json",
        &format!(
            r#"{{"UserDetailList": [{{"UserName": "erin", "Arn": "arn:aws:iam::{ACCT}:user/erin", "GroupList": []}}],
                "GroupDetailList": [{{"GroupName": "Humans", "Arn": "arn:aws:iam::{ACCT}:group/Humans",
                  "GroupPolicyList": [{{"PolicyName": "RequireMFA", "PolicyDocument": {MFA_DOC}}}]}}]}}"#
        ),
    )]);
    let added = policy(10, "AddUserToGroup", |e| {
        e.target_user = Some("erin".into());
        e.group_name = Some("Humans".into());
    });
    let (book, _) = PolicyBook::build_seeded(std::slice::from_ref(&added), &snap, 0, ACCT);
    assert_eq!(book.changes[0].effect, ChangeEffect::Adds);
    let logs_only = PolicyBook::build(&[added]);
    assert!(matches!(
        logs_only.changes[0].effect,
        ChangeEffect::NoRequirement | ChangeEffect::Unknown(_)
    ));
}
