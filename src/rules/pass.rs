//! What every rule of one pass shares: the principal, the window, the
//! principal's failure signals in it, and the baseline T0. All of it comes
//! from the index; none of it is another rule's verdict.
//!
//! T0 is the first failure signal that is not typing: the first MFA failure
//! of a run that was not resolved within minutes (see `index::attempts`);
//! where there is none, the first MFA-required denial; where there is none,
//! the first typo (the user only mistyped); else a denial of an MFA session
//! under a known `aws:MultiFactorAuthAge` condition.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::event::{EventClass, Millis, Principal, PrincipalKey, format_millis};
use crate::index::{Ev, Index, Pid};

/// What kind of signal T0 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    MfaFailure,
    MfaRequiredDenial,
    Typo,
    StaleMfaDenial,
}

pub struct Pass<'a> {
    pub ix: &'a Index,
    pub pid: Pid,
    pub principal: &'a Principal,
    pub key: PrincipalKey,
    pub since: Millis,
    pub until: Millis,
    pub extended: bool,
    /// The principal's events in the window (as caller, subject or device owner).
    pub events: &'a [Ev],
    /// The principal's failed MFA attempts in the window (certain and ambiguous console),
    /// typos included (`ix.typo` tells).
    pub failures: Vec<Ev>,
    /// Failures that are not typos.
    pub real_failures: Vec<Ev>,
    /// MFA-required denials: identity-policy denies without MFA, and trust-policy denials
    /// where the trust policy then required MFA.
    pub denials: Vec<Ev>,
    /// Denials of MFA sessions where a known MFA-age condition reaches the principal.
    pub stale_denials: Vec<Ev>,
    pub t0: Option<Ev>,
    pub signal: Option<Signal>,
}

