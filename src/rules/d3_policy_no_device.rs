//! D3 — a policy requires MFA but the user has no active device.
//!
//! ## Runbook step
//! > 3. If IAM policies (from Playbook step 5) show MFA condition requirements but user MFA
//! > configuration (from Playbook step 2) shows no active device, the policy requires MFA but no
//! > device is configured or enabled.
//!
//! ## What it checks
//! The state of each of the user's serials at T0, from everything read (lifecycle events and
//! use, per serial). "No active device" needs positive evidence: every serial tied to the user
//! (and every serial its failures name) is deactivated or deleted at T0; or a console sign-in
//! of the IAM user succeeded without MFA around T0 (the console always asks a user with a
//! device for the code); or the user was created in the data read and never enabled a device;
//! or the IAM snapshot lists none. A failure naming a serial the data does not show removed
//! (a stale client, or a device the user still has) leaves "every device removed" unproven.
//! The requirement is per action: a known policy reaching the user at T0 must hold the user's
//! kind of caller to MFA for what they were denied (or for everyday work when nothing was);
//! an `aws:MultiFactorAuthAge` limit alone never does. Without a known policy, the user's
//! MFA-required denials count only in the shape of MFA enforcement (everyday reads denied, or
//! non-destructive actions of several services), never in a guardrail's (a few destructive
//! actions such as `ec2:TerminateInstances`).
//!
//! ## Evidence
//! The events that show each serial's state, the no-MFA sign-in or CreateUser, the requirement.
//!
//! ## Verdicts
//! confirmed: no active device at T0 and a requirement reaches the user. ruled_out: a device is
//! active at T0, or MFA was used after the last removal. inconclusive: device state unknown, or
//! no requirement that covers what the user was denied.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the principal is not an IAM user or root.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleId, RuleMeta, Status};
use crate::event::{EventClass, HOUR, Millis, format_millis};
use crate::index::{DevState, Ev, SerialKey, SignalKind};
use crate::policy::{Caller, is_destructive_action, is_everyday_action};

pub const META: RuleMeta = RuleMeta {
    id: RuleId::D3,
    title: "MFA required but no active device",
    runbook_step: "Diagnosis 3",
    checks: "per-serial device state at T0 (lifecycle + use) shows no active device while a known policy covering the denied actions, or denials in the shape of MFA enforcement (not a guardrail's), show MFA is required",
    next_step: "Have the user register and enable an MFA device (the policy must let them do so without MFA), or exempt them until they have one.",
};

/// A console sign-in without MFA this long before T0 still shows the state at T0.
pub const SIGN_IN_BEFORE: Millis = 24 * HOUR;

/// Why the user has no active device at T0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoDevice {
    /// Every serial tied to the user is removed (or not yet assigned, by the snapshot).
    AllRemoved,
    /// The IAM snapshot lists no device of the user assigned before T0.
    SnapshotListsNone,
    /// Created in the data read; never enabled a device.
    NeverEnabled(Ev),
    /// A console sign-in without MFA succeeded.
    SignedInWithoutMfa(Ev),
}

/// What shows MFA is required of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// A known policy (or trust policy) that covers what the user was denied.
    Policy { via: String, doc: usize },
    /// No known policy, but the user's denials have the shape of MFA enforcement.
    EnforcementShape,
    /// Known MFA policies reach the user but do not cover what was denied.
    NotCovering(String),
    /// The denials are a guardrail's: a few destructive actions.
    GuardrailShape(Vec<String>),
    /// Nothing shows a requirement.
    None,
}

