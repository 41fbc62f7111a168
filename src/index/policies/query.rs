//! What reaches a user at an instant, and who a change reaches.

use crate::event::{EventClass, EventRow, Millis, PrincipalKey, arn_name, lc};

use super::{Change, DocId, Name, PolicyBook, Reach, ReqSource, Target, role_key};

impl PolicyBook {
    pub(super) fn default_doc_at(&self, arn: &str, t: Millis) -> Option<DocId> {
        let vid = self.managed_default.get(arn)?.at(t)?.value.clone()?;
        self.versions.get(&(arn.to_owned(), vid)).copied()
    }

    /// Adds the requirement of `doc`; `seeded`: a link of the chain comes from the IAM snapshot.
    fn push_if_requires(&self, out: &mut Vec<ReqSource>, via: String, doc: Option<DocId>, seeded: bool) {
        if let Some(d) = doc.filter(|d| self.docs[*d].requires_mfa() == Some(true)) {
            let from_snapshot = seeded || self.docs[d].event.is_none();
            let via = if from_snapshot {
                format!("{via} (IAM snapshot)")
            } else {
                via
            };
            out.push(ReqSource { via, doc: d });
        }
    }

    pub(super) fn group_requirements_at(&self, g: &Name, t: Millis, member_seeded: bool) -> Vec<ReqSource> {
        let mut out = Vec::new();
        for n in self.group_inline_names.get(g).into_iter().flatten() {
            let tl = self.group_inline.get(&(g.clone(), lc(n)));
            let doc = tl.and_then(|tl| tl.at(t)).and_then(|e| e.value);
            let seeded = member_seeded || tl.is_some_and(|tl| tl.seeded_at(t));
            self.push_if_requires(
                &mut out,
                format!("inline policy {n} of group {}", self.group_name(g)),
                doc,
                seeded,
            );
        }
        for arn in self.group_arns.get(g).into_iter().flatten() {
            let tl = self.group_attach.get(&(g.clone(), arn.clone()));
            let attached = tl.and_then(|tl| tl.at(t)).is_some_and(|e| e.value.is_some());
            if attached {
                let seeded = member_seeded
                    || tl.is_some_and(|tl| tl.seeded_at(t))
                    || self.managed_default.get(arn).is_some_and(|tl| tl.seeded_at(t));
                self.push_if_requires(
                    &mut out,
                    format!("managed policy {arn} attached to group {}", self.group_name(g)),
                    self.default_doc_at(arn, t),
                    seeded,
                );
            }
        }
        out
    }

    fn group_name<'a>(&'a self, g: &'a Name) -> &'a str {
        self.group_names.get(g).map_or(g.1.as_str(), String::as_str)
    }

    /// The MFA requirements that reach an IAM user at `t`, as far as the data shows.
    pub fn requirements_at(&self, p: &PrincipalKey, t: Millis) -> Vec<ReqSource> {
        let u: Name = (p.account.clone(), p.name.clone());
        let mut out = Vec::new();
        for n in self.user_inline_names.get(&u).into_iter().flatten() {
            let tl = self.user_inline.get(&(u.clone(), lc(n)));
            let doc = tl.and_then(|tl| tl.at(t)).and_then(|e| e.value);
            let seeded = tl.is_some_and(|tl| tl.seeded_at(t));
            self.push_if_requires(&mut out, format!("inline policy {n} of user {}", p.name), doc, seeded);
        }
        for arn in self.user_arns.get(&u).into_iter().flatten() {
            let tl = self.user_attach.get(&(u.clone(), arn.clone()));
            let attached = tl.and_then(|tl| tl.at(t)).is_some_and(|e| e.value.is_some());
            if attached {
                let seeded = tl.is_some_and(|tl| tl.seeded_at(t))
                    || self.managed_default.get(arn).is_some_and(|tl| tl.seeded_at(t));
                self.push_if_requires(
                    &mut out,
                    format!("managed policy {arn} attached to user {}", u.1),
                    self.default_doc_at(arn, t),
                    seeded,
                );
            }
        }
        for g in self.user_groups.get(&u).into_iter().flatten() {
            let gk = (u.0.clone(), lc(g));
            if self.is_member_at(&gk, &u.1, t) == Some(true) {
                let seeded = self
                    .membership
                    .get(&(gk.clone(), u.1.clone()))
                    .is_some_and(|tl| tl.seeded_at(t));
                out.extend(self.group_requirements_at(&gk, t, seeded));
            }
        }
        out
    }

