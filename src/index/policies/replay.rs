//! The policy events, replayed one by one: each updates its timeline and,
//! when it changes what applies to someone, becomes a `Change` that keeps the
//! documents in force before it.

use std::collections::HashMap;

use crate::event::{EventClass, EventRow, Millis, PrincipalKey, PrincipalKind, arn_name, lc};
use crate::index::Ev;
use crate::policy::parse_policy;

use super::timeline::{Before, Timeline};
use super::{Change, Doc, DocId, Name, PolicyBook, Prev, Target, role_key};

fn managed_arn(e: &EventRow) -> Option<String> {
    e.policy_arn.clone().or_else(|| {
        let acct = e.account()?;
        Some(format!("arn:aws:iam::{acct}:policy/{}", e.policy_name.as_deref()?))
    })
}

/// The previous state of a fact whose timeline holds document ids.
fn prev_doc(tl: &Timeline<DocId>, i: Ev, t: Millis) -> Option<Prev> {
    match tl.before_churn(i, t) {
        Before::Nothing => None,
        Before::Entry(e) => Some(Prev::Known(e.value.into_iter().collect())),
        Before::RemovedJustBefore => Some(Prev::Unknown(
            "it was deleted minutes before and put again; the deleted document is not in the data read".into(),
        )),
    }
}

/// Whether a membership or attachment was in force before a change, through churn (None:
/// the data does not say).
fn was_there(tl: &Timeline<()>, i: Ev, t: Millis) -> Option<bool> {
    match tl.before_churn(i, t) {
        Before::Nothing => None,
        Before::Entry(e) => Some(e.value.is_some()),
        Before::RemovedJustBefore => Some(true),
    }
}

impl PolicyBook {
    pub(super) fn replay(&mut self, events: &[EventRow]) {
        for (i, e) in events.iter().enumerate() {
            let i = i as Ev;
            match e.class {
                EventClass::PolicyChange if e.succeeded() => self.apply(i, e),
                EventClass::UserCreated if e.succeeded() => {
                    if let Some(u) = &e.target_user {
                        self.user_created
                            .entry((e.account().unwrap_or_default().to_owned(), lc(u)))
                            .or_insert(e.event_time);
                    }
                }
                _ => {}
            }
            // Who assumes which role (successes with MFA, trust denials, MFA failures).
            if e.event_name == "AssumeRole"
                && let (Some(role), Some(a)) = (e.target_role.as_deref(), e.actor())
                && a.kind.has_iam_devices()
            {
                self.role_assumers.entry(role_key(e, role)).or_default().insert(a.key());
            }
        }
    }

    fn doc_of(&mut self, i: Ev, e: &EventRow) -> Option<DocId> {
        let text = e.policy_document.as_deref()?;
        self.docs.push(Doc {
            policy: parse_policy(text),
            event: Some(i),
            snapshot: None,
        });
        Some(self.docs.len() - 1)
    }

    fn created_before(m: &HashMap<Name, Millis>, k: &Name, t: Millis) -> bool {
        m.get(k).is_some_and(|c| *c <= t)
    }

    /// The managed policy's default document in force just before event `i` (through a
    /// detach → attach churn); None when unknown.
    fn default_before(&self, arn: &str, i: Ev) -> Option<Prev> {
        let e = self.managed_default.get(arn)?.before(i)?;
        let vid = e.value.as_ref()?;
        let doc = *self.versions.get(&(arn.to_owned(), vid.clone()))?;
        Some(Prev::Known(vec![doc]))
    }

    fn record(&mut self, i: Ev, t: Millis, what: String, target: Target, new: Vec<DocId>, prev: Prev) {
        let (prev, effect) = self.judge(&new, prev);
        self.changes.push(Change {
            event: i,
            time: t,
            what,
            target,
            new,
            prev,
            effect,
        });
    }

