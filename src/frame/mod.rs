//! The frame: every kept event of a run in one polars DataFrame (DESIGN §4),
//! sorted by (event_time, event_id) so that results never depend on thread
//! count or file order.

pub mod schema;

use polars::prelude::*;

pub use schema::{COLUMNS, Columns, col, rows};

/// Builds the sorted frame from the per-file batches.
pub fn build(batches: Vec<Columns>) -> PolarsResult<DataFrame> {
    let mut all = Columns::default();
    for b in batches {
        all.append(b);
    }
    let df = all.into_frame()?;
    sort(df)
}

/// Stable sort by (event_time, event_id, source_object): duplicates delivered
/// twice keep a fixed order too.
pub fn sort(df: DataFrame) -> PolarsResult<DataFrame> {
    df.sort(
        [col::event_time, col::event_id, col::source_object],
        SortMultipleOptions::default().with_maintain_order(true),
    )
}

/// Rows whose `user_name` or `target_user` is `user`: the user's own
/// attempts and what was done to the user.
pub fn for_user(df: &DataFrame, user: &str) -> PolarsResult<DataFrame> {
    let by = df.column(col::user_name)?.str()?.equal(user);
    let to = df.column(col::target_user)?.str()?.equal(user);
    let mask = (&by | &to).fill_null_with_values(false)?;
    df.filter(&mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{EventClass, EventRow, Outcome};

    pub(crate) fn row(t: i64, id: &str, user: &str) -> EventRow {
        EventRow {
            event_time: t,
            event_source: "signin.amazonaws.com".into(),
            event_name: "ConsoleLogin".into(),
            class: EventClass::MfaFailure,
            outcome: Outcome::Failure,
            error_code: None,
            error_message: Some("Failed authentication".into()),
            identity_type: Some("IAMUser".into()),
            user_name: Some(user.into()),
            principal_arn: None,
            account_id: Some("111122223333".into()),
            access_key_id: None,
            recipient_account_id: Some("111122223333".into()),
            aws_region: Some("us-east-1".into()),
            source_ip: Some("192.0.2.1".into()),
            user_agent: Some("Mozilla/5.0".into()),
            mfa_used: Some(true),
            mfa_authenticated: None,
            target_user: None,
            mfa_serial: Some("arn:aws:iam::111122223333:mfa/x".into()),
            policy_arn: None,
            group_name: None,
            policy_name: None,
            policy_document: None,
            policy_version: None,
            set_as_default: None,
            event_id: id.into(),
            request_id: None,
            source_object: "f.json#0".into(),
        }
    }

    #[test]
    fn schema_sort_and_round_trip() {
        let mut a = Columns::default();
        a.push(row(2000, "b", "alice"));
        a.push(row(1000, "z", "bob"));
        let mut b = Columns::default();
        b.push(row(2000, "a", "alice"));
        let df = build(vec![a, b]).unwrap();
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
        assert_eq!(back[0], row(1000, "z", "bob"));
        let alice = for_user(&df, "alice").unwrap();
        assert_eq!(alice.height(), 2);
    }
}
