//! Run counters. Every stage counts what it saw so that nothing is lost
//! silently; per-file stats are merged with `+` after the parallel stage.

use serde::Serialize;

/// An input that could not be used, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedObject {
    pub object: String,
    pub reason: String,
}

/// How many malformed records to keep as examples; the count is exact.
const MALFORMED_EXAMPLES: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunStats {
    /// Objects seen while listing, before pruning.
    pub files_listed: u64,
    /// Objects whose key time cannot hold events of the window.
    pub files_pruned: u64,
    /// CloudTrail-Digest / CloudTrail-Insight objects (not event logs).
    pub files_skipped_not_events: u64,
    /// Objects outside the AWS key layout (read without pruning).
    pub files_outside_layout: u64,
    /// Files under a source folder that are not `.json`, `.json.gz`, `.gz`, `.jsonl`, `.ndjson`.
    pub files_ignored: u64,
    /// Year/month/day folders not walked: their key times cannot hold events of the window.
    pub dirs_pruned: u64,
    /// `CloudTrail-Digest/` and `CloudTrail-Insight/` folders not walked.
    pub dirs_skipped_not_events: u64,
    pub files_read: u64,
    pub files_failed: Vec<FailedObject>,
    /// Read, but cut short (truncated JSON): the complete records before the cut were used.
    pub files_partial: Vec<FailedObject>,
    /// Folders that could not be listed.
    pub dirs_failed: Vec<FailedObject>,
    pub bytes_compressed: u64,
    pub bytes_decompressed: u64,
    /// Records found in the files (scanned, parsed or not).
    pub records: u64,
    /// Records fully parsed (candidates of the pre-filter, or all with --full-parse).
    pub records_parsed: u64,
    /// Records kept as MFA-relevant events inside the time window.
    pub records_kept: u64,
    /// Relevant records dropped because their eventTime is outside the window.
    pub records_outside_window: u64,
    /// Relevant records dropped as a second copy of one event (the same eventID for the same
    /// recipient account: CloudTrail delivers at least once, and two trails may write one
    /// bucket). Counted once each.
    pub records_duplicate: u64,
    /// Records not MFA-relevant (skipped by the pre-filter, or parsed and irrelevant).
    pub records_dropped: u64,
    /// Records that are not valid JSON.
    pub records_malformed: u64,
    /// Relevant records without a usable eventTime (missing or unreadable): not placed in time.
    pub records_without_time: u64,
    /// Examples of malformed and untimed records (the counts are exact).
    pub problem_examples: Vec<FailedObject>,
    /// `collect`: objects already in the event store and unchanged, so not read again.
    pub files_unchanged: u64,
    /// Event stores read (their parts count as files, their rows as records).
    pub stores_read: Vec<String>,
    /// Files of event stores found in a source tree (manifest, objects file, parts, lock):
    /// the store is read as a store (or, by `collect`, not at all), never as raw files, so
    /// they are not listed.
    pub files_in_stores: u64,
    /// `collect`: event stores found inside the sources and not read (collect reads raw
    /// archives; the store being written is one of them when it lies in a source folder).
    pub stores_skipped: Vec<String>,
    /// Reads in steps (`diagnose` without `--until` over raw sources): objects read by each.
    pub phases: Vec<Phase>,
    /// S3 sources: requests made and the most in flight at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Flight>,
}

/// What reading from S3 held at its peak: the figures that bound its memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct S3Flight {
    /// ListObjectsV2 requests (a page each).
    pub lists: u64,
    /// GetObject requests (ranged GETs of large objects included).
    pub gets: u64,
    /// The most GETs in flight at once.
    pub peak_gets_in_flight: u64,
    /// The most object bytes held at once: fetched or being fetched, not yet parsed.
    pub peak_bytes_in_flight: u64,
}

impl S3Flight {
    /// The requests made since `before` (same source); the peaks stay the source's.
    pub fn since(&self, before: &S3Flight) -> S3Flight {
        S3Flight {
            lists: self.lists - before.lists,
            gets: self.gets - before.gets,
            ..*self
        }
    }
}

/// One step of a read in phases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub name: String,
    pub objects_read: u64,
}

impl RunStats {
    pub fn fail(&mut self, object: impl Into<String>, reason: impl Into<String>) {
        self.files_failed.push(FailedObject {
            object: object.into(),
            reason: reason.into(),
        });
    }

    pub fn partial(&mut self, object: impl Into<String>, reason: impl Into<String>) {
        self.files_partial.push(FailedObject {
            object: object.into(),
            reason: reason.into(),
        });
    }

    pub fn dir_failed(&mut self, object: impl Into<String>, reason: impl Into<String>) {
        self.dirs_failed.push(FailedObject {
            object: object.into(),
            reason: reason.into(),
        });
    }

    /// Every listed object is exactly one of pruned, skipped, unchanged (collect), read or failed.
    pub fn files_balanced(&self) -> bool {
        self.files_listed
            == self.files_pruned
                + self.files_skipped_not_events
                + self.files_unchanged
                + self.files_read
                + self.files_failed.len() as u64
    }

