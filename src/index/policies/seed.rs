//! The IAM snapshot's state replayed back over the logs: what the logs leave
//! alone up to the snapshot's time held from the start of the data read; what
//! they changed is theirs, and where the two disagree it is said.

use std::collections::{BTreeSet, HashMap};

use crate::event::{EventRow, Millis, lc};
use crate::policy::parse_policy;
use crate::snapshot::Snapshot;

use super::timeline::Timeline;
use super::{Doc, DocId, Name, PolicyBook};

impl PolicyBook {
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
}
