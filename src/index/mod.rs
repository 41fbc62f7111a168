//! The index: built once per run over every kept event read (not only the
//! window of a question), then shared by every diagnosis of the run.
//!
//! It holds the sorted events, who each event is about (per principal and
//! per account), each principal's MFA attempts with the ones that are just
//! typing marked (`attempts`), the device book (state per serial, from
//! lifecycle and use), the policy book (who an MFA requirement reaches, and
//! what each policy change did, documents parsed once) and the account-wide
//! failure series (polars). Rules read it; nothing here knows about rules.

pub mod devices;
pub mod episode;
pub mod plan;
pub mod policies;
pub mod series;
pub mod signals;
pub mod snapshot;

use std::collections::{BTreeMap, HashMap};

use crate::event::{EventClass, EventRow, Millis, Principal, PrincipalKey, PrincipalKind};
pub use devices::{DevState, DeviceBook, SerialKey};
pub use policies::PolicyBook;
pub use series::FailureSeries;
pub use signals::{Channel, RESOLVE_WITHIN, RUN_GAP, SignalKind, TYPO_RUN};
pub use snapshot::SnapshotView;

/// What `--user NAME` resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    One(Pid),
    /// No principal of that name in the data read.
    Absent,
    /// Users of that name with failure signals in several accounts: (account, signals).
    Ambiguous(Vec<(String, usize)>),
}

/// Position of an event in `Index::events`.
pub type Ev = u32;
/// A principal of this run (position in `Index::principals`).
pub type Pid = u32;

/// Everything a run read, indexed for the rules.
pub struct Index {
    /// Every kept event, sorted by (time, event id, source object).
    pub events: Vec<EventRow>,
    principals: Vec<Principal>,
    ids: HashMap<PrincipalKey, Pid>,
    /// The caller of each event, when it is a principal.
    actor: Vec<Option<Pid>>,
    /// Events about each principal: as the caller, as the IAM user acted on, or naming one of
    /// its MFA serials. Ascending.
    about: Vec<Vec<Ev>>,
    /// Failed MFA attempts (certain or ambiguous) that are typing: a short run resolved by a
    /// success on the same channel within minutes.
    pub typo: Vec<bool>,
    /// What each event is as a signal of its caller (DESIGN §6.0), if it is one.
    signal: Vec<Option<SignalKind>>,
    /// Per account: attempt failures that are not typing of IAM users and root, ascending
    /// (the other users D5 compares with).
    by_account: BTreeMap<String, Vec<Ev>>,
    /// Every signal of every principal, ascending.
    all_signals: Vec<Ev>,
    pub devices: DeviceBook,
    pub policies: PolicyBook,
    /// Built on first use: only D5 reads it, and `timeline` runs no rule.
    series: std::sync::OnceLock<FailureSeries>,
    /// The IAM snapshot given with the logs (`--iam-snapshot`).
    pub snapshot: Option<SnapshotView>,
}

impl Index {
    /// Builds the index over `events` (sorted by the frame).
    pub fn build(events: Vec<EventRow>) -> Index {
        Index::build_with(events, None, None)
    }

