//! D3 — a policy requires MFA but the user has no active device.
//!
//! ## Runbook step
//! > 3. If IAM policies (from Playbook step 5) show MFA condition requirements but user MFA
//! > configuration (from Playbook step 2) shows no active device, the policy requires MFA but no
//! > device is configured or enabled.
//!
//! ## What it checks
//! The state of each of the user's serials at T0, from everything read (lifecycle events and
//! use, per serial). "No active device" needs positive evidence: every serial known from
//! lifecycle events is deactivated or deleted at T0; or the user was created in the data read
//! and never enabled a device; or a console sign-in with MFAUsed=No succeeded while no device
//! was active. A failure naming a serial whose state the data cannot establish shows a
//! misconfigured client, not a missing device: alone it leaves D3 inconclusive.
//! The requirement is per action: a replayed policy reaching the user at T0 (inline, group,
//! managed default version) whose MFA statement covers the actions the user was denied (or,
//! with no denials, everyday access: a condition on `ec2:TerminateInstances` alone does not make
//! the user need MFA to work), or the user's MFA-required denials themselves.
//!
//! ## Evidence
//! The events that show each serial's state, the no-MFA sign-in or CreateUser, the requirement.
//!
//! ## Verdicts
//! confirmed: no active device at T0 and a requirement reaches the user. ruled_out: a device is
//! active at T0. inconclusive: device state or requirement unknown.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the principal is not an IAM user or root.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleMeta, Status};
use crate::event::{EventClass, format_millis};
use crate::index::{DevState, Ev, SerialKey};

pub const META: RuleMeta = RuleMeta {
    id: "D3",
    title: "MFA required but no active device",
    runbook_step: "Diagnosis 3",
    checks: "per-serial device state at T0 (lifecycle + use) shows no active device while a policy covering the denied actions, or MFA-required denials, show MFA is required",
    next_step: "Have the user register and enable an MFA device (the policy must let them do so without MFA), or exempt them until they have one.",
};

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub serials_at_t0: Vec<String>,
    pub requirements: Vec<String>,
    /// Requirements that reach the user but cover none of the actions that matter.
    pub requirements_not_covering: Vec<String>,
    pub denied_actions: Vec<String>,
    pub mfa_required_denials: usize,
    pub policy_pitfalls: Vec<String>,
}

