//! `mfatrail diagnose`: the runbook's Diagnosis for one user.

use std::io::Write;

use crate::cli::DiagnoseArgs;
use crate::error::{Error, Result};
use crate::event::{EventClass, EventRow, HOUR, Millis};
use crate::event::{Principal, PrincipalKind, ROOT};
use crate::exit::Exit;
use crate::index::Resolved;
use crate::pipeline::{self, Loaded, load};
use crate::report::Format;
use crate::report::diagnosis::{to_json, write_text};
use crate::rules::{DiagnoseOptions, diagnose};
use crate::source::{ObjectRef, Window};
use crate::stats::Phase;
use crate::time::{DayEnd, parse_time_arg};

pub fn run(a: DiagnoseArgs, out: &mut dyn Write) -> Result<Exit> {
    super::check_format(
        "diagnose",
        a.out.format,
        &[Format::Text, Format::Json, Format::Html, Format::Markdown],
    )?;
    let until = a.until.as_deref().map(|s| parse_time_arg(s, DayEnd::End)).transpose()?;
    let (window, extend_to) = super::passes(&a.pass)?;
    let mut snapshot = super::load_snapshot(&a.snapshot)?;
    if let Some((s, _)) = snapshot.as_mut() {
        s.empty_listing_user = Some(a.user.to_ascii_lowercase());
    }
    // With --until the data needed is known; without it the latest failure must be found first.
    let since = until.map(|u| u - extend_to);
    let mut opts = super::load_options(&a.read, since, until)?;
    opts.s3.accounts = a.filter.accounts.clone();
    opts.s3.regions = a.filter.regions.clone();
    // Without --until over raw sources, find the user's latest failure reading the newest days
    // first, then read only the window before it (DESIGN §8: T0 without reading everything).
    let loaded = if until.is_none() && !opts.sources.iter().any(|s| crate::pipeline::is_store(s)) {
        phased(&opts, &a, extend_to)?
    } else {
        load(&opts)?
    };
    let mut ix = super::index(super::filter_rows(loaded.events, &a.filter), snapshot);
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

/// A failure signal of a principal named `user` (the principal is resolved later, from all
/// that is read).
fn signal_of(e: &EventRow, user: &str) -> bool {
    e.user_name.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(user))
        && (e.class.is_mfa_attempt_failure()
            || matches!(
                e.class,
                EventClass::MfaRequiredDenied | EventClass::AssumeRoleDenied | EventClass::ExplicitDenyWithMfa
            ))
}

/// The day of an object's delivery time (None: outside the key layout, time unknown).
fn day_of(o: &ObjectRef) -> Option<Millis> {
    let k = o.key.as_ref()?;
    k.key_time.or(k.day_start).map(|t| t.div_euclid(24 * HOUR))
}

/// Reads in two phases: day by day, newest first, until the user's latest failure signal is
/// found (objects outside the key layout, whose time is unknown, first); then the objects of
/// the window `[T0 - extend_to, T0]` (plus the delivery lag) not read yet.
fn phased(opts: &crate::pipeline::LoadOptions, a: &DiagnoseArgs, extend_to: Millis) -> Result<Loaded> {
    let mut listing = pipeline::list(opts)?;
    let mut stats = std::mem::take(&mut listing.stats);
    let mut events: Vec<EventRow> = Vec::new();
    let mut elapsed = std::time::Duration::ZERO;
    let mut days: Vec<Option<Millis>> = listing.objects().map(day_of).collect();
    days.sort_unstable_by(|x, y| match (x, y) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, _) => std::cmp::Ordering::Less,
        (_, None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(x),
    });
    days.dedup();
    let mut phase1 = 0u64;
    let mut latest: Option<Millis> = None;
    for day in days {
        let part = listing.split_off(|o| day_of(o) == day);
        phase1 += part.len() as u64;
        let r = pipeline::read(opts, part)?;
        elapsed += r.elapsed;
        stats.merge(r.stats);
        for o in r.objects {
            for e in super::filter_rows(o.events, &a.filter) {
                if signal_of(&e, &a.user) {
                    latest = latest.max(Some(e.event_time));
                }
                events.push(e);
            }
        }
        if latest.is_some() && day.is_some() {
            break;
        }
    }
    let mut phase2 = 0u64;
    if let Some(t) = latest {
        let window = Window {
            since: Some(t - extend_to),
            until: Some(t),
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
            events.extend(o.events);
        }
    }
    // What neither phase needed counts as pruned: listed, never read.
    stats.files_pruned += listing.len() as u64;
    stats.phases = vec![
        Phase {
            name: "find the latest failure (newest days first)".into(),
            objects_read: phase1,
        },
        Phase {
            name: "read the window before it".into(),
            objects_read: phase2,
        },
    ];
    stats.normalize();
    crate::frame::sort_events(&mut events);
    Ok(Loaded { events, stats, elapsed })
}
