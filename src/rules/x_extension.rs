//! X — no correlation: extend to 48 hours.
//!
//! ## Runbook step
//! > If no correlation is found: extend analysis to 48 hours, review hardware MFA device battery
//! > status, check virtual MFA application time synchronization, verify MFA service health
//! > status, and examine IAM policy condition evaluation logic for edge cases.
//!
//! ## What it checks
//! When no cause (D2-D7) is confirmed over the window `[T0 − 24 h, until]`, the whole analysis
//! is repeated over `[T0 − 48 h, until]` (`--extend-to`) and `window.extended` is set.
//!
//! ## Verdicts
//! confirmed when no cause is found even then: lists the checks CloudTrail cannot answer.
//! ruled_out when a cause was found in either pass.
//!
//! ## Not evaluable when
//! never: it always reports what the passes found.

use serde::Serialize;

use super::{DiagnoseOptions, Finding, Metrics as M, RuleId, RuleMeta, Status};
use crate::time::format_duration;

pub const META: RuleMeta = RuleMeta {
    id: RuleId::X,
    title: "No correlation: extended window",
    runbook_step: "No correlation",
    checks: "when no cause is confirmed, repeat D1-D7 over --extend-to (48 h) and list what logs cannot answer",
    next_step: "Work through the checks CloudTrail cannot answer, with the user.",
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub extended: bool,
    pub offline_checks: Vec<&'static str>,
}

/// Checks that CloudTrail cannot answer (the runbook's fallback list).
pub const OFFLINE_CHECKS: [&str; 4] = [
    "hardware MFA token battery and state (ask the user; replace the token)",
    "virtual MFA app time synchronisation (phone clock set automatically?)",
    "AWS MFA / IAM service health at the time (AWS Health Dashboard)",
    "IAM policy condition edge cases (IfExists, Null guards, MultiFactorAuthAge) in policies not changed in the logs (get-account-authorization-details)",
];

pub fn finding(extended: bool, first: &[RuleId], causes: &[RuleId], opts: &DiagnoseOptions) -> Finding {
    let base = Finding::new(&META, Status::RuledOut, "").with_metrics(M::X(Metrics {
        extended,
        offline_checks: Vec::new(),
    }));
    if !first.is_empty() {
        return Finding {
            summary: format!(
                "A cause was found within {}: no extension needed.",
                format_duration(opts.window)
            ),
            ..base
        };
    }
    if !causes.is_empty() {
        return Finding {
            summary: format!(
                "No cause within {}; extending to {} found {}.",
                format_duration(opts.window),
                format_duration(opts.extend_to),
                causes.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
            ),
            ..base
        };
    }
    Finding {
        status: Status::Confirmed,
        summary: format!(
            "No cause correlates within {}{}. Check what CloudTrail cannot show: {}.",
            format_duration(opts.window),
            if extended {
                format!(" nor {}", format_duration(opts.extend_to))
            } else {
                String::new()
            },
            OFFLINE_CHECKS.join("; ")
        ),
        ..base
    }
    .with_metrics(M::X(Metrics {
        extended,
        offline_checks: OFFLINE_CHECKS.to_vec(),
    }))
}

/// X for a principal the IAM rules do not apply to (a role session, an Identity Center user).
pub fn not_iam(p: &crate::event::Principal) -> Finding {
    Finding::new(
        &META,
        Status::NotEvaluable,
        format!(
            "{} is not an IAM user or root: extending the window cannot find an IAM device or policy cause.",
            p.label()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let o = DiagnoseOptions::default();
        assert_eq!(
            finding(false, &[RuleId::D2], &[RuleId::D2], &o).status,
            Status::RuledOut
        );
        let f = finding(true, &[], &[RuleId::D2], &o);
        assert_eq!(f.status, Status::RuledOut);
        assert!(f.summary.contains("extending"));
        let f = finding(true, &[], &[], &o);
        assert_eq!(f.status, Status::Confirmed);
        assert!(matches!(&f.metrics, M::X(m) if m.offline_checks.len() == 4));
    }
}
