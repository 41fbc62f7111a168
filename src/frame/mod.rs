//! The frame: every kept event of a run as one polars DataFrame (DESIGN §4),
//! the run's columnar table. It is what the event store writes and reads as
//! Parquet, and what the all-principal aggregations (scan's ranking) run on.
//! Rows are sorted by (event_time, event_id, source_object) so that results
//! never depend on thread count or file order.

pub mod schema;

use polars::prelude::*;

use crate::event::EventRow;
pub use schema::{COLUMNS, Columns, col, rows};

/// Sorts events by (event_time, event_id, source_object): duplicates delivered twice keep a
/// fixed order too.
pub fn sort_events(events: &mut [EventRow]) {
    // A row is large: sort their positions, then move each row once along its cycle.
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| key(&events[a]).cmp(&key(&events[b])));
    const DONE: usize = usize::MAX;
    for i in 0..order.len() {
        let mut j = i;
        while order[j] != DONE {
            let k = std::mem::replace(&mut order[j], DONE);
            if k == i {
                break;
            }
            events.swap(j, k);
            j = k;
        }
    }
}

/// The order of [`sort_events`]: time, event id, source object.
type Key<'a> = (i64, &'a str, &'a str);

fn key(e: &EventRow) -> Key<'_> {
    (e.event_time, &e.event_id, &e.source_object)
}

/// Merges runs, each already in [`sort_events`] order, into one vector in that order (rows
/// of equal keys in run order, as a stable sort of the runs one after another would put
/// them). Each row moves once: the gather and the sort of a read's per-object results in
/// one step, the per-object sorts having run on the workers. With `helper`, a second thread
/// touches most of the new vector's pages while this one finds the order.
pub fn merge_sorted(runs: Vec<Vec<EventRow>>, helper: bool) -> Vec<EventRow> {
    use std::mem::MaybeUninit;
    let total: usize = runs.iter().map(Vec::len).sum();
    let mut out: Vec<EventRow> = Vec::with_capacity(total);
    // A fresh buffer of megabytes pays a page fault per 4 KiB on first touch (on this
    // project's VMs, three times the cost of the move itself).
    let from = if helper && total * std::mem::size_of::<EventRow>() >= 1 << 20 {
        std::thread::scope(|s| {
            let spare = out.spare_capacity_mut();
            let (mine, theirs) = spare.split_at_mut(spare.len() / 3);
            s.spawn(move || theirs.iter_mut().for_each(|r| *r = MaybeUninit::zeroed()));
            let from = merge_order(&runs);
            mine.iter_mut().for_each(|r| *r = MaybeUninit::zeroed());
            from
        })
    } else {
        merge_order(&runs)
    };
    let mut runs: Vec<std::vec::IntoIter<EventRow>> = runs.into_iter().map(Vec::into_iter).collect();
    out.extend(from.into_iter().filter_map(|r| runs[r as usize].next()));
    out
}

/// The run each row of the merge comes from, in merged order.
fn merge_order(runs: &[Vec<EventRow>]) -> Vec<u32> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut from: Vec<u32> = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    let mut next = vec![0usize; runs.len()];
    let mut heads: BinaryHeap<Reverse<(Key<'_>, usize)>> = runs
        .iter()
        .enumerate()
        .filter_map(|(r, run)| Some(Reverse((key(run.first()?), r))))
        .collect();
    while let Some(Reverse((_, r))) = heads.pop() {
        from.push(r as u32);
        next[r] += 1;
        if let Some(e) = runs[r].get(next[r]) {
            heads.push(Reverse((key(e), r)));
        }
    }
    from
}

/// Drops the second and later copies of one event, (eventID, recipientAccountId), from
/// `events` sorted by `sort_events` (DESIGN §6.0: one event, once); returns how many. The first
/// copy in sort order is kept, so the result does not depend on the order files were read.
/// Rows without an eventID are all kept: nothing says two of them are one event.
pub fn dedup(events: &mut Vec<EventRow>) -> u64 {
    let before = events.len();
    let mut i = 0;
    let mut keep = vec![true; events.len()];
    while i < events.len() {
        // Copies of one event share its time and id, so they sit in one run of the sort.
        let mut j = i + 1;
        while j < events.len()
            && events[j].event_time == events[i].event_time
            && events[j].event_id == events[i].event_id
        {
            j += 1;
        }
        if j - i > 1 && !events[i].event_id.is_empty() {
            for a in i..j {
                if keep[a] {
                    for b in a + 1..j {
                        if events[b].recipient_account_id == events[a].recipient_account_id {
                            keep[b] = false;
                        }
                    }
                }
            }
        }
        i = j;
    }
    let mut k = keep.into_iter();
    events.retain(|_| k.next().unwrap_or(true));
    (before - events.len()) as u64
}

/// The frame of `events` (in their order).
pub fn build(events: &[EventRow]) -> PolarsResult<DataFrame> {
    let mut cols = Columns::default();
    for e in events {
        cols.push(e);
    }
    cols.into_frame()
}

#[cfg(test)]
mod dedup_tests {
    use super::*;
    use crate::event::EventClass;
    use crate::event::tests::ev;

