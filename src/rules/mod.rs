//! The runbook's Diagnosis section as code. Each rule lives in its own file
//! with the runbook step it implements quoted in its header; `REGISTRY` lists
//! them in runbook order. A pass evaluates every rule over one window; when
//! no cause is confirmed the analysis is repeated over the extended window
//! (rule X), as the runbook's "If no correlation is found" paragraph says.

pub mod context;
pub mod d1_baseline;
pub mod d2_device_removed;
pub mod d3_policy_no_device;
pub mod d4_time_sync;
pub mod d5_scope;
pub mod d6_recent_mfa_policy;
pub mod d7_intermittency;
pub mod devices;
pub mod policies;
pub mod x_extension;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::parse::EventRow;
use crate::time::{HOUR, Millis, format_millis};
pub use context::Ctx;

/// A rule's verdict. Honest: without the data it needs a rule says
/// `not_evaluable` and what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Confirmed,
    RuledOut,
    Inconclusive,
    NotEvaluable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::RuledOut => "ruled_out",
            Status::Inconclusive => "inconclusive",
            Status::NotEvaluable => "not_evaluable",
        }
    }
}

/// One event that supports a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub event_time: String,
    pub event_name: String,
    pub event_id: String,
    pub source_object: String,
    pub class: &'static str,
    pub user_name: Option<String>,
    pub mfa_serial: Option<String>,
    /// Why this event is cited.
    pub note: String,
}

impl Evidence {
    pub fn of(e: &EventRow, note: impl Into<String>) -> Evidence {
        Evidence {
            event_time: format_millis(e.event_time),
            event_name: e.event_name.clone(),
            event_id: e.event_id.clone(),
            source_object: e.source_object.clone(),
            class: e.class.as_str(),
            user_name: e.user_name.clone(),
            mfa_serial: e.mfa_serial.clone(),
            note: note.into(),
        }
    }
}

/// What a rule returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub metrics: Map<String, Value>,
}

impl Finding {
    pub fn new(meta: &RuleMeta, status: Status, summary: impl Into<String>) -> Finding {
        Finding {
            rule: meta.id,
            title: meta.title,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            metrics: Map::new(),
        }
    }
    pub fn metric(mut self, k: &str, v: impl Into<Value>) -> Finding {
        self.metrics.insert(k.to_string(), v.into());
        self
    }
    pub fn with_evidence(mut self, ev: Vec<Evidence>) -> Finding {
        self.evidence = ev;
        self
    }
    pub fn confirmed(&self) -> bool {
        self.status == Status::Confirmed
    }
}

/// Registry metadata of a rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleMeta {
    pub id: &'static str,
    pub title: &'static str,
    /// The runbook step, e.g. "Diagnosis 2".
    pub runbook_step: &'static str,
    /// One line for the README table.
    pub checks: &'static str,
}

/// A diagnosis rule: a function of the pass context.
pub struct Rule {
    pub meta: RuleMeta,
    pub eval: fn(&Ctx) -> Finding,
}

/// D1-D7 in runbook order; X runs around them (see `diagnose`).
pub static REGISTRY: &[Rule] = &[
    Rule {
        meta: d1_baseline::META,
        eval: d1_baseline::eval,
    },
    Rule {
        meta: d2_device_removed::META,
        eval: d2_device_removed::eval,
    },
    Rule {
        meta: d3_policy_no_device::META,
        eval: d3_policy_no_device::eval,
    },
    Rule {
        meta: d4_time_sync::META,
        eval: d4_time_sync::eval,
    },
    Rule {
        meta: d5_scope::META,
        eval: d5_scope::eval,
    },
    Rule {
        meta: d6_recent_mfa_policy::META,
        eval: d6_recent_mfa_policy::eval,
    },
    Rule {
        meta: d7_intermittency::META,
        eval: d7_intermittency::eval,
    },
];

/// Every rule's metadata, X last (for the README table and `--help`).
pub fn all_meta() -> Vec<RuleMeta> {
    REGISTRY.iter().map(|r| r.meta).chain([x_extension::META]).collect()
}

/// Causes, most specific first (DESIGN §2). D1 only sets the baseline.
pub const CAUSE_ORDER: [&str; 6] = ["D2", "D6", "D3", "D4", "D7", "D5"];

