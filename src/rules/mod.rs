//! The runbook's Diagnosis section as code. Each rule lives in its own file
//! with the runbook step it implements quoted in its header; `REGISTRY` lists
//! them in runbook order. A pass evaluates every rule over one window for one
//! principal, reading only the run's index and the pass's shared facts
//! (`Pass`: the window, the failure episode and T0, DESIGN §6.0): no rule
//! reads another rule's result. Each rule first computes a small typed
//! verdict, then renders it. The conclusion combines the findings (D4 held
//! back when D5 finds a wide scope; D4 and D7 read together). When no cause is
//! confirmed the analysis is repeated over the extended window (rule X), as
//! the runbook's "If no correlation is found" paragraph says.

pub mod d1_baseline;
pub mod d2_device_removed;
pub mod d3_policy_no_device;
pub mod d4_time_sync;
pub mod d5_scope;
pub mod d6_recent_mfa_policy;
pub mod d7_intermittency;
pub mod p5_policy_review;
pub mod p7_device_check;
pub mod pass;
pub mod x_extension;

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;

use crate::event::{HOUR, Millis, PrincipalKind, format_millis};
use crate::index::{Episode, Ev, Index, Pid};
pub use pass::Pass;

/// The rules, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    D7,
    X,
    P5,
    P7,
}

impl RuleId {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::D1 => "D1",
            RuleId::D2 => "D2",
            RuleId::D3 => "D3",
            RuleId::D4 => "D4",
            RuleId::D5 => "D5",
            RuleId::D6 => "D6",
            RuleId::D7 => "D7",
            RuleId::X => "X",
            RuleId::P5 => "P5",
            RuleId::P7 => "P7",
        }
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A rule's verdict. Honest: without the data it needs a rule says
/// `not_evaluable` and what is missing; a rule that fails internally says `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Confirmed,
    RuledOut,
    Inconclusive,
    NotEvaluable,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::RuledOut => "ruled_out",
            Status::Inconclusive => "inconclusive",
            Status::NotEvaluable => "not_evaluable",
            Status::Error => "error",
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
    /// Where the fact comes from: `log` (CloudTrail) or `snapshot` (the IAM snapshot).
    pub source: &'static str,
    /// Why this event is cited.
    pub note: String,
}

impl Evidence {
    pub fn of(ix: &Index, i: Ev, note: impl Into<String>) -> Evidence {
        let e = ix.event(i);
        Evidence {
            event_time: format_millis(e.event_time),
            event_name: e.event_name.clone(),
            event_id: e.event_id.clone(),
            source_object: e.source_object.clone(),
            class: e.class.as_str(),
            user_name: e.user_name.clone().or_else(|| e.role_name.clone()),
            mfa_serial: e.mfa_serial.clone(),
            source: "log",
            note: note.into(),
        }
    }

    /// A fact of the IAM snapshot (no event: the snapshot's time, the listing that shows it).
    pub fn snapshot(ix: &Index, user: Option<String>, serial: Option<String>, note: impl Into<String>) -> Evidence {
        let (time, files) = ix
            .snapshot
            .as_ref()
            .map(|s| (format_millis(s.time), s.snap.files.join(", ")))
            .unwrap_or_default();
        Evidence {
            event_time: time,
            event_name: "IAM snapshot".into(),
            event_id: String::new(),
            source_object: files,
            class: "snapshot",
            user_name: user,
            mfa_serial: serial,
            source: "snapshot",
            note: note.into(),
        }
    }

    /// The document's origin: the event that wrote it, or the snapshot that lists it.
    pub fn of_doc(ix: &Index, doc: crate::index::policies::DocId, note: impl Into<String>) -> Evidence {
        let d = &ix.policies.docs[doc];
        match d.event {
            Some(i) => Evidence::of(ix, i, note),
            None => {
                let note = format!("{} ({})", note.into(), d.snapshot.as_deref().unwrap_or("IAM snapshot"));
                Evidence::snapshot(ix, None, None, note)
            }
        }
    }
}

/// Each rule's metrics: one typed struct per rule, so the JSON contract is visible here and a
/// renamed field is a compile error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Metrics {
    None {},
    D1(d1_baseline::Metrics),
    D2(d2_device_removed::Metrics),
    D3(d3_policy_no_device::Metrics),
    D4(d4_time_sync::Metrics),
    D5(d5_scope::Metrics),
    D6(d6_recent_mfa_policy::Metrics),
    D7(d7_intermittency::Metrics),
    X(x_extension::Metrics),
    P5(p5_policy_review::Metrics),
    P7(p7_device_check::Metrics),
    Error { panic: String },
}

