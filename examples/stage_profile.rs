//! Per-stage cost of the parse hot path on one thread, as in a run: each file is inflated
//! into a reused buffer and every stage then runs on that buffer while it is in cache.
//! Prints seconds per GB of JSON, the median of `RUNS` (default 5) passes over all files.
//!
//!   cargo run --release --example stage_profile -- bench-data/gen-real-1000mb
use mfatrail::decode::Inflater;
use mfatrail::parse::scan::{Shape, for_each_record};
use mfatrail::parse::{FileInfo, ParseOptions, Worker, marker_hits, parse_file};
use std::time::{Duration, Instant};

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.to_string_lossy().ends_with(".json.gz") && !p.to_string_lossy().contains("Digest") {
            out.push(p);
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: stage_profile FOLDER");
    let runs: usize = std::env::var("RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let mut paths = Vec::new();
    files(std::path::Path::new(&dir), &mut paths);
    paths.sort();
    let raw: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).expect("read")).collect();
    let mut inf = Inflater::new();
    let mut buf = Vec::new();
    let mut bytes = 0usize;
    for r in &raw {
        inf.inflate(r, &mut buf, u64::MAX).expect("inflate");
        bytes += buf.len();
    }
    let gb = bytes as f64 / 1e9;
    println!(
        "{} files, {:.3} GB JSON, median of {runs} passes, seconds per GB",
        raw.len(),
        gb
    );

    const STAGES: [&str; 4] = ["inflate", "structural scan", "marker search", "fused scan + prefilter"];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); STAGES.len()];
    let (mut records, mut hits, mut candidates, mut cand_bytes) = (0usize, 0usize, 0usize, 0usize);
    for run in 0..runs {
        let mut t = [Duration::ZERO; STAGES.len()];
        for r in &raw {
            let s = Instant::now();
            inf.inflate(r, &mut buf, u64::MAX).expect("inflate");
            t[0] += s.elapsed();
            let s = Instant::now();
            let mut n = 0usize;
            for_each_record(&buf, Shape::Records, |_, _| n += 1).expect("balanced");
            t[1] += s.elapsed();
            let s = Instant::now();
            let h = marker_hits(&buf);
            t[2] += s.elapsed();
            #[cfg(target_arch = "x86_64")]
            if mfatrail::parse::scan::fused_available() {
                let s = Instant::now();
                let (mut c, mut cb) = (0usize, 0usize);
                mfatrail::parse::scan::for_each_record_fused(&buf, Shape::Records, |a, b, cand| {
                    c += usize::from(cand);
                    cb += if cand { b - a } else { 0 };
                })
                .expect("available")
                .expect("balanced");
                t[3] += s.elapsed();
                if run == 0 {
                    candidates += c;
                    cand_bytes += cb;
                }
            }
            if run == 0 {
                records += n;
                hits += h;
            }
        }
        for (v, d) in times.iter_mut().zip(t) {
            v.push(d.as_secs_f64() / gb);
        }
    }
    for (name, v) in STAGES.iter().zip(times) {
        println!("{name:<28} {:>8.3}", median(v));
    }
    println!(
        "{records} records, {hits} marker hits; fused: {candidates} candidate records ({:.1} % of bytes)",
        cand_bytes as f64 / bytes as f64 * 100.0
    );

    let opts = ParseOptions {
        window: mfatrail::event::TimeRange::OPEN,
        full_parse: false,
        max_file_bytes: u64::MAX,
    };
    let mut w = Worker::default();
    let mut whole = Vec::new();
    let mut kept = 0usize;
    for _ in 0..runs {
        let s = Instant::now();
        kept = 0;
        for (r, p) in raw.iter().zip(&paths) {
            let uri = p.to_string_lossy();
            kept += parse_file(
                r,
                FileInfo {
                    uri: &uri,
                    key_time: None,
                },
                &opts,
                &mut w,
            )
            .0
            .len();
        }
        whole.push(s.elapsed().as_secs_f64() / gb);
    }
    println!(
        "{:<28} {:>8.3}  ({kept} events kept)",
        "parse_file (all stages)",
        median(whole)
    );
}
