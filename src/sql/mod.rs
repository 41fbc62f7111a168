//! `mfatrail sql`: the classifier (DESIGN §5) as one SQL query over the standard CloudTrail
//! table of the AWS Athena documentation, projecting the event store's schema (DESIGN §8).
//! The engine does the heavy scan where the data lives; mfatrail diagnoses its Parquet output.
//!
//! The query mirrors `parse::classify` arm by arm, in the same order (a SQL `CASE` takes its
//! first matching branch as a Rust `match` does), and shares its tables (IAM events, deny
//! policy types). `tests/e2e/sql.rs` runs the DuckDB query on every fixture and checks that
//! every kept row, every column and every finding equals the native path's.
//!
//! Nothing from the command line enters the SQL unchecked: accounts, regions, dates and
//! identifiers are validated against strict shapes, and literals are quoted for the dialect.

pub mod ddl;

use crate::error::{Error, Result};
use crate::event::{EventClass, Millis, ROOT, ROOT_USER_PARAM};
use crate::frame::COLUMNS;
use crate::parse::classify::{DENY_ARTICLES, DENY_KINDS, IAM_EVENTS};
use crate::parse::{FAR_FUTURE, FAR_PAST, KEY_TIME_SLACK};
use crate::time::MINUTE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Amazon Athena (engine v3, Trino SQL; `--unload-to` writes Parquet to S3).
    Athena,
    /// Trino or Presto with the Hive connector.
    Trino,
    /// DuckDB (tests, and small archives on one machine).
    Duckdb,
}

/// Partition columns of the table, by role (`None`: the table has no such partition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partitions {
    /// Delivery date, `yyyy/MM/dd` (the AWS documentation's `timestamp`).
    pub date: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
}

impl Default for Partitions {
    /// The table of the AWS documentation: one account and region, projected by `timestamp`.
    fn default() -> Self {
        Partitions {
            date: Some("timestamp".into()),
            account: None,
            region: None,
        }
    }
}

/// What `mfatrail sql` was asked for.
#[derive(Debug, Clone)]
pub struct QuerySpec {
    pub engine: Engine,
    /// `table`, `db.table` or `catalog.db.table`.
    pub table: String,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    /// How long after an event its file may be delivered (pads the date partitions).
    pub lag: Millis,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub partitions: Partitions,
    /// Athena only: wrap in `UNLOAD … TO` this S3 prefix as Parquet.
    pub unload_to: Option<String>,
    /// The column naming each record's file (`$path` on Athena and Trino, `filename` for a
    /// DuckDB table read with `filename = true`); None: the table has none.
    pub path_column: Option<String>,
}

// ---- validation: everything from the command line that reaches the SQL ----

/// An SQL identifier as the tables of Athena and the Hive metastore allow (letters, digits,
/// underscore, not starting with a digit).
pub fn check_identifier(what: &'static str, s: &str) -> Result<String> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Error::usage(
            what,
            s,
            "expected letters, digits and underscores (an Athena/Hive name)",
        ))
    }
}

/// `table`, `db.table` or `catalog.db.table`, each part an identifier.
pub fn check_table(s: &str) -> Result<Vec<String>> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 3 {
        return Err(Error::usage(
            "--table",
            s,
            "expected table, db.table or catalog.db.table",
        ));
    }
    parts.iter().map(|p| check_identifier("--table", p)).collect()
}

/// A 12-digit AWS account id.
pub fn check_account(s: &str) -> Result<String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(Error::usage("--account", s, "expected a 12-digit AWS account id"))
    }
}

/// An AWS region name (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`).
pub fn check_region(s: &str) -> Result<String> {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts.len() <= 4
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Error::usage(
            "--region",
            s,
            "expected an AWS region name like us-east-1",
        ))
    }
}

/// An S3 prefix for UNLOAD or a table LOCATION: `s3://bucket/prefix/`, the bucket as S3 names
/// it and the key in the characters S3 calls safe. Returned with a trailing slash.
pub fn check_s3_prefix(what: &'static str, s: &str) -> Result<String> {
    let bad = |why: &str| Error::usage(what, s, why.to_owned());
    let rest = s
        .strip_prefix("s3://")
        .ok_or_else(|| bad("expected s3://bucket/prefix/"))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !bucket_ok {
        return Err(bad("not an S3 bucket name"));
    }
    let key_ok = key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/!-_.*()=".contains(&b))
        && !key.contains("//");
    if !key_ok {
        return Err(bad(
            "keys may hold letters, digits and / ! - _ . * ( ) = (no quotes, spaces or //)",
        ));
    }
    let mut out = format!("s3://{bucket}/{key}");
    if !out.ends_with('/') {
        out.push('/');
    }
    Ok(out)
}

