//! D2 — MFA device removed while MFA is still required.
//!
//! ## Runbook step
//! > 2. If CloudTrail shows MFA device deletion events (from Playbook step 6) around the failure
//! > timestamp, the device was removed while IAM policies still require MFA, causing
//! > authentication failures.
//!
//! ## What it checks
//! A successful `DeactivateMFADevice`/`DeleteVirtualMFADevice` of one of the user's devices (by
//! `userName`, or by a serial the data ties to the user) at or before T0, followed by failure
//! signals that point at it: failures naming the removed serial (a client still configured with
//! it); MFA-required denials; console sign-ins that stopped using MFA; failures naming no serial
//! while no other device of the user is active. A device enabled after the removal and before
//! T0 cancels the denial and no-MFA signals (the user has MFA again).
//!
//! ## Evidence
//! The removal event(s), the first linked failure after them, and the MFA requirement where the
//! replayed policies know it.
//!
//! ## Verdicts
//! confirmed with a removal and at least one linked signal; ruled_out when no removal of the
//! user's devices precedes T0 in the window, or when none of the later signals point at it.
//!
//! ## Not evaluable when
//! there is no T0 (D1).

use super::devices::DevState;
use super::{Ctx, Evidence, Finding, RuleMeta, Status};
use crate::parse::{EventClass, EventRow};
use crate::time::format_millis;

pub const META: RuleMeta = RuleMeta {
    id: "D2",
    title: "Device removed while MFA is required",
    runbook_step: "Diagnosis 2",
    checks: "device deactivation/deletion before T0 followed by failures naming that serial, MFA-required denials or sign-ins without MFA",
};

