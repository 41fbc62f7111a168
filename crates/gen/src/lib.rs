//! Synthetic CloudTrail archives: realistic background traffic plus seeded MFA scenarios, in
//! the S3 key layout CloudTrail delivers (`AWSLogs/[o-ORG/]ACCT/CloudTrail/REGION/Y/M/D/...`),
//! with digest files. Output is a pure function of the options: every file is generated from
//! its own PRNG stream (seed, file index), so the bytes do not depend on the thread count.

mod background;
mod digest;
mod rng;
mod scenarios;
mod shapes;
mod time;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use rayon::prelude::*;
use rng::{ALNUM, LOWER_ALNUM, Rng, TAG_FILE, TAG_PLAN};
use scenarios::ScenEvent;
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Regions with log files. IAM, STS and sign-in events (and so every scenario record) are in
/// us-east-1, where CloudTrail records global-service events.
pub const REGIONS: [&str; 3] = ["us-east-1", "us-west-2", "eu-west-1"];
/// Name of the (organization) trail in digest keys.
pub const TRAIL_NAME: &str = "mfatrail-trail";
/// Minimum archive length when scenarios are requested: the oldest scenario event is at E-49h.
pub const MIN_SCENARIO_HOURS: u32 = 50;

const SLOT: i64 = 300;
/// Expected background record size, used only to size files (the byte budget is exact).
const AVG_RECORD_BYTES: f64 = 1250.0;
/// Mean records per file when not every slot gets a file.
const MEAN_RECORDS_PER_FILE: f64 = 500.0;
/// Above this a slot's traffic is split over several files, as CloudTrail does.
const MAX_RECORDS_PER_FILE: f64 = 1200.0;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Output folder; the `AWSLogs/` tree is created inside it.
    pub out: PathBuf,
    pub seed: u64,
    /// Uncompressed megabytes (10^6 bytes) of background records.
    pub mb: f64,
    /// Start of the archive; events fill `[since, since + hours)`.
    pub since: DateTime<Utc>,
    pub hours: u32,
    /// Number of accounts (raised to 3 by OrgMultiAccount).
    pub accounts: u32,
    pub scenarios: Vec<Scenario>,
    /// Give background records the per-record identifiers real trails carry (a shared
    /// event id, VPC endpoint ids, an S3-style request id), so the archive compresses about 5:1 like real
    /// CloudTrail instead of about 7:1.
    pub realistic: bool,
}

