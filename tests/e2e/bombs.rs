//! Gzip bombs: memory stays flat whatever a file declares or holds. Files whose
//! inflated size is large are decoded as a stream, so `--max-file-bytes` limits the
//! work, not the memory. The RSS bound here is a guard against regressions, far above
//! the target (the benchmark in `scripts/bench-compare.sh` quotes the real figure).
#![allow(clippy::disallowed_types)] // building bombs needs a raw deflater

use flate2::{Compress, Compression, FlushCompress};

use crate::util::run;

const EVENT: &str = r#"{"eventVersion":"1.08","eventTime":"2026-11-27T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventID":"EVID","userIdentity":{"type":"IAMUser","userName":"mallory","accountId":"111122223333"},"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"Yes"},"errorMessage":"Failed authentication","recipientAccountId":"111122223333"}"#;

const MIB: usize = 1 << 20;

/// Raw deflate blocks of `data`, ended by a full flush: byte-aligned and free of
/// back-references, so copies of it can be laid end to end.
fn blocks(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() + 1024);
    c.compress_vec(data, &mut out, FlushCompress::Full).unwrap();
    assert_eq!(c.total_in() as usize, data.len());
    out
}

/// One gzip member inflating to `head` then `copies` × `filler`, with `isize` in its
/// trailer (true or not). The CRC is computed only when the member ends before the cap.
fn member(head: &[u8], filler: &[u8], copies: usize, isize: u32, with_crc: bool) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(blocks(head));
    let fill = blocks(filler);
    for _ in 0..copies {
        out.extend_from_slice(&fill);
    }
    out.extend([0x03, 0x00]); // an empty final block
    let mut crc = flate2::Crc::new();
    if with_crc {
        crc.update(head);
        for _ in 0..copies {
            crc.update(filler);
        }
    }
    out.extend(crc.sum().to_le_bytes());
    out.extend(isize.to_le_bytes());
    out
}

fn head(id: &str) -> Vec<u8> {
    format!(r#"{{"Records":[{},"#, EVENT.replace("EVID", id)).into_bytes()
}

#[test]
fn bombs_are_streamed_in_flat_memory_and_stopped_at_the_cap() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let spaces = vec![b' '; MIB];
    // 4 GiB of blanks in one member, declared as such.
    std::fs::write(
        p.join("single.json.gz"),
        member(&head("single"), &spaces, 4096, u32::MAX, false),
    )
    .unwrap();
    // The same, but the trailer lies: it declares 100 bytes.
    std::fs::write(p.join("liar.json.gz"), member(&head("liar"), &spaces, 4096, 100, false)).unwrap();
    // 64 members of 64 MiB each, each declaring its true size.
    let first = (head("multi").len() + 64 * MIB) as u32;
    let mut multi = member(&head("multi"), &spaces, 64, first, true);
    let next = member(b"", &spaces, 64, (64 * MIB) as u32, true);
    for _ in 1..64 {
        multi.extend_from_slice(&next);
    }
    std::fs::write(p.join("multi.json.gz"), multi).unwrap();
    // One record that never ends: a string of 4 GiB (it is never held whole).
    let mut record = head("record");
    record.extend(br#"{"eventTime":"2026-11-27T10:00:01Z","eventName":"X","pad":""#);
    std::fs::write(
        p.join("record.json.gz"),
        member(&record, &vec![b'a'; MIB], 4096, u32::MAX, false),
    )
    .unwrap();
    let cap = (512 * MIB).to_string();
    let src = p.to_string_lossy().into_owned();
    let args = [
        "timeline",
        "-u",
        "mallory",
        "-s",
        &src,
        "--format",
        "json",
        "-q",
        "--threads",
        "2",
    ];
    let out = run(&[&args[..], &["--max-file-bytes", &cap]].concat());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    let i = &r["inputs"];
    // Every bomb: the events before the cap used, the file reported partial with why.
    let partial = i["files_partial"].as_array().unwrap();
    assert_eq!(partial.len(), 4, "{i}");
    for f in partial {
        assert!(f["reason"].as_str().unwrap().contains("exceeds the cap"), "{f}");
    }
    let ids: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    for id in ["single", "liar", "multi", "record"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // The endless record was let go of, not held: it never completed, so it is no record.
    assert_eq!(i["records"].as_u64(), Some(4), "{i}");
    assert!(i["bytes_decompressed"].as_u64().unwrap() >= 4 * 512 * MIB as u64, "{i}");
    let rss = i["peak_rss_bytes"].as_u64().expect("peak RSS reported on Linux");
    // Holding any one of them whole would take 512 MiB.
    assert!(rss < 300 * MIB as u64, "peak RSS {} MiB", rss / MIB as u64);
}
