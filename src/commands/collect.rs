//! `mfatrail collect`: read an archive once into an event store (Parquet),
//! incrementally: objects already collected and unchanged are not read again,
//! changed ones replace their rows.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::CollectArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::pipeline;
use crate::report::{Format, Inputs, human_bytes, write_summary};
use crate::source::{Location, ObjectRef};
use crate::store::{Collected, CommitSummary, ObjectInfo, Store};
use crate::time::format_millis;

#[derive(Serialize)]
struct CollectJson {
    store: String,
    objects_listed: usize,
    objects_unchanged: u64,
    objects_read: u64,
    orphans_removed: u64,
    commit: CommitSummary,
    store_rows: u64,
    store_parts: usize,
    store_bytes: u64,
    classes: std::collections::BTreeMap<String, u64>,
    inputs: Inputs,
}

/// The key an object has in the store: its canonical location (the same file given by
/// another path is the same object). Folders are resolved once each, not per file.
struct Keys(std::collections::HashMap<std::path::PathBuf, std::path::PathBuf>);

impl Keys {
    fn of(&mut self, o: &ObjectRef) -> String {
        match &o.loc {
            Location::File(p) => {
                let (dir, name) = (p.parent().unwrap_or(p), p.file_name());
                let canon = self
                    .0
                    .entry(dir.to_path_buf())
                    .or_insert_with(|| std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()));
                match name {
                    Some(n) => canon.join(n),
                    None => canon.clone(),
                }
                .to_string_lossy()
                .into_owned()
            }
            Location::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
        }
    }
}

pub fn run(a: CollectArgs, out: &mut dyn Write) -> Result<Exit> {
    super::check_format("collect", a.out.format, &[Format::Text, Format::Json])?;
    let (since, until) = super::since_until(&a.since, &a.until)?;
    let dir = a
        .read
        .store
        .clone()
        .ok_or_else(|| Error::usage("--store", "", "give the event store folder to write: --store DIR"))?;
    if a.read.sources.is_empty() {
        return Err(Error::usage(
            "--source",
            "",
            "give the raw archive to collect: --source PATH",
        ));
    }
    let mut opts = super::load_options(&a.read, since, until)?;
    // Here --store is where to write, not a source; the window only chooses objects.
    opts.sources = a.read.sources.clone();
    opts.filter_events = false;
    opts.s3.accounts = a.filter.accounts.clone();
    opts.s3.regions = a.filter.regions.clone();
    let mut store = Store::create_or_open(&dir)?;
    let lock = store.lock()?;
    // Re-read under the lock: another collect may have committed since the open.
    store = Store::open(&dir)?;
    store.load_objects()?;
    let orphans = store.remove_orphans()?;
    let mut listing = pipeline::list(&opts)?;
    // Event stores met in the sources are not read (collect reads raw archives): one given as
    // a source is refused; one found inside a source folder (this store, when it lies in the
    // folder collected) is skipped, its files never listed, and named in the summary.
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let roots: Vec<PathBuf> = a.read.sources.iter().map(|s| canon(s)).collect();
    let target = canon(&dir);
    for found in std::mem::take(&mut listing.stores) {
        let c = canon(&found);
        if c != target && roots.contains(&c) {
            return Err(Error::usage(
                "--source",
                found.display().to_string(),
                "is an event store: collect reads raw archives (local or s3://)",
            ));
        }
        listing.stats.stores_skipped.push(found.display().to_string());
    }
    let listed = listing.len();
    let mut unchanged = 0u64;
    let mut keys = Keys(Default::default());
    listing.retain(|o| {
        let need = store.needs(&keys.of(o), o.size, o.version.as_deref());
        if !need {
            unchanged += 1;
        }
        need
    });
    listing.stats.files_unchanged = unchanged;
    let outcomes = pipeline::read(&opts, listing)?;
    let mut stats = outcomes.stats.clone();
    // Collect keeps every MFA-relevant event of an object read (the window only chose the
    // objects), so a later, wider question never misses rows of an object marked as read.
    let batch: Vec<Collected> = outcomes
        .objects
        .into_iter()
        .map(|o| {
            let failure = o.stats.files_failed.first().map(|f| f.reason.clone());
            Collected {
                key: keys.of(&o.object),
                info: ObjectInfo {
                    uri: o.object.uri.clone(),
                    size: o.object.size,
                    version: o.object.version.clone(),
                    records: o.stats.records,
                    kept: o.events.len() as u64,
                    failure,
                    parts: Vec::new(),
                },
                events: super::filter_rows(o.events, &a.filter),
            }
        })
        .collect();
    let read = batch.len() as u64;
    let run = format!("{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"), std::process::id());
    let commit = store.commit(&lock, &run, batch, unchanged)?;
    stats.normalize();
    let classes = store.class_counts();
    let doc = CollectJson {
        store: dir.display().to_string(),
        objects_listed: listed,
        objects_unchanged: unchanged,
        objects_read: read,
        orphans_removed: orphans,
        store_rows: store.manifest.parts.values().map(|p| p.rows).sum(),
        store_parts: store.manifest.parts.len(),
        store_bytes: store.manifest.parts.values().map(|p| p.bytes).sum(),
        classes,
        commit,
        inputs: Inputs::new(&stats, outcomes.elapsed),
    };
    super::with_output(&a.out.output, out, |w| match a.out.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)
        }
        _ => {
            writeln!(w, "Event store {}", doc.store)?;
            writeln!(
                w,
                "  objects: {} listed = {} unchanged (not read) + {} read; {} leftover file(s) of an interrupted collect removed",
                doc.objects_listed, doc.objects_unchanged, doc.objects_read, doc.orphans_removed
            )?;
            writeln!(
                w,
                "  rows:    {} written ({} replaced from changed objects, {} quarantined: account not 12 digits) in {} part(s), {}",
                doc.commit.rows_written,
                doc.commit.rows_replaced,
                doc.commit.rows_quarantined,
                doc.commit.parts_written + doc.commit.parts_rewritten,
                human_bytes(doc.commit.bytes_written)
            )?;
            writeln!(
                w,
                "  store:   {} rows in {} parts, {} Parquet; as of {}",
                doc.store_rows,
                doc.store_parts,
                human_bytes(doc.store_bytes),
                format_millis(chrono::Utc::now().timestamp_millis() / 1000 * 1000)
            )?;
            let classes: Vec<String> = doc.classes.iter().map(|(c, n)| format!("{c} {n}")).collect();
            writeln!(w, "  classes: {}", classes.join(", "))?;
            writeln!(w)?;
            write_summary(w, &stats, outcomes.elapsed)
        }
    })?;
    Ok(super::strict_exit(&a.read, &stats, Exit::Ok))
}
