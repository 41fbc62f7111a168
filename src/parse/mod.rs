//! Decode + parse of one file: find records without parsing them, parse only
//! the candidates that byte markers point at, classify, keep the relevant.
//!
//! Exactness of the pre-filter: every kept class needs one of the marker
//! strings in the record's raw bytes (the event name, the STS serial/MFA
//! text, "explicit deny"). None of them contains `"`, `\` or `/`, so JSON
//! escaping cannot hide them, except through `\u` escapes, and any record
//! holding `\u` is always parsed. Records skipped this way are not validated
//! as JSON; `--full-parse` parses every record.
//!
//! Where the CPU has AVX-512 VBMI the markers are not searched over the whole file:
//! the structural scan also looks up, in the same 64-byte blocks, the trigrams of
//! `scan::FINGERPRINTS` (every marker holds one), and only the records holding one
//! (about 5 % of records) are searched for the markers. Same records kept, one pass.

pub mod classify;
pub mod record;
pub mod scan;

#[cfg(test)]
mod fuzz;

use aho_corasick::AhoCorasick;
use std::io::Read;
use std::sync::OnceLock;

#[cfg(test)]
use crate::decode::ONE_SHOT_LIMIT;
use crate::decode::{DecodeError, Inflater, is_gzip};
use crate::event::{EventRow, Millis, TimeRange};
use crate::stats::RunStats;
use classify::{Reject, classify};
use scan::{Scanner, Shape, Unbalanced, detect_shape, for_each_record};

