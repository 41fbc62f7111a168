//! D4 — token time synchronisation.
//!
//! ## Runbook step
//! > 4. If MFA device is configured and active (from Playbook step 2) but failures persist,
//! > check device serial number and sync status (from Playbook step 7). Time synchronization
//! > issues between device and AWS cause token validation failures.
//!
//! ## What it checks
//! A device of the user active at T0 (from everything read) and at least 3 attempt failures of
//! the episode (not typing) on it: naming it, or naming no device while it was the user's only
//! active one at the failure's own time. Console failures that name no device (password or
//! code) count, but never make drift on their own. And a drift sign: a `ResyncMFADevice` of it,
//! a success with it between two of those failures, or STS's "invalid MFA one time pass code".
//! FIDO security keys and passkeys (`…:u2f/…`) have no clock: never drift.
//!
//! ## Evidence
//! The event that shows the device active, the failures, the drift signs.
//!
//! ## Verdicts
//! confirmed as above; ruled_out when no device is active at T0, the failures name a removed or
//! unknown serial, or the device is a FIDO key; inconclusive otherwise. The conclusion holds it
//! at inconclusive when D5 finds an account-wide or multi-account scope.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the principal is not an IAM user or root.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleId, RuleMeta, Status};
use crate::event::{EventClass, format_millis};
use crate::index::devices::is_fido;
use crate::index::{DevState, Ev, SerialKey, SignalKind};

pub const META: RuleMeta = RuleMeta {
    id: RuleId::D4,
    title: "Token time drift on an active device",
    runbook_step: "Diagnosis 4",
    checks: "active non-FIDO device at T0 with >= 3 episode failures (not typing) on it and a drift sign (resync, success with it between failures, STS invalid one-time code); console failures naming no device never drift alone",
    next_step: "Resync the device (IAM console: Resync, two consecutive codes) and set the phone or token clock to automatic time.",
};

/// Minimum failures (not typing) on one device before drift is considered.
pub const MIN_FAILURES: usize = 3;

/// What points at a token out of step with AWS's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftSign {
    /// `ResyncMFADevice` of the device.
    Resync,
    /// A success with the same device between two of the failures.
    SuccessBetween,
    /// STS: "MultiFactorAuthentication failed with invalid MFA one time pass code".
    InvalidCode,
}

impl DriftSign {
    fn text(self) -> &'static str {
        match self {
            DriftSign::Resync => "ResyncMFADevice of the device",
            DriftSign::SuccessBetween => "a success with the same device between failures",
            DriftSign::InvalidCode => "STS: invalid MFA one time pass code",
        }
    }
}

/// What D4 found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    NoBaseline,
    NoActiveDevice,
    /// The failures name a device that is not active at T0 (removed or unknown).
    NamesOtherDevice {
        failure: Ev,
        state: DevState,
    },
    Fido {
        serial: String,
    },
    /// The active device the failures are about, with the failures and the signs found.
    Device {
        serial: String,
        shown_by: Option<Ev>,
        failures: Vec<Ev>,
        ambiguous: usize,
        signs: Vec<(Ev, DriftSign)>,
    },
}

