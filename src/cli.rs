//! The command line (clap derive). Doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::{ColorChoice, Format};

#[derive(Debug, Parser)]
#[command(
    name = "mfatrail",
    version,
    about = "Why do this IAM user's MFA sign-ins fail? Offline, over CloudTrail archives."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Why do this user's MFA sign-ins fail? Every runbook Diagnosis rule, with evidence.
    Diagnose(DiagnoseArgs),
    /// Every user with MFA failures in the window, ranked, with the top confirmed cause of each.
    Scan(ScanArgs),
    /// The user's MFA-relevant events in time order, then the run summary.
    Timeline(TimelineArgs),
    /// Read an archive once into an event store (Parquet, hive-partitioned), incrementally.
    Collect(CollectArgs),
    /// Write a synthetic CloudTrail archive (real key layout, gzip) with optional incident scenarios.
    Gen(GenArgs),
    /// Check IAM policy documents for the MFA pitfalls (exit 0 clean, 1 findings, 2 bad input).
    PolicyLint(PolicyLintArgs),
    /// Print the classifier as one SQL query over the standard CloudTrail table (Athena, Trino,
    /// DuckDB), projecting the event store's schema; its Parquet output is a --source.
    Sql(SqlArgs),
    /// Benchmark baseline: list, read and inflate the sources, nothing else.
    #[command(hide = true)]
    Inflate(InflateArgs),
}

/// Options shared by the commands that read archives.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// A folder (walked, CloudTrail key layout recognised), a file, an event store folder
    /// (`mfatrail collect`) or s3://bucket[/prefix]; repeatable.
    #[arg(long = "source", short = 's', required_unless_present = "store", value_name = "PATH")]
    pub sources: Vec<PathBuf>,
    /// An event store (`mfatrail collect`): read it instead of, or besides, raw sources
    /// (`collect`: the store to write).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// How long after an event its log file may still be delivered (files are pruned by delivery time).
    #[arg(long, default_value = "2h", value_name = "DURATION", value_parser = crate::time::duration_arg)]
    pub delivery_lag: i64,
    /// Parse every record instead of only the pre-filter's candidates (validates all JSON; slower).
    #[arg(long)]
    pub full_parse: bool,
    /// Stop reading a file after this many inflated bytes (gzip bombs): a limit on work; large
    /// files are streamed, so memory stays flat whatever the cap.
    #[arg(long, default_value_t = 2 << 30, value_name = "BYTES")]
    pub max_file_bytes: u64,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Exit with code 3 when any input could not be read.
    #[arg(long)]
    pub strict: bool,
    /// AWS profile for s3:// sources (default: the standard credential chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region for s3:// sources (default: the profile's or environment's).
    #[arg(long, value_name = "REGION")]
    pub aws_region: Option<String>,
    /// S3-compatible endpoint (path-style addressing), e.g. http://127.0.0.1:9000.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// S3 GetObject requests in flight.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub s3_concurrency: usize,
    /// Keys per S3 listing page (tests use small pages to exercise pagination).
    #[arg(long, default_value_t = 1000, value_name = "N", hide = true)]
    pub s3_page_size: i32,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// IAM user name (as in userIdentity.userName or requestParameters.userName).
    #[arg(long, short = 'u')]
    pub user: String,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Start of the window: RFC 3339 or a date (start of day, UTC).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the window: RFC 3339 or a date (end of day, UTC).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub snapshot: SnapshotArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Raw sources (`--source`) and the event store to write (`--store DIR`, created when
    /// missing).
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only objects whose key time can hold events from this time (RFC 3339 or date).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only objects whose key time can hold events up to this time (RFC 3339 or date).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Output folder (the AWSLogs/ tree is created inside).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Uncompressed megabytes of background traffic.
    #[arg(long, default_value_t = 10.0)]
    pub mb: f64,
    /// Start of the archive (RFC 3339 or date).
    #[arg(long, default_value = "2026-11-25T00:00:00Z")]
    pub since: String,
    /// Length of the archive in hours (scenarios need at least 50).
    #[arg(long, default_value_t = 52)]
    pub hours: u32,
    #[arg(long, default_value_t = 1)]
    pub accounts: u32,
    /// Incident to embed (repeatable): device_deleted, group_mfa_no_device, clock_drift, account_wide,
    /// org_multi_account, managed_policy_version, extend_48h, negative_control, late_delivery,
    /// two_devices_one_removed.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Give background records the per-record ids real trails carry (sharedEventID, VPC
    /// endpoint): the archive then compresses about 5:1 like real CloudTrail, not 7:1.
    #[arg(long)]
    pub realistic: bool,
}

