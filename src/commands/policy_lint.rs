//! `mfatrail policy-lint`: the MFA pitfalls of DESIGN §6 on any policy document, for CI.
//! Exit 0: clean; 1: pitfalls found; 2: a document could not be read or is not a policy (the
//! others are still checked and reported), or a bad snapshot.

use std::io::Write;

use serde::Serialize;

use crate::cli::PolicyLintArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::policy::parse_policy;
use crate::report::{Format, sanitize};
use crate::snapshot::Snapshot;

#[derive(Serialize)]
struct Report {
    documents: usize,
    findings: usize,
    /// Documents that could not be read or are not policies.
    errors: usize,
    results: Vec<DocResult>,
}

#[derive(Serialize)]
struct DocResult {
    /// The file, and for a snapshot what the document is.
    source: String,
    requires_mfa: bool,
    pitfalls: Vec<PitfallJson>,
    /// Why the document could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct PitfallJson {
    id: &'static str,
    /// Position of the statement in the document.
    statement: usize,
    /// The statement, as compact JSON.
    statement_text: String,
    /// What is wrong and the fix.
    message: String,
}

/// Every policy document of the snapshot, named.
fn snapshot_documents(s: &Snapshot) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for u in s.users.values() {
        for d in &u.inline {
            out.push((format!("inline policy {} of user {}", d.name, u.name), d.text.clone()));
        }
    }
    for g in s.groups.values() {
        for d in &g.inline {
            out.push((format!("inline policy {} of group {}", d.name, g.name), d.text.clone()));
        }
    }
    for r in s.roles.values() {
        if let Some(d) = &r.trust {
            out.push((format!("trust policy of role {}", r.name), d.text.clone()));
        }
    }
    for m in s.managed.values() {
        for (vid, d, default) in &m.versions {
            if let Some(d) = d {
                let which = if *default { "default version" } else { "version" };
                out.push((format!("{which} {vid} of {}", m.arn), d.text.clone()));
            }
        }
    }
    out
}

pub fn run(a: PolicyLintArgs, out: &mut dyn Write) -> Result<Exit> {
    super::check_format("policy-lint", a.format, &[Format::Text, Format::Json])?;
    // Each document on its own: one that cannot be read or parsed is reported and the run
    // goes on with the others; the exit code says so at the end.
    let mut docs: Vec<(String, std::result::Result<String, String>)> = Vec::new();
    for f in &a.documents {
        let text = std::fs::read_to_string(f).map_err(|e| format!("cannot read: {e}"));
        docs.push((f.display().to_string(), text));
    }
    if let Some((snap, _)) = super::load_snapshot(&a.snapshot)? {
        let files = snap.files.join(", ");
        docs.extend(
            snapshot_documents(&snap)
                .into_iter()
                .map(|(what, text)| (format!("{files}: {what}"), Ok(text))),
        );
    }
    let mut results = Vec::new();
    for (source, text) in docs {
        let policy = match text.and_then(|t| parse_policy(&t).map_err(|e| e.to_string())) {
            Ok(p) => p,
            Err(why) => {
                results.push(DocResult {
                    source,
                    requires_mfa: false,
                    pitfalls: Vec::new(),
                    error: Some(why),
                });
                continue;
            }
        };
        let pitfalls = policy
            .pitfalls()
            .into_iter()
            .map(|p| PitfallJson {
                id: p.kind.id(),
                statement: p.statement,
                statement_text: policy
                    .statements
                    .iter()
                    .find(|s| s.index == p.statement)
                    .map(|s| s.text.clone())
                    .unwrap_or_default(),
                message: p.message,
            })
            .collect();
        results.push(DocResult {
            source,
            requires_mfa: policy.requires_mfa(),
            pitfalls,
            error: None,
        });
    }
    let report = Report {
        documents: results.len(),
        findings: results.iter().map(|r| r.pitfalls.len()).sum(),
        errors: results.iter().filter(|r| r.error.is_some()).count(),
        results,
    };
    super::with_output(&a.output, out, |w| match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, &report)?;
            writeln!(w)
        }
        _ => {
            for r in &report.results {
                if let Some(why) = &r.error {
                    writeln!(w, "{}: NOT CHECKED: {}", sanitize(&r.source), sanitize(why))?;
                    continue;
                }
                let mfa = if r.requires_mfa {
                    "requires MFA"
                } else {
                    "no MFA requirement"
                };
                let verdict = if r.pitfalls.is_empty() {
                    "clean".to_owned()
                } else {
                    format!("{} pitfall(s)", r.pitfalls.len())
                };
                writeln!(w, "{}: {mfa}; {verdict}", sanitize(&r.source))?;
                for p in &r.pitfalls {
                    writeln!(w, "  [{}] {}", p.id, sanitize(&p.message))?;
                    writeln!(w, "      {}", crate::report::clip(&p.statement_text, 200))?;
                }
            }
            writeln!(
                w,
                "{} document(s), {} pitfall(s), {} not checked",
                report.documents, report.findings, report.errors
            )
        }
    })?;
    Ok(if report.errors > 0 {
        Exit::Usage
    } else if report.findings > 0 {
        Exit::Findings
    } else {
        Exit::Ok
    })
}
