//! D5 — scope: one user, the account, or several accounts.
//!
//! ## Runbook step
//! > 5. If failures affect multiple users (from CloudTrail analysis in Playbook step 3), check
//! > for account-wide patterns. If only specific users are affected, the issue is user-specific
//! > (device or policy). If widespread, MFA service availability may be the cause.
//!
//! ## What it checks
//! The user's failure bursts (MFA failures that are not typing, at most 30 minutes apart) and,
//! in the same hours (each burst ± 30 minutes), the other IAM users (and root) who fail MFA for
//! real in each account. Typing (a failure
//! resolved by a success within minutes) is not an outage, so typos never count, and a span
//! covering the whole day is never compared. The count is weighed against the account's own
//! usual level (the 95th percentile of failing users per hour over the data read, when it
//! holds at least a day of sign-in hours). Users who only share MFA-required denials point to a
//! policy (D3/D6): listed in metrics, never confirming D5. `HIDDEN_DUE_TO_SECURITY_REASONS` (a
//! mistyped user name) is not a user.
//!
//! ## Verdicts
//! `user` (ruled_out: the cause is the user's device or policy). `account` (confirmed): at
//! least 2 failing users in the account and (>= 3 users, or >= 20 % of the users who attempted
//! a sign-in there in those hours), and more than the account's usual level. `multi_account`
//! (confirmed, suspect the MFA service): failing users in >= 2 accounts and >= 3 users in all.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the user has no MFA failure that is not typing (denials only).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleMeta, Status};
use crate::event::{EventClass, HOUR, MINUTE, Millis, format_millis};
use crate::index::{Ev, Pid};

pub const META: RuleMeta = RuleMeta {
    id: "D5",
    title: "Scope: user, account or multi-account",
    runbook_step: "Diagnosis 5",
    checks: "distinct users failing MFA (typing excluded) in the same hours as the user's failure bursts, per account, against the account's usual level: account-wide (>= 2 users and >= 3 or >= 20 %) or multi-account (>= 2 accounts, >= 3 users)",
    next_step: "Check the AWS Health Dashboard for IAM/STS/sign-in events at that time and any account-wide change (SCP, identity provider, time source) before touching single users.",
};

pub const MIN_ACCOUNT_USERS: usize = 3;
pub const MIN_ACCOUNT_SHARE: f64 = 0.20;
pub const MIN_MULTI_USERS: usize = 3;
/// Failures at most this far apart form one burst.
pub const BURST_GAP: Millis = 30 * MINUTE;
/// How far around a burst other users' failures count as the same incident.
pub const SCOPE_MARGIN: Millis = 30 * MINUTE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    None,
    User,
    Account,
    MultiAccount,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::None => "none",
            Scope::User => "user",
            Scope::Account => "account",
            Scope::MultiAccount => "multi_account",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub scope: &'static str,
    pub failing_users: usize,
    pub failing_users_per_account: BTreeMap<String, Vec<String>>,
    pub users_attempting_per_account: BTreeMap<String, u32>,
    /// The account's usual number of failing users per hour (None: under a day of history).
    pub usual_failing_users_per_hour: BTreeMap<String, Option<u32>>,
    pub users_sharing_mfa_required_denials: Vec<String>,
    /// The hours compared: the user's failure bursts ± 30 minutes, merged (start, end).
    pub bursts: Vec<[String; 2]>,
}

/// Clusters of times at most `gap` apart, as (first, last).
fn bursts(times: &[Millis], gap: Millis) -> Vec<(Millis, Millis)> {
    let mut out: Vec<(Millis, Millis)> = Vec::new();
    for &t in times {
        match out.last_mut() {
            Some(b) if t - b.1 <= gap => b.1 = t,
            _ => out.push((t, t)),
        }
    }
    out
}

