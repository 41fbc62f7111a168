//! P7 — the device check, with the IAM snapshot (`--iam-snapshot`).
//!
//! ## Runbook step
//! > 7. Retrieve the IAM User `<user-name>` MFA device serial number or virtual MFA device ARN
//! > and verify device status, checking if device is synchronized.
//!
//! (and the device half of step 2: "inspect its MFA device configuration, MFA device status,
//! and MFA-enabled status, verifying MFA device is active").
//!
//! ## What it checks
//! The user's devices in `list-virtual-mfa-devices` and `list-mfa-devices` (serial, type,
//! enable date), their state at T0 replayed over the logs, when the logs last show each in use,
//! and where the snapshot and the logs disagree.
//!
//! ## Verdicts
//! confirmed: a device is registered and enabled (the user has one to use). ruled_out: the
//! listings show every device of the user and there is none. inconclusive: the listings given
//! cannot show every device of the user. not_evaluable: no device listing, or not an IAM user.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, RuleId, RuleMeta, Status};
use crate::event::{Millis, format_millis};
use crate::index::{Index, Pid, SerialKey};

pub const META: RuleMeta = RuleMeta {
    id: RuleId::P7,
    title: "Device check (IAM snapshot)",
    runbook_step: "Playbook 7",
    checks: "the user's devices in list-virtual-mfa-devices and list-mfa-devices: registered, enabled, state at T0, last use in the logs, contradictions with the logs",
    next_step: "With no device registered, have the user enable one; with one registered, check it on the user's side (clock, battery, the right account entry).",
};

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub devices: Vec<Device>,
    pub contradictions: Vec<String>,
    pub snapshot_time: String,
    pub snapshot_time_from: &'static str,
    pub replayed_to_t0: bool,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub serial: String,
    pub kind: &'static str,
    pub enabled: Option<String>,
    pub state_at_t0: &'static str,
    pub last_used_in_logs: Option<String>,
}

pub fn finding(ix: &Index, p: Pid, t0: Option<Millis>, until: Millis) -> Finding {
    let (principal, v) = match super::snapshot_review(ix, p, &META, "Not an IAM user: it has no IAM MFA devices.") {
        Ok(x) => x,
        Err(f) => return *f,
    };
    let t = t0.unwrap_or(until);
    let mut m = Metrics {
        snapshot_time: format_millis(v.time),
        snapshot_time_from: v.time_from,
        replayed_to_t0: v.replayed,
        warnings: v.snap.warnings.clone(),
        ..Metrics::default()
    };
    let mut ev = Vec::new();
    for d in v.devices_of(&principal.account, &principal.name) {
        let key = SerialKey {
            account: d.account.clone().unwrap_or_else(|| principal.account.clone()),
            serial: d.serial.clone(),
        };
        let last_use = ix.devices.uses(&key).filter(|(tm, _)| *tm <= until).last();
        if let Some((_, i)) = last_use {
            ev.push(Evidence::of(
                ix,
                i,
                format!("last use of {} in the logs read", d.serial),
            ));
        }
        ev.push(Evidence::snapshot(
            ix,
            Some(principal.name.clone()),
            Some(d.serial.clone()),
            format!(
                "{} device, enabled {}, listed in {}",
                d.kind.as_str(),
                d.enable_date.map_or("(date not given)".to_owned(), format_millis),
                d.seen_in.join(" and ")
            ),
        ));
        m.devices.push(Device {
            serial: d.serial.clone(),
            kind: d.kind.as_str(),
            enabled: d.enable_date.map(format_millis),
            state_at_t0: ix.devices.state_at(&key, t).0.as_str(),
            last_used_in_logs: last_use.map(|(tm, _)| format_millis(tm)),
        });
    }
    let serials: Vec<&str> = m.devices.iter().map(|d| d.serial.as_str()).collect();
    let lower = principal.name.to_ascii_lowercase();
    m.contradictions = v
        .contradictions
        .iter()
        .filter(|c| serials.iter().any(|s| c.contains(s)) || c.to_ascii_lowercase().contains(&format!("user {lower} ")))
        .cloned()
        .collect();
    let listings = v.snap.has_virtual_devices || !v.snap.mfa_device_lists.is_empty();
    let complete = v.lists_all_devices_of(&principal.account, &principal.name);
    let contradicts = if m.contradictions.is_empty() {
        String::new()
    } else {
        format!(" The snapshot and the logs disagree: {}.", m.contradictions.join("; "))
    };
    let (status, summary) = if let Some(other) = &v.other_accounts {
        (Status::NotEvaluable, format!("Not used: {other}."))
    } else if !listings {
        (
            Status::NotEvaluable,
            "The IAM snapshot has no device listing (list-virtual-mfa-devices, list-mfa-devices).".to_owned(),
        )
    } else if !m.devices.is_empty() {
        let list: Vec<String> = m
            .devices
            .iter()
            .map(|d| {
                format!(
                    "{} ({}, enabled {}, {} at T0{})",
                    d.serial,
                    d.kind,
                    d.enabled.as_deref().unwrap_or("?"),
                    d.state_at_t0,
                    d.last_used_in_logs
                        .as_deref()
                        .map_or(String::new(), |u| format!(", last used {u}"))
                )
            })
            .collect();
        (
            Status::Confirmed,
            format!(
                "{} has {} registered device(s) as of {}: {}.{contradicts}",
                principal.name,
                m.devices.len(),
                m.snapshot_time,
                list.join("; ")
            ),
        )
    } else if complete {
        (
            Status::RuledOut,
            format!(
                "No MFA device is registered to {} as of {} (list-virtual-mfa-devices and list-mfa-devices).{contradicts}",
                principal.name, m.snapshot_time
            ),
        )
    } else {
        (
            Status::Inconclusive,
            format!(
                "No device of {} in the listings given, but they cannot show every device of the user: list-virtual-mfa-devices shows only virtual devices; give `aws iam list-mfa-devices --user-name {}` too.{contradicts}",
                principal.name, principal.name
            ),
        )
    };
    Finding::new(&META, status, summary)
        .with_evidence(ev)
        .with_metrics(M::P7(m))
}
