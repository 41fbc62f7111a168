//! The diagnose report: text an analyst reads top-down (conclusion, then each
//! rule with its verdict and evidence, then the inputs), and the JSON contract
//! of DESIGN §2.

use std::io::Write;

use serde::Serialize;

use super::{Inputs, clip, sanitize, write_summary};
use crate::event::Principal;
use crate::rules::pass::Baseline;
use crate::rules::{Diagnosis, Finding, Status};
use crate::stats::RunStats;
use crate::time::{format_duration, format_millis};

#[derive(Serialize)]
pub struct WindowJson {
    pub since: String,
    pub until: String,
    pub extended: bool,
    /// "argument" (--until), "latest_failure" (the latest signal), "latest_typo" (every
    /// failure was typing) or "data_end" (no failure at all).
    pub until_from: crate::rules::UntilFrom,
    /// T0 − window: where the first pass began (the extension begins at `since`).
    pub first_pass_since: String,
}

#[derive(Serialize)]
pub struct ConclusionJson<'a> {
    pub causes: &'a [crate::rules::RuleId],
    pub text: &'a str,
}

#[derive(Serialize)]
pub struct DiagnosisJson<'a> {
    pub user: &'a str,
    pub principal: &'a Principal,
    pub window: WindowJson,
    pub baseline: &'a Baseline,
    /// The principal's events in the window, for charts (failures, typos, denials, successes,
    /// device events, policy changes that reach it).
    pub timeline: &'a [crate::rules::pass::Mark],
    pub findings: &'a [Finding],
    pub conclusion: ConclusionJson<'a>,
    /// The IAM snapshot (`--iam-snapshot`), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_snapshot: Option<&'a crate::rules::SnapshotSummary>,
    pub inputs: Inputs,
}

pub fn to_json<'a>(d: &'a Diagnosis, stats: &RunStats, elapsed: std::time::Duration) -> DiagnosisJson<'a> {
    DiagnosisJson {
        user: &d.principal.name,
        principal: &d.principal,
        window: WindowJson {
            since: format_millis(d.since),
            until: format_millis(d.until),
            extended: d.extended,
            until_from: d.until_from,
            first_pass_since: format_millis(d.first_since),
        },
        baseline: &d.baseline,
        timeline: &d.marks,
        findings: &d.findings,
        conclusion: ConclusionJson {
            causes: &d.causes,
            text: &d.conclusion,
        },
        iam_snapshot: d.snapshot.as_ref(),
        inputs: Inputs::new(stats, elapsed),
    }
}

fn badge(s: Status, style: super::Style) -> String {
    match s {
        Status::Confirmed => style.red("CONFIRMED    "),
        Status::RuledOut => style.green("ruled out    "),
        Status::Inconclusive => style.yellow("inconclusive "),
        Status::NotEvaluable => style.dim("not evaluable"),
        Status::Error => style.red("ERROR        "),
    }
}

/// The failure series of the window as one line: one character per bucket of 1/48 of the
/// window (30 minutes for 24 h), failures and denials counted, typos left out.
fn failure_sparkline(d: &Diagnosis) -> Option<String> {
    use crate::rules::pass::MarkKind;
    let span = (d.until - d.since).max(1);
    let n = 48usize;
    let mut v = vec![0u32; n];
    let mut any = false;
    for m in &d.marks {
        if matches!(m.kind, MarkKind::Failure | MarkKind::Denial) && m.time >= d.since && m.time <= d.until {
            let i = (((m.time - d.since) as i128 * n as i128) / (span as i128 + 1)) as usize;
            v[i.min(n - 1)] += 1;
            any = true;
        }
    }
    any.then(|| super::style::sparkline(&v))
}