/// The MFA situations the generator can plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    DeviceDeleted,
    GroupMfaNoDevice,
    ClockDrift,
    AccountWide,
    OrgMultiAccount,
    ManagedPolicyVersion,
    Extend48h,
    NegativeControl,
    LateDelivery,
    TwoDevicesOneRemoved,
}

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::DeviceDeleted,
        Scenario::GroupMfaNoDevice,
        Scenario::ClockDrift,
        Scenario::AccountWide,
        Scenario::OrgMultiAccount,
        Scenario::ManagedPolicyVersion,
        Scenario::Extend48h,
        Scenario::NegativeControl,
        Scenario::LateDelivery,
        Scenario::TwoDevicesOneRemoved,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Scenario::DeviceDeleted => "device_deleted",
            Scenario::GroupMfaNoDevice => "group_mfa_no_device",
            Scenario::ClockDrift => "clock_drift",
            Scenario::AccountWide => "account_wide",
            Scenario::OrgMultiAccount => "org_multi_account",
            Scenario::ManagedPolicyVersion => "managed_policy_version",
            Scenario::Extend48h => "extend_48h",
            Scenario::NegativeControl => "negative_control",
            Scenario::LateDelivery => "late_delivery",
            Scenario::TwoDevicesOneRemoved => "two_devices_one_removed",
        }
    }

    /// The user to diagnose (AccountWide/OrgMultiAccount: the first of several).
    pub fn target_user(&self) -> &'static str {
        match self {
            Scenario::DeviceDeleted => "alice",
            Scenario::GroupMfaNoDevice => "bob",
            Scenario::ClockDrift => "carol",
            Scenario::AccountWide => "team-01",
            Scenario::OrgMultiAccount => "org-user-1",
            Scenario::ManagedPolicyVersion => "dave",
            Scenario::Extend48h => "erin",
            Scenario::NegativeControl => "frank",
            Scenario::LateDelivery => "grace",
            Scenario::TwoDevicesOneRemoved => "henry",
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            Scenario::DeviceDeleted => {
                "alice's virtual MFA device is deactivated and deleted at E-5h; her CLI keeps sending its serial and her console session, now without MFA, is denied by the MFA policy (D2)"
            }
            Scenario::GroupMfaNoDevice => {
                "bob is created at E-8h and added to the group 'engineers', whose inline policy requires MFA; he never enables a device and is denied (D3)"
            }
            Scenario::ClockDrift => {
                "carol's active device fails with 'invalid MFA one time pass code' between successes, then she resyncs it (D4, D7)"
            }
            Scenario::AccountWide => {
                "team-01..team-06, all with active devices, fail console MFA in the same half hour and recover (D5 account)"
            }
            Scenario::OrgMultiAccount => {
                "org-user-1..6 in three accounts of an organization trail fail console MFA together (D5 multi_account)"
            }
            Scenario::ManagedPolicyVersion => {
                "the managed policy FinanceAccess, attached to dave's group, gets an MFA-requiring default version at E-3h; dave, using access keys, is denied from then on (D6)"
            }
            Scenario::Extend48h => {
                "erin's device is removed at E-36h and her failures start at E-4h: the cause is only found when the window is extended to 48 h (X)"
            }
            Scenario::NegativeControl => {
                "frank only has MFA successes, password typos and plain denials: no MFA diagnosis may be confirmed"
            }
            Scenario::LateDelivery => {
                "grace's device is deactivated at E-6h but the record is delivered in a file keyed after her last failure (key-time pruning must allow a delivery lag)"
            }
            Scenario::TwoDevicesOneRemoved => {
                "henry has a virtual and a hardware device; the virtual one is removed and his CLI keeps naming it while console logins with the hardware token succeed (D2 per serial)"
            }
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = GenError;

    /// By snake_case name; `-` is accepted for `_` and case is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        Scenario::ALL
            .iter()
            .copied()
            .find(|sc| sc.name() == norm)
            .ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|sc| sc.name()).collect();
                GenError::BadOptions(format!("unknown scenario '{s}'; valid names: {}", names.join(", ")))
            })
    }
}

/// Counts of what was written.
#[derive(Debug, Default, Clone)]
pub struct GenSummary {
    /// Log files (digest files not included).
    pub files: u64,
    pub digest_files: u64,
    /// Records in all log files, scenario records included.
    pub records: u64,
    pub scenario_records: u64,
    /// Uncompressed and compressed bytes of the log files (digests not included).
    pub bytes_uncompressed: u64,
    pub bytes_compressed: u64,
    pub accounts: Vec<String>,
    pub org_id: Option<String>,
}

#[derive(Debug)]
pub enum GenError {
    Io { path: PathBuf, source: std::io::Error },
    BadOptions(String),
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Io { path, source } => write!(f, "cannot write {}: {source}", path.display()),
            GenError::BadOptions(msg) => write!(f, "invalid generator options: {msg}"),
        }
    }
}

impl std::error::Error for GenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GenError::Io { source, .. } => Some(source),
            GenError::BadOptions(_) => None,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> GenError + '_ {
    move |source| GenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One log file to produce.
#[derive(Debug, Clone)]
struct FileSpec {
    acct: usize,
    region: usize,
    /// Start of the 5-minute slot whose events the file holds.
    slot: i64,
    /// Several files in one slot when its traffic is large.
    sub: u32,
    /// Uncompressed bytes of background records.
    budget: u64,
    key_time: i64,
    unique: String,
    /// Scenario events merged (sorted) into the file.
    scen: Vec<usize>,
    /// Late-delivered scenario events, appended after the sorted ones.
    late: Vec<usize>,
}

