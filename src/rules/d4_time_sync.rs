//! D4 — token time synchronisation.
//!
//! ## Runbook step
//! > 4. If MFA device is configured and active (from Playbook step 2) but failures persist,
//! > check device serial number and sync status (from Playbook step 7). Time synchronization
//! > issues between device and AWS cause token validation failures.
//!
//! ## What it checks
//! A device of the user active at T0 (from everything read) with at least 3 MFA failures that
//! are not typing naming it (or naming no serial while it is the only active one), and a drift
//! sign: a `ResyncMFADevice` of it, or a success with it between two of those failures. STS's
//! "invalid MFA one time pass code" is listed but is not enough alone: a wrong code (a wrong
//! entry in the authenticator app) reads the same. FIDO security keys and passkeys (`…:u2f/…`)
//! have no clock: never drift.
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

use super::{Evidence, Finding, Metrics as M, Pass, RuleMeta, Status};
use crate::event::{EventClass, format_millis};
use crate::index::devices::is_fido;
use crate::index::{DevState, Ev, SerialKey};

pub const META: RuleMeta = RuleMeta {
    id: "D4",
    title: "Token time drift on an active device",
    runbook_step: "Diagnosis 4",
    checks: "active non-FIDO device at T0 with >= 3 failures (not typing) naming it and a drift sign (resync, success with it between failures)",
    next_step: "Resync the device (IAM console: Resync, two consecutive codes) and set the phone or token clock to automatic time.",
};

/// Minimum failures (not typing) on one device before drift is considered.
pub const MIN_FAILURES: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub active_devices_at_t0: Vec<String>,
    pub device: Option<String>,
    pub fido: bool,
    pub failures_on_device: usize,
    pub typo_failures_on_device: usize,
    pub drift_signs: Vec<String>,
    pub weak_signs: Vec<String>,
}

