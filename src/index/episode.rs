//! The failure episode and T0 (DESIGN §6.0).
//!
//! The runbook anchors everything at "when MFA authentication failures first
//! appeared". An analyst reads that as the start of the *current* trouble:
//! not the first stray failure of the day, and not 24 h before whatever
//! failure came last. Going back from the latest signal, the episode holds
//! every signal up to the last MFA success that was followed by at least
//! `QUIET` without a signal: a success after which the user worked normally
//! closes the earlier trouble. T0 is the episode's first signal. Failures
//! interleaved with successes minutes apart stay one episode (that is what
//! intermittent means).
//!
//! The bounds are computed on plain times so that the read planner (which
//! decides how far back `diagnose` reads) and the rules use one predicate.

use crate::event::{HOUR, Millis};

/// An MFA success followed by this long without a signal ends the earlier trouble.
pub const QUIET: Millis = HOUR;
/// Without a closing success, the episode's start is still known when the data read holds
/// this much before T0 without a signal.
pub const KNOWN_BEFORE: Millis = 24 * HOUR;
/// Earlier episodes listed as history, newest first.
pub const HISTORY: usize = 10;

/// Where an episode lies among a principal's signals (positions in the slices given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Position of the first signal (T0).
    pub first: usize,
    /// Position of the last signal.
    pub last: usize,
    /// Position of the MFA success that closed the trouble before, if the data shows one.
    pub closed_by: Option<usize>,
}

/// The episode that ends with the last of `signals` (sorted times), given the principal's MFA
/// successes (sorted times). None without a signal.
pub fn bounds(signals: &[Millis], successes: &[Millis]) -> Option<Bounds> {
    let last = signals.len().checked_sub(1)?;
    bounds_before(signals, successes, last)
}

/// The episode ending with signal `last`.
fn bounds_before(signals: &[Millis], successes: &[Millis], last: usize) -> Option<Bounds> {
    let t_last = *signals.get(last)?;
    // Successes strictly before the last signal, newest first: the first one followed by
    // QUIET without a signal closes the trouble before it.
    let below = successes.partition_point(|&m| m < t_last);
    for k in (0..below).rev() {
        let m = successes[k];
        let next = signals.partition_point(|&s| s <= m);
        // `next <= last`: the last signal is after m.
        if signals[next] - m >= QUIET {
            return Some(Bounds {
                first: next,
                last,
                closed_by: Some(k),
            });
        }
    }
    Some(Bounds {
        first: 0,
        last,
        closed_by: None,
    })
}

/// Earlier episodes, newest first (at most `HISTORY`), before `b`.
pub fn earlier(signals: &[Millis], successes: &[Millis], b: Bounds) -> Vec<Bounds> {
    let mut out = Vec::new();
    let mut first = b.first;
    while first > 0 && out.len() < HISTORY {
        let Some(e) = bounds_before(signals, successes, first - 1) else {
            break;
        };
        first = e.first;
        out.push(e);
    }
    out
}

/// Whether the episode's start is known: a success closed the trouble before it, or the data
/// read holds `KNOWN_BEFORE` before T0 (and, without a closing success, no earlier signal).
pub fn start_known(b: Bounds, t0: Millis, data_start: Millis) -> bool {
    b.closed_by.is_some() || t0 - data_start >= KNOWN_BEFORE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::MINUTE;

    fn m(x: i64) -> Millis {
        x * MINUTE
    }

    #[test]
    fn a_stray_morning_failure_is_history() {
        // 08:00 failure, 08:10 MFA sign-in, quiet, 12:30 failures.
        let signals = [m(480), m(750), m(760)];
        let successes = [m(490)];
        let b = bounds(&signals, &successes).unwrap();
        assert_eq!((b.first, b.last, b.closed_by), (1, 2, Some(0)));
        let e = earlier(&signals, &successes, b);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].first, e[0].last, e[0].closed_by), (0, 0, None));
    }

    #[test]
    fn successes_minutes_apart_keep_one_episode() {
        // Failures with successes between them, each followed by a failure within the hour.
        let signals = [m(0), m(20), m(70), m(100)];
        let successes = [m(10), m(50), m(90)];
        let b = bounds(&signals, &successes).unwrap();
        assert_eq!((b.first, b.closed_by), (0, None));
        assert!(!start_known(b, m(0), m(-60)));
        assert!(start_known(b, m(0), m(-24 * 60)));
    }

    #[test]
    fn no_signal_no_episode_and_a_success_after_the_last_signal_does_not_count() {
        assert_eq!(bounds(&[], &[m(1)]), None);
        let b = bounds(&[m(0), m(200)], &[m(300)]).unwrap();
        assert_eq!((b.first, b.closed_by), (0, None));
    }

    #[test]
    fn a_three_day_incident_without_mfa_success_is_one_episode() {
        let day = 24 * 60;
        let signals = [m(540), m(900), m(day + 540), m(day + 900), m(2 * day + 540)];
        let successes = [m(-600)];
        let b = bounds(&signals, &successes).unwrap();
        assert_eq!((b.first, b.last, b.closed_by), (0, 4, Some(0)));
    }
}
