//! The account-wide failure series: per account and hour, how many IAM users
//! (and root) failed MFA for real (attempt failures that are not typing) and
//! how many attempted an MFA or console sign-in. Built once per run with
//! polars over every event read, it gives D5 the account's usual level from
//! hours outside an episode, so that "several users fail in the same hour" is
//! compared with what this account normally sees, never with the incident.

use std::collections::HashMap;

use polars::prelude::*;

use crate::event::{EventClass, EventRow, HOUR, Millis, Principal};

use super::SignalKind;

/// Hours with MFA attempts an account needs before its usual level is trusted.
pub const MIN_BASELINE_HOURS: usize = 24;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Hour {
    /// Distinct principals with a real (non-typo) MFA failure.
    pub failing: u32,
    /// Distinct principals with any MFA attempt or console sign-in.
    pub attempting: u32,
}

#[derive(Debug, Default)]
pub struct FailureSeries {
    hours: HashMap<(String, i64), Hour>,
    /// Per account: its hours with attempts, ascending (hour index, counts).
    by_account: HashMap<String, Vec<(i64, Hour)>>,
}

/// Distinct (account, hour, principal) rows counted per (account, hour), with polars.
fn distinct_per_hour(rows: &[(String, i64, String)]) -> PolarsResult<Vec<(String, i64, u32)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let df = DataFrame::new(
        rows.len(),
        vec![
            Column::new("account".into(), rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>()),
            Column::new("hour".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            Column::new(
                "principal".into(),
                rows.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
            ),
        ],
    )?;
    let distinct = df.unique_stable(None, UniqueKeepStrategy::First, None)?;
    let gb = distinct.group_by(["account", "hour"])?;
    let keys = gb.keys();
    let counts = gb.get_groups().group_count();
    let accounts = keys[0].str()?;
    let hours = keys[1].i64()?;
    Ok((0..counts.len())
        .filter_map(|i| Some((accounts.get(i)?.to_owned(), hours.get(i)?, counts.get(i)? as u32)))
        .collect())
}

/// Attempts bucketed by `width`: bucket → (failures, attempts). Plain Rust: one principal's
/// handful of attempts is far below what a DataFrame pays for itself on (polars does the
/// all-principal aggregations: `FailureSeries::build`, `signal_counts`).
pub fn bucket_counts(attempts: &[(Millis, bool)], width: Millis) -> std::collections::BTreeMap<i64, (u32, u32)> {
    let mut out: std::collections::BTreeMap<i64, (u32, u32)> = std::collections::BTreeMap::new();
    for &(t, fail) in attempts {
        let b = out.entry(t.div_euclid(width)).or_default();
        b.0 += u32::from(fail);
        b.1 += 1;
    }
    out
}

/// One principal's failure signals in a range (for `scan`'s ranking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalCounts {
    pub pid: super::Pid,
    pub real_failures: usize,
    pub typo_failures: usize,
    pub denials: usize,
    pub identity_center_failures: usize,
    pub first: Millis,
    pub last: Millis,
}

