//! D1 — failure baseline.
//!
//! ## Runbook step
//! > 1. Analyze CloudTrail events (from Playbook step 3 and step 4) to identify when MFA
//! > authentication failures first appeared. This timestamp establishes the correlation
//! > baseline for root cause analysis.
//!
//! ## What it checks
//! The user's first failure signal in the window (T0): an `mfa_failure`; where there is none, an
//! `mfa_required_denied` (a user whose device is gone often signs in without MFA and is then
//! denied by the MFA policy); else an `explicit_deny_with_mfa` when a known
//! `aws:MultiFactorAuthAge` condition reaches the user (stale MFA sessions).
//!
//! ## Evidence
//! The first and last signals; metrics count failures and denials and list IPs, user agents,
//! serials and the console/CLI split.
//!
//! ## Verdicts
//! confirmed when T0 exists. Never ruled out.
//!
//! ## Not evaluable when
//! the user has no failure signal in the window.

use std::collections::BTreeSet;

use super::{Ctx, Evidence, Finding, RuleMeta, Status};
use crate::time::format_millis;

pub const META: RuleMeta = RuleMeta {
    id: "D1",
    title: "Failure baseline",
    runbook_step: "Diagnosis 1",
    checks: "first MFA failure (or MFA-required denial) of the user in the window: T0 for every other rule",
};

pub fn eval(ctx: &Ctx) -> Finding {
    let Some(t0) = ctx.t0 else {
        return Finding::new(
            &META,
            Status::NotEvaluable,
            format!(
                "{} has no MFA failure, MFA-required denial or stale-MFA denial between {} and {}.",
                ctx.user,
                format_millis(ctx.since),
                format_millis(ctx.until)
            ),
        )
        .metric("failures", 0);
    };
    let signals = ctx.signals();
    let last = signals.last().copied().unwrap_or(t0);
    let distinct = |f: &dyn Fn(&crate::parse::EventRow) -> Option<String>| -> Vec<String> {
        signals
            .iter()
            .filter_map(|e| f(e))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let console = ctx
        .failures
        .iter()
        .filter(|e| e.event_source == "signin.amazonaws.com")
        .count();
    let what = match t0.class {
        crate::parse::EventClass::MfaFailure => "MFA failure",
        crate::parse::EventClass::MfaRequiredDenied => "MFA-required denial (no MFA failure in the window)",
        _ => "denial of an MFA session by an MFA-age condition",
    };
    let mut ev = vec![Evidence::of(t0, format!("first {what}: T0"))];
    if last.event_id != t0.event_id {
        ev.push(Evidence::of(last, "last failure signal in the window"));
    }
    Finding::new(
        &META,
        Status::Confirmed,
        format!(
            "First {what} at {} ({} {}); {} MFA failures and {} MFA-required denials up to {}, from {} with {}.",
            format_millis(t0.event_time),
            t0.event_name,
            t0.error_message
                .as_deref()
                .map(|m| format!("\"{}\"", m.trim()))
                .unwrap_or_default(),
            ctx.failures.len(),
            ctx.denials.len(),
            format_millis(last.event_time),
            short_list(&distinct(&|e| e.source_ip.clone()), "IP"),
            short_list(&distinct(&|e| e.user_agent.clone()), "user agent"),
        ),
    )
    .with_evidence(ev)
    .metric("t0", format_millis(t0.event_time))
    .metric("failures", ctx.failures.len())
    .metric("console_failures", console)
    .metric("cli_failures", ctx.failures.len() - console)
    .metric("mfa_required_denials", ctx.denials.len())
    .metric("stale_mfa_denials", ctx.stale_denials.len())
    .metric("source_ips", distinct(&|e| e.source_ip.clone()))
    .metric("user_agents", distinct(&|e| e.user_agent.clone()))
    .metric("serials", distinct(&|e| e.mfa_serial.clone()))
}

/// `a, b and 3 more IPs` style lists for summaries.
fn short_list(items: &[String], what: &str) -> String {
    match items.len() {
        0 => format!("no {what}"),
        1..=2 => format!("{what}(s) {}", items.join(", ")),
        n => format!("{what}s {}, {} and {} more", items[0], items[1], n - 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::EventClass::*;
    use crate::rules::context::tests::ev;

    #[test]
    fn first_failure_wins_over_denials() {
        let events = vec![
            ev(1, MfaRequiredDenied, Some("bob"), None, None),
            ev(5, MfaFailure, Some("bob"), None, Some("s")),
            ev(9, MfaFailure, Some("bob"), None, Some("s")),
            ev(3, MfaFailure, Some("other"), None, None),
        ];
        let mut events = events;
        events.sort_by_key(|e| e.event_time);
        let ctx = Ctx::new(&events, "BOB", 0, 600_000, false);
        let f = eval(&ctx);
        assert_eq!(f.status, Status::Confirmed);
        assert_eq!(f.evidence[0].event_id, "e5-mfa_failure");
        assert_eq!(f.metrics["failures"], 2);
        assert_eq!(f.metrics["mfa_required_denials"], 1);
    }

    #[test]
    fn denial_only_and_nothing() {
        let events = vec![ev(2, MfaRequiredDenied, Some("bob"), None, None)];
        let f = eval(&Ctx::new(&events, "bob", 0, 600_000, false));
        assert_eq!(f.status, Status::Confirmed);
        assert!(f.summary.contains("MFA-required denial"));
        let f = eval(&Ctx::new(&events, "carol", 0, 600_000, false));
        assert_eq!(f.status, Status::NotEvaluable);
        // Outside the window does not count.
        let f = eval(&Ctx::new(&events, "bob", 180_000, 600_000, false));
        assert_eq!(f.status, Status::NotEvaluable);
    }
}