// ---- dialect helpers ----

/// A string literal (the only quoting a literal needs in both dialects).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A quoted identifier (already validated; quoting keeps reserved words like `timestamp` usable).
fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn list(items: &[String]) -> String {
    items.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", ")
}

/// Whether `s` (an SQL expression) starts with `p` (portable: no starts_with in older Trino).
fn starts(s: &str, p: &str) -> String {
    format!("substr({s}, 1, {}) = {}", p.chars().count(), lit(p))
}

struct Dialect(Engine);

impl Dialect {
    fn duck(&self) -> bool {
        self.0 == Engine::Duckdb
    }

    /// A scalar of a JSON text column (`requestparameters` and its siblings): NULL for a
    /// missing key, JSON null, an object or an array, and for text that is not JSON, as the
    /// native reader does.
    fn json(&self, col: &str, path: &str) -> String {
        let path = lit(&format!("$.{path}"));
        if self.duck() {
            let v = format!("(CASE WHEN json_valid({col}) THEN {col} END)");
            format!(
                "(CASE WHEN json_type({v}, {path}) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN') THEN json_extract_string({v}, {path}) END)"
            )
        } else {
            format!("json_extract_scalar({col}, {path})")
        }
    }

    /// The first capture group of `re` in `s`, NULL when it does not match or is empty.
    fn extract(&self, s: &str, re: &str) -> String {
        format!("NULLIF(regexp_extract({s}, {}, 1), '')", lit(re))
    }

    fn varchar(&self) -> &'static str {
        if self.duck() { "VARCHAR" } else { "varchar" }
    }

    /// `eventTime` as a UTC timestamp without zone, NULL when unreadable. Text without a zone
    /// is UTC (as the native parser reads it), whatever the session's zone.
    fn event_time(&self, t: &str) -> String {
        let iso = format!("replace(trim({t}), ' ', 'T')");
        let matches = if self.duck() { "regexp_matches" } else { "regexp_like" };
        let zoned = format!(
            "(CASE WHEN {matches}({iso}, '\\d\\d:\\d\\d(:\\d\\d(\\.\\d*)?)?([Zz]|[+-]\\d\\d(:?\\d\\d)?)$') THEN {iso} ELSE {iso} || 'Z' END)"
        );
        if self.duck() {
            format!(
                "coalesce(make_timestamp(epoch_us(TRY_CAST({zoned} AS TIMESTAMPTZ))), try_strptime(trim({t}), '%Y%m%dT%H%M%SZ'))"
            )
        } else {
            format!(
                "coalesce(CAST(try(from_iso8601_timestamp({zoned})) AT TIME ZONE 'UTC' AS timestamp(3)), try(date_parse(trim({t}), '%Y%m%dT%H%i%sZ')))"
            )
        }
    }

    /// The delivery time in a CloudTrail file name (`<account>_CloudTrail_<region>_<YYYYMMDDTHHMM>Z_<unique>`).
    fn key_time(&self, path: &str) -> String {
        let stamp = self.extract(path, "(?:^|/)\\d{12}_CloudTrail_[^_/]+_(\\d{8}T\\d{4})Z_[^/]+$");
        if self.duck() {
            format!("try_strptime({stamp}, '%Y%m%dT%H%M')")
        } else {
            format!("try(date_parse({stamp}, '%Y%m%dT%H%i'))")
        }
    }

    /// A timestamp literal (UTC, milliseconds).
    fn ts(&self, ms: Millis) -> String {
        let dt = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
        format!("TIMESTAMP {}", lit(&dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string()))
    }

    fn url_decode(&self, s: &str) -> String {
        // Form decoding ('+' is a space), as the native decoder; undecodable text stays as is.
        if self.duck() {
            format!("coalesce(TRY(url_decode(replace({s}, '+', ' '))), {s})")
        } else {
            format!("coalesce(try(url_decode(replace({s}, '+', ' '))), {s})")
        }
    }
}

/// `yes`/`true` → true, `no`/`false` → false, anything else NULL (classify's `yes`).
fn yes(s: &str) -> String {
    format!(
        "(CASE lower(trim({s})) WHEN 'yes' THEN true WHEN 'true' THEN true WHEN 'no' THEN false WHEN 'false' THEN false END)"
    )
}

