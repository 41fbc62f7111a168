//! Criterion benches: parse throughput (decode + scan + parse of candidates)
//! per decompressed byte, the same with a full parse, the whole pipeline
//! (list → sorted events) on a generated archive, and the analysis (index built
//! once, every principal diagnosed: what `scan` does) over the same number of
//! events spread over 100, 1,000 and 10,000 failing users.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use criterion::BenchmarkId;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfatrail::event::{EventClass, EventRow, MINUTE, Outcome, TimeRange};
use mfatrail::index::Index;
use mfatrail::parse::{FileInfo, ParseOptions, Worker, parse_file};
use mfatrail::pipeline::{LoadOptions, load};
use mfatrail::rules::{DiagnoseOptions, diagnose};
use mfatrail::source::Window;
use mfatrail_gen::{GenOptions, Scenario, generate};

fn archive() -> (tempfile::TempDir, Vec<Vec<u8>>, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(&GenOptions {
        out: dir.path().to_path_buf(),
        seed: 11,
        mb: 40.0,
        since: Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).single().expect("time"),
        hours: 52,
        accounts: 1,
        scenarios: vec![Scenario::DeviceDeleted, Scenario::ClockDrift],
        realistic: false,
    })
    .expect("generate");
    let mut files = Vec::new();
    let mut stack = vec![dir.path().join("AWSLogs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("CloudTrail-Digest") {
                    stack.push(p);
                }
            } else {
                files.push(std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut w = Worker::default();
    let opts = parse_opts(false);
    let bytes = files
        .iter()
        .map(|f| {
            parse_file(
                f,
                FileInfo {
                    uri: "x",
                    key_time: None,
                },
                &opts,
                &mut w,
            )
            .1
            .bytes_decompressed
        })
        .sum();
    (dir, files, bytes)
}

fn parse_opts(full: bool) -> ParseOptions {
    ParseOptions {
        window: TimeRange::OPEN,
        full_parse: full,
        max_file_bytes: 1 << 31,
    }
}

fn benches(c: &mut Criterion) {
    let (dir, files, bytes) = archive();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    for (name, full) in [("prefilter", false), ("full_parse", true)] {
        let opts = parse_opts(full);
        g.bench_function(name, |b| {
            let mut w = Worker::default();
            b.iter(|| {
                files
                    .iter()
                    .map(|f| {
                        parse_file(
                            f,
                            FileInfo {
                                uri: "x",
                                key_time: None,
                            },
                            &opts,
                            &mut w,
                        )
                        .0
                        .len()
                    })
                    .sum::<usize>()
            })
        });
    }
    g.bench_function("inflate_only", |b| {
        let mut w = Worker::default();
        b.iter(|| {
            files
                .iter()
                .map(|f| w.decode(f, 1 << 31).map(|j| j.len()).unwrap_or(0))
                .sum::<usize>()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    let opts = LoadOptions {
        sources: vec![PathBuf::from(dir.path())],
        window: Window::open(0),
        full_parse: false,
        max_file_bytes: 1 << 31,
        filter_events: true,
        threads: 0,
        progress: false,
        s3: Default::default(),
    };
    g.bench_function("load", |b| b.iter(|| load(&opts).expect("load").events.len()));
    g.finish();
}

/// `total` kept events over `users` IAM users in 10 accounts, over a week: each user has an
/// enabled device, typos fixed at once, successes, a run of real failures, and a denial.
fn synthetic(users: usize, total: usize) -> Vec<EventRow> {
    let per_user = (total / users).max(6);
    let mut out = Vec::with_capacity(users * per_user);
    for u in 0..users {
        let acct = format!("{:012}", 100_000_000_000u64 + (u % 10) as u64);
        let name = format!("user-{u:05}");
        let serial = format!("arn:aws:iam::{acct}:mfa/{name}");
        let start = 1_795_000_000_000i64 + (u as i64 % 500) * 17 * MINUTE;
        for k in 0..per_user {
            let t = start + k as i64 * (7 * 24 * 60 / per_user as i64).max(1) * MINUTE;
            let (class, source, event) = match k % 6 {
                0 if k == 0 => (EventClass::DeviceEnabled, "iam.amazonaws.com", "EnableMFADevice"),
                1 | 3 => (EventClass::MfaSuccess, "sts.amazonaws.com", "GetSessionToken"),
                5 => (EventClass::MfaRequiredDenied, "s3.amazonaws.com", "ListBuckets"),
                _ => (EventClass::MfaFailure, "sts.amazonaws.com", "GetSessionToken"),
            };
            out.push(EventRow {
                event_time: t,
                event_source: source.into(),
                event_name: event.into(),
                class,
                outcome: if matches!(class, EventClass::MfaFailure | EventClass::MfaRequiredDenied) {
                    Outcome::Failure
                } else {
                    Outcome::Success
                },
                error_code: None,
                error_message: None,
                identity_type: Some("IAMUser".into()),
                user_name: Some(name.clone()),
                role_name: None,
                session_name: None,
                principal_arn: None,
                account_id: Some(acct.clone()),
                access_key_id: None,
                recipient_account_id: Some(acct.clone()),
                aws_region: Some("us-east-1".into()),
                source_ip: None,
                user_agent: None,
                mfa_used: None,
                mfa_authenticated: Some(false),
                target_user: (class == EventClass::DeviceEnabled).then(|| name.clone()),
                target_role: None,
                mfa_serial: (class != EventClass::MfaRequiredDenied).then(|| serial.clone()),
                credential_type: None,
                denied_action: (class == EventClass::MfaRequiredDenied).then(|| "s3:ListAllMyBuckets".into()),
                deny_policy: (class == EventClass::MfaRequiredDenied).then(|| "identity".into()),
                policy_arn: None,
                group_name: None,
                policy_name: None,
                policy_document: None,
                policy_version: None,
                set_as_default: None,
                event_id: format!("{u}-{k}"),
                request_id: None,
                source_object: "bench".into(),
            });
        }
    }
    mfatrail::frame::sort_events(&mut out);
    out
}

/// What `scan` does after the read: the index once, then every principal diagnosed.
fn analysis(c: &mut Criterion) {
    let mut g = c.benchmark_group("scan_analysis");
    g.sample_size(10);
    let total = 120_000;
    for users in [100usize, 1_000, 10_000] {
        let events = synthetic(users, total);
        g.throughput(Throughput::Elements(users as u64));
        g.bench_with_input(BenchmarkId::from_parameter(users), &events, |b, events| {
            b.iter(|| {
                let ix = Index::build(events.clone());
                let ids: Vec<_> = ix.principals().map(|(p, _)| p).collect();
                ids.into_iter()
                    .map(|p| diagnose(&ix, p, &DiagnoseOptions::default()).causes.len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

criterion_group!(pipeline, benches, analysis);
criterion_main!(pipeline);