pub fn eval(p: &Pass) -> Finding {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    };
    let t = ix.event(t0).event_time;
    let active = ix.devices.active_of(&p.key, t);
    let mut m = Metrics {
        active_devices_at_t0: active.iter().map(|(s, _)| s.serial.clone()).collect(),
        ..Metrics::default()
    };
    let names = |i: Ev, s: &SerialKey| {
        let e = ix.event(i);
        e.mfa_serial.as_deref().is_some_and(|x| SerialKey::of(e, x) == *s)
    };
    // Failures naming a serial that is not active at T0 point elsewhere (D2/D3).
    let named_elsewhere: Vec<Ev> = p
        .real_failures
        .iter()
        .copied()
        .filter(|&i| {
            let e = ix.event(i);
            e.mfa_serial
                .as_deref()
                .is_some_and(|s| ix.devices.state_at(&SerialKey::of(e, s), t).0 != DevState::Active)
        })
        .collect();
    if active.is_empty() {
        return Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "No device of {} is active at T0 {}: not a sync problem of a working device.",
                p.principal.name,
                format_millis(t)
            ),
        )
        .with_metrics(M::D4(m));
    }
    // The device the failures are about.
    let mut best: Option<(&SerialKey, Option<Ev>, Vec<Ev>)> = None;
    for (s, shown) in &active {
        let on_it: Vec<Ev> = p
            .failures
            .iter()
            .copied()
            .filter(|&i| names(i, s) || (ix.event(i).mfa_serial.is_none() && active.len() == 1))
            .collect();
        if best.as_ref().is_none_or(|b| on_it.len() > b.2.len()) {
            best = Some((s, *shown, on_it));
        }
    }
    let Some((serial, shown, on_it_all)) = best else {
        return Finding::new(&META, Status::Inconclusive, "No device to examine.").with_metrics(M::D4(m));
    };
    let on_it: Vec<Ev> = on_it_all.iter().copied().filter(|&i| !ix.typo[i as usize]).collect();
    m.device = Some(serial.serial.clone());
    m.fido = is_fido(&serial.serial);
    m.failures_on_device = on_it.len();
    m.typo_failures_on_device = on_it_all.len() - on_it.len();
    if on_it.is_empty() && !named_elsewhere.is_empty() {
        let i = named_elsewhere[0];
        let e = ix.event(i);
        let s = e.mfa_serial.as_deref().unwrap_or("?");
        return Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "The failures name {s}, which is {} at T0, not the active device {}.",
                ix.devices.state_at(&SerialKey::of(e, s), t).0.as_str(),
                serial.serial
            ),
        )
        .with_evidence(vec![Evidence::of(ix, i, "failure naming a device that is not active")])
        .with_metrics(M::D4(m));
    }
    let mut ev = Vec::new();
    if let Some(s) = shown {
        ev.push(Evidence::of(ix, s, format!("shows {} active", serial.serial)));
    }
    ev.extend(
        on_it
            .iter()
            .take(3)
            .map(|&i| Evidence::of(ix, i, format!("failure on {}", serial.serial))),
    );
    if m.fido {
        return Finding::new(
            &META,
            Status::RuledOut,
            format!(
                "{} is a FIDO security key or passkey: it has no clock, so its failures are not time drift.",
                serial.serial
            ),
        )
        .with_evidence(ev)
        .with_metrics(M::D4(m));
    }
    let mut signs: Vec<(Ev, &str)> = Vec::new();
    if let Some((_, r, _)) = ix
        .devices
        .lifecycle(serial)
        .find(|(time, _, c)| *c == EventClass::DeviceResynced && *time >= p.since && *time <= p.until)
    {
        signs.push((r, "ResyncMFADevice of the device"));
    }
    if let (Some(&first), Some(&last)) = (on_it.first(), on_it.last()) {
        let (ft, lt) = (ix.event(first).event_time, ix.event(last).event_time);
        let between = ix
            .devices
            .uses(serial)
            .find(|(ut, _)| *ut > ft && *ut < lt && on_it.iter().any(|&f| ix.event(f).event_time > *ut));
        if let Some((_, u)) = between {
            signs.push((u, "success with the same device between failures"));
        }
    }
    let weak = on_it.iter().copied().find(|&i| {
        ix.event(i)
            .error_message
            .as_deref()
            .is_some_and(|msg| msg.contains("invalid MFA one time pass code"))
    });
    if let Some(w) = weak {
        m.weak_signs
            .push("STS: invalid MFA one time pass code (a wrong code; drift or a wrong authenticator entry)".into());
        ev.push(Evidence::of(ix, w, "STS: invalid MFA one time pass code"));
    }
    ev.extend(signs.iter().map(|&(i, w)| Evidence::of(ix, i, w)));
    m.drift_signs = signs.iter().map(|(_, w)| w.to_string()).collect();
    if on_it.len() < MIN_FAILURES || signs.is_empty() {
        return Finding::new(
            &META,
            Status::Inconclusive,
            format!(
                "{} is active at T0 with {} failure(s) on it that are not typing and {} drift sign(s){}: not enough to call it drift (needs >= {MIN_FAILURES} failures and a resync or a success between them).",
                serial.serial,
                on_it.len(),
                signs.len(),
                if weak.is_some() {
                    " (STS says the code was invalid, which a wrong code says too)"
                } else {
                    ""
                }
            ),
        )
        .with_evidence(ev)
        .with_metrics(M::D4(m));
    }
    Finding::new(
        &META,
        Status::Confirmed,
        format!(
            "{} is active, {} failures name it, and {}: the token clock is out of sync (resync the device / fix the authenticator's clock).",
            serial.serial,
            on_it.len(),
            signs.iter().map(|(_, w)| *w).collect::<Vec<_>>().join("; ")
        ),
    )
    .with_evidence(ev)
    .with_metrics(M::D4(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, pass};

    const S: &str = "arn:aws:iam::111122223333:mfa/carol";

    fn run(events: Vec<EventRow>) -> Finding {
        let ix = index(events);
        eval(&pass(&ix, "carol"))
    }

    #[test]
    fn interleaved_successes_confirm() {
        let f = run(vec![
            ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S)),
            ev(10, MfaFailure, Some("carol"), None, Some(S)),
            ev(20, MfaSuccess, Some("carol"), None, Some(S)),
            ev(30, MfaFailure, Some("carol"), None, Some(S)),
            ev(40, MfaFailure, Some("carol"), None, Some(S)),
        ]);
        assert_eq!(f.status, Status::Confirmed, "{}", f.summary);
    }

    #[test]
    fn typing_through_the_day_is_not_drift() {
        // Fail, then succeed a minute later, four times a day: every failure is a typo.
        let mut events = vec![ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S))];
        for h in 1..5 {
            events.push(ev(h * 120, MfaFailure, Some("carol"), None, Some(S)));
            events.push(ev(h * 120 + 1, MfaSuccess, Some("carol"), None, Some(S)));
        }
        let f = run(events);
        assert_eq!(f.status, Status::Inconclusive, "{}", f.summary);
    }

    #[test]
    fn an_invalid_code_alone_is_not_drift() {
        let mut events = vec![ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S))];
        for m in [10, 20, 30] {
            let mut f = ev(m, MfaFailure, Some("carol"), None, Some(S));
            f.error_message = Some("MultiFactorAuthentication failed with invalid MFA one time pass code. ".into());
            events.push(f);
        }
        assert_eq!(run(events).status, Status::Inconclusive);
    }

    #[test]
    fn removed_devices_and_fido_keys_are_ruled_out() {
        let f = run(vec![
            ev(1, DeviceDeactivated, Some("ops"), Some("carol"), Some(S)),
            ev(10, MfaFailure, Some("carol"), None, Some(S)),
        ]);
        assert_eq!(f.status, Status::RuledOut);
        let k = "arn:aws:iam::111122223333:u2f/user/carol/default-AAAA";
        let f = run(vec![
            ev(1, MfaSuccess, Some("carol"), None, Some(k)),
            ev(10, MfaFailure, Some("carol"), None, Some(k)),
            ev(20, MfaSuccess, Some("carol"), None, Some(k)),
            ev(30, MfaFailure, Some("carol"), None, Some(k)),
            ev(40, MfaFailure, Some("carol"), None, Some(k)),
        ]);
        assert_eq!(f.status, Status::RuledOut, "{}", f.summary);
        assert!(f.summary.contains("FIDO"));
    }
}
