//! D6 — a recent policy change added an MFA requirement.
//!
//! ## Runbook step
//! > 6. If IAM policy modification events in CloudTrail (from Playbook step 8) show recent MFA
//! > requirement additions, verify users have properly configured MFA devices before policy
//! > enforcement.
//!
//! ## What it checks
//! Successful policy changes in the 24 h before T0 (48 h when extended), each judged per action
//! and kind of caller with the documents as they stood at its time: it *adds* a requirement for
//! an action when the new state holds the caller to MFA for it and the previous state did not
//! (a new statement, a widened one, `Bool` → `BoolIfExists` reaching long-term keys). An
//! identical re-put, a detach → attach or delete → put of the same document within 5 minutes
//! change nothing. A policy change causes denials, not wrong codes: what ties a change to the
//! user are the episode's MFA-required denials (stale-MFA denials for an added age limit) for
//! actions it covers, trust-policy denials only to their role's trust policy.
//!
//! ## Evidence
//! The change, the first denial after it, the statement's pitfalls.
//!
//! ## Verdicts
//! confirmed when a change adds a requirement for what the user was denied and reaches the user
//! (an inline policy, a membership or attachment in the data read); where its reach is unknown
//! (those events predate the data) or its previous version is not in the data, when the user's
//! denials of covered actions begin after it: the data read holds at least 6 h before it, in
//! which the user was at work (its own events) without those denials.
//! inconclusive when a covering change's previous version is unknown without that onset
//! evidence. ruled_out when no change before T0 adds a requirement tied to the user's denials.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the principal is not an IAM user or root.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleId, RuleMeta, Status};
use crate::event::{HOUR, Millis, format_millis};
use crate::index::policies::{Change, Reach, Target, role_key};
use crate::index::{Ev, SignalKind};
use crate::time::format_duration;

pub const META: RuleMeta = RuleMeta {
    id: RuleId::D6,
    title: "Recent MFA requirement added",
    runbook_step: "Diagnosis 6",
    checks: "policy changes before T0 that, per action and caller, require MFA where the previous state did not (inline, group, managed default version, attachment, group join, role trust), reaching the user, followed by denials they cover; unknown previous versions only with onset evidence",
    next_step: "Make sure every user the change reaches has an enabled MFA device (and that the policy lets them enable one), or roll the change back until they do.",
};

/// Where a change's previous version is unknown, the data read must hold this long before it
/// (without the user's covered denials) to show that the denials began after it.
pub const ONSET_COVERAGE: Millis = 6 * HOUR;

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
    /// The user's denials after it for actions it covers.
    pub denials_after: usize,
    /// Of those, the ones for which it adds the requirement (the previous state did not hold
    /// the user to MFA for them).
    pub denials_added: usize,
    pub pitfalls: Vec<&'static str>,
}

/// How a confirmed change is tied to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tie {
    /// The data shows the change reaches the user (with how).
    Reaches(String),
    /// Reach or previous version unknown: the user's covered denials begin after it.
    OnsetAfter,
}

/// What D6 found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    NoBaseline,
    /// No change before T0 adds a requirement tied to the user's denials.
    None,
    /// A covering change whose previous version is unknown, without onset evidence.
    PreviousUnknown {
        change: usize,
        why: String,
    },
    Confirmed {
        change: usize,
        tie: Tie,
        first: Ev,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub mfa_changes: Vec<ChangeView>,
    pub unreadable_policy_documents: Vec<String>,
    pub statement: Option<String>,
    pub pitfalls: Vec<String>,
    pub user_had_active_device: Option<bool>,
}

/// The denials a change can have caused: the user's denial signals (up to `until`) whose
/// action the change covers for that kind of caller; trust-policy denials only for a change of
/// that role's trust policy, identity denials only for identity policies.
fn covered(p: &Pass, c: &Change, denials: &[Ev]) -> Vec<(Ev, Option<bool>)> {
    let ix = p.ix;
    denials
        .iter()
        .copied()
        .filter_map(|i| {
            let e = ix.event(i);
            let kind = ix.signal(i)?;
            let matches_target = match (&c.target, kind) {
                (Target::Role(r), SignalKind::TrustDenial) => {
                    e.target_role.as_deref().is_some_and(|role| role_key(e, role) == *r)
                }
                (Target::Role(_), _) | (_, SignalKind::TrustDenial) => false,
                _ => true,
            };
            if !matches_target {
                return None;
            }
            let (action, caller) = p.denied(i)?;
            if !ix.policies.any_requires(&c.new, &action, caller) {
                return None;
            }
            Some((i, ix.policies.adds_for(c, &action, caller)))
        })
        .collect()
}