/// What a rule returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: RuleId,
    pub title: &'static str,
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub metrics: Metrics,
}

impl Finding {
    pub fn new(meta: &RuleMeta, status: Status, summary: impl Into<String>) -> Finding {
        Finding {
            rule: meta.id,
            title: meta.title,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            metrics: Metrics::None {},
        }
    }
    pub fn with_evidence(mut self, ev: Vec<Evidence>) -> Finding {
        self.evidence = ev;
        self
    }
    pub fn with_metrics(mut self, m: Metrics) -> Finding {
        self.metrics = m;
        self
    }
    pub fn confirmed(&self) -> bool {
        self.status == Status::Confirmed
    }
}

/// Registry metadata of a rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleMeta {
    pub id: RuleId,
    pub title: &'static str,
    /// The runbook step, e.g. "Diagnosis 2".
    pub runbook_step: &'static str,
    /// One line for the README table.
    pub checks: &'static str,
    /// What to do when the rule confirms (the runbook's fix that fits).
    pub next_step: &'static str,
}

/// A diagnosis rule: a function of the pass.
pub struct Rule {
    pub meta: RuleMeta,
    pub eval: fn(&Pass) -> Finding,
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
pub const CAUSE_ORDER: [RuleId; 6] = [RuleId::D2, RuleId::D6, RuleId::D3, RuleId::D4, RuleId::D7, RuleId::D5];

/// Options of a diagnosis.
#[derive(Debug, Clone, Copy)]
pub struct DiagnoseOptions {
    /// End of the window; None = the principal's latest signal in the data (DESIGN §6.0).
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

/// The result of `diagnose` for one principal.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub principal: crate::event::Principal,
    pub since: Millis,
    pub until: Millis,
    pub extended: bool,
    /// Where `until` came from.
    pub until_from: UntilFrom,
    pub baseline: pass::Baseline,
    /// T0: the first signal of the current failure episode.
    pub t0: Option<Millis>,
    /// The start of the first pass (`T0 − window`); the extension starts at `since`.
    pub first_since: Millis,
    /// The episode's earlier history: earlier episodes (first, last, signals), newest first.
    pub earlier_episodes: Vec<(Millis, Millis, usize)>,
    /// The principal's timeline in the final window.
    pub marks: Vec<pass::Mark>,
    pub findings: Vec<Finding>,
    pub causes: Vec<RuleId>,
    pub conclusion: String,
    /// The IAM snapshot used, when one was given.
    pub snapshot: Option<SnapshotSummary>,
}

/// Where a diagnosis' `until` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UntilFrom {
    /// `--until`.
    #[serde(rename = "argument")]
    Argument,
    /// The principal's latest signal.
    #[serde(rename = "latest_failure")]
    LatestSignal,
    /// No signal: the latest typo (every failure was typing).
    #[serde(rename = "latest_typo")]
    LatestTypo,
    /// Nothing: the newest event read.
    #[serde(rename = "data_end")]
    DataEnd,
}

/// What a review of the IAM snapshot (P5, P7) needs: the principal, an IAM user or root, and the
/// snapshot; else the finding that says why there is no review.
pub(crate) fn snapshot_review<'a>(
    ix: &'a Index,
    p: Pid,
    meta: &RuleMeta,
    not_iam: &str,
) -> Result<(&'a crate::event::Principal, &'a crate::index::SnapshotView), Box<Finding>> {
    let principal = ix.principal(p);
    let Some(v) = ix.snapshot.as_ref() else {
        return Err(Box::new(Finding::new(
            meta,
            Status::NotEvaluable,
            "No IAM snapshot given.",
        )));
    };
    if !principal.kind.has_iam_devices() {
        return Err(Box::new(Finding::new(meta, Status::NotEvaluable, not_iam)));
    }
    Ok((principal, v))
}

/// The IAM snapshot of a diagnosis, for the report: what was given, when it is from, whether it
/// was replayed to T0, and where it and the logs disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotSummary {
    pub files: Vec<String>,
    pub time: String,
    pub time_from: &'static str,
    pub accounts: Vec<String>,
    pub replayed_to_t0: bool,
    pub not_replayed: Option<String>,
    pub other_accounts: Option<String>,
    pub contradictions: Vec<String>,
    pub warnings: Vec<String>,
}

impl SnapshotSummary {
    pub fn of(v: &crate::index::SnapshotView) -> SnapshotSummary {
        SnapshotSummary {
            files: v.snap.files.clone(),
            time: format_millis(v.time),
            time_from: v.time_from,
            accounts: v.snap.accounts().into_iter().collect(),
            replayed_to_t0: v.replayed,
            not_replayed: v.not_replayed.clone(),
            other_accounts: v.other_accounts.clone(),
            contradictions: v.contradictions.clone(),
            warnings: v.snap.warnings.clone(),
        }
    }
}

