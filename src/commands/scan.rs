//! `mfatrail scan`: every principal with MFA failure signals in the window,
//! ranked, each IAM user (and root) diagnosed from the run's one index.
//! Role sessions and IAM Identity Center users are listed apart: they have
//! no IAM MFA device for the rules to examine.

use std::io::Write;

use crate::cli::ScanArgs;
use crate::error::Result;
use crate::event::{HIDDEN_USER, PrincipalKind, format_millis};
use crate::exit::Exit;
use crate::index::series::{SignalCounts, signal_counts};
use crate::pipeline::load;
use crate::report::scan::{OtherPrincipal as Other, ScanReport, ScanRow as Row};
use crate::report::{Format, Inputs};
use crate::rules::{DiagnoseOptions, Diagnosis, Metrics, RuleId, diagnose};
use rayon::prelude::*;

/// Diagnoses `p` from its own stretch of the run's events, `[T0 − extend_to, …]`, as
/// `diagnose` reads it (DESIGN §6.0): the shared index answers first, and where the stretch is
/// shorter than what the scan read, a small index over the stretch answers instead, so that
/// scan and diagnose agree on the same objects.
fn diagnose_alone(
    ix: &crate::index::Index,
    p: crate::index::Pid,
    opts: &DiagnoseOptions,
    snapshot: &Option<(crate::snapshot::Snapshot, Option<i64>)>,
) -> Diagnosis {
    let d = diagnose(ix, p, opts);
    let principal = ix.principal(p);
    let own: Vec<crate::event::EventRow> = ix
        .about(p)
        .iter()
        .filter(|&&i| ix.actor(i) == Some(p))
        .map(|&i| ix.event(i).clone())
        .collect();
    let planned = crate::index::plan::plan(
        &own,
        &principal.name,
        std::slice::from_ref(&principal.account),
        opts.until,
        i64::MIN,
        opts.extend_to,
    );
    let from = match planned {
        crate::index::plan::Planned::Settled(crate::index::plan::Plan { from: Some(f), .. }) => f,
        _ => return d,
    };
    let start = ix.events.partition_point(|e| e.event_time < from);
    if start == 0 {
        return d;
    }
    let key = ix.principal(p).key();
    let sub = super::index(ix.events[start..].to_vec(), snapshot.clone());
    match sub.id(&key) {
        Some(q) => diagnose(&sub, q, opts),
        None => d,
    }
}

pub fn run(a: ScanArgs, out: &mut dyn Write) -> Result<Exit> {
    super::check_format(
        "scan",
        a.out.format,
        &[Format::Text, Format::Json, Format::Html, Format::Markdown, Format::Csv],
    )?;
    let (since, until) = super::since_until(&a.since, &a.until)?;
    let (window, extend_to) = super::passes(&a.pass)?;
    let snapshot = super::load_snapshot(&a.snapshot)?;
    // Read far enough back for each user's own 48 h window.
    let mut opts = super::load_options(&a.read, since.map(|s| s - extend_to), until)?;
    opts.s3.accounts = a.filter.accounts.clone();
    opts.s3.regions = a.filter.regions.clone();
    let loaded = load(&opts)?;
    let ix = super::index(super::filter_rows(loaded.events, &a.filter), snapshot.clone());
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
    let opts = DiagnoseOptions {
        until: None,
        window,
        extend_to,
    };
    let iam: Vec<&SignalCounts> = counts
        .iter()
        .filter(|c| ix.principal(c.pid).kind.has_iam_devices())
        .collect();
    // Built once here: a rayon worker waiting inside its initialisation (polars runs on its
    // own pool) would otherwise steal another diagnosis that waits for the same `OnceLock`.
    let _ = ix.series();
    // Each user diagnosed as `diagnose` would: from its own stretch `[T0 − extend_to, …]`.
    let diagnosed: Vec<crate::rules::Diagnosis> = crate::pipeline::pool(a.read.threads)?.install(|| {
        iam.par_iter()
            .map(|c| diagnose_alone(&ix, c.pid, &opts, &snapshot))
            .collect()
    });
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut idc = Vec::new();
    for (c, d) in iam.iter().zip(diagnosed) {
        let p = ix.principal(c.pid);
        let scope = d
            .finding(RuleId::D5)
            .and_then(|f| match &f.metrics {
                Metrics::D5(m) => Some(m.scope.as_str()),
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
            first_failure: d.t0.map(format_millis),
            last_failure: format_millis(c.last),
            scope,
            top_cause: d.causes.first().copied(),
            causes: d.causes.clone(),
            conclusion: d.conclusion.clone(),
            extended: d.extended,
        });
    }
    for c in counts.iter().filter(|c| !ix.principal(c.pid).kind.has_iam_devices()) {
        let p = ix.principal(c.pid);
        let o = Other {
            principal: p.name.clone(),
            kind: p.kind.as_str(),
            account: p.account.clone(),
            failures: c.real_failures + c.typo_failures + c.denials + c.identity_center_failures,
            first_failure: format_millis(c.first),
            last_failure: format_millis(c.last),
        };
        if p.kind == PrincipalKind::RoleSession {
            roles.push(o);
        } else {
            idc.push(o);
        }
    }
    // The ranking: users with a confirmed cause first, then real failures and denials, typing
    // last; ties by time, then name.
    users.sort_by(|a, b| {
        (!b.causes.is_empty())
            .cmp(&!a.causes.is_empty())
            .then((b.failures + b.mfa_required_denials).cmp(&(a.failures + a.mfa_required_denials)))
            .then(b.typo_failures.cmp(&a.typo_failures))
            .then(a.first_failure.cmp(&b.first_failure))
            .then(a.last_failure.cmp(&b.last_failure))
            .then(a.user.cmp(&b.user))
            .then(a.account.cmp(&b.account))
    });
    for v in [&mut roles, &mut idc] {
        v.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.principal.cmp(&b.principal)));
    }
    let report = ScanReport {
        since: since.map(format_millis),
        until: until.map(format_millis),
        users,
        role_sessions: roles,
        identity_center_users: idc,
        hidden_user_name_failures: hidden,
        inputs: Inputs::new(&loaded.stats, loaded.elapsed),
    };
    let style = super::style(&a.out);
    super::with_output(&a.out.output, out, |w| match a.out.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &report)?;
            writeln!(w)
        }
        Format::Html => crate::report::html::write_scan(w, &report),
        Format::Markdown => crate::report::scan::write_markdown(w, &report),
        Format::Csv => crate::report::scan::write_csv(w, &report),
        Format::Text => crate::report::scan::write_text(w, &report, style),
    })?;
    super::discard(ix);
    Ok(super::strict_exit(&a.read, &loaded.stats, Exit::Ok))
}