/// `UTC day → yyyy/MM/dd` (the partition value of the AWS key layout).
fn day(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y/%m/%d")
        .to_string()
}

/// The raw fields, named, from the standard table (layer 1), with the partition pruning and a
/// pre-filter that keeps every record the classifier can keep (the sign-in, STS and IAM
/// sources, and explicit denies of any service).
fn layer_raw(d: &Dialect, spec: &QuerySpec, table: &str) -> String {
    let rq = |p: &str| d.json("requestparameters", p);
    let rs = |p: &str| d.json("responseelements", p);
    let ad = |p: &str| d.json("additionaleventdata", p);
    let sd = |p: &str| d.json("serviceeventdetails", p);
    let path = match spec.path_column.as_deref() {
        Some(c) => ident(c),
        None => "CAST(NULL AS VARCHAR)".to_owned(),
    };
    let fields: Vec<(String, &str)> = vec![
        ("eventtime".into(), "t_raw"),
        ("coalesce(eventsource, '')".into(), "src"),
        ("coalesce(eventname, '')".into(), "name"),
        ("NULLIF(errorcode, '')".into(), "err_code"),
        ("NULLIF(errormessage, '')".into(), "err_msg"),
        ("useridentity.type".into(), "id_type"),
        ("useridentity.arn".into(), "id_arn"),
        ("useridentity.accountid".into(), "id_account"),
        ("useridentity.accesskeyid".into(), "access_key"),
        ("useridentity.username".into(), "id_user"),
        ("useridentity.onbehalfof.userid".into(), "obo_user"),
        (
            "useridentity.sessioncontext.sessionissuer.username".into(),
            "issuer_user",
        ),
        (
            "useridentity.sessioncontext.attributes.mfaauthenticated".into(),
            "mfa_auth_raw",
        ),
        ("recipientaccountid".into(), "recipient"),
        ("awsregion".into(), "region_raw"),
        ("sourceipaddress".into(), "ip"),
        ("useragent".into(), "agent"),
        ("eventid".into(), "eid"),
        ("requestid".into(), "rid"),
        (rq("userName"), "rq_user"),
        (rq("serialNumber"), "rq_serial"),
        (rq("policyArn"), "rq_policy_arn"),
        (rq("groupName"), "rq_group"),
        (rq("policyName"), "rq_policy_name"),
        (rq("policyDocument"), "rq_doc"),
        (rq("roleName"), "rq_role_name"),
        (rq("roleArn"), "rq_role_arn"),
        (rq("assumeRolePolicyDocument"), "rq_trust_doc"),
        (rq("setAsDefault"), "rq_default"),
        (rq("versionId"), "rq_version"),
        (rs("ConsoleLogin"), "rs_console"),
        (rs("CheckMfa"), "rs_check"),
        (rs("virtualMFADevice.serialNumber"), "rs_serial"),
        (rs("policy.arn"), "rs_policy_arn"),
        (rs("policy.defaultVersionId"), "rs_default_version"),
        (rs("policyVersion.versionId"), "rs_version"),
        (rs("user.userName"), "rs_user"),
        (ad("MFAUsed"), "ad_mfa_used"),
        (ad("MFAIdentifier"), "ad_mfa_id"),
        (ad("MfaType"), "ad_mfa_type"),
        (ad("CredentialType"), "ad_cred_type"),
        (ad("UserName"), "ad_user"),
        (sd("CredentialVerification"), "sd_verification"),
        (sd("UserAuthentication"), "sd_authentication"),
        (sd("CredentialType"), "sd_cred_type"),
        (path, "path"),
    ];
    let select = fields
        .iter()
        .map(|(e, a)| format!("      {e} AS {a}"))
        .collect::<Vec<_>>()
        .join(",\n");
    let mut wh = vec![
        "(eventsource IN ('signin.amazonaws.com', 'sts.amazonaws.com', 'iam.amazonaws.com') OR strpos(errormessage, 'explicit deny') > 0)"
            .to_owned(),
    ];
    let p = &spec.partitions;
    if let Some(col) = &p.date {
        // A file's key time is its delivery: at least the event's time (less a minute of
        // rounding), at most `lag` after it.
        if let Some(s) = spec.since {
            wh.push(format!("{} >= {}", ident(col), lit(&day(s - MINUTE))));
        }
        if let Some(u) = spec.until {
            wh.push(format!("{} <= {}", ident(col), lit(&day(u + spec.lag))));
        }
    }
    if let Some(col) = &p.account
        && !spec.accounts.is_empty()
    {
        wh.push(format!("{} IN ({})", ident(col), list(&spec.accounts)));
    }
    if let Some(col) = &p.region
        && !spec.regions.is_empty()
    {
        // Global services (IAM, STS's global endpoint, sign-in) log in us-east-1.
        let mut regions = spec.regions.clone();
        if !regions.iter().any(|r| r == "us-east-1") {
            regions.push("us-east-1".into());
        }
        wh.push(format!("{} IN ({})", ident(col), list(&regions)));
    }
    format!(
        "    SELECT\n{select}\n    FROM {table}\n    WHERE {}",
        wh.join("\n      AND ")
    )
}

