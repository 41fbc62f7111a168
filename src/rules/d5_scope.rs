//! D5 — scope: one user, the account, or several accounts.
//!
//! ## Runbook step
//! > 5. If failures affect multiple users (from CloudTrail analysis in Playbook step 3), check
//! > for account-wide patterns. If only specific users are affected, the issue is user-specific
//! > (device or policy). If widespread, MFA service availability may be the cause.
//!
//! ## What it checks
//! Hour by hour (clock hours holding the user's episode failures; never one span over a whole
//! day), the other IAM users (and root) of every account who fail MFA in that hour (attempt
//! failures that are not typing: typing is not an outage, and denials point to a policy, not to
//! the MFA service). Each account's count is weighed against its usual level: the 95th
//! percentile of failing users per hour over the hours of the data read outside the episode
//! (the incident never sets its own bar). Where the data read holds fewer than a day of such
//! hours with sign-ins, the absolute thresholds alone decide, and the metrics say so.
//! `HIDDEN_DUE_TO_SECURITY_REASONS` (a mistyped user name) is not a user.
//!
//! ## Verdicts
//! `user` (ruled_out: the cause is the user's device or policy). `account` (confirmed): at
//! least 3 users failing in the user's account in one of its hours, above the account's usual
//! level (two people mistyping in the same hour happens every week in a busy account).
//! `multi_account` (confirmed, suspect the MFA service): in one of its hours, failing users
//! above the usual level in at least 2 accounts (the user's among them) and 3 users in all.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the user's episode has no attempt failure (denials only).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleId, RuleMeta, Status};
use crate::event::{HOUR, Millis, format_millis};
use crate::index::{Ev, Pid};

pub const META: RuleMeta = RuleMeta {
    id: RuleId::D5,
    title: "Scope: user, account or multi-account",
    runbook_step: "Diagnosis 5",
    checks: "hour by hour, distinct users with MFA failures (typing excluded) in the hours of the user's episode failures, against each account's usual level from hours outside the episode: account-wide (>= 3 users in the account) or multi-account (>= 2 accounts, >= 3 users)",
    next_step: "Check the AWS Health Dashboard for IAM/STS/sign-in events at that time and any account-wide change (SCP, identity provider, time source) before touching single users.",
};

pub const MIN_ACCOUNT_USERS: usize = 3;
pub const MIN_MULTI_USERS: usize = 3;
pub const MIN_MULTI_ACCOUNTS: usize = 2;

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

/// One clock hour of the user's episode failures, per account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourCount {
    pub hour: Millis,
    /// Failing users per account in that hour.
    pub failing: BTreeMap<String, BTreeSet<Pid>>,
}

/// What D5 found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub scope: Scope,
    /// The hours compared.
    pub hours: Vec<HourCount>,
    /// The hour that decided a wide scope.
    pub decisive: Option<Millis>,
    /// Each account's usual level (None: under a day of history outside the episode).
    pub usual: BTreeMap<String, Option<u32>>,
    /// Other users with MFA-required denials in those hours (a policy, D3/D6).
    pub denied: BTreeSet<Pid>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub scope: Scope,
    /// Distinct failing users in the decisive (else the busiest) hour, all accounts.
    pub failing_users: usize,
    pub failing_users_per_account: BTreeMap<String, Vec<String>>,
    pub users_attempting_per_account: BTreeMap<String, u32>,
    /// The account's usual number of failing users per hour, from hours outside the episode
    /// (None: under a day of such hours; the absolute thresholds alone decide).
    pub usual_failing_users_per_hour: BTreeMap<String, Option<u32>>,
    pub users_sharing_mfa_required_denials: Vec<String>,
    /// The clock hours compared, with the failing users of each (all accounts).
    pub hours: Vec<(String, usize)>,
    /// Kept for the JSON contract: the hours compared as [start, end].
    pub bursts: Vec<[String; 2]>,
}

