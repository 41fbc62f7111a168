//! D2 — MFA device removed while MFA is still required.
//!
//! ## Runbook step
//! > 2. If CloudTrail shows MFA device deletion events (from Playbook step 6) around the failure
//! > timestamp, the device was removed while IAM policies still require MFA, causing
//! > authentication failures.
//!
//! ## What it checks
//! A successful `DeactivateMFADevice`/`DeleteVirtualMFADevice` of one of the user's devices
//! before T0. A device is the user's by the lifecycle events' `userName` or because the
//! user's own successes named it, never by the device's name. The removal is then linked to
//! the episode's signals that point at it: a failure naming the removed serial (a client still
//! configured with it); or, while no other device of the user is active at the signal's own
//! time, a failure naming no serial, an MFA-required denial, or a console sign-in without MFA.
//! A user who enabled a new device before removing the old one (the order AWS recommends) still
//! has MFA: their denials are not the removal's. "Around the failure timestamp" is the 48 hours
//! before T0, in both passes: the same removal D3 stands on is never too old for D2; older
//! removals are context.
//!
//! ## Evidence
//! The removal event(s), the first linked signal after them, and the MFA requirement where the
//! replayed policies know it.
//!
//! ## Verdicts
//! confirmed: a removal in the 48 h before T0 with at least one linked signal, the device still
//! removed at T0. ruled_out: no removal before T0, or no signal points at it. inconclusive: the
//! removed device is active again at T0, or only a removal older than 48 h before T0 links.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the principal is not an IAM user or root.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleId, RuleMeta, Status};
use crate::event::{EventClass, HOUR, Millis, format_millis};
use crate::index::{DevState, Ev, SerialKey, SignalKind};
use crate::time::format_duration;

pub const META: RuleMeta = RuleMeta {
    id: RuleId::D2,
    title: "Device removed while MFA is required",
    runbook_step: "Diagnosis 2",
    checks: "deactivation/deletion of the user's device (by lifecycle userName or the user's own use) in the 48 h before T0, then signals naming that serial, or denials / sign-ins without MFA while no other device of the user is active",
    next_step: "Register and enable a new MFA device for the user (or re-enable the old one), then update the clients (CLI profiles' mfa_serial) to the new serial.",
};

/// How far before T0 a removal still explains the failures (both passes).
pub const LOOKBACK: Millis = 48 * HOUR;

/// Why a signal points at a removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// A failure naming the removed serial: a client still configured with it.
    NamesRemovedSerial,
    /// A failure naming no serial while no device of the user is active.
    FailureWithoutDevice,
    /// An MFA-required denial while no device of the user is active.
    DenialWithoutDevice,
    /// A console sign-in without MFA while no device of the user is active.
    SignInWithoutMfa,
}

impl Link {
    fn text(self) -> &'static str {
        match self {
            Link::NamesRemovedSerial => "failure naming the removed serial",
            Link::FailureWithoutDevice => "failure while no device of the user is active",
            Link::DenialWithoutDevice => "MFA-required denial while no device of the user is active",
            Link::SignInWithoutMfa => "console sign-in without MFA while no device of the user is active",
        }
    }
}

/// What D2 found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    NoBaseline,
    /// No removal of the user's devices before T0 in the data read.
    NoRemoval,
    /// Removals in the 48 h before T0, but no signal points at them.
    NotLinked {
        removals: Vec<Ev>,
    },
    /// Removals with linked signals.
    Linked {
        removals: Vec<Ev>,
        linked: Vec<(Ev, Link)>,
        /// The removed devices are active again at T0.
        active_again: bool,
        /// Every linked removal lies more than 48 h before T0.
        too_old: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub removals: usize,
    pub removed_serials: Vec<String>,
    pub state_at_t0: Vec<String>,
    pub linked_signals: usize,
    pub links: Vec<Link>,
    pub requirements: Vec<String>,
    /// Removals older than 48 h before T0: context.
    pub older_removals: Vec<String>,
}

