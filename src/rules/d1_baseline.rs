//! D1 — failure baseline.
//!
//! ## Runbook step
//! > 1. Analyze CloudTrail events (from Playbook step 3 and step 4) to identify when MFA
//! > authentication failures first appeared. This timestamp establishes the correlation
//! > baseline for root cause analysis.
//!
//! ## What it checks
//! The principal's first failure signal in the window (T0, computed by the pass): the first MFA
//! failure that is not typing (typing: at most two failures resolved by a success within five
//! minutes); where there is none, the first MFA-required denial; where there is none, the first
//! typo; else a denial of an MFA session under a known `aws:MultiFactorAuthAge` condition.
//! Console failures with MFAUsed=Yes that name no device are counted apart: CloudTrail does not
//! say whether the password or the code was wrong.
//!
//! ## Evidence
//! The first and last signals; metrics count failures (typos, ambiguous console failures) and
//! denials and list IPs, user agents and serials.
//!
//! ## Verdicts
//! confirmed when T0 exists. Never ruled out.
//!
//! ## Not evaluable when
//! the principal has no failure signal in the window, or is not an IAM user or root (role
//! sessions and Identity Center users have no IAM MFA device that CloudTrail shows).

use std::collections::BTreeSet;

use serde::Serialize;

use super::pass::Signal;
use super::{Evidence, Finding, Metrics as M, Pass, RuleMeta, Status};
use crate::event::{EventClass, EventRow, PrincipalKind, format_millis};

pub const META: RuleMeta = RuleMeta {
    id: "D1",
    title: "Failure baseline",
    runbook_step: "Diagnosis 1",
    checks: "first MFA failure that is not typing (else MFA-required denial) of the user in the window: T0 for every other rule",
    next_step: "Use T0 to line up the other evidence; ask the user what changed around then.",
};

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub t0: Option<String>,
    pub signal: Option<Signal>,
    pub failures: usize,
    /// Failures resolved by a success within minutes: typing, not the onset.
    pub typo_failures: usize,
    /// Console failures with MFAUsed=Yes naming no device: password or code.
    pub ambiguous_console_failures: usize,
    pub console_failures: usize,
    pub cli_failures: usize,
    pub mfa_required_denials: usize,
    pub stale_mfa_denials: usize,
    /// Explicit denies from SCPs, resource policies, boundaries or session policies: context,
    /// never evidence of an MFA requirement.
    pub other_explicit_denies: usize,
    pub source_ips: Vec<String>,
    pub user_agents: Vec<String>,
    pub serials: Vec<String>,
}

