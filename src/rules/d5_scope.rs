//! D5 — scope: one user, the account, or several accounts.
//!
//! ## Runbook step
//! > 5. If failures affect multiple users (from CloudTrail analysis in Playbook step 3), check
//! > for account-wide patterns. If only specific users are affected, the issue is user-specific
//! > (device or policy). If widespread, MFA service availability may be the cause.
//!
//! ## What it checks
//! Distinct users with `mfa_failure` while the user fails: from one hour before T0 to one hour
//! after the user's last failure (users failing hours apart are not one incident). Grouped by
//! account (polars group_by). Users who only share MFA-required denials point to a policy
//! (D3/D6): reported in metrics, never confirming D5. `HIDDEN_DUE_TO_SECURITY_REASONS` (a
//! mistyped user name) is not a user.
//!
//! ## Verdicts
//! `user` (ruled_out: the cause is the user's device or policy). `account` (confirmed): at
//! least 2 failing users in the account and (>= 3 users, or >= 20 % of the users who attempted
//! sign-in there). `multi_account` (confirmed, suspect the MFA service): failing users in >= 2
//! accounts and >= 3 users in all.
//!
//! ## Not evaluable when
//! there is no T0 (D1).

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{Ctx, Evidence, Finding, RuleMeta, Status};
use crate::parse::{EventClass, EventRow};
use crate::time::{HOUR, format_millis};

pub const META: RuleMeta = RuleMeta {
    id: "D5",
    title: "Scope: user, account or multi-account",
    runbook_step: "Diagnosis 5",
    checks: "distinct users failing MFA around the user's failures, per account: account-wide (>= 2 users and >= 3 or >= 20 %) or multi-account (>= 2 accounts, >= 3 users)",
};

pub const MIN_ACCOUNT_USERS: usize = 3;
pub const MIN_ACCOUNT_SHARE: f64 = 0.20;
pub const MIN_MULTI_USERS: usize = 3;
/// How far around the user's failures other users' failures count as the same incident.
pub const SCOPE_MARGIN: i64 = HOUR;

const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    None,
    User,
    Account,
    MultiAccount,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::None => "none",
            ScopeKind::User => "user",
            ScopeKind::Account => "account",
            ScopeKind::MultiAccount => "multi_account",
        }
    }
    pub fn is_wide(self) -> bool {
        matches!(self, ScopeKind::Account | ScopeKind::MultiAccount)
    }
}

#[derive(Debug, Clone)]
pub struct Scope {
    pub kind: ScopeKind,
    /// account → failing users.
    pub failing: BTreeMap<String, BTreeSet<String>>,
    /// account → users who attempted sign-in (any MFA or console attempt).
    pub attempted: BTreeMap<String, usize>,
    pub denied_only: BTreeSet<String>,
    pub user_account: Option<String>,
    pub from: i64,
    pub to: i64,
    /// One failure per other user, for evidence.
    pub examples: Vec<EventRow>,
}

fn user_of(e: &EventRow) -> Option<&str> {
    e.user_name.as_deref().filter(|u| *u != HIDDEN)
}

