//! D3 — a policy requires MFA but the user has no active device.
//!
//! ## Runbook step
//! > 3. If IAM policies (from Playbook step 5) show MFA condition requirements but user MFA
//! > configuration (from Playbook step 2) shows no active device, the policy requires MFA but no
//! > device is configured or enabled.
//!
//! ## What it checks
//! The state of each of the user's serials at T0 (lifecycle events and use, per serial). "No
//! active device" needs positive evidence: every serial known from lifecycle events is
//! deactivated or deleted at T0; or a console sign-in with MFAUsed=No succeeded while MFA is
//! required and no device is active; or the user was created in the data read and never enabled
//! a device. A failure naming a serial whose state the data cannot establish shows a
//! misconfigured client, not a missing device: alone it leaves D3 inconclusive.
//! The requirement: a replayed policy reaching the user (inline, group, managed default
//! version), or the user's MFA-required denials.
//!
//! ## Evidence
//! The events that show each serial's state, the no-MFA sign-in or CreateUser, the requirement.
//!
//! ## Verdicts
//! confirmed: no active device at T0 and a requirement reaches the user. ruled_out: a device is
//! active at T0. inconclusive: device state or requirement unknown.
//!
//! ## Not evaluable when
//! there is no T0 (D1).

use super::devices::DevState;
use super::{Ctx, Evidence, Finding, RuleMeta, Status};
use crate::parse::{EventClass, EventRow};
use crate::time::format_millis;

pub const META: RuleMeta = RuleMeta {
    id: "D3",
    title: "MFA required but no active device",
    runbook_step: "Diagnosis 3",
    checks: "per-serial device state at T0 (lifecycle + use) shows no active device while a policy or MFA-required denials show MFA is required",
};

