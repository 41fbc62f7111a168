//! Device state per serial (DESIGN §6 D3), reconstructed from lifecycle
//! events (created → enabled → deactivated → deleted, resync) and from use: a
//! successful MFA sign-in or STS call names a device that was active then.
//! A user may hold up to 8 devices, so everything is per serial.

use std::collections::BTreeMap;

use crate::parse::{EventClass, EventRow};
use crate::time::Millis;

use super::context::same_user;

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
            DevState::Unknown => "unknown",
        }
    }
    pub fn removed(self) -> bool {
        matches!(self, DevState::Deactivated | DevState::Deleted)
    }
}

/// The device name of a virtual MFA serial (`arn:aws:iam::ACCT:mfa/[path/]NAME`).
pub fn virtual_device_name(serial: &str) -> Option<&str> {
    let (_, rest) = serial.split_once(":mfa/")?;
    rest.rsplit('/').next().filter(|n| !n.is_empty())
}

#[derive(Debug, Default)]
struct History<'a> {
    owner: Option<String>,
    /// Successful lifecycle events, in time order.
    lifecycle: Vec<&'a EventRow>,
    /// Successful MFA uses, in time order.
    uses: Vec<&'a EventRow>,
}

/// Every serial seen in a pass window.
#[derive(Debug, Default)]
pub struct DeviceBook<'a> {
    serials: BTreeMap<String, History<'a>>,
}