/// Options of a diagnosis.
#[derive(Debug, Clone, Copy)]
pub struct DiagnoseOptions {
    /// End of the window; None = the user's latest failure signal in the data.
    pub until: Option<Millis>,
    pub window: Millis,
    pub extend_to: Millis,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        DiagnoseOptions {
            until: None,
            window: 24 * HOUR,
            extend_to: 48 * HOUR,
        }
    }
}

/// The result of `diagnose` for one user.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub user: String,
    pub since: Millis,
    pub until: Millis,
    pub extended: bool,
    /// `until` came from the data (latest failure signal) rather than the command line.
    pub until_from_data: bool,
    pub baseline: Map<String, Value>,
    pub findings: Vec<Finding>,
    pub causes: Vec<&'static str>,
    pub conclusion: String,
}

impl Diagnosis {
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.rule == id)
    }
}

fn confirmed_causes(findings: &[Finding]) -> Vec<&'static str> {
    CAUSE_ORDER
        .into_iter()
        .filter(|id| findings.iter().any(|f| f.rule == *id && f.confirmed()))
        .collect()
}

/// Evaluates every rule over one window; also returns the baseline block.
pub fn run_pass(
    events: &[EventRow],
    user: &str,
    since: Millis,
    until: Millis,
    extended: bool,
) -> (Vec<Finding>, Map<String, Value>) {
    let ctx = Ctx::new(events, user, since, until, extended);
    let findings = REGISTRY.iter().map(|rule| (rule.eval)(&ctx)).collect();
    (findings, context::baseline_json(&ctx))
}

/// The full runbook: a pass over `window` before `until`; when no cause is
/// confirmed, a second pass over `extend_to`. `events` is every kept event
/// read, sorted by time.
pub fn diagnose(events: &[EventRow], user: &str, opts: &DiagnoseOptions) -> Diagnosis {
    let latest = context::latest_failure_signal(events, user);
    let (until, until_from_data) = match opts.until {
        Some(u) => (u, false),
        None => (
            latest.or_else(|| events.last().map(|e| e.event_time)).unwrap_or(0),
            latest.is_some(),
        ),
    };
    let since = until - opts.window;
    let (mut findings, mut baseline) = run_pass(events, user, since, until, false);
    let mut causes = confirmed_causes(&findings);
    let mut extended = false;
    let mut final_since = since;
    let first_pass_causes = causes.clone();
    if causes.is_empty() && opts.extend_to > opts.window {
        extended = true;
        final_since = until - opts.extend_to;
        (findings, baseline) = run_pass(events, user, final_since, until, true);
        causes = confirmed_causes(&findings);
    }
    let x = x_extension::finding(extended, &first_pass_causes, &causes, opts);
    findings.push(x);
    let conclusion = conclusion_text(user, &findings, &causes, extended);
    Diagnosis {
        user: user.to_string(),
        since: final_since,
        until,
        extended,
        until_from_data,
        baseline,
        findings,
        causes,
        conclusion,
    }
}

fn conclusion_text(user: &str, findings: &[Finding], causes: &[&str], extended: bool) -> String {
    if causes.is_empty() {
        let d1 = findings.iter().find(|f| f.rule == "D1");
        if d1.is_some_and(|f| f.status == Status::NotEvaluable) {
            return format!("No MFA failure signal for {user} in the window: nothing to correlate.");
        }
        return format!(
            "No cause correlates with {user}'s MFA failures, even over the extended window; see X for the checks CloudTrail cannot answer."
        );
    }
    let parts: Vec<String> = causes
        .iter()
        .filter_map(|id| findings.iter().find(|f| f.rule == *id))
        .map(|f| format!("{} ({}): {}", f.rule, f.title, f.summary))
        .collect();
    let ext = if extended {
        " (found after extending the window)"
    } else {
        ""
    };
    format!("Most likely cause{ext}: {}", parts.join(" Also: "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_in_runbook_order_and_unique() {
        let ids: Vec<_> = all_meta().iter().map(|m| m.id).collect();
        assert_eq!(ids, ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "X"]);
        for (i, m) in REGISTRY.iter().enumerate() {
            assert_eq!(m.meta.runbook_step, format!("Diagnosis {}", i + 1));
        }
        for c in CAUSE_ORDER {
            assert!(ids.contains(&c));
        }
    }

    /// README's rule table is generated from the registry: keep them in sync.
    #[test]
    fn readme_rule_table_matches_registry() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
        for m in all_meta() {
            let row = format!("| {} | {} | {} | {} |", m.id, m.runbook_step, m.title, m.checks);
            assert!(readme.contains(&row), "README.md lacks the row:\n{row}");
        }
    }
}
