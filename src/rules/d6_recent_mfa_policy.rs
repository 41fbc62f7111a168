//! D6 — a recent policy change added an MFA requirement.
//!
//! ## Runbook step
//! > 6. If IAM policy modification events in CloudTrail (from Playbook step 8) show recent MFA
//! > requirement additions, verify users have properly configured MFA devices before policy
//! > enforcement.
//!
//! ## What it checks
//! Successful policy changes in the window before T0 (24 h; 48 h when extended), each judged
//! with the documents as they stood at its time: a change "adds" an MFA requirement when the
//! new effective document requires MFA (`aws:MultiFactorAuthPresent` / `aws:MultiFactorAuthAge`
//! with Bool / BoolIfExists / Null / Numeric operators, see `crate::policy`) and the previous one,
//! where known, did not. Covers inline user/group policies, new default versions of managed
//! policies (CreatePolicyVersion with setAsDefault, SetDefaultPolicyVersion), attachments of
//! MFA-requiring managed policies, and joining a group whose policies require MFA.
//!
//! ## Evidence
//! The change, the statement that requires MFA, its pitfalls, and for each user it reaches
//! whether they had an active device then.
//!
//! ## Verdicts
//! confirmed when an adding change reaches the user (inline policy, membership or attachment
//! seen in the data) or, where reach is unknown because those events are older than the data
//! read, when the user's failures begin after it. ruled_out when no change before T0 adds MFA
//! for the user.
//!
//! ## Not evaluable when
//! there is no T0 (D1).

use super::{Ctx, Evidence, Finding, RuleMeta, Status};
use crate::time::{format_duration, format_millis};

pub const META: RuleMeta = RuleMeta {
    id: "D6",
    title: "Recent MFA requirement added",
    runbook_step: "Diagnosis 6",
    checks: "policy changes before T0 that add an MFA condition (inline, group, managed default version, attachment, group join) and reach the user",
};