impl<'a> DeviceBook<'a> {
    pub fn build(events: &[&'a EventRow]) -> DeviceBook<'a> {
        let mut book = DeviceBook::default();
        for e in events {
            let Some(serial) = e.mfa_serial.as_deref() else {
                continue;
            };
            if e.class.is_device() && e.succeeded() {
                let h = book.serials.entry(serial.to_string()).or_default();
                if let Some(u) = &e.target_user {
                    h.owner.get_or_insert_with(|| u.clone());
                }
                h.lifecycle.push(e);
            } else if e.class == EventClass::MfaSuccess {
                let h = book.serials.entry(serial.to_string()).or_default();
                if let Some(u) = &e.user_name {
                    h.owner.get_or_insert_with(|| u.clone());
                }
                h.uses.push(e);
            }
        }
        book
    }

    /// Serials the data ties to `user`: by lifecycle userName or by use; a
    /// virtual device nobody is tied to counts as the user's when its name is
    /// the user's (`arn:aws:iam::…:mfa/[path/]alice`, the usual convention), so
    /// a DeleteVirtualMFADevice alone still names whose device went.
    pub fn serials_of(&self, user: &str) -> Vec<&str> {
        self.serials
            .iter()
            .filter(|(s, h)| match h.owner.as_deref() {
                Some(o) => same_user(o, user),
                None => virtual_device_name(s).is_some_and(|n| same_user(n, user)),
            })
            .map(|(s, _)| s.as_str())
            .collect()
    }

    pub fn owner(&self, serial: &str) -> Option<&str> {
        self.serials.get(serial).and_then(|h| h.owner.as_deref())
    }

    pub fn lifecycle(&self, serial: &str) -> &[&'a EventRow] {
        self.serials.get(serial).map(|h| h.lifecycle.as_slice()).unwrap_or(&[])
    }

    pub fn uses(&self, serial: &str) -> &[&'a EventRow] {
        self.serials.get(serial).map(|h| h.uses.as_slice()).unwrap_or(&[])
    }

    /// The state of `serial` at `t`, with the event that shows it.
    pub fn state_at(&self, serial: &str, t: Millis) -> (DevState, Option<&'a EventRow>) {
        let Some(h) = self.serials.get(serial) else {
            return (DevState::Unknown, None);
        };
        let last_life = h.lifecycle.iter().rev().find(|e| e.event_time <= t).copied();
        let last_use = h.uses.iter().rev().find(|e| e.event_time <= t).copied();
        let from_life = last_life.map(|e| {
            let s = match e.class {
                EventClass::DeviceEnabled | EventClass::DeviceResynced => DevState::Active,
                EventClass::DeviceDeactivated => DevState::Deactivated,
                EventClass::DeviceDeleted => DevState::Deleted,
                _ => DevState::Created,
            };
            (s, e)
        });
        match (from_life, last_use) {
            // A successful use after the last lifecycle event: active then, whatever we missed.
            (Some((s, le)), Some(u)) if u.event_time > le.event_time && s != DevState::Active => {
                (DevState::Active, Some(u))
            }
            (Some((s, le)), _) => (s, Some(le)),
            (None, Some(u)) => (DevState::Active, Some(u)),
            (None, None) => {
                // Nothing before t: the next event tells. A use, or a deactivation/deletion
                // (you only remove what was there), before any enable means it was active at t.
                let next_life = h.lifecycle.iter().find(|e| e.event_time > t).copied();
                let next_use = h.uses.iter().find(|e| e.event_time > t).copied();
                match (next_life, next_use) {
                    (Some(l), Some(u)) if u.event_time < l.event_time => (DevState::Active, Some(u)),
                    (Some(l), _) if matches!(l.class, EventClass::DeviceDeactivated | EventClass::DeviceResynced) => {
                        (DevState::Active, Some(l))
                    }
                    (None, Some(u)) => (DevState::Active, Some(u)),
                    _ => (DevState::Unknown, None),
                }
            }
        }
    }

    /// The user's serials that are active at `t`.
    pub fn active_of(&self, user: &str, t: Millis) -> Vec<(&str, Option<&'a EventRow>)> {
        self.serials_of(user)
            .into_iter()
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
    use crate::parse::Outcome;
    use crate::rules::context::tests::ev;

    const M: i64 = 60_000;

    #[test]
    fn lifecycle_and_use() {
        let a = "arn:aws:iam::1:mfa/alice";
        let b = "GAHT12345678";
        let events = [
            ev(10, EventClass::DeviceEnabled, Some("ops"), Some("alice"), Some(a)),
            ev(20, EventClass::MfaSuccess, Some("alice"), None, Some(b)),
            ev(30, EventClass::DeviceDeactivated, Some("ops"), Some("alice"), Some(a)),
            ev(31, EventClass::DeviceDeleted, Some("ops"), None, Some(a)),
            ev(40, EventClass::MfaFailure, Some("alice"), None, Some(a)),
        ];
        let refs: Vec<&EventRow> = events.iter().collect();
        let book = DeviceBook::build(&refs);
        assert_eq!(book.serials_of("alice"), vec![b, a]);
        assert_eq!(book.state_at(a, 5 * M).0, DevState::Unknown);
        assert_eq!(book.state_at(a, 15 * M).0, DevState::Active);
        assert_eq!(book.state_at(a, 30 * M).0, DevState::Deactivated);
        assert_eq!(book.state_at(a, 35 * M).0, DevState::Deleted);
        // b: seen in use at 20, so active at 20 and later; before 20 the later use tells.
        assert_eq!(book.state_at(b, 35 * M).0, DevState::Active);
        assert_eq!(book.state_at(b, M).0, DevState::Active);
        assert_eq!(book.active_of("alice", 35 * M).len(), 1);
        assert_eq!(book.state_at("unknown-serial", 35 * M).0, DevState::Unknown);
        // A deletion that names only the serial: tied to the user by the device name.
        let lone = [ev(
            5,
            EventClass::DeviceDeleted,
            Some("ops"),
            None,
            Some("arn:aws:iam::1:mfa/team/Dora"),
        )];
        let refs: Vec<&EventRow> = lone.iter().collect();
        let book = DeviceBook::build(&refs);
        assert_eq!(book.serials_of("dora"), vec!["arn:aws:iam::1:mfa/team/Dora"]);
        assert!(book.serials_of("alice").is_empty());
        assert_eq!(virtual_device_name("GAHT12345678"), None);
    }

    #[test]
    fn removal_implies_it_was_there_and_failed_calls_do_not_count() {
        let a = "arn:aws:iam::1:mfa/erin";
        let mut failed = ev(5, EventClass::DeviceEnabled, Some("erin"), Some("erin"), Some(a));
        failed.outcome = Outcome::Failure;
        let events = [
            failed,
            ev(50, EventClass::DeviceDeactivated, Some("ops"), Some("erin"), Some(a)),
        ];
        let refs: Vec<&EventRow> = events.iter().collect();
        let book = DeviceBook::build(&refs);
        assert_eq!(book.lifecycle(a).len(), 1);
        assert_eq!(book.state_at(a, 10 * M).0, DevState::Active);
        assert_eq!(book.state_at(a, 60 * M).0, DevState::Deactivated);
    }
}