/// What D3 found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    NoBaseline,
    /// A device of the user is active at T0.
    DeviceActive {
        serial: String,
        shown_by: Option<Ev>,
    },
    /// The user authenticated with MFA after the last removal and before T0.
    MfaUsed(Ev),
    /// The device state at T0 cannot be established; `serial`: a failure names one whose state
    /// the data does not show removed.
    Unknown {
        serial: Option<String>,
    },
    /// No device at T0, and what shows (or fails to show) a requirement.
    NoDevice(NoDevice, Requirement),
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub serials_at_t0: Vec<String>,
    pub requirements: Vec<String>,
    /// Requirements that reach the user but cover none of the actions that matter.
    pub requirements_not_covering: Vec<String>,
    pub denied_actions: Vec<String>,
    pub mfa_required_denials: usize,
    /// `enforcement`, `guardrail` or `none`: the shape of the denials without a known policy.
    pub denial_shape: &'static str,
    pub policy_pitfalls: Vec<String>,
}

/// The shape of a user's denials: MFA enforcement denies everyday reads or many services; a
/// guardrail denies a few destructive actions.
fn enforcement_shape(actions: &[String]) -> bool {
    if actions
        .iter()
        .any(|a| is_everyday_action(a) || a == "sts:GetCallerIdentity")
    {
        return true;
    }
    let services: BTreeSet<&str> = actions
        .iter()
        .filter(|a| !is_destructive_action(a))
        .filter_map(|a| a.split_once(':').map(|(s, _)| s))
        .collect();
    services.len() >= 2
}

pub fn verdict(p: &Pass) -> Verdict {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return Verdict::NoBaseline;
    };
    let t = ix.event(t0).event_time;
    // The user's serials, and those its failures name (a device may be the user's even when
    // no lifecycle event shows it).
    let mut serials: Vec<SerialKey> = ix.devices.serials_of(&p.key).to_vec();
    for &i in &p.failures {
        let e = ix.event(i);
        if let Some(s) = e.mfa_serial.as_deref() {
            let k = SerialKey::of(e, s);
            if !serials.contains(&k) {
                serials.push(k);
            }
        }
    }
    let states: Vec<(SerialKey, DevState, Option<Ev>)> = serials
        .into_iter()
        .map(|s| {
            let (st, e) = ix.devices.state_at(&s, t);
            (s, st, e)
        })
        .collect();
    if let Some((s, _, e)) = states.iter().find(|(_, st, _)| *st == DevState::Active) {
        return Verdict::DeviceActive {
            serial: s.serial.clone(),
            shown_by: *e,
        };
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
        return Verdict::MfaUsed(i);
    }
    let removed_or_absent = |(s, st, _): &(SerialKey, DevState, Option<Ev>)| {
        (st.removed() && ix.devices.lifecycle(s).next().is_some()) || *st == DevState::Absent
    };
    let not_shown_removed = states
        .iter()
        .find(|x| !removed_or_absent(x))
        .map(|(s, _, _)| s.serial.clone());
    let mut no_device = None;
    if !states.is_empty() && not_shown_removed.is_none() {
        no_device = Some(NoDevice::AllRemoved);
    }
    // The IAM snapshot lists every device of the user and none was active at T0.
    if no_device.is_none()
        && not_shown_removed.is_none()
        && let Some(v) = ix.snapshot.as_ref().filter(|v| v.replayed)
        && v.lists_all_devices_of(&p.key.account, &p.principal.name)
    {
        no_device = Some(NoDevice::SnapshotListsNone);
    }
    let subject_is_me = |i: Ev| ix.event(i).subject().is_some_and(|s| s.key() == p.key);
    let history = ix.about_between(p.pid, i64::MIN, t);
    let created = history.iter().copied().find(|&i| {
        let e = ix.event(i);
        e.class == EventClass::UserCreated && e.succeeded() && subject_is_me(i)
    });
    let enabled_since = |from: Ev| {
        history.iter().copied().any(|i| {
            let e = ix.event(i);
            e.class == EventClass::DeviceEnabled && e.succeeded() && i >= from && subject_is_me(i)
        })
    };
    if no_device.is_none()
        && not_shown_removed.is_none()
        && let Some(c) = created.filter(|&c| !enabled_since(c))
    {
        no_device = Some(NoDevice::NeverEnabled(c));
    }
    // The console asks a user with a device for its code: a sign-in without MFA shows none was
    // assigned then. It speaks for T0 when nothing about the user's devices happened between.
    let device_event_between = |a: Millis, b: Millis| {
        ix.about_between(p.pid, a.min(b), a.max(b)).iter().any(|&i| {
            let e = ix.event(i);
            (e.class == EventClass::DeviceEnabled && e.succeeded() && subject_is_me(i))
                || (e.class == EventClass::MfaSuccess && ix.actor(i) == Some(p.pid))
        })
    };
    if no_device.is_none()
        && let Some(l) = ix
            .about_between(p.pid, t - SIGN_IN_BEFORE, p.until)
            .iter()
            .copied()
            .find(|&i| {
                let e = ix.event(i);
                ix.actor(i) == Some(p.pid)
                    && e.class == EventClass::LoginSuccessNoMfa
                    && e.identity_type.as_deref() == Some("IAMUser")
                    && !device_event_between(e.event_time, t)
            })
    {
        no_device = Some(NoDevice::SignedInWithoutMfa(l));
    }
    let Some(no_device) = no_device else {
        return Verdict::Unknown {
            serial: not_shown_removed,
        };
    };
    Verdict::NoDevice(no_device, requirement(p, t))
}

