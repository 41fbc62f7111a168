//! `mfatrail timeline`: the user's kept events in time order, then the run summary.

use std::io::Write;

use serde::Serialize;

use crate::cli::TimelineArgs;
use crate::error::Result;
use crate::event::EventRow;
use crate::exit::Exit;
use crate::pipeline::load;
use crate::report::{Format, Inputs, clip, sanitize, write_summary};
use crate::time::format_millis;

#[derive(Serialize)]
struct Window {
    since: Option<String>,
    until: Option<String>,
}

#[derive(Serialize)]
struct TimelineJson<'a> {
    user: &'a str,
    /// The principals shown (a user name is unique only within an account).
    principals: Vec<&'a crate::event::Principal>,
    window: Window,
    events: &'a [EventRow],
    #[serde(skip_serializing_if = "Option::is_none")]
    iam_snapshot: Option<SnapshotFacts>,
    inputs: Inputs,
}

/// What the IAM snapshot says of the user: devices, and the policies requiring MFA at the end of
/// the window (replayed over the logs).
#[derive(Serialize)]
struct SnapshotFacts {
    summary: crate::rules::SnapshotSummary,
    devices: Vec<String>,
    requirements: Vec<String>,
}

fn snapshot_facts(ix: &crate::index::Index, who: &[u32], at: i64) -> Option<SnapshotFacts> {
    let v = ix.snapshot.as_ref()?;
    let mut devices = Vec::new();
    let mut requirements = Vec::new();
    for &p in who {
        let pr = ix.principal(p);
        devices.extend(v.devices_of(&pr.account, &pr.name).into_iter().map(|d| {
            format!(
                "{} ({}, enabled {}; {})",
                d.serial,
                d.kind.as_str(),
                d.enable_date.map_or("?".to_owned(), format_millis),
                d.seen_in.join(" and ")
            )
        }));
        requirements.extend(ix.policies.requirements_at(&pr.key(), at).into_iter().map(|r| r.via));
    }
    Some(SnapshotFacts {
        summary: crate::rules::SnapshotSummary::of(v),
        devices,
        requirements,
    })
}

pub fn run(a: TimelineArgs, out: &mut dyn Write, _err: &mut dyn Write) -> Result<Exit> {
    super::check_format("timeline", a.out.format, &[Format::Text, Format::Json, Format::Csv])?;
    let (since, until) = super::since_until(&a.since, &a.until)?;
    let snapshot = super::load_snapshot(&a.snapshot)?;
    let mut opts = super::load_options(&a.read, since, until)?;
    opts.s3.accounts = a.filter.accounts.clone();
    opts.s3.regions = a.filter.regions.clone();
    let loaded = load(&opts)?;
    let ix = super::index(super::filter_rows(loaded.events, &a.filter), snapshot);
    // The IAM users (and root) of that name in the accounts asked (every account when none is
    // given: a name is unique only within one, so each line says its account); a role session
    // or an Identity Center user of that name only when no IAM user has it.
    let who = ix.principals_named(&a.user, &a.filter.accounts);
    let mut idx: Vec<u32> = who.iter().flat_map(|&p| ix.about(p).iter().copied()).collect();
    idx.sort_unstable();
    idx.dedup();
    let events: Vec<EventRow> = idx.into_iter().map(|i| ix.event(i).clone()).collect();
    let at = until.or(events.last().map(|e| e.event_time)).unwrap_or(0);
    let facts = snapshot_facts(&ix, &who, at);
    let principals: Vec<&crate::event::Principal> = who.iter().map(|&p| ix.principal(p)).collect();
    super::with_output(&a.out.output, out, |w| match a.out.format {
        Format::Json => {
            let doc = TimelineJson {
                user: &a.user,
                principals: principals.clone(),
                window: Window {
                    since: since.map(format_millis),
                    until: until.map(format_millis),
                },
                events: &events,
                iam_snapshot: facts,
                inputs: Inputs::new(&loaded.stats, loaded.elapsed),
            };
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)
        }
        Format::Csv => crate::report::csv::write_events(w, &events),
        _ => {
            write_text(w, &a.user, &principals, &events, &loaded.stats, loaded.elapsed)?;
            if let Some(f) = &facts {
                writeln!(w)?;
                writeln!(
                    w,
                    "IAM snapshot ({}, as of {})",
                    sanitize(&f.summary.files.join(", ")),
                    f.summary.time
                )?;
                for d in &f.devices {
                    writeln!(w, "  device: {}", sanitize(d))?;
                }
                for r in &f.requirements {
                    writeln!(w, "  MFA required by: {}", sanitize(r))?;
                }
                for c in &f.summary.contradictions {
                    writeln!(w, "  contradiction: {}", sanitize(c))?;
                }
            }
            Ok(())
        }
    })?;
    super::discard(ix);
    Ok(super::strict_exit(&a.read, &loaded.stats, Exit::Ok))
}

fn write_text(
    w: &mut dyn Write,
    user: &str,
    principals: &[&crate::event::Principal],
    events: &[EventRow],
    stats: &crate::stats::RunStats,
    elapsed: std::time::Duration,
) -> std::io::Result<()> {
    let whom: Vec<String> = principals
        .iter()
        .map(|p| {
            format!(
                "{} in {}",
                p.kind.as_str(),
                sanitize(if p.account.is_empty() { "?" } else { &p.account })
            )
        })
        .collect();
    writeln!(
        w,
        "Timeline of {} ({}; {} events)",
        sanitize(user),
        if whom.is_empty() {
            "not in the data read".to_owned()
        } else {
            whom.join(", ")
        },
        events.len()
    )?;
    if principals.len() > 1 {
        writeln!(w, "Several principals have that name: give --account to see one.")?;
    }
    writeln!(w)?;
    for e in events {
        let actor = e.user_name.as_ref().or(e.role_name.as_ref());
        let who = match (actor, &e.target_user) {
            (Some(u), Some(t)) if u != t => format!(" by {} on {}", sanitize(u), sanitize(t)),
            _ => String::new(),
        };
        writeln!(
            w,
            "{}  {:<12} {:<22} {:<24} {:<7} {}{}",
            format_millis(e.event_time),
            sanitize(e.account().unwrap_or("-")),
            e.class.as_str(),
            sanitize(&e.event_name),
            e.outcome.as_str(),
            sanitize(e.source_ip.as_deref().unwrap_or("-")),
            who
        )?;
        let mut details = Vec::new();
        if let Some(s) = &e.mfa_serial {
            details.push(format!("serial {}", sanitize(s)));
        }
        if let Some(m) = e.error_code.as_deref().or(e.error_message.as_deref()) {
            let msg = e.error_message.as_deref().unwrap_or("");
            if m == msg {
                details.push(format!("error: {}", clip(msg, 140)));
            } else {
                details.push(format!("error: {} {}", sanitize(m), clip(msg, 140)));
            }
        }
        if let Some(p) = e
            .policy_arn
            .as_deref()
            .or(e.policy_name.as_deref())
            .or(e.group_name.as_deref())
        {
            details.push(format!("policy/group {}", sanitize(p)));
        }
        if let Some(ua) = &e.user_agent {
            details.push(format!("ua {}", clip(ua, 80)));
        }
        details.push(format!(
            "event {} in {}",
            sanitize(&e.event_id),
            sanitize(&e.source_object)
        ));
        writeln!(w, "    {}", details.join(" | "))?;
    }
    writeln!(w)?;
    write_summary(w, stats, elapsed)
}
