//! D2 — MFA device removed while MFA is still required.
//!
//! ## Runbook step
//! > 2. If CloudTrail shows MFA device deletion events (from Playbook step 6) around the failure
//! > timestamp, the device was removed while IAM policies still require MFA, causing
//! > authentication failures.
//!
//! ## What it checks
//! A successful `DeactivateMFADevice`/`DeleteVirtualMFADevice` of one of the user's devices (by
//! `userName` in the user's account, or by a serial the data ties to the user) in the window and
//! at or before T0, followed by failure signals that point at it: failures naming the removed
//! serial (a client still configured with it); MFA-required denials; console sign-ins that
//! stopped using MFA; failures naming no serial while no other device of the user is active. A
//! device enabled after the removal and before T0 cancels the denial and no-MFA signals (the
//! user has MFA again). Device state comes from everything read, not only the window.
//!
//! ## Evidence
//! The removal event(s), the first linked failure after them, and the MFA requirement where the
//! replayed policies know it.
//!
//! ## Verdicts
//! confirmed with a removal and at least one linked signal; ruled_out when no removal of the
//! user's devices precedes T0 in the window, or when none of the later signals point at it;
//! inconclusive when the removed device is active again at T0.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the principal is not an IAM user or root.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleMeta, Status};
use crate::event::{EventClass, format_millis};
use crate::index::{DevState, Ev, SerialKey};

pub const META: RuleMeta = RuleMeta {
    id: "D2",
    title: "Device removed while MFA is required",
    runbook_step: "Diagnosis 2",
    checks: "device deactivation/deletion before T0 followed by failures naming that serial, MFA-required denials or sign-ins without MFA",
    next_step: "Register and enable a new MFA device for the user (or re-enable the old one), then update the clients (CLI profiles' mfa_serial) to the new serial.",
};

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub removals: usize,
    pub removed_serials: Vec<String>,
    pub state_at_t0: Vec<String>,
    pub linked_signals: usize,
    pub re_enabled_before_t0: Option<String>,
    pub requirements: Vec<String>,
}