/// Everything the per-file workers share.
struct Plan {
    seed: u64,
    since: i64,
    end: i64,
    out: PathBuf,
    prefixes: Vec<String>,
    pools: Vec<background::Pool>,
    scen: Vec<ScenEvent>,
    realistic: bool,
}

/// What one written log file contributes to the summary and to the digests.
struct FileOut {
    acct: usize,
    region: usize,
    listed: digest::Listed,
    records: u64,
    scen_records: u64,
    bytes_u: u64,
    bytes_c: u64,
}

/// Writes the archive described by `opts` under `opts.out`.
pub fn generate(opts: &GenOptions) -> Result<GenSummary, GenError> {
    let scen_list = validate(opts)?;
    let org_mode = scen_list.contains(&Scenario::OrgMultiAccount);
    let n_accounts = if org_mode { opts.accounts.max(3) } else { opts.accounts } as usize;
    let accounts = account_ids(opts.seed, n_accounts);
    let org_id = org_mode.then(|| {
        let mut r = Rng::from_parts(&[opts.seed, TAG_PLAN, 2]);
        format!("o-{}", r.chars(LOWER_ALNUM, 10))
    });
    let since = opts.since.timestamp();
    let end = since + i64::from(opts.hours) * 3600;
    let prefixes: Vec<String> = accounts
        .iter()
        .map(|a| match &org_id {
            Some(o) => format!("AWSLogs/{o}/{a}"),
            None => format!("AWSLogs/{a}"),
        })
        .collect();
    let world = scenarios::World {
        seed: opts.seed,
        since,
        end,
        accounts: &accounts,
    };
    let scen = scenarios::build(&world, &scen_list);
    let mut plan_rng = Rng::from_parts(&[opts.seed, TAG_PLAN, 3]);
    let mut specs = plan_background(opts, &mut plan_rng, n_accounts, since, end);
    attach_scenarios(&mut specs, &scen, &mut plan_rng);
    let plan = Plan {
        seed: opts.seed,
        since,
        end,
        out: opts.out.clone(),
        prefixes,
        pools: accounts.iter().map(|a| background::Pool::new(opts.seed, a)).collect(),
        scen,
        realistic: opts.realistic,
    };
    let outs: Vec<FileOut> = specs
        .par_iter()
        .enumerate()
        .map(|(i, spec)| write_log_file(&plan, i, spec))
        .collect::<Result<_, _>>()?;

    let mut summary = GenSummary {
        files: outs.len() as u64,
        accounts: accounts.clone(),
        org_id: org_id.clone(),
        ..GenSummary::default()
    };
    for o in &outs {
        summary.records += o.records;
        summary.scenario_records += o.scen_records;
        summary.bytes_uncompressed += o.bytes_u;
        summary.bytes_compressed += o.bytes_c;
    }
    summary.digest_files = write_digests(&plan, &accounts, &outs)?;
    Ok(summary)
}

/// Checks the options; returns the scenarios deduplicated, in canonical order (so the archive
/// does not depend on the order they were given in).
fn validate(opts: &GenOptions) -> Result<Vec<Scenario>, GenError> {
    if !opts.mb.is_finite() || opts.mb < 0.0 {
        return Err(GenError::BadOptions(format!(
            "mb must be a finite number >= 0, got {}",
            opts.mb
        )));
    }
    if opts.mb > 1_000_000.0 {
        return Err(GenError::BadOptions(format!(
            "mb {} is above the 1,000,000 MB limit",
            opts.mb
        )));
    }
    if opts.hours == 0 || opts.hours > 24 * 366 {
        return Err(GenError::BadOptions(format!(
            "hours must be 1..={}, got {}",
            24 * 366,
            opts.hours
        )));
    }
    if opts.accounts == 0 || opts.accounts > 100 {
        return Err(GenError::BadOptions(format!(
            "accounts must be 1..=100, got {}",
            opts.accounts
        )));
    }
    let list: Vec<Scenario> = Scenario::ALL
        .iter()
        .copied()
        .filter(|s| opts.scenarios.contains(s))
        .collect();
    if !list.is_empty() && opts.hours < MIN_SCENARIO_HOURS {
        return Err(GenError::BadOptions(format!(
            "scenarios need hours >= {MIN_SCENARIO_HOURS} (events reach back to E-49h), got {}",
            opts.hours
        )));
    }
    Ok(list)
}

