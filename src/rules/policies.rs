//! Who an MFA requirement reaches, replayed from the policy events of a pass
//! window: inline user and group policies, group memberships, managed
//! policies and their default versions, attachments. Documents are judged
//! by `crate::policy`; every answer carries the event that set it.

use std::collections::{BTreeMap, BTreeSet};

use crate::parse::{EventClass, EventRow};
use crate::policy::{Pitfall, Policy, Requirement, parse_policy};
use crate::time::Millis;

use super::context::same_user;

/// A document as it stood, with the event that set it.
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    pub policy: Option<Policy>,
    pub event: &'a EventRow,
}

impl Doc<'_> {
    pub fn requires_mfa(&self) -> Option<bool> {
        self.policy.as_ref().map(Policy::requires_mfa)
    }
}

#[derive(Debug, Default, Clone)]
struct Managed<'a> {
    versions: BTreeMap<String, Doc<'a>>,
    default: Option<String>,
}

/// Where an MFA requirement on a user comes from.
#[derive(Debug, Clone)]
pub struct ReqSource<'a> {
    /// e.g. "inline policy RequireMFA of group engineers".
    pub via: String,
    pub event: &'a EventRow,
    pub requirements: Vec<(String, Requirement)>,
    pub pitfalls: Vec<Pitfall>,
}

/// Who a change reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Users known from the data (inline user policy, memberships, attachments seen).
    Users(BTreeSet<String>),
    /// The change targets a group or managed policy whose members/attachments
    /// are (partly) older than the data read; `known` lists those seen.
    Partly { known: BTreeSet<String> },
}

impl Reach {
    /// Some(true) reaches the user; Some(false) known not to; None unknown.
    pub fn reaches(&self, user: &str) -> Option<bool> {
        match self {
            Reach::Users(u) => Some(u.iter().any(|x| same_user(x, user))),
            Reach::Partly { known } if known.iter().any(|x| same_user(x, user)) => Some(true),
            Reach::Partly { .. } => None,
        }
    }
}

/// One policy event judged as the documents stood at its time.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub event: &'a EventRow,
    /// Group or managed policy ARN the change acts on (reach is recomputed from it
    /// once every membership and attachment of the window is known).
    target: Option<(bool, String)>,
    /// The change makes MFA required where (as far as the data shows) it was not.
    pub adds_mfa: bool,
    pub reach: Reach,
    pub what: String,
    pub requirements: Vec<(String, Requirement)>,
    pub pitfalls: Vec<Pitfall>,
}

/// Policy state of an account's principals, replayed in time order.
#[derive(Debug, Default, Clone)]
pub struct PolicyBook<'a> {
    user_inline: BTreeMap<(String, String), Doc<'a>>,
    group_inline: BTreeMap<(String, String), Doc<'a>>,
    managed: BTreeMap<String, Managed<'a>>,
    members: BTreeMap<String, BTreeSet<String>>,
    user_attached: BTreeMap<String, BTreeSet<String>>,
    group_attached: BTreeMap<String, BTreeSet<String>>,
    /// Every change, judged when it happened.
    pub changes: Vec<Change<'a>>,
}

