//! Markdown for tickets (GitHub, Jira): conclusion, a findings table, the
//! evidence as a list, one inputs line. Log strings are escaped so that a
//! hostile user agent cannot close a table cell, start a heading or a link,
//! or hide text with control characters.

use std::io::Write;

use crate::rules::{Diagnosis, all_meta};
use crate::stats::RunStats;
use crate::time::format_millis;

/// Makes control, bidi and zero-width characters visible (as the terminal report does), then
/// escapes what Markdown would act on inside a line: emphasis and code (`* _ ` ~`), links
/// (`[ ]`), raw HTML (`< >`), table cells (`|`), and backslashes. Lines are ours, so
/// headings and lists cannot start inside a value.
pub fn md(s: &str) -> String {
    let clean = super::sanitize(s);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '<' | '>' | '~') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A value shown as inline code: control characters made visible (a newline would end the code
/// span and let the rest act as Markdown), backticks (which would close it) replaced.
pub fn code(s: &str) -> String {
    super::sanitize(s).replace('`', "'")
}

pub fn write_diagnosis(w: &mut dyn Write, d: &Diagnosis, s: &RunStats) -> std::io::Result<()> {
    let p = &d.principal;
    writeln!(
        w,
        "## MFA diagnosis: {} ({}, account {})\n",
        md(&p.name),
        p.kind.as_str(),
        if p.account.is_empty() {
            "unknown".into()
        } else {
            md(&p.account)
        }
    )?;
    writeln!(
        w,
        "Window {} .. {}{}\n",
        format_millis(d.since),
        format_millis(d.until),
        if d.extended {
            " (extended: no cause in the first pass)"
        } else {
            ""
        }
    )?;
    writeln!(w, "**Conclusion.** {}\n", md(&d.conclusion))?;
    if let Some(id) = d.causes.first()
        && let Some(m) = all_meta().into_iter().find(|m| m.id == *id)
    {
        writeln!(w, "**What to do next.** {}\n", md(m.next_step))?;
    }
    if let Some(snap) = &d.snapshot {
        let how = match (&snap.other_accounts, &snap.not_replayed) {
            (Some(o), _) => format!("not used: {}", md(o)),
            (None, Some(why)) => format!("dated facts only: {}", md(why)),
            (None, None) => "replayed back to T0 over the logs".to_owned(),
        };
        writeln!(
            w,
            "**IAM snapshot.** {} as of {} ({}); {how}.\n",
            md(&snap.files.join(", ")),
            snap.time,
            md(snap.time_from)
        )?;
        for c in &snap.contradictions {
            writeln!(w, "- contradiction: {}", md(c))?;
        }
        for x in &snap.warnings {
            writeln!(w, "- warning: {}", md(x))?;
        }
        if !snap.contradictions.is_empty() || !snap.warnings.is_empty() {
            writeln!(w)?;
        }
    }
    writeln!(w, "| rule | title | verdict | summary |")?;
    writeln!(w, "|---|---|---|---|")?;
    for f in &d.findings {
        writeln!(
            w,
            "| {} | {} | {} | {} |",
            f.rule,
            md(f.title),
            f.status.as_str().replace('_', " "),
            md(&f.summary)
        )?;
    }
    writeln!(w, "\n### Evidence\n")?;
    for f in d.findings.iter().filter(|f| !f.evidence.is_empty()) {
        writeln!(w, "- **{}** {}", f.rule, md(f.title))?;
        for e in &f.evidence {
            writeln!(
                w,
                "  - {} `{}` {}: {} ({})",
                md(&e.event_time),
                code(&e.event_id),
                md(&e.event_name),
                md(&e.note),
                md(&e.source_object)
            )?;
        }
    }
    writeln!(
        w,
        "\n*Inputs:* {} files listed, {} read, {} failed; {} records, {} kept, {} duplicate copies, {} malformed.",
        s.files_listed,
        s.files_read,
        s.files_failed.len(),
        s.records,
        s.records_kept,
        s.records_duplicate,
        s.records_malformed
    )
}