/// Byte markers: a record without any of these cannot be kept. Each is a
/// substring of the name or text a kept class needs (ConsoleLogin, CheckMfa,
/// serialNumber, MultiFactorAuthentication, GetSessionToken, *MFADevice,
/// *UserPolicy, *GroupPolicy, *RolePolicy, CreatePolicy*, *PolicyVersion,
/// AddUserToGroup, RemoveUserFromGroup, CreateUser, "explicit deny", CreateRole,
/// "…:AssumeRole on resource" (trust-policy denials), Identity Center's
/// CredentialVerification and UserAuthentication), cut so
/// that its first bytes are rare in CloudTrail JSON: the SIMD searcher then
/// rarely stops on a false start ("ser" in every userName, "Cre" in every
/// CreateDate would make it crawl). The device events are named by the byte before
/// `MFADevice` (Enable/Deactivate, [Create|Delete]Virtual, Resync), so that the frequent
/// `ListMFADevices` is not parsed; the trust-policy denial by `eRole on resou`, so that
/// every other "… on resource" denial is not.
pub const MARKERS: &[&str] = &[
    "eLogin",
    "kMfa",
    "alNumber",
    "iFactorAuth",
    "tSessionT",
    "eMFADevice",
    "lMFADevice",
    "cMFADevice",
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
    "eRole on resou",
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

/// The `\\u` searcher, built once: building one per record showed in profiles.
fn escapes() -> &'static memchr::memmem::Finder<'static> {
    static F: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    F.get_or_init(|| memchr::memmem::Finder::new(ESCAPE))
}

/// How many marker and `\\u` hits a buffer holds (the profiler's view of that pass).
pub fn marker_hits(json: &[u8]) -> usize {
    markers().find_iter(json).count() + escapes().find_iter(json).count()
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

impl Decoder {
    /// Frees a buffer grown for a large file, so that a thread does not keep it.
    fn shrink(&mut self) {
        if self.inflated.capacity() > 8 << 20 {
            self.inflated = Vec::new();
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
        Some(DecodeError::NeedsStream) => {
            // Too large for one buffer (declared or actual): decode again as a stream.
            w.decoder.shrink();
            let input = crate::decode::stream(raw, opts.max_file_bytes);
            parse_stream(input, file, opts, STREAM, &mut w.parser, &mut cols, &mut stats);
        }
        Some(e) => stats.fail(uri, e.to_string()),
    }
    (cols, stats)
}

/// Parses a file read from `input` as a stream (gzip or plain, told by its first bytes):
/// the path of files too large to hold in memory whole. `size` is the file's size.
pub fn parse_reader(
    input: impl Read,
    size: u64,
    file: FileInfo,
    opts: &ParseOptions,
    w: &mut Worker,
) -> (Vec<EventRow>, RunStats) {
    let mut stats = RunStats {
        bytes_compressed: size,
        ..RunStats::default()
    };
    let mut cols = Vec::new();
    let mut input = std::io::BufReader::with_capacity(1 << 16, input);
    let gzip = match std::io::BufRead::fill_buf(&mut input) {
        Ok(head) => is_gzip(head),
        Err(e) => {
            stats.fail(file.uri, format!("cannot read: {e}"));
            return (cols, stats);
        }
    };
    let cap = opts.max_file_bytes;
    if gzip {
        parse_stream(
            crate::decode::stream(input, cap),
            file,
            opts,
            STREAM,
            &mut w.parser,
            &mut cols,
            &mut stats,
        );
    } else {
        parse_stream(
            crate::decode::stream_plain(input, cap),
            file,
            opts,
            STREAM,
            &mut w.parser,
            &mut cols,
            &mut stats,
        );
    }
    (cols, stats)
}

/// Events later than this are clock garbage (the year 2100).
pub const FAR_FUTURE: Millis = 4_102_444_800_000;
/// Events earlier than this are clock garbage too (2000-01-01; CloudTrail began in 2013). A
/// time this far from now would also overflow the arithmetic of windows and day folders.
pub const FAR_PAST: Millis = 946_684_800_000;

/// Whether an event time can be placed: between `FAR_PAST` and `FAR_FUTURE`.
pub fn usable_time(t: Millis) -> bool {
    (FAR_PAST..FAR_FUTURE).contains(&t)
}
/// Slack for events newer than their file's delivery time (the key time is cut to the minute).
pub const KEY_TIME_SLACK: Millis = crate::event::HOUR;

/// What the parse of one file needs to know about it.
#[derive(Debug, Clone, Copy)]
pub struct FileInfo<'a> {
    pub uri: &'a str,
    /// Delivery time from the key, when the key follows the layout.
    pub key_time: Option<Millis>,
}

/// Turns record bytes into kept events and counters: the one-shot and the streaming paths
/// share it, so a record is judged the same way whichever path read it.
struct Sink<'a> {
    file: FileInfo<'a>,
    opts: &'a ParseOptions,
    stats: &'a mut RunStats,
    cols: &'a mut Vec<EventRow>,
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    index: u64,
    /// The first two records say the file is not events (a digest, other JSON).
    not_events: Option<&'static str>,
    /// The first record is not an event: the second one decides whether the file is events
    /// with an odd first record (an NDJSON header line, say) or not events at all.
    first_not_event: Option<(&'static str, String)>,
}

impl<'a> Sink<'a> {
    fn new(
        file: FileInfo<'a>,
        opts: &'a ParseOptions,
        w: &mut Parser,
        stats: &'a mut RunStats,
        cols: &'a mut Vec<EventRow>,
    ) -> Sink<'a> {
        Sink {
            file,
            opts,
            stats,
            cols,
            scratch: std::mem::take(&mut w.scratch),
            buffers: w.buffers.take().unwrap_or_default(),
            index: 0,
            not_events: None,
            first_not_event: None,
        }
    }

    /// Gives the buffers back to the worker.
    fn done(mut self, w: &mut Parser) -> Option<&'static str> {
        // A single record that is not an event: the file is not events.
        if let Some((kind, _)) = self.first_not_event.take() {
            self.not_events = Some(kind);
        }
        w.scratch = self.scratch;
        w.buffers = Some(self.buffers);
        self.not_events
    }

    /// One record; `marked`: it holds a byte marker (or a `\u` escape).
    fn record(&mut self, bytes: &[u8], marked: bool) {
        if self.not_events.is_some() {
            return;
        }
        let i = self.index;
        self.index += 1;
        let stats = &mut *self.stats;
        stats.records += 1;
        // The first record is always parsed: it tells a CloudTrail file from other JSON (and
        // the second, when the first is not an event).
        let deciding = i == 0 || (i == 1 && self.first_not_event.is_some());
        if !(self.opts.full_parse || marked || deciding) {
            stats.records_dropped += 1;
            settle_first(&mut self.first_not_event, stats);
            return;
        }
        stats.records_parsed += 1;
        self.scratch.clear();
        self.scratch.extend_from_slice(bytes);
        let object = format!("{}#{i}", self.file.uri);
        let rec = match record::parse_record(&mut self.scratch, &mut self.buffers) {
            Ok(r) => r,
            Err(e) => {
                stats.malformed(object, format!("invalid JSON: {e}"));
                return;
            }
        };
        let not_event =
            rec.event_time.get().is_none() && rec.event_name.get().is_none() && rec.p_event_time.get().is_none();
        if not_event && i == 0 {
            let kind = if rec.digest_key.0 { "digest" } else { "other" };
            self.first_not_event = Some((kind, object));
            return;
        }
        if not_event && i == 1 && self.first_not_event.is_some() {
            // Two records in a row that are not events: not a CloudTrail file.
            self.not_events = self.first_not_event.take().map(|(k, _)| k);
            return;
        }
        settle_first(&mut self.first_not_event, stats);
        match classify(&rec, &object) {
            Ok(row) if !usable_time(row.event_time) => stats.without_time(
                object,
                format!(
                    "{}: eventTime in the far {}",
                    row.event_name,
                    if row.event_time < FAR_PAST { "past" } else { "future" }
                ),
            ),
            Ok(row) if self.file.key_time.is_some_and(|k| row.event_time > k + KEY_TIME_SLACK) => stats.without_time(
                object,
                format!(
                    "{}: eventTime after the file's delivery time (clock or key wrong?)",
                    row.event_name
                ),
            ),
            Ok(row) if self.opts.window.contains(row.event_time) => {
                stats.records_kept += 1;
                self.cols.push(row);
            }
            Ok(_) => stats.records_outside_window += 1,
            Err(Reject::Irrelevant) => stats.records_dropped += 1,
            Err(Reject::NoTime(why)) => stats.without_time(object, why),
        }
    }

    /// A record too large to hold (streaming): counted as malformed, never parsed.
    fn oversized(&mut self, len: usize, max: usize) {
        let i = self.index;
        self.index += 1;
        self.stats.records += 1;
        self.stats.malformed(
            format!("{}#{i}", self.file.uri),
            format!("a record of {len} bytes or more is larger than the {max} bytes a record may hold"),
        );
    }
}

