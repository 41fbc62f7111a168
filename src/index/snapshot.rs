//! The IAM snapshot as the index holds it: its time, whether its state can be replayed back to
//! T0, and what it contradicts in the logs.

use crate::event::{HOUR, Millis, PrincipalKey, PrincipalKind, ROOT, format_millis};
use crate::snapshot::Snapshot;
use crate::time::format_duration;

use super::devices::{Listed, SerialKey};

/// How far after the last event read a snapshot's state is still replayed to T0: a change in a
/// stretch the logs do not cover would be invisible.
pub const MAX_GAP: Millis = 24 * HOUR;

/// The snapshot of a run, placed in time.
#[derive(Debug)]
pub struct SnapshotView {
    pub snap: Snapshot,
    /// The state it shows is the state at this time.
    pub time: Millis,
    /// Where that time comes from.
    pub time_from: &'static str,
    /// The newest event read.
    pub logs_end: Option<Millis>,
    /// Memberships, attachments, documents and the absence of devices are replayed back to T0
    /// (the logs cover the stretch up to the snapshot). Dated facts (a device's EnableDate) are
    /// used either way.
    pub replayed: bool,
    /// Why not, when not.
    pub not_replayed: Option<String>,
    pub contradictions: Vec<String>,
    /// The snapshot's accounts when none of them is in the logs.
    pub other_accounts: Option<String>,
    /// The account of entries that name none (the only one of the snapshot, else of the logs).
    pub default_account: String,
}

impl SnapshotView {
    pub fn new(
        snap: Snapshot,
        given: Option<Millis>,
        logs_end: Option<Millis>,
        log_accounts: &[String],
    ) -> SnapshotView {
        let (time, time_from) = match (given, snap.newest_date, logs_end) {
            (Some(t), _, _) => (t, "given (--snapshot-time)"),
            (None, Some(n), Some(e)) if n > e => (n, "the newest date in the snapshot"),
            (None, _, Some(e)) => (e, "assumed: collected with the archive, at the newest event read"),
            (None, Some(n), None) => (n, "the newest date in the snapshot"),
            (None, None, None) => (0, "unknown"),
        };
        let not_replayed = match logs_end {
            None => Some("no event was read".to_owned()),
            Some(e) if time > e + MAX_GAP => Some(format!(
                "the snapshot ({}) is {} after the newest event read ({}): a change in between would not show",
                format_millis(time),
                format_duration(time - e),
                format_millis(e)
            )),
            _ => None,
        };
        let mine = snap.accounts();
        let other_accounts = (!mine.is_empty()
            && !log_accounts.is_empty()
            && !mine.iter().any(|a| log_accounts.contains(a)))
        .then(|| {
            format!(
                "the IAM snapshot is of account(s) {}, the logs of {}: its facts do not apply",
                mine.iter().cloned().collect::<Vec<_>>().join(", "),
                log_accounts.join(", ")
            )
        });
        let default_account = match (mine.len(), log_accounts.len()) {
            (1, _) => mine.iter().next().cloned().unwrap_or_default(),
            (0, 1) => log_accounts[0].clone(),
            _ => String::new(),
        };
        SnapshotView {
            replayed: not_replayed.is_none() && other_accounts.is_none(),
            snap,
            time,
            time_from,
            logs_end,
            not_replayed,
            contradictions: Vec::new(),
            other_accounts,
            default_account,
        }
    }

    /// The devices the listings assign to the user of `account`.
    pub fn devices_of(&self, account: &str, name: &str) -> Vec<&crate::snapshot::Device> {
        self.snap.devices_of(account, name, &self.default_account)
    }

    /// Whether the listings show every device of the user of `account`.
    pub fn lists_all_devices_of(&self, account: &str, name: &str) -> bool {
        self.snap.lists_all_devices_of(account, name, &self.default_account)
    }

    /// The devices to add to the device book: dated ones always; undated or unassigned ones
    /// only when the state is replayed.
    pub fn listed_devices(&self) -> Vec<(SerialKey, Option<PrincipalKey>, Listed)> {
        let default_account = self.default_account.as_str();
        if self.other_accounts.is_some() {
            return Vec::new();
        }
        self.snap
            .devices
            .values()
            .filter(|d| self.replayed || (d.user.is_some() && d.enable_date.is_some()))
            .filter_map(|d| {
                // A bare hardware serial is placed by its user's account in the snapshot: a
                // snapshot of several accounts keeps its hardware tokens.
                let account = self.snap.device_account(d, default_account)?;
                let owner = d.user.as_ref().map(|u| PrincipalKey {
                    kind: if u == ROOT {
                        PrincipalKind::Root
                    } else {
                        PrincipalKind::IamUser
                    },
                    account: account.clone(),
                    name: u.clone(),
                });
                Some((
                    SerialKey {
                        account,
                        serial: d.serial.clone(),
                    },
                    owner,
                    Listed {
                        assigned: d.user.is_some(),
                        enable_date: d.enable_date,
                        seen_in: d.seen_in.join(" and "),
                    },
                ))
            })
            .collect()
    }
}