/// Distinct 12-digit account ids (no leading zero) from the seed; the first is the primary.
fn account_ids(seed: u64, n: usize) -> Vec<String> {
    let mut r = Rng::from_parts(&[seed, TAG_PLAN, 1]);
    let mut ids: Vec<String> = Vec::with_capacity(n);
    while ids.len() < n {
        let id = (100_000_000_000 + r.below(900_000_000_000)).to_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Relative traffic of a slot: us-east-1 (global services) busiest, a daily cycle peaking at
/// 14:00 UTC, the primary account busiest, and partial slots at the edges scaled down.
fn slot_weight(acct: usize, region: usize, slot: i64, since: i64, end: i64) -> f64 {
    let region_w = [1.0, 0.6, 0.4][region];
    let acct_w = if acct == 0 { 1.0 } else { 0.7 };
    let hour = slot.rem_euclid(86_400) as f64 / 3600.0;
    let daily = 0.6 + 0.4 * (0.5 - 0.5 * (std::f64::consts::TAU * (hour - 2.0) / 24.0).cos());
    let lo = slot.max(since);
    let hi = (slot + SLOT).min(end);
    let frac = (hi - lo).max(0) as f64 / SLOT as f64;
    region_w * acct_w * daily * frac
}

/// Decides which slots get background files and how many bytes each holds.
fn plan_background(opts: &GenOptions, rng: &mut Rng, n_accounts: usize, since: i64, end: i64) -> Vec<FileSpec> {
    let total = (opts.mb * 1e6).round() as u64;
    if total == 0 {
        return Vec::new();
    }
    let first = since.div_euclid(SLOT) * SLOT;
    let mut slots = Vec::new();
    for acct in 0..n_accounts {
        for region in 0..REGIONS.len() {
            let mut s = first;
            while s < end {
                let w = slot_weight(acct, region, s, since, end);
                if w > 0.0 {
                    slots.push((acct, region, s, w));
                }
                s += SLOT;
            }
        }
    }
    let n_target = (total as f64 / (MEAN_RECORDS_PER_FILE * AVG_RECORD_BYTES))
        .ceil()
        .max(1.0) as usize;
    let mut chosen: Vec<(usize, usize, i64, u32, f64)> = Vec::new();
    if n_target >= slots.len() {
        // Dense: every slot gets traffic in proportion to its weight.
        let wsum: f64 = slots.iter().map(|s| s.3).sum();
        for &(acct, region, slot, w) in &slots {
            let bytes = total as f64 * w / wsum;
            let k = (bytes / (MAX_RECORDS_PER_FILE * AVG_RECORD_BYTES)).ceil().max(1.0) as u32;
            for sub in 0..k {
                chosen.push((acct, region, slot, sub, bytes / f64::from(k)));
            }
        }
    } else {
        // Sparse: weighted sampling without replacement (Efraimidis-Spirakis), then budgets
        // around the mean so files keep 100-1500 records.
        let mut keyed: Vec<(f64, usize)> = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (rng.unit().max(f64::MIN_POSITIVE).ln() / s.3, i))
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        keyed.truncate(n_target);
        keyed.sort_by_key(|k| k.1);
        let jit: Vec<f64> = keyed.iter().map(|_| 0.6 + 0.8 * rng.unit()).collect();
        let jsum: f64 = jit.iter().sum();
        for (&(_, i), j) in keyed.iter().zip(&jit) {
            let (acct, region, slot, _) = slots[i];
            chosen.push((acct, region, slot, 0, total as f64 * j / jsum));
        }
    }
    chosen
        .into_iter()
        .map(|(acct, region, slot, sub, bytes)| FileSpec {
            acct,
            region,
            slot,
            sub,
            budget: bytes.round() as u64,
            key_time: slot + SLOT + 60 * rng.range_i64(1, 5),
            unique: rng.chars(ALNUM, 16),
            scen: Vec::new(),
            late: Vec::new(),
        })
        .collect()
}

/// Puts every scenario record into the us-east-1 file of its account and 5-minute slot
/// (creating a file when the background has none), and late records into the file of an
/// earlier slot whose key time is moved to the late key time.
fn attach_scenarios(specs: &mut Vec<FileSpec>, scen: &[ScenEvent], rng: &mut Rng) {
    let mut index: HashMap<(usize, usize, i64), usize> = HashMap::new();
    for (i, s) in specs.iter().enumerate() {
        if s.sub == 0 {
            index.insert((s.acct, s.region, s.slot), i);
        }
    }
    for (ei, ev) in scen.iter().enumerate() {
        let slot = match ev.late_key {
            // The slot ending at least a minute before the key time.
            Some(k) => (k - SLOT - 60).div_euclid(SLOT) * SLOT,
            None => ev.time.div_euclid(SLOT) * SLOT,
        };
        let i = *index.entry((ev.account, 0, slot)).or_insert_with(|| {
            specs.push(FileSpec {
                acct: ev.account,
                region: 0,
                slot,
                sub: 0,
                budget: 0,
                key_time: slot + SLOT + 60 * rng.range_i64(1, 5),
                unique: rng.chars(ALNUM, 16),
                scen: Vec::new(),
                late: Vec::new(),
            });
            specs.len() - 1
        });
        match ev.late_key {
            Some(k) => {
                specs[i].late.push(ei);
                specs[i].key_time = k;
            }
            None => specs[i].scen.push(ei),
        }
    }
    specs.sort_by_key(|s| (s.acct, s.region, s.slot, s.sub));
}

fn log_key(plan: &Plan, spec: &FileSpec) -> String {
    let acct = plan.pools[spec.acct].account.as_str();
    let region = REGIONS[spec.region];
    format!(
        "{}/CloudTrail/{region}/{}/{acct}_CloudTrail_{region}_{}_{}.json.gz",
        plan.prefixes[spec.acct],
        time::day_path(spec.key_time),
        time::key_minute(spec.key_time),
        spec.unique
    )
}

fn gzip(data: &[u8], path: &Path) -> Result<Vec<u8>, GenError> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 6 + 64), Compression::default());
    enc.write_all(data).map_err(io_err(path))?;
    enc.finish().map_err(io_err(path))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), GenError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    std::fs::write(path, bytes).map_err(io_err(path))
}

