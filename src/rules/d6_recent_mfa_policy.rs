//! D6 — a recent policy change added an MFA requirement.
//!
//! ## Runbook step
//! > 6. If IAM policy modification events in CloudTrail (from Playbook step 8) show recent MFA
//! > requirement additions, verify users have properly configured MFA devices before policy
//! > enforcement.
//!
//! ## What it checks
//! Successful policy changes in the window before T0 (24 h; 48 h when extended), each judged
//! by the index against the state just before it: a change *adds* an MFA requirement only when
//! the new state requires MFA (`aws:MultiFactorAuthPresent` / `aws:MultiFactorAuthAge`, see
//! `crate::policy`) and the previous state is known (an earlier version, the policy's or
//! user's creation, a removal) and did not. A change whose previous state is not in the data is
//! inconclusive, said as such. Covers inline user and group policies, managed default versions,
//! attachments, group joins and role trust policies (reaching those who assume the role).
//! A policy change causes denials, not wrong codes: the user's MFA-required denials (and denials
//! of stale MFA sessions, for an added `aws:MultiFactorAuthAge`) after the change, for actions
//! its MFA statement covers, are what tie it to the failures.
//!
//! ## Evidence
//! The change, the first denial after it (T0), the statement's pitfalls.
//!
//! ## Verdicts
//! confirmed when an adding change reaches the user (an inline policy, or a membership or
//! attachment in the data) or, where reach is unknown because those events are older than the
//! data read, when the user's covered denials begin after it. inconclusive when such a change's
//! previous state is unknown. ruled_out when no change before T0 requires MFA for the user.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the principal is not an IAM user or root.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleMeta, Status};
use crate::event::format_millis;
use crate::index::Ev;
use crate::index::policies::{Change, ChangeEffect, Reach};
use crate::time::format_duration;

