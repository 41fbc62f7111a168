//! `mfatrail scan`: every principal with MFA failure signals in the window,
//! ranked, each IAM user (and root) diagnosed from the run's one index.
//! Role sessions and IAM Identity Center users are listed apart: they have
//! no IAM MFA device for the rules to examine.

use std::io::Write;

use serde::Serialize;

use crate::cli::ScanArgs;
use crate::error::Result;
use crate::event::{HIDDEN_USER, PrincipalKind, format_millis};
use crate::exit::Exit;
use crate::index::Index;
use crate::index::series::{SignalCounts, signal_counts};
use crate::pipeline::load;
use crate::report::{Format, Inputs, sanitize, write_summary};
use crate::rules::{DiagnoseOptions, Metrics, diagnose};

#[derive(Serialize)]
struct Row {
    user: String,
    kind: &'static str,
    account: String,
    accounts: Vec<String>,
    /// MFA failures that are not typing.
    failures: usize,
    /// Failures resolved by a success within minutes.
    typo_failures: usize,
    mfa_required_denials: usize,
    first_failure: String,
    last_failure: String,
    scope: String,
    top_cause: Option<&'static str>,
    causes: Vec<&'static str>,
    conclusion: String,
    extended: bool,
}

/// A principal without IAM MFA devices (role session, Identity Center user).
#[derive(Serialize)]
struct Other {
    principal: String,
    kind: &'static str,
    account: String,
    failures: usize,
    first_failure: String,
    last_failure: String,
}

#[derive(Serialize)]
struct ScanJson {
    since: Option<String>,
    until: Option<String>,
    users: Vec<Row>,
    role_sessions: Vec<Other>,
    identity_center_users: Vec<Other>,
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
    let ix = Index::build(super::filter_rows(loaded.events, &a.filter));
    let lo = since.unwrap_or(i64::MIN);
    let hi = until.unwrap_or(i64::MAX);
    let hidden = ix
        .events
        .iter()
        .filter(|e| e.event_time >= lo && e.event_time <= hi)
        .filter(|e| e.user_name.as_deref() == Some(HIDDEN_USER) && e.event_source == "signin.amazonaws.com")
        .count();
    // Counts, first and last signal of every principal at once (polars over the signal rows).
    let counts: Vec<SignalCounts> = signal_counts(&ix, lo, hi)?;
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut idc = Vec::new();
    for c in &counts {
        let p = ix.principal(c.pid);
        match p.kind {
            PrincipalKind::IamUser | PrincipalKind::Root => {
                let d = diagnose(
                    &ix,
                    c.pid,
                    &DiagnoseOptions {
                        until: Some(c.last),
                        window,
                        extend_to,
                    },
                );
                let scope = d
                    .finding("D5")
                    .and_then(|f| match &f.metrics {
                        Metrics::D5(m) => Some(m.scope),
                        _ => None,
                    })
                    .unwrap_or("none")
                    .to_string();
                users.push(Row {
                    user: p.name.clone(),
                    kind: p.kind.as_str(),
                    account: p.account.clone(),
                    accounts: vec![p.account.clone()],
                    failures: c.real_failures,
                    typo_failures: c.typo_failures,
                    mfa_required_denials: c.denials,
                    first_failure: format_millis(c.first),
                    last_failure: format_millis(c.last),
                    scope,
                    top_cause: d.causes.first().copied(),
                    causes: d.causes.clone(),
                    conclusion: d.conclusion.clone(),
                    extended: d.extended,
                });
            }
            kind => {
                let o = Other {
                    principal: p.name.clone(),
                    kind: kind.as_str(),
                    account: p.account.clone(),
                    failures: c.real_failures + c.typo_failures + c.denials + c.identity_center_failures,
                    first_failure: format_millis(c.first),
                    last_failure: format_millis(c.last),
                };
                if kind == PrincipalKind::RoleSession {
                    roles.push(o);
                } else {
                    idc.push(o);
                }
            }
        }
    }
    // The ranking: real failures and denials first, typing last; ties by time, then name.
    users.sort_by(|a, b| {
        (b.failures + b.mfa_required_denials)
            .cmp(&(a.failures + a.mfa_required_denials))
            .then(b.typo_failures.cmp(&a.typo_failures))
            .then(a.first_failure.cmp(&b.first_failure))
            .then(a.user.cmp(&b.user))
            .then(a.account.cmp(&b.account))
    });
    for v in [&mut roles, &mut idc] {
        v.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.principal.cmp(&b.principal)));
    }
    super::with_output(&a.out.output, out, |w| match a.out.format {
        Format::Json => {
            let doc = ScanJson {
                since: since.map(format_millis),
                until: until.map(format_millis),
                users,
                role_sessions: roles,
                identity_center_users: idc,
                hidden_user_name_failures: hidden,
                inputs: Inputs::new(&loaded.stats, loaded.elapsed),
            };
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            writeln!(w)
        }
        Format::Text => {
            writeln!(w, "IAM users with MFA failures ({})", users.len())?;
            writeln!(
                w,
                "{:<24} {:<12} {:>8} {:>6} {:>8}  {:<20} {:<13} {:<6} causes",
                "user", "account", "failures", "typos", "denials", "first failure", "scope", "top"
            )?;
            for r in &users {
                writeln!(
                    w,
                    "{:<24} {:<12} {:>8} {:>6} {:>8}  {:<20} {:<13} {:<6} {}{}",
                    sanitize(&r.user),
                    sanitize(&r.account),
                    r.failures,
                    r.typo_failures,
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
            for (title, list) in [
                (
                    "Role sessions with MFA failure signals (not IAM users: no device to examine)",
                    &roles,
                ),
                (
                    "IAM Identity Center users with failed sign-in steps (MFA managed in Identity Center)",
                    &idc,
                ),
            ] {
                if list.is_empty() {
                    continue;
                }
                writeln!(w, "\n{title} ({})", list.len())?;
                for o in list {
                    writeln!(
                        w,
                        "  {:<40} {:<12} {:>6}  {} .. {}",
                        sanitize(&o.principal),
                        sanitize(&o.account),
                        o.failures,
                        o.first_failure,
                        o.last_failure
                    )?;
                }
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