    fn apply(&mut self, i: Ev, e: &EventRow) {
        let acct = e.account().unwrap_or_default().to_owned();
        let t = e.event_time;
        let user = e.target_user.as_deref().map(|u| (acct.clone(), lc(u)));
        let group = e.group_name.as_deref().map(|g| (acct.clone(), lc(g)));
        if let (Some(g), Some(name)) = (&group, &e.group_name) {
            self.group_names.entry(g.clone()).or_insert_with(|| name.clone());
        }
        let pname = e.policy_name.as_deref().map(lc).unwrap_or_default();
        let user_key = |u: &Name| PrincipalKey {
            kind: PrincipalKind::IamUser,
            account: u.0.clone(),
            name: u.1.clone(),
        };
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "?".into());
        match e.event_name.as_str() {
            "PutUserPolicy" => {
                let Some(u) = user else { return };
                let doc = self.doc_of(i, e);
                let tl = self.user_inline.entry((u.clone(), pname)).or_default();
                let prev = prev_doc(tl, i, t);
                tl.push(t, i, doc);
                self.user_inline_names
                    .entry(u.clone())
                    .or_default()
                    .insert(e.policy_name.clone().unwrap_or_default());
                let prev = prev.unwrap_or_else(|| {
                    if Self::created_before(&self.user_created, &u, t) {
                        Prev::Known(Vec::new())
                    } else {
                        Prev::Unknown(
                            "the user's previous version of this inline policy is not in the data read".into(),
                        )
                    }
                });
                let what = format!(
                    "inline policy {} put on user {}",
                    show(&e.policy_name),
                    show(&e.target_user)
                );
                self.record(i, t, what, Target::User(user_key(&u)), doc.into_iter().collect(), prev);
            }
            "PutGroupPolicy" => {
                let Some(g) = group else { return };
                let doc = self.doc_of(i, e);
                let tl = self.group_inline.entry((g.clone(), pname)).or_default();
                let prev = prev_doc(tl, i, t);
                tl.push(t, i, doc);
                self.group_inline_names
                    .entry(g.clone())
                    .or_default()
                    .insert(e.policy_name.clone().unwrap_or_default());
                let prev = prev.unwrap_or_else(|| {
                    Prev::Unknown("the group's previous version of this inline policy is not in the data read".into())
                });
                let what = format!(
                    "inline policy {} put on group {}",
                    show(&e.policy_name),
                    show(&e.group_name)
                );
                self.record(i, t, what, Target::Group(g), doc.into_iter().collect(), prev);
            }
            "DeleteUserPolicy" => {
                if let Some(u) = user {
                    self.user_inline.entry((u, pname)).or_default().push(t, i, None);
                }
            }
            "DeleteGroupPolicy" => {
                if let Some(g) = group {
                    self.group_inline.entry((g, pname)).or_default().push(t, i, None);
                }
            }
            "CreateRole" | "UpdateAssumeRolePolicy" => {
                let Some(role) = e.target_role.as_deref() else { return };
                let r = role_key(e, role);
                self.group_names
                    .entry(r.clone())
                    .or_insert_with(|| arn_name(role).to_owned());
                let doc = self.doc_of(i, e);
                let tl = self.role_trust.entry(r.clone()).or_default();
                let prev = if e.event_name == "CreateRole" {
                    Some(Prev::Known(Vec::new()))
                } else {
                    prev_doc(tl, i, t)
                };
                tl.push(t, i, doc);
                let prev = prev.unwrap_or_else(|| {
                    Prev::Unknown("the role's previous trust policy is not in the data read".into())
                });
                let what = format!("trust policy of role {} set", arn_name(role));
                self.record(i, t, what, Target::Role(r), doc.into_iter().collect(), prev);
            }
            "CreatePolicy" | "CreatePolicyVersion" => {
                let Some(arn) = managed_arn(e) else { return };
                let doc = self.doc_of(i, e);
                // A version whose id the log does not show gets its own key, never v1's.
                let vid = e
                    .policy_version
                    .clone()
                    .unwrap_or_else(|| format!("unknown-{}", e.event_id));
                if let Some(d) = doc {
                    self.versions.insert((arn.clone(), vid.clone()), d);
                }
                if e.event_name == "CreatePolicy" {
                    self.policy_created.entry(arn.clone()).or_insert(t);
                }
                if e.set_as_default != Some(true) {
                    return;
                }
                let prev = self.default_before(&arn, i);
                self.managed_default
                    .entry(arn.clone())
                    .or_default()
                    .push(t, i, Some(vid.clone()));
                if e.event_name == "CreatePolicy" {
                    // Nothing is attached to a policy that did not exist.
                    return;
                }
                let prev = prev.unwrap_or_else(|| {
                    Prev::Unknown("the policy's previous default version is not in the data read".into())
                });
                let what = format!("managed policy {arn} default version set to {vid}");
                self.record(i, t, what, Target::Managed(arn), doc.into_iter().collect(), prev);
            }
            "SetDefaultPolicyVersion" => {
                let Some(arn) = managed_arn(e) else { return };
                let vid = e.policy_version.clone().unwrap_or_default();
                let prev = self.default_before(&arn, i);
                self.managed_default
                    .entry(arn.clone())
                    .or_default()
                    .push(t, i, Some(vid.clone()));
                let doc = self.versions.get(&(arn.clone(), vid.clone())).copied();
                let prev = match doc {
                    None => Prev::Unknown("the new default version's document is not in the data read".into()),
                    Some(_) => prev.unwrap_or_else(|| {
                        Prev::Unknown("the policy's previous default version is not in the data read".into())
                    }),
                };
                let what = format!("managed policy {arn} default version set to {vid}");
                self.record(i, t, what, Target::Managed(arn), doc.into_iter().collect(), prev);
            }
            "AttachUserPolicy" | "AttachGroupPolicy" => {
                let Some(arn) = e.policy_arn.clone() else { return };
                let doc = self.default_doc_at(&arn, t);
                // Attached just before (or detached within minutes): the same document applied.
                let attached = |tl: &Timeline<()>| was_there(tl, i, t);
                let (who, was_attached, target) = if e.event_name == "AttachUserPolicy" {
                    let Some(u) = user else { return };
                    self.user_arns.entry(u.clone()).or_default().insert(arn.clone());
                    let tl = self.user_attach.entry((u.clone(), arn.clone())).or_default();
                    let prev = attached(tl);
                    tl.push(t, i, Some(()));
                    let prev = prev.or(Self::created_before(&self.user_created, &u, t).then_some(false));
                    (
                        format!("user {}", show(&e.target_user)),
                        prev,
                        Target::User(user_key(&u)),
                    )
                } else {
                    let Some(g) = group else { return };
                    self.group_arns.entry(g.clone()).or_default().insert(arn.clone());
                    let tl = self.group_attach.entry((g.clone(), arn.clone())).or_default();
                    let prev = attached(tl);
                    tl.push(t, i, Some(()));
                    (format!("group {}", show(&e.group_name)), prev, Target::Group(g))
                };
                // A policy created in the data read was attached to nothing before.
                let was_attached = was_attached.or(self.policy_created.get(&arn).map(|_| false));
                let prev = match (doc, was_attached) {
                    (None, _) => Prev::Unknown("the attached policy's document is not in the data read".into()),
                    (Some(d), Some(true)) => Prev::Known(vec![d]),
                    (Some(_), Some(false)) => Prev::Known(Vec::new()),
                    (Some(_), None) => Prev::Unknown(
                        "the attachment may predate the data read (attaching twice changes nothing)".into(),
                    ),
                };
                let what = format!("managed policy {arn} attached to {who}");
                self.record(i, t, what, target, doc.into_iter().collect(), prev);
            }
            "DetachUserPolicy" => {
                if let (Some(u), Some(arn)) = (user, e.policy_arn.clone()) {
                    self.user_attach.entry((u, arn)).or_default().push(t, i, None);
                }
            }
            "DetachGroupPolicy" => {
                if let (Some(g), Some(arn)) = (group, e.policy_arn.clone()) {
                    self.group_attach.entry((g, arn)).or_default().push(t, i, None);
                }
            }
            "AddUserToGroup" => {
                let (Some(u), Some(g)) = (user, group) else { return };
                self.user_groups
                    .entry(u.clone())
                    .or_default()
                    .insert(e.group_name.clone().unwrap_or_default());
                let tl = self.membership.entry((g.clone(), u.1.clone())).or_default();
                let was_member = was_there(tl, i, t);
                tl.push(t, i, Some(()));
                let was_member = was_member.or(Self::created_before(&self.user_created, &u, t).then_some(false));
                let new: Vec<DocId> = self
                    .group_requirements_at(&g, t, false)
                    .into_iter()
                    .map(|r| r.doc)
                    .collect();
                let prev = match was_member {
                    Some(true) => Prev::Known(new.clone()),
                    Some(false) => Prev::Known(Vec::new()),
                    None => Prev::Unknown("the user may have been a member before the data read".into()),
                };
                let what = format!("user {} added to group {}", show(&e.target_user), show(&e.group_name));
                self.record(i, t, what, Target::User(user_key(&u)), new, prev);
            }
            "RemoveUserFromGroup" => {
                if let (Some(u), Some(g)) = (user, group) {
                    self.membership.entry((g, u.1)).or_default().push(t, i, None);
                }
            }
            _ => {}
        }
    }
}