pub fn eval(p: &Pass) -> Finding {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    };
    let t = ix.event(t0).event_time;
    let serials = ix.devices.serials_of(&p.key);
    let states: Vec<(&SerialKey, DevState, Option<Ev>)> = serials
        .iter()
        .map(|s| {
            let (st, e) = ix.devices.state_at(s, t);
            (s, st, e)
        })
        .collect();
    let state_list: Vec<String> = states
        .iter()
        .map(|(s, st, _)| format!("{}: {}", s.serial, st.as_str()))
        .collect();
    let actions = p.denied_actions();
    let (covering, not_covering): (Vec<_>, Vec<_>) =
        ix.policies.requirements_at(&p.key, t).into_iter().partition(|r| {
            ix.policies.docs[r.doc]
                .policy
                .as_ref()
                .is_ok_and(|pol| pol.requires_mfa_for_work(&actions))
        });
    let metrics = Metrics {
        serials_at_t0: state_list.clone(),
        requirements: covering.iter().map(|r| r.via.clone()).collect(),
        requirements_not_covering: not_covering.iter().map(|r| r.via.clone()).collect(),
        denied_actions: actions.clone(),
        mfa_required_denials: p.denials.len(),
        policy_pitfalls: covering
            .iter()
            .flat_map(|r| {
                let pit = ix.policies.docs[r.doc]
                    .policy
                    .as_ref()
                    .map(|pol| pol.pitfalls())
                    .unwrap_or_default();
                pit.into_iter()
                    .map(move |x| format!("{} ({}): {}", x.kind.id(), r.via, x.message))
            })
            .collect(),
    };
    let finding = |status, summary: String, ev: Vec<Evidence>| {
        Finding::new(&META, status, summary)
            .with_evidence(ev)
            .with_metrics(M::D3(metrics.clone()))
    };

    if let Some((s, _, e)) = states.iter().find(|(_, st, _)| *st == DevState::Active) {
        let ev = match e {
            Some(i) => vec![Evidence::of(ix, *i, format!("shows {} active at T0", s.serial))],
            None => listed_evidence(p, s, t).into_iter().collect(),
        };
        return finding(
            Status::RuledOut,
            format!(
                "{} has an active MFA device at T0 {}: {}.",
                p.principal.name,
                format_millis(t),
                s.serial
            ),
            ev,
        );
    }

    // A session the user authenticated with MFA after the last removal of a device shows a
    // working device, even when its serial is not in the data.
    let last_removal = states
        .iter()
        .filter(|(_, st, _)| st.removed())
        .filter_map(|(_, _, e)| *e)
        .max();
    let mfa_session = p.events.iter().copied().find(|&i| {
        let e = ix.event(i);
        i <= t0
            && last_removal.is_none_or(|r| i > r)
            && ix.actor(i) == Some(p.pid)
            // A session started with MFA before a removal outlives it: after a removal only a
            // fresh MFA sign-in counts.
            && (e.class == EventClass::MfaSuccess || (last_removal.is_none() && e.mfa_authenticated == Some(true)))
    });
    if let Some(i) = mfa_session {
        return finding(
            Status::RuledOut,
            format!(
                "{} used MFA at {} ({}), after any device removal the data shows and before T0: a device works.",
                p.principal.name,
                format_millis(ix.event(i).event_time),
                ix.event(i).event_name
            ),
            vec![Evidence::of(ix, i, "MFA-authenticated activity: a working device")],
        );
    }

    // Positive evidence of "no active device".
    let mut ev: Vec<Evidence> = Vec::new();
    // Removed in the logs, or not assigned then by the IAM snapshot.
    let known_all_removed = !states.is_empty()
        && states
            .iter()
            .all(|(s, st, _)| (st.removed() && ix.devices.lifecycle(s).next().is_some()) || *st == DevState::Absent);
    let mut reason = None;
    if known_all_removed {
        for (s, st, e) in &states {
            match e {
                Some(e) => ev.push(Evidence::of(ix, *e, format!("{} {} before T0", s.serial, st.as_str()))),
                None => ev.extend(listed_evidence(p, s, t)),
            }
        }
        let how = if states.iter().any(|(_, st, _)| *st == DevState::Absent) {
            "removed or not yet assigned"
        } else {
            "removed"
        };
        reason = Some(format!(
            "every device of the user is {how} at T0 ({})",
            state_list.join(", ")
        ));
    }
    // The IAM snapshot lists every device of the user and none was active at T0, and the logs
    // cover the stretch up to the snapshot (a removal in it would show).
    if reason.is_none()
        && let Some(v) = ix.snapshot.as_ref().filter(|v| v.replayed)
        && v.snap.lists_all_devices_of(&p.principal.name)
        && states.iter().all(|(_, st, _)| *st != DevState::Active)
    {
        let listed = v.snap.devices_of(&p.key.account, &p.principal.name).len();
        ev.push(Evidence::snapshot(
            ix,
            Some(p.principal.name.clone()),
            None,
            format!(
                "list-virtual-mfa-devices and list-mfa-devices list {listed} device(s) of {} and none assigned before T0; the logs show no device of theirs removed up to the snapshot",
                p.principal.name
            ),
        ));
        reason = Some(format!(
            "the IAM snapshot ({}) lists no device of the user assigned before T0, and the logs up to it show none removed",
            format_millis(v.time)
        ));
    }
    let subject_is_me = |i: Ev| ix.event(i).subject().is_some_and(|s| s.key() == p.key);
    // CreateUser may lie before the window: look at all of the user's events up to T0.
    let history = ix.about_between(p.pid, i64::MIN, t);
    let created = history.iter().copied().find(|&i| {
        let e = ix.event(i);
        e.class == EventClass::UserCreated && e.succeeded() && subject_is_me(i)
    });
    let enabled_since_creation = created.is_some_and(|c| {
        history.iter().copied().any(|i| {
            let e = ix.event(i);
            e.class == EventClass::DeviceEnabled && e.succeeded() && i >= c && subject_is_me(i)
        })
    });
    if reason.is_none()
        && let Some(c) = created.filter(|_| !enabled_since_creation)
    {
        ev.push(Evidence::of(
            ix,
            c,
            "user created in the data read; no device enabled since",
        ));
        reason = Some(format!(
            "the user was created at {} and never enabled a device",
            format_millis(ix.event(c).event_time)
        ));
    }
    let no_mfa_login = p.own(&[EventClass::LoginSuccessNoMfa]).into_iter().find(|&i| {
        let e = ix.event(i);
        ix.devices.active_of(&p.key, e.event_time).is_empty() && e.identity_type.as_deref() == Some("IAMUser")
    });
    if reason.is_none()
        && let Some(l) = no_mfa_login
    {
        ev.push(Evidence::of(
            ix,
            l,
            "console sign-in succeeded without MFA while no device is active",
        ));
        reason = Some(format!(
            "a console sign-in without MFA succeeded at {}",
            format_millis(ix.event(l).event_time)
        ));
    }
    let stale_serial = p.failures.iter().copied().find(|&i| {
        let e = ix.event(i);
        e.mfa_serial
            .as_deref()
            .is_some_and(|s| ix.devices.state_at(&SerialKey::of(e, s), t).0 == DevState::Unknown)
    });

    let Some(reason) = reason else {
        let why = match stale_serial {
            Some(i) => format!(
                "failures name {} whose state the data cannot establish (a client with a stale or unknown serial shows misconfiguration, not a missing device)",
                ix.event(i).mfa_serial.as_deref().unwrap_or("?")
            ),
            None => {
                "the data read shows no device lifecycle, no no-MFA sign-in and no user creation for the user".into()
            }
        };
        let help = match &ix.snapshot {
            None => {
                " An IAM snapshot (--iam-snapshot with list-virtual-mfa-devices and list-mfa-devices output) would show the user's devices."
            }
            Some(v) if !v.replayed => " The IAM snapshot given cannot be replayed to T0 (see P7).",
            Some(_) => {
                " The IAM snapshot does not list every device of the user (give list-mfa-devices --user-name for them)."
            }
        };
        return finding(
            Status::Inconclusive,
            format!("Device state at T0 unknown: {why}.{help}"),
            Vec::new(),
        );
    };

    // Who requires MFA.
    let req = if let Some(r) = covering.first() {
        ev.push(Evidence::of_doc(ix, r.doc, format!("MFA requirement: {}", r.via)));
        Some(format!("{} requires MFA", r.via))
    } else if let Some(&d) = p.denials.first() {
        ev.push(Evidence::of(
            ix,
            d,
            "MFA-required denial: an explicit deny for a caller without MFA",
        ));
        Some(format!(
            "{} MFA-required denial(s) show a policy requires MFA",
            p.denials.len()
        ))
    } else {
        None
    };
    match req {
        Some(req) => finding(
            Status::Confirmed,
            format!("No active MFA device at T0 {}: {reason}; {req}.", format_millis(t)),
            ev,
        ),
        None => {
            let narrow = if not_covering.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} requires MFA only for actions the user was not denied)",
                    not_covering[0].via
                )
            };
            let help = if ix.snapshot.is_none() {
                " An IAM snapshot (--iam-snapshot with get-account-authorization-details output) would show the policies that reach the user."
            } else {
                ""
            };
            finding(
                Status::Inconclusive,
                format!(
                    "No active MFA device at T0 ({reason}), but no MFA requirement reaching the user's work is visible in the data{narrow}.{help}"
                ),
                ev,
            )
        }
    }
}