pub fn verdict(p: &Pass) -> Verdict {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return Verdict::NoBaseline;
    };
    let t = ix.event(t0).event_time;
    let mine = |e: &crate::event::EventRow| {
        e.subject().is_some_and(|s| s.key() == p.key)
            || e.mfa_serial
                .as_deref()
                .is_some_and(|s| ix.devices.owner(&SerialKey::of(e, s)) == Some(&p.key))
    };
    let removals: Vec<Ev> = ix
        .about_between(p.pid, i64::MIN, t)
        .iter()
        .copied()
        .filter(|&i| {
            let e = ix.event(i);
            matches!(e.class, EventClass::DeviceDeactivated | EventClass::DeviceDeleted) && e.succeeded() && mine(e)
        })
        .collect();
    if removals.is_empty() {
        return Verdict::NoRemoval;
    }
    let serial_of = |i: Ev| {
        let e = ix.event(i);
        e.mfa_serial.as_deref().map(|s| SerialKey::of(e, s))
    };
    let first_removal = removals[0];
    let no_device_at = |time: Millis| ix.devices.active_of(&p.key, time).is_empty();
    let mut candidates: Vec<Ev> = p
        .signals()
        .iter()
        .copied()
        .chain(
            ix.about_between(p.pid, ix.event(first_removal).event_time, p.until)
                .iter()
                .copied()
                .filter(|&i| ix.actor(i) == Some(p.pid) && ix.event(i).class == EventClass::LoginSuccessNoMfa),
        )
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    // Each linked signal with the removal it points at.
    let mut linked: Vec<(Ev, Link, Ev)> = Vec::new();
    for i in candidates {
        let e = ix.event(i);
        let before: Vec<Ev> = removals.iter().copied().filter(|&r| r < i).collect();
        let Some(&latest) = before.last() else { continue };
        let named = e.mfa_serial.as_deref().map(|s| SerialKey::of(e, s));
        let link = match (ix.signal(i), &named) {
            (Some(s), Some(k)) if s.is_attempt() => before
                .iter()
                .rev()
                .find(|&&r| serial_of(r).as_ref() == Some(k))
                .map(|&r| (Link::NamesRemovedSerial, r)),
            (Some(s), None) if s.is_attempt() => {
                no_device_at(e.event_time).then_some((Link::FailureWithoutDevice, latest))
            }
            (Some(SignalKind::Denial | SignalKind::TrustDenial), _) => {
                no_device_at(e.event_time).then_some((Link::DenialWithoutDevice, latest))
            }
            (None, _) if e.class == EventClass::LoginSuccessNoMfa && e.identity_type.as_deref() == Some("IAMUser") => {
                no_device_at(e.event_time).then_some((Link::SignInWithoutMfa, latest))
            }
            _ => None,
        };
        if let Some((l, r)) = link {
            linked.push((i, l, r));
        }
    }
    // A device enabled after the removal and before T0 gives the user MFA again: a denial or a
    // sign-in without MFA is no longer the removal's (a failure naming the removed serial is: a
    // client still configured with it).
    let enabled_between = |r: Ev| {
        ix.about_between(p.pid, ix.event(r).event_time, t).iter().any(|&i| {
            let e = ix.event(i);
            i > r
                && e.class == EventClass::DeviceEnabled
                && e.succeeded()
                && e.subject().is_some_and(|s| s.key() == p.key)
        })
    };
    linked.retain(|&(_, l, r)| l == Link::NamesRemovedSerial || !enabled_between(r));
    // A sign-in without MFA shows the missing device, but only the episode's signals are the
    // failures the removal explains.
    if !linked.iter().any(|&(_, l, _)| l != Link::SignInWithoutMfa) {
        linked.clear();
    }
    let recent = |r: Ev| t - ix.event(r).event_time <= LOOKBACK;
    if linked.is_empty() {
        let recent_removals: Vec<Ev> = removals.iter().copied().filter(|&r| recent(r)).collect();
        return if recent_removals.is_empty() {
            Verdict::NoRemoval
        } else {
            Verdict::NotLinked {
                removals: recent_removals,
            }
        };
    }
    let too_old = linked.iter().all(|&(_, _, r)| !recent(r));
    // Every removal event of the devices linked (a deactivation and its deletion), for evidence.
    let linked_serials: Vec<Option<SerialKey>> = linked.iter().map(|&(_, _, r)| serial_of(r)).collect();
    let linked_removals: Vec<Ev> = removals
        .iter()
        .copied()
        .filter(|&r| linked.iter().any(|&(_, _, x)| x == r) || linked_serials.contains(&serial_of(r)))
        .collect();
    let active_again = linked_removals
        .iter()
        .filter_map(|&r| serial_of(r))
        .all(|s| ix.devices.state_at(&s, t).0 == DevState::Active);
    Verdict::Linked {
        removals: linked_removals,
        linked: linked.into_iter().map(|(i, l, _)| (i, l)).collect(),
        active_again,
        too_old,
    }
}

