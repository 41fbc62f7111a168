//! The frame's columns (DESIGN §4): names are spelled here and nowhere else.
//! One table drives the column builders, the DataFrame and the way back to rows.

use polars::prelude::*;

use crate::event::{EventClass, EventRow, Outcome};

macro_rules! schema {
    ($( $field:ident : $kind:ident = $name:literal ),* $(,)?) => {
        /// Column names, in frame order.
        pub mod col {
            $( #[allow(non_upper_case_globals)] pub const $field: &str = $name; )*
        }
        pub const COLUMNS: &[&str] = &[$($name),*];

        /// Per-file column batch: one Vec per column, no per-row allocation beyond the strings.
        #[derive(Debug, Default, Clone)]
        pub struct Columns {
            $( pub $field: Vec<schema!(@ty $kind)>, )*
        }

        impl Columns {
            pub fn push(&mut self, r: &EventRow) {
                $( self.$field.push(schema!(@to $kind, r.$field.clone())); )*
            }
            pub fn append(&mut self, mut o: Columns) {
                $( self.$field.append(&mut o.$field); )*
            }
            pub fn len(&self) -> usize {
                self.event_time.len()
            }
            pub fn is_empty(&self) -> bool {
                self.event_time.is_empty()
            }
            /// Builds the DataFrame (unsorted).
            pub fn into_frame(self) -> PolarsResult<DataFrame> {
                let height = self.len();
                let columns = vec![$( schema!(@col $kind, $name, self.$field) ),*];
                DataFrame::new(height, columns)
            }
        }

        /// Reads the frame back into rows (the event store's parts). Each column is walked
        /// once, in order (indexing a chunked array row by row costs a chunk search each).
        pub fn rows(df: &DataFrame) -> PolarsResult<Vec<EventRow>> {
            $( let $field = schema!(@read $kind, df.column($name)?); )*
            $( let mut $field = $field.iter(); )*
            let mut out = Vec::with_capacity(df.height());
            for _ in 0..df.height() {
                out.push(EventRow { $( $field: schema!(@get $kind, $field.next().flatten()), )* });
            }
            Ok(out)
        }
    };
    (@ty time) => { i64 };
    (@ty str) => { String };
    (@ty opt_str) => { Option<String> };
    (@ty opt_bool) => { Option<bool> };
    (@ty class) => { EventClass };
    (@ty outcome) => { Outcome };
    (@to time, $v:expr) => { $v };
    (@to str, $v:expr) => { $v };
    (@to opt_str, $v:expr) => { $v };
    (@to opt_bool, $v:expr) => { $v };
    (@to class, $v:expr) => { $v };
    (@to outcome, $v:expr) => { $v };
    (@col time, $n:expr, $v:expr) => {
        Int64Chunked::from_vec($n.into(), $v)
            .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
            .into_column()
    };
    (@col str, $n:expr, $v:expr) => { Column::new($n.into(), $v) };
    (@col opt_str, $n:expr, $v:expr) => { Column::new($n.into(), $v) };
    (@col opt_bool, $n:expr, $v:expr) => { Column::new($n.into(), $v) };
    (@col class, $n:expr, $v:expr) => {
        Column::new($n.into(), $v.iter().map(|c| c.as_str()).collect::<Vec<_>>())
    };
    (@col outcome, $n:expr, $v:expr) => {
        Column::new($n.into(), $v.iter().map(|c| c.as_str()).collect::<Vec<_>>())
    };
    (@read time, $c:expr) => { $c.datetime()?.physical().clone() };
    (@read str, $c:expr) => { $c.str()?.clone() };
    (@read opt_str, $c:expr) => { $c.str()?.clone() };
    (@read opt_bool, $c:expr) => { $c.bool()?.clone() };
    (@read class, $c:expr) => { $c.str()?.clone() };
    (@read outcome, $c:expr) => { $c.str()?.clone() };
    (@get time, $v:expr) => { $v.unwrap_or_default() };
    (@get str, $v:expr) => { $v.unwrap_or_default().to_owned() };
    (@get opt_str, $v:expr) => { $v.map(str::to_owned) };
    (@get opt_bool, $v:expr) => { $v };
    (@get class, $v:expr) => {
        $v.and_then(EventClass::parse).ok_or_else(|| polars_err!(ComputeError: "unknown class"))?
    };
    (@get outcome, $v:expr) => {
        $v.and_then(Outcome::parse).ok_or_else(|| polars_err!(ComputeError: "unknown outcome"))?
    };
}

schema! {
    event_time: time = "event_time",
    event_source: str = "event_source",
    event_name: str = "event_name",
    class: class = "class",
    outcome: outcome = "outcome",
    error_code: opt_str = "error_code",
    error_message: opt_str = "error_message",
    identity_type: opt_str = "identity_type",
    user_name: opt_str = "user_name",
    role_name: opt_str = "role_name",
    session_name: opt_str = "session_name",
    principal_arn: opt_str = "principal_arn",
    account_id: opt_str = "account_id",
    access_key_id: opt_str = "access_key_id",
    recipient_account_id: opt_str = "recipient_account_id",
    aws_region: opt_str = "aws_region",
    source_ip: opt_str = "source_ip",
    user_agent: opt_str = "user_agent",
    mfa_used: opt_bool = "mfa_used",
    mfa_authenticated: opt_bool = "mfa_authenticated",
    target_user: opt_str = "target_user",
    target_role: opt_str = "target_role",
    mfa_serial: opt_str = "mfa_serial",
    credential_type: opt_str = "credential_type",
    denied_action: opt_str = "denied_action",
    deny_policy: opt_str = "deny_policy",
    policy_arn: opt_str = "policy_arn",
    group_name: opt_str = "group_name",
    policy_name: opt_str = "policy_name",
    policy_document: opt_str = "policy_document",
    policy_version: opt_str = "policy_version",
    set_as_default: opt_bool = "set_as_default",
    event_id: str = "event_id",
    request_id: opt_str = "request_id",
    source_object: str = "source_object",
}
