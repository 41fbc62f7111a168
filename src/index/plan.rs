//! How much `diagnose` reads (DESIGN §6.0 "What is read"). Over raw
//! archives it reads newest first until the start of the user's current
//! failure episode is known, then the `extend_to` before it; every source
//! (raw, S3, event store, query results) then hands the rules the same
//! stretch of events, `[T0 − extend_to, until]`, so the same objects give the
//! same findings whichever way they were read.
//!
//! The planner decides on the user's own events only (attempts, typing, the
//! denials of its own identity policies), with the episode rules of
//! `episode` and `signals`: the predicate the rules use, less the signals that
//! need the policy book (trust-policy and stale-MFA denials), which only stand
//! in when the user has nothing else.

use std::collections::BTreeMap;

use crate::event::{EventClass, EventRow, Millis, PrincipalKey, same_user};

use super::episode;
use super::signals::{Attempt, RUN_GAP, TYPO_RUN, typing};

/// The stretch of events a diagnosis uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The end of the analysis (`--until`, else the user's latest signal).
    pub until: Option<Millis>,
    /// T0 as planned (None: no signal).
    pub t0: Option<Millis>,
    /// The earliest event the diagnosis uses: `T0 − extend_to` (or `until − extend_to`).
    pub from: Option<Millis>,
}

/// The outcome of planning over what has been read so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    /// What has been read fixes the episode's start: read down to `plan.from`, then stop.
    Settled(Plan),
    /// The episode may begin earlier than what is read completely: read further back.
    NeedMore,
}

/// One principal's planning facts.
#[derive(Default)]
struct Own {
    /// (time, failed) of MFA attempts, with channel and serial for typing.
    attempts: Vec<(Millis, crate::index::Channel, Option<String>, bool)>,
    denials: Vec<Millis>,
    /// Trust-policy and MFA-session denials: signals only with a known policy.
    maybe: Vec<Millis>,
}

/// Plans the read for `user` (in `accounts`, when given) over `events` (time-sorted), which
/// hold every event from `complete_from` on (and maybe some earlier ones).
pub fn plan(
    events: &[EventRow],
    user: &str,
    accounts: &[String],
    until_arg: Option<Millis>,
    complete_from: Millis,
    extend_to: Millis,
) -> Planned {
    let mut own: BTreeMap<PrincipalKey, Own> = BTreeMap::new();
    for e in events {
        if until_arg.is_some_and(|u| e.event_time > u) {
            continue;
        }
        let Some(a) = e.actor().filter(|a| a.kind.has_iam_devices() && same_user(&a.name, user)) else {
            continue;
        };
        if !accounts.is_empty() && !accounts.iter().any(|x| *x == a.account) {
            continue;
        }
        let o = own.entry(a.key()).or_default();
        match e.class {
            EventClass::MfaFailure | EventClass::ConsoleFailureAmbiguous | EventClass::MfaSuccess => {
                let at = Attempt::of(e).expect("an attempt class");
                o.attempts
                    .push((e.event_time, at.channel, at.serial.map(str::to_owned), at.failed));
            }
            EventClass::MfaRequiredDenied => o.denials.push(e.event_time),
            EventClass::AssumeRoleDenied | EventClass::ExplicitDenyWithMfa => o.maybe.push(e.event_time),
            _ => {}
        }
    }
    let everything = complete_from == Millis::MIN;
    let mut out = Plan {
        until: until_arg,
        t0: None,
        from: None,
    };
    let mut settled = true;
    for o in own.values() {
        let attempts: Vec<Attempt> = o
            .attempts
            .iter()
            .map(|(t, c, s, f)| Attempt {
                time: *t,
                channel: *c,
                serial: s.as_deref(),
                failed: *f,
            })
            .collect();
        let typo = typing(&attempts);
        let mut signals: Vec<Millis> = attempts
            .iter()
            .zip(&typo)
            .filter(|(a, t)| a.failed && !**t)
            .map(|(a, _)| a.time)
            .chain(o.denials.iter().copied())
            .collect();
        if signals.is_empty() {
            signals = o.maybe.clone();
        }
        signals.sort_unstable();
        let successes: Vec<Millis> = attempts.iter().filter(|a| !a.failed).map(|a| a.time).collect();
        let typos: Vec<Millis> = attempts.iter().zip(&typo).filter(|(_, t)| **t).map(|(a, _)| a.time).collect();
        let until = until_arg.or(signals.last().copied()).or(typos.last().copied());
        out.until = out.until.max(until);
        let Some(b) = episode::bounds(&signals, &successes) else {
            continue;
        };
        // The statuses of the signals after the closing success are exact once every event of
        // a typing run before them is read.
        let margin = RUN_GAP * TYPO_RUN as i64;
        let known = b.closed_by.is_some_and(|k| successes[k] >= complete_from.saturating_add(margin));
        settled &= known || everything;
        let t0 = signals[b.first];
        out.t0 = Some(out.t0.map_or(t0, |x: Millis| x.min(t0)));
    }
    if !settled {
        return Planned::NeedMore;
    }
    if out.t0.is_none() && !everything {
        // No signal yet in what is read: the user's trouble may lie further back.
        return Planned::NeedMore;
    }
    out.from = out.t0.or(out.until).map(|t| t - extend_to);
    Planned::Settled(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::HOUR;
    use crate::index::tests::ev;

    const M: Millis = 60_000;

    #[test]
    fn settles_on_a_closing_success_read_completely() {
        let s = Some("arn:aws:iam::111122223333:mfa/ann");
        let events = vec![
            ev(0, MfaSuccess, Some("ann"), None, s),
            ev(600, MfaSuccess, Some("ann"), None, s),
            ev(800, MfaFailure, Some("ann"), None, s),
            ev(900, MfaFailure, Some("ann"), None, s),
        ];
        // Everything from minute 500 on is read: the success at 600 closes the trouble.
        let p = plan(&events, "ANN", &[], None, 500 * M, 48 * HOUR);
        assert_eq!(
            p,
            Planned::Settled(Plan {
                until: Some(900 * M),
                t0: Some(800 * M),
                from: Some(800 * M - 48 * HOUR),
            })
        );
        // From minute 700 on only: the closing success is not known to be the last one.
        assert_eq!(plan(&events, "ann", &[], None, 700 * M, 48 * HOUR), Planned::NeedMore);
        // Another account's ann is another user.
        assert_eq!(
            plan(&events, "ann", &["999999999999".into()], None, 700 * M, 48 * HOUR),
            Planned::NeedMore
        );
    }

    #[test]
    fn until_and_typing() {
        let s = Some("arn:aws:iam::111122223333:mfa/ann");
        let events = vec![
            ev(100, MfaFailure, Some("ann"), None, s),
            ev(400, MfaFailure, Some("ann"), None, s),
            ev(401, MfaSuccess, Some("ann"), None, s),
        ];
        // The 400 failure is typing: until is the 100 failure; everything read.
        let p = plan(&events, "ann", &[], None, Millis::MIN, HOUR);
        assert_eq!(
            p,
            Planned::Settled(Plan {
                until: Some(100 * M),
                t0: Some(100 * M),
                from: Some(100 * M - HOUR),
            })
        );
        // --until before everything: nothing to find once all is read; the window ends there.
        assert_eq!(plan(&events, "ann", &[], Some(50 * M), 0, HOUR), Planned::NeedMore);
        let p = plan(&events, "ann", &[], Some(50 * M), Millis::MIN, HOUR);
        assert_eq!(
            p,
            Planned::Settled(Plan {
                until: Some(50 * M),
                t0: None,
                from: Some(50 * M - HOUR),
            })
        );
    }
}
