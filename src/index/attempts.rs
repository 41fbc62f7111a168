//! Typing versus trouble. A user who fails once or twice and then gets in
//! within minutes is typing (a mistyped code or password), and a typo rate
//! spread over a day is not an incident. Such failures are marked here once
//! per run, so that no rule takes them for drift, intermittency or an
//! account-wide outage, and D1 does not take them for the onset.
//!
//! A *run* is a sequence of consecutive failed MFA attempts of one principal
//! on one channel (console or STS). It is a typo when it has at most
//! `TYPO_RUN` failures and a success on the same channel (the same device,
//! where both name one) follows the run's last failure within
//! `RESOLVE_WITHIN`.

use crate::event::{EventClass, EventRow, MINUTE, Millis};

use super::{Ev, Pid};

/// At most this many failures in a row can be typing.
pub const TYPO_RUN: usize = 2;
/// A success this soon after the last failure of a run resolves it.
pub const RESOLVE_WITHIN: Millis = 5 * MINUTE;

/// Whether a success on `s` can resolve a failure on `f`: same channel, and the same device
/// when both name one.
fn same_channel(f: &EventRow, s: &EventRow) -> bool {
    f.event_source == s.event_source
        && match (&f.mfa_serial, &s.mfa_serial) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// One flag per event: a failed MFA attempt that is a typo.
pub fn mark_typos(events: &[EventRow], actor: &[Option<Pid>], about: &[Vec<Ev>]) -> Vec<bool> {
    let mut typo = vec![false; events.len()];
    for (p, evs) in about.iter().enumerate() {
        // The principal's own attempts: failures and successes where it is the caller.
        let attempts: Vec<Ev> = evs
            .iter()
            .copied()
            .filter(|&i| {
                matches!(
                    events[i as usize].class,
                    EventClass::MfaFailure | EventClass::ConsoleFailureAmbiguous | EventClass::MfaSuccess
                ) && actor[i as usize] == Some(p as Pid)
            })
            .collect();
        // Open runs, per channel: indexes of consecutive failures.
        let mut runs: Vec<Vec<Ev>> = Vec::new();
        for i in attempts {
            let e = &events[i as usize];
            if e.class == EventClass::MfaSuccess {
                runs.retain(|run| {
                    let last = &events[*run.last().expect("runs are never empty") as usize];
                    if !same_channel(last, e) {
                        return true;
                    }
                    if run.len() <= TYPO_RUN && e.event_time - last.event_time <= RESOLVE_WITHIN {
                        for &f in run {
                            typo[f as usize] = true;
                        }
                    }
                    false
                });
            } else if let Some(run) = runs.iter_mut().find(|run| {
                let last = &events[*run.last().expect("runs are never empty") as usize];
                last.event_source == e.event_source && last.mfa_serial == e.mfa_serial
            }) {
                run.push(i);
            } else {
                runs.push(vec![i]);
            }
        }
    }
    typo
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::index::tests::ev;

    fn mark(events: &[EventRow]) -> Vec<bool> {
        let actor = vec![Some(0); events.len()];
        mark_typos(events, &actor, &[(0..events.len() as Ev).collect()])
    }

    fn flags(spec: &[(i64, EventClass, Option<&str>)]) -> Vec<bool> {
        let events: Vec<EventRow> = spec
            .iter()
            .map(|(m, c, s)| ev(*m, *c, Some("carol"), None, *s))
            .collect();
        mark(&events)
    }

    #[test]
    fn short_runs_resolved_quickly_are_typos() {
        let s = Some("arn:aws:iam::1:mfa/carol");
        // Fail, success a minute later: typing.
        assert_eq!(flags(&[(0, MfaFailure, s), (1, MfaSuccess, s)]), [true, false]);
        // Two fails then success within 5 min: typing.
        assert_eq!(
            flags(&[(0, MfaFailure, s), (1, MfaFailure, s), (4, MfaSuccess, s)]),
            [true, true, false]
        );
        // Three in a row: trouble, even if it ends well.
        assert_eq!(
            flags(&[
                (0, MfaFailure, s),
                (1, MfaFailure, s),
                (2, MfaFailure, s),
                (3, MfaSuccess, s)
            ]),
            [false, false, false, false]
        );
        // Success too late: trouble.
        assert_eq!(flags(&[(0, MfaFailure, s), (9, MfaSuccess, s)]), [false, false]);
        // Never resolved: trouble.
        assert_eq!(flags(&[(0, MfaFailure, s)]), [false]);
        // A success with another device does not resolve a failure naming this one.
        assert_eq!(
            flags(&[(0, MfaFailure, s), (1, MfaSuccess, Some("GAHT1"))]),
            [false, false]
        );
    }

    #[test]
    fn console_failures_are_resolved_by_console_successes_only() {
        let s = "arn:aws:iam::1:mfa/carol";
        let mut console_ok = ev(1, MfaSuccess, Some("carol"), None, Some(s));
        console_ok.event_source = "signin.amazonaws.com".into();
        let events = vec![
            ev(0, ConsoleFailureAmbiguous, Some("carol"), None, None),
            console_ok,
            ev(10, ConsoleFailureAmbiguous, Some("carol"), None, None),
            ev(11, MfaSuccess, Some("carol"), None, Some(s)),
        ];
        assert_eq!(mark(&events), [true, false, false, false]);
    }
}