/// The deny policy type of `msg` (classify's `deny_policy`), from `rest`: the message after
/// "explicit deny", leading white space removed.
fn deny_kind(rest: &str) -> String {
    let kind_of = |k: &str| {
        let arms: String = DENY_KINDS
            .iter()
            .map(|(p, kind)| format!(" WHEN {} THEN {}", starts(k, p), lit(kind.as_str())))
            .collect();
        format!("(CASE{arms} ELSE 'other' END)")
    };
    let arms: String = DENY_ARTICLES
        .iter()
        .map(|a| {
            let tail = format!("substr({rest}, {})", a.chars().count() + 1);
            format!(" WHEN {} THEN {}", starts(rest, a), kind_of(&tail))
        })
        .collect();
    format!("(CASE{arms} ELSE 'untyped' END)")
}

/// The class of a record (classify's `match`, arm for arm), NULL when it is not kept.
fn class_case() -> String {
    use EventClass as C;
    let c = |k: C| lit(k.as_str());
    let sts_pair = "src = 'sts.amazonaws.com' AND name IN ('GetSessionToken', 'AssumeRole')";
    let iam_arms: String = IAM_EVENTS
        .iter()
        .map(|(e, k)| format!(" WHEN {} THEN {}", lit(e), c(*k)))
        .collect();
    let ident_deny = "deny_kind IN ('identity', 'untyped') AND human";
    format!(
        "CASE
        WHEN src = 'signin.amazonaws.com' AND name = 'ConsoleLogin' THEN
          CASE
            WHEN console_failed AND coalesce(mfa_used, false) AND names_device THEN {mfa_failure}
            WHEN console_failed AND coalesce(mfa_used, false) THEN {ambiguous}
            WHEN console_failed THEN {login_failure}
            WHEN coalesce(mfa_used, false) THEN {mfa_success}
            WHEN NOT (human OR id_type IS NULL) THEN {federated}
            ELSE {no_mfa}
          END
        WHEN src = 'signin.amazonaws.com' AND name = 'CheckMfa' THEN
          CASE
            WHEN rs_check IS NOT NULL AND lower(rs_check) = 'success' THEN {mfa_success}
            WHEN rs_check IS NOT NULL THEN {mfa_failure}
            WHEN failed THEN {mfa_failure}
          END
        WHEN src = 'signin.amazonaws.com' AND name IN ('CredentialVerification', 'CredentialChallenge', 'UserAuthentication') THEN
          CASE
            WHEN name = 'CredentialChallenge' THEN NULL
            WHEN name = 'UserAuthentication' AND NOT failed THEN {ic_success}
            WHEN ic_verdict IS NOT NULL AND lower(ic_verdict) = 'success' AND NOT failed THEN {ic_success}
            ELSE {ic_failure}
          END
        WHEN {sts_pair} AND failed AND mfa_text THEN {mfa_failure}
        WHEN src = 'sts.amazonaws.com' AND name = 'GetSessionToken' AND denied AND serial_req IS NOT NULL AND deny_kind IS NULL THEN {mfa_failure}
        WHEN src = 'sts.amazonaws.com' AND name = 'AssumeRole' AND denied AND human AND deny_kind IS NULL AND strpos(msg, 'AssumeRole on resource') > 0 THEN {ar_denied}
        WHEN {sts_pair} AND NOT failed AND serial_req IS NOT NULL THEN {mfa_success}
        WHEN denied AND deny_kind IS NOT NULL THEN
          CASE
            WHEN {ident_deny} AND coalesce(mfa_auth, false) THEN {deny_with_mfa}
            WHEN {ident_deny} AND coalesce(NOT mfa_auth, false) THEN {required}
            WHEN {ident_deny} AND mfa_auth IS NULL AND coalesce(substr(access_key, 1, 4) = 'AKIA', false) THEN {required}
            ELSE {deny_other}
          END
        WHEN src = 'iam.amazonaws.com' THEN CASE name{iam_arms} END
      END",
        mfa_failure = c(C::MfaFailure),
        ambiguous = c(C::ConsoleFailureAmbiguous),
        login_failure = c(C::LoginFailure),
        mfa_success = c(C::MfaSuccess),
        federated = c(C::FederatedLogin),
        no_mfa = c(C::LoginSuccessNoMfa),
        ic_success = c(C::IdentityCenterSuccess),
        ic_failure = c(C::IdentityCenterFailure),
        ar_denied = c(C::AssumeRoleDenied),
        deny_with_mfa = c(C::ExplicitDenyWithMfa),
        required = c(C::MfaRequiredDenied),
        deny_other = c(C::ExplicitDenyOther),
    )
}