pub fn write_text(
    w: &mut dyn Write,
    d: &Diagnosis,
    stats: &RunStats,
    elapsed: std::time::Duration,
    style: super::Style,
) -> std::io::Result<()> {
    let p = &d.principal;
    let what = match p.kind {
        crate::event::PrincipalKind::IamUser => "IAM user",
        crate::event::PrincipalKind::Root => "root user",
        crate::event::PrincipalKind::RoleSession => "role session",
        crate::event::PrincipalKind::IdentityCenterUser => "IAM Identity Center user",
    };
    if p.account.is_empty() {
        writeln!(
            w,
            "MFA diagnosis for {} ({what}, not in the data read)",
            sanitize(&p.name)
        )?;
    } else {
        writeln!(
            w,
            "MFA diagnosis for {} ({what}, account {})",
            sanitize(&p.name),
            sanitize(&p.account)
        )?;
    }
    let ends = match d.until_from {
        crate::rules::UntilFrom::Argument => "",
        crate::rules::UntilFrom::LatestSignal => ", ending at the user's latest failure signal",
        crate::rules::UntilFrom::LatestTypo => ", ending at the user's latest typo (every failure was typing)",
        crate::rules::UntilFrom::DataEnd => ", ending with the data read",
    };
    writeln!(
        w,
        "Window: {} .. {} ({}{ends}){}",
        format_millis(d.since),
        format_millis(d.until),
        format_duration(d.until - d.since),
        if d.extended {
            format!(
                "  [extended: no cause from {} (T0 − {})]",
                format_millis(d.first_since),
                format_duration(d.t0.map_or(0, |t| t - d.first_since))
            )
        } else {
            String::new()
        }
    )?;
    if let Some(t0) = d.t0 {
        let earlier = if d.earlier_episodes.is_empty() {
            String::new()
        } else {
            format!(
                "; {} earlier episode(s) in the data read, the last ending {}",
                d.earlier_episodes.len(),
                format_millis(d.earlier_episodes[0].1)
            )
        };
        let known = if d.baseline.episode_start_known == Some(false) {
            " (the episode runs back to the start of the data read: it may begin earlier)"
        } else {
            ""
        };
        writeln!(
            w,
            "T0: {} (start of the current failure episode{known}){earlier}",
            format_millis(t0)
        )?;
    }
    if let Some(line) = failure_sparkline(d) {
        writeln!(
            w,
            "Failures: |{line}| {} .. {} (one mark per 1/48 of the window)",
            format_millis(d.since),
            format_millis(d.until)
        )?;
    }
    writeln!(w)?;
    writeln!(w, "{}", style.bold("CONCLUSION"))?;
    writeln!(w, "  {}", sanitize(&d.conclusion))?;
    writeln!(
        w,
        "  causes: {}",
        if d.causes.is_empty() {
            "none".to_string()
        } else {
            d.causes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
        }
    )?;
    writeln!(w)?;
    if let Some(s) = &d.snapshot {
        writeln!(w, "{}", style.bold("IAM SNAPSHOT"))?;
        writeln!(
            w,
            "  {} as of {} ({}); accounts {}",
            sanitize(&s.files.join(", ")),
            s.time,
            s.time_from,
            if s.accounts.is_empty() {
                "unknown".to_owned()
            } else {
                s.accounts.join(", ")
            }
        )?;
        match (&s.other_accounts, &s.not_replayed) {
            (Some(o), _) => writeln!(w, "  not used: {}", sanitize(o))?,
            (None, Some(why)) => writeln!(w, "  dated facts only (device enable dates): {}", sanitize(why))?,
            (None, None) => writeln!(w, "  replayed back to T0 over the logs")?,
        }
        for c in &s.contradictions {
            writeln!(w, "  {} {}", style.yellow("contradiction:"), sanitize(c))?;
        }
        for x in &s.warnings {
            writeln!(w, "  {} {}", style.yellow("warning:"), sanitize(x))?;
        }
        writeln!(w)?;
    }
    writeln!(w, "FINDINGS")?;
    for f in &d.findings {
        writeln!(w, "  [{}] {} {}", badge(f.status, style), f.rule, f.title)?;
        writeln!(w, "      {}", sanitize(&f.summary))?;
        for e in &f.evidence {
            writeln!(
                w,
                "      - {} {} {} ({}) [{}]",
                e.event_time,
                sanitize(&e.event_name),
                sanitize(&e.event_id),
                clip(&e.note, 120),
                sanitize(&e.source_object)
            )?;
        }
    }
    writeln!(w)?;
    write_summary(w, stats, elapsed)
}
