//! Decode + parse of one file: find records without parsing them, parse only
//! the candidates that byte markers point at, classify, keep the relevant.
//!
//! Exactness of the pre-filter: every kept class needs one of the marker
//! strings in the record's raw bytes (the event name, the STS serial/MFA
//! text, "explicit deny"). None of them contains `"`, `\` or `/`, so JSON
//! escaping cannot hide them, except through `\u` escapes, and any record
//! holding `\u` is always parsed. Records skipped this way are not validated
//! as JSON; `--full-parse` parses every record.

pub mod classify;
pub mod record;
pub mod scan;

#[cfg(test)]
mod fuzz;

use aho_corasick::AhoCorasick;
use std::sync::OnceLock;

use crate::decode::{DecodeError, Inflater, is_gzip};
use crate::event::{EventRow, Millis, TimeRange};
use crate::stats::RunStats;
use classify::{Reject, classify};
use scan::{Shape, detect_shape, for_each_record};

/// Byte markers: a record without any of these cannot be kept. Each is a
/// substring of the name or text a kept class needs (ConsoleLogin, CheckMfa,
/// serialNumber, MultiFactorAuthentication, GetSessionToken, *MFADevice,
/// *UserPolicy, *GroupPolicy, *RolePolicy, CreatePolicy*, *PolicyVersion,
/// AddUserToGroup, RemoveUserFromGroup, CreateUser, "explicit deny", CreateRole,
/// "…:AssumeRole on resource" (trust-policy denials), Identity Center's
/// CredentialVerification and UserAuthentication), cut so
/// that its first bytes are rare in CloudTrail JSON: the SIMD searcher then
/// rarely stops on a false start ("ser" in every userName, "Cre" in every
/// CreateDate would make it crawl).
pub const MARKERS: &[&str] = &[
    "eLogin",
    "kMfa",
    "alNumber",
    "iFactorAuth",
    "tSessionT",
    "FADevice",
    "rPolicy",
    "pPolicy",
    "lePolicy",
    "tePolicy",
    "yVersion",
    "rToGroup",
    "rFromGroup",
    "teUser",
    "cit deny",
    "teRole",
    "le on resou",
    "lVerification",
    "rAuthentication",
];

/// Any `\u` escape could spell a marker: such records are always parsed.
const ESCAPE: &[u8] = b"\\u";

fn markers() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    // Leftmost-first: only then does aho-corasick use its SIMD (Teddy) searcher.
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(MARKERS)
            .expect("static patterns compile")
    })
}

/// Options of the parse stage.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// Events outside this range are counted (`records_outside_window`) and dropped.
    pub window: TimeRange,
    /// Parse every record (validates all JSON; slower).
    pub full_parse: bool,
    /// Cap on a file's decompressed size.
    pub max_file_bytes: u64,
}

/// Per-thread reusable state: buffers dominate the cost otherwise.
#[derive(Default)]
pub struct Worker {
    decoder: Decoder,
    parser: Parser,
}

/// The inflater and its output buffer.
#[derive(Default)]
struct Decoder {
    inflater: Option<Inflater>,
    inflated: Vec<u8>,
}

/// Buffers of the record parse.
#[derive(Default)]
struct Parser {
    scratch: Vec<u8>,
    hits: Vec<usize>,
    buffers: Option<simd_json::Buffers>,
}

impl Decoder {
    /// Inflates `raw` when it is gzip; returns the JSON bytes.
    fn decode<'a>(&'a mut self, raw: &'a [u8], cap: u64) -> Result<&'a [u8], DecodeError> {
        if is_gzip(raw) {
            let inf = self.inflater.get_or_insert_with(Inflater::new);
            inf.inflate(raw, &mut self.inflated, cap)?;
            Ok(&self.inflated)
        } else if raw.len() as u64 > cap {
            Err(DecodeError::TooLarge { cap })
        } else {
            Ok(raw)
        }
    }
}

impl Worker {
    /// Decode only (the benchmark baseline): the JSON bytes of `raw`.
    pub fn decode<'a>(&'a mut self, raw: &'a [u8], cap: u64) -> Result<&'a [u8], DecodeError> {
        self.decoder.decode(raw, cap)
    }
}

/// Parses one file's bytes (gzip or plain) into kept rows and counters.
pub fn parse_file(raw: &[u8], file: FileInfo, opts: &ParseOptions, w: &mut Worker) -> (Vec<EventRow>, RunStats) {
    let uri = file.uri;
    let mut stats = RunStats {
        bytes_compressed: raw.len() as u64,
        ..RunStats::default()
    };
    let mut cols = Vec::new();
    let err = w.decoder.decode(raw, opts.max_file_bytes).err();
    let json: &[u8] = if is_gzip(raw) { &w.decoder.inflated } else { raw };
    match err {
        None => {
            stats.bytes_decompressed = json.len() as u64;
            stats.files_read = 1;
            parse_json(json, file, opts, &mut w.parser, &mut cols, &mut stats);
        }
        Some(e @ DecodeError::Truncated { .. }) if !json.is_empty() => {
            // Salvage the complete records before the cut; one note for the file.
            stats.bytes_decompressed = json.len() as u64;
            stats.files_read = 1;
            parse_json(json, file, opts, &mut w.parser, &mut cols, &mut stats);
            stats.files_partial.retain(|p| p.object != uri);
            if stats.files_read == 1 {
                stats.partial(
                    uri,
                    format!("{e}; the {} complete records before the cut were used", stats.records),
                );
            }
        }
        Some(e) => stats.fail(uri, e.to_string()),
    }
    (cols, stats)
}

