//! D1 — failure baseline.
//!
//! ## Runbook step
//! > 1. Analyze CloudTrail events (from Playbook step 3 and step 4) to identify when MFA
//! > authentication failures first appeared. This timestamp establishes the correlation
//! > baseline for root cause analysis.
//!
//! ## What it checks
//! T0, the first signal of the current failure episode (DESIGN §6.0): going back from
//! `--until`, every signal up to the last MFA success that was followed by an hour without a
//! signal. A signal is an attempt failure that is not typing (at most two failures on one
//! channel, minutes apart, fixed by a success within five minutes) or a denial (an explicit
//! deny of a caller without MFA, a trust policy that wants MFA, a stale MFA session under a
//! known age limit). Console failures with MFAUsed=Yes that name no device are counted apart:
//! CloudTrail does not say whether the password or the code was wrong. Earlier episodes are
//! history, never T0.
//!
//! ## Evidence
//! T0 and the last signal; metrics count the episode's signals by kind, the typing in the
//! window, earlier episodes, and list IPs, user agents and serials.
//!
//! ## Verdicts
//! confirmed when T0 exists. Never ruled out.
//!
//! ## Not evaluable when
//! the principal has no signal up to `until` (typing alone is no signal), or is not an IAM user
//! or root (role sessions and Identity Center users have no IAM MFA device that CloudTrail
//! shows).

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleId, RuleMeta, Status};
use crate::event::{EventClass, EventRow, PrincipalKind, format_millis};
use crate::index::{Channel, Ev, SignalKind};

pub const META: RuleMeta = RuleMeta {
    id: RuleId::D1,
    title: "Failure baseline",
    runbook_step: "Diagnosis 1",
    checks: "T0: the first signal (failure that is not typing, or MFA denial) of the current failure episode, which ends at the last MFA success followed by an hour without signals: T0 for every other rule",
    next_step: "Use T0 to line up the other evidence; ask the user what changed around then.",
};

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub t0: Option<String>,
    pub signal: Option<SignalKind>,
    /// The episode's attempt failures (not typing).
    pub failures: usize,
    /// Typing failures in the window: shown, never the onset.
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
    /// False when the episode runs back to the start of the data read: it may begin earlier.
    pub episode_start_known: Option<bool>,
    /// The MFA success that closed the earlier trouble.
    pub closed_by: Option<String>,
    /// Earlier episodes in the data read, newest first: "first..last (n signals)".
    pub earlier_episodes: Vec<String>,
    pub source_ips: Vec<String>,
    pub user_agents: Vec<String>,
    pub serials: Vec<String>,
}

/// What D1 found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not an IAM user or root.
    NotIam(PrincipalKind),
    /// No signal up to `until`; `typos`: typing failures in the window.
    NoSignal { typos: usize },
    /// T0 and the episode's last signal.
    Baseline { t0: Ev, last: Ev },
}

pub fn verdict(p: &Pass) -> Verdict {
    if !p.principal.kind.has_iam_devices() {
        return Verdict::NotIam(p.principal.kind);
    }
    match (p.t0, p.episode) {
        (Some(t0), Some(e)) => Verdict::Baseline { t0, last: e.last },
        _ => Verdict::NoSignal { typos: p.typos.len() },
    }
}