/// What shows MFA is required of the user at `t`.
fn requirement(p: &Pass, t: Millis) -> Requirement {
    let ix = p.ix;
    let denied = p.denied_actions();
    // A trust policy that wants MFA and denied the user's AssumeRole is a known requirement.
    if let Some(r) = p
        .denials
        .iter()
        .filter(|&&i| ix.signal(i) == Some(SignalKind::TrustDenial))
        .find_map(|&i| ix.policies.trust_denial_counts(ix.event(i)))
    {
        return Requirement::Policy { via: r.via, doc: r.doc };
    }
    let reqs = ix.policies.requirements_at(&p.key, t);
    let identity = &denied;
    if let Some(r) = reqs.iter().find(|r| {
        ix.policies.docs[r.doc]
            .policy
            .as_ref()
            .is_ok_and(|pol| pol.requires_mfa_for_work(identity))
    }) {
        return Requirement::Policy {
            via: r.via.clone(),
            doc: r.doc,
        };
    }
    if let Some(r) = reqs.first()
        && !identity.is_empty()
    {
        return Requirement::NotCovering(r.via.clone());
    }
    let actions: Vec<String> = denied.iter().map(|(a, _)| a.clone()).collect();
    if actions.is_empty() {
        return Requirement::None;
    }
    if enforcement_shape(&actions) {
        Requirement::EnforcementShape
    } else {
        Requirement::GuardrailShape(actions)
    }
}

pub fn eval(p: &Pass) -> Finding {
    render(p, verdict(p))
}

