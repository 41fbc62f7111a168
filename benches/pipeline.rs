//! Criterion benches: parse throughput (decode + scan + parse of candidates)
//! per decompressed byte, the same with a full parse, and the whole pipeline
//! (list → frame) on a generated archive.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mfatrail::event::TimeRange;
use mfatrail::parse::{FileInfo, ParseOptions, Worker, parse_file};
use mfatrail::pipeline::{LoadOptions, load};
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
        threads: 0,
        progress: false,
        s3: Default::default(),
    };
    g.bench_function("load", |b| b.iter(|| load(&opts).expect("load").events.len()));
    g.finish();
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