pub fn verdict(p: &Pass) -> (Verdict, Vec<ChangeView>) {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return (Verdict::NoBaseline, Vec::new());
    };
    let t = ix.event(t0).event_time;
    let data_start = ix.events.first().map_or(t, |e| e.event_time);
    // Every denial signal of the user in the data read up to `until`, for the onset test.
    let all_denials: Vec<Ev> = ix
        .signals_of(p.pid, p.until)
        .into_iter()
        .filter(|&i| ix.is_denial(i))
        .collect();
    let mut views = Vec::new();
    let mut found: Option<Verdict> = None;
    let mut unknown: Option<Verdict> = None;
    let changes = ix.policies.changes_between(p.since, t);
    let base = ix.policies.changes.len() - ix.policies.changes_between(p.since, i64::MAX).len();
    for (k, c) in changes.iter().enumerate() {
        let idx = base + k;
        let reach = ix.policies.reach(c, &p.key, t);
        let cov = covered(p, c, &all_denials);
        let after: Vec<(Ev, Option<bool>)> = cov.iter().copied().filter(|&(i, _)| i > c.event).collect();
        let before = cov.iter().any(|&(i, _)| i < c.event);
        let added: Vec<Ev> = after
            .iter()
            .filter(|(_, a)| *a == Some(true))
            .map(|(i, _)| *i)
            .collect();
        let unknown_prev: Vec<Ev> = after.iter().filter(|(_, a)| a.is_none()).map(|(i, _)| *i).collect();
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
            effect: c.effect.id(),
            effect_note: match &c.effect {
                crate::index::policies::ChangeEffect::Unknown(why) => Some(why.clone()),
                _ => None,
            },
            reaches_user: reach_id,
            reach_note,
            denials_after: after.len(),
            denials_added: added.len(),
            pitfalls: c
                .doc()
                .and_then(|d| ix.policies.docs[d].policy.as_ref().ok())
                .map(|pol| pol.pitfalls().iter().map(|x| x.kind.id()).collect())
                .unwrap_or_default(),
        });
        if found.is_some() || reach == Reach::No {
            continue;
        }
        // Onset: the user's denials of covered actions begin after the change: the data read
        // holds enough time before it, and shows the user at work then without those denials
        // (time alone proves nothing: nobody may have tried).
        let seen_before = ix
            .about_between(p.pid, data_start, c.time - 1)
            .iter()
            .any(|&i| ix.actor(i) == Some(p.pid));
        let onset = !before && seen_before && c.time - data_start >= ONSET_COVERAGE;
        if let Some(&first) = added.first() {
            match &reach {
                Reach::Yes(how) => {
                    found = Some(Verdict::Confirmed {
                        change: idx,
                        tie: Tie::Reaches(how.clone()),
                        first,
                    })
                }
                Reach::Unknown if onset => {
                    found = Some(Verdict::Confirmed {
                        change: idx,
                        tie: Tie::OnsetAfter,
                        first,
                    })
                }
                _ => {}
            }
        } else if let Some(&first) = unknown_prev.first() {
            if onset {
                found = Some(Verdict::Confirmed {
                    change: idx,
                    tie: Tie::OnsetAfter,
                    first,
                });
            } else if unknown.is_none() {
                let why = match &c.prev {
                    crate::index::policies::Prev::Unknown(w) => w.clone(),
                    crate::index::policies::Prev::Known(_) => String::new(),
                };
                unknown = Some(Verdict::PreviousUnknown { change: idx, why });
            }
        }
    }
    (found.or(unknown).unwrap_or(Verdict::None), views)
}

pub fn eval(p: &Pass) -> Finding {
    let (v, views) = verdict(p);
    render(p, v, views)
}