    /// Membership at `t`: None when the data never shows it.
    fn is_member_at(&self, g: &Name, user: &str, t: Millis) -> Option<bool> {
        let tl = self.membership.get(&(g.clone(), user.to_owned()))?;
        Some(tl.at(t).is_some_and(|e| e.value.is_some()))
    }

    /// Whether `change` reaches the IAM user `p` at `t`.
    pub fn reach(&self, change: &Change, p: &PrincipalKey, t: Millis) -> Reach {
        let u: Name = (p.account.clone(), p.name.clone());
        let created = self.user_created.get(&u).is_some_and(|c| *c <= change.time);
        let unknown = if created { Reach::No } else { Reach::Unknown };
        match &change.target {
            Target::User(k) if k == p => Reach::Yes("the change is on the user".into()),
            Target::User(_) => Reach::No,
            Target::Group(g) if g.0 != u.0 => Reach::No,
            Target::Group(g) => match self.is_member_at(g, &u.1, t) {
                Some(true) => Reach::Yes(format!("member of group {} (AddUserToGroup in the data)", g.1)),
                Some(false) => Reach::No,
                None => unknown,
            },
            Target::Managed(arn) => {
                if self
                    .user_attach
                    .get(&(u.clone(), arn.clone()))
                    .and_then(|tl| tl.at(t))
                    .is_some_and(|e| e.value.is_some())
                {
                    return Reach::Yes(format!("{arn} attached to the user"));
                }
                for g in self.user_groups.get(&u).into_iter().flatten() {
                    let gk = (u.0.clone(), lc(g));
                    let attached = self
                        .group_attach
                        .get(&(gk.clone(), arn.clone()))
                        .and_then(|tl| tl.at(t))
                        .is_some_and(|e| e.value.is_some());
                    if attached && self.is_member_at(&gk, &u.1, t) == Some(true) {
                        return Reach::Yes(format!("{arn} attached to group {g}, which the user is in"));
                    }
                }
                if self.policy_created.get(arn).is_some_and(|c| *c <= change.time) && created {
                    Reach::No
                } else {
                    unknown
                }
            }
            // A trust policy reaches those who assume the role; nothing is guessed.
            Target::Role(r) => match self.role_assumers.get(r) {
                Some(users) if users.contains(p) => Reach::Yes(format!(
                    "assumes role {}",
                    self.group_names.get(r).map_or(r.1.as_str(), String::as_str)
                )),
                _ => Reach::No,
            },
        }
    }

    /// For an `assume_role_denied` event: the trust policy in force then requires MFA for
    /// sts:AssumeRole and the call named no device, so the denial is the MFA requirement.
    pub fn trust_denial_counts(&self, e: &EventRow) -> Option<ReqSource> {
        if e.class != EventClass::AssumeRoleDenied || e.mfa_serial.is_some() {
            return None;
        }
        let r = role_key(e, e.target_role.as_deref()?);
        let doc = self.role_trust.get(&r)?.at(e.event_time)?.value?;
        let p = self.docs[doc].policy.as_ref().ok()?;
        p.requires_mfa_for("sts:AssumeRole").then(|| ReqSource {
            via: format!(
                "trust policy of role {}",
                arn_name(e.target_role.as_deref().unwrap_or(&r.1))
            ),
            doc,
        })
    }
}