pub fn eval(ctx: &Ctx) -> Finding {
    let Some(t0) = ctx.t0 else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1).");
    };
    let t = t0.event_time;
    let serials = ctx.devices.serials_of(ctx.user);
    let states: Vec<(&str, DevState, Option<&EventRow>)> = serials
        .iter()
        .map(|s| {
            let (st, e) = ctx.devices.state_at(s, t);
            (*s, st, e)
        })
        .collect();
    let state_list: Vec<String> = states
        .iter()
        .map(|(s, st, _)| format!("{s}: {}", st.as_str()))
        .collect();
    let requirement = ctx.policies.requirements_for(ctx.user);
    let base = Finding::new(&META, Status::Inconclusive, "")
        .metric("serials_at_t0", state_list.clone())
        .metric(
            "requirements",
            requirement.iter().map(|r| r.via.clone()).collect::<Vec<_>>(),
        )
        .metric("mfa_required_denials", ctx.denials.len())
        .metric(
            "policy_pitfalls",
            requirement
                .iter()
                .flat_map(|r| {
                    r.pitfalls
                        .iter()
                        .map(move |p| format!("{} ({}): {}", p.kind.id(), r.via, p.message))
                })
                .collect::<Vec<_>>(),
        );

    if let Some((s, _, e)) = states.iter().find(|(_, st, _)| *st == DevState::Active) {
        let mut ev = Vec::new();
        if let Some(e) = e {
            ev.push(Evidence::of(e, format!("shows {s} active at T0")));
        }
        return Finding {
            status: Status::RuledOut,
            summary: format!("{} has an active MFA device at T0 {}: {s}.", ctx.user, format_millis(t)),
            evidence: ev,
            ..base
        };
    }

    // Positive evidence of "no active device".
    let mut ev: Vec<Evidence> = Vec::new();
    let known_all_removed = !states.is_empty()
        && states.iter().all(|(_, st, _)| st.removed())
        && states.iter().all(|(s, _, _)| !ctx.devices.lifecycle(s).is_empty());
    let mut reason = None;
    if known_all_removed {
        for (s, st, e) in &states {
            if let Some(e) = e {
                ev.push(Evidence::of(e, format!("{s} {} before T0", st.as_str())));
            }
        }
        reason = Some(format!(
            "every device of the user is removed at T0 ({})",
            state_list.join(", ")
        ));
    }
    let no_mfa_login = ctx.mine(&[EventClass::LoginSuccessNoMfa]).into_iter().find(|e| {
        ctx.devices.active_of(ctx.user, e.event_time).is_empty() && e.identity_type.as_deref() == Some("IAMUser")
    });
    let created = ctx.win.iter().copied().find(|e| {
        e.class == EventClass::UserCreated
            && e.succeeded()
            && e.target_user
                .as_deref()
                .is_some_and(|u| super::context::same_user(u, ctx.user))
            && e.event_time <= t
    });
    let enabled_since_creation = created.is_some_and(|c| {
        ctx.win.iter().any(|e| {
            e.class == EventClass::DeviceEnabled
                && e.succeeded()
                && e.event_time >= c.event_time
                && e.event_time <= t
                && e.target_user
                    .as_deref()
                    .is_some_and(|u| super::context::same_user(u, ctx.user))
        })
    });
    if reason.is_none()
        && let Some(c) = created.filter(|_| !enabled_since_creation)
    {
        ev.push(Evidence::of(
            c,
            "user created in the data read; no device enabled since",
        ));
        reason = Some(format!(
            "the user was created at {} and never enabled a device",
            format_millis(c.event_time)
        ));
    }
    if reason.is_none()
        && let Some(l) = no_mfa_login
    {
        ev.push(Evidence::of(
            l,
            "console sign-in succeeded without MFA while no device is active",
        ));
        reason = Some(format!(
            "a console sign-in without MFA succeeded at {}",
            format_millis(l.event_time)
        ));
    }
    let stale_serial = ctx.failures.iter().find(|e| {
        e.mfa_serial
            .as_deref()
            .is_some_and(|s| ctx.devices.state_at(s, t).0 == DevState::Unknown)
    });

    let Some(reason) = reason else {
        let why = match stale_serial {
            Some(e) => format!(
                "failures name {} whose state the data cannot establish (a client with a stale or unknown serial shows misconfiguration, not a missing device)",
                e.mfa_serial.as_deref().unwrap_or("?")
            ),
            None => {
                "the data read shows no device lifecycle, no no-MFA sign-in and no user creation for the user".into()
            }
        };
        return Finding {
            summary: format!("Device state at T0 unknown: {why}."),
            ..base
        };
    };

    // Who requires MFA.
    let req = if let Some(r) = requirement.first() {
        ev.push(Evidence::of(r.event, format!("MFA requirement: {}", r.via)));
        Some(format!("{} requires MFA", r.via))
    } else if let Some(d) = ctx.denials.first() {
        ev.push(Evidence::of(
            d,
            "MFA-required denial: an explicit deny for a caller without MFA",
        ));
        Some(format!(
            "{} MFA-required denial(s) show a policy requires MFA",
            ctx.denials.len()
        ))
    } else {
        None
    };
    match req {
        Some(req) => Finding {
            status: Status::Confirmed,
            summary: format!("No active MFA device at T0 {}: {reason}; {req}.", format_millis(t)),
            evidence: ev,
            ..base
        },
        None => Finding {
            summary: format!(
                "No active MFA device at T0 ({reason}), but no MFA requirement reaching the user is visible in the data."
            ),
            evidence: ev,
            ..base
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::EventClass::*;
    use crate::rules::context::tests::ev;

    fn run(mut events: Vec<EventRow>, user: &str) -> Finding {
        events.sort_by_key(|e| e.event_time);
        let leaked: &'static [EventRow] = Box::leak(events.into_boxed_slice());
        eval(&Ctx::new(
            leaked,
            Box::leak(user.to_string().into_boxed_str()),
            0,
            1_000 * 60_000,
            false,
        ))
    }

    #[test]
    fn created_user_never_enabled_with_denials() {
        let f = run(
            vec![
                ev(1, UserCreated, Some("ops"), Some("bob"), None),
                ev(5, LoginSuccessNoMfa, Some("bob"), None, None),
                ev(6, MfaRequiredDenied, Some("bob"), None, None),
            ],
            "bob",
        );
        assert_eq!(f.status, Status::Confirmed, "{}", f.summary);
        assert!(f.evidence.iter().any(|e| e.event_id == "e1-user_created"));
    }

    #[test]
    fn active_device_rules_out_and_stale_serial_is_inconclusive() {
        let f = run(
            vec![
                ev(1, MfaSuccess, Some("henry"), None, Some("GAHT1")),
                ev(5, MfaFailure, Some("henry"), None, Some("arn:aws:iam::1:mfa/old")),
            ],
            "henry",
        );
        assert_eq!(f.status, Status::RuledOut);
        let f = run(
            vec![ev(5, MfaFailure, Some("erin"), None, Some("arn:aws:iam::1:mfa/erin"))],
            "erin",
        );
        assert_eq!(f.status, Status::Inconclusive);
        assert!(f.summary.contains("stale or unknown serial"));
    }

    #[test]
    fn removed_device_without_requirement_is_inconclusive() {
        let s = "arn:aws:iam::1:mfa/a";
        let f = run(
            vec![
                ev(1, DeviceDeactivated, Some("ops"), Some("a"), Some(s)),
                ev(5, MfaFailure, Some("a"), None, Some(s)),
            ],
            "a",
        );
        assert_eq!(f.status, Status::Inconclusive);
        let f = run(
            vec![
                ev(1, DeviceDeactivated, Some("ops"), Some("a"), Some(s)),
                ev(5, MfaRequiredDenied, Some("a"), None, None),
            ],
            "a",
        );
        assert_eq!(f.status, Status::Confirmed);
    }
}
