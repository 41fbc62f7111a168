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
//!
//! The stretch handed to the rules starts at `from`: the earlier of T0 −
//! `extend_to` and the start of the day of the MFA success that closed the
//! earlier trouble (less a typing run). A raw read has every event from there
//! on, whichever day it stopped at, and a store computes the same bound from
//! the same events. Without a closing success a raw read goes back to the
//! start of the data (or `--since`), and nothing is cut: device and policy
//! history older than the window stays known.

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
    /// The earliest event the diagnosis uses (None: everything read).
    pub from: Option<Millis>,
    /// The earliest event the rules' windows reach: `T0 − extend_to` (the read's target).
    pub reach: Option<Millis>,
}

const DAY: Millis = 24 * crate::event::HOUR;

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
        let Some(a) = e
            .actor()
            .filter(|a| a.kind.has_iam_devices() && same_user(&a.name, user))
        else {
            continue;
        };
        if !accounts.is_empty() && !accounts.contains(&a.account) {
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
        reach: None,
    };
    let mut settled = true;
    // The cut of each principal (None: nothing is cut).
    let mut cuts: Vec<Option<Millis>> = Vec::new();
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
            // Denials that need the policy book, and typos, stand in only when the user has no
            // other signal at all: everything must be read to know that.
            if !everything {
                settled = false;
                continue;
            }
            signals = o.maybe.clone();
        }
        signals.sort_unstable();
        let successes: Vec<Millis> = attempts.iter().filter(|a| !a.failed).map(|a| a.time).collect();
        let typos: Vec<Millis> = attempts
            .iter()
            .zip(&typo)
            .filter(|(_, t)| **t)
            .map(|(a, _)| a.time)
            .collect();
        let until = until_arg.or(signals.last().copied()).or(typos.last().copied());
        out.until = out.until.max(until);
        let Some(b) = episode::bounds(&signals, &successes) else {
            cuts.push(None);
            continue;
        };
        // The statuses of the signals after the closing success are exact once every event of
        // a typing run before them is read.
        let margin = RUN_GAP * TYPO_RUN as i64;
        let closing = b.closed_by.map(|k| successes[k]);
        let known = closing.is_some_and(|m| m >= complete_from.saturating_add(margin));
        settled &= known || everything;
        let t0 = signals[b.first];
        out.t0 = Some(out.t0.map_or(t0, |x: Millis| x.min(t0)));
        cuts.push(closing.map(|m| ((m - margin).div_euclid(DAY) * DAY).min(t0 - extend_to)));
    }
    if !settled {
        return Planned::NeedMore;
    }
    if out.t0.is_none() && !everything {
        // No signal yet in what is read: the user's trouble may lie further back.
        return Planned::NeedMore;
    }
    out.reach = out.t0.or(out.until).map(|t| t - extend_to);
    out.from = if cuts.is_empty() || cuts.contains(&None) {
        None
    } else {
        cuts.into_iter().flatten().min()
    };
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
                reach: Some(800 * M - 48 * HOUR),
            })
        );
        // A short extension: the cut is the closing success's day.
        let p = plan(&events, "ANN", &[], None, 500 * M, HOUR);
        assert!(matches!(p, Planned::Settled(Plan { from: Some(0), .. })), "{p:?}");
        // From minute 700 on only: the closing success is not known to be the last one.
        assert_eq!(plan(&events, "ann", &[], None, 700 * M, 48 * HOUR), Planned::NeedMore);
        // Another account's ann is another user.
        assert_eq!(
            plan(&events, "ann", &["999999999999".into()], None, 700 * M, 48 * HOUR),
            Planned::NeedMore
        );
    }

    #[test]
    fn stand_ins_wait_for_everything() {
        // A deny of an MFA session on Friday (a signal only under a known age limit) and the
        // user's real failures on Monday, not read yet: read on.
        let s = Some("arn:aws:iam::111122223333:mfa/ann");
        let events = vec![
            ev(100, MfaFailure, Some("ann"), None, s),
            ev(5000, MfaSuccess, Some("ann"), None, s),
            ev(6000, ExplicitDenyWithMfa, Some("ann"), None, None),
        ];
        assert_eq!(plan(&events[1..], "ann", &[], None, 4000 * M, HOUR), Planned::NeedMore);
        let p = plan(&events, "ann", &[], None, Millis::MIN, HOUR);
        assert!(
            matches!(p, Planned::Settled(Plan { t0: Some(t), .. }) if t == 100 * M),
            "{p:?}"
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
        // The 400 failure is typing: until is the 100 failure; everything read, and no
        // success closes earlier trouble: nothing is cut.
        let p = plan(&events, "ann", &[], None, Millis::MIN, HOUR);
        assert_eq!(
            p,
            Planned::Settled(Plan {
                until: Some(100 * M),
                t0: Some(100 * M),
                from: None,
                reach: Some(100 * M - HOUR),
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
                from: None,
                reach: Some(50 * M - HOUR),
            })
        );
    }
}
