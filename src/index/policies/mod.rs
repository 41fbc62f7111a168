//! Who an MFA requirement reaches, and what each policy change did, replayed
//! over every event read. Every fact is a timeline (inline documents, group
//! memberships, attachments, managed default versions, role trust policies),
//! so the state can be asked at any instant (T0), and every change keeps the
//! documents in force before it, so that rules judge it per action.
//!
//! "Known" is taken seriously: the state before a change is known only when
//! the data shows it (an earlier version, a creation, a removal). Otherwise
//! it is `Prev::Unknown`, said as such: CloudTrail shows changes, not the
//! state the account had before the data read begins.
//!
//! - `timeline`: the fact-over-time container;
//! - `replay`: the policy events, one by one;
//! - `seed`: the IAM snapshot's state, replayed back over the logs;
//! - `query`: what reaches a user at an instant, and who a change reaches.

mod query;
mod replay;
mod seed;
#[cfg(test)]
pub(crate) mod tests;
pub mod timeline;

use std::collections::{BTreeSet, HashMap};

use crate::event::{EventRow, Millis, PrincipalKey};
use crate::policy::{Caller, EVERYDAY_ACTIONS, Policy, PolicyError};

use super::Ev;
use timeline::Timeline;

/// A policy document as logged (or as the IAM snapshot holds it), parsed once.
#[derive(Debug, Clone)]
pub struct Doc {
    pub policy: Result<Policy, PolicyError>,
    /// The event that wrote it; None for a document of the IAM snapshot.
    pub event: Option<Ev>,
    /// For a snapshot document: what it is and where it was listed.
    pub snapshot: Option<String>,
}

impl Doc {
    /// Some(true) when the document makes MFA a requirement; None when it cannot be read.
    pub fn requires_mfa(&self) -> Option<bool> {
        self.policy.as_ref().ok().map(Policy::requires_mfa)
    }
    /// The document limits the age of MFA sessions.
    pub fn age_limited(&self) -> bool {
        self.policy.as_ref().is_ok_and(Policy::age_limited)
    }
    /// The document holds `caller` to MFA for `action`.
    pub fn requires_mfa_of(&self, action: &str, caller: Caller) -> bool {
        self.policy.as_ref().is_ok_and(|p| p.requires_mfa_of(action, caller))
    }
}

pub type DocId = usize;

type Name = (String, String); // (account, lower-cased name)

/// The documents in force for a change's target just before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prev {
    /// Shown by the data: these documents (none: nothing was in force).
    Known(Vec<DocId>),
    /// Not in the data read, with why.
    Unknown(String),
}

/// What a policy change did to the MFA requirement of those it reaches, judged over every
/// action and kind of caller a rule asks about (everyday actions, the actions the statements
/// name, and any other action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEffect {
    /// Some action now requires MFA of some caller that the known previous state did not
    /// hold to it (a new requirement, a widened one, `Bool` → `BoolIfExists`).
    Adds,
    /// The previous state required MFA wherever the new one does (a re-put of the same
    /// document, a re-attach, a detach → attach within minutes).
    Keeps,
    /// The new state does not require MFA (as far as the data shows).
    NoRequirement,
    /// The new document cannot be read.
    Unreadable,
    /// The new state requires MFA, but the previous state is not in the data.
    Unknown(String),
}

impl ChangeEffect {
    pub fn id(&self) -> &'static str {
        match self {
            ChangeEffect::Adds => "adds",
            ChangeEffect::Keeps => "keeps",
            ChangeEffect::NoRequirement => "no_requirement",
            ChangeEffect::Unreadable => "unreadable",
            ChangeEffect::Unknown(_) => "unknown_previous",
        }
    }
}

/// What a change acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User(PrincipalKey),
    Group(Name),
    Managed(String),
    Role(Name),
}

/// One successful policy event, with the documents in force before and after it.
#[derive(Debug, Clone)]
pub struct Change {
    pub event: Ev,
    pub time: Millis,
    pub what: String,
    pub target: Target,
    /// The documents that now apply to the target (the one written, the managed policy's
    /// default version, or for a group join the group's MFA documents).
    pub new: Vec<DocId>,
    pub prev: Prev,
    pub effect: ChangeEffect,
}

impl Change {
    /// The document that now applies (the first, for a group join).
    pub fn doc(&self) -> Option<DocId> {
        self.new.first().copied()
    }
}

/// Who a change reaches at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Shown by the data (with how).
    Yes(String),
    /// The data shows it does not.
    No,
    /// Memberships or attachments may predate the data read.
    Unknown,
}

/// An MFA requirement reaching a principal, and through what.
#[derive(Debug, Clone)]
pub struct ReqSource {
    /// e.g. "inline policy RequireMFA of group engineers".
    pub via: String,
    pub doc: DocId,
}