pub fn eval(ctx: &Ctx) -> Finding {
    let Some(t0) = ctx.t0 else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1).");
    };
    let adding: Vec<_> = ctx
        .policies
        .changes_until(t0.event_time)
        .filter(|c| c.adds_mfa)
        .collect();
    let all_adding: Vec<serde_json::Value> = adding
        .iter()
        .map(|c| {
            let reached: Vec<serde_json::Value> = match &c.reach {
                super::policies::Reach::Users(u) | super::policies::Reach::Partly { known: u } => u
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "user": u,
                            "active_device_then": !ctx.devices.active_of(u, c.event.event_time).is_empty(),
                        })
                    })
                    .collect(),
            };
            serde_json::json!({
                "event_time": format_millis(c.event.event_time),
                "event_name": c.event.event_name,
                "what": c.what,
                "reaches": reached,
                "reach_complete": matches!(c.reach, super::policies::Reach::Users(_)),
                "pitfalls": c.pitfalls.iter().map(|p| p.kind.id()).collect::<Vec<_>>(),
            })
        })
        .collect();
    // Documents that could not be read cannot be judged: say which, never skip them silently.
    let unreadable: Vec<String> = ctx
        .win
        .iter()
        .filter(|e| e.event_time <= t0.event_time)
        .filter(|e| {
            e.policy_document
                .as_deref()
                .is_some_and(|d| crate::policy::parse_policy(d).is_err())
        })
        .map(|e| format!("{} {} at {}", e.event_name, e.event_id, format_millis(e.event_time)))
        .collect();
    let base = Finding::new(&META, Status::RuledOut, "")
        .metric("mfa_additions", all_adding)
        .metric("unreadable_policy_documents", unreadable);
    // Reaching the user for sure first, then by timing only.
    let known = adding.iter().find(|c| c.reach.reaches(ctx.user) == Some(true));
    let by_time = adding
        .iter()
        .find(|c| c.reach.reaches(ctx.user).is_none() && c.event.event_time < t0.event_time);
    let (change, how) = match (known, by_time) {
        (Some(c), _) => (c, "reaches the user".to_string()),
        (None, Some(c)) => (
            c,
            "its reach is not in the data read (membership/attachment older than the logs), and the user's failures begin after it".to_string(),
        ),
        (None, None) => {
            return Finding {
                summary: format!(
                    "No policy change between {} and T0 {} adds an MFA requirement for {}.",
                    format_millis(ctx.since),
                    format_millis(t0.event_time),
                    ctx.user
                ),
                ..base
            };
        }
    };
    let active_then = !ctx.devices.active_of(ctx.user, change.event.event_time).is_empty();
    let mut ev = vec![Evidence::of(
        change.event,
        format!("{} adds an MFA requirement", change.what),
    )];
    ev.push(Evidence::of(t0, "first failure signal after it (T0)"));
    let statement = change.requirements.first().map(|(s, _)| s.clone()).unwrap_or_default();
    let pitfalls: Vec<String> = change
        .pitfalls
        .iter()
        .map(|p| format!("{}: {}", p.kind.id(), p.message))
        .collect();
    Finding {
        status: Status::Confirmed,
        summary: format!(
            "{} at {} ({} before T0) {}, and {}; {} had {} active MFA device then.{}",
            change.what,
            format_millis(change.event.event_time),
            format_duration(t0.event_time - change.event.event_time),
            if change.event.event_name == "AddUserToGroup" {
                "put the user under a group policy that requires MFA"
            } else {
                "adds an MFA requirement"
            },
            how,
            ctx.user,
            if active_then { "an" } else { "no" },
            if pitfalls.is_empty() {
                String::new()
            } else {
                format!(" Pitfalls: {}.", pitfalls.join("; "))
            }
        ),
        evidence: ev,
        ..base
    }
    .metric("statement", statement)
    .metric("pitfalls", pitfalls)
    .metric("user_had_active_device", active_then)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::EventClass::*;
    use crate::parse::EventRow;
    use crate::rules::context::tests::ev;

    const MFA_DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:GetUser","iam:ListMFADevices","iam:ListVirtualMFADevices","iam:ResyncMFADevice","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    const PLAIN_DOC: &str =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;

    fn policy(min: i64, name: &str, f: impl FnOnce(&mut EventRow)) -> EventRow {
        let mut e = ev(min, PolicyChange, Some("ops"), None, None);
        e.event_name = name.into();
        f(&mut e);
        e
    }

    fn run(mut events: Vec<EventRow>, user: &'static str) -> Finding {
        events.sort_by_key(|e| e.event_time);
        let leaked: &'static [EventRow] = Box::leak(events.into_boxed_slice());
        eval(&Ctx::new(leaked, user, 0, 1_000 * 60_000, false))
    }

    #[test]
    fn new_default_version_reaching_by_group() {
        let arn = "arn:aws:iam::111122223333:policy/FinanceAccess";
        let events = vec![
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
            ev(20, MfaRequiredDenied, Some("dave"), None, None),
        ];
        let f = run(events.clone(), "dave");
        assert_eq!(f.status, Status::Confirmed, "{}", f.summary);
        assert_eq!(f.evidence[0].event_name, "CreatePolicyVersion");
        // Re-putting a document that already required MFA adds nothing.
        let mut again = events;
        again.insert(
            4,
            policy(5, "CreatePolicyVersion", |e| {
                e.policy_arn = Some(arn.into());
                e.policy_document = Some(MFA_DOC.into());
                e.set_as_default = Some(true);
                e.policy_version = Some("v2b".into());
            }),
        );
        let f = run(again, "dave");
        assert_eq!(f.evidence[0].event_time, crate::time::format_millis(5 * 60_000));
    }

    #[test]
    fn other_users_inline_policy_and_changes_after_t0_do_not_count() {
        let put = |min, user: &str| {
            let user = user.to_string();
            policy(min, "PutUserPolicy", move |e| {
                e.target_user = Some(user);
                e.policy_name = Some("RequireMFA".into());
                e.policy_document = Some(MFA_DOC.into());
            })
        };
        let f = run(
            vec![put(1, "carol"), ev(20, MfaFailure, Some("dave"), None, None)],
            "dave",
        );
        assert_eq!(f.status, Status::RuledOut);
        let f = run(
            vec![ev(20, MfaFailure, Some("dave"), None, None), put(30, "dave")],
            "dave",
        );
        assert_eq!(f.status, Status::RuledOut);
        let f = run(
            vec![put(1, "dave"), ev(20, MfaFailure, Some("dave"), None, None)],
            "dave",
        );
        assert_eq!(f.status, Status::Confirmed);
    }
}
