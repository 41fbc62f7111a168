//! What every rule of one pass shares: the principal, the window, the
//! current failure episode and T0 (DESIGN §6.0). All of it comes from the
//! index; none of it is another rule's verdict.
//!
//! T0 is the first signal of the episode: the episode is computed once per
//! diagnosis, from `--until` back to the MFA success that closed the earlier
//! trouble, and both passes (24 h and 48 h before T0) share it. A pass only
//! widens what the rules look at before T0.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::event::{EventClass, Millis, Principal, PrincipalKey, format_millis};
use crate::index::{Episode, Ev, Index, Pid, SignalKind};
use crate::policy::Caller;

pub struct Pass<'a> {
    pub ix: &'a Index,
    pub pid: Pid,
    pub principal: &'a Principal,
    pub key: PrincipalKey,
    /// The analysis window: `[T0 − 24 h, until]`, or `[T0 − 48 h, until]` when extended.
    pub since: Millis,
    pub until: Millis,
    pub extended: bool,
    /// The principal's events in the window (as caller, subject or device owner).
    pub events: &'a [Ev],
    /// The current failure episode; None when the principal has no signal up to `until`.
    pub episode: Option<&'a Episode>,
    /// T0: the episode's first signal.
    pub t0: Option<Ev>,
    /// The episode's attempt failures (not typing), ascending.
    pub failures: Vec<Ev>,
    /// The episode's MFA-required denials (identity policies and trust policies).
    pub denials: Vec<Ev>,
    /// The episode's denials of MFA sessions under a known MFA-age limit.
    pub stale_denials: Vec<Ev>,
    /// The principal's typing failures in the window: shown, never signals.
    pub typos: Vec<Ev>,
}

impl<'a> Pass<'a> {
    pub fn new(
        ix: &'a Index,
        pid: Pid,
        episode: Option<&'a Episode>,
        since: Millis,
        until: Millis,
        extended: bool,
    ) -> Pass<'a> {
        let principal = ix.principal(pid);
        let key = principal.key();
        let events = ix.about_between(pid, since, until);
        let signals: &[Ev] = episode.map_or(&[], |e| e.signals.as_slice());
        let of = |f: &dyn Fn(SignalKind) -> bool| -> Vec<Ev> {
            signals
                .iter()
                .copied()
                .filter(|&i| ix.signal(i).is_some_and(f))
                .collect()
        };
        let failures = of(&|s| s.is_attempt());
        let denials = of(&|s| matches!(s, SignalKind::Denial | SignalKind::TrustDenial));
        let stale_denials = of(&|s| s == SignalKind::StaleMfaDenial);
        let typos = events
            .iter()
            .copied()
            .filter(|&i| ix.actor(i) == Some(pid) && ix.typo[i as usize])
            .collect();
        Pass {
            ix,
            pid,
            principal,
            key,
            since,
            until,
            extended,
            events,
            episode,
            t0: episode.map(|e| e.t0),
            failures,
            denials,
            stale_denials,
            typos,
        }
    }

    pub fn t0_time(&self) -> Option<Millis> {
        self.t0.map(|i| self.ix.event(i).event_time)
    }

    /// The kind of signal T0 is.
    pub fn signal(&self) -> Option<SignalKind> {
        self.t0.and_then(|i| self.ix.signal(i))
    }

    /// The principal's own events in the window (as the caller) of the given classes.
    pub fn own(&self, classes: &[EventClass]) -> Vec<Ev> {
        self.events
            .iter()
            .copied()
            .filter(|&i| self.ix.actor(i) == Some(self.pid) && classes.contains(&self.ix.event(i).class))
            .collect()
    }

    /// Every signal of the episode, ascending.
    pub fn signals(&self) -> &[Ev] {
        self.episode.map_or(&[], |e| e.signals.as_slice())
    }

    /// The action an MFA-required denial (or stale-MFA denial) was for, and the kind of caller.
    pub fn denied(&self, i: Ev) -> Option<(String, Caller)> {
        let e = self.ix.event(i);
        let action = match e.class {
            EventClass::AssumeRoleDenied => "sts:AssumeRole".to_owned(),
            _ => e.denied_action.clone()?,
        };
        Some((action, caller_of(e)))
    }

    /// The (action, caller) pairs of the episode's identity-policy MFA denials (trust-policy
    /// denials are their role's, not the user's policies').
    pub fn denied_actions(&self) -> Vec<(String, Caller)> {
        self.denials
            .iter()
            .filter(|&&i| self.ix.signal(i) == Some(SignalKind::Denial))
            .filter_map(|&i| self.denied(i))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
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
            signal: self.signal(),
            failures: self.failures.len(),
            typo_failures: self.typos.len(),
            mfa_required_denials: self.denials.len(),
            stale_mfa_denials: self.stale_denials.len(),
            last_failure: sig.last().map(|&i| format_millis(self.ix.event(i).event_time)),
            episode_start_known: self.episode.map(|e| e.start_known),
            earlier_episodes: self.episode.map_or(0, |e| e.earlier.len()),
            source_ips: set(&|e| e.source_ip.as_deref()),
            user_agents: set(&|e| e.user_agent.as_deref()),
            serials: set(&|e| e.mfa_serial.as_deref()),
            event_names: set(&|e| Some(e.event_name.as_str())),
        }
    }
}