pub fn eval(p: &Pass) -> Finding {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return Finding::new(
            &META,
            Status::NotEvaluable,
            "No failure baseline (D1) for an IAM user: nothing to correlate a device removal with.",
        );
    };
    let t0_time = ix.event(t0).event_time;
    let removals: Vec<Ev> = p
        .events
        .iter()
        .copied()
        .filter(|&i| {
            let e = ix.event(i);
            matches!(e.class, EventClass::DeviceDeactivated | EventClass::DeviceDeleted)
                && e.succeeded()
                && i <= t0
                && (e.subject().is_some_and(|s| s.key() == p.key)
                    || e.mfa_serial
                        .as_deref()
                        .is_some_and(|s| ix.devices.owner(&SerialKey::of(e, s)) == Some(&p.key)))
        })
        .collect();
    if removals.is_empty() {
        return Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "No deactivation or deletion of {}'s MFA devices between {} and T0 {}.",
                p.principal.name,
                format_millis(p.since),
                format_millis(t0_time)
            ),
        )
        .with_metrics(M::D2(Metrics::default()));
    }
    let first_removal = removals[0];
    let fr = ix.event(first_removal);
    let mut removed: Vec<SerialKey> = Vec::new();
    for &i in &removals {
        let e = ix.event(i);
        if let Some(s) = e.mfa_serial.as_deref() {
            let k = SerialKey::of(e, s);
            if !removed.contains(&k) {
                removed.push(k);
            }
        }
    }
    // A device (re-)enabled between the removal and T0 means the user has MFA again.
    let re_enabled = p.events.iter().copied().find(|&i| {
        let e = ix.event(i);
        e.class == EventClass::DeviceEnabled
            && e.succeeded()
            && i > first_removal
            && i <= t0
            && e.subject().is_some_and(|s| s.key() == p.key)
    });
    let mut after: Vec<Ev> = p
        .signals()
        .into_iter()
        .chain(p.own(&[EventClass::LoginSuccessNoMfa]))
        .filter(|&i| i >= first_removal)
        .collect();
    after.sort_unstable();
    let mut linked: Vec<(Ev, &'static str)> = Vec::new();
    for i in after {
        let e = ix.event(i);
        let names_removed = e
            .mfa_serial
            .as_deref()
            .is_some_and(|s| removed.contains(&SerialKey::of(e, s)));
        let why = match e.class {
            c if c.is_mfa_attempt_failure() && names_removed => Some("failure naming the removed serial"),
            c if c.is_mfa_attempt_failure()
                && e.mfa_serial.is_none()
                && !ix.typo[i as usize]
                && ix.devices.active_of(&p.key, e.event_time).is_empty() =>
            {
                Some("failure while no other device of the user is active")
            }
            EventClass::MfaRequiredDenied | EventClass::AssumeRoleDenied if re_enabled.is_none() => {
                Some("MFA-required denial after the removal")
            }
            EventClass::LoginSuccessNoMfa if re_enabled.is_none() => {
                Some("console sign-in without MFA after the removal")
            }
            _ => None,
        };
        if let Some(w) = why {
            linked.push((i, w));
        }
    }
    let state_at_t0: Vec<String> = removed
        .iter()
        .map(|s| format!("{}: {}", s.serial, ix.devices.state_at(s, t0_time).0.as_str()))
        .collect();
    let mut ev: Vec<Evidence> = removals
        .iter()
        .map(|&i| {
            let e = ix.event(i);
            Evidence::of(
                ix,
                i,
                format!("{} of {}", e.event_name, e.mfa_serial.as_deref().unwrap_or("a device")),
            )
        })
        .collect();
    let requirement = ix.policies.requirements_at(&p.key, t0_time);
    let metrics = Metrics {
        removals: removals.len(),
        removed_serials: removed.iter().map(|s| s.serial.clone()).collect(),
        state_at_t0,
        linked_signals: linked.len(),
        re_enabled_before_t0: re_enabled.map(|i| format_millis(ix.event(i).event_time)),
        requirements: requirement.iter().map(|r| r.via.clone()).collect(),
    };
    let who = fr.user_name.as_deref().or(fr.role_name.as_deref()).unwrap_or("someone");
    let removed_list = removed.iter().map(|s| s.serial.as_str()).collect::<Vec<_>>().join(", ");
    if linked.is_empty() {
        let why = match re_enabled {
            Some(i) => format!(
                "a device was enabled again at {} before T0, and no failure names the removed serial",
                format_millis(ix.event(i).event_time)
            ),
            None => "no later failure names the removed serial or shows a missing device".into(),
        };
        return Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "{who} removed {removed_list} at {}, but {why}.",
                format_millis(fr.event_time)
            ),
        )
        .with_evidence(ev)
        .with_metrics(M::D2(metrics));
    }
    let (first, why) = linked[0];
    ev.push(Evidence::of(ix, first, format!("first {why}")));
    let still_active = removed
        .iter()
        .all(|s| ix.devices.state_at(s, t0_time).0 == DevState::Active);
    let req_text = if let Some(r) = requirement.first() {
        ev.push(Evidence::of_doc(ix, r.doc, format!("MFA requirement: {}", r.via)));
        format!(" MFA is required by {}.", r.via)
    } else if !p.denials.is_empty() {
        " MFA-required denials show a policy still requires MFA.".to_string()
    } else {
        String::new()
    };
    let status = if still_active {
        Status::Inconclusive
    } else {
        Status::Confirmed
    };
    let active_note = if still_active {
        " The removed device is active again at T0, so the removal alone does not explain the failures."
    } else {
        ""
    };
    Finding::new(
        &META,
        status,
        format!(
            "{who} {} {removed_list} at {} ({} before T0); then {} linked failure signal(s), first at {}: {why}.{req_text}{active_note}",
            if fr.class == EventClass::DeviceDeleted {
                "deleted"
            } else {
                "deactivated"
            },
            format_millis(fr.event_time),
            crate::time::format_duration(t0_time - fr.event_time),
            linked.len(),
            format_millis(ix.event(first).event_time),
        ),
    )
    .with_evidence(ev)
    .with_metrics(M::D2(metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, pass};

    const S: &str = "arn:aws:iam::111122223333:mfa/alice";

    fn run(events: Vec<EventRow>) -> Finding {
        let ix = index(events);
        eval(&pass(&ix, "alice"))
    }

    #[test]
    fn removal_then_failures_naming_it() {
        let f = run(vec![
            ev(10, DeviceEnabled, Some("ops"), Some("alice"), Some(S)),
            ev(20, DeviceDeactivated, Some("ops"), Some("alice"), Some(S)),
            ev(21, DeviceDeleted, Some("ops"), None, Some(S)),
            ev(30, MfaFailure, Some("alice"), None, Some(S)),
        ]);
        assert_eq!(f.status, Status::Confirmed, "{}", f.summary);
        assert_eq!(f.evidence.len(), 3);
        assert_eq!(f.evidence[2].event_id, "e30-mfa_failure");
    }

    #[test]
    fn re_enabled_device_cancels_denials_but_not_stale_serial() {
        let mut events = vec![
            ev(10, DeviceDeactivated, Some("ops"), Some("alice"), Some(S)),
            ev(
                15,
                DeviceEnabled,
                Some("alice"),
                Some("alice"),
                Some("arn:aws:iam::111122223333:mfa/alice-new"),
            ),
            ev(30, MfaRequiredDenied, Some("alice"), None, None),
        ];
        assert_eq!(run(events.clone()).status, Status::RuledOut);
        events.push(ev(40, MfaFailure, Some("alice"), None, Some(S)));
        assert_eq!(run(events).status, Status::Confirmed);
    }

    #[test]
    fn nothing_removed_no_baseline_or_someone_elses_device() {
        assert_eq!(
            run(vec![ev(30, MfaFailure, Some("alice"), None, Some(S))]).status,
            Status::RuledOut
        );
        assert_eq!(
            run(vec![
                ev(30, DeviceDeleted, Some("ops"), Some("alice"), Some(S)),
                ev(31, MfaFailure, Some("bob"), None, None)
            ])
            .status,
            Status::NotEvaluable
        );
        // Another user's device removed: not alice's.
        let f = run(vec![
            ev(
                10,
                DeviceDeactivated,
                Some("ops"),
                Some("bob"),
                Some("arn:aws:iam::111122223333:mfa/bob"),
            ),
            ev(30, MfaRequiredDenied, Some("alice"), None, None),
        ]);
        assert_eq!(f.status, Status::RuledOut);
    }

    #[test]
    fn the_same_name_in_another_account_is_another_user() {
        let mut sandbox_removal = ev(
            10,
            DeviceDeactivated,
            Some("ops"),
            Some("alice"),
            Some("arn:aws:iam::444455556666:mfa/alice"),
        );
        sandbox_removal.recipient_account_id = Some("444455556666".into());
        sandbox_removal.account_id = Some("444455556666".into());
        let f = run(vec![
            sandbox_removal,
            ev(30, MfaRequiredDenied, Some("alice"), None, None),
        ]);
        assert_eq!(f.status, Status::RuledOut, "{}", f.summary);
    }
}