    /// Every record is exactly one of kept, dropped, outside the window, duplicate, malformed or
    /// untimed.
    pub fn records_balanced(&self) -> bool {
        self.records
            == self.records_kept
                + self.records_dropped
                + self.records_outside_window
                + self.records_duplicate
                + self.records_malformed
                + self.records_without_time
    }

    pub fn malformed(&mut self, object: impl Into<String>, reason: impl Into<String>) {
        self.records_malformed += 1;
        self.example(object, reason);
    }

    pub fn without_time(&mut self, object: impl Into<String>, reason: impl Into<String>) {
        self.records_without_time += 1;
        self.example(object, reason);
    }

    fn example(&mut self, object: impl Into<String>, reason: impl Into<String>) {
        if self.problem_examples.len() < MALFORMED_EXAMPLES {
            self.problem_examples.push(FailedObject {
                object: object.into(),
                reason: reason.into(),
            });
        }
    }

    /// Merges another stats block into this one (used by rayon's reduce).
    pub fn merge(&mut self, o: RunStats) {
        self.files_listed += o.files_listed;
        self.files_pruned += o.files_pruned;
        self.files_skipped_not_events += o.files_skipped_not_events;
        self.files_outside_layout += o.files_outside_layout;
        self.files_ignored += o.files_ignored;
        self.dirs_pruned += o.dirs_pruned;
        self.dirs_skipped_not_events += o.dirs_skipped_not_events;
        self.files_read += o.files_read;
        self.files_failed.extend(o.files_failed);
        self.files_partial.extend(o.files_partial);
        self.dirs_failed.extend(o.dirs_failed);
        self.records_dropped += o.records_dropped;
        self.bytes_compressed += o.bytes_compressed;
        self.bytes_decompressed += o.bytes_decompressed;
        self.records += o.records;
        self.records_parsed += o.records_parsed;
        self.records_kept += o.records_kept;
        self.records_outside_window += o.records_outside_window;
        self.records_duplicate += o.records_duplicate;
        self.records_malformed += o.records_malformed;
        self.records_without_time += o.records_without_time;
        self.files_unchanged += o.files_unchanged;
        self.stores_read.extend(o.stores_read);
        self.files_in_stores += o.files_in_stores;
        self.stores_skipped.extend(o.stores_skipped);
        self.phases.extend(o.phases);
        self.add_s3(o.s3);
        let room = MALFORMED_EXAMPLES.saturating_sub(self.problem_examples.len());
        self.problem_examples.extend(o.problem_examples.into_iter().take(room));
    }

    /// Moves `n` kept records to duplicates (after the merge found them twice).
    pub fn drop_duplicates(&mut self, n: u64) {
        self.records_kept -= n.min(self.records_kept);
        self.records_duplicate += n;
    }

    /// Moves `n` kept records outside the window (a reading command's final cut).
    pub fn drop_outside(&mut self, n: u64) {
        self.records_kept -= n.min(self.records_kept);
        self.records_outside_window += n;
    }

    /// Adds the requests of another part of the run (the peaks are the larger).
    pub fn add_s3(&mut self, o: Option<S3Flight>) {
        self.s3 = match (self.s3, o) {
            (Some(a), Some(b)) => Some(S3Flight {
                lists: a.lists + b.lists,
                gets: a.gets + b.gets,
                peak_gets_in_flight: a.peak_gets_in_flight.max(b.peak_gets_in_flight),
                peak_bytes_in_flight: a.peak_bytes_in_flight.max(b.peak_bytes_in_flight),
            }),
            (a, b) => a.or(b),
        };
    }

    /// Sorts the lists so reports do not depend on thread scheduling.
    pub fn normalize(&mut self) {
        self.files_failed.sort_by(|a, b| a.object.cmp(&b.object));
        self.files_partial.sort_by(|a, b| a.object.cmp(&b.object));
        self.dirs_failed.sort_by(|a, b| a.object.cmp(&b.object));
        self.problem_examples
            .sort_by(|a, b| a.object.cmp(&b.object).then(a.reason.cmp(&b.reason)));
    }
}

impl std::ops::Add for RunStats {
    type Output = RunStats;
    fn add(mut self, o: RunStats) -> RunStats {
        self.merge(o);
        self
    }
}

/// The process's peak resident set size (`VmHWM` of `/proc/self/status`), on Linux.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_and_caps_examples() {
        let mut a = RunStats {
            files_read: 2,
            ..RunStats::default()
        };
        for i in 0..15 {
            a.malformed(format!("a{i}"), "bad");
        }
        let mut b = RunStats {
            files_read: 3,
            ..RunStats::default()
        };
        for i in 0..15 {
            b.malformed(format!("b{i}"), "bad");
        }
        b.fail("x.json.gz", "truncated gzip");
        let c = a + b;
        assert_eq!(c.files_read, 5);
        assert_eq!(c.records_malformed, 30);
        assert_eq!(c.problem_examples.len(), MALFORMED_EXAMPLES);
        assert_eq!(c.files_failed.len(), 1);
    }
}