pub fn eval(p: &Pass) -> Finding {
    render(p, verdict(p))
}

fn render(p: &Pass, v: Verdict) -> Finding {
    let ix = p.ix;
    let Some(t) = p.t0_time() else {
        return Finding::new(
            &META,
            Status::NotEvaluable,
            "No failure baseline (D1) for an IAM user: nothing to correlate a device removal with.",
        );
    };
    let serials = |removals: &[Ev]| -> Vec<String> {
        let mut v: Vec<String> = removals
            .iter()
            .filter_map(|&i| ix.event(i).mfa_serial.clone())
            .collect();
        v.dedup();
        v
    };
    let older: Vec<String> = ix
        .about_between(p.pid, i64::MIN, t - LOOKBACK - 1)
        .iter()
        .filter(|&&i| {
            let e = ix.event(i);
            matches!(e.class, EventClass::DeviceDeactivated | EventClass::DeviceDeleted) && e.succeeded()
        })
        .map(|&i| {
            let e = ix.event(i);
            format!(
                "{} {} at {}",
                e.event_name,
                e.mfa_serial.as_deref().unwrap_or("?"),
                format_millis(e.event_time)
            )
        })
        .collect();
    let removal_ev = |removals: &[Ev]| -> Vec<Evidence> {
        removals
            .iter()
            .map(|&i| {
                let e = ix.event(i);
                Evidence::of(
                    ix,
                    i,
                    format!("{} of {}", e.event_name, e.mfa_serial.as_deref().unwrap_or("a device")),
                )
            })
            .collect()
    };
    let requirement = ix.policies.requirements_at(&p.key, t);
    let mut m = Metrics {
        requirements: requirement.iter().map(|r| r.via.clone()).collect(),
        older_removals: older,
        ..Metrics::default()
    };
    match v {
        Verdict::NoBaseline => unreachable!("handled above: T0 exists"),
        Verdict::NoRemoval => Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "No deactivation or deletion of {}'s MFA devices in the 48 h before T0 {}{}.",
                p.principal.name,
                format_millis(t),
                if m.older_removals.is_empty() {
                    String::new()
                } else {
                    format!(" (older: {})", m.older_removals.join("; "))
                }
            ),
        )
        .with_metrics(M::D2(m)),
        Verdict::NotLinked { removals } => {
            m.removals = removals.len();
            m.removed_serials = serials(&removals);
            let fr = ix.event(removals[0]);
            Finding::new(
                &META,
                Status::RuledOut,
                format!(
                    "{} removed {} at {}, but no signal of the episode points at it: failures name another device, or another device of the user was active at each denial.",
                    who(fr),
                    m.removed_serials.join(", "),
                    format_millis(fr.event_time)
                ),
            )
            .with_evidence(removal_ev(&removals))
            .with_metrics(M::D2(m))
        }
        Verdict::Linked {
            removals,
            linked,
            active_again,
            too_old,
        } => {
            let sk: Vec<SerialKey> = removals
                .iter()
                .filter_map(|&i| {
                    let e = ix.event(i);
                    e.mfa_serial.as_deref().map(|s| SerialKey::of(e, s))
                })
                .collect();
            m.removals = removals.len();
            m.removed_serials = serials(&removals);
            m.state_at_t0 = sk
                .iter()
                .map(|s| format!("{}: {}", s.serial, ix.devices.state_at(s, t).0.as_str()))
                .collect();
            m.linked_signals = linked.len();
            m.links = linked.iter().map(|&(_, l)| l).collect();
            m.links.dedup();
            let mut ev = removal_ev(&removals);
            let (first, why) = linked[0];
            ev.push(Evidence::of(ix, first, format!("first {}", why.text())));
            let req_text = if let Some(r) = requirement.first() {
                ev.push(Evidence::of_doc(ix, r.doc, format!("MFA requirement: {}", r.via)));
                format!(" MFA is required by {}.", r.via)
            } else if !p.denials.is_empty() {
                " MFA-required denials show a policy still requires MFA.".to_string()
            } else {
                String::new()
            };
            let fr = ix.event(removals[0]);
            let (status, note) = if active_again {
                (
                    Status::Inconclusive,
                    " The removed device is active again at T0, so the removal alone does not explain the failures.",
                )
            } else if too_old {
                (
                    Status::Inconclusive,
                    " The removal lies more than 48 h before T0: context, not the onset's cause.",
                )
            } else {
                (Status::Confirmed, "")
            };
            Finding::new(
                &META,
                status,
                format!(
                    "{} {} {} at {} ({} before T0); then {} linked signal(s), first at {}: {}.{req_text}{note}",
                    who(fr),
                    if fr.class == EventClass::DeviceDeleted {
                        "deleted"
                    } else {
                        "deactivated"
                    },
                    m.removed_serials.join(", "),
                    format_millis(fr.event_time),
                    format_duration(t - fr.event_time),
                    linked.len(),
                    format_millis(ix.event(first).event_time),
                    why.text(),
                ),
            )
            .with_evidence(ev)
            .with_metrics(M::D2(m))
        }
    }
}

