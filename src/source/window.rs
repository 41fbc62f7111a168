//! Which files can hold events of the asked window (DESIGN §3). A file's key
//! time is its delivery time, cut to the minute: every event in it is older,
//! and late events arrive up to `lag` after their time.

use crate::time::{MINUTE, Millis};

/// The asked time window, inclusive on both ends; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    /// How long after an event its file may still be delivered.
    pub lag: Millis,
}

impl Window {
    pub fn open(lag: Millis) -> Self {
        Window {
            since: None,
            until: None,
            lag,
        }
    }

    /// The key times a needed file may have: `S ≤ kt + 1 min` (every event in a file is older
    /// than its delivery, and the key time is the delivery cut to the minute) and
    /// `kt ≤ E + lag` (an event at E or before is delivered by E + lag, and the key time is at
    /// most the delivery time).
    pub fn key_time_range(&self) -> (Option<Millis>, Option<Millis>) {
        (self.since.map(|s| s - MINUTE), self.until.map(|e| e + self.lag))
    }

    /// Whether some key time in `[lo, hi]` can hold events of the window.
    pub fn overlaps_key_times(&self, lo: Millis, hi: Millis) -> bool {
        let (a, b) = self.key_time_range();
        a.is_none_or(|a| hi >= a) && b.is_none_or(|b| lo <= b)
    }

    pub fn contains(&self, t: Millis) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|e| t <= e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{DayEnd, HOUR, parse_time_arg};

    fn t(s: &str) -> Millis {
        parse_time_arg(s, DayEnd::Start).unwrap()
    }

    #[test]
    fn prunes_by_key_time_with_lag() {
        let w = Window {
            since: Some(t("2026-11-27T00:00:00Z")),
            until: Some(t("2026-11-27T12:00:00Z")),
            lag: 2 * HOUR,
        };
        let file = |s: &str| w.overlaps_key_times(t(s), t(s));
        // Written before the window opened: all its events are older.
        assert!(!file("2026-11-26T23:58:00Z"));
        // Written in the last minute before the start: may hold 23:59:59.9 events? No:
        // kt 23:59 means delivered before 00:00, events older than that.
        assert!(file("2026-11-26T23:59:00Z"));
        assert!(file("2026-11-27T06:00:00Z"));
        // Late deliveries inside the lag are read ...
        assert!(file("2026-11-27T13:59:00Z"));
        assert!(file("2026-11-27T14:00:00Z"));
        // ... and beyond it they are not.
        assert!(!file("2026-11-27T14:01:00Z"));
        // Whole days: the day before is pruned, the next day is read (lag crosses midnight? no: 14:00).
        let day = |s: &str| w.overlaps_key_times(t(s), t(s) + 24 * HOUR - MINUTE);
        assert!(!day("2026-11-25T00:00:00Z"));
        assert!(day("2026-11-26T00:00:00Z"));
        assert!(day("2026-11-27T00:00:00Z"));
        assert!(!day("2026-11-28T00:00:00Z"));
        // Open windows keep everything.
        assert!(Window::open(0).overlaps_key_times(0, 0));
    }

    #[test]
    fn the_upper_bound_is_exact() {
        // An event 30 s before the end, delivered 20 s after it, with no lag allowed: its file's
        // key time is the end's minute, and it is read.
        let w = Window {
            since: Some(t("2026-11-27T10:00:00Z")),
            until: Some(t("2026-11-27T12:00:00Z")),
            lag: 0,
        };
        assert!(w.overlaps_key_times(t("2026-11-27T12:00:00Z"), t("2026-11-27T12:00:00Z")));
        assert!(!w.overlaps_key_times(t("2026-11-27T12:01:00Z"), t("2026-11-27T12:01:00Z")));
    }

    #[test]
    fn lag_reaches_next_day() {
        let w = Window {
            since: Some(t("2026-11-27T20:00:00Z")),
            until: Some(t("2026-11-27T23:30:00Z")),
            lag: 2 * HOUR,
        };
        assert!(w.overlaps_key_times(t("2026-11-28T00:00:00Z"), t("2026-11-28T23:59:00Z")));
        assert!(w.contains(t("2026-11-27T23:30:00Z")));
        assert!(!w.contains(t("2026-11-27T23:30:01Z")));
    }
}