impl<'a> Pass<'a> {
    pub fn new(ix: &'a Index, pid: Pid, since: Millis, until: Millis, extended: bool) -> Pass<'a> {
        let principal = ix.principal(pid);
        let key = principal.key();
        let events = ix.about_between(pid, since, until);
        let own: Vec<Ev> = events.iter().copied().filter(|&i| ix.actor(i) == Some(pid)).collect();
        let failures: Vec<Ev> = own
            .iter()
            .copied()
            .filter(|&i| ix.event(i).class.is_mfa_attempt_failure())
            .collect();
        let real_failures: Vec<Ev> = failures.iter().copied().filter(|&i| !ix.typo[i as usize]).collect();
        let denials: Vec<Ev> = own.iter().copied().filter(|&i| ix.is_mfa_denial(i)).collect();
        let stale_denials: Vec<Ev> = if principal.kind.has_iam_devices() {
            own.iter()
                .copied()
                .filter(|&i| {
                    let e = ix.event(i);
                    e.class == EventClass::ExplicitDenyWithMfa
                        && ix.policies.requirements_at(&key, e.event_time).iter().any(|r| {
                            ix.policies.docs[r.doc]
                                .policy
                                .as_ref()
                                .is_ok_and(|p| p.mfa_statements().iter().any(|(_, q)| q.max_age_seconds.is_some()))
                        })
                })
                .collect()
        } else {
            Vec::new()
        };
        let (t0, signal) = if let Some(&f) = real_failures.first() {
            (Some(f), Some(Signal::MfaFailure))
        } else if let Some(&d) = denials.first() {
            (Some(d), Some(Signal::MfaRequiredDenial))
        } else if let Some(&f) = failures.first() {
            (Some(f), Some(Signal::Typo))
        } else if let Some(&d) = stale_denials.first() {
            (Some(d), Some(Signal::StaleMfaDenial))
        } else {
            (None, None)
        };
        Pass {
            ix,
            pid,
            principal,
            key,
            since,
            until,
            extended,
            events,
            failures,
            real_failures,
            denials,
            stale_denials,
            t0,
            signal,
        }
    }

    pub fn t0_time(&self) -> Option<Millis> {
        self.t0.map(|i| self.ix.event(i).event_time)
    }

    /// The principal's own events in the window (as the caller) of the given classes.
    pub fn own(&self, classes: &[EventClass]) -> Vec<Ev> {
        self.events
            .iter()
            .copied()
            .filter(|&i| self.ix.actor(i) == Some(self.pid) && classes.contains(&self.ix.event(i).class))
            .collect()
    }

    /// All failure signals (failures, denials, stale denials), time-sorted.
    pub fn signals(&self) -> Vec<Ev> {
        let mut v: Vec<Ev> = self
            .failures
            .iter()
            .chain(&self.denials)
            .chain(&self.stale_denials)
            .copied()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The actions the principal was denied for want of MFA (from the messages).
    pub fn denied_actions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .denials
            .iter()
            .filter_map(|&i| {
                let e = self.ix.event(i);
                e.denied_action
                    .clone()
                    .or_else(|| (e.class == EventClass::AssumeRoleDenied).then(|| "sts:AssumeRole".to_owned()))
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The `baseline` block of the report (DESIGN §2).
    pub fn baseline(&self) -> Baseline {
        let sig = self.signals();
        let set = |f: &dyn Fn(&crate::event::EventRow) -> Option<&str>| -> Vec<String> {
            sig.iter()
                .filter_map(|&i| f(self.ix.event(i)))
                .map(str::to_owned)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        Baseline {
            principal_kind: self.principal.kind.as_str(),
            account: self.principal.account.clone(),
            first_failure: self.t0_time().map(format_millis),
            signal: self.signal,
            failures: self.failures.len(),
            typo_failures: self.failures.len() - self.real_failures.len(),
            mfa_required_denials: self.denials.len(),
            stale_mfa_denials: self.stale_denials.len(),
            last_failure: sig.last().map(|&i| format_millis(self.ix.event(i).event_time)),
            source_ips: set(&|e| e.source_ip.as_deref()),
            user_agents: set(&|e| e.user_agent.as_deref()),
            serials: set(&|e| e.mfa_serial.as_deref()),
            event_names: set(&|e| Some(e.event_name.as_str())),
        }
    }
}

/// What a point of the timeline chart is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// An MFA failure that is not typing.
    Failure,
    /// A failure fixed within minutes.
    Typo,
    /// An MFA-required denial (or a denial of a stale MFA session).
    Denial,
    Success,
    /// A lifecycle event of one of the user's devices.
    Device,
    /// A policy change that reaches the user (or may: its reach is not in the data).
    Policy,
}

/// One point of the principal's timeline in the window (reports draw them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    #[serde(serialize_with = "crate::event::serialize_millis")]
    pub time: Millis,
    pub kind: MarkKind,
    pub label: String,
    pub event_id: String,
}

impl Pass<'_> {
    /// The principal's timeline in the window: failures, typos, denials, successes, device
    /// events and the policy changes that reach it.
    pub fn marks(&self) -> Vec<Mark> {
        let ix = self.ix;
        let mut out: Vec<Mark> = Vec::new();
        let mut push = |i: Ev, kind: MarkKind, label: String| {
            let e = ix.event(i);
            out.push(Mark {
                time: e.event_time,
                kind,
                label,
                event_id: e.event_id.clone(),
            });
        };
        for &i in &self.failures {
            let kind = if ix.typo[i as usize] {
                MarkKind::Typo
            } else {
                MarkKind::Failure
            };
            push(i, kind, ix.event(i).event_name.clone());
        }
        for &i in self.denials.iter().chain(&self.stale_denials) {
            let e = ix.event(i);
            push(
                i,
                MarkKind::Denial,
                e.denied_action.clone().unwrap_or_else(|| e.event_name.clone()),
            );
        }
        for i in self.own(&[EventClass::MfaSuccess]) {
            push(i, MarkKind::Success, ix.event(i).event_name.clone());
        }
        for &i in self.events {
            let e = ix.event(i);
            if e.class.is_device() && e.succeeded() {
                push(
                    i,
                    MarkKind::Device,
                    format!("{} {}", e.event_name, e.mfa_serial.as_deref().unwrap_or("")),
                );
            }
        }
        if self.principal.kind.has_iam_devices() {
            for c in ix.policies.changes_between(self.since, self.until) {
                if ix.policies.reach(c, &self.key, self.until) != crate::index::policies::Reach::No {
                    push(c.event, MarkKind::Policy, c.what.clone());
                }
            }
        }
        out.sort_by(|a, b| (a.time, &a.event_id).cmp(&(b.time, &b.event_id)));
        out
    }
}

/// The `baseline` block of the JSON report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    pub principal_kind: &'static str,
    pub account: String,
    pub first_failure: Option<String>,
    pub signal: Option<Signal>,
    pub failures: usize,
    pub typo_failures: usize,
    pub mfa_required_denials: usize,
    pub stale_mfa_denials: usize,
    pub last_failure: Option<String>,
    pub source_ips: Vec<String>,
    pub user_agents: Vec<String>,
    pub serials: Vec<String>,
    pub event_names: Vec<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::EventRow;

    /// An index over `events` (sorted here) and the id of the IAM user `user` of the test account.
    pub fn index(mut events: Vec<EventRow>) -> Index {
        events.sort_by(|a, b| (a.event_time, &a.event_id).cmp(&(b.event_time, &b.event_id)));
        Index::build(events)
    }

    pub fn pid(ix: &Index, user: &str) -> Pid {
        ix.id(
            &crate::event::Principal::new(crate::event::PrincipalKind::IamUser, crate::index::tests::ACCT, user).key(),
        )
        .unwrap_or_else(|| panic!("no principal {user}"))
    }

    /// The pass of `user` over minutes [0, 1000].
    pub fn pass<'a>(ix: &'a Index, user: &str) -> Pass<'a> {
        Pass::new(ix, pid(ix, user), 0, 1_000 * 60_000, false)
    }
}
