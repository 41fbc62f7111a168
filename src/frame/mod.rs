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
    fn key(e: &EventRow) -> (i64, &str, &str) {
        (e.event_time, &e.event_id, &e.source_object)
    }
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

/// The frame of `events` (in their order).
pub fn build(events: &[EventRow]) -> PolarsResult<DataFrame> {
    let mut cols = Columns::default();
    for e in events {
        cols.push(e);
    }
    cols.into_frame()
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
}
