//! Hostile and broken inputs: each gets a clear message and a count; the run
//! never crashes and nothing vanishes silently.

use std::io::Write;

use flate2::{Compression, write::GzEncoder};

use crate::util::run;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const GOOD: &str = r#"{"Records":[{"eventVersion":"1.08","eventTime":"2026-11-27T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventID":"good-1","userIdentity":{"type":"IAMUser","userName":"mallory","accountId":"111122223333","accessKeyId":""},"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"Yes"},"errorMessage":"Failed authentication","userAgent":"evil\u001b[2J\u001b[31mred\u202egpj.exe","recipientAccountId":"111122223333"}]}"#;

fn fixture() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("good.json.gz"), gz(GOOD.as_bytes())).unwrap();
    let full = gz(GOOD.as_bytes());
    std::fs::write(p.join("truncated.json.gz"), &full[..full.len() / 2]).unwrap();
    std::fs::write(p.join("config.json"), br#"{"trail":"x","settings":{"a":1}}"#).unwrap();
    std::fs::write(p.join("text.json"), b"this is not json").unwrap();
    std::fs::write(p.join("empty.json"), b"").unwrap();
    std::fs::write(
        p.join("digest.json.gz"),
        gz(br#"{"awsAccountId":"111122223333","digestStartTime":"2026-11-27T09:00:00Z","logFiles":[]}"#),
    )
    .unwrap();
    std::fs::write(p.join("bomb.json.gz"), gz(&vec![b' '; 3_000_000])).unwrap();
    std::fs::write(p.join("badrecord.json"), br#"[{"eventTime":"2026-11-27T10:00:00Z","eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com"},{"eventTime":"2026-11-27T10:00:01Z","eventName":"ConsoleLogin","x":tru}]"#).unwrap();
    std::os::unix::fs::symlink(p.join("missing-target.json"), p.join("dangling.json")).unwrap();
    d
}

#[test]
fn broken_inputs_are_counted_with_reasons() {
    let d = fixture();
    let src = d.path().to_string_lossy().into_owned();
    let out = run(&[
        "timeline",
        "-u",
        "mallory",
        "-s",
        &src,
        "--format",
        "json",
        "-q",
        "--max-file-bytes",
        "1000000",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    let i = &r["inputs"];
    let failed: Vec<(String, String)> = i["files_failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["object"].as_str().unwrap().rsplit('/').next().unwrap().to_string(),
                f["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |name: &str| {
        failed
            .iter()
            .find(|f| f.0 == name)
            .map(|f| f.1.clone())
            .unwrap_or_else(|| panic!("{name} not failed: {failed:?}"))
    };
    let partial = i["files_partial"].as_array().unwrap();
    assert!(
        partial
            .iter()
            .any(|p| p["object"].as_str().unwrap().ends_with("truncated.json.gz")
                && p["reason"].as_str().unwrap().contains("truncated")),
        "{partial:?}"
    );
    assert!(reason("config.json").contains("not CloudTrail"));
    assert!(reason("text.json").contains("not a CloudTrail log"));
    assert!(reason("empty.json").contains("empty"));
    assert!(reason("bomb.json.gz").contains("exceeds the cap"));
    assert!(reason("dangling.json").contains("cannot"));
    assert_eq!(i["files_skipped_not_events"], 1, "digest by content");
    assert_eq!(i["records_malformed"], 1, "the record with `tru`");
    // The good record is still there.
    assert_eq!(r["events"].as_array().unwrap().len(), 1);
    assert_eq!(r["events"][0]["event_id"], "good-1");
    // --strict turns unreadable input into exit 3.
    let strict = run(&["timeline", "-u", "mallory", "-s", &src, "-q", "--strict"]);
    assert_eq!(strict.code, 3);
}

#[test]
fn hostile_strings_never_reach_the_terminal_raw() {
    let d = fixture();
    let src = d.path().join("good.json.gz").to_string_lossy().into_owned();
    for cmd in ["timeline", "diagnose"] {
        let out = run(&[cmd, "-u", "mallory", "-s", &src, "-q"]);
        assert!(!out.stdout.contains('\u{1b}'), "{cmd}: raw ESC in output");
        assert!(!out.stdout.contains('\u{202e}'), "{cmd}: raw bidi override in output");
        assert!(
            out.stdout.contains("\\u{1b}[2J"),
            "{cmd}: escaped form shown:\n{}",
            out.stdout
        );
    }
    // JSON keeps the exact string (escaped by JSON itself).
    let out = run(&["timeline", "-u", "mallory", "-s", &src, "-q", "--format", "json"]);
    assert_eq!(
        out.json()["events"][0]["user_agent"],
        "evil\u{1b}[2J\u{1b}[31mred\u{202e}gpj.exe"
    );
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    for (args, needle) in [
        (
            vec!["timeline", "-u", "a", "-s", "/nonexistent/path"],
            "cannot read source",
        ),
        (
            vec!["timeline", "-u", "a", "-s", "testdata/real", "--since", "last tuesday"],
            "invalid time",
        ),
        (
            vec!["diagnose", "-u", "a", "-s", "testdata/real", "--window", "24x"],
            "invalid value '24x' for '--window",
        ),
        (
            vec!["diagnose", "-u", "a", "-s", "s3:///prefix"],
            "expected s3://bucket",
        ),
        (vec!["gen", "--out", "/tmp/x", "--scenario", "nope"], "scenario"),
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
}