impl Verdict {
    /// Drift: enough failures, a sign, and not only ambiguous console failures (unless the
    /// device was resynced).
    pub fn drift(&self) -> bool {
        match self {
            Verdict::Device {
                failures,
                ambiguous,
                signs,
                ..
            } => {
                failures.len() >= MIN_FAILURES
                    && !signs.is_empty()
                    && (*ambiguous < failures.len() || signs.iter().any(|(_, s)| *s == DriftSign::Resync))
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub active_devices_at_t0: Vec<String>,
    pub device: Option<String>,
    pub fido: bool,
    pub failures_on_device: usize,
    /// Console failures naming no device among them (password or code).
    pub ambiguous_failures_on_device: usize,
    pub typo_failures_on_device: usize,
    pub drift_signs: Vec<DriftSign>,
}

pub fn verdict(p: &Pass) -> Verdict {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return Verdict::NoBaseline;
    };
    let t = ix.event(t0).event_time;
    let active = ix.devices.active_of(&p.key, t);
    if active.is_empty() {
        return Verdict::NoActiveDevice;
    }
    let names = |i: Ev, s: &SerialKey| {
        let e = ix.event(i);
        e.mfa_serial.as_deref().is_some_and(|x| SerialKey::of(e, x) == *s)
    };
    // A failure naming no device is about s when s was the user's only active device then.
    let only_active = |i: Ev, s: &SerialKey| {
        let e = ix.event(i);
        e.mfa_serial.is_none() && {
            let a = ix.devices.active_of(&p.key, e.event_time);
            a.len() == 1 && a[0].0 == s
        }
    };
    let on = |s: &SerialKey| -> Vec<Ev> {
        p.failures
            .iter()
            .copied()
            .filter(|&i| names(i, s) || only_active(i, s))
            .collect()
    };
    let Some((serial, shown)) = active.iter().max_by_key(|(s, _)| on(s).len()).map(|(s, e)| (*s, *e)) else {
        return Verdict::NoActiveDevice;
    };
    let failures = on(serial);
    if failures.is_empty()
        && let Some(&i) = p.failures.iter().find(|&&i| {
            let e = ix.event(i);
            e.mfa_serial
                .as_deref()
                .is_some_and(|s| ix.devices.state_at(&SerialKey::of(e, s), t).0 != DevState::Active)
        })
    {
        let e = ix.event(i);
        let state = ix
            .devices
            .state_at(&SerialKey::of(e, e.mfa_serial.as_deref().unwrap_or_default()), t)
            .0;
        return Verdict::NamesOtherDevice { failure: i, state };
    }
    if is_fido(&serial.serial) {
        return Verdict::Fido {
            serial: serial.serial.clone(),
        };
    }
    let mut signs: Vec<(Ev, DriftSign)> = Vec::new();
    if let Some((_, r, _)) = ix
        .devices
        .lifecycle(serial)
        .find(|(time, _, c)| *c == EventClass::DeviceResynced && *time >= p.since && *time <= p.until)
    {
        signs.push((r, DriftSign::Resync));
    }
    if let (Some(&first), Some(&last)) = (failures.first(), failures.last()) {
        let (ft, lt) = (ix.event(first).event_time, ix.event(last).event_time);
        if let Some((_, u)) = ix.devices.uses(serial).find(|(ut, _)| *ut > ft && *ut < lt) {
            signs.push((u, DriftSign::SuccessBetween));
        }
    }
    if let Some(&w) = failures.iter().find(|&&i| {
        ix.event(i)
            .error_message
            .as_deref()
            .is_some_and(|msg| msg.contains("invalid MFA one time pass code"))
    }) {
        signs.push((w, DriftSign::InvalidCode));
    }
    let ambiguous = failures
        .iter()
        .filter(|&&i| ix.signal(i) == Some(SignalKind::AmbiguousFailure))
        .count();
    Verdict::Device {
        serial: serial.serial.clone(),
        shown_by: shown,
        failures,
        ambiguous,
        signs,
    }
}

pub fn eval(p: &Pass) -> Finding {
    let v = verdict(p);
    render(p, &v)
}

fn render(p: &Pass, v: &Verdict) -> Finding {
    let ix = p.ix;
    let Some(t) = p.t0_time().filter(|_| p.principal.kind.has_iam_devices()) else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    };
    let mut m = Metrics {
        active_devices_at_t0: ix
            .devices
            .active_of(&p.key, t)
            .iter()
            .map(|(s, _)| s.serial.clone())
            .collect(),
        ..Metrics::default()
    };
    match v {
        Verdict::NoBaseline => unreachable!("handled above: T0 exists"),
        Verdict::NoActiveDevice => Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "No device of {} is active at T0 {}: not a sync problem of a working device.",
                p.principal.name,
                format_millis(t)
            ),
        )
        .with_metrics(M::D4(m)),
        Verdict::NamesOtherDevice { failure, state } => {
            let s = ix.event(*failure).mfa_serial.clone().unwrap_or_default();
            Finding::new(
                &META,
                Status::RuledOut,
                format!(
                    "The failures name {s}, which is {} at T0, not an active device of the user.",
                    state.as_str()
                ),
            )
            .with_evidence(vec![Evidence::of(
                ix,
                *failure,
                "failure naming a device that is not active",
            )])
            .with_metrics(M::D4(m))
        }
        Verdict::Fido { serial } => {
            m.device = Some(serial.clone());
            m.fido = true;
            Finding::new(
                &META,
                Status::RuledOut,
                format!(
                    "{serial} is a FIDO security key or passkey: it has no clock, so its failures are not time drift."
                ),
            )
            .with_metrics(M::D4(m))
        }
        Verdict::Device {
            serial,
            shown_by,
            failures,
            ambiguous,
            signs,
        } => {
            let typos = p
                .typos
                .iter()
                .filter(|&&i| ix.event(i).mfa_serial.as_deref().is_none_or(|s| s == serial))
                .count();
            m.device = Some(serial.clone());
            m.failures_on_device = failures.len();
            m.ambiguous_failures_on_device = *ambiguous;
            m.typo_failures_on_device = typos;
            m.drift_signs = signs.iter().map(|(_, s)| *s).collect();
            let mut ev = Vec::new();
            if let Some(s) = shown_by {
                ev.push(Evidence::of(ix, *s, format!("shows {serial} active")));
            }
            ev.extend(
                failures
                    .iter()
                    .take(3)
                    .map(|&i| Evidence::of(ix, i, format!("failure on {serial}"))),
            );
            ev.extend(signs.iter().map(|&(i, s)| Evidence::of(ix, i, s.text())));
            let sign_list = signs.iter().map(|(_, s)| s.text()).collect::<Vec<_>>().join("; ");
            if v.drift() {
                return Finding::new(
                    &META,
                    Status::Confirmed,
                    format!(
                        "{serial} is active, {} failures of the episode are on it, and {sign_list}: the token clock is out of sync (resync the device / fix the authenticator's clock).",
                        failures.len()
                    ),
                )
                .with_evidence(ev)
                .with_metrics(M::D4(m));
            }
            let why = if failures.len() >= MIN_FAILURES && !signs.is_empty() {
                "every one of them is a console failure that names no device (password or code), which never makes drift alone"
                    .to_owned()
            } else {
                format!(
                    "needs >= {MIN_FAILURES} failures and a resync, a success between them or an invalid-code message"
                )
            };
            Finding::new(
                &META,
                Status::Inconclusive,
                format!(
                    "{serial} is active at T0 with {} failure(s) on it that are not typing and {} drift sign(s): not enough to call it drift ({why}).",
                    failures.len(),
                    signs.len()
                ),
            )
            .with_evidence(ev)
            .with_metrics(M::D4(m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, with_pass};

    const S: &str = "arn:aws:iam::111122223333:mfa/carol";

    fn run(events: Vec<EventRow>) -> Verdict {
        let ix = index(events);
        with_pass(&ix, "carol", verdict)
    }

    fn signs(v: &Verdict) -> Vec<DriftSign> {
        match v {
            Verdict::Device { signs, .. } => signs.iter().map(|(_, s)| *s).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn interleaved_successes_confirm() {
        let v = run(vec![
            ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S)),
            ev(10, MfaFailure, Some("carol"), None, Some(S)),
            ev(20, MfaSuccess, Some("carol"), None, Some(S)),
            ev(30, MfaFailure, Some("carol"), None, Some(S)),
            ev(40, MfaFailure, Some("carol"), None, Some(S)),
        ]);
        assert!(v.drift(), "{v:?}");
        assert_eq!(signs(&v), [DriftSign::SuccessBetween]);
    }

    #[test]
    fn typing_through_the_day_is_not_drift() {
        // Fail, then succeed a minute later, four times a day: every failure is typing, and
        // each success followed by quiet ends an episode.
        let mut events = vec![ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S))];
        for h in 1..5 {
            events.push(ev(h * 120, MfaFailure, Some("carol"), None, Some(S)));
            events.push(ev(h * 120 + 1, MfaSuccess, Some("carol"), None, Some(S)));
        }
        assert_eq!(run(events), Verdict::NoBaseline);
    }