pub fn eval(ctx: &Ctx) -> Finding {
    let Some(t0) = ctx.t0 else {
        return Finding::new(
            &META,
            Status::NotEvaluable,
            "No failure baseline (D1): nothing to correlate a device removal with.",
        );
    };
    let mine = ctx.devices.serials_of(ctx.user);
    let removals: Vec<&EventRow> = ctx
        .win
        .iter()
        .copied()
        .filter(|e| {
            matches!(e.class, EventClass::DeviceDeactivated | EventClass::DeviceDeleted)
                && e.succeeded()
                && e.event_time <= t0.event_time
                && (e
                    .target_user
                    .as_deref()
                    .is_some_and(|u| super::context::same_user(u, ctx.user))
                    || e.mfa_serial.as_deref().is_some_and(|s| mine.contains(&s)))
        })
        .collect();
    if removals.is_empty() {
        return Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "No deactivation or deletion of {}'s MFA devices between {} and T0 {}.",
                ctx.user,
                format_millis(ctx.since),
                format_millis(t0.event_time)
            ),
        )
        .metric("removals", 0);
    }
    let first_removal = removals[0];
    let mut removed: Vec<&str> = Vec::new();
    for s in removals.iter().filter_map(|e| e.mfa_serial.as_deref()) {
        if !removed.contains(&s) {
            removed.push(s);
        }
    }
    // A device (re-)enabled between the removal and T0 means the user has MFA again.
    let re_enabled = ctx.win.iter().copied().find(|e| {
        e.class == EventClass::DeviceEnabled
            && e.succeeded()
            && e.event_time > first_removal.event_time
            && e.event_time <= t0.event_time
            && e.target_user
                .as_deref()
                .is_some_and(|u| super::context::same_user(u, ctx.user))
    });
    let after: Vec<&EventRow> = ctx
        .signals()
        .into_iter()
        .chain(ctx.mine(&[EventClass::LoginSuccessNoMfa]))
        .filter(|e| e.event_time >= first_removal.event_time)
        .collect();
    let mut linked: Vec<(&EventRow, &'static str)> = Vec::new();
    for e in &after {
        let why = match (e.class, e.mfa_serial.as_deref()) {
            (EventClass::MfaFailure, Some(s)) if removed.contains(&s) => Some("failure naming the removed serial"),
            (EventClass::MfaFailure, None) if ctx.devices.active_of(ctx.user, e.event_time).is_empty() => {
                Some("failure while no other device of the user is active")
            }
            (EventClass::MfaRequiredDenied, _) if re_enabled.is_none() => Some("MFA-required denial after the removal"),
            (EventClass::LoginSuccessNoMfa, _) if re_enabled.is_none() => {
                Some("console sign-in without MFA after the removal")
            }
            _ => None,
        };
        if let Some(w) = why {
            linked.push((e, w));
        }
    }
    let state_at_t0: Vec<String> = removed
        .iter()
        .map(|s| format!("{s}: {}", ctx.devices.state_at(s, t0.event_time).0.as_str()))
        .collect();
    let mut ev: Vec<Evidence> = removals
        .iter()
        .map(|e| {
            Evidence::of(
                e,
                format!("{} of {}", e.event_name, e.mfa_serial.as_deref().unwrap_or("a device")),
            )
        })
        .collect();
    let requirement = ctx.policies.requirements_for(ctx.user);
    let base = Finding::new(&META, Status::Inconclusive, "")
        .metric("removals", removals.len())
        .metric(
            "removed_serials",
            removed.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .metric("state_at_t0", state_at_t0)
        .metric("linked_signals", linked.len())
        .metric("re_enabled_before_t0", re_enabled.map(|e| format_millis(e.event_time)));
    if linked.is_empty() {
        let why = match re_enabled {
            Some(e) => format!(
                "a device was enabled again at {} before T0, and no failure names the removed serial",
                format_millis(e.event_time)
            ),
            None => "no later failure names the removed serial or shows a missing device".into(),
        };
        return Finding {
            status: Status::RuledOut,
            summary: format!(
                "{} removed {} at {}, but {why}.",
                first_removal.user_name.as_deref().unwrap_or("someone"),
                removed.join(", "),
                format_millis(first_removal.event_time)
            ),
            evidence: ev,
            ..base
        };
    }
    let (first, why) = linked[0];
    ev.push(Evidence::of(first, format!("first {why}")));
    let still_active = removed
        .iter()
        .all(|s| ctx.devices.state_at(s, t0.event_time).0 == DevState::Active);
    let req_text = if let Some(r) = requirement.first() {
        ev.push(Evidence::of(r.event, format!("MFA requirement: {}", r.via)));
        format!(" MFA is required by {}.", r.via)
    } else if !ctx.denials.is_empty() {
        " MFA-required denials show a policy still requires MFA.".to_string()
    } else {
        String::new()
    };
    Finding {
        status: if still_active {
            Status::Inconclusive
        } else {
            Status::Confirmed
        },
        summary: format!(
            "{} {} {} at {} ({} before T0); then {} linked failure signal(s), first at {}: {}.{}",
            first_removal.user_name.as_deref().unwrap_or("someone"),
            if first_removal.class == EventClass::DeviceDeleted {
                "deleted"
            } else {
                "deactivated"
            },
            removed.join(", "),
            format_millis(first_removal.event_time),
            crate::time::format_duration(t0.event_time - first_removal.event_time),
            linked.len(),
            format_millis(first.event_time),
            why,
            req_text
        ),
        evidence: ev,
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::EventClass::*;
    use crate::rules::context::tests::ev;

    const S: &str = "arn:aws:iam::1:mfa/alice";

    fn run(events: &mut [EventRow]) -> Finding {
        events.sort_by_key(|e| e.event_time);
        eval(&Ctx::new(events, "alice", 0, 1_000 * 60_000, false))
    }

    #[test]
    fn removal_then_failures_naming_it() {
        let mut events = vec![
            ev(10, DeviceEnabled, Some("ops"), Some("alice"), Some(S)),
            ev(20, DeviceDeactivated, Some("ops"), Some("alice"), Some(S)),
            ev(21, DeviceDeleted, Some("ops"), None, Some(S)),
            ev(30, MfaFailure, Some("alice"), None, Some(S)),
        ];
        let f = run(&mut events);
        assert_eq!(f.status, Status::Confirmed, "{}", f.summary);
        assert_eq!(f.evidence.len(), 3);
        assert_eq!(f.evidence[2].event_id, "e30-mfa_failure");
    }

    #[test]
    fn re_enabled_device_cancels_denials_but_not_stale_serial() {
        let mut events = vec![
            ev(10, DeviceDeactivated, Some("ops"), Some("alice"), Some(S)),
            ev(15, DeviceEnabled, Some("alice"), Some("alice"), Some("new")),
            ev(30, MfaRequiredDenied, Some("alice"), None, None),
        ];
        assert_eq!(run(&mut events).status, Status::RuledOut);
        events.push(ev(40, MfaFailure, Some("alice"), None, Some(S)));
        assert_eq!(run(&mut events).status, Status::Confirmed);
    }

    #[test]
    fn nothing_removed_or_no_baseline() {
        let mut events = vec![ev(30, MfaFailure, Some("alice"), None, Some(S))];
        assert_eq!(run(&mut events).status, Status::RuledOut);
        let mut none = vec![ev(30, DeviceDeleted, Some("ops"), Some("alice"), Some(S))];
        assert_eq!(run(&mut none).status, Status::NotEvaluable);
        // Another user's device removed: not alice's.
        let mut other = vec![
            ev(
                10,
                DeviceDeactivated,
                Some("ops"),
                Some("bob"),
                Some("arn:aws:iam::1:mfa/bob"),
            ),
            ev(30, MfaRequiredDenied, Some("alice"), None, None),
        ];
        assert_eq!(run(&mut other).status, Status::RuledOut);
    }
}
