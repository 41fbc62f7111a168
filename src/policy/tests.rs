//! Policy analysis tests.

use super::*;
use RequirementKind::{AllowOnlyWithMfa, DenyStaleMfa, DenyWithoutMfa};

const P: &str = PRESENT_KEY;
const A: &str = AGE_KEY;

/// AWS sample "Allows MFA-authenticated IAM users to manage their own MFA device on the
/// Security credentials page" (my-sec-creds-self-manage-mfa-only), with the caller's
/// whitespace as CloudTrail keeps it.
const AWS_SELF_MANAGE_MFA: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowViewAccountInfo",
            "Effect": "Allow",
            "Action": "iam:ListVirtualMFADevices",
            "Resource": "*"
        },
        {
            "Sid": "AllowManageOwnVirtualMFADevice",
            "Effect": "Allow",
            "Action": [
                "iam:CreateVirtualMFADevice"
            ],
            "Resource": "arn:aws:iam::*:mfa/*"
        },
        {
            "Sid": "AllowManageOwnUserMFA",
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:GetMFADevice",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice"
            ],
            "Resource": "arn:aws:iam::*:user/${aws:username}"
        },
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:ListMFADevices",
                "iam:ListVirtualMFADevices",
                "iam:ResyncMFADevice",
                "sts:GetSessionToken"
            ],
            "Resource": "*",
            "Condition": {
                "BoolIfExists": {
                    "aws:MultiFactorAuthPresent": "false"
                }
            }
        }
    ]
}"#;

/// `{"op":{"key":value}}`; `value` is JSON.
fn cond(op: &str, key: &str, value: &str) -> String {
    format!(r#"{{"{op}":{{"{key}":{value}}}}}"#)
}

/// One-statement policy with the given effect, Action JSON and Condition JSON.
fn policy_with(effect: &str, action: &str, condition: &str) -> Policy {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Action":{action},"Resource":"*","Condition":{condition}}}}}"#
    );
    match parse_policy(&text) {
        Ok(p) => p,
        Err(e) => panic!("{text}: {e}"),
    }
}

