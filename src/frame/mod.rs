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

/// Rows about `user`: the user's own attempts (`user_name`), what was done to
/// the user (`target_user`), and events naming one of the user's MFA serials
/// (DeleteVirtualMFADevice carries only the serial).
pub fn for_user(df: &DataFrame, user: &str) -> PolarsResult<DataFrame> {
    let by = df.column(col::user_name)?.str()?.equal(user);
    let to = df.column(col::target_user)?.str()?.equal(user);
    let direct = (&by | &to).fill_null_with_values(false)?;
    let serial_col = df.column(col::mfa_serial)?.str()?;
    let n = df.height();
    let serials: std::collections::HashSet<&str> = (0..n)
        .filter(|&i| direct.get(i) == Some(true))
        .filter_map(|i| serial_col.get(i))
        .collect();
    let mask: BooleanChunked = (0..n)
        .map(|i| Some(direct.get(i) == Some(true) || serial_col.get(i).is_some_and(|s| serials.contains(s))))
        .collect();
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
        let mut bob = row(1000, "z", "bob");
        bob.mfa_serial = Some("arn:aws:iam::111122223333:mfa/bob".into());
        a.push(bob.clone());
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
        assert_eq!(back[0], bob);
        let alice = for_user(&df, "alice").unwrap();
        assert_eq!(alice.height(), 2);
        // An event naming only alice's serial (DeleteVirtualMFADevice) is hers too.
        let mut c = Columns::default();
        c.push(row(1, "a", "alice"));
        let mut del = row(2, "d", "ops");
        del.user_name = Some("ops".into());
        c.push(del);
        c.push(row(3, "o", "other"));
        let mut other_serial = row(4, "s", "ops");
        other_serial.mfa_serial = Some("arn:aws:iam::111122223333:mfa/y".into());
        c.push(other_serial);
        let df = build(vec![c]).unwrap();
        // "other" uses the same serial as alice in this fixture, so it is included: by serial.
        let ids: Vec<_> = rows(&for_user(&df, "alice").unwrap())
            .unwrap()
            .into_iter()
            .map(|r| r.event_id)
            .collect();
        assert_eq!(ids, ["a", "d", "o"]);
    }
}
