//! Device state per serial (DESIGN §6 D3), from every event read: lifecycle
//! (created → enabled → deactivated → deleted, resync) and use (a successful
//! MFA sign-in or STS call names a device that was active then). A user may
//! hold up to 8 devices, so everything is per serial; a serial belongs to an
//! account (hardware serials are not unique across accounts), and its owner
//! is a principal of that account.

use std::collections::BTreeMap;

use crate::event::{EventClass, EventRow, Millis, PrincipalKey};

use super::Ev;

/// What the data says about a serial at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevState {
    /// Enabled (or resynced), or seen in successful use.
    Active,
    /// Deactivated: no longer assigned to the user.
    Deactivated,
    /// Deleted (virtual device).
    Deleted,
    /// Created but not (yet) enabled.
    Created,
    /// Not assigned to anyone then: the IAM snapshot shows it enabled later, or unassigned.
    Absent,
    /// No event says anything about it.
    Unknown,
}

impl DevState {
    pub fn as_str(self) -> &'static str {
        match self {
            DevState::Active => "active",
            DevState::Deactivated => "deactivated",
            DevState::Deleted => "deleted",
            DevState::Created => "created_not_enabled",
            DevState::Absent => "not_assigned",
            DevState::Unknown => "unknown",
        }
    }
    pub fn removed(self) -> bool {
        matches!(self, DevState::Deactivated | DevState::Deleted)
    }
}

/// A serial within its account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SerialKey {
    pub account: String,
    pub serial: String,
}

impl SerialKey {
    /// The key of `serial` as named by event `e`: an ARN carries its account, a hardware
    /// serial belongs to the event's account.
    pub fn of(e: &EventRow, serial: &str) -> SerialKey {
        let account = crate::event::arn_account(serial)
            .or(e.account())
            .unwrap_or_default()
            .to_owned();
        SerialKey {
            account,
            serial: serial.to_owned(),
        }
    }
}

/// FIDO security keys and passkeys (`…:u2f/…`) have no clock: they cannot drift.
pub fn is_fido(serial: &str) -> bool {
    serial.contains(":u2f/")
}

#[derive(Debug, Default)]
struct History {
    owner: Option<PrincipalKey>,
    /// Successful lifecycle events, in time order.
    lifecycle: Vec<(Millis, Ev, EventClass)>,
    /// Successful MFA uses, in time order.
    uses: Vec<(Millis, Ev)>,
    /// What the IAM snapshot lists for the serial.
    listed: Option<Listed>,
}

/// A device as the IAM snapshot lists it, at the snapshot's time.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Assigned to its owner then (unassigned virtual devices are listed too).
    pub assigned: bool,
    pub enable_date: Option<Millis>,
    /// The listings that show it.
    pub seen_in: String,
}

/// Every serial seen in the data read (and in the IAM snapshot).
#[derive(Debug, Default)]
pub struct DeviceBook {
    serials: BTreeMap<SerialKey, History>,
    by_owner: BTreeMap<PrincipalKey, Vec<SerialKey>>,
    /// The snapshot's time, when one was given.
    snapshot_time: Option<Millis>,
}

impl DeviceBook {
    pub fn build(events: &[EventRow]) -> DeviceBook {
        let mut book = DeviceBook::default();
        for (i, e) in events.iter().enumerate() {
            let Some(serial) = e.mfa_serial.as_deref() else {
                continue;
            };
            let key = SerialKey::of(e, serial);
            if e.class.is_device() && e.succeeded() {
                let h = book.serials.entry(key).or_default();
                if let Some(u) = e.subject() {
                    h.owner.get_or_insert_with(|| u.key());
                }
                h.lifecycle.push((e.event_time, i as Ev, e.class));
            } else if e.class == EventClass::MfaSuccess {
                let owner = e.actor().filter(|a| a.kind.has_iam_devices());
                let Some(owner) = owner else { continue };
                let h = book.serials.entry(key).or_default();
                h.owner.get_or_insert_with(|| owner.key());
                h.uses.push((e.event_time, i as Ev));
            }
        }
        // Never by the device's name: since 2022 a virtual device may have any name, and a
        // hygiene job deleting an unassigned device named like a user says nothing of theirs.
        for (k, h) in &book.serials {
            if let Some(o) = &h.owner {
                book.by_owner.entry(o.clone()).or_default().push(k.clone());
            }
        }
        book
    }

