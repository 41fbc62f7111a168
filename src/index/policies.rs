//! Who an MFA requirement reaches, and what each policy change did, replayed
//! over every event read. Every fact is a timeline (inline documents, group
//! memberships, attachments, managed default versions, role trust policies),
//! so the state can be asked at any instant (T0), and every change is judged
//! against the state just before it. Documents are parsed once.
//!
//! "Known" is taken seriously: a change *adds* an MFA requirement only when
//! the state before it is in the data (an earlier version, a creation, or a
//! removal seen) and lacked the requirement. Otherwise the answer is
//! `Unknown`, said as such: CloudTrail shows changes, not the state the
//! account had before the data read begins.

use std::collections::{BTreeSet, HashMap};

use crate::event::{EventClass, EventRow, Millis, PrincipalKey, PrincipalKind};
use crate::policy::{Policy, PolicyError, parse_policy};
use crate::snapshot::Snapshot;

use super::Ev;

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
}

pub type DocId = usize;

#[derive(Debug, Clone)]
struct Entry<T> {
    time: Millis,
    event: Ev,
    value: Option<T>,
}

/// A fact over time: entries in event order; `None` values mean removed.
#[derive(Debug, Clone)]
struct Timeline<T>(Vec<Entry<T>>);

impl<T> Default for Timeline<T> {
    fn default() -> Self {
        Timeline(Vec::new())
    }
}

impl<T> Timeline<T> {
    fn push(&mut self, time: Millis, event: Ev, value: Option<T>) {
        self.0.push(Entry { time, event, value });
    }
    /// The entry in force at `t`.
    fn at(&self, t: Millis) -> Option<&Entry<T>> {
        let n = self.0.partition_point(|e| e.time <= t);
        n.checked_sub(1).map(|i| &self.0[i])
    }
    /// The entry in force just before event `ev` (events are in index order; the IAM
    /// snapshot's seed, first, is before every event).
    fn before(&self, ev: Ev) -> Option<&Entry<T>> {
        let n = self.0.partition_point(|e| e.time == SEED || e.event < ev);
        n.checked_sub(1).map(|i| &self.0[i])
    }
    /// Whether the logs say anything about the fact up to `t` (a seed is not the logs).
    fn logged_until(&self, t: Millis) -> bool {
        self.0.iter().any(|e| e.time != SEED && e.time <= t)
    }
    /// The state the IAM snapshot gives from the start, replayed back to it.
    fn seed(&mut self, value: Option<T>) {
        self.0.insert(
            0,
            Entry {
                time: SEED,
                event: 0,
                value,
            },
        );
    }
    /// The entry in force at `t` comes from the IAM snapshot.
    fn seeded_at(&self, t: Millis) -> bool {
        self.at(t).is_some_and(|e| e.time == SEED)
    }
}

/// The time of a state the IAM snapshot gives: in force from the start, until the first logged
/// change (the snapshot's state replayed backwards over a stretch the logs show no change in).
const SEED: Millis = Millis::MIN;

type Name = (String, String); // (account, lower-cased name)

/// What a policy change did to the MFA requirement of those it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEffect {
    /// The new state requires MFA and the known previous state did not.
    Adds,
    /// The previous state required MFA too (re-put, re-attach, same document).
    Keeps,
    /// The new state does not require MFA (as far as the data shows).
    NoRequirement,
    /// The new document cannot be read.
    Unreadable,
    /// The new state requires MFA, but the previous state is not in the data.
    Unknown(String),
}

/// What a change acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User(PrincipalKey),
    Group(Name),
    Managed(String),
    Role(Name),
}