/// The outcome of a kept record, from its class (and, for IAM calls, whether it failed).
fn outcome_case() -> String {
    use EventClass as C;
    let success: Vec<String> = [
        C::MfaSuccess,
        C::LoginSuccessNoMfa,
        C::FederatedLogin,
        C::IdentityCenterSuccess,
    ]
    .iter()
    .map(|k| k.as_str().to_owned())
    .collect();
    let mut iam: Vec<String> = IAM_EVENTS.iter().map(|(_, k)| k.as_str().to_owned()).collect();
    iam.sort();
    iam.dedup();
    format!(
        "CASE WHEN class IN ({}) THEN 'Success' WHEN class IN ({}) AND NOT failed THEN 'Success' ELSE 'Failure' END",
        list(&success),
        list(&iam)
    )
}

/// The expression of each store column over the classified layer (`frame::COLUMNS` order).
fn column_expr(d: &Dialect, col: &str) -> Option<String> {
    let v = d.varchar();
    let s = |e: String| format!("CAST({e} AS {v})");
    let deny_classes = list(
        &[
            EventClass::MfaRequiredDenied,
            EventClass::ExplicitDenyWithMfa,
            EventClass::ExplicitDenyOther,
            EventClass::AssumeRoleDenied,
        ]
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect::<Vec<_>>(),
    );
    Some(match col {
        "event_time" => "event_time".into(),
        "event_source" => s("src".into()),
        "event_name" => s("name".into()),
        "class" => s("class".into()),
        "outcome" => s(outcome_case()),
        "error_code" => s("err_code".into()),
        "error_message" => s("err_msg".into()),
        "identity_type" => s("id_type".into()),
        "user_name" => s(format!(
            "NULLIF(CASE
          WHEN id_type = 'AssumedRole' THEN NULL
          WHEN id_type = 'Root' THEN {root}
          WHEN id_type = 'IdentityCenterUser' THEN coalesce(NULLIF(id_user, ''), obo_user)
          WHEN class IN ('identity_center_failure', 'identity_center_success') THEN coalesce(NULLIF(id_user, ''), ad_user, obo_user)
          ELSE id_user
        END, '')",
            root = lit(ROOT)
        )),
        "role_name" => s(format!(
            "CASE WHEN id_type = 'AssumedRole' THEN coalesce(NULLIF(issuer_user, ''), {}) END",
            d.extract("id_arn", ":assumed-role/([^/]*)")
        )),
        "session_name" => s(format!(
            "CASE WHEN id_type = 'AssumedRole' THEN {} END",
            d.extract("id_arn", ":assumed-role/[^/]*/(.*)")
        )),
        "principal_arn" => s("NULLIF(id_arn, '')".into()),
        "account_id" => s("NULLIF(id_account, '')".into()),
        "access_key_id" => s("NULLIF(access_key, '')".into()),
        "recipient_account_id" => s("NULLIF(recipient, '')".into()),
        "aws_region" => s("NULLIF(region_raw, '')".into()),
        "source_ip" => s("NULLIF(ip, '')".into()),
        "user_agent" => s("NULLIF(agent, '')".into()),
        "mfa_used" => "mfa_used".into(),
        "mfa_authenticated" => "mfa_auth".into(),
        "target_user" => s(format!(
            "(CASE WHEN NULLIF(coalesce(rq_user, rs_user), '') = {param} THEN {root} ELSE NULLIF(coalesce(rq_user, rs_user), '') END)",
            param = lit(ROOT_USER_PARAM),
            root = lit(ROOT)
        )),
        "target_role" => s("NULLIF(coalesce(rq_role_arn, rq_role_name), '')".into()),
        "mfa_serial" => s("NULLIF(coalesce(serial_req, rs_serial, ad_mfa_id), '')".into()),
        "credential_type" => s(
            "NULLIF(CASE WHEN src = 'signin.amazonaws.com' AND name IN ('CredentialVerification', 'CredentialChallenge', 'UserAuthentication') THEN coalesce(ad_mfa_type, ad_cred_type, sd_cred_type) ELSE coalesce(ad_mfa_type, ad_cred_type) END, '')"
                .into(),
        ),
        "denied_action" => s(format!(
            "CASE WHEN class IN ({deny_classes}) THEN coalesce(
          (CASE WHEN strpos({perform}, ':') > 0 THEN {perform} END),
          (CASE WHEN {svc} AND length(src) > 14 AND name <> '' THEN substr(src, 1, length(src) - 14) || ':' || name END)) END",
            perform = d.extract("msg", "perform: ([^\\s,]*)"),
            svc = "substr(src, greatest(length(src) - 13, 1)) = '.amazonaws.com'",
        )),
        "deny_policy" => s(format!(
            "CASE WHEN class IN ({deny_classes}) THEN coalesce(deny_kind, 'none') END"
        )),
        "policy_arn" => s("coalesce(rq_policy_arn, rs_policy_arn)".into()),
        "group_name" => s("NULLIF(rq_group, '')".into()),
        "policy_name" => s("NULLIF(rq_policy_name, '')".into()),
        "policy_document" => {
            let doc = "coalesce(rq_doc, rq_trust_doc)";
            s(format!(
                "CASE WHEN substr(regexp_replace({doc}, '^\\s+', ''), 1, 1) = '{{' OR strpos({doc}, '%') = 0 THEN {doc} ELSE {} END",
                d.url_decode(doc)
            ))
        }
        "policy_version" => s(
            "coalesce(rq_version, rs_version, CASE WHEN name = 'CreatePolicy' THEN coalesce(rs_default_version, 'v1') END)"
                .into(),
        ),
        "set_as_default" => format!(
            "coalesce({}, CASE WHEN name IN ('CreatePolicy', 'SetDefaultPolicyVersion') THEN true END)",
            yes("rq_default")
        ),
        "event_id" => s("coalesce(eid, '')".into()),
        "request_id" => s("NULLIF(rid, '')".into()),
        "source_object" => s("path".into()),
        _ => return None,
    })
}