impl Diagnosis {
    pub fn finding(&self, id: RuleId) -> Option<&Finding> {
        self.findings.iter().find(|f| f.rule == id)
    }
    /// Whether a rule failed internally (exit 4).
    pub fn has_error(&self) -> bool {
        self.findings.iter().any(|f| f.status == Status::Error)
    }
}

fn confirmed_causes(findings: &[Finding]) -> Vec<RuleId> {
    CAUSE_ORDER
        .into_iter()
        .filter(|id| findings.iter().any(|f| f.rule == *id && f.confirmed()))
        .collect()
}

/// Runs one rule; a rule that panics becomes an `error` finding and the others still run.
fn run_rule(rule: &Rule, pass: &Pass) -> Finding {
    match catch_unwind(AssertUnwindSafe(|| (rule.eval)(pass))) {
        Ok(f) => f,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            Finding::new(
                &rule.meta,
                Status::Error,
                format!(
                    "This rule failed internally ({msg}); its verdict is unknown. The other findings stand. Please report it with this input."
                ),
            )
            .with_metrics(Metrics::Error { panic: msg })
        }
    }
}

/// Combines findings where one qualifies another: the conclusion's job, not the rules'. D4 is
/// held at inconclusive when D5 finds the failures account-wide or wider: the cause then lies
/// beyond one device. D4 and D7 may both stand (DESIGN §6 D7): the conclusion reads them
/// together.
fn combine(findings: &mut [Finding]) {
    let wide = findings
        .iter()
        .find(|f| f.rule == RuleId::D5 && f.confirmed())
        .map(|f| match &f.metrics {
            Metrics::D5(m) => m.scope.as_str(),
            _ => "wide",
        });
    if let Some(scope) = wide
        && let Some(d4) = findings.iter_mut().find(|f| f.rule == RuleId::D4 && f.confirmed())
    {
        d4.status = Status::Inconclusive;
        d4.summary.push_str(&format!(
            " Held at inconclusive: D5 finds the failures {scope}-wide, so the cause likely lies beyond one device."
        ));
    }
}

/// What one pass produced.
pub struct PassResult {
    pub findings: Vec<Finding>,
    pub baseline: pass::Baseline,
    pub marks: Vec<pass::Mark>,
}

/// Evaluates every rule over one window.
pub fn run_pass(
    ix: &Index,
    p: Pid,
    episode: Option<&Episode>,
    since: Millis,
    until: Millis,
    extended: bool,
) -> PassResult {
    let pass = Pass::new(ix, p, episode, since, until, extended);
    let mut findings: Vec<Finding> = REGISTRY.iter().map(|rule| run_rule(rule, &pass)).collect();
    combine(&mut findings);
    PassResult {
        findings,
        baseline: pass.baseline(),
        marks: pass.marks(),
    }
}

/// `until` and where it came from (DESIGN §6.0: the latest signal, not a typo).
pub fn until_of(ix: &Index, p: Pid, given: Option<Millis>) -> (Millis, UntilFrom) {
    match (given, ix.default_until(p)) {
        (Some(u), _) => (u, UntilFrom::Argument),
        (None, Some((u, false))) => (u, UntilFrom::LatestSignal),
        (None, Some((u, true))) => (u, UntilFrom::LatestTypo),
        (None, None) => (ix.events.last().map_or(0, |e| e.event_time), UntilFrom::DataEnd),
    }
}