/// The kind of caller of a denied request: long-term keys (AKIA, no session), a session
/// without MFA, or an MFA session (then only an age limit can have denied it).
pub fn caller_of(e: &crate::event::EventRow) -> Caller {
    match e.mfa_authenticated {
        Some(true) => Caller::StaleMfa,
        Some(false) => Caller::NoMfaSession,
        None if e.access_key_id.as_deref().is_some_and(|k| k.starts_with("ASIA")) => Caller::NoMfaSession,
        None => Caller::LongTermKey,
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
    /// The principal's timeline in the window: failures (of the episode and before), typos,
    /// denials, successes, device events and the policy changes that reach it.
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
        for &i in self.events {
            if ix.actor(i) != Some(self.pid) {
                continue;
            }
            let e = ix.event(i);
            match ix.signal(i) {
                Some(s) if s.is_attempt() => push(i, MarkKind::Failure, e.event_name.clone()),
                Some(_) => push(
                    i,
                    MarkKind::Denial,
                    e.denied_action.clone().unwrap_or_else(|| e.event_name.clone()),
                ),
                None if ix.typo[i as usize] => push(i, MarkKind::Typo, e.event_name.clone()),
                None if e.class == EventClass::MfaSuccess => push(i, MarkKind::Success, e.event_name.clone()),
                None => {}
            }
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
    /// T0: the first signal of the current failure episode.
    pub first_failure: Option<String>,
    pub signal: Option<SignalKind>,
    /// The episode's attempt failures (not typing).
    pub failures: usize,
    /// Typing failures in the window.
    pub typo_failures: usize,
    pub mfa_required_denials: usize,
    pub stale_mfa_denials: usize,
    pub last_failure: Option<String>,
    /// False when the episode runs back to the start of the data read (it may begin earlier).
    pub episode_start_known: Option<bool>,
    /// Earlier episodes in the data read (history, never T0).
    pub earlier_episodes: usize,
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

    /// The end of the test passes: minute 1000.
    pub const UNTIL: Millis = 1_000 * 60_000;

    /// Runs `f` on the pass of `user` over minutes [0, 1000], with the episode up to minute 1000.
    pub fn with_pass<T>(ix: &Index, user: &str, f: impl FnOnce(&Pass) -> T) -> T {
        let p = pid(ix, user);
        let episode = ix.episode(p, UNTIL);
        f(&Pass::new(ix, p, episode.as_ref(), 0, UNTIL, false))
    }
}