#[derive(Debug, Default)]
pub struct PolicyBook {
    pub docs: Vec<Doc>,
    user_inline: HashMap<(Name, String), Timeline<DocId>>,
    group_inline: HashMap<(Name, String), Timeline<DocId>>,
    role_trust: HashMap<Name, Timeline<DocId>>,
    membership: HashMap<(Name, String), Timeline<()>>,
    user_attach: HashMap<(Name, String), Timeline<()>>,
    group_attach: HashMap<(Name, String), Timeline<()>>,
    managed_default: HashMap<String, Timeline<String>>,
    versions: HashMap<(String, String), DocId>,
    policy_created: HashMap<String, Millis>,
    user_created: HashMap<Name, Millis>,
    // Enumeration indexes.
    user_inline_names: HashMap<Name, BTreeSet<String>>,
    group_inline_names: HashMap<Name, BTreeSet<String>>,
    user_groups: HashMap<Name, BTreeSet<String>>,
    user_arns: HashMap<Name, BTreeSet<String>>,
    group_arns: HashMap<Name, BTreeSet<String>>,
    role_assumers: HashMap<Name, BTreeSet<PrincipalKey>>,
    /// Group and role names as written (keys are lower-cased).
    group_names: HashMap<Name, String>,
    /// Every successful policy change, in event order.
    pub changes: Vec<Change>,
}

/// The role a target names: an ARN carries its account; a bare name is in the event's account.
pub fn role_key(e: &EventRow, role: &str) -> Name {
    let acct = crate::event::arn_account(role).or(e.account()).unwrap_or_default();
    (acct.to_owned(), crate::event::lc(crate::event::arn_name(role)))
}

/// An action no statement names: it tells a statement that covers "everything but …".
const ANY_OTHER_ACTION: &str = "mfatrail:AnyOtherAction";

impl PolicyBook {
    /// Replays every successful policy event of `events` (time-sorted).
    pub fn build(events: &[EventRow]) -> PolicyBook {
        let mut book = PolicyBook::default();
        book.replay(events);
        book
    }

    /// Whether any of `docs` holds `caller` to MFA for `action`.
    pub fn any_requires(&self, docs: &[DocId], action: &str, caller: Caller) -> bool {
        docs.iter().any(|&d| self.docs[d].requires_mfa_of(action, caller))
    }

    /// Whether `change` makes `action` require MFA of `caller` where its previous state did
    /// not: Some(true) adds, Some(false) not (or not covered), None when the previous state is
    /// unknown and the new state covers it.
    pub fn adds_for(&self, c: &Change, action: &str, caller: Caller) -> Option<bool> {
        if !self.any_requires(&c.new, action, caller) {
            return Some(false);
        }
        match &c.prev {
            Prev::Known(prev) => Some(!self.any_requires(prev, action, caller)),
            Prev::Unknown(_) => None,
        }
    }

    /// The change's effect over every probe: everyday actions, the actions the new and the
    /// previous MFA statements name, and any other action, for every kind of caller.
    fn judge(&self, new: &[DocId], prev: Prev) -> (Prev, ChangeEffect) {
        let readable: Vec<DocId> = new.iter().copied().filter(|&d| self.docs[d].policy.is_ok()).collect();
        if readable.is_empty() && !new.is_empty() {
            return (prev, ChangeEffect::Unreadable);
        }
        if !readable.iter().any(|&d| self.docs[d].requires_mfa() == Some(true)) {
            return (prev, ChangeEffect::NoRequirement);
        }
        let known = match &prev {
            Prev::Known(p) => p.clone(),
            Prev::Unknown(why) => {
                let why = why.clone();
                return (prev, ChangeEffect::Unknown(why));
            }
        };
        let mut probes: Vec<String> = EVERYDAY_ACTIONS.iter().map(|a| (*a).to_owned()).collect();
        probes.push(ANY_OTHER_ACTION.to_owned());
        for &d in readable.iter().chain(&known) {
            if let Ok(p) = &self.docs[d].policy {
                for (s, _) in p.mfa_statements() {
                    if let crate::policy::Actions::Action(list) = &s.actions {
                        probes.extend(list.iter().cloned());
                    }
                }
            }
        }
        let adds = probes.iter().any(|a| {
            Caller::ALL
                .iter()
                .any(|&c| self.any_requires(&readable, a, c) && !self.any_requires(&known, a, c))
        });
        let effect = if adds { ChangeEffect::Adds } else { ChangeEffect::Keeps };
        (prev, effect)
    }

    /// Changes with `since <= time <= until`, in event order.
    pub fn changes_between(&self, since: Millis, until: Millis) -> &[Change] {
        let lo = self.changes.partition_point(|c| c.time < since);
        let hi = self.changes.partition_point(|c| c.time <= until);
        &self.changes[lo..hi.max(lo)]
    }

    /// Documents that could not be read, between `since` and `until`.
    pub fn unreadable_between<'a>(
        &'a self,
        events: &'a [EventRow],
        since: Millis,
        until: Millis,
    ) -> impl Iterator<Item = (&'a Doc, &'a EventRow)> + 'a {
        self.docs
            .iter()
            .filter_map(move |d| Some((d, &events[d.event? as usize])))
            .filter(move |(d, e)| d.policy.is_err() && e.event_time >= since && e.event_time <= until)
    }
}