/// Events later than this are clock garbage (the year 2100).
const FAR_FUTURE: Millis = 4_102_444_800_000;
/// Slack for events newer than their file's delivery time (the key time is cut to the minute).
const KEY_TIME_SLACK: Millis = crate::event::HOUR;

/// What the parse of one file needs to know about it.
#[derive(Debug, Clone, Copy)]
pub struct FileInfo<'a> {
    pub uri: &'a str,
    /// Delivery time from the key, when the key follows the layout.
    pub key_time: Option<Millis>,
}

fn parse_json(
    json: &[u8],
    file: FileInfo,
    opts: &ParseOptions,
    w: &mut Parser,
    cols: &mut Vec<EventRow>,
    stats: &mut RunStats,
) {
    let uri = file.uri;
    let Some(mut shape) = detect_shape(json) else {
        stats.files_read = 0;
        if json.iter().all(|b| b.is_ascii_whitespace()) {
            stats.fail(uri, "empty file");
        } else {
            stats.fail(
                uri,
                "not a CloudTrail log: expected JSON {\"Records\":[...]}, a JSON array of events, or one JSON event per line",
            );
        }
        return;
    };
    // Odd wrappers ({"x":1,"Records":[...]}) show up as one line holding a Records key.
    if shape == Shape::Lines
        && memchr::memmem::find(json, b"\"Records\"").is_some()
        && first_record_has_records_key(json, w)
    {
        shape = Shape::Records;
    }
    w.hits.clear();
    if !opts.full_parse {
        w.hits.extend(markers().find_iter(json).map(|m| m.start()));
        let before = w.hits.len();
        w.hits.extend(memchr::memmem::find_iter(json, ESCAPE));
        if w.hits.len() > before {
            w.hits.sort_unstable();
        }
    }
    let mut hits = std::mem::take(&mut w.hits);
    let mut scratch = std::mem::take(&mut w.scratch);
    let mut buffers = w.buffers.take().unwrap_or_default();
    let mut next_hit = 0usize;
    let mut index = 0u64;
    let mut not_events: Option<&'static str> = None;
    let mut on_record = |start: usize, end: usize| {
        if not_events.is_some() {
            return;
        }
        let i = index;
        index += 1;
        stats.records += 1;
        while next_hit < hits.len() && hits[next_hit] < start {
            next_hit += 1;
        }
        let marked = next_hit < hits.len() && hits[next_hit] < end;
        // The first record is always parsed: it tells a CloudTrail file from other JSON.
        if !(opts.full_parse || marked || i == 0) {
            stats.records_dropped += 1;
            return;
        }
        stats.records_parsed += 1;
        scratch.clear();
        scratch.extend_from_slice(&json[start..end]);
        let object = format!("{uri}#{i}");
        let rec = match record::parse_record(&mut scratch, &mut buffers) {
            Ok(r) => r,
            Err(e) => {
                stats.malformed(object, format!("invalid JSON: {e}"));
                return;
            }
        };
        if i == 0
            && rec.event_time.get().is_none()
            && rec.event_name.get().is_none()
            && rec.p_event_time.get().is_none()
        {
            not_events = Some(if rec.digest_key.0 { "digest" } else { "other" });
            return;
        }
        match classify(&rec, &object) {
            Ok(row) if row.event_time >= FAR_FUTURE => {
                stats.without_time(object, format!("{}: eventTime in the far future", row.event_name))
            }
            Ok(row) if file.key_time.is_some_and(|k| row.event_time > k + KEY_TIME_SLACK) => stats.without_time(
                object,
                format!(
                    "{}: eventTime after the file's delivery time (clock or key wrong?)",
                    row.event_name
                ),
            ),
            Ok(row) if opts.window.contains(row.event_time) => {
                stats.records_kept += 1;
                cols.push(row);
            }
            Ok(_) => stats.records_outside_window += 1,
            Err(Reject::Irrelevant) => stats.records_dropped += 1,
            Err(Reject::NoTime(why)) => stats.without_time(object, why),
        }
    };
    let result = if shape == Shape::Lines && first_line_is_whole(json) {
        // NDJSON: one record per line, so a broken line costs only itself.
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', json).chain(std::iter::once(json.len())) {
            let line = &json[start..end];
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                on_record(start, end);
            }
            start = end + 1;
        }
        Ok(())
    } else {
        for_each_record(json, shape, on_record)
    };
    hits.clear();
    w.hits = hits;
    w.scratch = scratch;
    w.buffers = Some(buffers);
    if let Some(kind) = not_events {
        // A digest or any other JSON that is not events: said once for the file.
        stats.records = 0;
        stats.records_parsed = 0;
        stats.records_dropped = 0;
        stats.files_read = 0;
        if kind == "digest" {
            stats.files_skipped_not_events += 1;
        } else {
            stats.fail(
                uri,
                "not CloudTrail events: the first record has no eventTime or eventName",
            );
        }
        return;
    }
    if let Err(u) = result {
        let what = if u.in_string {
            "inside a string"
        } else {
            "with unbalanced brackets"
        };
        stats.partial(
            uri,
            format!(
                "JSON ends {what} after {} complete records (truncated?); those records were used",
                stats.records
            ),
        );
    }
}