/// One successful policy event, judged with the state just before it.
#[derive(Debug, Clone)]
pub struct Change {
    pub event: Ev,
    pub time: Millis,
    pub what: String,
    pub target: Target,
    /// The document that now applies, when the data has it.
    pub doc: Option<DocId>,
    pub effect: ChangeEffect,
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

fn lc(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The role's name as written (last path segment of an ARN).
fn role_display(role: &str) -> &str {
    role.rsplit('/').next().unwrap_or(role)
}

/// The role a target names: an ARN carries its account; a bare name is in the event's account.
pub fn role_key(e: &EventRow, role: &str) -> Name {
    match role.strip_prefix("arn:") {
        Some(rest) => {
            let acct = rest.split(':').nth(3).unwrap_or_default();
            (acct.to_owned(), lc(role.rsplit('/').next().unwrap_or(role)))
        }
        None => (e.account().unwrap_or_default().to_owned(), lc(role)),
    }
}

fn managed_arn(e: &EventRow) -> Option<String> {
    e.policy_arn.clone().or_else(|| {
        let acct = e.account()?;
        Some(format!("arn:aws:iam::{acct}:policy/{}", e.policy_name.as_deref()?))
    })
}

impl PolicyBook {
    /// Replays every successful policy event of `events` (time-sorted).
    pub fn build(events: &[EventRow]) -> PolicyBook {
        let mut book = PolicyBook::default();
        book.replay(events);
        book
    }

    fn replay(&mut self, events: &[EventRow]) {
        let book = self;
        for (i, e) in events.iter().enumerate() {
            let i = i as Ev;
            match e.class {
                EventClass::PolicyChange if e.succeeded() => book.apply(i, e),
                EventClass::UserCreated if e.succeeded() => {
                    if let Some(u) = &e.target_user {
                        book.user_created
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
                book.role_assumers.entry(role_key(e, role)).or_default().insert(a.key());
            }
        }
    }

    /// Replays the logs over the IAM snapshot's state: every fact the snapshot holds at `time`
    /// (memberships, attachments, inline and trust documents, managed default versions) that
    /// the logs do not change up to `time` held from the start of the data read, and what the
    /// logs changed is theirs. Stored managed-policy versions never change, so they are all
    /// known. Returns the book and the contradictions between the two.
    pub fn build_seeded(
        events: &[EventRow],
        snap: &Snapshot,
        time: Millis,
        default_account: &str,
    ) -> (PolicyBook, Vec<String>) {
        // A first replay of the logs alone says which facts they touch up to the snapshot; the
        // policy events are few, so replaying twice costs little next to reading the archive.
        let logs = PolicyBook::build(events);
        let mut book = PolicyBook::default();
        let mut contradictions = Vec::new();
        let files = snap.files.join(", ");
        let acct_of = |a: &str| {
            if a.is_empty() {
                default_account.to_owned()
            } else {
                a.to_owned()
            }
        };
        for m in snap.managed.values() {
            for (vid, doc, _) in &m.versions {
                if let Some(d) = doc {
                    let id = book.snapshot_doc(d, format!("version {vid} of {}, in {files}", m.arn));
                    book.versions.insert((m.arn.clone(), vid.clone()), id);
                }
            }
            if let Some(def) = &m.default_version {
                match logs.managed_default.get(&m.arn).filter(|tl| tl.logged_until(time)) {
                    None => book
                        .managed_default
                        .entry(m.arn.clone())
                        .or_default()
                        .seed(Some(def.clone())),
                    Some(tl) => {
                        let logged = tl.at(time).and_then(|e| e.value.clone());
                        if logged.as_deref().is_some_and(|v| v != def) {
                            contradictions.push(format!(
                                "{}: default version {} in the logs, {def} in the snapshot",
                                m.arn,
                                logged.unwrap_or_default()
                            ));
                        }
                    }
                }
            }
        }
        // One fact: seeded when the logs leave it alone up to the snapshot, else compared.
        fn fact<T: Clone, K: std::hash::Hash + Eq + Clone>(
            logs: &HashMap<K, Timeline<T>>,
            mine: &mut HashMap<K, Timeline<T>>,
            key: &K,
            time: Millis,
            value: Option<T>,
        ) -> Option<(bool, bool)> {
            match logs.get(key).filter(|tl| tl.logged_until(time)) {
                None => {
                    mine.entry(key.clone()).or_default().seed(value);
                    None
                }
                Some(tl) => {
                    let logged = tl.at(time).is_some_and(|e| e.value.is_some());
                    (logged != value.is_some()).then_some((logged, value.is_some()))
                }
            }
        }
        let says = |b: bool| if b { "present" } else { "absent" };
        for ((a, n), u) in &snap.users {
            let un: Name = (acct_of(a), n.clone());
            let mut inline_names: BTreeSet<String> = BTreeSet::new();
            for d in &u.inline {
                let id = book.snapshot_doc(d, format!("inline policy {} of user {}, in {files}", d.name, u.name));
                fact(
                    &logs.user_inline,
                    &mut book.user_inline,
                    &(un.clone(), lc(&d.name)),
                    time,
                    Some(id),
                );
                inline_names.insert(d.name.clone());
            }
            for name in logs.user_inline_names.get(&un).into_iter().flatten() {
                if !inline_names.iter().any(|x| x.eq_ignore_ascii_case(name)) {
                    fact(
                        &logs.user_inline,
                        &mut book.user_inline,
                        &(un.clone(), lc(name)),
                        time,
                        None,
                    );
                }
            }
            book.user_inline_names
                .entry(un.clone())
                .or_default()
                .extend(inline_names);
            let arns: BTreeSet<String> = u.attached.iter().cloned().collect();
            for arn in arns.iter().chain(logs.user_arns.get(&un).into_iter().flatten()) {
                let key = (un.clone(), arn.clone());
                let value = arns.contains(arn).then_some(());
                if let Some((l, sn)) = fact(&logs.user_attach, &mut book.user_attach, &key, time, value) {
                    contradictions.push(format!(
                        "{arn} attached to user {}: {} in the logs at the snapshot's time, {} in the snapshot",
                        u.name,
                        says(l),
                        says(sn)
                    ));
                }
            }
            book.user_arns.entry(un.clone()).or_default().extend(arns);
            let groups: BTreeSet<String> = u.groups.iter().cloned().collect();
            let logged_groups: Vec<String> = logs.user_groups.get(&un).into_iter().flatten().cloned().collect();
            for g in groups.iter().chain(&logged_groups) {
                let key = ((un.0.clone(), lc(g)), un.1.clone());
                let value = groups.iter().any(|x| x.eq_ignore_ascii_case(g)).then_some(());
                if let Some((l, sn)) = fact(&logs.membership, &mut book.membership, &key, time, value) {
                    contradictions.push(format!(
                        "user {} in group {g}: {} in the logs at the snapshot's time, {} in the snapshot",
                        u.name,
                        says(l),
                        says(sn)
                    ));
                }
            }
            book.user_groups.entry(un).or_default().extend(groups);
        }
        for ((a, g), grp) in &snap.groups {
            let gk: Name = (acct_of(a), g.clone());
            book.group_names.entry(gk.clone()).or_insert_with(|| grp.name.clone());
            for d in &grp.inline {
                let id = book.snapshot_doc(d, format!("inline policy {} of group {}, in {files}", d.name, grp.name));
                fact(
                    &logs.group_inline,
                    &mut book.group_inline,
                    &(gk.clone(), lc(&d.name)),
                    time,
                    Some(id),
                );
                book.group_inline_names
                    .entry(gk.clone())
                    .or_default()
                    .insert(d.name.clone());
            }
            for arn in &grp.attached {
                fact(
                    &logs.group_attach,
                    &mut book.group_attach,
                    &(gk.clone(), arn.clone()),
                    time,
                    Some(()),
                );
                book.group_arns.entry(gk.clone()).or_default().insert(arn.clone());
            }
        }
        for ((a, r), role) in &snap.roles {
            let rk: Name = (acct_of(a), r.clone());
            book.group_names.entry(rk.clone()).or_insert_with(|| role.name.clone());
            if let Some(d) = &role.trust {
                let id = book.snapshot_doc(d, format!("trust policy of role {}, in {files}", role.name));
                fact(&logs.role_trust, &mut book.role_trust, &rk, time, Some(id));
            }
        }
        book.replay(events);
        (book, contradictions)
    }

    fn snapshot_doc(&mut self, d: &crate::snapshot::Document, what: String) -> DocId {
        self.docs.push(Doc {
            policy: parse_policy(&d.text),
            event: None,
            snapshot: Some(what),
        });
        self.docs.len() - 1
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

    /// The previous state for `judge`: a removed document is known absent; an unreadable one
    /// is as good as unknown.
    fn prev_state(&self, value: Option<DocId>) -> Option<Option<bool>> {
        match value {
            None => Some(None),
            Some(d) => self.docs[d].requires_mfa().map(Some),
        }
    }

    fn requires(&self, d: Option<DocId>) -> Option<bool> {
        d.and_then(|d| self.docs[d].requires_mfa())
    }

    fn created_before(&self, m: &HashMap<Name, Millis>, k: &Name, t: Millis) -> bool {
        m.get(k).is_some_and(|c| *c <= t)
    }

    /// The effect of a new state (`new`) given the previous one (`prev`: None when unknown,
    /// Some(None) when known to be absent).
    fn judge(new: Option<bool>, prev: Option<Option<bool>>, unknown_why: &str) -> ChangeEffect {
        match (new, prev) {
            (None, _) => ChangeEffect::Unreadable,
            (Some(false), _) => ChangeEffect::NoRequirement,
            (Some(true), Some(Some(true))) => ChangeEffect::Keeps,
            (Some(true), Some(None | Some(false))) => ChangeEffect::Adds,
            (Some(true), None) => ChangeEffect::Unknown(unknown_why.to_owned()),
        }
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
        let change = match e.event_name.as_str() {
            "PutUserPolicy" => {
                let Some(u) = user else { return };
                let doc = self.doc_of(i, e);
                let tl = self.user_inline.entry((u.clone(), pname.clone())).or_default();
                let prev = tl.before(i).map(|p| p.value);
                tl.push(t, i, doc);
                self.user_inline_names
                    .entry(u.clone())
                    .or_default()
                    .insert(e.policy_name.clone().unwrap_or_default());
                let prev = match prev {
                    Some(p) => self.prev_state(p),
                    None if self.created_before(&self.user_created, &u, t) => Some(None),
                    None => None,
                };
                Change {
                    event: i,
                    time: t,
                    what: format!(
                        "inline policy {} put on user {}",
                        e.policy_name.as_deref().unwrap_or("?"),
                        e.target_user.as_deref().unwrap_or("?")
                    ),
                    target: Target::User(user_key(&u)),
                    doc,
                    effect: Self::judge(
                        self.requires(doc),
                        prev,
                        "the user's previous version of this inline policy is not in the data read",
                    ),
                }
            }
            "PutGroupPolicy" => {
                let Some(g) = group else { return };
                let doc = self.doc_of(i, e);
                let tl = self.group_inline.entry((g.clone(), pname.clone())).or_default();
                let prev = tl.before(i).map(|p| p.value);
                tl.push(t, i, doc);
                self.group_inline_names
                    .entry(g.clone())
                    .or_default()
                    .insert(e.policy_name.clone().unwrap_or_default());
                let prev = prev.and_then(|p| self.prev_state(p));
                Change {
                    event: i,
                    time: t,
                    what: format!(
                        "inline policy {} put on group {}",
                        e.policy_name.as_deref().unwrap_or("?"),
                        e.group_name.as_deref().unwrap_or("?")
                    ),
                    target: Target::Group(g),
                    doc,
                    effect: Self::judge(
                        self.requires(doc),
                        prev,
                        "the group's previous version of this inline policy is not in the data read",
                    ),
                }
            }
            "DeleteUserPolicy" => {
                if let Some(u) = user {
                    self.user_inline.entry((u, pname)).or_default().push(t, i, None);
                }
                return;
            }
            "DeleteGroupPolicy" => {
                if let Some(g) = group {
                    self.group_inline.entry((g, pname)).or_default().push(t, i, None);
                }
                return;
            }
            "CreateRole" | "UpdateAssumeRolePolicy" => {
                let Some(role) = e.target_role.as_deref() else { return };
                let r = role_key(e, role);
                self.group_names
                    .entry(r.clone())
                    .or_insert_with(|| role_display(role).to_owned());
                let doc = self.doc_of(i, e);
                let tl = self.role_trust.entry(r.clone()).or_default();
                let prev = if e.event_name == "CreateRole" {
                    Some(None)
                } else {
                    tl.before(i).map(|p| p.value)
                };
                tl.push(t, i, doc);
                let prev = prev.and_then(|p| self.prev_state(p));
                Change {
                    event: i,
                    time: t,
                    what: format!("trust policy of role {} set", role_display(role)),
                    target: Target::Role(r),
                    doc,
                    effect: Self::judge(
                        self.requires(doc),
                        prev,
                        "the role's previous trust policy is not in the data read",
                    ),
                }
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
                Change {
                    event: i,
                    time: t,
                    what: format!("managed policy {arn} default version set to {vid}"),
                    target: Target::Managed(arn),
                    doc,
                    effect: Self::judge(
                        self.requires(doc),
                        prev,
                        "the policy's previous default version is not in the data read",
                    ),
                }
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
                let effect = match doc {
                    None => ChangeEffect::Unknown("the new default version's document is not in the data read".into()),
                    Some(_) => Self::judge(
                        self.requires(doc),
                        prev,
                        "the policy's previous default version is not in the data read",
                    ),
                };
                Change {
                    event: i,
                    time: t,
                    what: format!("managed policy {arn} default version set to {vid}"),
                    target: Target::Managed(arn),
                    doc,
                    effect,
                }
            }
            "AttachUserPolicy" | "AttachGroupPolicy" => {
                let Some(arn) = e.policy_arn.clone() else { return };
                let (who, tl_prev, target) = if e.event_name == "AttachUserPolicy" {
                    let Some(u) = user else { return };
                    self.user_arns.entry(u.clone()).or_default().insert(arn.clone());
                    let tl = self.user_attach.entry((u.clone(), arn.clone())).or_default();
                    let prev = tl.before(i).map(|p| p.value.is_some());
                    tl.push(t, i, Some(()));
                    let prev = prev.or(self.created_before(&self.user_created, &u, t).then_some(false));
                    (
                        format!("user {}", e.target_user.as_deref().unwrap_or("?")),
                        prev,
                        Target::User(user_key(&u)),
                    )
                } else {
                    let Some(g) = group else { return };
                    self.group_arns.entry(g.clone()).or_default().insert(arn.clone());
                    let tl = self.group_attach.entry((g.clone(), arn.clone())).or_default();
                    let prev = tl.before(i).map(|p| p.value.is_some());
                    tl.push(t, i, Some(()));
                    (
                        format!("group {}", e.group_name.as_deref().unwrap_or("?")),
                        prev,
                        Target::Group(g),
                    )
                };
                // A policy created in the data read was attached to nothing before.
                let attached_before = tl_prev.or(self.policy_created.get(&arn).map(|_| false));
                let doc = self.default_doc_at(&arn, t);
                let new = self.requires(doc);
                let prev = attached_before.map(|a| if a { new.map(|_| true) } else { None });
                let effect = match doc {
                    None => ChangeEffect::Unknown("the attached policy's document is not in the data read".into()),
                    Some(_) => Self::judge(
                        new,
                        prev,
                        "the attachment may predate the data read (attaching twice changes nothing)",
                    ),
                };
                Change {
                    event: i,
                    time: t,
                    what: format!("managed policy {arn} attached to {who}"),
                    target,
                    doc,
                    effect,
                }
            }
            "DetachUserPolicy" => {
                if let (Some(u), Some(arn)) = (user, e.policy_arn.clone()) {
                    self.user_attach.entry((u, arn)).or_default().push(t, i, None);
                }
                return;
            }
            "DetachGroupPolicy" => {
                if let (Some(g), Some(arn)) = (group, e.policy_arn.clone()) {
                    self.group_attach.entry((g, arn)).or_default().push(t, i, None);
                }
                return;
            }
            "AddUserToGroup" => {
                let (Some(u), Some(g)) = (user, group) else { return };
                self.user_groups
                    .entry(u.clone())
                    .or_default()
                    .insert(e.group_name.clone().unwrap_or_default());
                let tl = self.membership.entry((g.clone(), u.1.clone())).or_default();
                let prev = tl.before(i).map(|p| p.value.is_some());
                tl.push(t, i, Some(()));
                let prev = prev.or(self.created_before(&self.user_created, &u, t).then_some(false));
                let found = self.group_requirements_at(&g, t, false);
                let doc = found.first().map(|r| r.doc);
                let effect = if found.is_empty() {
                    ChangeEffect::NoRequirement
                } else {
                    Self::judge(
                        Some(true),
                        prev.map(|member| member.then_some(true)),
                        "the user may have been a member before the data read",
                    )
                };
                Change {
                    event: i,
                    time: t,
                    what: format!(
                        "user {} added to group {}",
                        e.target_user.as_deref().unwrap_or("?"),
                        e.group_name.as_deref().unwrap_or("?")
                    ),
                    target: Target::User(user_key(&u)),
                    doc,
                    effect,
                }
            }
            "RemoveUserFromGroup" => {
                if let (Some(u), Some(g)) = (user, group) {
                    self.membership.entry((g, u.1)).or_default().push(t, i, None);
                }
                return;
            }
            _ => return,
        };
        self.changes.push(change);
    }

    /// Whether the previous default version required MFA: None unknown, Some(None) absent.
    fn default_before(&self, arn: &str, i: Ev) -> Option<Option<bool>> {
        match self.managed_default.get(arn).and_then(|tl| tl.before(i)) {
            Some(p) => {
                let vid = p.value.as_ref()?;
                let doc = *self.versions.get(&(arn.to_owned(), vid.clone()))?;
                self.docs[doc].requires_mfa().map(Some)
            }
            None => None,
        }
    }

    fn default_doc_at(&self, arn: &str, t: Millis) -> Option<DocId> {
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

    fn group_requirements_at(&self, g: &Name, t: Millis, member_seeded: bool) -> Vec<ReqSource> {
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

    /// Changes with `since <= time <= until`, in event order.
    pub fn changes_between(&self, since: Millis, until: Millis) -> &[Change] {
        let lo = self.changes.partition_point(|c| c.time < since);
        let hi = self.changes.partition_point(|c| c.time <= until);
        &self.changes[lo..hi.max(lo)]
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
                role_display(e.target_role.as_deref().unwrap_or(&r.1))
            ),
            doc,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Principal;
    use crate::index::tests::{ACCT, ev};

    pub const MFA_DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:GetUser","iam:ListMFADevices","iam:ListVirtualMFADevices","iam:ResyncMFADevice","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    pub const PLAIN_DOC: &str =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;

    fn policy(min: i64, name: &str, f: impl FnOnce(&mut EventRow)) -> EventRow {
        let mut e = ev(min, EventClass::PolicyChange, Some("ops"), None, None);
        e.event_name = name.into();
        f(&mut e);
        e
    }
    fn user(n: &str) -> PrincipalKey {
        Principal::new(PrincipalKind::IamUser, ACCT, n).key()
    }
    fn put(min: i64, u: &str, doc: &str) -> EventRow {
        let (u, doc) = (u.to_string(), doc.to_string());
        policy(min, "PutUserPolicy", move |e| {
            e.target_user = Some(u);
            e.policy_name = Some("RequireMFA".into());
            e.policy_document = Some(doc);
        })
    }

    #[test]
    fn a_first_put_is_unknown_a_second_is_judged() {
        let book = PolicyBook::build(&[
            put(1, "dave", MFA_DOC),
            put(2, "dave", MFA_DOC),
            put(3, "erin", PLAIN_DOC),
            put(4, "erin", MFA_DOC),
        ]);
        let effects: Vec<_> = book.changes.iter().map(|c| c.effect.clone()).collect();
        assert!(matches!(effects[0], ChangeEffect::Unknown(_)));
        assert_eq!(effects[1], ChangeEffect::Keeps);
        assert_eq!(effects[2], ChangeEffect::NoRequirement);
        assert_eq!(effects[3], ChangeEffect::Adds);
        assert_eq!(book.requirements_at(&user("dave"), 60_000).len(), 1);
        assert_eq!(book.requirements_at(&user("erin"), 3 * 60_000).len(), 0);
        assert_eq!(book.requirements_at(&user("erin"), 4 * 60_000).len(), 1);
    }

    #[test]
    fn a_created_user_has_no_earlier_policies() {
        let book = PolicyBook::build(&[
            ev(0, EventClass::UserCreated, Some("ops"), Some("fay"), None),
            put(1, "fay", MFA_DOC),
        ]);
        assert_eq!(book.changes[0].effect, ChangeEffect::Adds);
    }

    #[test]
    fn managed_versions_groups_and_reach() {
        let arn = "arn:aws:iam::111122223333:policy/FinanceAccess";
        let events = [
            policy(1, "CreatePolicy", |e| {
                e.policy_arn = Some(arn.into());
                e.policy_document = Some(PLAIN_DOC.into());
                e.set_as_default = Some(true);
                e.policy_version = Some("v1".into());
            }),
            policy(2, "AddUserToGroup", |e| {
                e.target_user = Some("dave".into());
                e.group_name = Some("finance".into());
            }),
            policy(3, "AttachGroupPolicy", |e| {
                e.group_name = Some("finance".into());
                e.policy_arn = Some(arn.into());
            }),
            policy(10, "CreatePolicyVersion", |e| {
                e.policy_arn = Some(arn.into());
                e.policy_document = Some(MFA_DOC.into());
                e.set_as_default = Some(true);
                e.policy_version = Some("v2".into());
            }),
        ];
        let book = PolicyBook::build(&events);
        let v2 = book.changes.last().unwrap();
        assert_eq!(v2.effect, ChangeEffect::Adds);
        assert!(matches!(book.reach(v2, &user("dave"), 20 * 60_000), Reach::Yes(_)));
        assert_eq!(book.reach(v2, &user("zoe"), 20 * 60_000), Reach::Unknown);
        assert_eq!(book.requirements_at(&user("dave"), 9 * 60_000).len(), 0);
        assert_eq!(book.requirements_at(&user("dave"), 11 * 60_000).len(), 1);
        // Same name in another account: a different user.
        let other = Principal::new(PrincipalKind::IamUser, "444455556666", "dave").key();
        assert_eq!(book.reach(v2, &other, 20 * 60_000), Reach::Unknown);
        assert!(book.requirements_at(&other, 20 * 60_000).is_empty());
    }

    #[test]
    fn trust_policy_requiring_mfa_makes_assume_role_denials_count() {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#;
        let update = policy(1, "UpdateAssumeRolePolicy", |e| {
            e.target_role = Some("Admin".into());
            e.policy_document = Some(trust.into());
        });
        let mut denied = ev(5, EventClass::AssumeRoleDenied, Some("gus"), None, None);
        denied.event_source = "sts.amazonaws.com".into();
        denied.event_name = "AssumeRole".into();
        denied.target_role = Some("arn:aws:iam::111122223333:role/Admin".into());
        let book = PolicyBook::build(&[update, denied.clone()]);
        assert!(book.trust_denial_counts(&denied).is_some());
        assert!(matches!(book.changes[0].effect, ChangeEffect::Unknown(_)));
        assert!(matches!(book.reach(&book.changes[0], &user("gus"), 0), Reach::Yes(_)));
        // With a device named, the trust policy denied for another reason.
        let mut with_serial = denied.clone();
        with_serial.mfa_serial = Some("arn:aws:iam::111122223333:mfa/gus".into());
        assert!(book.trust_denial_counts(&with_serial).is_none());
    }

    fn snapshot(files: &[(&str, &str)]) -> Snapshot {
        let mut s = Snapshot::default();
        for (name, text) in files {
            s.add(std::path::Path::new(name), text.as_bytes()).unwrap();
        }
        s
    }

    #[test]
    fn the_snapshot_seeds_what_the_logs_leave_alone_and_its_origin_is_said() {
        let auth = format!(
            r#"{{"UserDetailList": [{{"UserName": "dave", "Arn": "arn:aws:iam::{ACCT}:user/dave", "GroupList": ["Humans"]}}],
                "GroupDetailList": [{{"GroupName": "Humans", "Arn": "arn:aws:iam::{ACCT}:group/Humans",
                  "GroupPolicyList": [{{"PolicyName": "RequireMFA", "PolicyDocument": {MFA_DOC}}}]}}]}}"#
        );
        let snap = snapshot(&[("auth.json", &auth)]);
        // Logs: nothing about dave's groups; the snapshot (at minute 100) says he is in Humans.
        let (book, contradictions) = PolicyBook::build_seeded(&[put(1, "erin", PLAIN_DOC)], &snap, 100 * 60_000, ACCT);
        assert!(contradictions.is_empty());
        let reqs = book.requirements_at(&user("dave"), 50 * 60_000);
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].via, "inline policy RequireMFA of group Humans (IAM snapshot)");
        assert_eq!(book.docs[reqs[0].doc].event, None);
        // Without the snapshot: nothing known.
        assert!(
            PolicyBook::build(&[])
                .requirements_at(&user("dave"), 50 * 60_000)
                .is_empty()
        );
    }

    #[test]
    fn logged_changes_win_and_contradictions_are_named() {
        let auth = format!(
            r#"{{"UserDetailList": [{{"UserName": "dave", "Arn": "arn:aws:iam::{ACCT}:user/dave", "GroupList": ["Humans"]}}],
                "GroupDetailList": [{{"GroupName": "Humans", "Arn": "arn:aws:iam::{ACCT}:group/Humans",
                  "GroupPolicyList": [{{"PolicyName": "RequireMFA", "PolicyDocument": {MFA_DOC}}}]}}]}}"#
        );
        let snap = snapshot(&[("auth.json", &auth)]);
        let removed = policy(10, "RemoveUserFromGroup", |e| {
            e.target_user = Some("dave".into());
            e.group_name = Some("Humans".into());
        });
        let (book, contradictions) = PolicyBook::build_seeded(&[removed], &snap, 100 * 60_000, ACCT);
        assert_eq!(contradictions.len(), 1, "{contradictions:?}");
        assert!(contradictions[0].contains("user dave in group Humans: absent in the logs"));
        // The logs decide after the removal; before it the snapshot's state is not replayed
        // (the logs touched the fact).
        assert!(book.requirements_at(&user("dave"), 50 * 60_000).is_empty());

        // Joining after the snapshot was taken (a --snapshot-time before the logs): the snapshot
        // shows the user was not a member, so the addition adds the requirement.
        let snap = snapshot(&[(
            "auth.json",
            &format!(
                r#"{{"UserDetailList": [{{"UserName": "erin", "Arn": "arn:aws:iam::{ACCT}:user/erin", "GroupList": []}}],
                    "GroupDetailList": [{{"GroupName": "Humans", "Arn": "arn:aws:iam::{ACCT}:group/Humans",
                      "GroupPolicyList": [{{"PolicyName": "RequireMFA", "PolicyDocument": {MFA_DOC}}}]}}]}}"#
            ),
        )]);
        let added = policy(10, "AddUserToGroup", |e| {
            e.target_user = Some("erin".into());
            e.group_name = Some("Humans".into());
        });
        let (book, _) = PolicyBook::build_seeded(std::slice::from_ref(&added), &snap, 0, ACCT);
        assert_eq!(book.changes[0].effect, ChangeEffect::Adds);
        let logs_only = PolicyBook::build(&[added]);
        assert!(matches!(
            logs_only.changes[0].effect,
            ChangeEffect::NoRequirement | ChangeEffect::Unknown(_)
        ));
    }
}