pub fn eval(p: &Pass) -> Finding {
    let ix = p.ix;
    let Some(t0) = p.t0.filter(|_| p.principal.kind.has_iam_devices()) else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    };
    let me = p.pid;
    let own_times = |evs: &[Ev]| evs.iter().map(|&i| ix.event(i).event_time).collect::<Vec<_>>();
    let (basis, on_failures) = if p.real_failures.is_empty() {
        (own_times(&p.denials), false)
    } else {
        (own_times(&p.real_failures), true)
    };
    // The hours compared: each burst ± the margin, overlapping ones merged.
    let bs: Vec<(Millis, Millis)> = bursts(&basis, BURST_GAP)
        .into_iter()
        .map(|(a, b)| (a - SCOPE_MARGIN, b + SCOPE_MARGIN))
        .fold(Vec::new(), |mut v: Vec<(Millis, Millis)>, (a, b)| {
            match v.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => v.push((a, b)),
            }
            v
        });
    // Other principals with real failures (or denials) in the same hours, in every account.
    let mut failing: BTreeMap<&str, BTreeSet<Pid>> = BTreeMap::new();
    let mut examples: Vec<Ev> = Vec::new();
    let mut denied: BTreeSet<Pid> = BTreeSet::new();
    if on_failures {
        failing.entry(p.principal.account.as_str()).or_default().insert(me);
    }
    for &(from, to) in &bs {
        for a in ix.accounts() {
            for &i in ix.account_signals(a, from, to) {
                let Some(who) = ix.actor(i) else { continue };
                if ix.event(i).class == EventClass::MfaRequiredDenied {
                    if who != me {
                        denied.insert(who);
                    }
                    continue;
                }
                if failing.entry(a).or_default().insert(who) && who != me {
                    examples.push(i);
                }
            }
        }
    }
    let label = |who: &Pid| {
        let pr = ix.principal(*who);
        format!("{} ({})", pr.name, pr.account)
    };
    let denied: BTreeSet<String> = denied.iter().map(label).collect();
    let per_account: BTreeMap<String, usize> = failing.iter().map(|(a, u)| (a.to_string(), u.len())).collect();
    let names: BTreeMap<String, Vec<String>> = failing
        .iter()
        .map(|(a, u)| {
            let mut v: Vec<String> = u.iter().map(|p| ix.principal(*p).name.to_ascii_lowercase()).collect();
            v.sort();
            (a.to_string(), v)
        })
        .collect();
    let mine = p.principal.account.clone();
    let attempting: BTreeMap<String, u32> = names
        .keys()
        .map(|a| {
            let max = bs
                .iter()
                .flat_map(|&(from, to)| {
                    let (h0, h1) = (from.div_euclid(HOUR), to.div_euclid(HOUR));
                    (h0..=h1).map(move |h| h * HOUR)
                })
                .map(|h| ix.series().at(a, h).attempting)
                .max()
                .unwrap_or(0);
            (a.clone(), max)
        })
        .collect();
    let usual: BTreeMap<String, Option<u32>> = names.keys().map(|a| (a.clone(), ix.series().baseline(a))).collect();
    let above_usual = |a: &str, n: usize| usual.get(a).copied().flatten().is_none_or(|b| n as u32 > b);
    let total: usize = per_account.values().sum();
    let in_acct = per_account.get(&mine).copied().unwrap_or(0);
    let attempted = attempting.get(&mine).copied().unwrap_or(0).max(in_acct as u32).max(1);
    let wide_accounts = per_account
        .iter()
        .filter(|(a, n)| **n > 0 && above_usual(a, **n))
        .count();
    let scope = if !on_failures {
        Scope::None
    } else if wide_accounts >= 2 && per_account.len() >= 2 && total >= MIN_MULTI_USERS {
        Scope::MultiAccount
    } else if in_acct >= 2
        && (in_acct >= MIN_ACCOUNT_USERS || in_acct as f64 / attempted as f64 >= MIN_ACCOUNT_SHARE)
        && above_usual(&mine, in_acct)
    {
        Scope::Account
    } else {
        Scope::User
    };
    let metrics = Metrics {
        scope: scope.as_str(),
        failing_users: total,
        failing_users_per_account: names,
        users_attempting_per_account: attempting,
        usual_failing_users_per_hour: usual,
        users_sharing_mfa_required_denials: denied.iter().cloned().collect(),
        bursts: bs.iter().map(|&(a, b)| [format_millis(a), format_millis(b)]).collect(),
    };
    let ev: Vec<Evidence> = std::iter::once(Evidence::of(ix, t0, "the user's first failure signal"))
        .chain(
            examples
                .iter()
                .take(8)
                .map(|&i| Evidence::of(ix, i, "another user failing MFA in the same hours")),
        )
        .collect();
    let hours = bs
        .iter()
        .map(|&(a, b)| format!("{}..{}", format_millis(a), format_millis(b)))
        .collect::<Vec<_>>()
        .join(", ");
    let (status, summary, ev) = match scope {
        Scope::None => (
            Status::NotEvaluable,
            format!(
                "{} has no MFA failure that is not typing (only denials): scope is judged on MFA failures; {} other user(s) share MFA-required denials in the same hours (a policy, see D3/D6).",
                p.principal.name,
                denied.len()
            ),
            Vec::new(),
        ),
        Scope::User => (
            Status::RuledOut,
            format!(
                "Only {} fails MFA (typing aside) in {hours}: user-specific (device or policy), not the MFA service.",
                p.principal.name
            ),
            ev,
        ),
        Scope::Account => (
            Status::Confirmed,
            format!(
                "{in_acct} users fail MFA in account {} in the same hours ({hours}), above the account's usual level: an account-wide pattern (an account policy change or the MFA service).",
                mine
            ),
            ev,
        ),
        Scope::MultiAccount => (
            Status::Confirmed,
            format!(
                "{total} users in {} accounts fail MFA in the same hours ({hours}): suspect MFA service availability.",
                per_account.len()
            ),
            ev,
        ),
    };
    Finding::new(&META, status, summary)
        .with_evidence(ev)
        .with_metrics(M::D5(metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, pass};

    fn failing(min: i64, user: &str, acct: &str) -> EventRow {
        let mut e = ev(min, MfaFailure, Some(user), None, None);
        e.recipient_account_id = Some(acct.into());
        e.account_id = Some(acct.into());
        e
    }

    fn scope(events: Vec<EventRow>) -> (Status, &'static str) {
        let mut events = events;
        for e in &mut events {
            if e.user_name.as_deref() == Some("u1") {
                e.account_id = Some(crate::index::tests::ACCT.into());
                e.recipient_account_id = Some(crate::index::tests::ACCT.into());
            }
        }
        let ix = index(events);
        let f = eval(&pass(&ix, "u1"));
        let s = match &f.metrics {
            M::D5(m) => m.scope,
            _ => "?",
        };
        (f.status, s)
    }

    const A: &str = crate::index::tests::ACCT;

    #[test]
    fn user_account_multi() {
        assert_eq!(scope(vec![failing(100, "u1", A)]), (Status::RuledOut, "user"));
        assert_eq!(
            scope(vec![
                failing(100, "u1", A),
                failing(110, "u2", A),
                failing(120, "u3", A)
            ]),
            (Status::Confirmed, "account")
        );
        assert_eq!(
            scope(vec![
                failing(100, "u1", A),
                failing(110, "u2", "B"),
                failing(120, "u3", "C")
            ])
            .1,
            "multi_account"
        );
        // Two users of two attempting: 100 % of the account.
        assert_eq!(scope(vec![failing(100, "u1", A), failing(110, "u2", A)]).1, "account");
        // Hours apart: not the same incident; hidden user names are not users.
        assert_eq!(
            scope(vec![
                failing(100, "u1", A),
                failing(900, "u2", A),
                failing(105, crate::event::HIDDEN_USER, A)
            ])
            .1,
            "user"
        );
    }

    #[test]
    fn typos_spread_over_a_day_are_not_an_outage() {
        // u1 fails for real at 10:00; u2..u4 mistype (fail, succeed a minute later) in that hour.
        let mut events = vec![failing(600, "u1", A), failing(610, "u1", A), failing(640, "u1", A)];
        for (k, u) in ["u2", "u3", "u4"].iter().enumerate() {
            let m = 605 + 10 * k as i64;
            events.push(failing(m, u, A));
            events.push(ev(m + 1, MfaSuccess, Some(u), None, None));
        }
        assert_eq!(scope(events), (Status::RuledOut, "user"));
    }

    #[test]
    fn a_whole_day_of_bursts_is_not_one_window() {
        // u1 fails in the morning and in the evening; u2 and u3 fail at noon.
        let events = vec![
            failing(480, "u1", A),
            failing(1200, "u1", A),
            failing(720, "u2", A),
            failing(725, "u3", A),
        ];
        assert_eq!(scope(events), (Status::RuledOut, "user"));
    }

    #[test]
    fn denial_only_users_list_who_else_is_denied() {
        let events = vec![
            ev(100, MfaRequiredDenied, Some("u1"), None, None),
            ev(105, MfaRequiredDenied, Some("u2"), None, None),
        ];
        let ix = index(events);
        let f = eval(&pass(&ix, "u1"));
        assert_eq!(f.status, Status::NotEvaluable);
        match &f.metrics {
            M::D5(m) => assert_eq!(m.users_sharing_mfa_required_denials, ["u2 (111122223333)"]),
            other => panic!("{other:?}"),
        }
    }
}