/// Whether the first non-blank line holds one complete JSON object (NDJSON),
/// rather than the start of a pretty-printed one.
fn first_line_is_whole(json: &[u8]) -> bool {
    let start = json.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    let end = memchr::memchr(b'\n', &json[start..]).map_or(json.len(), |e| start + e);
    let mut n = 0;
    for_each_record(&json[start..end], Shape::Lines, |_, _| n += 1).is_ok() && n == 1
}

fn first_record_has_records_key(json: &[u8], w: &mut Parser) -> bool {
    let mut first = None;
    let _ = for_each_record(json, Shape::Lines, |s, e| {
        if first.is_none() {
            first = Some((s, e));
        }
    });
    let Some((s, e)) = first else { return false };
    let mut buf = json[s..e].to_vec();
    let buffers = w.buffers.get_or_insert_with(Default::default);
    record::parse_record(&mut buf, buffers).is_ok_and(|r| r.records_key.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"{"eventTime":"2026-11-27T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventID":"a","userIdentity":{"type":"IAMUser","userName":"alice"},"responseElements":{"ConsoleLogin":"Failure"},"additionalEventData":{"MFAUsed":"Yes"},"errorMessage":"Failed authentication"}"#;
    const NOISE: &str = r#"{"eventTime":"2026-11-27T10:00:01Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","eventID":"n","userIdentity":{"type":"IAMUser","userName":"alice"},"requestParameters":{"filterSet":{"items":[{"name":"tag:x","valueSet":{}}]}}}"#;
    const B: &str = r#"{"eventTime":"2026-11-27T10:00:02Z","eventSource":"iam.amazonaws.com","eventName":"DeactivateMFADevice","eventID":"b","userIdentity":{"type":"IAMUser","userName":"ops"},"requestParameters":{"userName":"alice","serialNumber":"arn:aws:iam::1:mfa/alice"}}"#;

    fn kept(doc: &str, full: bool) -> (Vec<String>, RunStats) {
        let opts = ParseOptions {
            window: TimeRange::OPEN,
            full_parse: full,
            max_file_bytes: 1 << 20,
        };
        let file = FileInfo {
            uri: "t.json",
            key_time: None,
        };
        let (rows, stats) = parse_file(doc.as_bytes(), file, &opts, &mut Worker::default());
        (rows.into_iter().map(|r| r.event_id).collect(), stats)
    }

    #[test]
    fn three_record_shapes_give_the_same_events() {
        let shapes = [
            format!(r#"{{"Records":[{A},{NOISE},{B}]}}"#),
            format!("[\n{A},\n{NOISE},\n{B}\n]"),
            format!("{A}\n{NOISE}\n{B}\n"),
            // An odd wrapper: Records is not the first key.
            format!(r#"{{"source":"export","Records":[{A},{NOISE},{B}]}}"#),
        ];
        for doc in &shapes {
            for full in [false, true] {
                let (ids, stats) = kept(doc, full);
                assert_eq!(ids, ["a", "b"], "{doc}");
                assert_eq!(stats.records, 3, "{doc}");
                assert_eq!(stats.records_kept, 2);
                assert_eq!(stats.records_malformed, 0);
                assert!(stats.files_failed.is_empty(), "{:?}", stats.files_failed);
            }
        }
        // The pre-filter skips the noise record (the first record is always parsed).
        let (_, s) = kept(&format!(r#"{{"Records":[{A},{NOISE},{NOISE},{B}]}}"#), false);
        assert_eq!((s.records, s.records_parsed), (4, 2));
    }

    #[test]
    fn escaped_markers_are_still_found() {
        // "ConsoleLogin" written with a \u escape: the \u marker forces a parse.
        let esc = A.replace("\"ConsoleLogin\",\"eventID\"", "\"Console\\u004cogin\",\"eventID\"");
        assert_ne!(esc, A);
        let (ids, _) = kept(&format!(r#"{{"Records":[{NOISE},{esc}]}}"#), false);
        assert_eq!(ids, ["a"]);
    }
}