fn render(p: &Pass, v: Verdict) -> Finding {
    let ix = p.ix;
    let Some(t) = p.t0_time().filter(|_| p.principal.kind.has_iam_devices()) else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    };
    let states: Vec<(SerialKey, DevState, Option<Ev>)> = ix
        .devices
        .serials_of(&p.key)
        .iter()
        .map(|s| {
            let (st, e) = ix.devices.state_at(s, t);
            (s.clone(), st, e)
        })
        .collect();
    let denied = p.denied_actions();
    let reqs = ix.policies.requirements_at(&p.key, t);
    let mut m = Metrics {
        serials_at_t0: states
            .iter()
            .map(|(s, st, _)| format!("{}: {}", s.serial, st.as_str()))
            .collect(),
        denied_actions: denied.iter().map(|(a, c)| format!("{a} ({})", c.as_str())).collect(),
        mfa_required_denials: p.denials.len(),
        denial_shape: "none",
        ..Metrics::default()
    };
    for r in &reqs {
        let covers = ix.policies.docs[r.doc]
            .policy
            .as_ref()
            .is_ok_and(|pol| pol.requires_mfa_for_work(&denied));
        if covers {
            m.requirements.push(r.via.clone());
            if let Ok(pol) = &ix.policies.docs[r.doc].policy {
                m.policy_pitfalls.extend(
                    pol.pitfalls()
                        .into_iter()
                        .map(|x| format!("{} ({}): {}", x.kind.id(), r.via, x.message)),
                );
            }
        } else {
            m.requirements_not_covering.push(r.via.clone());
        }
    }
    let finding = |status, summary: String, ev: Vec<Evidence>, m: Metrics| {
        Finding::new(&META, status, summary)
            .with_evidence(ev)
            .with_metrics(M::D3(m))
    };
    match v {
        Verdict::NoBaseline => unreachable!("handled above: T0 exists"),
        Verdict::DeviceActive { serial, shown_by } => {
            let ev = match shown_by {
                Some(i) => vec![Evidence::of(ix, i, format!("shows {serial} active at T0"))],
                None => states
                    .iter()
                    .find(|(s, _, _)| s.serial == serial)
                    .and_then(|(s, _, _)| listed_evidence(p, s, t))
                    .into_iter()
                    .collect(),
            };
            finding(
                Status::RuledOut,
                format!(
                    "{} has an active MFA device at T0 {}: {serial}.",
                    p.principal.name,
                    format_millis(t)
                ),
                ev,
                m,
            )
        }
        Verdict::MfaUsed(i) => finding(
            Status::RuledOut,
            format!(
                "{} used MFA at {} ({}), after any device removal the data shows and before T0: a device works.",
                p.principal.name,
                format_millis(ix.event(i).event_time),
                ix.event(i).event_name
            ),
            vec![Evidence::of(ix, i, "MFA-authenticated activity: a working device")],
            m,
        ),
        Verdict::Unknown { serial } => {
            let why = match serial {
                Some(s) => format!(
                    "{s} is the user's (its failures, lifecycle or use name it) and the data does not show it removed at T0 (a client with a stale serial, or a device the user still has)"
                ),
                None => "the data read shows no device lifecycle, no no-MFA sign-in and no user creation for the user"
                    .into(),
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
            finding(
                Status::Inconclusive,
                format!("Device state at T0 unknown: {why}.{help}"),
                Vec::new(),
                m,
            )
        }
        Verdict::NoDevice(how, req) => {
            let mut ev: Vec<Evidence> = Vec::new();
            let reason = match how {
                NoDevice::AllRemoved => {
                    for (s, st, e) in &states {
                        match e {
                            Some(e) => ev.push(Evidence::of(ix, *e, format!("{} {} before T0", s.serial, st.as_str()))),
                            None => ev.extend(listed_evidence(p, s, t)),
                        }
                    }
                    format!(
                        "every device of the user is removed at T0 ({})",
                        m.serials_at_t0.join(", ")
                    )
                }
                NoDevice::SnapshotListsNone => {
                    let v = ix.snapshot.as_ref().map(|v| v.time).unwrap_or_default();
                    ev.push(Evidence::snapshot(
                        ix,
                        Some(p.principal.name.clone()),
                        None,
                        format!(
                            "the device listings name no device of {} assigned before T0; the logs show none removed up to the snapshot",
                            p.principal.name
                        ),
                    ));
                    format!(
                        "the IAM snapshot ({}) lists no device of the user assigned before T0",
                        format_millis(v)
                    )
                }
                NoDevice::NeverEnabled(c) => {
                    ev.push(Evidence::of(
                        ix,
                        c,
                        "user created in the data read; no device enabled since",
                    ));
                    format!(
                        "the user was created at {} and never enabled a device",
                        format_millis(ix.event(c).event_time)
                    )
                }
                NoDevice::SignedInWithoutMfa(l) => {
                    ev.push(Evidence::of(
                        ix,
                        l,
                        "console sign-in without MFA: the console asks a user with a device for its code",
                    ));
                    format!(
                        "a console sign-in without MFA succeeded at {}",
                        format_millis(ix.event(l).event_time)
                    )
                }
            };
            m.denial_shape = match &req {
                Requirement::EnforcementShape => "enforcement",
                Requirement::GuardrailShape(_) => "guardrail",
                _ => "none",
            };
            let (status, req_text) = match req {
                Requirement::Policy { via, doc } => {
                    ev.push(Evidence::of_doc(ix, doc, format!("MFA requirement: {via}")));
                    (Status::Confirmed, format!("{via} requires MFA for what the user does"))
                }
                Requirement::EnforcementShape => {
                    if let Some(&d) = p.denials.first() {
                        ev.push(Evidence::of(
                            ix,
                            d,
                            "MFA-required denial: an explicit deny for a caller without MFA",
                        ));
                    }
                    (
                        Status::Confirmed,
                        format!(
                            "{} MFA-required denial(s) of everyday work ({}) show MFA enforcement",
                            p.denials.len(),
                            short(&denied)
                        ),
                    )
                }
                Requirement::NotCovering(via) => (
                    Status::Inconclusive,
                    format!(
                        "{via} requires MFA, but not for what the user was denied ({}): the denials come from something else",
                        short(&denied)
                    ),
                ),
                Requirement::GuardrailShape(actions) => (
                    Status::Inconclusive,
                    format!(
                        "a policy denies {}; whether it is about MFA is unknown (a guardrail on destructive actions denies the same way)",
                        actions.join(", ")
                    ),
                ),
                Requirement::None => (
                    Status::Inconclusive,
                    "no MFA requirement reaching the user's work is visible in the data".to_owned(),
                ),
            };
            let help = if status == Status::Inconclusive && ix.snapshot.is_none() {
                " An IAM snapshot (--iam-snapshot with get-account-authorization-details output) would show the policies that reach the user."
            } else {
                ""
            };
            finding(
                status,
                format!(
                    "No active MFA device at T0 {}: {reason}; {req_text}.{help}",
                    format_millis(t)
                ),
                ev,
                m,
            )
        }
    }
}

