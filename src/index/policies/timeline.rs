//! A fact over time: which document, membership or attachment was in force
//! at any instant, entry by entry in event order.

use crate::event::Millis;
use crate::index::Ev;

/// A detach → attach (or delete → put, remove → add) of the same thing within this long is
/// churn (Terraform replacing a resource), not a change.
pub const CHURN: Millis = 5 * crate::event::MINUTE;

/// The time of a state the IAM snapshot gives: in force from the start, until the first logged
/// change (the snapshot's state replayed backwards over a stretch the logs show no change in).
pub const SEED: Millis = Millis::MIN;

#[derive(Debug, Clone)]
pub struct Entry<T> {
    pub time: Millis,
    pub event: Ev,
    /// `None`: removed.
    pub value: Option<T>,
}

#[derive(Debug, Clone)]
pub struct Timeline<T>(Vec<Entry<T>>);

/// What was in force before a change, through churn.
#[derive(Debug, Clone, Copy)]
pub enum Before<'a, T> {
    /// The data shows nothing before.
    Nothing,
    Entry(&'a Entry<T>),
    /// Removed minutes before, and the data shows nothing before the removal: it existed.
    RemovedJustBefore,
}

impl<T> Default for Timeline<T> {
    fn default() -> Self {
        Timeline(Vec::new())
    }
}

impl<T> Timeline<T> {
    pub fn push(&mut self, time: Millis, event: Ev, value: Option<T>) {
        self.0.push(Entry { time, event, value });
    }

    /// The entry in force at `t`.
    pub fn at(&self, t: Millis) -> Option<&Entry<T>> {
        let n = self.0.partition_point(|e| e.time <= t);
        n.checked_sub(1).map(|i| &self.0[i])
    }

    /// The entry in force just before event `ev` (events are in index order; the IAM
    /// snapshot's seed, first, is before every event).
    pub fn before(&self, ev: Ev) -> Option<&Entry<T>> {
        let n = self.0.partition_point(|e| e.time == SEED || e.event < ev);
        n.checked_sub(1).map(|i| &self.0[i])
    }

    /// Like `before`, but a removal at most `CHURN` before `t` is looked through: the state
    /// before the churn is what the change is compared with.
    pub fn before_churn(&self, ev: Ev, t: Millis) -> Before<'_, T> {
        let n = self.0.partition_point(|e| e.time == SEED || e.event < ev);
        let Some(last) = n.checked_sub(1) else {
            return Before::Nothing;
        };
        let e = &self.0[last];
        if e.value.is_none() && e.time != SEED && t - e.time <= CHURN {
            return match last.checked_sub(1) {
                Some(k) => Before::Entry(&self.0[k]),
                // Only what was there can be removed: it existed, its value unknown.
                None => Before::RemovedJustBefore,
            };
        }
        Before::Entry(e)
    }

    /// Whether the logs say anything about the fact up to `t` (a seed is not the logs).
    pub fn logged_until(&self, t: Millis) -> bool {
        self.0.iter().any(|e| e.time != SEED && e.time <= t)
    }

    /// The state the IAM snapshot gives from the start, replayed back to it.
    pub fn seed(&mut self, value: Option<T>) {
        self.0.insert(
            0,
            Entry {
                time: SEED,
                event: 0,
                value,
            },
        );
    }

    /// The entry in force at `t` comes from the IAM snapshot.
    pub fn seeded_at(&self, t: Millis) -> bool {
        self.at(t).is_some_and(|e| e.time == SEED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_is_looked_through() {
        let mut tl: Timeline<u32> = Timeline::default();
        tl.push(0, 0, Some(7));
        tl.push(100_000, 1, None);
        // Re-added 1 min after the removal: compared with the state before the removal.
        assert!(matches!(tl.before_churn(2, 160_000), Before::Entry(e) if e.value == Some(7)));
        // An hour later: the removal stands.
        assert!(matches!(tl.before_churn(2, 3_700_000), Before::Entry(e) if e.value.is_none()));
        assert_eq!(tl.before(2).map(|e| e.value), Some(None));
        // A removal first in the data, then re-added: it existed before.
        let mut tl: Timeline<u32> = Timeline::default();
        tl.push(100_000, 1, None);
        assert!(matches!(tl.before_churn(2, 160_000), Before::RemovedJustBefore));
        assert!(matches!(Timeline::<u32>::default().before_churn(2, 0), Before::Nothing));
    }
}
