//! `mfatrail diagnose`: the runbook's Diagnosis for one user.

use std::io::Write;

use crate::cli::DiagnoseArgs;
use crate::error::{Error, Result};
use crate::event::{EventRow, HOUR, Millis, Principal, PrincipalKind, ROOT, same_user};
use crate::exit::Exit;
use crate::index::Resolved;
use crate::index::plan::{Planned, plan};
use crate::pipeline::{self, LoadOptions, Loaded};
use crate::report::Format;
use crate::report::diagnosis::{to_json, write_text};
use crate::rules::{DiagnoseOptions, diagnose};
use crate::source::{ObjectRef, Window};
use crate::stats::Phase;

pub fn run(a: DiagnoseArgs, out: &mut dyn Write) -> Result<Exit> {
    super::check_format(
        "diagnose",
        a.out.format,
        &[Format::Text, Format::Json, Format::Html, Format::Markdown],
    )?;
    let (since, until) = super::since_until(&a.since, &a.until)?;
    let (window, extend_to) = super::passes(&a.pass)?;
    let mut snapshot = super::load_snapshot(&a.snapshot)?;
    if let Some((s, _)) = snapshot.as_mut() {
        s.empty_listing_user = Some(a.user.to_ascii_lowercase());
    }
    let mut opts = super::load_options(&a.read, since, until)?;
    opts.s3.accounts = a.filter.accounts.clone();
    opts.s3.regions = a.filter.regions.clone();
    let loaded = read_episode(&opts, &a, until, extend_to)?;
    let mut ix = super::index(loaded.events, snapshot);
    let pid = match ix.resolve_user(&a.user, &a.filter.accounts) {
        Resolved::One(p) => p,
        Resolved::Ambiguous(accounts) => {
            return Err(Error::AmbiguousUser {
                name: a.user.clone(),
                accounts: accounts
                    .iter()
                    .map(|(acct, n)| format!("{acct}: {n} failure signal(s)"))
                    .collect(),
            });
        }
        Resolved::Absent => {
            let kind = if a.user.eq_ignore_ascii_case(ROOT) {
                PrincipalKind::Root
            } else {
                PrincipalKind::IamUser
            };
            let account = a.filter.accounts.first().cloned().unwrap_or_default();
            ix.ensure(Principal::new(kind, &account, &a.user))
        }
    };
    let d = diagnose(
        &ix,
        pid,
        &DiagnoseOptions {
            until,
            window,
            extend_to,
        },
    );
    super::with_output(&a.out.output, out, |w| match a.out.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &to_json(&d, &loaded.stats, loaded.elapsed))?;
            writeln!(w)
        }
        Format::Html => crate::report::html::write_diagnosis(w, &d, &loaded.stats, loaded.elapsed),
        Format::Markdown => crate::report::markdown::write_diagnosis(w, &d, &loaded.stats),
        Format::Text | Format::Csv => write_text(w, &d, &loaded.stats, loaded.elapsed, super::style(&a.out)),
    })?;
    let ok = if d.has_error() {
        Exit::RuleError
    } else if d.causes.is_empty() {
        Exit::NoCorrelation
    } else {
        Exit::Ok
    };
    super::discard(ix);
    Ok(super::strict_exit(&a.read, &loaded.stats, ok))
}

/// The day of an object's delivery time (None: outside the key layout, time unknown).
fn day_of(o: &ObjectRef) -> Option<Millis> {
    let k = o.key.as_ref()?;
    k.key_time.or(k.day_start).map(|t| t.div_euclid(DAY))
}

const DAY: Millis = 24 * HOUR;