/// Failing users per account with polars (eager group_by; lazy would add minutes of build).
#[allow(deprecated)] // eager GroupBy aggregations: the lazy API costs a much longer build.
fn failing_per_account(rows: &[(&str, &str)]) -> PolarsResult<BTreeMap<String, usize>> {
    let df = DataFrame::new(
        rows.len(),
        vec![
            Column::new("account".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            Column::new(
                "user".into(),
                rows.iter().map(|r| r.1.to_ascii_lowercase()).collect::<Vec<_>>(),
            ),
        ],
    )?;
    let g = df.group_by(["account"])?.select(["user"]).n_unique()?;
    let accts = g.column("account")?.str()?.clone();
    let counts = g.column("user_n_unique")?.cast(&DataType::UInt64)?;
    let counts = counts.u64()?;
    Ok((0..g.height())
        .filter_map(|i| Some((accts.get(i)?.to_string(), counts.get(i)? as usize)))
        .collect())
}

pub fn compute_scope(win: &[&EventRow], user: &str, failures: &[&EventRow]) -> Scope {
    let mut s = Scope {
        kind: ScopeKind::None,
        failing: BTreeMap::new(),
        attempted: BTreeMap::new(),
        denied_only: BTreeSet::new(),
        user_account: failures.first().and_then(|e| e.account()).map(str::to_owned),
        from: 0,
        to: 0,
        examples: Vec::new(),
    };
    let (Some(first), Some(last)) = (failures.first(), failures.last()) else {
        return s;
    };
    s.from = first.event_time - SCOPE_MARGIN;
    s.to = last.event_time + SCOPE_MARGIN;
    let near: Vec<&EventRow> = win
        .iter()
        .copied()
        .filter(|e| e.event_time >= s.from && e.event_time <= s.to)
        .collect();
    let mut rows: Vec<(&str, &str)> = Vec::new();
    let mut seen = BTreeSet::new();
    for e in near.iter().filter(|e| e.class == EventClass::MfaFailure) {
        if let (Some(a), Some(u)) = (e.account(), user_of(e)) {
            rows.push((a, u));
            s.failing
                .entry(a.to_string())
                .or_default()
                .insert(u.to_ascii_lowercase());
            if !super::context::same_user(u, user) && seen.insert(u.to_ascii_lowercase()) {
                s.examples.push((*e).clone());
            }
        }
    }
    let mut attempted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in near.iter().filter(|e| {
        matches!(
            e.class,
            EventClass::MfaFailure | EventClass::MfaSuccess | EventClass::LoginFailure | EventClass::LoginSuccessNoMfa
        )
    }) {
        if let (Some(a), Some(u)) = (e.account(), user_of(e)) {
            attempted
                .entry(a.to_string())
                .or_default()
                .insert(u.to_ascii_lowercase());
        }
    }
    s.attempted = attempted.into_iter().map(|(a, u)| (a, u.len())).collect();
    let failing_all: BTreeSet<String> = s.failing.values().flatten().cloned().collect();
    s.denied_only = near
        .iter()
        .filter(|e| e.class == EventClass::MfaRequiredDenied)
        .filter_map(|e| user_of(e))
        .map(str::to_ascii_lowercase)
        .filter(|u| !failing_all.contains(u))
        .collect();
    let per_account = failing_per_account(&rows).unwrap_or_default();
    let total: usize = failing_all.len();
    let in_acct = s
        .user_account
        .as_deref()
        .and_then(|a| per_account.get(a))
        .copied()
        .unwrap_or(1);
    let attempted_acct = s
        .user_account
        .as_deref()
        .and_then(|a| s.attempted.get(a))
        .copied()
        .unwrap_or(in_acct)
        .max(1);
    let accounts_failing = per_account.values().filter(|n| **n > 0).count();
    s.kind = if accounts_failing >= 2 && total >= MIN_MULTI_USERS {
        ScopeKind::MultiAccount
    } else if in_acct >= 2
        && (in_acct >= MIN_ACCOUNT_USERS || in_acct as f64 / attempted_acct as f64 >= MIN_ACCOUNT_SHARE)
    {
        ScopeKind::Account
    } else {
        ScopeKind::User
    };
    s
}

pub fn eval(ctx: &Ctx) -> Finding {
    let Some(t0) = ctx.t0 else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1).");
    };
    let s = &ctx.scope;
    let total: BTreeSet<&String> = s.failing.values().flatten().collect();
    let base = Finding::new(&META, Status::RuledOut, "")
        .metric("scope", s.kind.as_str())
        .metric("failing_users", total.len())
        .metric(
            "failing_users_per_account",
            s.failing
                .iter()
                .map(|(a, u)| {
                    (
                        a.clone(),
                        serde_json::Value::from(u.iter().cloned().collect::<Vec<_>>()),
                    )
                })
                .collect::<serde_json::Map<_, _>>(),
        )
        .metric(
            "users_attempting_per_account",
            s.attempted
                .iter()
                .map(|(a, n)| (a.clone(), serde_json::Value::from(*n)))
                .collect::<serde_json::Map<_, _>>(),
        )
        .metric(
            "users_with_only_mfa_required_denials",
            s.denied_only.iter().cloned().collect::<Vec<_>>(),
        )
        .metric("compared_from", format_millis(s.from))
        .metric("compared_to", format_millis(s.to));
    let ev: Vec<Evidence> = std::iter::once(Evidence::of(t0, "the user's first failure"))
        .chain(
            s.examples
                .iter()
                .take(8)
                .map(|e| Evidence::of(e, "another user failing MFA in the same period")),
        )
        .collect();
    match s.kind {
        ScopeKind::None => Finding {
            status: Status::NotEvaluable,
            summary: format!(
                "{} has no MFA failure (only denials): scope is judged on MFA failures; {} other user(s) share MFA-required denials (a policy, see D3/D6).",
                ctx.user,
                s.denied_only.len()
            ),
            ..base
        },
        ScopeKind::User => Finding {
            summary: format!(
                "Only {} fails MFA between {} and {}: user-specific (device or policy), not the MFA service.",
                ctx.user,
                format_millis(s.from),
                format_millis(s.to)
            ),
            evidence: ev,
            ..base
        },
        ScopeKind::Account => Finding {
            status: Status::Confirmed,
            summary: format!(
                "{} users fail MFA in account {} in the same period: an account-wide pattern (an account policy change or the MFA service).",
                s.user_account
                    .as_deref()
                    .and_then(|a| s.failing.get(a))
                    .map_or(0, BTreeSet::len),
                s.user_account.as_deref().unwrap_or("?")
            ),
            evidence: ev,
            ..base
        },
        ScopeKind::MultiAccount => Finding {
            status: Status::Confirmed,
            summary: format!(
                "{} users in {} accounts fail MFA in the same period: suspect MFA service availability.",
                total.len(),
                s.failing.len()
            ),
            evidence: ev,
            ..base
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::EventClass::*;
    use crate::rules::context::tests::ev;

    fn failing(min: i64, user: &str, acct: &str) -> EventRow {
        let mut e = ev(min, MfaFailure, Some(user), None, None);
        e.recipient_account_id = Some(acct.into());
        e
    }

    fn run(mut events: Vec<EventRow>) -> Finding {
        events.sort_by_key(|e| e.event_time);
        let leaked: &'static [EventRow] = Box::leak(events.into_boxed_slice());
        eval(&Ctx::new(leaked, "u1", 0, 2_000 * 60_000, false))
    }

    #[test]
    fn user_account_multi() {
        let f = run(vec![failing(100, "u1", "A")]);
        assert_eq!(
            (f.status, f.metrics["scope"].as_str()),
            (Status::RuledOut, Some("user"))
        );
        let f = run(vec![
            failing(100, "u1", "A"),
            failing(110, "u2", "A"),
            failing(120, "u3", "A"),
        ]);
        assert_eq!(
            (f.status, f.metrics["scope"].as_str()),
            (Status::Confirmed, Some("account"))
        );
        let f = run(vec![
            failing(100, "u1", "A"),
            failing(110, "u2", "B"),
            failing(120, "u3", "C"),
        ]);
        assert_eq!(f.metrics["scope"].as_str(), Some("multi_account"));
        // Two users of two attempting: 100 % of the account.
        let f = run(vec![failing(100, "u1", "A"), failing(110, "u2", "A")]);
        assert_eq!(f.metrics["scope"].as_str(), Some("account"));
        // Hours apart: not the same incident; hidden user names are not users.
        let f = run(vec![
            failing(100, "u1", "A"),
            failing(900, "u2", "A"),
            failing(105, HIDDEN, "A"),
        ]);
        assert_eq!(f.metrics["scope"].as_str(), Some("user"));
    }
}
