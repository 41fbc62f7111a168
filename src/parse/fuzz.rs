//! Mutation fuzzing of the per-file parse entry point (`parse_file`), as a
//! test: cargo-fuzz needs a nightly toolchain this project cannot fetch.
//! Seeds are the bad-input corpus and valid CloudTrail snippets; each round
//! mutates one (bit flips, structural bytes, escapes, cuts, splices) and
//! checks that the parse does not panic, that every record is accounted for,
//! that the byte pre-filter keeps exactly what a full parse keeps, and that the
//! SIMD scanner agrees with a plain byte-at-a-time reference.
//! `MFATRAIL_FUZZ_ITERS` sets the rounds (default 2,000, a few seconds).

use super::scan::{Shape, Unbalanced, detect_shape, for_each_record};
use super::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: small, fast, reproducible.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte-at-a-time reference for `for_each_record`.
fn reference(buf: &[u8], shape: Shape) -> (Vec<(usize, usize)>, bool) {
    let target = match shape {
        Shape::Records => 2,
        Shape::Array => 1,
        Shape::Lines => 0,
    };
    let (mut depth, mut in_str, mut esc, mut start, mut bad) = (0u32, false, false, 0usize, false);
    let mut out = Vec::new();
    for (i, &b) in buf.iter().enumerate() {
        // As in the SIMD scanner (simdjson's rule): a run of backslashes of odd
        // length escapes the next byte, and escaping only matters for quotes.
        // Valid JSON has backslashes only inside strings, where both agree.
        if b == b'\\' {
            esc = !esc;
            continue;
        }
        let escaped = std::mem::take(&mut esc);
        if in_str {
            if b == b'"' && !escaped {
                in_str = false;
            }
            continue;
        }
        if b == b'"' && escaped {
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                if depth == target {
                    start = i;
                }
                depth += 1;
            }
            b'}' | b']' => {
                if depth == 0 {
                    bad = true;
                    continue;
                }
                depth -= 1;
                if depth == target && buf[start] == b'{' {
                    out.push((start, i + 1));
                }
            }
            _ => {}
        }
    }
    (out, depth == 0 && !in_str && !bad)
}

fn seeds() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        br#"{"Records":[{"eventTime":"2026-11-27T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventID":"a","userIdentity":{"type":"IAMUser","userName":"u"},"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"Yes"},"errorMessage":"Failed authentication"},{"eventTime":"2026-11-27T10:00:01Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","eventID":"n","userAgent":"a\"b\\c{d}[e]"},{"eventTime":"2026-11-27T10:00:02Z","eventSource":"iam.amazonaws.com","eventName":"PutUserPolicy","eventID":"p","requestParameters":{"userName":"u","policyName":"x","policyDocument":"{\"Statement\":{\"Effect\":\"Deny\",\"NotAction\":\"iam:*\",\"Condition\":{\"BoolIfExists\":{\"aws:MultiFactorAuthPresent\":\"false\"}}}}"}}]}"#.to_vec(),
        b"{\"eventTime\":\"2026-11-27T10:00:00Z\",\"eventSource\":\"sts.amazonaws.com\",\"eventName\":\"GetSessionToken\",\"eventID\":\"s\",\"errorCode\":\"AccessDenied\",\"errorMessage\":\"MultiFactorAuthentication failed with invalid MFA one time pass code. \"}\n{\"eventTime\":\"2026-11-27T10:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"ListBuckets\",\"eventID\":\"d\",\"errorCode\":\"AccessDenied\",\"errorMessage\":\"x with an explicit deny in an identity-based policy\",\"userIdentity\":{\"accessKeyId\":\"AKIAX\"}}\n".to_vec(),
    ];
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/bad");
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        for p in files {
            if let Ok(b) = std::fs::read(&p)
                && b.len() < 200_000
            {
                v.push(b);
            }
        }
    }
    v
}

fn mutate(rng: &mut Rng, data: &mut Vec<u8>, pool: &[Vec<u8>]) {
    const SPECIAL: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b"\\",
        b",",
        b":",
        b"\\u",
        b"\\\"",
        b"\xff",
        b"\n",
        b"ConsoleLogin",
        b"explicit deny",
        b"null",
        b"1e999",
    ];
    for _ in 0..1 + rng.below(4) {
        let n = data.len();
        match rng.below(7) {
            0 if n > 0 => {
                let i = rng.below(n);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let s = SPECIAL[rng.below(SPECIAL.len())];
                let i = rng.below(n + 1);
                data.splice(i..i, s.iter().copied());
            }
            2 if n > 0 => {
                let i = rng.below(n);
                let j = (i + rng.below(64)).min(n);
                data.drain(i..j);
            }
            3 if n > 0 => data.truncate(rng.below(n)),
            4 if n > 0 => {
                let i = rng.below(n);
                let j = (i + rng.below(256)).min(n);
                let piece = data[i..j].to_vec();
                let k = rng.below(n + 1);
                data.splice(k..k, piece);
            }
            5 => {
                let other = &pool[rng.below(pool.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let j = (i + rng.below(512)).min(other.len());
                    let k = rng.below(n + 1);
                    data.splice(k..k, other[i..j].iter().copied());
                }
            }
            _ => {
                let i = rng.below(n + 1);
                data.insert(i, rng.next() as u8);
            }
        }
    }
}