    /// The serials the data ties to the principal (by lifecycle userName, or by its own successes).
    pub fn serials_of(&self, p: &PrincipalKey) -> &[SerialKey] {
        self.by_owner.get(p).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn owner(&self, s: &SerialKey) -> Option<&PrincipalKey> {
        self.serials.get(s).and_then(|h| h.owner.as_ref())
    }

    pub fn knows(&self, s: &SerialKey) -> bool {
        self.serials.contains_key(s)
    }

    /// Successful lifecycle events of the serial.
    pub fn lifecycle(&self, s: &SerialKey) -> impl Iterator<Item = (Millis, Ev, EventClass)> + '_ {
        self.serials
            .get(s)
            .into_iter()
            .flat_map(|h| h.lifecycle.iter().copied())
    }

    /// Successful uses of the serial.
    pub fn uses(&self, s: &SerialKey) -> impl Iterator<Item = (Millis, Ev)> + '_ {
        self.serials.get(s).into_iter().flat_map(|h| h.uses.iter().copied())
    }

    /// The state of the serial at `t`, with the event that shows it (None with a state other
    /// than `Unknown`: the IAM snapshot shows it; `listed_state_at` says how).
    pub fn state_at(&self, s: &SerialKey, t: Millis) -> (DevState, Option<Ev>) {
        match self.logged_state_at(s, t) {
            (DevState::Unknown, _) => match self.listed_state_at(s, t) {
                Some((st, _)) => (st, None),
                None => (DevState::Unknown, None),
            },
            known => known,
        }
    }

    /// The state at `t` from the IAM snapshot, replayed back from its time over the logged
    /// lifecycle, with the sentence that says why; None when the snapshot does not list the
    /// serial or the logs decide.
    pub fn listed_state_at(&self, s: &SerialKey, t: Millis) -> Option<(DevState, String)> {
        let h = self.serials.get(s)?;
        let l = h.listed.as_ref()?;
        let snap = self.snapshot_time?;
        // A lifecycle event between t and the snapshot: the logs tell (an enable after t means
        // it was not enabled at t).
        if let Some((_, _, class)) = h.lifecycle.iter().find(|e| e.0 > t && e.0 <= snap) {
            return matches!(class, EventClass::DeviceEnabled | EventClass::DeviceCreated).then(|| {
                (
                    DevState::Absent,
                    format!("{} is enabled after that in the logs", s.serial),
                )
            });
        }
        Some(match (l.assigned, l.enable_date) {
            (true, Some(e)) if e > t => (
                DevState::Absent,
                format!(
                    "{} lists {} enabled at {}, after that",
                    l.seen_in,
                    s.serial,
                    crate::event::format_millis(e)
                ),
            ),
            (true, Some(e)) => (
                DevState::Active,
                format!(
                    "{} lists {} enabled since {}, and no log event changes it before the snapshot",
                    l.seen_in,
                    s.serial,
                    crate::event::format_millis(e)
                ),
            ),
            (true, None) => (
                DevState::Active,
                format!(
                    "{} lists {} as assigned, and no log event changes it before the snapshot",
                    l.seen_in, s.serial
                ),
            ),
            (false, _) => (
                DevState::Absent,
                format!("{} lists {} as unassigned", l.seen_in, s.serial),
            ),
        })
    }

    /// Adds the IAM snapshot's devices (state at `time`); returns the contradictions with the
    /// logs (a device the logs removed before the snapshot, still listed as assigned).
    pub fn add_listed(&mut self, devices: Vec<(SerialKey, Option<PrincipalKey>, Listed)>, time: Millis) -> Vec<String> {
        self.snapshot_time = Some(time);
        let mut contradictions = Vec::new();
        for (key, owner, listed) in devices {
            let h = self.serials.entry(key.clone()).or_default();
            if let Some(o) = owner
                && h.owner.is_none()
            {
                self.by_owner.entry(o.clone()).or_default().push(key.clone());
                h.owner = Some(o);
            }
            let last = h.lifecycle.iter().rev().find(|e| e.0 <= time);
            if listed.assigned
                && let Some((t, _, class @ (EventClass::DeviceDeactivated | EventClass::DeviceDeleted))) = last
            {
                contradictions.push(format!(
                    "{} is {} in the logs at {} but {} lists it as assigned: a re-enable the logs miss, or the snapshot predates the removal",
                    key.serial,
                    if *class == EventClass::DeviceDeleted { "deleted" } else { "deactivated" },
                    crate::event::format_millis(*t),
                    listed.seen_in
                ));
            }
            h.listed = Some(listed);
        }
        contradictions
    }

    /// Whether the snapshot lists the serial.
    pub fn listed(&self, s: &SerialKey) -> Option<&Listed> {
        self.serials.get(s).and_then(|h| h.listed.as_ref())
    }

    fn logged_state_at(&self, s: &SerialKey, t: Millis) -> (DevState, Option<Ev>) {
        let Some(h) = self.serials.get(s) else {
            return (DevState::Unknown, None);
        };
        let last_life = h.lifecycle.iter().rev().find(|e| e.0 <= t).copied();
        let last_use = h.uses.iter().rev().find(|e| e.0 <= t).copied();
        let from_life = last_life.map(|(time, i, class)| {
            let st = match class {
                EventClass::DeviceEnabled | EventClass::DeviceResynced => DevState::Active,
                EventClass::DeviceDeactivated => DevState::Deactivated,
                EventClass::DeviceDeleted => DevState::Deleted,
                _ => DevState::Created,
            };
            (st, time, i)
        });
        match (from_life, last_use) {
            // A successful use after the last lifecycle event: active then, whatever we missed.
            (Some((st, lt, _)), Some((ut, ui))) if ut > lt && st != DevState::Active => (DevState::Active, Some(ui)),
            (Some((st, _, li)), _) => (st, Some(li)),
            (None, Some((_, ui))) => (DevState::Active, Some(ui)),
            (None, None) => {
                // Nothing before t: the next event tells. A use, or a deactivation or resync
                // (you only remove what was there) before any enable means it was active at t;
                // a creation or an enable means it was not assigned yet.
                let next_life = h.lifecycle.iter().find(|e| e.0 > t).copied();
                let next_use = h.uses.iter().find(|e| e.0 > t).copied();
                match (next_life, next_use) {
                    (Some((lt, _, _)), Some((ut, ui))) if ut < lt => (DevState::Active, Some(ui)),
                    (Some((_, li, EventClass::DeviceDeactivated | EventClass::DeviceResynced)), _) => {
                        (DevState::Active, Some(li))
                    }
                    (Some((_, li, EventClass::DeviceCreated | EventClass::DeviceEnabled)), _) => {
                        (DevState::Absent, Some(li))
                    }
                    (None, Some((_, ui))) => (DevState::Active, Some(ui)),
                    _ => (DevState::Unknown, None),
                }
            }
        }
    }

    /// The principal's serials that are active at `t`, with the event that shows it.
    pub fn active_of(&self, p: &PrincipalKey, t: Millis) -> Vec<(&SerialKey, Option<Ev>)> {
        self.serials_of(p)
            .iter()
            .filter_map(|s| match self.state_at(s, t) {
                (DevState::Active, e) => Some((s, e)),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Outcome, Principal, PrincipalKind, ROOT};
    use crate::index::tests::{ACCT, ev};

    const M: i64 = 60_000;

    fn user(n: &str) -> PrincipalKey {
        Principal::new(PrincipalKind::IamUser, ACCT, n).key()
    }
    fn key(s: &str) -> SerialKey {
        SerialKey {
            account: ACCT.into(),
            serial: s.into(),
        }
    }

    #[test]
    fn lifecycle_and_use() {
        let a = "arn:aws:iam::111122223333:mfa/alice";
        let b = "GAHT12345678";
        let events = [
            ev(10, EventClass::DeviceEnabled, Some("ops"), Some("alice"), Some(a)),
            ev(20, EventClass::MfaSuccess, Some("alice"), None, Some(b)),
            ev(30, EventClass::DeviceDeactivated, Some("ops"), Some("alice"), Some(a)),
            ev(31, EventClass::DeviceDeleted, Some("ops"), None, Some(a)),
            ev(40, EventClass::MfaFailure, Some("alice"), None, Some(a)),
        ];
        let book = DeviceBook::build(&events);
        assert_eq!(book.owner(&key(a)), Some(&user("alice")));
        assert_eq!(book.serials_of(&user("alice")), [key(b), key(a)]);
        // Before its enable the device was not assigned yet.
        assert_eq!(book.state_at(&key(a), 5 * M).0, DevState::Absent);
        assert_eq!(book.state_at(&key(a), 15 * M).0, DevState::Active);
        assert_eq!(book.state_at(&key(a), 30 * M).0, DevState::Deactivated);
        assert_eq!(book.state_at(&key(a), 35 * M).0, DevState::Deleted);
        // b: seen in use at 20, so active at 20 and later; before 20 the later use tells.
        assert_eq!(book.state_at(&key(b), 35 * M).0, DevState::Active);
        assert_eq!(book.state_at(&key(b), M).0, DevState::Active);
        assert_eq!(book.state_at(&key("unknown-serial"), 35 * M).0, DevState::Unknown);
        // A deletion that names only the serial of a device nobody enabled or used in the data:
        // not tied to the user whose name it carries (an orphan cleaned up by a hygiene job).
        let lone = [ev(
            5,
            EventClass::DeviceDeleted,
            Some("ops"),
            None,
            Some("arn:aws:iam::999988887777:mfa/team/Dora"),
        )];
        let book = DeviceBook::build(&lone);
        let dora = PrincipalKey {
            kind: PrincipalKind::IamUser,
            account: "999988887777".into(),
            name: "dora".into(),
        };
        assert!(book.serials_of(&dora).is_empty());
        let k = SerialKey {
            account: "999988887777".into(),
            serial: "arn:aws:iam::999988887777:mfa/team/Dora".into(),
        };
        assert!(book.knows(&k));
        assert_eq!(book.owner(&k), None);
        assert!(is_fido("arn:aws:iam::1:u2f/user/anaya/default-AAAA"));
    }

    #[test]
    fn hardware_serials_are_per_account() {
        let mut other = ev(20, EventClass::MfaSuccess, Some("alice"), None, Some("GAHT1"));
        other.account_id = Some("444455556666".into());
        other.recipient_account_id = Some("444455556666".into());
        let events = [
            ev(10, EventClass::MfaSuccess, Some("alice"), None, Some("GAHT1")),
            other,
        ];
        let book = DeviceBook::build(&events);
        assert_eq!(book.serials_of(&user("alice")).len(), 1);
        let sandbox = Principal::new(PrincipalKind::IamUser, "444455556666", "alice").key();
        assert_eq!(book.serials_of(&sandbox).len(), 1);
        assert_ne!(book.serials_of(&user("alice")), book.serials_of(&sandbox));
    }

    #[test]
    fn removal_implies_it_was_there_and_failed_calls_do_not_count() {
        let a = "arn:aws:iam::111122223333:mfa/erin";
        let mut failed = ev(5, EventClass::DeviceEnabled, Some("erin"), Some("erin"), Some(a));
        failed.outcome = Outcome::Failure;
        let events = [
            failed,
            ev(50, EventClass::DeviceDeactivated, Some("ops"), Some("erin"), Some(a)),
        ];
        let book = DeviceBook::build(&events);
        assert_eq!(book.lifecycle(&key(a)).count(), 1);
        assert_eq!(book.state_at(&key(a), 10 * M).0, DevState::Active);
        assert_eq!(book.state_at(&key(a), 60 * M).0, DevState::Deactivated);
    }

    #[test]
    fn root_devices_belong_to_root() {
        let s = "arn:aws:iam::111122223333:mfa/root-account-mfa-device";
        let mut enable = ev(1, EventClass::DeviceEnabled, None, Some(ROOT), Some(s));
        enable.identity_type = Some("Root".into());
        let book = DeviceBook::build(&[enable]);
        let root = Principal::new(PrincipalKind::Root, ACCT, ROOT).key();
        assert_eq!(book.serials_of(&root).len(), 1);
    }

    #[test]
    fn the_snapshot_tells_what_the_logs_do_not_and_the_logs_win() {
        let (a, b, c) = (
            "arn:aws:iam::111122223333:mfa/alice",
            "arn:aws:iam::111122223333:mfa/alice-new",
            "arn:aws:iam::111122223333:mfa/spare",
        );
        let deleted = "arn:aws:iam::111122223333:mfa/alice-old";
        let events = [
            ev(
                10,
                EventClass::DeviceDeactivated,
                Some("ops"),
                Some("alice"),
                Some(deleted),
            ),
            ev(50, EventClass::DeviceEnabled, Some("ops"), Some("alice"), Some(b)),
        ];
        let mut book = DeviceBook::build(&events);
        let listed = |assigned, enabled: Option<i64>| Listed {
            assigned,
            enable_date: enabled.map(|m| m * M),
            seen_in: "list-mfa-devices (x.json)".into(),
        };
        let owner = Some(user("alice"));
        let contradictions = book.add_listed(
            vec![
                (key(a), owner.clone(), listed(true, Some(-1000))),
                (key(b), owner.clone(), listed(true, Some(50))),
                (key(c), None, listed(false, None)),
                (key(deleted), owner, listed(true, Some(-2000))),
            ],
            100 * M,
        );
        // Enabled long before, untouched by the logs: active at T0, and the snapshot says why.
        assert_eq!(book.state_at(&key(a), 20 * M), (DevState::Active, None));
        assert!(
            book.listed_state_at(&key(a), 20 * M)
                .unwrap()
                .1
                .contains("enabled since")
        );
        // Enabled in the logs after T0: not assigned at T0; the logs decide after.
        assert_eq!(book.state_at(&key(b), 20 * M).0, DevState::Absent);
        assert_eq!(book.state_at(&key(b), 60 * M).0, DevState::Active);
        assert_eq!(book.state_at(&key(c), 20 * M).0, DevState::Absent);
        // The logs deactivated it before the snapshot, which still lists it: the logs decide,
        // and the disagreement is named.
        assert_eq!(book.state_at(&key(deleted), 20 * M).0, DevState::Deactivated);
        assert_eq!(contradictions.len(), 1);
        assert!(contradictions[0].contains("alice-old is deactivated in the logs"));
        assert_eq!(book.serials_of(&user("alice")).len(), 3);
    }
}