fn render(p: &Pass, v: Verdict, views: Vec<ChangeView>) -> Finding {
    let ix = p.ix;
    let Some(t) = p.t0_time().filter(|_| p.principal.kind.has_iam_devices()) else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    };
    let unreadable: Vec<String> = ix
        .policies
        .unreadable_between(&ix.events, p.since, t)
        .map(|(_, e)| format!("{} {} at {}", e.event_name, e.event_id, format_millis(e.event_time)))
        .collect();
    let mut m = Metrics {
        mfa_changes: views.into_iter().filter(|v| v.effect != "no_requirement").collect(),
        unreadable_policy_documents: unreadable,
        ..Metrics::default()
    };
    match v {
        Verdict::NoBaseline => unreachable!("handled above: T0 exists"),
        Verdict::None => Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "No policy change between {} and T0 {} adds an MFA requirement that the data ties to {}'s denials{}.",
                format_millis(p.since),
                format_millis(t),
                p.principal.name,
                if p.denials.is_empty() && p.stale_denials.is_empty() {
                    " (the user has no MFA-required denial: a policy change causes denials, not wrong codes)"
                } else {
                    ""
                }
            ),
        )
        .with_metrics(M::D6(m)),
        Verdict::PreviousUnknown { change, why } => {
            let c = &ix.policies.changes[change];
            Finding::new(
                &META,
                Status::Inconclusive,
                format!(
                    "{} at {} requires MFA for what the user was denied, but {why}, and the data cannot show the denials began after it: it may have added the requirement or re-applied it.",
                    c.what,
                    format_millis(c.time)
                ),
            )
            .with_evidence(vec![Evidence::of(ix, c.event, "policy change whose previous state is unknown")])
            .with_metrics(M::D6(m))
        }
        Verdict::Confirmed { change, tie, first } => {
            let c = &ix.policies.changes[change];
            let active_then = !ix.devices.active_of(&p.key, c.time).is_empty();
            let pol = c.doc().and_then(|d| ix.policies.docs[d].policy.as_ref().ok());
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
                Evidence::of(ix, c.event, format!("{} adds an MFA requirement", c.what)),
                Evidence::of(ix, first, "first denial after it for an action the new state covers"),
            ];
            let how = match tie {
                Tie::Reaches(how) => format!("it reaches the user ({how})"),
                Tie::OnsetAfter => format!(
                    "the user's denials for the actions it covers begin after it (none in the {} of data before it{})",
                    format_duration(c.time - ix.events.first().map_or(c.time, |e| e.event_time)),
                    match &c.prev {
                        crate::index::policies::Prev::Unknown(w) => format!("; {w}"),
                        crate::index::policies::Prev::Known(_) => String::new(),
                    }
                ),
            };
            let adds_text = if ix.event(c.event).event_name == "AddUserToGroup" {
                "put the user under a group policy that requires MFA"
            } else {
                "requires MFA for what the user was then denied"
            };
            Finding::new(
                &META,
                Status::Confirmed,
                format!(
                    "{} at {} ({} before T0) {adds_text}, and {how}; {} had {} active MFA device then.{}",
                    c.what,
                    format_millis(c.time),
                    format_duration(t - c.time),
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::policies::tests::{MFA_DOC, PLAIN_DOC, finance_versions, policy, put};
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, with_pass};

    const BOOL_DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","sts:GetSessionToken"],"Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    const BOOL_IF_EXISTS_DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    const EC2_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;

    fn run(events: Vec<EventRow>, user: &str) -> Verdict {
        let ix = index(events);
        with_pass(&ix, user, |p| verdict(p).0)
    }

    /// A denial of a long-term key (no session).
    fn key_denied(min: i64, user: &str, action: &str) -> EventRow {
        let mut e = ev(min, MfaRequiredDenied, Some(user), None, None);
        e.access_key_id = Some("AKIAEXAMPLE".into());
        e.denied_action = Some(action.into());
        e
    }

    fn confirmed(v: &Verdict) -> bool {
        matches!(v, Verdict::Confirmed { .. })
    }

    #[test]
    fn new_default_version_reaching_by_group() {
        let arn = "arn:aws:iam::111122223333:policy/FinanceAccess";
        let mut events = finance_versions(arn);
        events.push(ev(20, MfaRequiredDenied, Some("dave"), None, None));
        let v = run(events, "dave");
        assert!(
            matches!(
                v,
                Verdict::Confirmed {
                    tie: Tie::Reaches(_),
                    ..
                }
            ),
            "{v:?}"
        );
    }

    #[test]
    fn previous_version_unknown_needs_onset_evidence() {
        // The first put in the data, 1 minute in: the previous version is unknown and the data
        // holds no time before it.
        let v = run(
            vec![
                put(1, "dave", MFA_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert!(matches!(v, Verdict::PreviousUnknown { .. }), "{v:?}");
        // The same put 7 hours into the data, the denials beginning after it: confirmed.
        let v = run(
            vec![
                ev(0, MfaSuccess, Some("dave"), None, Some("GAHT1")),
                put(420, "dave", MFA_DOC),
                ev(430, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert!(
            matches!(
                v,
                Verdict::Confirmed {
                    tie: Tie::OnsetAfter,
                    ..
                }
            ),
            "{v:?}"
        );
        // ... but not when the user was denied the same way before it.
        let v = run(
            vec![
                ev(0, MfaSuccess, Some("dave"), None, Some("GAHT1")),
                ev(100, MfaRequiredDenied, Some("dave"), None, None),
                put(420, "dave", MFA_DOC),
                ev(430, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert!(!confirmed(&v), "{v:?}");
    }

    #[test]
    fn identical_re_puts_and_churn_change_nothing() {
        // A re-put within the window of a document already in force adds nothing.
        let v = run(
            vec![
                put(1, "dave", MFA_DOC),
                put(500, "dave", MFA_DOC),
                ev(600, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert!(!confirmed(&v), "{v:?}");
        // Delete then put the same document a minute later: no change either.
        let del = policy(499, "DeleteUserPolicy", |e| {
            e.target_user = Some("dave".into());
            e.policy_name = Some("RequireMFA".into());
        });
        let v = run(
            vec![
                put(1, "dave", MFA_DOC),
                del,
                put(500, "dave", MFA_DOC),
                ev(600, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert!(!confirmed(&v), "{v:?}");
        // A known earlier version without MFA: the change adds it.
        let v = run(
            vec![
                put(1, "dave", PLAIN_DOC),
                put(5, "dave", MFA_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert!(confirmed(&v), "{v:?}");
    }

    #[test]
    fn widening_and_bool_to_bool_if_exists_add() {
        // An MFA deny on one action becomes a deny on everything but MFA self-service.
        let v = run(
            vec![
                put(1, "dave", EC2_ONLY),
                put(5, "dave", MFA_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert!(confirmed(&v), "{v:?}");
        // Bool never applied to long-term keys; BoolIfExists does: the key's denials are new.
        let v = run(
            vec![
                put(1, "dave", BOOL_DOC),
                put(5, "dave", BOOL_IF_EXISTS_DOC),
                key_denied(20, "dave", "s3:ListAllMyBuckets"),
            ],
            "dave",
        );
        assert!(confirmed(&v), "{v:?}");
        // ... while a console session without MFA was denied under both: nothing added for it.
        let mut session = ev(20, MfaRequiredDenied, Some("dave"), None, None);
        session.mfa_authenticated = Some(false);
        let v = run(
            vec![put(1, "dave", BOOL_DOC), put(5, "dave", BOOL_IF_EXISTS_DOC), session],
            "dave",
        );
        assert!(!confirmed(&v), "{v:?}");
    }

    #[test]
    fn other_users_changes_after_t0_code_failures_and_other_actions_do_not_count() {
        let v = run(
            vec![
                put(1, "carol", PLAIN_DOC),
                put(2, "carol", MFA_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert_eq!(v, Verdict::None);
        let v = run(
            vec![
                put(1, "dave", PLAIN_DOC),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
                put(30, "dave", MFA_DOC),
            ],
            "dave",
        );
        assert_eq!(v, Verdict::None);
        // Wrong codes are not what a policy change causes.
        let v = run(
            vec![
                put(1, "dave", PLAIN_DOC),
                put(2, "dave", MFA_DOC),
                ev(20, MfaFailure, Some("dave"), None, None),
            ],
            "dave",
        );
        assert_eq!(v, Verdict::None);
        // An MFA condition on ec2:TerminateInstances does not explain an S3 denial.
        let v = run(
            vec![
                put(1, "dave", PLAIN_DOC),
                put(2, "dave", EC2_ONLY),
                ev(20, MfaRequiredDenied, Some("dave"), None, None),
            ],
            "dave",
        );
        assert_eq!(v, Verdict::None);
    }
}
