//! The scan report: its JSON contract (the types below) and its text,
//! Markdown and CSV forms (HTML is in `html.rs`).

use std::io::Write;

use serde::Serialize;

use super::markdown::md;
use super::style::Style;
use super::{Inputs, csv, sanitize, write_summary};

/// One IAM user (or root) with failure signals.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRow {
    pub user: String,
    pub kind: &'static str,
    pub account: String,
    pub accounts: Vec<String>,
    /// MFA failures that are not typing.
    pub failures: usize,
    /// Failures resolved by a success within minutes.
    pub typo_failures: usize,
    pub mfa_required_denials: usize,
    /// T0: the first signal of the user's current failure episode (None: typing only).
    pub first_failure: Option<String>,
    pub last_failure: String,
    pub scope: String,
    pub top_cause: Option<crate::rules::RuleId>,
    pub causes: Vec<crate::rules::RuleId>,
    pub conclusion: String,
    pub extended: bool,
}

/// A principal without IAM MFA devices (role session, Identity Center user).
#[derive(Debug, Clone, Serialize)]
pub struct OtherPrincipal {
    pub principal: String,
    pub kind: &'static str,
    pub account: String,
    pub failures: usize,
    pub first_failure: String,
    pub last_failure: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub since: Option<String>,
    pub until: Option<String>,
    pub users: Vec<ScanRow>,
    pub role_sessions: Vec<OtherPrincipal>,
    pub identity_center_users: Vec<OtherPrincipal>,
    pub hidden_user_name_failures: usize,
    pub inputs: Inputs,
}

/// Rule ids joined by `sep`.
fn ids(c: &[crate::rules::RuleId], sep: &str) -> String {
    c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(sep)
}

pub fn write_text(w: &mut dyn Write, r: &ScanReport, style: Style) -> std::io::Result<()> {
    writeln!(
        w,
        "{}",
        style.bold(&format!("IAM users with MFA failures ({})", r.users.len()))
    )?;
    writeln!(
        w,
        "{:<24} {:<12} {:>8} {:>6} {:>8}  {:<20} {:<13} {:<6} causes",
        "user", "account", "failures", "typos", "denials", "first failure", "scope", "top"
    )?;
    for u in &r.users {
        let causes = if u.causes.is_empty() {
            "none".into()
        } else {
            style.red(&ids(&u.causes, ","))
        };
        writeln!(
            w,
            "{:<24} {:<12} {:>8} {:>6} {:>8}  {:<20} {:<13} {:<6} {}{}",
            sanitize(&u.user),
            sanitize(&u.account),
            u.failures,
            u.typo_failures,
            u.mfa_required_denials,
            u.first_failure.as_deref().unwrap_or("-"),
            u.scope,
            u.top_cause.map_or("-", |c| c.as_str()),
            causes,
            if u.extended { " (48 h)" } else { "" }
        )?;
    }
    for (title, list) in [
        (
            "Role sessions with MFA failure signals (not IAM users: no device to examine)",
            &r.role_sessions,
        ),
        (
            "IAM Identity Center users with failed sign-in steps (MFA managed in Identity Center)",
            &r.identity_center_users,
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
    if r.hidden_user_name_failures > 0 {
        writeln!(
            w,
            "\n{} failed sign-in(s) with a user name that does not exist (HIDDEN_DUE_TO_SECURITY_REASONS).",
            r.hidden_user_name_failures
        )?;
    }
    writeln!(w)?;
    write_summary(
        w,
        &r.inputs.stats,
        std::time::Duration::from_secs_f64(r.inputs.elapsed_seconds),
    )
}

pub fn write_markdown(w: &mut dyn Write, r: &ScanReport) -> std::io::Result<()> {
    writeln!(w, "## MFA failures by user\n")?;
    writeln!(
        w,
        "| user | account | failures | typos | denials | first failure | scope | causes |"
    )?;
    writeln!(w, "|---|---|---|---|---|---|---|---|")?;
    for u in &r.users {
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&u.user),
            md(&u.account),
            u.failures,
            u.typo_failures,
            u.mfa_required_denials,
            u.first_failure.as_deref().unwrap_or("-"),
            u.scope,
            if u.causes.is_empty() {
                "none".into()
            } else {
                ids(&u.causes, ", ")
            }
        )?;
    }
    for (title, list) in [
        ("Role sessions", &r.role_sessions),
        ("IAM Identity Center users", &r.identity_center_users),
    ] {
        if !list.is_empty() {
            writeln!(
                w,
                "\n{title}: {}",
                list.iter().map(|o| md(&o.principal)).collect::<Vec<_>>().join(", ")
            )?;
        }
    }
    let s = &r.inputs.stats;
    writeln!(
        w,
        "\n*Inputs:* {} files listed, {} read, {} failed; {} records, {} kept, {} malformed.",
        s.files_listed,
        s.files_read,
        s.files_failed.len(),
        s.records,
        s.records_kept,
        s.records_malformed
    )
}

pub fn write_csv(w: &mut dyn Write, r: &ScanReport) -> std::io::Result<()> {
    csv::row(
        w,
        [
            "user",
            "kind",
            "account",
            "failures",
            "typo_failures",
            "mfa_required_denials",
            "first_failure",
            "last_failure",
            "scope",
            "top_cause",
            "causes",
            "conclusion",
        ],
    )?;
    for u in &r.users {
        csv::row(
            w,
            [
                u.user.clone(),
                u.kind.to_string(),
                u.account.clone(),
                u.failures.to_string(),
                u.typo_failures.to_string(),
                u.mfa_required_denials.to_string(),
                u.first_failure.clone().unwrap_or_default(),
                u.last_failure.clone(),
                u.scope.clone(),
                u.top_cause.map_or("", |c| c.as_str()).to_string(),
                ids(&u.causes, " "),
                u.conclusion.clone(),
            ],
        )?;
    }
    for o in r.role_sessions.iter().chain(&r.identity_center_users) {
        csv::row(
            w,
            [
                o.principal.clone(),
                o.kind.to_string(),
                o.account.clone(),
                o.failures.to_string(),
                String::new(),
                String::new(),
                o.first_failure.clone(),
                o.last_failure.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        )?;
    }
    Ok(())
}