pub fn verdict(p: &Pass) -> Option<Verdict> {
    let ix = p.ix;
    p.t0.filter(|_| p.principal.kind.has_iam_devices())?;
    let me = p.pid;
    let hours_of = |evs: &[Ev]| -> Vec<Millis> {
        let mut v: Vec<Millis> = evs
            .iter()
            .map(|&i| ix.event(i).event_time.div_euclid(HOUR) * HOUR)
            .collect();
        v.dedup();
        v
    };
    let hours = hours_of(&p.failures);
    // Users sharing denials are listed for the hours of the user's failures, or of its
    // denials when it has only those.
    let denial_hours = if hours.is_empty() {
        hours_of(&p.denials)
    } else {
        hours.clone()
    };
    let ep = p.episode?;
    let (ep_from, ep_to) = (
        ix.event(ep.t0).event_time.div_euclid(HOUR) * HOUR,
        ix.event(ep.last).event_time.div_euclid(HOUR) * HOUR,
    );
    let mut denied: BTreeSet<Pid> = BTreeSet::new();
    for &h in &denial_hours {
        for &i in ix.signals_between(h, h + HOUR - 1) {
            if let Some(who) = ix.actor(i).filter(|&w| w != me)
                && ix.is_mfa_denial(i)
                && ix.principal(who).kind.has_iam_devices()
            {
                denied.insert(who);
            }
        }
    }
    let accounts: Vec<String> = ix.accounts().map(str::to_owned).collect();
    let counted: Vec<HourCount> = hours
        .iter()
        .map(|&h| {
            let mut failing: BTreeMap<String, BTreeSet<Pid>> = BTreeMap::new();
            for a in &accounts {
                let who: BTreeSet<Pid> = ix
                    .account_signals(a, h, h + HOUR - 1)
                    .iter()
                    .filter_map(|&i| ix.actor(i))
                    .collect();
                if !who.is_empty() {
                    failing.insert(a.clone(), who);
                }
            }
            HourCount { hour: h, failing }
        })
        .collect();
    if hours.is_empty() {
        return Some(Verdict {
            scope: Scope::None,
            hours: counted,
            decisive: None,
            usual: BTreeMap::new(),
            denied,
        });
    }
    let mut usual: BTreeMap<String, Option<u32>> = BTreeMap::new();
    for h in &counted {
        for a in h.failing.keys() {
            usual
                .entry(a.clone())
                .or_insert_with(|| ix.series().usual(a, ep_from, ep_to));
        }
    }
    let above = |a: &str, n: usize| usual.get(a).copied().flatten().is_none_or(|u| n as u32 > u);
    let mine = p.principal.account.as_str();
    let mut scope = Scope::User;
    let mut decisive = None;
    for h in &counted {
        let wide: Vec<(&String, usize)> = h
            .failing
            .iter()
            .map(|(a, u)| (a, u.len()))
            .filter(|(a, n)| above(a, *n))
            .collect();
        let total: usize = wide.iter().map(|(_, n)| n).sum();
        let mine_wide = wide.iter().any(|(a, _)| a.as_str() == mine);
        if mine_wide && wide.len() >= MIN_MULTI_ACCOUNTS && total >= MIN_MULTI_USERS {
            scope = Scope::MultiAccount;
            decisive = Some(h.hour);
            break;
        }
        let in_mine = h.failing.get(mine).map_or(0, BTreeSet::len);
        if scope == Scope::User && in_mine >= MIN_ACCOUNT_USERS && above(mine, in_mine) {
            scope = Scope::Account;
            decisive = Some(h.hour);
        }
    }
    Some(Verdict {
        scope,
        hours: counted,
        decisive,
        usual,
        denied,
    })
}

pub fn eval(p: &Pass) -> Finding {
    match verdict(p) {
        None => Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user."),
        Some(v) => render(p, v),
    }
}