/// Every principal's failure signals between `since` and `until`, counted at once with polars
/// (group_by principal; the rows are time-sorted, so a group's first and last rows are its
/// first and last signal). Ordered by principal id.
pub fn signal_counts(ix: &super::Index, since: Millis, until: Millis) -> PolarsResult<Vec<SignalCounts>> {
    const REAL: u32 = 0;
    const TYPO: u32 = 1;
    const DENIAL: u32 = 2;
    const IDC: u32 = 3;
    let (mut pids, mut times, mut kinds) = (Vec::new(), Vec::new(), Vec::new());
    for (i, e) in ix.events.iter().enumerate() {
        if e.event_time < since || e.event_time > until {
            continue;
        }
        let i = i as super::Ev;
        let Some(a) = ix.actor(i) else { continue };
        let kind = if e.class.is_mfa_attempt_failure() {
            if ix.typo[i as usize] { TYPO } else { REAL }
        } else if ix.is_denial(i) {
            DENIAL
        } else if e.class == EventClass::IdentityCenterFailure {
            IDC
        } else {
            continue;
        };
        pids.push(a);
        times.push(e.event_time);
        kinds.push(kind);
    }
    if pids.is_empty() {
        return Ok(Vec::new());
    }
    let df = DataFrame::new(
        pids.len(),
        vec![
            Column::new("pid".into(), pids),
            Column::new("time".into(), times.clone()),
            Column::new("kind".into(), kinds),
        ],
    )?;
    let gb = df.group_by(["pid"])?;
    let keys = gb.keys();
    let key = keys[0].u32()?;
    let mut out: std::collections::BTreeMap<u32, SignalCounts> = std::collections::BTreeMap::new();
    for (g, idx) in gb.get_groups().iter().enumerate() {
        let Some(pid) = key.get(g) else { continue };
        let last = match &idx {
            polars::prelude::GroupsIndicator::Idx((_, v)) => v.last().copied().unwrap_or(idx.first()),
            polars::prelude::GroupsIndicator::Slice([first, len]) => first + len.saturating_sub(1),
        };
        out.insert(
            pid,
            SignalCounts {
                pid,
                real_failures: 0,
                typo_failures: 0,
                denials: 0,
                identity_center_failures: 0,
                first: times[idx.first() as usize],
                last: times[last as usize],
            },
        );
    }
    for kind in [REAL, TYPO, DENIAL, IDC] {
        let mask = df.column("kind")?.u32()?.equal(kind);
        let part = df.filter(&mask)?;
        if part.height() == 0 {
            continue;
        }
        let gb = part.group_by(["pid"])?;
        let keys = gb.keys();
        let key = keys[0].u32()?;
        let n = gb.get_groups().group_count();
        for g in 0..n.len() {
            let (Some(pid), Some(n)) = (key.get(g), n.get(g)) else {
                continue;
            };
            if let Some(c) = out.get_mut(&pid) {
                let n = n as usize;
                match kind {
                    REAL => c.real_failures = n,
                    TYPO => c.typo_failures = n,
                    DENIAL => c.denials = n,
                    _ => c.identity_center_failures = n,
                }
            }
        }
    }
    Ok(out.into_values().collect())
}