fn who(e: &crate::event::EventRow) -> &str {
    e.user_name.as_deref().or(e.role_name.as_deref()).unwrap_or("someone")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, with_pass};

    const S: &str = "arn:aws:iam::111122223333:mfa/alice";

    fn run(events: Vec<EventRow>) -> Verdict {
        let ix = index(events);
        with_pass(&ix, "alice", verdict)
    }

    fn linked(v: &Verdict) -> Vec<Link> {
        match v {
            Verdict::Linked { linked, .. } => linked.iter().map(|&(_, l)| l).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn removal_then_failures_naming_it() {
        let v = run(vec![
            ev(10, DeviceEnabled, Some("ops"), Some("alice"), Some(S)),
            ev(20, DeviceDeactivated, Some("ops"), Some("alice"), Some(S)),
            ev(21, DeviceDeleted, Some("ops"), None, Some(S)),
            ev(30, MfaFailure, Some("alice"), None, Some(S)),
        ]);
        assert!(
            matches!(&v, Verdict::Linked { active_again: false, too_old: false, removals, .. } if removals.len() == 2),
            "{v:?}"
        );
        assert_eq!(linked(&v), [Link::NamesRemovedSerial]);
    }

    #[test]
    fn a_new_device_enabled_first_keeps_mfa_but_a_stale_serial_still_links() {
        let new = "arn:aws:iam::111122223333:mfa/alice-pixel";
        let mut events = vec![
            ev(5, DeviceEnabled, Some("alice"), Some("alice"), Some(new)),
            ev(10, DeviceDeactivated, Some("alice"), Some("alice"), Some(S)),
            ev(30, MfaRequiredDenied, Some("alice"), None, None),
            ev(31, MfaRequiredDenied, Some("alice"), None, None),
        ];
        assert!(matches!(run(events.clone()), Verdict::NotLinked { .. }));
        events.push(ev(40, MfaFailure, Some("alice"), None, Some(S)));
        assert_eq!(linked(&run(events)), [Link::NamesRemovedSerial]);
    }

    #[test]
    fn a_re_enrolment_before_t0_cancels_the_sign_in_and_denials() {
        // Helpdesk reset: removed, a sign-in without MFA, a new phone enabled; the next day a
        // failure naming no device while the new one is active, and a denial.
        let new = "arn:aws:iam::111122223333:mfa/alice-new";
        let v = run(vec![
            ev(10, DeviceDeactivated, Some("ops"), Some("alice"), Some(S)),
            ev(12, LoginSuccessNoMfa, Some("alice"), None, None),
            ev(15, DeviceEnabled, Some("alice"), Some("alice"), Some(new)),
            ev(16, MfaSuccess, Some("alice"), None, Some(new)),
            ev(400, ConsoleFailureAmbiguous, Some("alice"), None, None),
            ev(420, MfaRequiredDenied, Some("alice"), None, None),
        ]);
        assert!(matches!(v, Verdict::NotLinked { .. }), "{v:?}");
    }

    #[test]
    fn nothing_removed_no_baseline_or_someone_elses_device() {
        assert_eq!(
            run(vec![ev(30, MfaFailure, Some("alice"), None, Some(S))]),
            Verdict::NoRemoval
        );
        assert_eq!(
            run(vec![
                ev(30, DeviceDeleted, Some("ops"), Some("alice"), Some(S)),
                ev(31, MfaSuccess, Some("alice"), None, Some(S)),
            ]),
            Verdict::NoBaseline
        );
        // Another user's device removed: not alice's.
        let v = run(vec![
            ev(
                10,
                DeviceDeactivated,
                Some("ops"),
                Some("bob"),
                Some("arn:aws:iam::111122223333:mfa/bob"),
            ),
            ev(30, MfaRequiredDenied, Some("alice"), None, None),
        ]);
        assert_eq!(v, Verdict::NoRemoval);
    }

    #[test]
    fn an_orphan_named_like_the_user_is_not_hers() {
        // A hygiene job deletes an unassigned device named "alice"; alice's own device is
        // another one, and she mistypes a code later.
        let own = "arn:aws:iam::111122223333:mfa/alice-iphone";
        let v = run(vec![
            ev(1, MfaSuccess, Some("alice"), None, Some(own)),
            ev(10, DeviceDeleted, Some("cleanup"), None, Some(S)),
            ev(300, MfaFailure, Some("alice"), None, None),
        ]);
        assert_eq!(v, Verdict::NoRemoval);
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
        let v = run(vec![
            sandbox_removal,
            ev(30, MfaRequiredDenied, Some("alice"), None, None),
        ]);
        assert_eq!(v, Verdict::NoRemoval);
    }

    #[test]
    fn a_removal_days_before_t0_is_context() {
        let day = 24 * 60;
        let ix = index(vec![
            ev(1, DeviceDeactivated, Some("ops"), Some("alice"), Some(S)),
            ev(3 * day, MfaFailure, Some("alice"), None, Some(S)),
        ]);
        let p = crate::rules::pass::tests::pid(&ix, "alice");
        let until = (3 * day + 10) * 60_000;
        let episode = ix.episode(p, until);
        let pass = Pass::new(&ix, p, episode.as_ref(), until - 3 * LOOKBACK, until, true);
        assert!(matches!(verdict(&pass), Verdict::Linked { too_old: true, .. }));
        assert_eq!(eval(&pass).status, Status::Inconclusive);
    }
}