#[derive(Debug, Args)]
pub struct InflateArgs {
    #[arg(long = "source", short = 's', required = true)]
    pub sources: Vec<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// IAM user name.
    #[arg(long, short = 'u')]
    pub user: String,
    #[command(flatten)]
    pub read: ReadArgs,
    /// End of the analysis window (default: the user's latest failure signal that is not
    /// typing).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Read nothing older (default: back to the start of the user's failure episode, and the
    /// --extend-to before it, however far that is).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    #[command(flatten)]
    pub pass: PassArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub snapshot: SnapshotArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// The IAM state collected next to the archive.
#[derive(Debug, Clone, Args, Default)]
pub struct SnapshotArgs {
    /// The JSON of `aws iam get-account-authorization-details`, `aws iam list-virtual-mfa-devices`
    /// or `aws iam list-mfa-devices --user-name U` (recognised by content); repeatable.
    #[arg(long = "iam-snapshot", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// When the snapshot was collected (default: its newest date if after the logs, else the
    /// newest event read).
    #[arg(long, value_name = "TIME", requires = "files")]
    pub snapshot_time: Option<String>,
}

/// Restrict the events analysed.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only these accounts (recipientAccountId, else the caller's account); repeatable.
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// Only events of these regions; IAM, STS and sign-in events (global services) are always kept.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// Start of the scan (RFC 3339 or date). Default: open.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the scan (RFC 3339 or date). Default: open.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    #[command(flatten)]
    pub pass: PassArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub snapshot: SnapshotArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Report format and destination.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// text, json, html (diagnose, scan), markdown (diagnose, scan), csv (timeline, scan).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour in text output: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyLintArgs {
    /// Policy documents (JSON, or URL-encoded JSON as the IAM Get APIs return it).
    #[arg(value_name = "FILE", required_unless_present = "files")]
    pub documents: Vec<PathBuf>,
    /// Every document of an IAM snapshot (users', groups' and roles' inline policies, trust
    /// policies, every stored version of the managed policies).
    #[command(flatten)]
    pub snapshot: SnapshotArgs,
    /// text or json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The SQL dialect.
    #[arg(long, value_enum, default_value_t = crate::sql::Engine::Athena)]
    pub engine: crate::sql::Engine,
    /// The CloudTrail table (`table`, `db.table` or `catalog.db.table`).
    #[arg(long, default_value = "cloudtrail_logs", value_name = "NAME")]
    pub table: String,
    /// Start of the events (RFC 3339 or date).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the events (RFC 3339 or date).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// How long after an event its log file may be delivered (pads the date partitions).
    #[arg(long, default_value = "2h", value_name = "DURATION", value_parser = crate::time::duration_arg)]
    pub delivery_lag: i64,
    /// Only these accounts (12 digits); repeatable.
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// Only events of these regions (IAM, STS and sign-in events always); repeatable.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// The table's delivery-day partition column (`yyyy/MM/dd` values), or `none`.
    #[arg(long, default_value = "timestamp", value_name = "COLUMN")]
    pub date_partition: String,
    /// The table's account partition column, if it has one (`--ddl` tables: `account`).
    #[arg(long, value_name = "COLUMN")]
    pub account_partition: Option<String>,
    /// The table's region partition column, if it has one (`--ddl` tables: `region`).
    #[arg(long, value_name = "COLUMN")]
    pub region_partition: Option<String>,
    /// Athena: wrap the query in UNLOAD … TO this S3 prefix (Parquet, Snappy).
    #[arg(long, value_name = "S3_PREFIX")]
    pub unload_to: Option<String>,
    /// The column that names each record's file (the findings cite it): Athena's and Trino's
    /// hidden `$path` by default; with `--engine duckdb`, `filename` (what
    /// `read_json(…, filename = true)` adds); `none` when the table has no such column.
    #[arg(long, value_name = "COLUMN")]
    pub path_column: Option<String>,
    /// Print the CREATE EXTERNAL TABLE (Athena, partition projection) instead of the query.
    #[arg(long, requires = "location")]
    pub ddl: bool,
    /// `--ddl`: the trail's prefix, s3://bucket/[prefix/]AWSLogs/[o-org/].
    #[arg(long, value_name = "S3_PREFIX")]
    pub location: Option<String>,
    /// Write the SQL here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The runbook's two look-backs.
#[derive(Debug, Clone, Args)]
pub struct PassArgs {
    /// How far before T0 the first pass looks (the runbook's "last 24 hours").
    #[arg(long, default_value = "24h", value_name = "DURATION", value_parser = crate::time::duration_arg)]
    pub window: i64,
    /// How far before T0 the second pass looks when nothing correlates (the runbook's 48 hours;
    /// at most 3660 days).
    #[arg(long, default_value = "48h", value_name = "DURATION", value_parser = crate::time::duration_arg)]
    pub extend_to: i64,
}
