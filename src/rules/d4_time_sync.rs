//! D4 — token time synchronisation.
//!
//! ## Runbook step
//! > 4. If MFA device is configured and active (from Playbook step 2) but failures persist,
//! > check device serial number and sync status (from Playbook step 7). Time synchronization
//! > issues between device and AWS cause token validation failures.
//!
//! ## What it checks
//! A device of the user active at T0 with at least 3 `mfa_failure` naming it (or naming no
//! serial while it is the only active one), and at least one drift sign: a `ResyncMFADevice` of
//! it, a success with it between two of those failures, or STS "invalid MFA one time pass code"
//! messages (a right device, a wrong code).
//!
//! ## Evidence
//! The event that shows the device active, the failures, the drift signs.
//!
//! ## Verdicts
//! confirmed as above; ruled_out when no device is active at T0 or the failures name a removed
//! or unknown serial; inconclusive otherwise, and at most inconclusive when D5 finds an
//! account-wide or multi-account scope (the cause then lies beyond one device).
//!
//! ## Not evaluable when
//! there is no T0 (D1).

use super::devices::DevState;
use super::{Ctx, Evidence, Finding, RuleMeta, Status};
use crate::parse::{EventClass, EventRow};
use crate::time::format_millis;

pub const META: RuleMeta = RuleMeta {
    id: "D4",
    title: "Token time drift on an active device",
    runbook_step: "Diagnosis 4",
    checks: "active device at T0 with >= 3 failures naming it and a drift sign (resync, success between failures, \"invalid MFA one time pass code\")",
};

/// Minimum failures on one device before drift is considered.
pub const MIN_FAILURES: usize = 3;