/// Reads what the diagnosis of `a.user` needs (DESIGN §6.0 "What is read"), whatever the
/// sources: event stores whole (in the `--since`/`--until` range), raw objects in steps, those
/// outside the key layout first (their time is unknown), then day by day, newest first, until
/// the planner (`index::plan`) knows where the user's current failure episode begins; then the
/// objects that can hold the `extend_to` before it. Every source then gives the rules the same
/// stretch, `[T0 − extend_to, until]`: the events read outside it are counted as outside the
/// window, so the same objects give the same findings from an archive, a store or query
/// results.
fn read_episode(opts: &LoadOptions, a: &DiagnoseArgs, until: Option<Millis>, extend_to: Millis) -> Result<Loaded> {
    let mut listing = pipeline::list(opts)?;
    let mut stats = std::mem::take(&mut listing.stats);
    let mut elapsed = std::time::Duration::ZERO;
    let stores = std::mem::take(&mut listing.stores);
    let mut runs: Vec<Vec<EventRow>> = Vec::new();
    let is_mine = |e: &EventRow| e.actor().is_some_and(|p| same_user(&p.name, &a.user));
    let mut mine: Vec<EventRow> = Vec::new();
    let take = |events: Vec<EventRow>, runs: &mut Vec<Vec<EventRow>>, mine: &mut Vec<EventRow>| {
        let events = super::filter_rows(events, &a.filter);
        mine.extend(events.iter().filter(|e| is_mine(e)).cloned());
        runs.push(events);
    };
    for run in pipeline::read_stores(opts, &stores, &opts.s3.accounts, &mut stats)? {
        take(run, &mut runs, &mut mine);
    }
    let mut days: Vec<Option<Millis>> = listing.objects().map(day_of).collect();
    days.sort_unstable_by(|x, y| match (x, y) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(x),
    });
    days.dedup();
    let plan_now = |mine: &mut Vec<EventRow>, complete_from: Millis| {
        crate::frame::sort_events(mine);
        plan(mine, &a.user, &a.filter.accounts, until, complete_from, extend_to)
    };
    let mut planned = None;
    let mut phase1 = 0u64;
    for (k, day) in days.iter().enumerate() {
        let part = listing.split_off(|o| day_of(o) == *day);
        phase1 += part.len() as u64;
        let r = pipeline::read(opts, part)?;
        elapsed += r.elapsed;
        stats.merge(r.stats);
        for o in r.objects {
            take(o.events, &mut runs, &mut mine);
        }
        let last = k + 1 == days.len();
        let complete_from = match day {
            _ if last => Millis::MIN,
            Some(d) => d * DAY,
            // Objects outside the layout are read first; the days are still to come.
            None => continue,
        };
        if let Planned::Settled(p) = plan_now(&mut mine, complete_from) {
            planned = Some(p);
            break;
        }
    }
    let planned = match planned {
        Some(p) => p,
        None => match plan_now(&mut mine, Millis::MIN) {
            Planned::Settled(p) => p,
            Planned::NeedMore => unreachable!("everything read settles the plan"),
        },
    };
    let mut phase2 = 0u64;
    if let Some(from) = planned.from.or(planned.reach)
        && !listing.is_empty()
    {
        let window = Window {
            since: Some(from),
            until: None,
            lag: opts.window.lag,
        };
        let part = listing.split_off(|o| {
            o.key
                .as_ref()
                .and_then(|k| k.delivery_range())
                .is_some_and(|(lo, hi)| window.overlaps_key_times(lo, hi))
        });
        phase2 = part.len() as u64;
        let r = pipeline::read(opts, part)?;
        elapsed += r.elapsed;
        stats.merge(r.stats);
        for o in r.objects {
            take(o.events, &mut runs, &mut mine);
        }
    }
    // What neither phase needed counts as pruned: listed, never read.
    stats.files_pruned += listing.len() as u64;
    if !days.is_empty() {
        stats.phases = vec![
            Phase {
                name: "find where the user's failure episode begins (newest days first)".into(),
                objects_read: phase1,
            },
            Phase {
                name: "read the extension's stretch before it".into(),
                objects_read: phase2,
            },
        ];
    }
    stats.normalize();
    let mut events = crate::frame::merge_sorted(runs, opts.threads != 1);
    stats.drop_duplicates(crate::frame::dedup(&mut events));
    // Every source hands the rules the same stretch.
    let before = events.len();
    if let Some(from) = planned.from {
        events.retain(|e| e.event_time >= from);
    }
    stats.drop_outside((before - events.len()) as u64);
    Ok(Loaded { events, stats, elapsed })
}