pub fn eval(p: &Pass) -> Finding {
    let ix = p.ix;
    if !p.principal.kind.has_iam_devices() {
        let what = match p.principal.kind {
            PrincipalKind::IdentityCenterUser => {
                "an IAM Identity Center user: its MFA is managed in Identity Center, not by IAM devices and policies"
            }
            _ => "a role session: roles have no MFA devices; the MFA belongs to whoever assumed the role",
        };
        return Finding::new(
            &META,
            Status::NotEvaluable,
            format!("{} is {what}. The IAM user rules do not apply.", p.principal.label()),
        )
        .with_evidence(
            p.events
                .iter()
                .take(5)
                .map(|&i| Evidence::of(ix, i, "event of this principal"))
                .collect(),
        );
    }
    let other_denies = p.own(&[EventClass::ExplicitDenyOther]).len();
    let Some(t0) = p.t0 else {
        return Finding::new(
            &META,
            Status::NotEvaluable,
            format!(
                "{} has no MFA failure, MFA-required denial or stale-MFA denial between {} and {}.",
                p.principal.name,
                format_millis(p.since),
                format_millis(p.until)
            ),
        )
        .with_metrics(M::D1(Metrics {
            other_explicit_denies: other_denies,
            ..Metrics::default()
        }));
    };
    let signals = p.signals();
    let last = signals.last().copied().unwrap_or(t0);
    let distinct = |f: &dyn Fn(&EventRow) -> Option<String>| -> Vec<String> {
        signals
            .iter()
            .filter_map(|&i| f(ix.event(i)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let console = p
        .failures
        .iter()
        .filter(|&&i| ix.event(i).event_source == "signin.amazonaws.com")
        .count();
    let ambiguous = p
        .failures
        .iter()
        .filter(|&&i| ix.event(i).class == EventClass::ConsoleFailureAmbiguous)
        .count();
    let typos = p.failures.len() - p.real_failures.len();
    let e0 = ix.event(t0);
    let what = match p.signal {
        Some(Signal::MfaFailure) if e0.class == EventClass::ConsoleFailureAmbiguous => {
            "failed console sign-in with MFA (password or code: CloudTrail does not say which)"
        }
        Some(Signal::MfaFailure) => "MFA failure",
        Some(Signal::MfaRequiredDenial) => "MFA-required denial (no MFA failure in the window)",
        Some(Signal::Typo) => "MFA failure, and every failure was typing (resolved by a success within minutes)",
        _ => "denial of an MFA session by an MFA-age condition",
    };
    let mut ev = vec![Evidence::of(ix, t0, format!("first {what}: T0"))];
    if last != t0 {
        ev.push(Evidence::of(ix, last, "last failure signal in the window"));
    }
    let typo_note = if typos > 0 && p.signal != Some(Signal::Typo) {
        format!(" ({typos} earlier or later failure(s) were typing and are not the onset)")
    } else {
        String::new()
    };
    Finding::new(
        &META,
        Status::Confirmed,
        format!(
            "First {what} at {} ({} {}){typo_note}; {} MFA failures and {} MFA-required denials up to {}, from {} with {}.",
            format_millis(e0.event_time),
            e0.event_name,
            e0.error_message
                .as_deref()
                .map(|m| format!("\"{}\"", m.trim()))
                .unwrap_or_default(),
            p.failures.len(),
            p.denials.len(),
            format_millis(ix.event(last).event_time),
            short_list(&distinct(&|e| e.source_ip.clone()), "IP"),
            short_list(&distinct(&|e| e.user_agent.clone()), "user agent"),
        ),
    )
    .with_evidence(ev)
    .with_metrics(M::D1(Metrics {
        t0: Some(format_millis(e0.event_time)),
        signal: p.signal,
        failures: p.failures.len(),
        typo_failures: typos,
        ambiguous_console_failures: ambiguous,
        console_failures: console,
        cli_failures: p.failures.len() - console,
        mfa_required_denials: p.denials.len(),
        stale_mfa_denials: p.stale_denials.len(),
        other_explicit_denies: other_denies,
        source_ips: distinct(&|e| e.source_ip.clone()),
        user_agents: distinct(&|e| e.user_agent.clone()),
        serials: distinct(&|e| e.mfa_serial.clone()),
    }))
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
    use crate::event::EventClass::*;
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, pass};

    fn metrics(f: &Finding) -> &Metrics {
        match &f.metrics {
            M::D1(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn first_real_failure_wins_over_denials_and_typos() {
        let s = Some("arn:aws:iam::111122223333:mfa/bob");
        let ix = index(vec![
            // A typo in the morning: fail, success a minute later.
            ev(0, MfaFailure, Some("bob"), None, s),
            ev(1, MfaSuccess, Some("bob"), None, s),
            ev(3, MfaRequiredDenied, Some("bob"), None, None),
            ev(5, MfaFailure, Some("bob"), None, s),
            ev(9, MfaFailure, Some("bob"), None, s),
            ev(4, MfaFailure, Some("other"), None, None),
        ]);
        let f = eval(&pass(&ix, "BOB"));
        assert_eq!(f.status, Status::Confirmed);
        assert_eq!(f.evidence[0].event_id, "e5-mfa_failure");
        let m = metrics(&f);
        assert_eq!((m.failures, m.typo_failures, m.mfa_required_denials), (3, 1, 1));
    }

    #[test]
    fn denial_only_typing_only_and_nothing() {
        let ix = index(vec![ev(2, MfaRequiredDenied, Some("bob"), None, None)]);
        let f = eval(&pass(&ix, "bob"));
        assert_eq!(f.status, Status::Confirmed);
        assert!(f.summary.contains("MFA-required denial"));
        let ix = index(vec![
            ev(2, MfaRequiredDenied, Some("bob"), None, None),
            ev(3, MfaFailure, Some("carol"), None, None),
            ev(4, MfaSuccess, Some("carol"), None, None),
        ]);
        let f = eval(&pass(&ix, "carol"));
        assert_eq!(metrics(&f).signal, Some(Signal::Typo));
        let f = eval(&crate::rules::Pass::new(
            &ix,
            crate::rules::pass::tests::pid(&ix, "bob"),
            180_000,
            600_000,
            false,
        ));
        assert_eq!(f.status, Status::NotEvaluable, "outside the window does not count");
    }

    #[test]
    fn role_sessions_are_not_evaluable() {
        let mut e = ev(2, MfaRequiredDenied, None, None, None);
        e.identity_type = Some("AssumedRole".into());
        e.role_name = Some("GitHubActionsDeploy".into());
        let ix = index(vec![e]);
        let (pid, _) = ix.principals().next().unwrap();
        let f = eval(&crate::rules::Pass::new(&ix, pid, 0, 600_000, false));
        assert_eq!(f.status, Status::NotEvaluable);
        assert!(f.summary.contains("role session"), "{}", f.summary);
    }
}