fn short(denied: &[(String, Caller)]) -> String {
    let names: BTreeSet<&str> = denied.iter().map(|(a, _)| a.as_str()).collect();
    let v: Vec<&str> = names.into_iter().collect();
    match v.len() {
        0 => "nothing".into(),
        1..=3 => v.join(", "),
        n => format!("{}, {}, {} and {} more", v[0], v[1], v[2], n - 3),
    }
}

/// The snapshot's word on a serial's state at `t`, as evidence.
fn listed_evidence(p: &Pass, s: &SerialKey, t: Millis) -> Option<Evidence> {
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
    use crate::rules::pass::tests::{index, with_pass};

    fn run(events: Vec<EventRow>, user: &str) -> Verdict {
        let ix = index(events);
        with_pass(&ix, user, verdict)
    }

    fn denied(min: i64, user: &str, action: &str) -> EventRow {
        let mut e = ev(min, MfaRequiredDenied, Some(user), None, None);
        e.denied_action = Some(action.into());
        e.access_key_id = Some("AKIAEXAMPLE".into());
        e
    }

    #[test]
    fn created_user_never_enabled_with_enforcement_denials() {
        let v = run(
            vec![
                ev(1, UserCreated, Some("ops"), Some("bob"), None),
                ev(5, LoginSuccessNoMfa, Some("bob"), None, None),
                denied(6, "bob", "s3:ListAllMyBuckets"),
            ],
            "bob",
        );
        assert!(
            matches!(
                v,
                Verdict::NoDevice(NoDevice::NeverEnabled(_), Requirement::EnforcementShape)
            ),
            "{v:?}"
        );
    }

    #[test]
    fn a_guardrail_is_not_mfa_enforcement() {
        // Never had MFA, no policy known, denied two destructive actions.
        let v = run(
            vec![
                ev(5, LoginSuccessNoMfa, Some("gina"), None, None),
                denied(6, "gina", "ec2:TerminateInstances"),
                denied(7, "gina", "rds:DeleteDBInstance"),
            ],
            "gina",
        );
        assert!(
            matches!(&v, Verdict::NoDevice(NoDevice::SignedInWithoutMfa(_), Requirement::GuardrailShape(a)) if a.len() == 2),
            "{v:?}"
        );
        // Everyday reads across services: enforcement.
        assert!(enforcement_shape(&["s3:ListAllMyBuckets".into()]));
        assert!(enforcement_shape(&[
            "ecr:BatchCheckLayerAvailability".into(),
            "ssm:PutParameter".into()
        ]));
        assert!(!enforcement_shape(&[
            "ec2:TerminateInstances".into(),
            "s3:DeleteBucket".into()
        ]));
    }

    #[test]
    fn active_device_rules_out_and_stale_serial_is_unknown() {
        let v = run(
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
        assert!(matches!(v, Verdict::DeviceActive { .. }), "{v:?}");
        let v = run(
            vec![ev(
                5,
                MfaFailure,
                Some("erin"),
                None,
                Some("arn:aws:iam::111122223333:mfa/erin"),
            )],
            "erin",
        );
        assert_eq!(
            v,
            Verdict::Unknown {
                serial: Some("arn:aws:iam::111122223333:mfa/erin".into())
            }
        );
    }

    #[test]
    fn a_device_the_logs_never_show_removed_blocks_every_device_removed() {
        // One device removed in the data; the failures name another, never shown removed.
        let gone = "arn:aws:iam::111122223333:mfa/ivy-old";
        let kept = "arn:aws:iam::111122223333:mfa/ivy-phone";
        let v = run(
            vec![
                ev(1, DeviceDeactivated, Some("ops"), Some("ivy"), Some(gone)),
                ev(10, MfaFailure, Some("ivy"), None, Some(kept)),
                ev(20, MfaFailure, Some("ivy"), None, Some(kept)),
                denied(21, "ivy", "s3:ListAllMyBuckets"),
            ],
            "ivy",
        );
        assert_eq!(
            v,
            Verdict::Unknown {
                serial: Some(kept.into())
            }
        );
    }

    #[test]
    fn removed_device_requirement_from_denials_or_nothing() {
        let s = "arn:aws:iam::111122223333:mfa/a";
        let v = run(
            vec![
                ev(1, DeviceDeactivated, Some("ops"), Some("a"), Some(s)),
                ev(5, MfaFailure, Some("a"), None, Some(s)),
            ],
            "a",
        );
        assert_eq!(v, Verdict::NoDevice(NoDevice::AllRemoved, Requirement::None));
        let v = run(
            vec![
                ev(1, DeviceDeactivated, Some("ops"), Some("a"), Some(s)),
                denied(5, "a", "s3:ListAllMyBuckets"),
            ],
            "a",
        );
        assert_eq!(
            v,
            Verdict::NoDevice(NoDevice::AllRemoved, Requirement::EnforcementShape)
        );
    }

    #[test]
    fn a_device_enabled_before_the_window_is_active_at_t0() {
        let s = "arn:aws:iam::111122223333:mfa/ivy";
        let ix = index(vec![
            ev(1, DeviceEnabled, Some("ivy"), Some("ivy"), Some(s)),
            ev(5_000, MfaRequiredDenied, Some("ivy"), None, None),
        ]);
        let p = crate::rules::pass::tests::pid(&ix, "ivy");
        let until = 6_000 * 60_000;
        let episode = ix.episode(p, until);
        let pass = Pass::new(&ix, p, episode.as_ref(), 4_000 * 60_000, until, false);
        assert!(matches!(verdict(&pass), Verdict::DeviceActive { .. }));
    }
}