    #[test]
    fn invalid_codes_are_a_drift_sign_but_console_failures_alone_are_not() {
        let mut events = vec![ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S))];
        for m in [10, 20, 30] {
            let mut f = ev(m, MfaFailure, Some("carol"), None, Some(S));
            f.error_message = Some("MultiFactorAuthentication failed with invalid MFA one time pass code. ".into());
            events.push(f);
        }
        let v = run(events);
        assert_eq!(signs(&v), [DriftSign::InvalidCode]);
        assert!(v.drift());
        // Three console failures naming no device, a console success with the device between.
        let mut ok = ev(20, MfaSuccess, Some("carol"), None, Some(S));
        ok.event_source = "signin.amazonaws.com".into();
        let v = run(vec![
            ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S)),
            ev(10, ConsoleFailureAmbiguous, Some("carol"), None, None),
            ok,
            ev(30, ConsoleFailureAmbiguous, Some("carol"), None, None),
            ev(40, ConsoleFailureAmbiguous, Some("carol"), None, None),
        ]);
        assert_eq!(signs(&v), [DriftSign::SuccessBetween]);
        assert!(
            matches!(&v, Verdict::Device { failures, ambiguous: 3, .. } if failures.len() == 3),
            "{v:?}"
        );
        assert!(!v.drift());
    }

    #[test]
    fn removed_devices_and_fido_keys_are_ruled_out() {
        assert_eq!(
            run(vec![
                ev(1, DeviceDeactivated, Some("ops"), Some("carol"), Some(S)),
                ev(10, MfaFailure, Some("carol"), None, Some(S)),
            ]),
            Verdict::NoActiveDevice
        );
        let k = "arn:aws:iam::111122223333:u2f/user/carol/default-AAAA";
        let v = run(vec![
            ev(1, MfaSuccess, Some("carol"), None, Some(k)),
            ev(10, MfaFailure, Some("carol"), None, Some(k)),
            ev(20, MfaSuccess, Some("carol"), None, Some(k)),
            ev(30, MfaFailure, Some("carol"), None, Some(k)),
            ev(40, MfaFailure, Some("carol"), None, Some(k)),
        ]);
        assert!(matches!(v, Verdict::Fido { .. }), "{v:?}");
    }
}