/// The query `mfatrail sql` prints.
pub fn query(spec: &QuerySpec) -> Result<String> {
    let table = check_table(&spec.table)?
        .iter()
        .map(|p| ident(p))
        .collect::<Vec<_>>()
        .join(".");
    let mut spec = spec.clone();
    spec.accounts = spec.accounts.iter().map(|a| check_account(a)).collect::<Result<_>>()?;
    spec.regions = spec.regions.iter().map(|r| check_region(r)).collect::<Result<_>>()?;
    for (what, col) in [
        ("--date-partition", &spec.partitions.date),
        ("--account-partition", &spec.partitions.account),
        ("--region-partition", &spec.partitions.region),
    ] {
        if let Some(c) = col {
            check_identifier(what, c)?;
        }
    }
    // `$path` is the hidden column of Athena and Trino; anything else is a plain identifier.
    if let Some(c) = spec.path_column.as_deref().filter(|c| *c != "$path") {
        check_identifier("--path-column", c)?;
    }
    let unload = match (&spec.unload_to, spec.engine) {
        (None, _) => None,
        (Some(to), Engine::Athena) => Some(check_s3_prefix("--unload-to", to)?),
        (Some(to), _) => {
            return Err(Error::usage(
                "--unload-to",
                to.clone(),
                "UNLOAD is Athena's: with Trino write the result with CREATE TABLE … WITH (format = 'PARQUET') AS, with DuckDB with COPY … TO",
            ));
        }
    };
    let d = Dialect(spec.engine);
    let raw = layer_raw(&d, &spec, &table);
    let derived = format!(
        "  SELECT r.*,
      (err_code IS NOT NULL OR err_msg IS NOT NULL) AS failed,
      coalesce(id_type IN ('IAMUser', 'Root'), false) AS human,
      coalesce(err_msg, '') AS msg,
      {mfa_auth} AS mfa_auth,
      NULLIF(rq_serial, '') AS serial_req,
      {mfa_used} AS mfa_used,
      coalesce(ad_mfa_id, '') <> '' AS names_device,
      coalesce(sd_verification, sd_authentication) AS ic_verdict,
      (CASE WHEN rs_console IS NOT NULL THEN lower(rs_console) <> 'success' ELSE err_code IS NOT NULL OR err_msg IS NOT NULL END) AS console_failed,
      {time} AS parsed_time,
      {key_time} AS key_time
  FROM (\n{raw}\n  ) r",
        mfa_auth = yes("mfa_auth_raw"),
        mfa_used = yes("ad_mfa_used"),
        time = d.event_time("t_raw"),
        key_time = d.key_time("path"),
    );
    let denial = "(strpos(err_code, 'AccessDenied') > 0 OR strpos(err_code, 'UnauthorizedOperation') > 0 OR err_code = 'UnauthorizedAccess')";
    let flags = format!(
        "SELECT d.*,
      (failed AND (err_code IS NULL OR {denial})) AS denied,
      strpos(msg, 'MultiFactorAuthentication') > 0 AS mfa_text,
      (CASE WHEN strpos(msg, 'explicit deny') > 0 THEN regexp_replace(substr(msg, strpos(msg, 'explicit deny') + 13), '^\\s+', '') END) AS deny_rest,
      (CASE
        WHEN parsed_time >= {far_future} OR parsed_time < {far_past} THEN NULL
        WHEN key_time IS NOT NULL AND parsed_time > key_time + INTERVAL '{slack}' MINUTE THEN NULL
        ELSE parsed_time
      END) AS event_time
  FROM (\n{derived}\n  ) d",
        far_future = d.ts(FAR_FUTURE),
        far_past = d.ts(FAR_PAST),
        slack = KEY_TIME_SLACK / MINUTE,
    );
    let kinds = format!(
        "SELECT f.*, (CASE WHEN deny_rest IS NOT NULL THEN {} END) AS deny_kind
  FROM (\n{flags}\n  ) f",
        deny_kind("deny_rest")
    );
    let classified = format!("SELECT k.*, {} AS class\n  FROM (\n{kinds}\n  ) k", class_case());
    let columns = COLUMNS
        .iter()
        .map(|c| column_expr(&d, c).map(|e| format!("  {e} AS {c}")))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Error::usage("sql", "", "internal: a store column has no SQL expression"))?
        .join(",\n");
    let mut wh = vec!["class IS NOT NULL".to_owned()];
    // Rows whose time the engine could not read, or that the native parser refuses (the year
    // 2100 and later; later than an hour after their file's delivery), are kept with a NULL
    // time: mfatrail counts them as records without a time, as it counts them in raw logs.
    if let Some(s) = spec.since {
        wh.push(format!("(event_time IS NULL OR event_time >= {})", d.ts(s)));
    }
    if let Some(u) = spec.until {
        wh.push(format!("(event_time IS NULL OR event_time <= {})", d.ts(u)));
    }
    if !spec.accounts.is_empty() {
        wh.push(format!(
            "coalesce(NULLIF(recipient, ''), NULLIF(id_account, '')) IN ({})",
            list(&spec.accounts)
        ));
    }
    if !spec.regions.is_empty() {
        wh.push(format!(
            "(src IN ('iam.amazonaws.com', 'sts.amazonaws.com', 'signin.amazonaws.com') OR region_raw IN ({}))",
            list(&spec.regions)
        ));
    }
    let select = format!(
        "SELECT\n{columns}\nFROM (\n  {classified}\n) c\nWHERE {}",
        wh.join("\n  AND ")
    );
    Ok(match unload {
        Some(to) => format!(
            "UNLOAD (\n{select}\n)\nTO {}\nWITH (format = 'PARQUET', compression = 'SNAPPY')\n",
            lit(&to)
        ),
        None => format!("{select}\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(engine: Engine) -> QuerySpec {
        QuerySpec {
            engine,
            table: "cloudtrail_logs_pp".into(),
            since: None,
            until: None,
            lag: 2 * crate::time::HOUR,
            accounts: vec![],
            regions: vec![],
            partitions: Partitions::default(),
            unload_to: None,
            path_column: Some("$path".into()),
        }
    }

    #[test]
    fn the_path_column_is_named_or_absent_and_never_injected() {
        let q = query(&spec(Engine::Athena)).unwrap();
        assert!(q.contains("\"$path\" AS path"), "{q}");
        let q = query(&QuerySpec {
            path_column: Some("filename".into()),
            ..spec(Engine::Duckdb)
        })
        .unwrap();
        assert!(q.contains("\"filename\" AS path"), "{q}");
        let q = query(&QuerySpec {
            path_column: None,
            ..spec(Engine::Duckdb)
        })
        .unwrap();
        assert!(q.contains("CAST(NULL AS VARCHAR) AS path"), "{q}");
        let bad = query(&QuerySpec {
            path_column: Some("x\" OR 1=1 --".into()),
            ..spec(Engine::Duckdb)
        });
        assert!(bad.is_err());
    }

    #[test]
    fn hostile_input_is_refused_before_any_sql() {
        type Mutate = Box<dyn Fn(&mut QuerySpec)>;
        let cases: Vec<(&str, Mutate)> = vec![
            ("--account", Box::new(|s| s.accounts = vec!["1' OR '1'='1".into()])),
            ("--account", Box::new(|s| s.accounts = vec!["11112222333".into()])),
            ("--table", Box::new(|s| s.table = "logs; DROP TABLE x".into())),
            ("--table", Box::new(|s| s.table = "a.b.c.d".into())),
            ("--table", Box::new(|s| s.table = "\"x\"".into())),
            ("--region", Box::new(|s| s.regions = vec!["us-east-1'".into()])),
            ("--region", Box::new(|s| s.regions = vec!["US-EAST-1".into()])),
            (
                "--date-partition",
                Box::new(|s| s.partitions.date = Some("dt) OR (1=1".into())),
            ),
            (
                "--unload-to",
                Box::new(|s| s.unload_to = Some("s3://bucket/x' TO 'y".into())),
            ),
            ("--unload-to", Box::new(|s| s.unload_to = Some("/tmp/out".into()))),
        ];
        for (what, mutate) in cases {
            let mut s = spec(Engine::Athena);
            mutate(&mut s);
            match query(&s) {
                Err(Error::Usage { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{what}: expected a usage error, got {other:?}"),
            }
        }
        // UNLOAD is Athena's only.
        let mut s = spec(Engine::Trino);
        s.unload_to = Some("s3://results-bucket/mfa/".into());
        assert!(matches!(
            query(&s),
            Err(Error::Usage {
                what: "--unload-to",
                ..
            })
        ));
    }

    #[test]
    fn valid_shapes_pass() {
        assert_eq!(check_region("us-gov-west-1").unwrap(), "us-gov-west-1");
        assert_eq!(check_region("eu-central-2").unwrap(), "eu-central-2");
        assert!(check_region("useast1").is_err());
        assert_eq!(check_table("awsdatacatalog.security.ct").unwrap().len(), 3);
        assert_eq!(
            check_s3_prefix("--unload-to", "s3://results-bucket/mfa/run=1").unwrap(),
            "s3://results-bucket/mfa/run=1/"
        );
        assert!(check_s3_prefix("--unload-to", "s3://Bad_Bucket/x").is_err());
    }

    #[test]
    fn projects_every_store_column_in_order() {
        let q = query(&spec(Engine::Duckdb)).unwrap();
        let mut at = 0;
        for c in COLUMNS {
            let needle = format!(" AS {c},");
            let last = format!(" AS {c}\nFROM");
            let pos = q[at..]
                .find(&needle)
                .or_else(|| q[at..].find(&last))
                .unwrap_or_else(|| panic!("{c} missing or out of order"));
            at += pos + 1;
        }
    }

    #[test]
    fn partitions_are_pruned_with_the_delivery_lag() {
        let mut s = spec(Engine::Athena);
        s.since = Some(crate::time::parse_time_arg("2026-11-27", crate::time::DayEnd::Start).unwrap());
        s.until = Some(crate::time::parse_time_arg("2026-11-28T23:00:00Z", crate::time::DayEnd::End).unwrap());
        s.accounts = vec!["111122223333".into()];
        s.regions = vec!["eu-west-1".into()];
        s.partitions = Partitions {
            date: Some("timestamp".into()),
            account: Some("account".into()),
            region: Some("region".into()),
        };
        s.unload_to = Some("s3://results-bucket/mfa".into());
        let q = query(&s).unwrap();
        // Since less a minute of key-time rounding; until plus the 2 h lag crosses midnight.
        assert!(q.contains("\"timestamp\" >= '2026/11/26'"), "{q}");
        assert!(q.contains("\"timestamp\" <= '2026/11/29'"), "{q}");
        assert!(q.contains("\"account\" IN ('111122223333')"));
        assert!(q.contains("\"region\" IN ('eu-west-1', 'us-east-1')"));
        assert!(q.contains("TIMESTAMP '2026-11-27 00:00:00.000'"));
        assert!(q.starts_with("UNLOAD (\nSELECT"));
        assert!(q.contains("TO 's3://results-bucket/mfa/'"));
    }
}