/// One statement, Action "*", one condition.
fn single(effect: &str, op: &str, key: &str, value: &str) -> Policy {
    policy_with(effect, r#""*""#, &cond(op, key, value))
}

fn only_statement(policy: &Policy) -> &Statement {
    assert_eq!(policy.statements.len(), 1, "{policy:?}");
    &policy.statements[0]
}

fn kinds(policy: &Policy) -> Vec<PitfallKind> {
    policy.pitfalls().iter().map(|p| p.kind).collect()
}

fn req(kind: RequirementKind, long_term: bool, max_age: Option<u64>) -> Option<Requirement> {
    Some(Requirement {
        kind,
        applies_to_long_term_keys: long_term,
        max_age_seconds: max_age,
    })
}

#[test]
fn aws_self_manage_mfa_policy() {
    let policy = parse_policy(AWS_SELF_MANAGE_MFA).expect("parses");
    assert_eq!(policy.statements.len(), 4);
    let first = &policy.statements[0].actions;
    assert_eq!(first, &Actions::Action(vec!["iam:ListVirtualMFADevices".into()]));
    let deny = &policy.statements[3];
    assert_eq!(deny.index, 3);
    assert_eq!(deny.sid.as_deref(), Some("DenyAllExceptListedIfNoMFA"));
    assert_eq!(deny.effect, Effect::Deny);
    assert!(matches!(&deny.actions, Actions::NotAction(a) if a.len() == 7));
    let expected = MfaCondition {
        operator: "BoolIfExists".into(),
        base_operator: "Bool".into(),
        if_exists: true,
        key: MfaKey::Present,
        values: vec!["false".into()],
    };
    assert_eq!(deny.mfa, vec![expected]);
    assert_eq!(deny.mfa_requirement(), req(DenyWithoutMfa, true, None));
    assert!(!deny.text.contains('\n'), "compact evidence: {}", deny.text);
    assert!(deny.text.contains("DenyAllExceptListedIfNoMFA"));
    for s in &policy.statements[..3] {
        assert_eq!(s.mfa_requirement(), None, "{:?}", s.sid);
    }
    assert!(policy.requires_mfa());
    assert!(policy.has_mfa_condition());
    let required = policy.mfa_statements();
    assert_eq!(required.len(), 1);
    assert_eq!(required[0].0.index, 3);
    for (action, expected) in [
        ("s3:GetObject", true),
        ("ec2:RunInstances", true),
        ("iam:DeactivateMFADevice", true),
        ("iam:EnableMFADevice", false),
        ("IAM:enablemfadevice", false),
        ("sts:GetSessionToken", false),
        ("iam:ListVirtualMFADevices", false),
    ] {
        assert_eq!(policy.requires_mfa_for(action), expected, "{action}");
    }
    assert_eq!(policy.pitfalls(), Vec::new());
}

#[test]
fn older_aws_sample_without_get_user_locks_out_get_user_only() {
    // The older "BlockMostAccessUnlessSignedInWithMFA" sample does not exempt iam:GetUser.
    let text = r#"{"Version":"2012-10-17","Statement":[
          {"Sid":"AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA","Effect":"Allow",
           "Action":["iam:DeactivateMFADevice"],"Resource":["arn:aws:iam::*:user/${aws:username}"],
           "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
          {"Sid":"BlockMostAccessUnlessSignedInWithMFA","Effect":"Deny",
           "NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:ListMFADevices",
                        "iam:ListUsers","iam:ListVirtualMFADevices","iam:ResyncMFADevice"],
           "Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    let policy = parse_policy(text).expect("parses");
    let allow = policy.statements[0].mfa_requirement();
    assert_eq!(allow, req(AllowOnlyWithMfa, true, None));
    let pitfalls = policy.pitfalls();
    assert_eq!(pitfalls.len(), 1, "{pitfalls:?}");
    let message = &pitfalls[0].message;
    assert_eq!(pitfalls[0].kind, PitfallKind::LocksOutSelfService);
    assert_eq!(pitfalls[0].statement, 1);
    assert!(message.contains("iam:GetUser"), "{message}");
    assert!(!message.contains("iam:EnableMFADevice"), "{message}");
    assert!(message.contains("BlockMostAccessUnlessSignedInWithMFA"), "{message}");
}

#[test]
fn deny_everything_without_mfa_locks_out_self_service() {
    let policy = single("Deny", "BoolIfExists", P, r#""false""#);
    assert_eq!(kinds(&policy), vec![PitfallKind::LocksOutSelfService]);
    let pitfall = &policy.pitfalls()[0];
    assert_eq!(pitfall.statement, 0);
    for action in SELF_SERVICE_ACTIONS {
        assert!(pitfall.message.contains(action), "{action}: {}", pitfall.message);
    }
    // Policies cannot control sts:GetSessionToken, so it is not reported as blocked.
    assert!(!pitfall.message.contains("sts:GetSessionToken"));
}

#[test]
fn lockout_only_for_deny_that_hits_callers_without_mfa() {
    let stale_guarded = format!(r#"{{"NumericGreaterThan":{{"{A}":"3600"}},"Null":{{"{A}":"false"}}}}"#);
    #[rustfmt::skip]
        let cases = [
            // Only some self-service actions in scope.
            ("Deny", r#""iam:*MFADevice""#, cond("Bool", P, r#""false""#), true),
            // No self-service action in scope.
            ("Deny", r#"["s3:*","ec2:*"]"#, cond("BoolIfExists", P, r#""false""#), false),
            // A stale-MFA deny does not hit callers without MFA ...
            ("Deny", r#""*""#, stale_guarded, false),
            // ... unless IfExists makes it match the absent age.
            ("Deny", r#""*""#, cond("NumericGreaterThanIfExists", A, "3600"), true),
            // An Allow never locks out.
            ("Allow", r#""*""#, cond("Bool", P, r#""true""#), false),
        ];
    for (effect, action, condition, expected) in cases {
        let policy = policy_with(effect, action, &condition);
        let found = kinds(&policy).contains(&PitfallKind::LocksOutSelfService);
        assert_eq!(found, expected, "{effect} {action} {condition}");
    }
}

#[test]
fn requirement_per_condition_form() {
    let t = r#""true""#;
    let f = r#""false""#;
    #[rustfmt::skip]
        let cases: &[(&str, &str, &str, &str, Option<Requirement>)] = &[
            // Bool "false" misses long-term keys (key absent); BoolIfExists catches them.
            ("Deny", "Bool", P, f, req(DenyWithoutMfa, false, None)),
            ("Deny", "BoolIfExists", P, f, req(DenyWithoutMfa, true, None)),
            ("Deny", "BoolIfExists", P, "false", req(DenyWithoutMfa, true, None)),
            // Null "true" matches the absent key.
            ("Deny", "Null", P, t, req(DenyWithoutMfa, true, None)),
            ("Deny", "Null", A, t, req(DenyWithoutMfa, true, None)),
            ("Deny", "Null", A, "true", req(DenyWithoutMfa, true, None)),
            // Keys never get a Bool "true" grant; BoolIfExists "true" grants them (key absent).
            ("Allow", "Bool", P, t, req(AllowOnlyWithMfa, true, None)),
            ("Allow", "Bool", P, "true", req(AllowOnlyWithMfa, true, None)),
            ("Allow", "Bool", P, r#""TRUE""#, req(AllowOnlyWithMfa, true, None)),
            ("Allow", "BoolIfExists", P, t, req(AllowOnlyWithMfa, false, None)),
            ("Allow", "Null", P, f, req(AllowOnlyWithMfa, true, None)),
            ("Allow", "Null", A, f, req(AllowOnlyWithMfa, true, None)),
            // Age limits.
            ("Deny", "NumericGreaterThan", A, r#""3600""#, req(DenyStaleMfa, false, Some(3600))),
            ("Deny", "NumericGreaterThanEquals", A, "7200", req(DenyStaleMfa, false, Some(7200))),
            ("Deny", "NumericGreaterThanIfExists", A, "3600", req(DenyStaleMfa, true, Some(3600))),
            ("Deny", "NumericGreaterThan", A, r#"["3600",900]"#, req(DenyStaleMfa, false, Some(900))),
            ("Allow", "NumericLessThan", A, r#""3600""#, req(AllowOnlyWithMfa, true, Some(3600))),
            ("Allow", "NumericLessThanEquals", A, "3600", req(AllowOnlyWithMfa, true, Some(3600))),
            // Grants every caller without MFA: no requirement.
            ("Allow", "NumericLessThanIfExists", A, "3600", None),
            // Deny MFA users, grant without MFA, or never match: no requirement.
            ("Deny", "Bool", P, t, None),
            ("Deny", "BoolIfExists", P, t, None),
            ("Deny", "Null", P, f, None),
            ("Allow", "Bool", P, f, None),
            ("Allow", "BoolIfExists", P, f, None),
            ("Deny", "Bool", P, r#""yes""#, None),
            ("Deny", "Bool", P, r#"["true","false"]"#, None),
            ("Deny", "StringEquals", "aws:username", r#""alice""#, None),
            ("Deny", "StringEquals", P, f, None),
            ("Deny", "ForAnyValue:Bool", P, f, None),
        ];
    for (effect, op, key, value, expected) in cases {
        let policy = single(effect, op, key, value);
        let statement = only_statement(&policy);
        assert_eq!(&statement.mfa_requirement(), expected, "{effect} {op} {key} {value}");
        assert_eq!(policy.requires_mfa(), expected.is_some(), "{effect} {op} {value}");
    }
}

#[test]
fn conditions_in_a_statement_are_anded() {
    #[rustfmt::skip]
        let cases = [
            // Narrowed by a non-MFA condition: still a requirement.
            (format!(r#"{{"BoolIfExists":{{"{P}":"false"}},"StringLike":{{"aws:username":"a*"}}}}"#),
             req(DenyWithoutMfa, true, None)),
            // Bool needs the key present, Null "true" needs it absent: never matches.
            (format!(r#"{{"Bool":{{"{P}":"false"}},"Null":{{"{P}":"true"}}}}"#), None),
            // BoolIfExists needs no MFA, NumericLessThan needs the age present: never matches.
            (format!(r#"{{"BoolIfExists":{{"{P}":"false"}},"NumericLessThan":{{"{A}":"60"}}}}"#),
             None),
            // Two age bounds that must both hold: the larger one decides.
            (format!(r#"{{"NumericGreaterThan":{{"{A}":"3600"}},"NumericGreaterThanEquals":{{"{A}":"7200"}}}}"#),
             req(DenyStaleMfa, false, Some(7200))),
            ("{}".to_string(), None),
        ];
    for (condition, expected) in cases {
        let policy = policy_with("Deny", r#""*""#, &condition);
        assert_eq!(only_statement(&policy).mfa_requirement(), expected, "{condition}");
    }
}

#[test]
fn condition_names_and_keys_are_case_insensitive() {
    let policy = single("deny", "boolifexists", "AWS:multifactorauthpresent", r#""False""#);
    let s = only_statement(&policy);
    assert_eq!(s.effect, Effect::Deny);
    assert_eq!(s.mfa.len(), 1);
    assert_eq!(s.mfa[0].operator, "boolifexists");
    assert_eq!(s.mfa[0].base_operator, "Bool");
    assert!(s.mfa[0].if_exists);
    assert_eq!(s.mfa[0].key, MfaKey::Present);
    assert_eq!(s.mfa[0].values, vec!["false".to_string()]);
    assert_eq!(s.mfa_requirement(), req(DenyWithoutMfa, true, None));
    let age = single("Deny", "NUMERICGREATERTHAN", "aws:multifactorauthage", "60");
    assert_eq!(age.statements[0].mfa[0].key, MfaKey::Age);
    assert_eq!(age.statements[0].mfa_requirement(), req(DenyStaleMfa, false, Some(60)));
}

#[test]
fn split_operator_forms() {
    #[rustfmt::skip]
        let cases = [
            ("Bool", "Bool", false),
            ("BoolIfExists", "Bool", true),
            ("NULL", "Null", false),
            ("numericgreaterthanequalsifexists", "NumericGreaterThanEquals", true),
            ("ForAnyValue:Bool", "ForAnyValue:Bool", false),
            ("IfExists", "", true),
            ("Ifé", "Ifé", false),
            ("ééééa", "ééééa", false),
        ];
    for (op, base, if_exists) in cases {
        assert_eq!(split_operator(op), (base.to_string(), if_exists), "{op}");
    }
}

#[test]
fn values_are_normalised_to_lowercase_strings() {
    #[rustfmt::skip]
        let cases = [
            ("true", vec!["true"]),
            (r#""true""#, vec!["true"]),
            (r#""TRUE""#, vec!["true"]),
            ("false", vec!["false"]),
            ("3600", vec!["3600"]),
            (r#""3600""#, vec!["3600"]),
            (r#"["True", false, 1, null, {}]"#, vec!["true", "false", "1"]),
            ("null", vec![]),
        ];
    for (raw, expected) in cases {
        let policy = single("Deny", "Bool", P, raw);
        assert_eq!(only_statement(&policy).mfa[0].values, expected, "{raw}");
    }
}

#[test]
fn percent_encoded_document() {
    let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%2C%22Condition%22%3A%7B%22BoolIfExists%22%3A%7B%22aws%3AMultiFactorAuthPresent%22%3A%22false%22%7D%7D%2C%22Sid%22%3A%22No+MFA+no+S3%22%7D%5D%7D";
    let policy = parse_policy(encoded).expect("percent-decoded");
    let s = only_statement(&policy);
    assert_eq!(s.sid.as_deref(), Some("No MFA no S3"), "'+' decodes to a space");
    assert_eq!(s.actions, Actions::Action(vec!["s3:*".into()]));
    assert!(policy.requires_mfa_for("s3:PutObject"));
    assert!(!policy.requires_mfa_for("ec2:RunInstances"));
    // The AWS sample, every byte escaped.
    let encoded: String = AWS_SELF_MANAGE_MFA.bytes().map(|b| format!("%{b:02X}")).collect();
    assert_eq!(parse_policy(&encoded), parse_policy(AWS_SELF_MANAGE_MFA));
}

#[test]
fn percent_decode_edges() {
    #[rustfmt::skip]
        let cases = [
            ("%7b%7D", "{}"),
            ("a+b", "a b"),
            ("%2B", "+"),
            ("100%", "100%"),
            ("%zz%4", "%zz%4"),
            ("%E2%9C%93", "✓"),
            ("%FF", "\u{fffd}"),
        ];
    for (raw, decoded) in cases {
        assert_eq!(form_decode(raw), decoded, "{raw}");
    }
}

#[test]
fn json_string_containing_the_document() {
    let wrapped = serde_json::to_string(AWS_SELF_MANAGE_MFA).expect("string");
    assert_eq!(parse_policy(&wrapped), parse_policy(AWS_SELF_MANAGE_MFA));
}

#[test]
fn statement_object_array_and_lowercase_keys() {
    let object = r#"{"Statement":{"Sid":"One","Effect":"Deny","Action":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}}"#;
    let array = r#"{"Statement":[{"Sid":"One","Effect":"Deny","Action":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    let lower = r#"{"statement":[{"sid":"One","effect":"deny","action":"*","resource":"*","condition":{"bool":{"aws:multifactorauthpresent":"false"}}}]}"#;
    let parsed: Vec<Policy> = [object, array, lower]
        .iter()
        .map(|t| parse_policy(t).expect("parses"))
        .collect();
    for p in &parsed {
        let s = only_statement(p);
        assert_eq!(s.sid.as_deref(), Some("One"));
        assert_eq!(s.index, 0);
        assert_eq!(s.actions, Actions::Action(vec!["*".into()]));
        assert_eq!(s.mfa_requirement(), req(DenyWithoutMfa, false, None));
    }
    // Object and one-element array are the same policy.
    assert_eq!(parsed[0], parsed[1]);
    assert_eq!(parsed[2].statements[0].mfa[0].operator, "bool");
}

#[test]
fn action_string_array_and_not_action() {
    let list = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    #[rustfmt::skip]
        let cases = [
            (r#""Action":"iam:GetUser""#, Actions::Action(list(&["iam:GetUser"]))),
            (r#""Action":["iam:GetUser","s3:*"]"#, Actions::Action(list(&["iam:GetUser", "s3:*"]))),
            (r#""NotAction":"iam:GetUser""#, Actions::NotAction(list(&["iam:GetUser"]))),
            (r#""notaction":["iam:GetUser",5]"#, Actions::NotAction(list(&["iam:GetUser"]))),
            (r#""Action":null,"NotAction":"s3:*""#, Actions::NotAction(list(&["s3:*"]))),
            (r#""Resource":"*""#, Actions::Action(vec![])),
        ];
    for (fragment, expected) in cases {
        let text = format!(r#"{{"Statement":{{"Effect":"Allow",{fragment}}}}}"#);
        let policy = parse_policy(&text).expect("parses");
        assert_eq!(only_statement(&policy).actions, expected, "{fragment}");
    }
}

#[test]
fn wildcard_matching() {
    let action = |p: &[&str]| Actions::Action(p.iter().map(|s| s.to_string()).collect());
    let not_action = |p: &[&str]| Actions::NotAction(p.iter().map(|s| s.to_string()).collect());
    #[rustfmt::skip]
        let cases = [
            (action(&["iam:*"]), "iam:EnableMFADevice", true),
            (action(&["iam:*"]), "sts:GetSessionToken", false),
            (action(&["*"]), "anything:AtAll", true),
            (action(&["*"]), "", true),
            (action(&["sts:Get*"]), "sts:GetSessionToken", true),
            (action(&["sts:Get*"]), "sts:AssumeRole", false),
            (action(&["sts:Get*"]), "sts:Get", true),
            (action(&["iam:?etUser"]), "iam:GetUser", true),
            (action(&["iam:?etUser"]), "iam:GGetUser", false),
            (action(&["iam:Get????"]), "iam:GetUser", true),
            (action(&["iam:Get????"]), "iam:GetUsers", false),
            (action(&["IAM:getuser"]), "iam:GetUser", true),
            (action(&["iam:*MFA*"]), "iam:ResyncMFADevice", true),
            (action(&["iam:*MFA*"]), "iam:GetUser", false),
            (action(&["*a*a*a*b"]), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false),
            (action(&["iam:GetUser"]), "iam:GetUserPolicy", false),
            (action(&["s3:*", "iam:GetUser"]), "iam:GetUser", true),
            (action(&[]), "iam:GetUser", false),
            (not_action(&["iam:*"]), "iam:GetUser", false),
            (not_action(&["iam:*"]), "s3:GetObject", true),
            (not_action(&[]), "s3:GetObject", true),
        ];
    for (actions, name, expected) in cases {
        assert_eq!(actions.matches(name), expected, "{actions:?} vs {name}");
    }
}

#[test]
fn bool_without_if_exists_pitfall() {
    let plain = single("Deny", "Bool", P, r#""false""#);
    let expected = [
        PitfallKind::BoolNeverAppliesToLongTermKeys,
        PitfallKind::LocksOutSelfService,
    ];
    assert_eq!(kinds(&plain), expected);
    assert!(plain.pitfalls()[0].message.contains("long-term access keys"));
    let if_exists = policy_with("Deny", r#""s3:*""#, &cond("BoolIfExists", P, r#""false""#));
    assert_eq!(if_exists.pitfalls(), Vec::new());
    let bool_s3 = policy_with("Deny", r#""s3:*""#, &cond("Bool", P, r#""false""#));
    assert_eq!(kinds(&bool_s3), vec![PitfallKind::BoolNeverAppliesToLongTermKeys]);
    // Bool "false" in an Allow is a different pitfall.
    let allow = single("Allow", "Bool", P, r#""false""#);
    assert_eq!(kinds(&allow), vec![PitfallKind::AllowOnMfaFalse]);
}

#[test]
fn allow_on_mfa_false_pitfall() {
    #[rustfmt::skip]
        let cases = [
            ("Bool", P, r#""false""#, true),
            ("BoolIfExists", P, "false", true),
            ("Null", P, r#""true""#, true),
            ("Null", A, r#""true""#, true),
            ("Bool", P, r#""true""#, false),
            ("StringEquals", "aws:username", r#""bob""#, false),
        ];
    for (op, key, value, expected) in cases {
        let policy = single("Allow", op, key, value);
        let found = kinds(&policy) == vec![PitfallKind::AllowOnMfaFalse];
        assert_eq!(found, expected, "{op} {key} {value}");
    }
}

#[test]
fn non_boolean_value_pitfall() {
    #[rustfmt::skip]
        let cases = [
            ("Bool", P, r#""yes""#, true),
            ("Bool", P, r#""1""#, true),
            ("Bool", P, "1", true),
            ("BoolIfExists", P, r#""True ""#, true),
            ("Bool", P, "[]", true),
            ("Null", A, r#""no""#, true),
            ("Bool", P, r#""TRUE""#, false),
            ("Bool", P, "true", false),
            ("Bool", P, r#""true""#, false),
        ];
    for (op, key, value, expected) in cases {
        let policy = single("Allow", op, key, value);
        let found: Vec<Pitfall> = policy
            .pitfalls()
            .into_iter()
            .filter(|p| p.kind == PitfallKind::NonBooleanValue)
            .collect();
        assert_eq!(found.len(), usize::from(expected), "{op} {value}");
        if let Some(p) = found.first() {
            assert!(p.message.contains("never matches"), "{}", p.message);
        }
    }
    let spaced = single("Deny", "Bool", P, r#""True ""#);
    assert_eq!(kinds(&spaced), vec![PitfallKind::NonBooleanValue]);
    let message = &spaced.pitfalls()[0].message;
    assert!(message.contains(r#"["true "]"#), "{message}");
}

#[test]
fn age_deny_with_and_without_null_guard() {
    let unguarded = single("Deny", "NumericGreaterThan", A, r#""3600""#);
    assert_eq!(kinds(&unguarded), vec![PitfallKind::AgeWithoutNullGuard]);
    assert!(unguarded.pitfalls()[0].message.contains("NumericGreaterThanIfExists"));

    // Guard in the same statement.
    let condition = format!(r#"{{"NumericGreaterThan":{{"{A}":"3600"}},"Null":{{"{A}":"false"}}}}"#);
    let same_statement = policy_with("Deny", r#""*""#, &condition);
    assert_eq!(same_statement.pitfalls(), Vec::new());
    let requirement = only_statement(&same_statement).mfa_requirement();
    assert_eq!(requirement, req(DenyStaleMfa, false, Some(3600)));

    // Guard in another statement of the policy.
    let text = r#"{"Statement":[
          {"Effect":"Deny","Action":"*",
           "Condition":{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}},
          {"Effect":"Deny","NotAction":["iam:*","sts:*"],
           "Condition":{"Null":{"aws:MultiFactorAuthPresent":"true"}}}]}"#;
    let guarded = parse_policy(text).expect("parses");
    assert_eq!(guarded.pitfalls(), Vec::new());
    assert_eq!(guarded.mfa_statements().len(), 2);

    // IfExists already matches the absent key; an Allow with an age bound needs no guard.
    for (effect, op) in [("Deny", "NumericGreaterThanIfExists"), ("Allow", "NumericLessThan")] {
        let policy = policy_with(effect, r#""s3:*""#, &cond(op, A, "3600"));
        assert_eq!(policy.pitfalls(), Vec::new(), "{effect} {op}");
    }
}

#[test]
fn policy_without_mfa_conditions() {
    let text = r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:*","Resource":"*"},
          {"Effect":"Deny","Action":"ec2:*","Resource":"*",
           "Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#;
    let policy = parse_policy(text).expect("parses");
    assert_eq!(policy.statements.len(), 2);
    assert!(!policy.requires_mfa());
    assert!(!policy.requires_mfa_for("s3:GetObject"));
    assert!(!policy.has_mfa_condition());
    assert!(policy.mfa_statements().is_empty());
    assert!(policy.pitfalls().is_empty());
}

#[test]
fn has_mfa_condition_counts_unevaluable_forms() {
    let policy = single("Allow", "ForAnyValue:StringEquals", P, r#""true""#);
    assert!(policy.has_mfa_condition());
    assert!(!policy.requires_mfa());
}

#[test]
fn invalid_statements_are_skipped_but_keep_their_index() {
    let text = r#"{"Statement":[5,"x",null,{"Effect":"Maybe","Action":"*"},
          {"Sid":7,"Effect":"Deny","Action":"*",
           "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    let policy = parse_policy(text).expect("parses");
    let s = only_statement(&policy);
    assert_eq!(s.index, 4);
    assert_eq!(s.sid, None);
    let pitfalls = policy.pitfalls();
    assert!(!pitfalls.is_empty());
    assert!(pitfalls.iter().all(|p| p.statement == 4), "{pitfalls:?}");
}

#[test]
fn garbage_never_panics() {
    let deep_array = "[".repeat(100_000);
    let deep_object = r#"{"a":"#.repeat(100_000);
    let deep_value = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let deep_condition = format!(
        r#"{{"Statement":{{"Effect":"Deny","Action":"*","Condition":{}}}}}"#,
        cond("Bool", P, &deep_value)
    );
    let huge = format!(
        r#"{{"Statement":{{"Effect":"Deny","Action":"{}","Sid":"{}"}}}}"#,
        "*a".repeat(200_000),
        "s".repeat(1_000_000)
    );
    let not_json = || Err(PolicyError::NotJson(String::new()));
    let no_statement = || Err(PolicyError::NoStatement);
    #[rustfmt::skip]
        let cases: Vec<(&str, Result<(), PolicyError>)> = vec![
            ("", not_json()),
            ("{", not_json()),
            ("%7B", not_json()),
            ("%", not_json()),
            ("+", not_json()),
            ("\u{feff}", not_json()),
            ("\"\"", not_json()),
            (&deep_array, not_json()),
            (&deep_object, not_json()),
            (&deep_condition, not_json()),
            ("[]", no_statement()),
            ("{}", no_statement()),
            ("null", no_statement()),
            ("\"5\"", no_statement()),
            (r#"{"Statement": 5}"#, no_statement()),
            (r#"{"Statement": null}"#, no_statement()),
            (r#"{"Version":"2012-10-17"}"#, no_statement()),
            (r#"{"Statement": []}"#, Ok(())),
            (r#"{"Statement": {}}"#, Ok(())),
            (r#"{"Statement":{"Effect":"Deny","Condition":5}}"#, Ok(())),
            (r#"{"Statement":{"Effect":"Deny","Condition":{"Bool":5,"Null":[1]}}}"#, Ok(())),
            (&huge, Ok(())),
        ];
    for (input, expected) in cases {
        let shown: String = input.chars().take(40).collect();
        let result = parse_policy(input);
        match (&result, &expected) {
            (Err(PolicyError::NotJson(reason)), Err(PolicyError::NotJson(_))) => {
                assert!(!reason.is_empty(), "{shown}");
            }
            (Err(got), Err(want)) => assert_eq!(got, want, "{shown}"),
            (Ok(policy), Ok(())) => {
                // Every query on whatever parsed must be total too.
                assert!(policy.pitfalls().is_empty(), "{shown}");
                assert!(!policy.requires_mfa(), "{shown}");
                assert!(!policy.requires_mfa_for("iam:GetUser"), "{shown}");
            }
            _ => panic!("{shown}: got {result:?}, want {expected:?}"),
        }
    }
}

#[test]
fn recursion_limit_is_reported() {
    match parse_policy(&"[".repeat(100_000)) {
        Err(PolicyError::NotJson(reason)) => {
            assert!(reason.contains("recursion limit"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pitfall_ids_and_error_display() {
    #[rustfmt::skip]
        let cases = [
            (PitfallKind::BoolNeverAppliesToLongTermKeys, "bool_never_applies_to_long_term_keys"),
            (PitfallKind::LocksOutSelfService, "locks_out_self_service"),
            (PitfallKind::AllowOnMfaFalse, "allow_on_mfa_false"),
            (PitfallKind::NonBooleanValue, "non_boolean_value"),
            (PitfallKind::AgeWithoutNullGuard, "age_without_null_guard"),
        ];
    for (kind, id) in cases {
        assert_eq!(kind.id(), id);
    }
    assert_eq!(PolicyError::NoStatement.to_string(), "policy document has no Statement");
    let not_json = PolicyError::NotJson("eof".into());
    assert_eq!(not_json.to_string(), "policy document is not JSON: eof");
    let boxed: Box<dyn std::error::Error> = Box::new(PolicyError::NoStatement);
    assert!(boxed.to_string().contains("Statement"));
}

#[test]
fn messages_clip_hostile_sids() {
    let text = format!(
        r#"{{"Statement":{{"Sid":"{}","Effect":"Deny","Action":"*","Condition":{}}}}}"#,
        "é".repeat(10_000),
        cond("Bool", P, r#""false""#)
    );
    let policy = parse_policy(&text).expect("parses");
    let pitfalls = policy.pitfalls();
    assert_eq!(pitfalls.len(), 2, "{pitfalls:?}");
    for p in &pitfalls {
        assert!(p.message.chars().count() < 600, "{}", p.message.len());
        assert!(p.message.contains('…'));
    }
}
