//! `mfatrail scan`: every user with MFA failure signals in the window, ranked
//! by how much they fail, each with first failure, scope and top cause.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::cli::ScanArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::frame;
use crate::parse::EventClass;
use crate::pipeline::load;
use crate::report::{Format, Inputs, sanitize, write_summary};
use crate::rules::{DiagnoseOptions, diagnose};
use crate::time::format_millis;

const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

#[derive(Serialize)]
struct Row {
    user: String,
    accounts: Vec<String>,
    failures: usize,
    mfa_required_denials: usize,
    first_failure: String,
    last_failure: String,
    scope: String,
    top_cause: Option<&'static str>,
    causes: Vec<&'static str>,
    conclusion: String,
    extended: bool,
}

#[derive(Serialize)]
struct ScanJson {
    since: Option<String>,
    until: Option<String>,
    users: Vec<Row>,
    hidden_user_name_failures: usize,
    inputs: Inputs,
}

pub fn run(a: ScanArgs, out: &mut dyn Write) -> Result<Exit> {
    let (since, until) = super::since_until(&a.since, &a.until)?;
    let (window, extend_to) = super::passes(&a.pass)?;
    // Read far enough back for each user's own 48 h window.
    let mut opts = super::load_options(&a.read, since.map(|s| s - extend_to), until)?;
    opts.s3.accounts = a.filter.accounts.clone();
    opts.s3.regions = a.filter.regions.clone();
    let loaded = load(&opts)?;
    let rows = super::filter_rows(frame::rows(&loaded.frame)?, &a.filter);
    let in_scan = |t: i64| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u);
    let mut per_user: BTreeMap<String, (String, Vec<&crate::parse::EventRow>)> = BTreeMap::new();
    let mut hidden = 0;
    for e in rows
        .iter()
        .filter(|e| matches!(e.class, EventClass::MfaFailure | EventClass::MfaRequiredDenied) && in_scan(e.event_time))
    {
        let Some(u) = e.user_name.as_deref() else { continue };
        if u == HIDDEN {
            hidden += 1;
            continue;
        }
        per_user
            .entry(u.to_ascii_lowercase())
            .or_insert_with(|| (u.to_string(), Vec::new()))
            .1
            .push(e);
    }
    let mut table: Vec<Row> = per_user
        .into_values()
        .map(|(user, sig)| {
            let last = sig.iter().map(|e| e.event_time).max().unwrap_or(0);
            let d = diagnose(
                &rows,
                &user,
                &DiagnoseOptions {
                    until: Some(last),
                    window,
                    extend_to,
                },
            );
            let scope = d
                .finding("D5")
                .and_then(|f| f.metrics.get("scope"))
                .and_then(|v| v.as_str())
                .unwrap_or("none")
                .to_string();
            let mut accounts: Vec<String> = sig.iter().filter_map(|e| e.account()).map(str::to_owned).collect();
            accounts.sort();
            accounts.dedup();
            Row {
                failures: sig.iter().filter(|e| e.class == EventClass::MfaFailure).count(),
                mfa_required_denials: sig.iter().filter(|e| e.class == EventClass::MfaRequiredDenied).count(),
                first_failure: format_millis(sig.iter().map(|e| e.event_time).min().unwrap_or(0)),
                last_failure: format_millis(last),
                accounts,
                scope,
                top_cause: d.causes.first().copied(),
                causes: d.causes.clone(),
                conclusion: d.conclusion.clone(),
                extended: d.extended,
                user,
            }
        })
        .collect();
    table.sort_by(|a, b| {
        (b.failures + b.mfa_required_denials)
            .cmp(&(a.failures + a.mfa_required_denials))
            .then(a.first_failure.cmp(&b.first_failure))
            .then(a.user.cmp(&b.user))
    });
    super::with_output(&a.out.output, out, |w| match a.out.format {
        Format::Json => {
            let doc = ScanJson {
                since: since.map(format_millis),
                until: until.map(format_millis),
                users: table,
                hidden_user_name_failures: hidden,
                inputs: Inputs::new(&loaded.stats, loaded.elapsed),
            };
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)
        }
        Format::Text => {
            writeln!(w, "Users with MFA failures ({})", table.len())?;
            writeln!(
                w,
                "{:<24} {:>8} {:>8}  {:<20} {:<13} {:<6} causes",
                "user", "failures", "denials", "first failure", "scope", "top"
            )?;
            for r in &table {
                writeln!(
                    w,
                    "{:<24} {:>8} {:>8}  {:<20} {:<13} {:<6} {}{}",
                    sanitize(&r.user),
                    r.failures,
                    r.mfa_required_denials,
                    r.first_failure,
                    r.scope,
                    r.top_cause.unwrap_or("-"),
                    if r.causes.is_empty() {
                        "none".into()
                    } else {
                        r.causes.join(",")
                    },
                    if r.extended { " (48 h)" } else { "" }
                )?;
            }
            if hidden > 0 {
                writeln!(
                    w,
                    "\n{hidden} failed sign-in(s) with a user name that does not exist (HIDDEN_DUE_TO_SECURITY_REASONS)."
                )?;
            }
            writeln!(w)?;
            write_summary(w, &loaded.stats, loaded.elapsed)
        }
    })?;
    Ok(super::strict_exit(&a.read, &loaded.stats, Exit::Ok))
}