pub const META: RuleMeta = RuleMeta {
    id: "D6",
    title: "Recent MFA requirement added",
    runbook_step: "Diagnosis 6",
    checks: "policy changes before T0 whose known previous state lacked the MFA condition (inline, group, managed default version, attachment, group join, role trust), reaching the user, followed by denials they cover",
    next_step: "Make sure every user the change reaches has an enabled MFA device (and that the policy lets them enable one), or roll the change back until they do.",
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeView {
    pub event_time: String,
    pub event_name: String,
    pub event_id: String,
    pub what: String,
    /// adds | keeps | no_requirement | unreadable | unknown_previous
    pub effect: &'static str,
    pub effect_note: Option<String>,
    /// yes | no | unknown
    pub reaches_user: &'static str,
    pub reach_note: Option<String>,
    pub denials_after: usize,
    pub pitfalls: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub mfa_changes: Vec<ChangeView>,
    pub unreadable_policy_documents: Vec<String>,
    pub statement: Option<String>,
    pub pitfalls: Vec<String>,
    pub user_had_active_device: Option<bool>,
}

fn effect_id(e: &ChangeEffect) -> (&'static str, Option<String>) {
    match e {
        ChangeEffect::Adds => ("adds", None),
        ChangeEffect::Keeps => ("keeps", None),
        ChangeEffect::NoRequirement => ("no_requirement", None),
        ChangeEffect::Unreadable => ("unreadable", None),
        ChangeEffect::Unknown(why) => ("unknown_previous", Some(why.clone())),
    }
}

pub fn eval(p: &Pass) -> Finding {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    };
    let t0_time = ix.event(t0).event_time;
    let actions = p.denied_actions();
    // Denials after a change, for actions its document's MFA statements cover.
    let covered_after = |c: &Change| -> Vec<Ev> {
        let Some(pol) = c.doc.and_then(|d| ix.policies.docs[d].policy.as_ref().ok()) else {
            return Vec::new();
        };
        // MFA-required denials, and denials of stale MFA sessions (an added MultiFactorAuthAge).
        let mut denials: Vec<Ev> = p.denials.iter().chain(&p.stale_denials).copied().collect();
        denials.sort_unstable();
        denials
            .into_iter()
            .filter(|&i| i > c.event)
            .filter(|&i| {
                let e = ix.event(i);
                let action = e.denied_action.clone().unwrap_or_else(|| "sts:AssumeRole".to_owned());
                pol.requires_mfa_for(&action)
            })
            .collect()
    };
    let changes: Vec<&Change> = ix
        .policies
        .changes_between(p.since, t0_time)
        .iter()
        .filter(|c| !matches!(c.effect, ChangeEffect::NoRequirement))
        .collect();
    let mut views = Vec::new();
    let mut confirmed: Option<(&Change, String, Vec<Ev>)> = None;
    let mut unknown: Option<(&Change, String)> = None;
    for c in &changes {
        let reach = ix.policies.reach(c, &p.key, t0_time);
        let after = covered_after(c);
        let (effect, note) = effect_id(&c.effect);
        let (reach_id, reach_note) = match &reach {
            Reach::Yes(how) => ("yes", Some(how.clone())),
            Reach::No => ("no", None),
            Reach::Unknown => ("unknown", None),
        };
        views.push(ChangeView {
            event_time: format_millis(c.time),
            event_name: ix.event(c.event).event_name.clone(),
            event_id: ix.event(c.event).event_id.clone(),
            what: c.what.clone(),
            effect,
            effect_note: note.clone(),
            reaches_user: reach_id,
            reach_note,
            denials_after: after.len(),
            pitfalls: c
                .doc
                .and_then(|d| ix.policies.docs[d].policy.as_ref().ok())
                .map(|pol| pol.pitfalls().iter().map(|x| x.kind.id()).collect())
                .unwrap_or_default(),
        });
        if after.is_empty() || reach == Reach::No {
            continue;
        }
        match (&c.effect, &reach) {
            (ChangeEffect::Adds, Reach::Yes(how)) if confirmed.is_none() => {
                confirmed = Some((c, format!("reaches the user ({how})"), after));
            }
            (ChangeEffect::Adds, Reach::Unknown) if confirmed.is_none() => {
                confirmed = Some((
                    c,
                    "its reach is not in the data read (membership or attachment older than the logs), and the user's denials for the actions it covers begin after it".into(),
                    after,
                ));
            }
            (ChangeEffect::Unknown(why), _) if unknown.is_none() => {
                unknown = Some((c, why.clone()));
            }
            _ => {}
        }
    }
    let unreadable: Vec<String> = ix
        .policies
        .unreadable_between(&ix.events, p.since, t0_time)
        .map(|(_, e)| format!("{} {} at {}", e.event_name, e.event_id, format_millis(e.event_time)))
        .collect();
    let mut m = Metrics {
        mfa_changes: views,
        unreadable_policy_documents: unreadable,
        ..Metrics::default()
    };
    let Some((change, how, after)) = confirmed else {
        if let Some((c, why)) = unknown {
            return Finding::new(
                &META,
                Status::Inconclusive,
                format!(
                    "{} at {} requires MFA and the user's denials follow it, but {why}: the data cannot tell whether it added the requirement or re-applied it.",
                    c.what,
                    format_millis(c.time)
                ),
            )
            .with_evidence(vec![Evidence::of(ix, c.event, "policy change whose previous state is unknown")])
            .with_metrics(M::D6(m));
        }
        return Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "No policy change between {} and T0 {} adds an MFA requirement that the data ties to {}'s denials{}.",
                format_millis(p.since),
                format_millis(t0_time),
                p.principal.name,
                if actions.is_empty() {
                    " (the user has no MFA-required denial: a policy change causes denials, not wrong codes)"
                } else {
                    ""
                }
            ),
        )
        .with_metrics(M::D6(m));
    };
    let active_then = !ix.devices.active_of(&p.key, change.time).is_empty();
    let pol = change.doc.and_then(|d| ix.policies.docs[d].policy.as_ref().ok());
    m.statement = pol.and_then(|pol| pol.mfa_statements().first().map(|(s, _)| s.text.clone()));
    m.pitfalls = pol
        .map(|pol| {
            pol.pitfalls()
                .iter()
                .map(|x| format!("{}: {}", x.kind.id(), x.message))
                .collect()
        })
        .unwrap_or_default();
    m.user_had_active_device = Some(active_then);
    let ev = vec![
        Evidence::of(ix, change.event, format!("{} adds an MFA requirement", change.what)),
        Evidence::of(
            ix,
            after[0],
            "first denial after it for an action the new statement covers",
        ),
    ];
    let adds_text = if ix.event(change.event).event_name == "AddUserToGroup" {
        "put the user under a group policy that requires MFA"
    } else {
        "adds an MFA requirement"
    };
    Finding::new(
        &META,
        Status::Confirmed,
        format!(
            "{} at {} ({} before T0) {adds_text}, and {how}; {} had {} active MFA device then.{}",
            change.what,
            format_millis(change.time),
            format_duration(t0_time - change.time),
            p.principal.name,
            if active_then { "an" } else { "no" },
            if m.pitfalls.is_empty() {
                String::new()
            } else {
                format!(" Pitfalls: {}.", m.pitfalls.join("; "))
            }
        ),
    )
    .with_evidence(ev)
    .with_metrics(M::D6(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::tests::ev;
    use crate::rules::Status;
    use crate::rules::pass::tests::{index, pass};

    const MFA_DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:GetUser","iam:ListMFADevices","iam:ListVirtualMFADevices","iam:ResyncMFADevice","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    const PLAIN_DOC: &str =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;
    const EC2_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;

    fn policy(min: i64, name: &str, f: impl FnOnce(&mut EventRow)) -> EventRow {
        let mut e = ev(min, PolicyChange, Some("ops"), None, None);
        e.event_name = name.into();
        f(&mut e);
        e
    }

    fn run(events: Vec<EventRow>, user: &str) -> Finding {
        let ix = index(events);
        eval(&pass(&ix, user))
    }

    fn put(min: i64, user: &str, doc: &str) -> EventRow {
        let (user, doc) = (user.to_string(), doc.to_string());
        policy(min, "PutUserPolicy", move |e| {
            e.target_user = Some(user);
            e.policy_name = Some("RequireMFA".into());
            e.policy_document = Some(doc);
        })
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
        let f = run(events, "dave");
        assert_eq!(f.status, Status::Confirmed, "{}", f.summary);
        assert_eq!(f.evidence[0].event_name, "CreatePolicyVersion");
    }

    #[test]
    fn first_put_in_the_data_is_inconclusive_and_re_puts_add_nothing() {
        // Terraform re-putting the same document: the first put's previous state is unknown.
        let f = run(
            vec![
                put(1, "dave", MFA_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert_eq!(f.status, Status::Inconclusive, "{}", f.summary);
        // A re-put within the window of a document already in force adds nothing.
        let ix = index(vec![
            put(1, "dave", MFA_DOC),
            put(1_500, "dave", MFA_DOC),
            ev(1_600, MfaRequiredDenied, Some("dave"), None, None),
        ]);
        let p = crate::rules::Pass::new(
            &ix,
            crate::rules::pass::tests::pid(&ix, "dave"),
            1_000 * 60_000,
            2_000 * 60_000,
            false,
        );
        assert_eq!(eval(&p).status, Status::RuledOut);
        // A known earlier version without MFA: the change adds it.
        let f = run(
            vec![
                put(1, "dave", PLAIN_DOC),
                put(5, "dave", MFA_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert_eq!(f.status, Status::Confirmed, "{}", f.summary);
    }

    #[test]
    fn other_users_changes_after_t0_code_failures_and_other_actions_do_not_count() {
        let f = run(
            vec![
                put(1, "carol", PLAIN_DOC),
                put(2, "carol", MFA_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert_eq!(f.status, Status::RuledOut);
        let f = run(
            vec![
                put(1, "dave", PLAIN_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
                put(30, "dave", MFA_DOC),
            ],
            "dave",
        );
        assert_eq!(f.status, Status::RuledOut);
        // Wrong codes are not what a policy change causes.
        let f = run(
            vec![
                put(1, "dave", PLAIN_DOC),
                put(2, "dave", MFA_DOC),
                ev(20, MfaFailure, Some("dave"), None, None),
            ],
            "dave",
        );
        assert_eq!(f.status, Status::RuledOut);
        // An MFA condition on ec2:TerminateInstances does not explain an S3 denial.
        let f = run(
            vec![
                put(1, "dave", PLAIN_DOC),
                put(2, "dave", EC2_ONLY),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert_eq!(f.status, Status::RuledOut, "{}", f.summary);
    }
}