/// The full runbook for one principal: the episode up to `until` and its T0, a pass over
/// `[T0 − window, until]`; when no cause is confirmed, a second pass over `[T0 − extend_to,
/// until]` (DESIGN §6.0).
pub fn diagnose(ix: &Index, p: Pid, opts: &DiagnoseOptions) -> Diagnosis {
    let (until, until_from) = until_of(ix, p, opts.until);
    let episode = ix.episode(p, until);
    let t0 = episode.as_ref().map(|e| ix.event(e.t0).event_time);
    let anchor = t0.unwrap_or(until);
    let since = anchor - opts.window;
    let mut r = run_pass(ix, p, episode.as_ref(), since, until, false);
    let mut causes = confirmed_causes(&r.findings);
    let mut extended = false;
    let mut final_since = since;
    let first_pass_causes = causes.clone();
    if causes.is_empty() && opts.extend_to > opts.window {
        extended = true;
        final_since = anchor - opts.extend_to;
        r = run_pass(ix, p, episode.as_ref(), final_since, until, true);
        causes = confirmed_causes(&r.findings);
    }
    let PassResult {
        mut findings,
        baseline,
        marks,
    } = r;
    let principal = ix.principal(p).clone();
    findings.push(if principal.kind.has_iam_devices() {
        x_extension::finding(extended, &first_pass_causes, &causes, opts)
    } else {
        x_extension::not_iam(&principal)
    });
    // With an IAM snapshot: the Playbook's policy review and device check, at T0.
    if ix.snapshot.is_some() {
        findings.push(p5_policy_review::finding(ix, p, t0, until));
        findings.push(p7_device_check::finding(ix, p, t0, until));
    }
    let conclusion = match principal.kind {
        PrincipalKind::IdentityCenterUser => format!(
            "{} is an IAM Identity Center user: its MFA is configured and enforced in IAM Identity Center (MFA settings of the identity source, registered authenticators), not by IAM devices and policies. The sign-in events are in the timeline.",
            principal.name
        ),
        PrincipalKind::RoleSession => format!(
            "{} is a role session: roles have no MFA device; diagnose the IAM user or federated identity that assumed the role.",
            principal.name
        ),
        _ => conclusion_text(&principal.name, &findings, &causes, extended, until_from),
    };
    let earlier_episodes = episode
        .as_ref()
        .map(|e| {
            e.earlier
                .iter()
                .map(|h| (ix.event(h.first).event_time, ix.event(h.last).event_time, h.signals))
                .collect()
        })
        .unwrap_or_default();
    Diagnosis {
        principal,
        since: final_since,
        until,
        extended,
        until_from,
        baseline,
        t0,
        first_since: since,
        earlier_episodes,
        marks,
        findings,
        causes,
        conclusion,
        snapshot: ix.snapshot.as_ref().map(SnapshotSummary::of),
    }
}

fn conclusion_text(
    user: &str,
    findings: &[Finding],
    causes: &[RuleId],
    extended: bool,
    until_from: UntilFrom,
) -> String {
    if causes.is_empty() {
        let d1 = findings.iter().find(|f| f.rule == RuleId::D1);
        if d1.is_some_and(|f| f.status == Status::NotEvaluable) {
            if until_from == UntilFrom::LatestTypo {
                return format!(
                    "{user}'s MFA failures were all typing (each fixed by a success within minutes): no failure episode, nothing to correlate."
                );
            }
            return format!("No MFA failure signal for {user} up to the end of the window: nothing to correlate.");
        }
        return format!(
            "No cause correlates with {user}'s MFA failures, even over the extended window; see X for the checks CloudTrail cannot answer."
        );
    }
    let find = |id: RuleId| findings.iter().find(|f| f.rule == id);
    let mut parts: Vec<String> = Vec::new();
    for &id in causes {
        let Some(f) = find(id) else { continue };
        // D4 and D7 together: the intermittent pattern is what token drift looks like.
        if id == RuleId::D7 && causes.contains(&RuleId::D4) {
            parts.push(format!(
                "D7 ({}): {} The intermittent pattern fits D4's drift: a token that is sometimes in step and sometimes not.",
                f.title, f.summary
            ));
            continue;
        }
        parts.push(format!("{} ({}): {}", f.rule, f.title, f.summary));
    }
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
        let ids: Vec<_> = all_meta().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["D1", "D2", "D3", "D4", "D5", "D6", "D7", "X"]);
        for (i, m) in REGISTRY.iter().enumerate() {
            assert_eq!(m.meta.runbook_step, format!("Diagnosis {}", i + 1));
        }
        for c in CAUSE_ORDER {
            assert!(ids.contains(&c.as_str()));
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

    /// A rule that panics does not take the report down.
    #[test]
    fn a_panicking_rule_becomes_an_error_finding() {
        fn boom(_: &Pass) -> Finding {
            panic!("index out of bounds: the len is 0 but the index is 0")
        }
        let rule = Rule {
            meta: d7_intermittency::META,
            eval: boom,
        };
        let ix = Index::build(Vec::new());
        let mut ev = crate::index::tests::ev(1, crate::event::EventClass::MfaFailure, Some("a"), None, None);
        ev.event_id = "x".into();
        let ix2 = Index::build(vec![ev]);
        let p = ix2.principals().next().map(|(i, _)| i).unwrap();
        let episode = ix2.episode(p, HOUR);
        let pass = Pass::new(&ix2, p, episode.as_ref(), 0, HOUR, false);
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let f = run_rule(&rule, &pass);
        std::panic::set_hook(prev);
        assert_eq!(f.status, Status::Error);
        assert!(f.summary.contains("index out of bounds"), "{}", f.summary);
        drop(ix);
    }
}
