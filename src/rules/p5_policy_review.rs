//! P5 — the policy review, with the IAM snapshot (`--iam-snapshot`).
//!
//! ## Runbook step
//! > 5. List IAM policies attached to user `<user-name>` and check for MFA requirement
//! > conditions in policy statements, verifying policy condition syntax.
//!
//! ## What it checks
//! The policies that reach the user at T0 (inline, through groups, managed default versions),
//! replayed from the snapshot over the logs: each statement that makes MFA a requirement, for
//! which actions, and the pitfalls of DESIGN §6 in it. Every requirement says whether it is
//! known from the snapshot or from the logs.
//!
//! ## Verdicts
//! confirmed: MFA is required of the user (the statements are listed). ruled_out: the snapshot
//! lists the user and nothing reaching them requires MFA. inconclusive: the snapshot cannot be
//! replayed to T0. not_evaluable: the snapshot does not list the user, or no snapshot.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, RuleId, RuleMeta, Status};
use crate::event::{Millis, format_millis};
use crate::index::{Index, Pid};
use crate::policy::{Actions, RequirementKind};

pub const META: RuleMeta = RuleMeta {
    id: RuleId::P5,
    title: "Policy review (IAM snapshot)",
    runbook_step: "Playbook 5",
    checks: "the policies reaching the user at T0, replayed from the IAM snapshot over the logs: MFA statements, the actions they cover, pitfalls",
    next_step: "Keep the requirement and give the user a working device, or fix the pitfall the review names.",
};

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    /// Each requirement: through what, from where, the statements and their actions.
    pub requirements: Vec<Requirement>,
    /// What the snapshot lists for the user.
    pub groups: Vec<String>,
    pub attached: Vec<String>,
    pub inline: Vec<String>,
    pub pitfalls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requirement {
    pub via: String,
    /// `snapshot` or `log`.
    pub source: &'static str,
    pub statements: Vec<String>,
}

fn actions(a: &Actions) -> String {
    match a {
        Actions::Action(v) => format!("Action {}", v.join(", ")),
        Actions::NotAction(v) => format!("every action but {}", v.join(", ")),
    }
}

pub fn finding(ix: &Index, p: Pid, t0: Option<Millis>, until: Millis) -> Finding {
    let (principal, v) =
        match super::snapshot_review(ix, p, &META, "Not an IAM user: IAM policies do not make it use MFA.") {
            Ok(x) => x,
            Err(f) => return *f,
        };
    let t = t0.unwrap_or(until);
    let key = principal.key();
    let listed = v.snap.user(&principal.account, &principal.name);
    let mut m = Metrics::default();
    if let Some(u) = listed {
        m.groups = u.groups.clone();
        m.attached = u.attached.clone();
        m.inline = u.inline.iter().map(|d| d.name.clone()).collect();
    }
    let mut ev = Vec::new();
    for r in ix.policies.requirements_at(&key, t) {
        let doc = &ix.policies.docs[r.doc];
        let Ok(pol) = doc.policy.as_ref() else { continue };
        let statements: Vec<String> = pol
            .mfa_statements()
            .iter()
            .map(|(s, q)| {
                let how = match q.kind {
                    RequirementKind::DenyWithoutMfa => "denies without MFA",
                    RequirementKind::AllowOnlyWithMfa => "allows only with MFA",
                    RequirementKind::DenyStaleMfa => "denies MFA older than its MultiFactorAuthAge",
                };
                let keys = if q.applies_to_long_term_keys {
                    ""
                } else {
                    " (not calls signed with long-term access keys)"
                };
                format!("{}: {how}{keys}: {}", s.label(), actions(&s.actions))
            })
            .collect();
        m.pitfalls.extend(
            pol.pitfalls()
                .into_iter()
                .map(|x| format!("{} ({}): {}", x.kind.id(), r.via, x.message)),
        );
        ev.push(Evidence::of_doc(ix, r.doc, format!("MFA requirement: {}", r.via)));
        m.requirements.push(Requirement {
            source: if r.via.ends_with("(IAM snapshot)") {
                "snapshot"
            } else {
                "log"
            },
            via: r.via,
            statements,
        });
    }
    let at = format_millis(t);
    let (status, summary) = if let Some(other) = &v.other_accounts {
        (Status::NotEvaluable, format!("Not used: {other}."))
    } else if !m.requirements.is_empty() {
        let vias: Vec<&str> = m.requirements.iter().map(|r| r.via.as_str()).collect();
        (
            Status::Confirmed,
            format!(
                "MFA is required of {} at {at} by {}.{}",
                principal.name,
                vias.join("; "),
                if m.pitfalls.is_empty() {
                    String::new()
                } else {
                    format!(" Pitfalls: {}.", m.pitfalls.join(" "))
                }
            ),
        )
    } else if let Some(why) = &v.not_replayed {
        (
            Status::Inconclusive,
            format!("The snapshot's policies cannot be replayed to {at}: {why}."),
        )
    } else if listed.is_some() {
        (
            Status::RuledOut,
            format!(
                "No policy reaching {} at {at} requires MFA (snapshot: groups {}, {} managed and {} inline policies, replayed over the logs).",
                principal.name,
                if m.groups.is_empty() {
                    "none".to_owned()
                } else {
                    m.groups.join(", ")
                },
                m.attached.len(),
                m.inline.len()
            ),
        )
    } else {
        (
            Status::NotEvaluable,
            format!(
                "The IAM snapshot does not list {} (UserDetailList of get-account-authorization-details).",
                principal.name
            ),
        )
    };
    Finding::new(&META, status, summary)
        .with_evidence(ev)
        .with_metrics(M::P5(m))
}