    #[test]
    fn one_event_once_per_recipient() {
        let mut a = ev(1, EventClass::MfaFailure, Some("u"), None, None);
        a.source_object = "org-trail.json.gz#3".into();
        let mut b = a.clone();
        b.source_object = "legacy-trail.json.gz#7".into();
        let mut other_account = a.clone();
        other_account.recipient_account_id = Some("444455556666".into());
        other_account.source_object = "z.json.gz#1".into();
        let mut no_id = ev(1, EventClass::MfaFailure, Some("u"), None, None);
        no_id.event_id = String::new();
        let mut events = vec![b, other_account, a, no_id.clone(), no_id];
        sort_events(&mut events);
        assert_eq!(dedup(&mut events), 1);
        assert_eq!(events.len(), 4);
        // The copy kept is the first in sort order, whatever order the files were read in.
        assert!(events.iter().any(|e| e.source_object == "legacy-trail.json.gz#7"));
        assert!(!events.iter().any(|e| e.source_object == "org-trail.json.gz#3"));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::{EventClass, Outcome};

    pub(crate) fn row(t: i64, id: &str, user: &str) -> EventRow {
        let mut r = crate::event::tests::ev(
            0,
            EventClass::MfaFailure,
            Some(user),
            None,
            Some("arn:aws:iam::111122223333:mfa/x"),
        );
        r.event_time = t;
        r.event_id = id.into();
        r.outcome = Outcome::Failure;
        r.error_message = Some("Failed authentication".into());
        r.source_ip = Some("192.0.2.1".into());
        r.user_agent = Some("Mozilla/5.0".into());
        r.mfa_used = Some(true);
        r.source_object = "f.json#0".into();
        r
    }

    #[test]
    fn schema_sort_and_round_trip() {
        let mut bob = row(1000, "z", "bob");
        bob.mfa_serial = Some("arn:aws:iam::111122223333:mfa/bob".into());
        bob.role_name = Some("r".into());
        bob.deny_policy = Some("identity".into());
        let mut events = vec![row(2000, "b", "alice"), bob.clone(), row(2000, "a", "alice")];
        sort_events(&mut events);
        let df = build(&events).unwrap();
        let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
        assert_eq!(names, COLUMNS);
        assert_eq!(
            df.column(col::event_time).unwrap().dtype(),
            &DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        );
        assert_eq!(df.column(col::class).unwrap().dtype(), &DataType::String);
        assert_eq!(df.column(col::mfa_used).unwrap().dtype(), &DataType::Boolean);
        let back = rows(&df).unwrap();
        let ids: Vec<_> = back.iter().map(|r| r.event_id.as_str()).collect();
        assert_eq!(ids, ["z", "a", "b"]);
        assert_eq!(back[0], bob);
        assert_eq!(back, events);
    }

    #[test]
    fn sorting_by_positions_equals_a_plain_sort() {
        // Shuffled rows with ties on time (and on id), in cycles of every length.
        let mut seed = 7u64;
        for n in [0usize, 1, 2, 3, 17, 200] {
            let mut events: Vec<EventRow> = (0..n)
                .map(|i| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let mut r = row((seed >> 60) as i64, &format!("id{}", (seed >> 40) % 5), "u");
                    r.source_object = format!("f#{i}");
                    r
                })
                .collect();
            let mut want = events.clone();
            want.sort_by(|a, b| {
                (a.event_time, &a.event_id, &a.source_object).cmp(&(b.event_time, &b.event_id, &b.source_object))
            });
            sort_events(&mut events);
            assert_eq!(events, want, "{n} rows");
        }
    }

    #[test]
    fn merging_sorted_runs_equals_a_stable_sort_of_all() {
        // Runs of every length (empty ones too), ties on time and id across runs, and rows
        // of equal keys that differ elsewhere: those keep run order.
        let mut seed = 11u64;
        let mut rand = |m: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for runs_n in [0usize, 1, 2, 5, 40] {
            let mut runs: Vec<Vec<EventRow>> = (0..runs_n)
                .map(|r| {
                    (0..rand(6))
                        .map(|i| {
                            let mut e = row(rand(4) as i64, &format!("id{}", rand(3)), "u");
                            e.source_object = format!("f#{}", rand(2));
                            e.user_agent = Some(format!("run {r} row {i}"));
                            e
                        })
                        .collect()
                })
                .collect();
            for run in &mut runs {
                sort_events(run);
            }
            let mut want: Vec<EventRow> = runs.concat();
            want.sort_by(|a, b| key(a).cmp(&key(b)));
            assert_eq!(merge_sorted(runs.clone(), false), want, "{runs_n} runs");
            // With the helper thread (rows made large enough to start it).
            let big = |runs: &[Vec<EventRow>]| -> Vec<Vec<EventRow>> {
                runs.iter()
                    .map(|r| r.iter().flat_map(|e| std::iter::repeat_n(e.clone(), 400)).collect())
                    .collect()
            };
            let mut want_big = big(&runs).concat();
            want_big.sort_by(|a, b| key(a).cmp(&key(b)));
            assert_eq!(merge_sorted(big(&runs), true), want_big, "{runs_n} runs, helper");
        }
    }
}