/// The file holds events after an odd first record: that record is counted on its own.
fn settle_first(first: &mut Option<(&'static str, String)>, stats: &mut RunStats) {
    if let Some((_, object)) = first.take() {
        stats.without_time(
            object,
            "a record without eventTime or eventName among CloudTrail events",
        );
    }
}

/// Why a file is not (all) events, said once for the file.
fn close_file(stats: &mut RunStats, uri: &str, not_events: Option<&'static str>, result: Result<(), Unbalanced>) {
    if let Some(kind) = not_events {
        // A digest or any other JSON that is not events: said once for the file.
        stats.records = 0;
        stats.records_parsed = 0;
        stats.records_dropped = 0;
        stats.records_malformed = 0;
        stats.problem_examples.clear();
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

/// The shape of a file from its first bytes, or why it is not a CloudTrail log.
fn shape_of(json: &[u8], w: &mut Parser) -> Result<Shape, &'static str> {
    let Some(mut shape) = detect_shape(json) else {
        return Err(if json.iter().all(|b| b.is_ascii_whitespace()) {
            "empty file"
        } else {
            "not a CloudTrail log: expected JSON {\"Records\":[...]}, a JSON array of events, or one JSON event per line"
        });
    };
    // Odd wrappers ({"x":1,"Records":[...]}) show up as one line holding a Records key.
    if shape == Shape::Lines
        && memchr::memmem::find(json, b"\"Records\"").is_some()
        && first_record_has_records_key(json, w)
    {
        shape = Shape::Records;
    }
    Ok(shape)
}

/// Whether a record's bytes hold a marker or a `\u` escape: the exact per-record test of the
/// streaming path and of the fused prefilter's candidates (without the fused pass, the
/// one-shot path searches the whole buffer once instead).
fn marked(bytes: &[u8]) -> bool {
    markers().is_match(bytes) || escapes().find(bytes).is_some()
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
    let shape = match shape_of(json, w) {
        Ok(s) => s,
        Err(why) => {
            stats.files_read = 0;
            stats.fail(uri, why);
            return;
        }
    };
    let ndjson = shape == Shape::Lines && first_line_is_whole(json);
    // Where the CPU allows, the marker prefilter runs inside the structural scan.
    let fused = !opts.full_parse && !ndjson && fused_prefilter();
    let mut hits = std::mem::take(&mut w.hits);
    hits.clear();
    if !opts.full_parse && !fused {
        hits.extend(markers().find_iter(json).map(|m| m.start()));
        let before = hits.len();
        hits.extend(escapes().find_iter(json));
        if hits.len() > before {
            hits.sort_unstable();
        }
    }
    let mut sink = Sink::new(file, opts, w, stats, cols);
    let result = if fused {
        // A candidate record is searched for the markers themselves: exact, as below.
        fused_scan(json, shape, &mut |start, end, candidate| {
            let bytes = &json[start..end];
            sink.record(bytes, candidate && marked(bytes));
        })
    } else {
        let mut next_hit = 0usize;
        let mut on_record = |start: usize, end: usize| {
            while next_hit < hits.len() && hits[next_hit] < start {
                next_hit += 1;
            }
            let marked = next_hit < hits.len() && hits[next_hit] < end;
            sink.record(&json[start..end], marked);
        };
        if ndjson {
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
        }
    };
    let not_events = sink.done(w);
    hits.clear();
    w.hits = hits;
    close_file(stats, uri, not_events, result);
}

/// Whether this run uses the fused scan (AVX-512 VBMI), unless a test turned it off.
fn fused_prefilter() -> bool {
    #[cfg(test)]
    if TEDDY_ONLY.with(std::cell::Cell::get) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    return scan::fused_available();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(target_arch = "x86_64")]
fn fused_scan(json: &[u8], shape: Shape, f: &mut impl FnMut(usize, usize, bool)) -> Result<(), Unbalanced> {
    scan::for_each_record_fused(json, shape, f).expect("checked by fused_prefilter")
}

#[cfg(not(target_arch = "x86_64"))]
fn fused_scan(_: &[u8], _: Shape, _: &mut impl FnMut(usize, usize, bool)) -> Result<(), Unbalanced> {
    unreachable!("fused_prefilter is false here")
}

#[cfg(test)]
thread_local! {
    /// Tests run the marker search as a separate pass on this thread (the non-AVX-512 path).
    pub(crate) static TEDDY_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sizes of the streaming path.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Bytes read from the decoder at a time.
    chunk: usize,
    /// The largest record held whole (CloudTrail's own records stay far below); a larger
    /// one is counted malformed and its bytes are not kept.
    max_record: usize,
}

const STREAM: Limits = Limits {
    chunk: 4 << 20,
    max_record: 16 << 20,
};

/// Whether the first bytes of a streamed file decide its shape as the whole file would.
/// `{"Records":[` and `[` are final once seen. Anything else is one object per line or one
/// pretty-printed object: decided once the first object is complete (so neither a cut
/// `{"Rec` nor an odd wrapper is misread) and a newline follows the start (whether the
/// first line holds exactly one object, NDJSON, is then known too).
fn shape_decided(buf: &[u8]) -> bool {
    let Some(start) = buf.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    if buf.len() < 3 && [0xef, 0xbb, 0xbf].starts_with(buf) {
        return false; // a byte-order mark cut short
    }
    match detect_shape(buf) {
        Some(Shape::Records | Shape::Array) => true,
        None => true,
        Some(Shape::Lines) => {
            if memchr::memchr(b'\n', &buf[start..]).is_none() {
                return false;
            }
            let mut whole = false;
            let _ = for_each_record(buf, Shape::Lines, |_, _| whole = true);
            whole
        }
    }
}

/// Reads up to `chunk` more bytes into `buf`; notes the end of the stream or its error.
fn fill(
    input: &mut impl Read,
    buf: &mut Vec<u8>,
    chunk: usize,
    eof: &mut bool,
    error: &mut Option<DecodeError>,
) -> usize {
    let start = buf.len();
    buf.resize(start + chunk, 0);
    let mut got = 0;
    while got < chunk && !*eof && error.is_none() {
        match input.read(&mut buf[start + got..]) {
            Ok(0) => *eof = true,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => *error = Some(crate::decode::stream_error(&e)),
        }
    }
    buf.truncate(start + got);
    got
}

/// The streaming path: a large file decoded and scanned in chunks, the scanner's state
/// carried across chunk edges, only the record being read held in memory. Memory stays at
/// a few chunks whatever the file's size; `--max-file-bytes` limits the work.
#[allow(clippy::too_many_arguments)]
fn parse_stream(
    mut input: impl Read,
    file: FileInfo,
    opts: &ParseOptions,
    lim: Limits,
    w: &mut Parser,
    cols: &mut Vec<EventRow>,
    stats: &mut RunStats,
) {
    let uri = file.uri;
    let mut buf: Vec<u8> = Vec::with_capacity(lim.chunk * 2);
    // Stream offset of buf[0].
    let mut base = 0usize;
    let (mut eof, mut error) = (false, None);
    let mut total = 0u64;
    // Enough bytes to decide the shape. Checked each time the buffer doubles, so that a
    // long first record costs linear time whatever the chunk size.
    let mut check_at = 0;
    loop {
        let got = fill(&mut input, &mut buf, lim.chunk, &mut eof, &mut error);
        total += got as u64;
        if eof || error.is_some() || buf.len() > lim.max_record {
            break;
        }
        if buf.len() >= check_at {
            if shape_decided(&buf) {
                break;
            }
            check_at = buf.len() * 2;
        }
    }
    let shape = match shape_of(&buf, w) {
        Ok(s) => s,
        Err(why) => {
            stats.bytes_decompressed = total;
            stats.fail(uri, error.map_or_else(|| why.to_string(), |e| e.to_string()));
            return;
        }
    };
    stats.files_read = 1;
    let lines = shape == Shape::Lines && first_line_is_whole(&buf);
    let full = opts.full_parse;
    let mut sink = Sink::new(file, opts, w, stats, cols);
    let mut scanner = Scanner::new(shape);
    // Scanned up to here (stream offset).
    let mut scanned = 0usize;
    // Bytes of an oversized line already let go (NDJSON).
    let mut dropped_line: Option<usize> = None;
    let mut done: Vec<(usize, usize)> = Vec::new();
    let result = loop {
        let last = eof || error.is_some();
        if lines {
            // NDJSON: complete lines are records; the tail waits for more.
            let mut line_start = 0;
            let line = |sink: &mut Sink, bytes: &[u8], dropped: &mut Option<usize>| {
                if let Some(len) = dropped.take() {
                    sink.oversized(len + bytes.len(), lim.max_record);
                } else if bytes.iter().any(|b| !b.is_ascii_whitespace()) {
                    sink.record(bytes, full || marked(bytes));
                }
            };
            let from = scanned - base;
            for nl in memchr::memchr_iter(b'\n', &buf[from..]) {
                let end = from + nl;
                line(&mut sink, &buf[line_start..end], &mut dropped_line);
                line_start = end + 1;
            }
            scanned = base + buf.len();
            if last {
                line(&mut sink, &buf[line_start..], &mut dropped_line);
                break Ok(());
            }
            buf.drain(..line_start);
            base += line_start;
            if buf.len() > lim.max_record {
                *dropped_line.get_or_insert(0) += buf.len();
                base += buf.len();
                buf.clear();
            }
        } else {
            done.clear();
            let from = scanned - base;
            scanned += scanner.feed(&buf[from..], scanned, &mut |s, e| done.push((s, e)));
            let r = if last {
                let from = scanned - base;
                let r = scanner.finish(&buf[from..], scanned, &mut |s, e| done.push((s, e)));
                scanned = base + buf.len();
                Some(r)
            } else {
                None
            };
            for &(s, e) in &done {
                if s < base {
                    // Its start was let go: a record larger than a record may be.
                    sink.oversized(e - s, lim.max_record);
                } else {
                    let rec = &buf[s - base..e - base];
                    sink.record(rec, full || marked(rec));
                }
            }
            if let Some(r) = r {
                break r;
            }
            // Keep the record being read and the unscanned tail; let the rest go.
            let mut keep = scanner.open_record().map_or(scanned, |s| s.max(base)).min(scanned);
            if scanned - keep > lim.max_record {
                keep = scanned;
            }
            buf.drain(..keep - base);
            base = keep;
        }
        if sink.not_events.is_some() {
            break Ok(());
        }
        total += fill(&mut input, &mut buf, lim.chunk, &mut eof, &mut error) as u64;
    };
    let not_events = sink.done(w);
    stats.bytes_decompressed = total;
    match error {
        // Truncated, corrupt or over the cap: the complete records before were used.
        Some(e) if not_events.is_none() => {
            if stats.records > 0 {
                let n = stats.records;
                stats.partial(uri, format!("{e}; the {n} complete records before were used"));
            } else {
                stats.files_read = 0;
                stats.fail(uri, e.to_string());
            }
        }
        _ => close_file(stats, uri, not_events, result),
    }
}

/// The streaming path over `doc` (tests and the fuzzer): the ids kept and the counts.
#[cfg(test)]
fn stream_ids(doc: &[u8], lim: Limits) -> (Vec<String>, RunStats) {
    let opts = ParseOptions {
        window: TimeRange::OPEN,
        full_parse: false,
        max_file_bytes: 1 << 22, // the fuzzer's one-shot cap, so both paths stop alike
    };
    let file = FileInfo {
        uri: "stream",
        key_time: None,
    };
    let (mut rows, mut stats) = (Vec::new(), RunStats::default());
    parse_stream(doc, file, &opts, lim, &mut Parser::default(), &mut rows, &mut stats);
    assert_eq!(rows.len() as u64, stats.records_kept);
    (rows.into_iter().map(|r| r.event_id).collect(), stats)
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

    /// The fused prefilter may only say "maybe" too often: each marker, alone in a record
    /// at every offset from a block edge, must make that record a candidate.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn every_marker_is_a_fused_candidate() {
        for m in MARKERS {
            let grams = scan::FINGERPRINTS.iter().flatten();
            assert!(
                grams.clone().any(|g| m.as_bytes().windows(3).any(|w| w == *g)),
                "marker {m:?} holds no fingerprint"
            );
        }
        if !scan::fused_available() {
            return;
        }
        for text in MARKERS.iter().copied().chain(["\\u0041"]) {
            for pad in 0..64 {
                let doc = format!(
                    r#"{{"Records":[{{"a":"{}"}},{{"x":"{text}"}},{{"b":1}}]}}"#,
                    "z".repeat(pad)
                );
                let mut got = Vec::new();
                let r = scan::for_each_record_fused(doc.as_bytes(), Shape::Records, |a, b, c| got.push((a, b, c)));
                assert!(r.expect("available").is_ok());
                let flags: Vec<bool> = got.iter().map(|g| g.2).collect();
                assert_eq!(flags, [false, true, false], "{text:?} after {pad} bytes");
            }
        }
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

    fn streamed(doc: &[u8], lim: Limits) -> (Vec<String>, RunStats) {
        let (ids, stats) = stream_ids(doc, lim);
        assert!(stats.records_balanced(), "{stats:?}");
        (ids, stats)
    }

    const SMALL: Limits = Limits {
        chunk: 100,
        max_record: 2000,
    };

    #[test]
    fn streaming_counts_an_oversized_record_and_keeps_its_neighbours() {
        let huge = format!(
            r#"{{"eventTime":"2026-11-27T10:00:00Z","eventName":"X","pad":"{}"}}"#,
            "x".repeat(5000)
        );
        let doc = format!(r#"{{"Records":[{A},{huge},{B}]}}"#);
        let (ids, stats) = streamed(doc.as_bytes(), SMALL);
        assert_eq!(ids, ["a", "b"]);
        assert_eq!((stats.records, stats.records_malformed), (3, 1));
        assert!(
            stats.problem_examples[0].reason.contains("larger than the 2000 bytes"),
            "{stats:?}"
        );
        // The same as NDJSON, where the oversized line may span many chunks.
        let doc = format!("{A}\n{huge}\n{B}\n");
        let (ids, stats) = streamed(doc.as_bytes(), SMALL);
        assert_eq!(ids, ["a", "b"]);
        assert_eq!((stats.records, stats.records_malformed), (3, 1));
        // Within the limit, the streaming path keeps what the one-shot path keeps.
        let doc = format!(r#"{{"Records":[{A},{NOISE},{B}]}}"#);
        assert_eq!(streamed(doc.as_bytes(), SMALL).0, kept(&doc, false).0);
    }

    #[test]
    fn streaming_a_cut_file_keeps_the_complete_records() {
        let doc = format!(r#"{{"Records":[{A},{B},{NOISE}"#);
        let (ids, stats) = streamed(&doc.as_bytes()[..doc.len() - 40], SMALL);
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(stats.files_partial.len(), 1, "{stats:?}");
    }

    #[test]
    fn a_large_member_falls_back_to_the_stream_and_the_cap_limits_work() {
        use std::io::Write;
        // Declares 40 MB (above the one-shot limit): streamed, and the events found.
        let mut doc = format!(r#"{{"Records":[{A},"#).into_bytes();
        doc.extend(std::iter::repeat_n(b' ', 40 << 20));
        doc.extend(format!("{B}]}}").bytes());
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&doc).unwrap();
        let gz = e.finish().unwrap();
        let file = FileInfo {
            uri: "big.json.gz",
            key_time: None,
        };
        let mut opts = ParseOptions {
            window: TimeRange::OPEN,
            full_parse: false,
            max_file_bytes: 1 << 30,
        };
        let mut w = Worker::default();
        let (rows, stats) = parse_file(&gz, file, &opts, &mut w);
        assert_eq!(rows.iter().map(|r| r.event_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(stats.bytes_decompressed, doc.len() as u64);
        assert!(w.decoder.inflated.capacity() <= ONE_SHOT_LIMIT as usize + (1 << 20));
        // A cap below the size: the records before it are used, the file is partial.
        opts.max_file_bytes = 36 << 20;
        let (rows, stats) = parse_file(&gz, file, &opts, &mut w);
        assert_eq!(rows.len(), 1);
        assert!(stats.files_partial[0].reason.contains("exceeds the cap"), "{stats:?}");
    }

    #[test]
    fn an_assume_role_denial_is_kept_alike_with_and_without_the_prefilter() {
        let trust = r#"{"eventTime":"2026-11-27T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"ar1","userIdentity":{"type":"IAMUser","userName":"alice","accountId":"111122223333"},"requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/Admin"},"errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/Admin"}"#;
        let other = r#"{"eventTime":"2026-11-27T10:00:01Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","eventID":"ar2","userIdentity":{"type":"IAMUser","userName":"alice","accountId":"111122223333"},"requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/Admin"},"errorCode":"AccessDenied","errorMessage":"Access denied"}"#;
        let doc = format!(r#"{{"Records":[{trust},{NOISE},{other}]}}"#);
        let (fast, _) = kept(&doc, false);
        let (full, _) = kept(&doc, true);
        assert_eq!(fast, ["ar1"]);
        assert_eq!(fast, full);
    }

    #[test]
    fn an_odd_first_line_does_not_discard_the_events_after_it() {
        // NDJSON whose first line is not an event (a header an exporter wrote).
        let doc = format!("{{\"exported\":\"2026-11-27\"}}\n{A}\n{B}\n");
        let (ids, stats) = kept(&doc, false);
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(stats.records_without_time, 1);
        assert!(stats.files_failed.is_empty() && stats.records_balanced(), "{stats:?}");
        // Two lines that are not events: not a CloudTrail file, said once.
        let (ids, stats) = kept("{\"a\":1}\n{\"b\":2}\n", false);
        assert!(ids.is_empty());
        assert_eq!(stats.files_failed.len(), 1);
        // One JSON document that is not events (a digest, a report): the same.
        let (_, stats) = kept(r#"{"digestStartTime":"x","logFiles":[]}"#, false);
        assert_eq!(stats.files_failed.len() + stats.files_skipped_not_events as usize, 1);
    }

    #[test]
    fn times_before_2000_are_not_usable() {
        let old = A.replace("2026-11-27T10:00:00Z", "1970-01-01T00:00:00Z");
        let (ids, stats) = kept(&format!(r#"{{"Records":[{old},{B}]}}"#), false);
        assert_eq!(ids, ["b"]);
        assert_eq!(stats.records_without_time, 1);
        assert!(stats.problem_examples[0].reason.contains("far past"), "{stats:?}");
    }
}
