//! Archive-level tests: determinism, key layout, file contents, sizes and every scenario.
#![allow(clippy::disallowed_types)] // tests read back what the generator wrote

use super::*;
use chrono::TimeZone;
use flate2::read::GzDecoder;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "mfatrail-gen-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn since() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0)
        .single()
        .expect("valid date")
}

fn opts(out: &Path, seed: u64, mb: f64, hours: u32, scenarios: Vec<Scenario>) -> GenOptions {
    GenOptions {
        out: out.to_path_buf(),
        seed,
        mb,
        since: since(),
        hours,
        accounts: 1,
        scenarios,
        realistic: false,
    }
}

/// All files under `root`, as (relative path with '/', bytes), sorted.
fn read_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("under root");
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push((rel.join("/"), std::fs::read(&p).expect("read file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    GzDecoder::new(bytes).read_to_string(&mut s).expect("gunzip");
    s
}

fn parse_iso(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).expect("ISO time").timestamp()
}

/// `20261124T0310Z` → unix seconds.
fn parse_key_minute(s: &str) -> i64 {
    let dt = chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%MZ").expect("key time");
    dt.and_utc().timestamp()
}

/// One log record with where it was found.
struct Found {
    rec: Value,
    key_time: i64,
    path: String,
    position: usize,
}

struct Archive {
    logs: Vec<Found>,
    /// (path, uncompressed body) of log files.
    log_files: Vec<(String, String)>,
    digests: Vec<(String, Value)>,
}

fn load(root: &Path) -> Archive {
    let mut a = Archive {
        logs: Vec::new(),
        log_files: Vec::new(),
        digests: Vec::new(),
    };
    for (path, bytes) in read_tree(root) {
        let body = gunzip(&bytes);
        let v: Value = serde_json::from_str(&body).expect("file is JSON");
        if path.contains("/CloudTrail-Digest/") {
            a.digests.push((path, v));
            continue;
        }
        let name = path.rsplit('/').next().expect("file name");
        let key_time = parse_key_minute(name.split('_').nth(3).expect("key time part"));
        let obj = v.as_object().expect("object");
        assert_eq!(obj.len(), 1, "{path}: only Records");
        let recs = obj["Records"].as_array().expect("Records array");
        for (i, r) in recs.iter().enumerate() {
            a.logs.push(Found {
                rec: r.clone(),
                key_time,
                path: path.clone(),
                position: i,
            });
        }
        a.log_files.push((path, body));
    }
    a
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

fn user_of(r: &Value) -> &str {
    s(r, &["userIdentity", "userName"])
}

fn is_explicit_deny(r: &Value) -> bool {
    s(r, &["errorMessage"]).contains("with an explicit deny")
}

fn time_of(r: &Value) -> i64 {
    parse_iso(s(r, &["eventTime"]))
}

#[test]
fn same_seed_same_bytes_any_thread_count_and_seed_matters() {
    let a = TempDir::new("det-a");
    let b = TempDir::new("det-b");
    let c = TempDir::new("det-c");
    let scen = vec![Scenario::LateDelivery, Scenario::DeviceDeleted];
    let sa = generate(&opts(&a.0, 42, 0.6, 50, scen.clone())).expect("generate a");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    let sb = pool
        .install(|| {
            generate(&opts(
                &b.0,
                42,
                0.6,
                50,
                vec![Scenario::DeviceDeleted, Scenario::LateDelivery],
            ))
        })
        .expect("generate b");
    generate(&opts(&c.0, 43, 0.6, 50, scen)).expect("generate c");
    let (ta, tb, tc) = (read_tree(&a.0), read_tree(&b.0), read_tree(&c.0));
    assert!(ta.len() > 10);
    assert_eq!(ta.len(), tb.len());
    for (x, y) in ta.iter().zip(&tb) {
        assert_eq!(x.0, y.0);
        assert!(x.1 == y.1, "bytes differ in {}", x.0);
    }
    assert_eq!(sa.records, sb.records);
    assert_eq!(sa.bytes_compressed, sb.bytes_compressed);
    let names_a: BTreeSet<&String> = ta.iter().map(|f| &f.0).collect();
    let names_c: BTreeSet<&String> = tc.iter().map(|f| &f.0).collect();
    assert!(
        names_a.is_disjoint(&names_c),
        "another seed gives other accounts and keys"
    );
}

fn check_layout(root: &Path, summary: &GenSummary) {
    let accounts: BTreeSet<&str> = summary.accounts.iter().map(String::as_str).collect();
    assert_eq!(accounts.len(), summary.accounts.len(), "distinct accounts");
    for a in &accounts {
        assert!(
            a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) && !a.starts_with('0'),
            "{a}"
        );
    }
    let (mut logs, mut digests) = (0u64, 0u64);
    for (path, _) in read_tree(root) {
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(parts[0], "AWSLogs", "{path}");
        let rest = match &summary.org_id {
            Some(org) => {
                assert_eq!(parts[1], org, "{path}");
                assert!(org.len() == 12 && org[2..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
                &parts[2..]
            }
            None => &parts[1..],
        };
        assert_eq!(rest.len(), 7, "{path}");
        let (acct, kind, region, y, m, d, name) = (rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[6]);
        assert!(accounts.contains(acct), "{path}");
        assert!(REGIONS.contains(&region), "{path}");
        assert!(name.ends_with(".json.gz"), "{path}");
        let stem = name.trim_end_matches(".json.gz");
        let f: Vec<&str> = stem.split('_').collect();
        match kind {
            "CloudTrail" => {
                logs += 1;
                assert_eq!(f.len(), 5, "{path}");
                assert_eq!((f[0], f[1], f[2]), (acct, "CloudTrail", region));
                assert_eq!(f[3].len(), 14);
                assert_eq!(
                    &f[3][..8],
                    format!("{y}{m}{d}"),
                    "{path}: day folders match the key time"
                );
                parse_key_minute(f[3]);
                assert!(
                    f[4].len() == 16 && f[4].bytes().all(|b| b.is_ascii_alphanumeric()),
                    "{path}"
                );
            }
            "CloudTrail-Digest" => {
                digests += 1;
                assert_eq!(f.len(), 6, "{path}");
                assert_eq!(
                    (f[0], f[1], f[2], f[3], f[4]),
                    (acct, "CloudTrail-Digest", region, TRAIL_NAME, region)
                );
                assert_eq!(f[5].len(), 16);
                assert_eq!(&f[5][..8], format!("{y}{m}{d}"));
                chrono::NaiveDateTime::parse_from_str(f[5], "%Y%m%dT%H%M%SZ").expect("digest time");
            }
            other => panic!("unexpected folder {other} in {path}"),
        }
    }
    assert_eq!(logs, summary.files);
    assert_eq!(digests, summary.digest_files);
    assert!(digests > 0);
}

#[test]
fn key_layout_plain_and_org() {
    let plain = TempDir::new("layout-plain");
    let sum = generate(&GenOptions {
        accounts: 2,
        ..opts(&plain.0, 5, 0.4, 50, vec![Scenario::ClockDrift])
    })
    .expect("generate");
    assert!(sum.org_id.is_none());
    assert_eq!(sum.accounts.len(), 2);
    check_layout(&plain.0, &sum);

    let org = TempDir::new("layout-org");
    let sum = generate(&opts(&org.0, 5, 0.4, 50, vec![Scenario::OrgMultiAccount])).expect("generate");
    assert!(sum.org_id.is_some());
    assert_eq!(sum.accounts.len(), 3, "org scenario raises accounts to 3");
    check_layout(&org.0, &sum);
}

#[test]
fn files_are_records_older_than_key_time_and_digests_match() {
    let dir = TempDir::new("contents");
    // A start that is not on the 5-minute grid: partial first and last slots.
    let odd_since = since() + chrono::Duration::seconds(7 * 60 + 33);
    let scen = vec![Scenario::LateDelivery, Scenario::AccountWide];
    let sum = generate(&GenOptions {
        accounts: 2,
        since: odd_since,
        ..opts(&dir.0, 11, 1.0, 52, scen)
    })
    .expect("generate");
    let ar = load(&dir.0);
    assert_eq!(ar.logs.len() as u64, sum.records);
    let start = odd_since.timestamp();
    let end = start + 52 * 3600;
    let mut late = 0;
    let mut prev: Option<(&str, i64)> = None;
    for f in &ar.logs {
        let t = time_of(&f.rec);
        assert!(t < f.key_time, "{}: event at {t} not older than key time", f.path);
        assert!((start..end).contains(&t), "{}: event outside the range", f.path);
        let is_late = f.rec["eventName"] == "DeactivateMFADevice" && f.rec["requestParameters"]["userName"] == "grace";
        if is_late {
            late += 1;
            assert!(
                t < f.key_time - 3 * 3600,
                "the late record sits far behind its file's slot"
            );
        } else {
            assert!(
                t >= f.key_time - 11 * 60,
                "{}: on-time record older than its slot",
                f.path
            );
            if let Some((p, pt)) = prev
                && p == f.path
            {
                assert!(t >= pt, "{}: records sorted by eventTime", f.path);
            }
            prev = Some((&f.path, t));
        }
    }
    assert_eq!(late, 1);

    // Digests list every log file once, with the SHA-256 of its uncompressed content.
    let hashes: BTreeMap<&str, String> = ar
        .log_files
        .iter()
        .map(|(p, body)| (p.as_str(), rng::to_hex(&digest::sha256(body.as_bytes()))))
        .collect();
    let mut listed = BTreeSet::new();
    for (path, d) in &ar.digests {
        assert!(d.get("Records").is_none());
        assert_eq!(s(d, &["digestS3Object"]), path);
        let (ds, de) = (
            parse_iso(s(d, &["digestStartTime"])),
            parse_iso(s(d, &["digestEndTime"])),
        );
        assert_eq!(de - ds, 3600);
        for lf in d["logFiles"].as_array().expect("logFiles") {
            let obj = s(lf, &["s3Object"]);
            assert_eq!(hashes.get(obj), Some(&s(lf, &["hashValue"]).to_string()), "{obj}");
            assert!(!s(lf, &["s3Bucket"]).is_empty());
            assert!(listed.insert(obj.to_string()), "{obj} listed twice");
            let kt = parse_key_minute(obj.rsplit('/').next().unwrap_or("").split('_').nth(3).unwrap_or(""));
            assert!(
                (ds..de).contains(&kt),
                "{obj} listed in the digest of its delivery hour"
            );
        }
    }
    assert_eq!(listed.len(), ar.log_files.len());
}

#[test]
fn background_size_and_mix() {
    let dir = TempDir::new("size");
    let sum = generate(&opts(&dir.0, 3, 2.0, 72, vec![])).expect("generate");
    assert_eq!(sum.scenario_records, 0);
    let avg = sum.bytes_uncompressed as f64 / sum.records as f64;
    assert!((1000.0..=1500.0).contains(&avg), "average record size {avg}");
    let mb = sum.bytes_uncompressed as f64 / 1e6;
    assert!((1.95..2.1).contains(&mb), "uncompressed MB {mb}");
    assert!(sum.bytes_compressed * 4 < sum.bytes_uncompressed);
    let ar = load(&dir.0);
    let mut per_file: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut assume, mut mfa_benign, mut sources) = (0usize, 0usize, BTreeSet::new());
    for f in &ar.logs {
        *per_file.entry(&f.path).or_default() += 1;
        let r = &f.rec;
        let name = s(r, &["eventName"]);
        sources.insert(s(r, &["eventSource"]).to_string());
        if name == "AssumeRole" {
            assert!(r["requestParameters"].get("serialNumber").is_none());
            assume += 1;
        }
        let msg = s(r, &["errorMessage"]);
        assert!(!msg.contains("explicit deny") && !msg.contains("MultiFactorAuthentication"));
        if name == "ConsoleLogin" {
            mfa_benign += 1;
            if r["responseElements"]["ConsoleLogin"] == "Failure" {
                assert_eq!(r["additionalEventData"]["MFAUsed"], "No", "password failures only");
            } else {
                assert_eq!(r["additionalEventData"]["MFAUsed"], "Yes");
            }
        } else if name == "GetSessionToken" || msg.contains("no identity-based policy allows") {
            mfa_benign += 1;
        }
    }
    for (path, n) in &per_file {
        assert!((100..=1500).contains(n), "{path}: {n} records");
    }
    let n = ar.logs.len() as f64;
    let assume_share = assume as f64 / n;
    assert!((0.12..0.30).contains(&assume_share), "AssumeRole share {assume_share}");
    let benign = mfa_benign as f64 / n;
    assert!((0.008..0.035).contains(&benign), "MFA-relevant benign share {benign}");
    assert!(sources.len() >= 10, "{sources:?}");
}

#[test]
fn hours_below_50_with_scenarios_is_rejected() {
    let dir = TempDir::new("bad");
    let err = generate(&opts(&dir.0, 1, 0.1, 49, vec![Scenario::DeviceDeleted])).expect_err("must fail");
    assert!(matches!(err, GenError::BadOptions(_)), "{err}");
    assert!(read_tree(&dir.0).is_empty(), "nothing written on bad options");
    let err = generate(&opts(&dir.0, 1, -1.0, 60, vec![])).expect_err("negative mb");
    assert!(matches!(err, GenError::BadOptions(_)));
    let ok = generate(&opts(&dir.0, 1, 0.05, 2, vec![])).expect("short archive without scenarios");
    assert!(ok.files >= 1);
}

#[test]
fn scenario_names_round_trip() {
    for s in Scenario::ALL {
        assert_eq!(s.name().parse::<Scenario>().expect("parse"), s);
        assert!(!s.target_user().is_empty() && !s.description().is_empty());
    }
    assert_eq!(
        "Clock-Drift".parse::<Scenario>().expect("lenient"),
        Scenario::ClockDrift
    );
    let err = "nope".parse::<Scenario>().expect_err("unknown").to_string();
    assert!(
        err.contains("nope") && err.contains("two_devices_one_removed") && err.contains("extend_48h"),
        "{err}"
    );
}

#[test]
fn every_scenario_has_its_records() {
    let dir = TempDir::new("scen");
    let hours = 60;
    let sum = generate(&opts(&dir.0, 9, 0.3, hours, Scenario::ALL.to_vec())).expect("generate");
    let ar = load(&dir.0);
    let start = since().timestamp();
    let e = start + i64::from(hours) * 3600;
    let (h, m) = (3600, 60);
    let by = |u: &str| -> Vec<&Value> {
        let mut v: Vec<&Value> = ar
            .logs
            .iter()
            .map(|f| &f.rec)
            .filter(|r| user_of(r) == u || r["requestParameters"]["userName"] == u)
            .collect();
        v.sort_by_key(|r| time_of(r));
        v
    };
    let named = |recs: &[&Value], name: &str| -> usize { recs.iter().filter(|r| r["eventName"] == name).count() };
    let gst_fail = |recs: &[&Value], msg: &str| -> Vec<i64> {
        recs.iter()
            .filter(|r| {
                r["eventName"] == "GetSessionToken" && r["errorCode"] == "AccessDenied" && r["errorMessage"] == msg
            })
            .map(|r| time_of(r))
            .collect()
    };
    let console = |recs: &[&Value], outcome: &str, mfa: &str| -> Vec<i64> {
        recs.iter()
            .filter(|r| {
                r["eventName"] == "ConsoleLogin"
                    && r["responseElements"]["ConsoleLogin"] == outcome
                    && r["additionalEventData"]["MFAUsed"] == mfa
            })
            .map(|r| time_of(r))
            .collect()
    };
    let primary = sum.accounts[0].as_str();

    // Scenario records are exactly the records of scenario users (and ops-admin).
    let mut scen_users: BTreeSet<String> = [
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
        "frank",
        "grace",
        "henry",
        "ops-admin",
    ]
    .map(String::from)
    .into();
    scen_users.extend((1..=6).map(|i| format!("team-{i:02}")));
    scen_users.extend((1..=6).map(|i| format!("org-user-{i}")));
    let n_scen = ar.logs.iter().filter(|f| scen_users.contains(user_of(&f.rec))).count();
    assert_eq!(n_scen as u64, sum.scenario_records);
    for f in &ar.logs {
        if scen_users.contains(user_of(&f.rec)) {
            assert!(f.path.contains("/us-east-1/"), "{}", f.path);
            assert_eq!(f.rec["awsRegion"], "us-east-1");
        }
    }

    // 1 DeviceDeleted.
    let alice = by("alice");
    let serial = format!("arn:aws:iam::{primary}:mfa/alice");
    let deact: Vec<&&Value> = alice
        .iter()
        .filter(|r| r["eventName"] == "DeactivateMFADevice")
        .collect();
    assert_eq!(deact.len(), 1);
    assert_eq!(deact[0]["requestParameters"]["serialNumber"], serial.as_str());
    assert_eq!(user_of(deact[0]), "ops-admin");
    assert_eq!(
        deact[0]["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"],
        "true"
    );
    assert_eq!(time_of(deact[0]), e - 5 * h);
    let fails = gst_fail(&alice, shapes::MSG_BAD_SERIAL);
    assert_eq!(fails.len(), 6);
    assert!(fails.iter().all(|&t| t >= e - 4 * h && t <= e - h));
    assert_eq!(console(&alice, "Success", "No"), vec![e - 3 * h]);
    let denials: Vec<&&Value> = alice.iter().filter(|r| is_explicit_deny(r)).collect();
    assert_eq!(denials.len(), 8);
    for d in &denials {
        assert_eq!(
            d["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"],
            "false"
        );
        let code = s(d, &["errorCode"]);
        assert!(["AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation"].contains(&code));
        if d["eventSource"] == "ec2.amazonaws.com" {
            assert_eq!(code, "Client.UnauthorizedOperation");
            assert!(s(d, &["errorMessage"]).starts_with("You are not authorized to perform this operation. User: "));
        }
    }
    assert_eq!(console(&alice, "Success", "Yes").len(), 2);

    // 2 GroupMfaNoDevice.
    let bob = by("bob");
    let put: Vec<&Value> = ar
        .logs
        .iter()
        .map(|f| &f.rec)
        .filter(|r| r["eventName"] == "PutGroupPolicy" && r["requestParameters"]["groupName"] == "engineers")
        .collect();
    assert_eq!(put.len(), 1);
    let doc = put[0]["requestParameters"]["policyDocument"]
        .as_str()
        .expect("policyDocument is a string");
    assert!(doc.contains("\"aws:MultiFactorAuthPresent\": \"false\"") && doc.contains('\n'));
    assert_eq!(named(&bob, "CreateUser"), 1);
    assert_eq!(named(&bob, "AddUserToGroup"), 1);
    assert_eq!(bob.iter().filter(|r| is_explicit_deny(r)).count(), 10);
    assert_eq!(console(&bob, "Success", "No").len(), 2);
    assert!(bob.iter().all(|r| !s(r, &["eventName"]).contains("MFADevice")));

    // 3 ClockDrift.
    let carol = by("carol");
    let bad = gst_fail(&carol, shapes::MSG_BAD_CODE);
    assert_eq!(bad.len(), 8);
    let cfail = console(&carol, "Failure", "Yes");
    assert_eq!(cfail.len(), 3);
    let (first, last) = (bad[0].min(cfail[0]), bad[7].max(cfail[2]));
    let between = carol
        .iter()
        .filter(|r| {
            let t = time_of(r);
            t > first
                && t < last
                && r.get("errorCode").is_none()
                && (r["eventName"] == "GetSessionToken" || r["responseElements"]["ConsoleLogin"] == "Success")
        })
        .count();
    assert_eq!(between, 4, "successes interleaved with the failures");
    let resync: Vec<&&Value> = carol.iter().filter(|r| r["eventName"] == "ResyncMFADevice").collect();
    assert_eq!(resync.len(), 1);
    assert_eq!(user_of(resync[0]), "carol");
    assert!(time_of(resync[0]) > last);

    // 4 AccountWide.
    for i in 1..=6 {
        let u = format!("team-{i:02}");
        let recs = by(&u);
        let f = console(&recs, "Failure", "Yes");
        assert!((2..=4).contains(&f.len()), "{u}");
        assert!(f.iter().all(|&t| t >= e - 2 * h && t < e - 90 * m));
        assert!(console(&recs, "Success", "Yes").iter().any(|&t| t >= e - h));
        assert!(recs.iter().all(|r| r["recipientAccountId"] == primary));
    }

    // 5 OrgMultiAccount.
    let org = sum.org_id.as_deref().expect("org id");
    let mut accts = BTreeSet::new();
    for i in 1..=6 {
        let u = format!("org-user-{i}");
        let recs = by(&u);
        let f = console(&recs, "Failure", "Yes");
        assert!((2..=3).contains(&f.len()), "{u}");
        let acct = s(recs[0], &["recipientAccountId"]).to_string();
        assert_eq!(acct, sum.accounts[(i - 1) / 2]);
        assert!(recs.iter().all(|r| r["recipientAccountId"] == acct.as_str()));
        accts.insert(acct);
    }
    assert_eq!(accts.len(), 3);
    assert!(ar.logs.iter().all(|f| f.path.starts_with(&format!("AWSLogs/{org}/"))));

    // 6 ManagedPolicyVersion.
    let dave = by("dave");
    let cpv: Vec<&Value> = ar
        .logs
        .iter()
        .map(|f| &f.rec)
        .filter(|r| r["eventName"] == "CreatePolicyVersion")
        .collect();
    assert_eq!(cpv.len(), 1);
    assert_eq!(cpv[0]["requestParameters"]["setAsDefault"], true);
    assert_eq!(
        cpv[0]["requestParameters"]["policyArn"],
        format!("arn:aws:iam::{primary}:policy/FinanceAccess").as_str()
    );
    assert_eq!(cpv[0]["responseElements"]["policyVersion"]["versionId"], "v2");
    assert!(s(cpv[0], &["requestParameters", "policyDocument"]).contains("MultiFactorAuthPresent"));
    let cp: Vec<&Value> = ar
        .logs
        .iter()
        .map(|f| &f.rec)
        .filter(|r| r["eventName"] == "CreatePolicy")
        .collect();
    assert_eq!(cp.len(), 1);
    assert!(!s(cp[0], &["requestParameters", "policyDocument"]).contains("MultiFactor"));
    let dd: Vec<&&Value> = dave.iter().filter(|r| is_explicit_deny(r)).collect();
    assert_eq!(dd.len(), 12);
    for d in &dd {
        assert!(s(d, &["userIdentity", "accessKeyId"]).starts_with("AKIA"));
        assert!(d["userIdentity"].get("sessionContext").is_none());
        assert!(time_of(d) >= e - 2 * h - 50 * m && time_of(d) <= e - 30 * m);
    }
    let ok_calls = dave
        .iter()
        .filter(|r| r.get("errorCode").is_none() && user_of(r) == "dave")
        .count();
    assert!(ok_calls >= 15, "{ok_calls} successful calls before the change");
    assert!(dave.iter().all(|r| !s(r, &["eventName"]).contains("MFA")));

    // 7 Extend48h.
    let erin = by("erin");
    let fails = gst_fail(&erin, shapes::MSG_BAD_SERIAL);
    assert_eq!(fails.len(), 5);
    let removed: Vec<i64> = erin
        .iter()
        .filter(|r| r["eventName"] == "DeactivateMFADevice" || r["eventName"] == "DeleteVirtualMFADevice")
        .map(|r| time_of(r))
        .collect();
    let last_fail = fails[4];
    assert!(!removed.is_empty());
    assert!(
        removed
            .iter()
            .all(|&t| last_fail - t > 24 * h && last_fail - t < 48 * h)
    );

    // 8 NegativeControl.
    let frank = by("frank");
    assert!(console(&frank, "Failure", "Yes").is_empty());
    assert_eq!(console(&frank, "Failure", "No").len(), 3);
    assert!(frank.iter().all(|r| !is_explicit_deny(r)));
    assert!(
        frank
            .iter()
            .all(|r| !(r["eventSource"] == "sts.amazonaws.com" && r.get("errorCode").is_some()))
    );
    let plain: Vec<&&Value> = frank
        .iter()
        .filter(|r| s(r, &["errorMessage"]).contains("because no identity-based policy allows"))
        .collect();
    assert_eq!(plain.len(), 6);
    assert!(
        plain
            .iter()
            .all(|r| r["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "true")
    );
    assert!(console(&frank, "Success", "Yes").len() >= 6);

    // 9 LateDelivery.
    let late: Vec<&Found> = ar
        .logs
        .iter()
        .filter(|f| f.rec["eventName"] == "DeactivateMFADevice" && f.rec["requestParameters"]["userName"] == "grace")
        .collect();
    assert_eq!(late.len(), 1);
    assert_eq!(time_of(&late[0].rec), e - 6 * h);
    assert_eq!(late[0].key_time, e - 3 * h + 45 * m);
    let grace_fails = gst_fail(&by("grace"), shapes::MSG_BAD_SERIAL);
    assert_eq!(grace_fails.len(), 5);
    assert_eq!(grace_fails[0], e - 5 * h - 30 * m);
    assert_eq!(grace_fails[4], e - 4 * h);
    assert!(late[0].key_time > grace_fails[4] && late[0].key_time - grace_fails[4] <= 2 * h);
    let same_file = ar.logs.iter().filter(|f| f.path == late[0].path).count();
    assert_eq!(
        late[0].position + 1,
        same_file,
        "appended after the file's sorted records"
    );

    // 10 TwoDevicesOneRemoved.
    let henry = by("henry");
    let phone = format!("arn:aws:iam::{primary}:mfa/henry-phone");
    let enabled: BTreeSet<&str> = henry
        .iter()
        .filter(|r| r["eventName"] == "EnableMFADevice")
        .map(|r| s(r, &["requestParameters", "serialNumber"]))
        .collect();
    assert_eq!(enabled, BTreeSet::from([phone.as_str(), "GAHT12345678"]));
    let deact: Vec<&str> = henry
        .iter()
        .filter(|r| r["eventName"] == "DeactivateMFADevice")
        .map(|r| s(r, &["requestParameters", "serialNumber"]))
        .collect();
    assert_eq!(deact, vec![phone.as_str()]);
    let hf: Vec<&&Value> = henry
        .iter()
        .filter(|r| r["eventName"] == "GetSessionToken" && r.get("errorCode").is_some())
        .collect();
    assert_eq!(hf.len(), 6);
    assert!(
        hf.iter()
            .all(|r| r["requestParameters"]["serialNumber"] == phone.as_str())
    );
    let hw_ok = henry
        .iter()
        .filter(|r| r["additionalEventData"]["MFAIdentifier"] == "GAHT12345678" && time_of(r) > e - 5 * h)
        .count();
    assert_eq!(hw_ok, 2);
}

#[test]
fn dense_plan_fills_every_slot_within_file_limits() {
    let o = opts(Path::new("/nonexistent"), 4, 150.0, 2, vec![]);
    let start = since().timestamp();
    let mut r = Rng::new(1);
    let specs = plan_background(&o, &mut r, 1, start, start + 2 * 3600);
    let slots: BTreeSet<(usize, i64)> = specs.iter().map(|s| (s.region, s.slot)).collect();
    assert_eq!(slots.len(), 3 * 24, "every slot of every region has a file");
    let total: u64 = specs.iter().map(|s| s.budget).sum();
    assert!(total.abs_diff(150_000_000) < 1000);
    for s in &specs {
        let recs = s.budget as f64 / AVG_RECORD_BYTES;
        assert!((100.0..=1500.0).contains(&recs), "{recs} records");
        assert!(s.key_time > s.slot + SLOT && s.key_time <= s.slot + SLOT + 4 * 60);
        assert_eq!(s.key_time % 60, 0);
    }
    assert!(
        specs.iter().any(|s| s.sub > 0),
        "busy slots are split over several files"
    );
}

#[test]
fn realistic_entropy_compresses_like_real_trails() {
    let ratio = |realistic: bool| {
        let d = TempDir::new(if realistic { "entropy-real" } else { "entropy-default" });
        let sum = generate(&GenOptions {
            realistic,
            ..opts(&d.0, 3, 3.0, 50, vec![])
        })
        .expect("generate");
        sum.bytes_uncompressed as f64 / sum.bytes_compressed as f64
    };
    let (plain, real) = (ratio(false), ratio(true));
    // Real CloudTrail compresses about 5:1 (DESIGN §1); the default background more.
    assert!(plain > 6.0, "default {plain:.2}:1");
    assert!((4.5..5.8).contains(&real), "realistic {real:.2}:1");
}