fn metrics(p: &Pass) -> Metrics {
    let ix = p.ix;
    let signals = p.signals();
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
        .filter(|&&i| Channel::of(ix.event(i)) == Channel::Console)
        .count();
    let ambiguous = p
        .failures
        .iter()
        .filter(|&&i| ix.signal(i) == Some(SignalKind::AmbiguousFailure))
        .count();
    let ep = p.episode;
    Metrics {
        t0: p.t0_time().map(format_millis),
        signal: p.signal(),
        failures: p.failures.len(),
        typo_failures: p.typos.len(),
        ambiguous_console_failures: ambiguous,
        console_failures: console,
        cli_failures: p.failures.len() - console,
        mfa_required_denials: p.denials.len(),
        stale_mfa_denials: p.stale_denials.len(),
        other_explicit_denies: p.own(&[EventClass::ExplicitDenyOther]).len(),
        episode_start_known: ep.map(|e| e.start_known),
        closed_by: ep
            .and_then(|e| e.closed_by)
            .map(|i| format_millis(ix.event(i).event_time)),
        earlier_episodes: ep
            .map(|e| {
                e.earlier
                    .iter()
                    .map(|h| {
                        format!(
                            "{}..{} ({} signal(s))",
                            format_millis(ix.event(h.first).event_time),
                            format_millis(ix.event(h.last).event_time),
                            h.signals
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        source_ips: distinct(&|e| e.source_ip.clone()),
        user_agents: distinct(&|e| e.user_agent.clone()),
        serials: distinct(&|e| e.mfa_serial.clone()),
    }
}

pub fn eval(p: &Pass) -> Finding {
    render(p, verdict(p))
}

fn render(p: &Pass, v: Verdict) -> Finding {
    let ix = p.ix;
    match v {
        Verdict::NotIam(kind) => {
            let what = match kind {
                PrincipalKind::IdentityCenterUser => {
                    "an IAM Identity Center user: its MFA is managed in Identity Center, not by IAM devices and policies"
                }
                _ => "a role session: roles have no MFA devices; the MFA belongs to whoever assumed the role",
            };
            Finding::new(
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
            )
        }
        Verdict::NoSignal { typos } => {
            let typing = if typos > 0 {
                format!(
                    " Its {typos} MFA failure(s) in the window were all typing (each fixed by a success within minutes): shown, never a signal."
                )
            } else {
                String::new()
            };
            Finding::new(
                &META,
                Status::NotEvaluable,
                format!(
                    "{} has no MFA failure signal (a failure that is not typing, or an MFA denial) up to {}.{typing}",
                    p.principal.name,
                    format_millis(p.until)
                ),
            )
            .with_evidence(
                p.typos
                    .iter()
                    .take(3)
                    .map(|&i| Evidence::of(ix, i, "typing: fixed by a success within minutes"))
                    .collect(),
            )
            .with_metrics(M::D1(metrics(p)))
        }
        Verdict::Baseline { t0, last } => {
            let m = metrics(p);
            let e0 = ix.event(t0);
            let what = match ix.signal(t0) {
                Some(SignalKind::AmbiguousFailure) => {
                    "failed console sign-in with MFA (password or code: CloudTrail does not say which)"
                }
                Some(SignalKind::Failure) => "MFA failure",
                Some(SignalKind::Denial) => "MFA-required denial",
                Some(SignalKind::TrustDenial) => "denial by a role trust policy that requires MFA",
                _ => "denial of an MFA session by an MFA-age condition",
            };
            let mut ev = vec![Evidence::of(ix, t0, format!("first {what} of the episode: T0"))];
            if last != t0 {
                ev.push(Evidence::of(ix, last, "last signal of the episode"));
            }
            if let Some(c) = p.episode.and_then(|e| e.closed_by) {
                ev.push(Evidence::of(
                    ix,
                    c,
                    "MFA success followed by an hour without a signal: the earlier trouble ended here",
                ));
            }
            let start = match (p.episode.is_some_and(|e| e.start_known), m.closed_by.as_deref()) {
                (_, Some(c)) => format!(" The episode began after an MFA success at {c}."),
                (true, None) => String::new(),
                (false, None) => " The episode runs back to the start of the data read: it may have begun earlier (read further back, or give --since).".to_owned(),
            };
            let history = if m.earlier_episodes.is_empty() {
                String::new()
            } else {
                format!(
                    " {} earlier episode(s) in the data read are history, not the onset.",
                    m.earlier_episodes.len()
                )
            };
            let typing = if m.typo_failures > 0 {
                format!(" {} typing failure(s) in the window are not signals.", m.typo_failures)
            } else {
                String::new()
            };
            Finding::new(
                &META,
                Status::Confirmed,
                format!(
                    "First {what} at {} ({} {}); {} MFA failure(s) and {} MFA-required denial(s) up to {}, from {} with {}.{start}{history}{typing}",
                    format_millis(e0.event_time),
                    e0.event_name,
                    e0.error_message
                        .as_deref()
                        .map(|m| format!("\"{}\"", m.trim()))
                        .unwrap_or_default(),
                    m.failures,
                    m.mfa_required_denials,
                    format_millis(ix.event(last).event_time),
                    short_list(&m.source_ips, "IP"),
                    short_list(&m.user_agents, "user agent"),
                ),
            )
            .with_evidence(ev)
            .with_metrics(M::D1(m))
        }
    }
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
    use crate::rules::pass::tests::{index, with_pass};

    #[test]
    fn t0_is_the_start_of_the_current_episode() {
        let s = Some("arn:aws:iam::111122223333:mfa/bob");
        let ix = index(vec![
            // A typo in the morning: fail, success a minute later.
            ev(0, MfaFailure, Some("bob"), None, s),
            ev(1, MfaSuccess, Some("bob"), None, s),
            // A stray failure, resolved by a success 10 minutes later, then hours of quiet.
            ev(100, MfaFailure, Some("bob"), None, s),
            ev(110, MfaSuccess, Some("bob"), None, s),
            // The incident.
            ev(400, MfaRequiredDenied, Some("bob"), None, None),
            ev(405, MfaFailure, Some("bob"), None, s),
            ev(409, MfaFailure, Some("bob"), None, s),
            ev(4, MfaFailure, Some("other"), None, None),
        ]);
        with_pass(&ix, "BOB", |p| {
            let v = verdict(p);
            let t0 = ix.events.iter().position(|e| e.event_time == 400 * 60_000).unwrap() as Ev;
            assert!(matches!(v, Verdict::Baseline { t0: t, .. } if t == t0), "{v:?}");
            let m = metrics(p);
            assert_eq!((m.failures, m.mfa_required_denials, m.typo_failures), (2, 1, 1));
            assert_eq!(m.earlier_episodes.len(), 1);
            assert_eq!(m.episode_start_known, Some(true));
        });
    }

    #[test]
    fn typing_alone_is_no_signal() {
        let ix = index(vec![
            ev(2, MfaRequiredDenied, Some("bob"), None, None),
            ev(3, MfaFailure, Some("carol"), None, None),
            ev(4, MfaSuccess, Some("carol"), None, None),
        ]);
        with_pass(&ix, "carol", |p| assert_eq!(verdict(p), Verdict::NoSignal { typos: 1 }));
        with_pass(&ix, "bob", |p| assert!(matches!(verdict(p), Verdict::Baseline { .. })));
    }

    #[test]
    fn role_sessions_are_not_evaluable() {
        let mut e = ev(2, MfaRequiredDenied, None, None, None);
        e.identity_type = Some("AssumedRole".into());
        e.role_name = Some("GitHubActionsDeploy".into());
        let ix = index(vec![e]);
        let (pid, _) = ix.principals().next().unwrap();
        let episode = ix.episode(pid, 600_000);
        let p = crate::rules::Pass::new(&ix, pid, episode.as_ref(), 0, 600_000, false);
        assert_eq!(verdict(&p), Verdict::NotIam(PrincipalKind::RoleSession));
        assert_eq!(eval(&p).status, Status::NotEvaluable);
    }
}