/// Generates, sorts, compresses and writes one log file.
fn write_log_file(plan: &Plan, index: usize, spec: &FileSpec) -> Result<FileOut, GenError> {
    let mut rng = Rng::from_parts(&[plan.seed, TAG_FILE, index as u64]);
    let region = REGIONS[spec.region];
    let cx = background::Ctx {
        pool: &plan.pools[spec.acct],
        region,
    };
    let lo = spec.slot.max(plan.since);
    let hi = (spec.slot + SLOT).min(plan.end);
    // Records are generated unsorted into one buffer, then emitted in eventTime order.
    let budget = spec.budget as usize;
    let mut scratch = String::with_capacity(budget + budget / 16 + 4096);
    let mut spans: Vec<(i64, usize, usize)> = Vec::with_capacity(budget / 1000 + 8);
    while scratch.len() < budget {
        let t = rng.range_i64(lo, hi);
        let start = scratch.len();
        background::write_record(&mut rng, &cx, t, &mut scratch);
        if plan.realistic && scratch.ends_with('}') {
            scratch.pop();
            scratch.push_str(",\"sharedEventID\":\"");
            rng.push_uuid(&mut scratch);
            scratch.push_str("\",\"vpcEndpointId\":\"vpce-");
            rng.push_chars(&mut scratch, b"0123456789abcdef", 17);
            scratch.push_str("\",\"vpcEndpointAccountId\":\"");
            rng.push_chars(&mut scratch, b"0123456789", 12);
            // A request id of S3's kind (S3 data events carry it in additionalEventData).
            scratch.push_str("\",\"x-amz-id-2\":\"");
            rng.push_b64(&mut scratch, 76);
            scratch.push_str("\"}");
        }
        spans.push((t, start, scratch.len()));
    }
    for &ei in &spec.scen {
        let ev = &plan.scen[ei];
        let start = scratch.len();
        scratch.push_str(&ev.json);
        spans.push((ev.time, start, scratch.len()));
    }
    spans.sort_by_key(|s| s.0);
    for &ei in &spec.late {
        let ev = &plan.scen[ei];
        let start = scratch.len();
        scratch.push_str(&ev.json);
        spans.push((ev.time, start, scratch.len()));
    }
    let mut body = String::with_capacity(scratch.len() + spans.len() + 16);
    body.push_str("{\"Records\":[");
    for (i, &(_, a, b)) in spans.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&scratch[a..b]);
    }
    body.push_str("]}");
    drop(scratch);

    let key = log_key(plan, spec);
    let path = plan.out.join(&key);
    let gz = gzip(body.as_bytes(), &path)?;
    write_file(&path, &gz)?;
    let n_scen = (spec.scen.len() + spec.late.len()) as u64;
    Ok(FileOut {
        acct: spec.acct,
        region: spec.region,
        listed: digest::Listed {
            key,
            key_time: spec.key_time,
            sha256_hex: rng::to_hex(&digest::sha256(body.as_bytes())),
            oldest: spans.iter().map(|s| s.0).min(),
            newest: spans.iter().map(|s| s.0).max(),
        },
        records: spans.len() as u64,
        scen_records: n_scen,
        bytes_u: body.len() as u64,
        bytes_c: gz.len() as u64,
    })
}

