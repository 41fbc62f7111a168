//! Attempts, typing and signals (DESIGN §6.0).
//!
//! An *attempt* is a principal's own try at MFA: a failed or successful STS
//! call with a code, a `CheckMfa`, a console sign-in with MFA. A *denial* is
//! a consequence of an MFA requirement (an explicit deny of a caller without
//! MFA, a trust policy that wants MFA, a stale MFA session under a known age
//! limit): never a try that can succeed or fail intermittently.
//!
//! *Typing* is the everyday noise of attempts: a run of at most `TYPO_RUN`
//! failures on one channel (console with console, STS with STS, the same
//! serial where both name one), consecutive failures at most `RUN_GAP` apart,
//! followed within `RESOLVE_WITHIN` by a success on that channel. Typing is
//! counted and shown, never a signal. *Signals* are the attempt failures that
//! are not typing, and the denials.

use serde::Serialize;

use crate::event::{EventClass, EventRow, MINUTE, Millis};

use super::{Ev, Pid};

/// At most this many failures in a row can be typing.
pub const TYPO_RUN: usize = 2;
/// A success this soon after the last failure of a run resolves it.
pub const RESOLVE_WITHIN: Millis = 5 * MINUTE;
/// Failures of one typing run follow each other at most this far apart: an unresolved
/// failure at 09:00 and a failure at 17:00 fixed at 17:01 are two runs, not one.
pub const RUN_GAP: Millis = 5 * MINUTE;

/// Where an attempt was made: the console sign-in or STS (the CLI and SDKs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Console,
    Sts,
}

impl Channel {
    pub fn of(e: &EventRow) -> Channel {
        if e.event_source == "signin.amazonaws.com" {
            Channel::Console
        } else {
            Channel::Sts
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Console => "console",
            Channel::Sts => "sts",
        }
    }
}

/// What a signal of a principal is (DESIGN §6.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SignalKind {
    /// A failed MFA attempt about the code or the device (STS with a serial, `CheckMfa`, a
    /// console failure naming the device), not typing.
    #[serde(rename = "mfa_failure")]
    Failure,
    /// A console failure with MFAUsed=Yes naming no device (password or code), not typing:
    /// counted, but never drift on its own.
    #[serde(rename = "ambiguous_console_failure")]
    AmbiguousFailure,
    /// An explicit deny in an identity-based policy of a caller without MFA.
    #[serde(rename = "mfa_required_denial")]
    Denial,
    /// `sts:AssumeRole` denied by a trust policy that, as far as the data shows, requires MFA,
    /// for a call that named no device.
    #[serde(rename = "trust_policy_denial")]
    TrustDenial,
    /// A denial of an MFA session where a known `aws:MultiFactorAuthAge` limit reaches the user.
    #[serde(rename = "stale_mfa_denial")]
    StaleMfaDenial,
}

impl SignalKind {
    /// An attempt failure (as opposed to a denial).
    pub fn is_attempt(self) -> bool {
        matches!(self, SignalKind::Failure | SignalKind::AmbiguousFailure)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Failure => "mfa_failure",
            SignalKind::AmbiguousFailure => "ambiguous_console_failure",
            SignalKind::Denial => "mfa_required_denial",
            SignalKind::TrustDenial => "trust_policy_denial",
            SignalKind::StaleMfaDenial => "stale_mfa_denial",
        }
    }
}

/// One attempt as typing sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub time: Millis,
    pub channel: Channel,
    pub serial: Option<&'a str>,
    pub failed: bool,
}

impl<'a> Attempt<'a> {
    /// The attempt an event is, when it is one (failed or successful MFA step).
    pub fn of(e: &'a EventRow) -> Option<Attempt<'a>> {
        let failed = match e.class {
            EventClass::MfaFailure | EventClass::ConsoleFailureAmbiguous => true,
            EventClass::MfaSuccess => false,
            _ => return None,
        };
        Some(Attempt {
            time: e.event_time,
            channel: Channel::of(e),
            serial: e.mfa_serial.as_deref(),
            failed,
        })
    }
}

/// A success on `s` resolves a failure on `f`: the same channel, and the same device where
/// both name one.
fn resolves(f: &Attempt, s: &Attempt) -> bool {
    f.channel == s.channel
        && match (f.serial, s.serial) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// One flag per attempt (time-sorted): true for a failure that is typing.
pub fn typing(attempts: &[Attempt]) -> Vec<bool> {
    let mut typo = vec![false; attempts.len()];
    // Open runs: positions of consecutive failures on one channel and serial.
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for (i, a) in attempts.iter().enumerate() {
        if !a.failed {
            runs.retain(|run| {
                let last = &attempts[*run.last().expect("runs are never empty")];
                if !resolves(last, a) {
                    return true;
                }
                if run.len() <= TYPO_RUN && a.time - last.time <= RESOLVE_WITHIN {
                    for &f in run {
                        typo[f] = true;
                    }
                }
                false
            });
            continue;
        }
        // A run that waited longer than RUN_GAP for its next failure is over (not typing).
        runs.retain(|run| {
            let last = &attempts[*run.last().expect("runs are never empty")];
            !(last.channel == a.channel && last.serial == a.serial && a.time - last.time > RUN_GAP)
        });
        match runs.iter_mut().find(|run| {
            let last = &attempts[*run.last().expect("runs are never empty")];
            last.channel == a.channel && last.serial == a.serial
        }) {
            Some(run) => run.push(i),
            None => runs.push(vec![i]),
        }
    }
    typo
}

/// One flag per event: a failed MFA attempt that is typing. `about` lists each principal's
/// events; only its own attempts (as the caller) count.
pub fn mark_typos(events: &[EventRow], actor: &[Option<Pid>], about: &[Vec<Ev>]) -> Vec<bool> {
    let mut typo = vec![false; events.len()];
    for (p, evs) in about.iter().enumerate() {
        let (idx, attempts): (Vec<Ev>, Vec<Attempt>) = evs
            .iter()
            .filter(|&&i| actor[i as usize] == Some(p as Pid))
            .filter_map(|&i| Attempt::of(&events[i as usize]).map(|a| (i, a)))
            .unzip();
        for (i, t) in idx.into_iter().zip(typing(&attempts)) {
            if t {
                typo[i as usize] = true;
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
    fn a_run_is_bounded_in_time() {
        let s = Some("arn:aws:iam::1:mfa/carol");
        // 09:00 unresolved, then 17:00 fixed at 17:01: the 09:00 failure stays a signal.
        assert_eq!(
            flags(&[(540, MfaFailure, s), (1020, MfaFailure, s), (1021, MfaSuccess, s)]),
            [false, true, false]
        );
        // Two failures 6 minutes apart, then a success: the first run waited too long.
        assert_eq!(
            flags(&[(0, MfaFailure, s), (6, MfaFailure, s), (7, MfaSuccess, s)]),
            [false, true, false]
        );
        // Three failures 4 minutes apart: one run, too long to be typing.
        assert_eq!(
            flags(&[
                (0, MfaFailure, s),
                (4, MfaFailure, s),
                (8, MfaFailure, s),
                (9, MfaSuccess, s)
            ]),
            [false, false, false, false]
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