impl FailureSeries {
    pub fn build(
        events: &[EventRow],
        signal: &[Option<SignalKind>],
        actor: &[Option<super::Pid>],
        principals: &[Principal],
    ) -> FailureSeries {
        let mut failing = Vec::new();
        let mut attempting = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let attempt = matches!(
                e.class,
                EventClass::MfaFailure
                    | EventClass::ConsoleFailureAmbiguous
                    | EventClass::MfaSuccess
                    | EventClass::LoginFailure
                    | EventClass::LoginSuccessNoMfa
            );
            if !attempt {
                continue;
            }
            let Some(p) = actor[i]
                .map(|p| &principals[p as usize])
                .filter(|a| a.kind.has_iam_devices())
            else {
                continue;
            };
            let row = (
                p.account.clone(),
                e.event_time.div_euclid(HOUR),
                p.name.to_ascii_lowercase(),
            );
            if signal[i].is_some_and(SignalKind::is_attempt) {
                failing.push(row.clone());
            }
            attempting.push(row);
        }
        let mut s = FailureSeries::default();
        // polars errors here would mean a bug in the frame we built; an empty series is the
        // honest fallback (D5 then uses no baseline and says so in its metrics).
        for (a, h, n) in distinct_per_hour(&attempting).unwrap_or_default() {
            s.hours.entry((a, h)).or_default().attempting = n;
        }
        for (a, h, n) in distinct_per_hour(&failing).unwrap_or_default() {
            s.hours.entry((a, h)).or_default().failing = n;
        }
        for ((a, h), c) in &s.hours {
            s.by_account.entry(a.clone()).or_default().push((*h, *c));
        }
        for v in s.by_account.values_mut() {
            v.sort_unstable_by_key(|(h, _)| *h);
        }
        s
    }

    /// The hour bucket of `account` holding `t`.
    pub fn at(&self, account: &str, t: Millis) -> Hour {
        self.hours
            .get(&(account.to_owned(), t.div_euclid(HOUR)))
            .copied()
            .unwrap_or_default()
    }

    /// The account's usual number of failing users in an hour: the 95th percentile over its
    /// hours with attempts outside `[from, to]` (an episode's hours, so that an incident never
    /// sets its own bar). None when fewer than `MIN_BASELINE_HOURS` such hours are in the data.
    pub fn usual(&self, account: &str, from: Millis, to: Millis) -> Option<u32> {
        let (lo, hi) = (from.div_euclid(HOUR), to.div_euclid(HOUR));
        let mut v: Vec<u32> = self
            .by_account
            .get(account)?
            .iter()
            .filter(|(h, _)| *h < lo || *h > hi)
            .map(|(_, c)| c.failing)
            .collect();
        if v.len() < MIN_BASELINE_HOURS {
            return None;
        }
        v.sort_unstable();
        // Nearest-rank 95th percentile.
        let rank = (v.len() * 95).div_ceil(100).max(1);
        Some(v[rank - 1])
    }

    /// Every (account, hour start, counts), sorted: the failure series for reports.
    pub fn hours(&self) -> Vec<(String, Millis, Hour)> {
        let mut v: Vec<(String, Millis, Hour)> =
            self.hours.iter().map(|((a, h), c)| (a.clone(), h * HOUR, *c)).collect();
        v.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::index::tests::{ACCT, ev};

    fn build(events: &[EventRow], typo: &[bool]) -> FailureSeries {
        let signal: Vec<Option<SignalKind>> = events
            .iter()
            .zip(typo)
            .map(|(e, t)| (e.class.is_mfa_attempt_failure() && !t).then_some(SignalKind::Failure))
            .collect();
        let mut principals: Vec<Principal> = Vec::new();
        let actor: Vec<Option<u32>> = events
            .iter()
            .map(|e| {
                let p = e.actor()?;
                let i = principals.iter().position(|x| x.key() == p.key()).unwrap_or_else(|| {
                    principals.push(p);
                    principals.len() - 1
                });
                Some(i as u32)
            })
            .collect();
        FailureSeries::build(events, &signal, &actor, &principals)
    }

    #[test]
    fn counts_distinct_users_per_hour_without_typos() {
        let events = vec![
            ev(1, MfaFailure, Some("a"), None, None),
            ev(2, MfaFailure, Some("a"), None, None),
            ev(3, MfaFailure, Some("B"), None, None),
            ev(4, MfaFailure, Some("b"), None, None),
            ev(5, MfaFailure, Some("c"), None, None),
            ev(6, MfaSuccess, Some("d"), None, None),
            ev(70, MfaFailure, Some("a"), None, None),
        ];
        let typo = vec![false, false, false, false, true, false, false];
        let s = build(&events, &typo);
        assert_eq!(
            s.at(ACCT, 0),
            Hour {
                failing: 2,
                attempting: 4
            }
        );
        assert_eq!(s.at(ACCT, 70 * 60_000).failing, 1);
        assert_eq!(
            s.usual(ACCT, i64::MIN, i64::MIN),
            None,
            "two hours are not enough history"
        );
        assert_eq!(s.hours().len(), 2);
    }

    #[test]
    fn buckets() {
        let b = bucket_counts(&[(0, true), (10, false), (99, true), (100, true)], 100);
        assert_eq!(b.get(&0), Some(&(2, 3)));
        assert_eq!(b.get(&1), Some(&(1, 1)));
    }

    #[test]
    fn baseline_is_the_usual_level() {
        // 30 hours with one failing user each, one hour with five.
        let mut events = Vec::new();
        for h in 0..30 {
            events.push(ev(h * 60, MfaFailure, Some("x"), None, None));
        }
        for u in ["p", "q", "r", "s", "t"] {
            events.push(ev(31 * 60, MfaFailure, Some(u), None, None));
        }
        let typo = vec![false; events.len()];
        let s = build(&events, &typo);
        assert_eq!(s.usual(ACCT, i64::MIN, i64::MIN), Some(1));
        // The incident's own hour left out: still 1; the incident inside: still 1 (p95 of 31).
        assert_eq!(s.usual(ACCT, 31 * HOUR, 31 * HOUR), Some(1));
        // Too few hours once most are the episode's.
        assert_eq!(s.usual(ACCT, 0, 20 * HOUR), None);
    }
}