fn key(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn parse_doc(e: &EventRow) -> Option<Policy> {
    e.policy_document.as_deref().and_then(|d| parse_policy(d).ok())
}

fn reqs(p: &Policy) -> Vec<(String, Requirement)> {
    p.mfa_statements()
        .into_iter()
        .map(|(s, r)| (s.text.clone(), r))
        .collect()
}

impl<'a> PolicyBook<'a> {
    /// Replays the successful policy changes of `events` (time-sorted).
    pub fn build(events: &[&'a EventRow]) -> PolicyBook<'a> {
        let mut book = PolicyBook::default();
        // Memberships and attachments are facts about the account, whenever seen in the
        // window: a group policy reaches users who join later, too.
        for e in events
            .iter()
            .filter(|e| e.class == EventClass::PolicyChange && e.succeeded())
        {
            book.apply(e);
        }
        let reaches: Vec<Option<Reach>> = book
            .changes
            .iter()
            .map(|c| match &c.target {
                Some((true, g)) => Some(Reach::Partly {
                    known: book.group_users(g),
                }),
                Some((false, arn)) => Some(book.arn_reach(arn)),
                None => None,
            })
            .collect();
        for (c, r) in book.changes.iter_mut().zip(reaches) {
            if let Some(r) = r {
                c.reach = r;
            }
        }
        book
    }

    fn managed_arn(e: &EventRow) -> Option<String> {
        e.policy_arn.clone().or_else(|| {
            let acct = e.account()?;
            Some(format!("arn:aws:iam::{acct}:policy/{}", e.policy_name.as_deref()?))
        })
    }

    fn default_doc(&self, arn: &str) -> Option<&Doc<'a>> {
        let m = self.managed.get(arn)?;
        m.versions.get(m.default.as_deref()?)
    }

    /// Users currently known to be reached through group `g`.
    fn group_users(&self, g: &str) -> BTreeSet<String> {
        self.members.get(&key(g)).cloned().unwrap_or_default()
    }

    /// Users reached through managed policy `arn` (direct or via groups), and
    /// whether any group attachment was seen (members may be unknown).
    fn arn_reach(&self, arn: &str) -> Reach {
        let mut users: BTreeSet<String> = self
            .user_attached
            .iter()
            .filter(|(_, a)| a.contains(arn))
            .map(|(u, _)| u.clone())
            .collect();
        let groups: Vec<&String> = self
            .group_attached
            .iter()
            .filter(|(_, a)| a.contains(arn))
            .map(|(g, _)| g)
            .collect();
        for g in &groups {
            users.extend(self.group_users(g));
        }
        // Attachments older than the data are never certain: stay humble unless nothing
        // suggests other holders.
        Reach::Partly { known: users }
    }

    fn group_requires(&self, g: &str) -> Vec<(String, &Doc<'a>)> {
        let gk = key(g);
        let mut out: Vec<(String, &Doc<'a>)> = self
            .group_inline
            .iter()
            .filter(|((gg, _), d)| *gg == gk && d.requires_mfa() == Some(true))
            .map(|((_, n), d)| (format!("inline policy {n} of group {g}"), d))
            .collect();
        for arn in self.group_attached.get(&gk).into_iter().flatten() {
            if let Some(d) = self.default_doc(arn).filter(|d| d.requires_mfa() == Some(true)) {
                out.push((format!("managed policy {arn} attached to group {g}"), d));
            }
        }
        out
    }

    fn apply(&mut self, e: &'a EventRow) {
        let doc = || Doc {
            policy: parse_doc(e),
            event: e,
        };
        let user = e.target_user.as_deref().map(key);
        let group = e.group_name.as_deref().map(key);
        let name = e.policy_name.clone().unwrap_or_default();
        let target = match e.event_name.as_str() {
            "PutGroupPolicy" | "AttachGroupPolicy" => group.clone().map(|g| (true, g)),
            "CreatePolicyVersion" | "SetDefaultPolicyVersion" => Self::managed_arn(e).map(|a| (false, a)),
            _ => None,
        };
        let change = |adds: bool, reach: Reach, what: String, p: Option<&Policy>| Change {
            event: e,
            target: target.clone(),
            adds_mfa: adds,
            reach,
            what,
            requirements: p.map(reqs).unwrap_or_default(),
            pitfalls: p.map(Policy::pitfalls).unwrap_or_default(),
        };
        let adds = |new: Option<bool>, old: Option<bool>| new == Some(true) && old != Some(true);
        let c = match e.event_name.as_str() {
            "PutUserPolicy" => {
                let Some(u) = user else { return };
                let d = doc();
                let old = self
                    .user_inline
                    .get(&(u.clone(), name.clone()))
                    .and_then(Doc::requires_mfa);
                let c = change(
                    adds(d.requires_mfa(), old),
                    Reach::Users([u.clone()].into()),
                    format!("inline policy {name} put on user {u}"),
                    d.policy.as_ref(),
                );
                self.user_inline.insert((u, name), d);
                c
            }
            "PutGroupPolicy" => {
                let Some(g) = group else { return };
                let d = doc();
                let old = self
                    .group_inline
                    .get(&(g.clone(), name.clone()))
                    .and_then(Doc::requires_mfa);
                let c = change(
                    adds(d.requires_mfa(), old),
                    Reach::Partly {
                        known: self.group_users(&g),
                    },
                    format!("inline policy {name} put on group {g}"),
                    d.policy.as_ref(),
                );
                self.group_inline.insert((g, name), d);
                c
            }
            "DeleteUserPolicy" => {
                if let Some(u) = user {
                    self.user_inline.remove(&(u, name));
                }
                return;
            }
            "DeleteGroupPolicy" => {
                if let Some(g) = group {
                    self.group_inline.remove(&(g, name));
                }
                return;
            }
            "CreatePolicy" | "CreatePolicyVersion" => {
                let Some(arn) = Self::managed_arn(e) else { return };
                let d = doc();
                // A version whose id the log does not show gets its own key, never v1's.
                let vid = e
                    .policy_version
                    .clone()
                    .unwrap_or_else(|| format!("unknown-{}", e.event_id));
                let becomes_default = e.set_as_default == Some(true);
                let old = self.default_doc(&arn).and_then(Doc::requires_mfa);
                let new = d.requires_mfa();
                let p = d.policy.clone();
                let m = self.managed.entry(arn.clone()).or_default();
                m.versions.insert(vid.clone(), d);
                if !becomes_default {
                    return;
                }
                m.default = Some(vid.clone());
                let created = e.event_name == "CreatePolicy";
                let reach = if created {
                    Reach::Users(BTreeSet::new())
                } else {
                    self.arn_reach(&arn)
                };
                change(
                    !created && adds(new, old),
                    reach,
                    format!("managed policy {arn} default version set to {vid}"),
                    p.as_ref(),
                )
            }
            "SetDefaultPolicyVersion" => {
                let Some(arn) = Self::managed_arn(e) else { return };
                let vid = e.policy_version.clone().unwrap_or_default();
                let old = self.default_doc(&arn).and_then(Doc::requires_mfa);
                let m = self.managed.entry(arn.clone()).or_default();
                m.default = Some(vid.clone());
                let new_doc = m.versions.get(&vid).cloned();
                let new = new_doc.as_ref().and_then(Doc::requires_mfa);
                change(
                    adds(new, old),
                    self.arn_reach(&arn),
                    format!("managed policy {arn} default version set to {vid}"),
                    new_doc.as_ref().and_then(|d| d.policy.as_ref()),
                )
            }
            "AttachUserPolicy" => {
                let (Some(u), Some(arn)) = (user, e.policy_arn.clone()) else {
                    return;
                };
                self.user_attached.entry(u.clone()).or_default().insert(arn.clone());
                let d = self.default_doc(&arn).cloned();
                change(
                    d.as_ref().and_then(Doc::requires_mfa) == Some(true),
                    Reach::Users([u.clone()].into()),
                    format!("managed policy {arn} attached to user {u}"),
                    d.as_ref().and_then(|d| d.policy.as_ref()),
                )
            }
            "AttachGroupPolicy" => {
                let (Some(g), Some(arn)) = (group, e.policy_arn.clone()) else {
                    return;
                };
                self.group_attached.entry(g.clone()).or_default().insert(arn.clone());
                let d = self.default_doc(&arn).cloned();
                change(
                    d.as_ref().and_then(Doc::requires_mfa) == Some(true),
                    Reach::Partly {
                        known: self.group_users(&g),
                    },
                    format!("managed policy {arn} attached to group {g}"),
                    d.as_ref().and_then(|d| d.policy.as_ref()),
                )
            }
            "DetachUserPolicy" => {
                if let (Some(u), Some(arn)) = (user, &e.policy_arn) {
                    self.user_attached.entry(u).or_default().remove(arn);
                }
                return;
            }
            "DetachGroupPolicy" => {
                if let (Some(g), Some(arn)) = (group, &e.policy_arn) {
                    self.group_attached.entry(g).or_default().remove(arn);
                }
                return;
            }
            "AddUserToGroup" => {
                let (Some(u), Some(g)) = (user, group) else { return };
                self.members.entry(g.clone()).or_default().insert(u.clone());
                let found = self.group_requires(&g);
                let p = found.first().and_then(|(_, d)| d.policy.clone());
                change(
                    !found.is_empty(),
                    Reach::Users([u.clone()].into()),
                    format!("user {u} added to group {g}"),
                    p.as_ref(),
                )
            }
            "RemoveUserFromGroup" => {
                if let (Some(u), Some(g)) = (user, group) {
                    self.members.entry(g).or_default().remove(&u);
                }
                return;
            }
            _ => return,
        };
        self.changes.push(c);
    }

    /// MFA requirements that reach `user` in the replayed state.
    pub fn requirements_for(&self, user: &str) -> Vec<ReqSource<'a>> {
        let u = key(user);
        let mut out = Vec::new();
        let mut push = |via: String, d: &Doc<'a>| {
            if let Some(p) = d.policy.as_ref().filter(|p| p.requires_mfa()) {
                out.push(ReqSource {
                    via,
                    event: d.event,
                    requirements: reqs(p),
                    pitfalls: p.pitfalls(),
                });
            }
        };
        for ((uu, n), d) in &self.user_inline {
            if *uu == u {
                push(format!("inline policy {n} of user {user}"), d);
            }
        }
        for arn in self.user_attached.get(&u).into_iter().flatten() {
            if let Some(d) = self.default_doc(arn) {
                push(format!("managed policy {arn} attached to user {user}"), d);
            }
        }
        let groups: Vec<&String> = self
            .members
            .iter()
            .filter(|(_, m)| m.contains(&u))
            .map(|(g, _)| g)
            .collect();
        for g in groups {
            for (via, d) in self.group_requires(g) {
                push(via, d);
            }
        }
        out
    }

    /// Whether some known requirement reaching `user` limits MFA age (stale sessions denied).
    pub fn age_requirement_for(&self, user: &str) -> bool {
        self.requirements_for(user)
            .iter()
            .any(|r| r.requirements.iter().any(|(_, q)| q.max_age_seconds.is_some()))
    }

    /// Changes up to `t` (inclusive), in time order.
    pub fn changes_until(&self, t: Millis) -> impl Iterator<Item = &Change<'a>> {
        self.changes.iter().filter(move |c| c.event.event_time <= t)
    }
}