/// Writes the hourly digest chains of every (account, region) that has log files.
fn write_digests(plan: &Plan, accounts: &[String], outs: &[FileOut]) -> Result<u64, GenError> {
    let Some(last_key) = outs.iter().map(|o| o.listed.key_time).max() else {
        return Ok(0);
    };
    let bucket = format!(
        "aws-cloudtrail-logs-{}-{}",
        accounts[0],
        Rng::from_parts(&[plan.seed, TAG_PLAN, 4]).hex(8)
    );
    let mut groups: Vec<((usize, usize), Vec<digest::Listed>)> = Vec::new();
    for o in outs {
        match groups.iter_mut().find(|g| g.0 == (o.acct, o.region)) {
            Some(g) => g.1.push(o.listed.clone()),
            None => groups.push(((o.acct, o.region), vec![o.listed.clone()])),
        }
    }
    let counts: Vec<u64> = groups
        .par_iter_mut()
        .map(|((acct, region), files)| {
            files.sort_by(|a, b| a.key_time.cmp(&b.key_time).then_with(|| a.key.cmp(&b.key)));
            let chain = digest::chain(
                plan.seed,
                &plan.prefixes[*acct],
                &accounts[*acct],
                REGIONS[*region],
                &bucket,
                plan.since,
                last_key,
                files,
            );
            for d in &chain {
                let path = plan.out.join(&d.key);
                let gz = gzip(d.body.as_bytes(), &path)?;
                write_file(&path, &gz)?;
            }
            Ok(chain.len() as u64)
        })
        .collect::<Result<_, GenError>>()?;
    Ok(counts.iter().sum())
}