/// The snapshot's word on a serial's state at `t`, as evidence.
fn listed_evidence(p: &Pass, s: &SerialKey, t: crate::event::Millis) -> Option<Evidence> {
    let (st, why) = p.ix.devices.listed_state_at(s, t)?;
    Some(Evidence::snapshot(
        p.ix,
        Some(p.principal.name.clone()),
        Some(s.serial.clone()),
        format!("{} at T0: {why}", st.as_str()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, pass};

    fn run(events: Vec<EventRow>, user: &str) -> Finding {
        let ix = index(events);
        eval(&pass(&ix, user))
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
                ev(
                    5,
                    MfaFailure,
                    Some("henry"),
                    None,
                    Some("arn:aws:iam::111122223333:mfa/old"),
                ),
            ],
            "henry",
        );
        assert_eq!(f.status, Status::RuledOut);
        let f = run(
            vec![ev(
                5,
                MfaFailure,
                Some("erin"),
                None,
                Some("arn:aws:iam::111122223333:mfa/erin"),
            )],
            "erin",
        );
        assert_eq!(f.status, Status::Inconclusive);
        assert!(f.summary.contains("stale or unknown serial"));
    }

    #[test]
    fn removed_device_without_requirement_is_inconclusive() {
        let s = "arn:aws:iam::111122223333:mfa/a";
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

    #[test]
    fn a_device_enabled_before_the_window_is_active_at_t0() {
        let s = "arn:aws:iam::111122223333:mfa/ivy";
        let ix = index(vec![
            ev(1, DeviceEnabled, Some("ivy"), Some("ivy"), Some(s)),
            ev(5_000, MfaRequiredDenied, Some("ivy"), None, None),
        ]);
        let p = crate::rules::Pass::new(
            &ix,
            crate::rules::pass::tests::pid(&ix, "ivy"),
            4_000 * 60_000,
            6_000 * 60_000,
            false,
        );
        assert_eq!(eval(&p).status, Status::RuledOut);
    }
}