    /// Builds the index over `events` and the IAM snapshot, if any (its time given or not).
    pub fn build_with(
        events: Vec<EventRow>,
        snapshot: Option<crate::snapshot::Snapshot>,
        snapshot_time: Option<Millis>,
    ) -> Index {
        debug_assert!(events.windows(2).all(|w| w[0].event_time <= w[1].event_time));
        let mut devices = DeviceBook::build(&events);
        let mut view = None;
        let policies = match snapshot {
            Some(s) => {
                // The logs' accounts: only a snapshot needs them (to place and check it).
                let mut log_accounts: Vec<String> =
                    events.iter().filter_map(|e| e.account().map(str::to_owned)).collect();
                log_accounts.sort();
                log_accounts.dedup();
                let v = view.insert(SnapshotView::new(
                    s,
                    snapshot_time,
                    events.last().map(|e| e.event_time),
                    &log_accounts,
                ));
                let default_account = v.default_account.clone();
                let mut c = devices.add_listed(v.listed_devices(), v.time);
                let policies = if v.replayed {
                    let (book, pc) = PolicyBook::build_seeded(&events, &v.snap, v.time, &default_account);
                    c.extend(pc);
                    book
                } else {
                    PolicyBook::build(&events)
                };
                v.contradictions = c;
                policies
            }
            None => PolicyBook::build(&events),
        };
        let mut principals: Vec<Principal> = Vec::new();
        let mut ids: HashMap<PrincipalKey, Pid> = HashMap::new();
        let mut about: Vec<Vec<Ev>> = Vec::new();
        let mut actor: Vec<Option<Pid>> = Vec::with_capacity(events.len());
        let mut intern = |p: Principal, about: &mut Vec<Vec<Ev>>| -> Pid {
            let k = p.key();
            *ids.entry(k).or_insert_with(|| {
                principals.push(p);
                about.push(Vec::new());
                (principals.len() - 1) as Pid
            })
        };
        for (i, e) in events.iter().enumerate() {
            let i = i as Ev;
            let a = e.actor().map(|p| intern(p, &mut about));
            actor.push(a);
            let mut mine: Vec<Pid> = a.into_iter().collect();
            if let Some(s) = e.subject() {
                mine.push(intern(s, &mut about));
            }
            // DeleteVirtualMFADevice names only the serial: it is about the device's owner.
            if let Some(owner) = e
                .mfa_serial
                .as_deref()
                .filter(|_| e.class.is_device())
                .and_then(|s| devices.owner(&SerialKey::of(e, s)))
            {
                let p = Principal {
                    kind: owner.kind,
                    account: owner.account.clone(),
                    name: owner.name.clone(),
                };
                mine.push(intern(p, &mut about));
            }
            mine.sort_unstable();
            mine.dedup();
            for p in mine {
                about[p as usize].push(i);
            }
        }
        let typo = signals::mark_typos(&events, &actor, &about);
        let signal: Vec<Option<SignalKind>> = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let p = actor[i].map(|p| &principals[p as usize])?;
                signal_kind(e, typo[i], p, &policies)
            })
            .collect();
        let all_signals: Vec<Ev> = (0..events.len() as Ev)
            .filter(|&i| signal[i as usize].is_some())
            .collect();
        let mut by_account: BTreeMap<String, Vec<Ev>> = BTreeMap::new();
        for (i, s) in signal.iter().enumerate() {
            if let (Some(s), Some(p)) = (s, actor[i])
                && s.is_attempt()
            {
                let p = &principals[p as usize];
                if p.kind.has_iam_devices() {
                    by_account.entry(p.account.clone()).or_default().push(i as Ev);
                }
            }
        }
        Index {
            events,
            principals,
            ids,
            actor,
            about,
            typo,
            signal,
            by_account,
            all_signals,
            devices,
            policies,
            series: std::sync::OnceLock::new(),
            snapshot: view,
        }
    }

    /// Distinct principals attempting and failing MFA per account and hour, and each account's
    /// usual level (for D5).
    pub fn series(&self) -> &FailureSeries {
        self.series
            .get_or_init(|| FailureSeries::build(&self.events, &self.signal, &self.actor, &self.principals))
    }

    pub fn event(&self, i: Ev) -> &EventRow {
        &self.events[i as usize]
    }

    pub fn principal(&self, p: Pid) -> &Principal {
        &self.principals[p as usize]
    }

    pub fn id(&self, k: &PrincipalKey) -> Option<Pid> {
        self.ids.get(k).copied()
    }

    /// The caller of event `i`, when it is a principal.
    pub fn actor(&self, i: Ev) -> Option<Pid> {
        self.actor[i as usize]
    }

    /// Every principal seen, with its id.
    pub fn principals(&self) -> impl Iterator<Item = (Pid, &Principal)> {
        self.principals.iter().enumerate().map(|(i, p)| (i as Pid, p))
    }

    /// The principal's events (ascending).
    pub fn about(&self, p: Pid) -> &[Ev] {
        &self.about[p as usize]
    }

    /// The principal's events between `since` and `until` (inclusive).
    pub fn about_between(&self, p: Pid, since: Millis, until: Millis) -> &[Ev] {
        let all = self.about(p);
        let lo = all.partition_point(|&i| self.event(i).event_time < since);
        let hi = all.partition_point(|&i| self.event(i).event_time <= until);
        &all[lo..hi.max(lo)]
    }

    /// Every principal's signals between `since` and `until`.
    pub fn signals_between(&self, since: Millis, until: Millis) -> &[Ev] {
        let all = &self.all_signals;
        let lo = all.partition_point(|&i| self.event(i).event_time < since);
        let hi = all.partition_point(|&i| self.event(i).event_time <= until);
        &all[lo..hi.max(lo)]
    }

    /// Attempt failures (not typing) of the account's IAM users and root between `since` and
    /// `until`.
    pub fn account_signals(&self, account: &str, since: Millis, until: Millis) -> &[Ev] {
        let Some(all) = self.by_account.get(account) else {
            return &[];
        };
        let lo = all.partition_point(|&i| self.event(i).event_time < since);
        let hi = all.partition_point(|&i| self.event(i).event_time <= until);
        &all[lo..hi.max(lo)]
    }

    /// Accounts with attempt failures that are not typing.
    pub fn accounts(&self) -> impl Iterator<Item = &str> {
        self.by_account.keys().map(String::as_str)
    }

    /// Principals of any kind whose name matches `name` (case-insensitively); for role
    /// sessions, the role name matches too.
    pub fn named(&self, name: &str) -> Vec<Pid> {
        let n = name.to_ascii_lowercase();
        self.principals()
            .filter(|(_, p)| {
                let k = p.name.to_ascii_lowercase();
                k == n || (p.kind == PrincipalKind::RoleSession && k.split('/').next() == Some(n.as_str()))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The principals `NAME` means for a listing (`timeline`): the IAM users and root of that
    /// name in `accounts` (all when empty); only when there is none, the other principals of
    /// that name (a role session, an Identity Center user).
    pub fn principals_named(&self, name: &str, accounts: &[String]) -> Vec<Pid> {
        let in_scope: Vec<Pid> = self
            .named(name)
            .into_iter()
            .filter(|&p| accounts.is_empty() || accounts.contains(&self.principal(p).account))
            .collect();
        let iam: Vec<Pid> = in_scope
            .iter()
            .copied()
            .filter(|&p| self.principal(p).kind.has_iam_devices())
            .collect();
        if iam.is_empty() { in_scope } else { iam }
    }

    /// Adds a principal the data never mentions (a user asked about by name), so that a
    /// diagnosis can say so.
    pub fn ensure(&mut self, p: Principal) -> Pid {
        let k = p.key();
        if let Some(&id) = self.ids.get(&k) {
            return id;
        }
        self.principals.push(p);
        self.about.push(Vec::new());
        let id = (self.principals.len() - 1) as Pid;
        self.ids.insert(k, id);
        id
    }

    /// Signals the principal made; with `typos`, its typing failures too.
    pub fn signal_count(&self, p: Pid, typos: bool) -> usize {
        self.about(p)
            .iter()
            .filter(|&&i| self.actor(i) == Some(p))
            .filter(|&&i| self.signal(i).is_some() || (typos && self.typo[i as usize]))
            .count()
    }

    /// The principal `--user NAME` means. A user name is unique only within an account: when
    /// several accounts have a user of that name, the one with failure signals is meant; when
    /// several have them, the caller must choose (`Ambiguous`). IAM users and root come first;
    /// an Identity Center user or a role of that name is returned when no IAM user matches, so
    /// that the diagnosis can say why the IAM rules do not apply.
    pub fn resolve_user(&self, name: &str, accounts: &[String]) -> Resolved {
        let cands: Vec<Pid> = self
            .named(name)
            .into_iter()
            .filter(|&p| accounts.is_empty() || accounts.iter().any(|a| *a == self.principal(p).account))
            .collect();
        let iam: Vec<Pid> = cands
            .iter()
            .copied()
            .filter(|&p| self.principal(p).kind.has_iam_devices())
            .collect();
        let pool = if iam.is_empty() { cands } else { iam };
        if pool.len() <= 1 {
            return pool.first().map_or(Resolved::Absent, |&p| Resolved::One(p));
        }
        // Real trouble first (signals); typing only if nobody has any.
        let counted = |typos: bool| -> Vec<(Pid, usize)> {
            pool.iter()
                .map(|&p| (p, self.signal_count(p, typos)))
                .filter(|(_, n)| *n > 0)
                .collect()
        };
        let real = counted(false);
        let with_signals = if real.is_empty() { counted(true) } else { real };
        match with_signals.as_slice() {
            [(p, _)] => Resolved::One(*p),
            [] => Resolved::One(pool[0]),
            many => Resolved::Ambiguous(
                many.iter()
                    .map(|&(p, n)| (self.principal(p).account.clone(), n))
                    .collect(),
            ),
        }
    }

    /// What event `i` is as a signal of its caller (DESIGN §6.0), if it is one.
    pub fn signal(&self, i: Ev) -> Option<SignalKind> {
        self.signal[i as usize]
    }

    /// Whether event `i` is an attempt failure of its caller that is not typing.
    pub fn is_real_failure(&self, i: Ev) -> bool {
        self.signal(i).is_some_and(SignalKind::is_attempt)
    }

    /// Whether event `i` is a denial signal of its caller (MFA-required, trust policy, stale MFA).
    pub fn is_denial(&self, i: Ev) -> bool {
        self.signal(i).is_some_and(|s| !s.is_attempt())
    }

    /// Whether event `i` is an MFA-required denial of its caller: an identity-policy deny
    /// without MFA, or a trust-policy denial where the trust policy then required MFA.
    pub fn is_mfa_denial(&self, i: Ev) -> bool {
        matches!(self.signal(i), Some(SignalKind::Denial | SignalKind::TrustDenial))
    }

    /// The principal's own signals up to `until` (ascending).
    pub fn signals_of(&self, p: Pid, until: Millis) -> Vec<Ev> {
        self.own_until(p, until).filter(|&i| self.signal(i).is_some()).collect()
    }

    /// The principal's own MFA successes up to `until` (ascending).
    pub fn successes_of(&self, p: Pid, until: Millis) -> Vec<Ev> {
        self.own_until(p, until)
            .filter(|&i| self.event(i).class == EventClass::MfaSuccess)
            .collect()
    }

    fn own_until(&self, p: Pid, until: Millis) -> impl Iterator<Item = Ev> + '_ {
        let all = self.about(p);
        let hi = all.partition_point(|&i| self.event(i).event_time <= until);
        all[..hi].iter().copied().filter(move |&i| self.actor(i) == Some(p))
    }

    /// The default `--until` (DESIGN §6.0): the principal's latest signal; where it has none,
    /// its latest typo (`true`: from typos).
    pub fn default_until(&self, p: Pid) -> Option<(Millis, bool)> {
        let own = || {
            self.about(p)
                .iter()
                .rev()
                .copied()
                .filter(|&i| self.actor(i) == Some(p))
        };
        own()
            .find(|&i| self.signal(i).is_some())
            .map(|i| (self.event(i).event_time, false))
            .or_else(|| {
                own()
                    .find(|&i| self.typo[i as usize])
                    .map(|i| (self.event(i).event_time, true))
            })
    }

    /// The principal's failure episode ending at its latest signal up to `until` (DESIGN §6.0).
    pub fn episode(&self, p: Pid, until: Millis) -> Option<Episode> {
        let signals = self.signals_of(p, until);
        let successes = self.successes_of(p, until);
        let time = |v: &[Ev]| v.iter().map(|&i| self.event(i).event_time).collect::<Vec<_>>();
        let (st, mt) = (time(&signals), time(&successes));
        let b = episode::bounds(&st, &mt)?;
        let t0 = signals[b.first];
        let data_start = self.events.first().map_or(i64::MIN, |e| e.event_time);
        Some(Episode {
            t0,
            last: signals[b.last],
            signals: signals[b.first..=b.last].to_vec(),
            closed_by: b.closed_by.map(|k| successes[k]),
            start_known: episode::start_known(b, st[b.first], data_start),
            earlier: episode::earlier(&st, &mt, b)
                .into_iter()
                .map(|e| EarlierEpisode {
                    first: signals[e.first],
                    last: signals[e.last],
                    signals: e.last - e.first + 1,
                })
                .collect(),
        })
    }
}

/// A principal's current failure episode (DESIGN §6.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The first signal: T0.
    pub t0: Ev,
    /// The latest signal up to `until`.
    pub last: Ev,
    /// Every signal of the episode, ascending.
    pub signals: Vec<Ev>,
    /// The MFA success that closed the earlier trouble, when the data shows one.
    pub closed_by: Option<Ev>,
    /// False when the episode runs back to the start of the data read: it may begin earlier.
    pub start_known: bool,
    /// Earlier episodes in the data read, newest first.
    pub earlier: Vec<EarlierEpisode>,
}