pub fn eval(ctx: &Ctx) -> Finding {
    let Some(t0) = ctx.t0 else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1).");
    };
    let t = t0.event_time;
    let active = ctx.devices.active_of(ctx.user, t);
    let base = Finding::new(&META, Status::Inconclusive, "").metric(
        "active_devices_at_t0",
        active.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>(),
    );
    // Failures naming a serial that is not active at T0 point elsewhere (D2/D3).
    let named_elsewhere: Vec<&EventRow> = ctx
        .failures
        .iter()
        .copied()
        .filter(|e| {
            e.mfa_serial
                .as_deref()
                .is_some_and(|s| ctx.devices.state_at(s, t).0 != DevState::Active)
        })
        .collect();
    if active.is_empty() {
        return Finding {
            status: Status::RuledOut,
            summary: format!(
                "No device of {} is active at T0 {}: not a sync problem of a working device.",
                ctx.user,
                format_millis(t)
            ),
            ..base
        };
    }
    // The device the failures are about.
    let mut best: Option<(&str, Option<&EventRow>, Vec<&EventRow>)> = None;
    for (s, shown) in &active {
        let on_it: Vec<&EventRow> = ctx
            .failures
            .iter()
            .copied()
            .filter(|e| e.mfa_serial.as_deref() == Some(s) || (e.mfa_serial.is_none() && active.len() == 1))
            .collect();
        if best.as_ref().is_none_or(|b| on_it.len() > b.2.len()) {
            best = Some((s, *shown, on_it));
        }
    }
    let Some((serial, shown, on_it)) = best else {
        return base;
    };
    if on_it.is_empty() && !named_elsewhere.is_empty() {
        let e = named_elsewhere[0];
        return Finding {
            status: Status::RuledOut,
            summary: format!(
                "The failures name {}, which is {} at T0, not the active device {serial}.",
                e.mfa_serial.as_deref().unwrap_or("?"),
                ctx.devices
                    .state_at(e.mfa_serial.as_deref().unwrap_or(""), t)
                    .0
                    .as_str()
            ),
            evidence: vec![Evidence::of(e, "failure naming a device that is not active")],
            ..base
        };
    }
    let mut signs: Vec<(&EventRow, &str)> = Vec::new();
    if let Some(r) = ctx
        .win
        .iter()
        .copied()
        .find(|e| e.class == EventClass::DeviceResynced && e.succeeded() && e.mfa_serial.as_deref() == Some(serial))
    {
        signs.push((r, "ResyncMFADevice of the device"));
    }
    if let (Some(first), Some(last)) = (on_it.first(), on_it.last()) {
        let between = ctx.devices.uses(serial).iter().copied().find(|u| {
            u.event_time > first.event_time
                && u.event_time < last.event_time
                && on_it.iter().any(|f| f.event_time > u.event_time)
        });
        if let Some(u) = between {
            signs.push((u, "success with the same device between failures"));
        }
    }
    if let Some(e) = on_it.iter().copied().find(|e| {
        e.error_message
            .as_deref()
            .is_some_and(|m| m.contains("invalid MFA one time pass code"))
    }) {
        signs.push((e, "STS: invalid MFA one time pass code (right device, wrong code)"));
    }
    let mut ev = Vec::new();
    if let Some(s) = shown {
        ev.push(Evidence::of(s, format!("shows {serial} active")));
    }
    ev.extend(
        on_it
            .iter()
            .take(3)
            .map(|e| Evidence::of(e, format!("failure on {serial}"))),
    );
    ev.extend(signs.iter().map(|(e, w)| Evidence::of(e, *w)));
    let f = base
        .metric("device", serial)
        .metric("failures_on_device", on_it.len())
        .metric(
            "drift_signs",
            signs.iter().map(|(_, w)| w.to_string()).collect::<Vec<_>>(),
        )
        .metric("scope", ctx.scope.kind.as_str());
    if on_it.len() < MIN_FAILURES || signs.is_empty() {
        return Finding {
            summary: format!(
                "{serial} is active at T0 with {} failure(s) on it and {} drift sign(s): not enough to call it drift (needs >= {MIN_FAILURES} failures and a sign).",
                on_it.len(),
                signs.len()
            ),
            evidence: ev,
            ..f
        };
    }
    if ctx.scope.kind.is_wide() {
        return Finding {
            summary: format!(
                "Drift signs on {serial}, but failures are {} (D5): the cause likely lies beyond one device.",
                ctx.scope.kind.as_str()
            ),
            evidence: ev,
            ..f
        };
    }
    Finding {
        status: Status::Confirmed,
        summary: format!(
            "{serial} is active, {} failures name it, and {}: the token clock is out of sync (resync the device / fix the authenticator's clock).",
            on_it.len(),
            signs.iter().map(|(_, w)| *w).collect::<Vec<_>>().join("; ")
        ),
        evidence: ev,
        ..f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::EventClass::*;
    use crate::rules::context::tests::ev;

    const S: &str = "arn:aws:iam::1:mfa/carol";

    fn run(mut events: Vec<EventRow>) -> Finding {
        events.sort_by_key(|e| e.event_time);
        let leaked: &'static [EventRow] = Box::leak(events.into_boxed_slice());
        eval(&Ctx::new(leaked, "carol", 0, 1_000 * 60_000, false))
    }

    #[test]
    fn interleaved_successes_confirm() {
        let f = run(vec![
            ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S)),
            ev(10, MfaFailure, Some("carol"), None, Some(S)),
            ev(12, MfaSuccess, Some("carol"), None, Some(S)),
            ev(14, MfaFailure, Some("carol"), None, Some(S)),
            ev(16, MfaFailure, Some("carol"), None, Some(S)),
        ]);
        assert_eq!(f.status, Status::Confirmed, "{}", f.summary);
    }

    #[test]
    fn too_few_or_no_sign_is_inconclusive_and_removed_is_ruled_out() {
        let f = run(vec![
            ev(1, DeviceEnabled, Some("carol"), Some("carol"), Some(S)),
            ev(10, MfaFailure, Some("carol"), None, Some(S)),
            ev(14, MfaFailure, Some("carol"), None, Some(S)),
            ev(16, MfaFailure, Some("carol"), None, Some(S)),
        ]);
        assert_eq!(f.status, Status::Inconclusive);
        let f = run(vec![
            ev(1, DeviceDeactivated, Some("ops"), Some("carol"), Some(S)),
            ev(10, MfaFailure, Some("carol"), None, Some(S)),
        ]);
        assert_eq!(f.status, Status::RuledOut);
    }
}