fn render(p: &Pass, v: Verdict) -> Finding {
    let ix = p.ix;
    let label = |who: &Pid| {
        let pr = ix.principal(*who);
        format!("{} ({})", pr.name, pr.account)
    };
    let shown = v
        .decisive
        .and_then(|d| v.hours.iter().find(|h| h.hour == d))
        .or_else(|| {
            v.hours
                .iter()
                .max_by_key(|h| h.failing.values().map(BTreeSet::len).sum::<usize>())
        });
    let names: BTreeMap<String, Vec<String>> = shown
        .map(|h| {
            h.failing
                .iter()
                .map(|(a, u)| {
                    let mut n: Vec<String> = u.iter().map(|p| ix.principal(*p).name.to_ascii_lowercase()).collect();
                    n.sort();
                    (a.clone(), n)
                })
                .collect()
        })
        .unwrap_or_default();
    let attempting: BTreeMap<String, u32> = names
        .keys()
        .map(|a| (a.clone(), shown.map_or(0, |h| ix.series().at(a, h.hour).attempting)))
        .collect();
    let total: usize = names.values().map(Vec::len).sum();
    let metrics = Metrics {
        scope: v.scope,
        failing_users: total,
        failing_users_per_account: names.clone(),
        users_attempting_per_account: attempting,
        usual_failing_users_per_hour: v.usual.clone(),
        users_sharing_mfa_required_denials: v.denied.iter().map(label).collect(),
        hours: v
            .hours
            .iter()
            .map(|h| (format_millis(h.hour), h.failing.values().map(BTreeSet::len).sum()))
            .collect(),
        bursts: v
            .hours
            .iter()
            .map(|h| [format_millis(h.hour), format_millis(h.hour + HOUR - 1)])
            .collect(),
    };
    let mut ev: Vec<Evidence> =
        p.t0.map(|t0| Evidence::of(ix, t0, "the user's first failure signal"))
            .into_iter()
            .collect();
    if let Some(h) = shown {
        let others: Vec<Ev> = names
            .keys()
            .flat_map(|a| ix.account_signals(a, h.hour, h.hour + HOUR - 1).iter().copied())
            .filter(|&i| ix.actor(i) != Some(p.pid))
            .collect();
        let mut seen = BTreeSet::new();
        ev.extend(
            others
                .into_iter()
                .filter(|&i| ix.actor(i).is_some_and(|w| seen.insert(w)))
                .take(8)
                .map(|i| Evidence::of(ix, i, "another user failing MFA in the same hour")),
        );
    }
    let no_history: Vec<&str> = v
        .usual
        .iter()
        .filter(|(_, u)| u.is_none())
        .map(|(a, _)| a.as_str())
        .collect();
    let history = if no_history.is_empty() {
        String::new()
    } else {
        format!(
            " (under a day of history outside the episode for {}: the absolute thresholds alone decide)",
            no_history.join(", ")
        )
    };
    let hour = |h: Option<Millis>| h.map(format_millis).unwrap_or_default();
    let (status, summary, ev) = match v.scope {
        Scope::None => (
            Status::NotEvaluable,
            format!(
                "{} has no MFA failure that is not typing in the episode (only denials): scope is judged on MFA failures; {} other user(s) share MFA-required denials in those hours (a policy, see D3/D6).",
                p.principal.name,
                v.denied.len()
            ),
            Vec::new(),
        ),
        Scope::User => (
            Status::RuledOut,
            format!(
                "In the {} hour(s) of {}'s failures, no account has 3 or more users failing MFA above its usual level: user-specific (device or policy), not the MFA service{history}.",
                v.hours.len(),
                p.principal.name
            ),
            ev,
        ),
        Scope::Account => (
            Status::Confirmed,
            format!(
                "{} users fail MFA in account {} in the hour from {}, above the account's usual level: an account-wide pattern (an account policy change or the MFA service){history}.",
                names.get(&p.principal.account).map_or(0, Vec::len),
                p.principal.account,
                hour(v.decisive)
            ),
            ev,
        ),
        Scope::MultiAccount => (
            Status::Confirmed,
            format!(
                "{total} users in {} accounts fail MFA in the hour from {}, above each account's usual level: suspect MFA service availability{history}.",
                names.len(),
                hour(v.decisive)
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
    use crate::rules::pass::tests::{index, with_pass};

    fn failing(min: i64, user: &str, acct: &str) -> EventRow {
        let mut e = ev(min, MfaFailure, Some(user), None, None);
        e.recipient_account_id = Some(acct.into());
        e.account_id = Some(acct.into());
        e
    }

    fn scope(events: Vec<EventRow>) -> Scope {
        let ix = index(events);
        with_pass(&ix, "u1", |p| verdict(p).map_or(Scope::None, |v| v.scope))
    }

    const A: &str = crate::index::tests::ACCT;

    #[test]
    fn user_account_multi() {
        assert_eq!(scope(vec![failing(100, "u1", A)]), Scope::User);
        assert_eq!(
            scope(vec![
                failing(100, "u1", A),
                failing(110, "u2", A),
                failing(115, "u3", A)
            ]),
            Scope::Account
        );
        assert_eq!(
            scope(vec![
                failing(100, "u1", A),
                failing(110, "u2", "B"),
                failing(115, "u3", "C")
            ]),
            Scope::MultiAccount
        );
        // Two users of one account in one hour: two people mistyping, not widespread.
        assert_eq!(scope(vec![failing(100, "u1", A), failing(110, "u2", A)]), Scope::User);
        // Hours apart: not the same incident; hidden user names are not users.
        assert_eq!(
            scope(vec![
                failing(100, "u1", A),
                failing(900, "u2", A),
                failing(910, "u3", A),
                failing(105, crate::event::HIDDEN_USER, A)
            ]),
            Scope::User
        );
    }

    #[test]
    fn typos_are_not_an_outage() {
        // u1 fails for real at 10:00; u2..u4 mistype (fail, succeed a minute later) in that hour.
        let mut events = vec![failing(600, "u1", A), failing(610, "u1", A), failing(640, "u1", A)];
        for (k, u) in ["u2", "u3", "u4"].iter().enumerate() {
            let m = 605 + 10 * k as i64;
            events.push(failing(m, u, A));
            events.push(ev(m + 1, MfaSuccess, Some(u), None, None));
        }
        assert_eq!(scope(events), Scope::User);
    }

    #[test]
    fn a_whole_day_of_failures_is_compared_hour_by_hour() {
        // u1 fails in the morning and in the evening (no success: one episode); u2 and u3 fail
        // at noon.
        let events = vec![
            failing(480, "u1", A),
            failing(960, "u1", A),
            failing(720, "u2", A),
            failing(725, "u3", A),
        ];
        assert_eq!(scope(events), Scope::User);
    }

    #[test]
    fn the_usual_level_comes_from_hours_outside_the_episode() {
        // Three failing users every hour for 30 hours (a noisy account), then the user's hour
        // with three: not above usual. With five: above.
        let mut events = Vec::new();
        for h in 0..30 {
            for u in ["n1", "n2", "n3"] {
                events.push(failing(h * 60 + 5, u, A));
            }
        }
        let at = 31 * 60;
        let with = |n: usize| {
            let mut ev = events.clone();
            ev.push(failing(at + 1, "u1", A));
            for k in 1..n {
                ev.push(failing(at + 2 + k as i64, &format!("x{k}"), A));
            }
            let ix = index(ev);
            let p = crate::rules::pass::tests::pid(&ix, "u1");
            let until = (at + 30) * 60_000;
            let episode = ix.episode(p, until);
            let pass = Pass::new(&ix, p, episode.as_ref(), 0, until, false);
            verdict(&pass).map(|v| v.scope)
        };
        assert_eq!(with(3), Some(Scope::User));
        assert_eq!(with(5), Some(Scope::Account));
    }

    #[test]
    fn denial_only_users_list_who_else_is_denied() {
        let events = vec![
            ev(100, MfaRequiredDenied, Some("u1"), None, None),
            ev(105, MfaRequiredDenied, Some("u2"), None, None),
        ];
        let ix = index(events);
        with_pass(&ix, "u1", |p| {
            let v = verdict(p).unwrap();
            assert_eq!(v.scope, Scope::None);
            assert_eq!(v.denied.len(), 1);
            let f = eval(p);
            assert_eq!(f.status, Status::NotEvaluable);
        });
    }
}