fn kept_ids(data: &[u8], full: bool) -> (Vec<String>, RunStats) {
    let opts = ParseOptions {
        window: TimeRange::OPEN,
        full_parse: full,
        max_file_bytes: 1 << 22,
    };
    let file = FileInfo {
        uri: "fuzz",
        key_time: None,
    };
    let (cols, stats) = parse_file(data, file, &opts, &mut Worker::default());
    assert_eq!(cols.len() as u64, stats.records_kept);
    (cols.into_iter().map(|r| r.event_id).collect(), stats)
}

/// The streaming path over `data` in chunks of `chunk` bytes: what it keeps and counts.
fn streamed_ids(data: &[u8], chunk: usize) -> (Vec<String>, RunStats) {
    // A record limit above every input here: an oversized record is its own unit test.
    stream_ids(
        data,
        Limits {
            chunk,
            max_record: 1 << 23,
        },
    )
}

#[test]
fn fuzz_parse_file() {
    let iters: usize = std::env::var("MFATRAIL_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let pool = seeds();
    assert!(pool.len() >= 10, "corpus seeds missing");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..iters {
        let mut data = pool[rng.below(pool.len())].clone();
        // Mostly work on inflated JSON: gzip bytes rarely survive a mutation.
        if data.starts_with(&[0x1f, 0x8b]) {
            let mut w = Worker::default();
            data = w.decode(&data, 1 << 22).map(<[u8]>::to_vec).unwrap_or(data);
        }
        mutate(&mut rng, &mut data, &pool);
        // Every other round without the fused scan: the separate marker pass.
        TEDDY_ONLY.with(|t| t.set(round % 2 == 1));
        let (fast, s_fast) = kept_ids(&data, false);
        TEDDY_ONLY.with(|t| t.set(false));
        let (full, s_full) = kept_ids(&data, true);
        assert!(
            s_fast.records_balanced() && s_full.records_balanced(),
            "round {round}: unbalanced stats\n{s_fast:?}"
        );
        assert_eq!(
            fast,
            full,
            "round {round}: the pre-filter changed what is kept:\n{}",
            String::from_utf8_lossy(&data)
        );
        // Chunk edges anywhere: the streaming path keeps and counts exactly the same.
        let chunk = 1 + rng.below(200);
        let (streamed, s_stream) = if is_gzip(&data) {
            (fast.clone(), s_fast.clone())
        } else {
            streamed_ids(&data, chunk)
        };
        assert!(
            s_stream.records_balanced(),
            "round {round}: unbalanced stats (streamed)"
        );
        let got = (&streamed, s_stream.records, s_stream.records_malformed);
        let want = (&fast, s_fast.records, s_fast.records_malformed);
        if got != want {
            let path = std::env::temp_dir().join("mfatrail-fuzz-failure.bin");
            let _ = std::fs::write(&path, &data);
            panic!(
                "round {round}, chunk {chunk}: streaming {got:?} differs from one-shot {want:?}; input in {}\n{:?}\n{:?}",
                path.display(),
                s_stream.problem_examples,
                s_fast.problem_examples
            );
        }
        if let Some(shape) = detect_shape(&data) {
            let mut got = Vec::new();
            let r: Result<(), Unbalanced> = for_each_record(&data, shape, |a, b| got.push((a, b)));
            let (want, ok) = reference(&data, shape);
            if got != want {
                let _ = std::fs::write(std::env::temp_dir().join("mfatrail-fuzz-failure.bin"), &data);
            }
            assert_eq!(got, want, "round {round}: scanner differs from the reference");
            assert_eq!(r.is_ok(), ok, "round {round}: balance verdict differs");
            // Every kernel this CPU has (SSE2 baseline, AVX2, AVX-512).
            #[cfg(target_arch = "x86_64")]
            for width in [scan::Width::Baseline, scan::Width::Avx2, scan::Width::Avx512] {
                let mut got = Vec::new();
                let Some(r) = scan::for_each_record_width(&data, shape, width, |a, b| got.push((a, b))) else {
                    continue;
                };
                assert_eq!(
                    (got, r.is_ok()),
                    (want.clone(), ok),
                    "round {round}: the {width:?} kernel differs"
                );
            }
        }
    }
}