/// An earlier episode, shown as history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlierEpisode {
    pub first: Ev,
    pub last: Ev,
    pub signals: usize,
}

/// What event `e` of principal `p` is as a signal (DESIGN §6.0).
fn signal_kind(e: &EventRow, typo: bool, p: &Principal, policies: &PolicyBook) -> Option<SignalKind> {
    match e.class {
        EventClass::MfaFailure if !typo => Some(SignalKind::Failure),
        EventClass::ConsoleFailureAmbiguous if !typo => Some(SignalKind::AmbiguousFailure),
        EventClass::MfaRequiredDenied if p.kind.has_iam_devices() => Some(SignalKind::Denial),
        EventClass::AssumeRoleDenied if policies.trust_denial_counts(e).is_some() => Some(SignalKind::TrustDenial),
        EventClass::ExplicitDenyWithMfa
            if p.kind.has_iam_devices()
                && policies
                    .requirements_at(&p.key(), e.event_time)
                    .iter()
                    .any(|r| policies.docs[r.doc].age_limited()) =>
        {
            Some(SignalKind::StaleMfaDenial)
        }
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    pub use crate::event::tests::{ACCT, ev};

    use super::*;

    #[test]
    fn a_name_means_the_iam_users_of_that_name_not_a_role_named_like_them() {
        let mut role = ev(1, EventClass::MfaRequiredDenied, None, None, None);
        role.identity_type = Some("AssumedRole".into());
        role.role_name = Some("alice".into());
        role.session_name = Some("s1".into());
        let mut other = ev(3, EventClass::MfaFailure, Some("alice"), None, None);
        other.account_id = Some("444455556666".into());
        other.recipient_account_id = Some("444455556666".into());
        let ix = Index::build(vec![
            role,
            ev(2, EventClass::MfaFailure, Some("alice"), None, None),
            other,
        ]);
        let kinds = |v: Vec<Pid>| v.iter().map(|&p| ix.principal(p).key()).collect::<Vec<_>>();
        let all = kinds(ix.principals_named("Alice", &[]));
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|k| k.kind == PrincipalKind::IamUser));
        let one = kinds(ix.principals_named("alice", &["444455556666".into()]));
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].account, "444455556666");
        // No principal of that name in that account: nothing (never another account's).
        assert_eq!(
            ix.principals_named("alice", &["999999999999".into()]),
            Vec::<Pid>::new()
        );
    }
}
