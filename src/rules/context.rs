//! What every rule of a pass shares: the window's events, the user's failure
//! signals and baseline T0 (D1), device state (per serial), the replayed
//! policy state, and the failure scope (D5, which D4 also consults).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::d5_scope::{Scope, compute_scope};
use super::devices::DeviceBook;
use super::policies::PolicyBook;
use crate::parse::{EventClass, EventRow};
use crate::time::{Millis, format_millis};

/// IAM user names are unique case-insensitively.
pub fn same_user(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn by_user(e: &EventRow, user: &str) -> bool {
    e.user_name.as_deref().is_some_and(|u| same_user(u, user))
}

/// Latest MFA failure or MFA-required denial of `user` (else latest explicit
/// deny with MFA): the default `--until`.
pub fn latest_failure_signal(events: &[EventRow], user: &str) -> Option<Millis> {
    let latest = |c: &[EventClass]| {
        events
            .iter()
            .rev()
            .find(|e| c.contains(&e.class) && by_user(e, user))
            .map(|e| e.event_time)
    };
    latest(&[EventClass::MfaFailure, EventClass::MfaRequiredDenied])
        .or_else(|| latest(&[EventClass::ExplicitDenyWithMfa]))
}

pub struct Ctx<'a> {
    pub user: &'a str,
    pub since: Millis,
    pub until: Millis,
    pub extended: bool,
    /// Every event of the window (all users), time-sorted.
    pub win: Vec<&'a EventRow>,
    pub devices: DeviceBook<'a>,
    pub policies: PolicyBook<'a>,
    /// The user's `mfa_failure` events in the window.
    pub failures: Vec<&'a EventRow>,
    /// The user's `mfa_required_denied` events in the window.
    pub denials: Vec<&'a EventRow>,
    /// The user's `explicit_deny_with_mfa` events when a known MFA-age condition reaches them.
    pub stale_denials: Vec<&'a EventRow>,
    /// Baseline (D1): the first failure signal in the window.
    pub t0: Option<&'a EventRow>,
    pub scope: Scope,
}

impl<'a> Ctx<'a> {
    pub fn new(events: &'a [EventRow], user: &'a str, since: Millis, until: Millis, extended: bool) -> Ctx<'a> {
        let lo = events.partition_point(|e| e.event_time < since);
        let hi = events.partition_point(|e| e.event_time <= until);
        let win: Vec<&EventRow> = events[lo..hi].iter().collect();
        let devices = DeviceBook::build(&win);
        let policies = PolicyBook::build(&win);
        let of = |c: EventClass| -> Vec<&'a EventRow> {
            win.iter()
                .copied()
                .filter(|e| e.class == c && by_user(e, user))
                .collect()
        };
        let failures = of(EventClass::MfaFailure);
        let denials = of(EventClass::MfaRequiredDenied);
        let stale_denials = if policies.age_requirement_for(user) {
            of(EventClass::ExplicitDenyWithMfa)
        } else {
            Vec::new()
        };
        let t0 = failures.first().or(denials.first()).or(stale_denials.first()).copied();
        let scope = compute_scope(&win, user, &failures);
        Ctx {
            user,
            since,
            until,
            extended,
            win,
            devices,
            policies,
            failures,
            denials,
            stale_denials,
            t0,
            scope,
        }
    }

    pub fn t0_time(&self) -> Option<Millis> {
        self.t0.map(|e| e.event_time)
    }

    /// The user's events in the window of the given classes.
    pub fn mine(&self, classes: &[EventClass]) -> Vec<&'a EventRow> {
        self.win
            .iter()
            .copied()
            .filter(|e| classes.contains(&e.class) && by_user(e, self.user))
            .collect()
    }

    /// All failure signals (failures, denials, stale denials), time-sorted.
    pub fn signals(&self) -> Vec<&'a EventRow> {
        let mut v: Vec<&EventRow> = self
            .failures
            .iter()
            .chain(&self.denials)
            .chain(&self.stale_denials)
            .copied()
            .collect();
        v.sort_by_key(|e| e.event_time);
        v
    }

    pub fn window_json(&self) -> Value {
        json!({"since": format_millis(self.since), "until": format_millis(self.until)})
    }
}

/// The `baseline` block of the report (DESIGN §2).
pub fn baseline_json(ctx: &Ctx) -> Map<String, Value> {
    let mut m = Map::new();
    let sig = ctx.signals();
    let set = |f: &dyn Fn(&EventRow) -> Option<&str>| -> Vec<String> {
        sig.iter()
            .filter_map(|e| f(e))
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    m.insert(
        "first_failure".into(),
        ctx.t0.map(|e| format_millis(e.event_time)).into(),
    );
    m.insert("failures".into(), ctx.failures.len().into());
    m.insert("mfa_required_denials".into(), ctx.denials.len().into());
    m.insert("stale_mfa_denials".into(), ctx.stale_denials.len().into());
    m.insert("signal".into(), ctx.t0.map(|e| e.class.as_str()).into());
    m.insert(
        "last_failure".into(),
        sig.last().map(|e| format_millis(e.event_time)).into(),
    );
    m.insert("source_ips".into(), set(&|e| e.source_ip.as_deref()).into());
    m.insert("user_agents".into(), set(&|e| e.user_agent.as_deref()).into());
    m.insert("serials".into(), set(&|e| e.mfa_serial.as_deref()).into());
    m.insert("event_names".into(), set(&|e| Some(e.event_name.as_str())).into());
    m
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::parse::{EventClass, EventRow, Outcome};

    /// A minimal event for rule tests: time in minutes.
    pub fn ev(min: i64, class: EventClass, user: Option<&str>, target: Option<&str>, serial: Option<&str>) -> EventRow {
        let failure = matches!(
            class,
            EventClass::MfaFailure
                | EventClass::MfaRequiredDenied
                | EventClass::ExplicitDenyWithMfa
                | EventClass::LoginFailure
        );
        EventRow {
            event_time: min * 60_000,
            event_source: "iam.amazonaws.com".into(),
            event_name: class.as_str().into(),
            class,
            outcome: if failure { Outcome::Failure } else { Outcome::Success },
            error_code: None,
            error_message: None,
            identity_type: Some("IAMUser".into()),
            user_name: user.map(Into::into),
            principal_arn: None,
            account_id: Some("111122223333".into()),
            access_key_id: None,
            recipient_account_id: Some("111122223333".into()),
            aws_region: Some("us-east-1".into()),
            source_ip: None,
            user_agent: None,
            mfa_used: None,
            mfa_authenticated: None,
            target_user: target.map(Into::into),
            mfa_serial: serial.map(Into::into),
            policy_arn: None,
            group_name: None,
            policy_name: None,
            policy_document: None,
            policy_version: None,
            set_as_default: None,
            event_id: format!("e{min}-{}", class.as_str()),
            request_id: None,
            source_object: "t.json".into(),
        }
    }
}
