//! D7 — intermittent failures.
//!
//! ## Runbook step
//! > 7. If failure frequency shows intermittent patterns rather than constant failures (from
//! > Playbook step 9), token timing issues or temporary service availability problems are
//! > likely causes.
//!
//! ## What it checks
//! The user's MFA attempts in the window (failures that are not typing, or MFA-required denials
//! when there is no such failure; successes with the failing device) bucketed by 5 minutes over
//! the window and by 1 minute over its last hour (polars group_by): failure rate per bucket,
//! share of buckets with failures, successes between failures, variation of the time between
//! failures. Typing (at most two failures resolved by a success within five minutes) is
//! excluded first: a typo rate spread over a day is not intermittency.
//!
//! ## Verdicts
//! `pattern`: `typing` (every failure was a typo: ruled_out); `too_few` (< 3 failures,
//! inconclusive); `burst` (all failures within 15 min, inconclusive); `intermittent` (>= 3
//! failures in >= 2 buckets with >= 1 success between the first and last failure: confirmed,
//! token timing or a passing service problem); `constant` (no success after the first failure:
//! ruled_out); `recovered` (successes only after the last failure: inconclusive). The conclusion
//! does not count it as a second cause when the failures are D4's drift evidence.
//!
//! ## Not evaluable when
//! there is no T0 (D1), or the principal is not an IAM user or root.

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleMeta, Status};
use crate::event::{EventClass, HOUR, MINUTE, Millis, format_millis};
use crate::index::series::bucket_counts;
use crate::index::{Ev, SerialKey};

pub const META: RuleMeta = RuleMeta {
    id: "D7",
    title: "Intermittent failures",
    runbook_step: "Diagnosis 7",
    checks: "failure pattern (typing excluded) over 5-min (window) and 1-min (last hour) buckets: intermittent (>= 3 failures, >= 2 buckets, success between) vs constant, burst, too few, typing",
    next_step: "Intermittent failures point at token timing (resync, automatic phone time) or a passing AWS problem (Health Dashboard at those times).",
};

pub const MIN_FAILURES: usize = 3;
pub const BURST: Millis = 15 * MINUTE;

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub pattern: &'static str,
    pub failures: usize,
    pub typo_failures: usize,
    pub successes: usize,
    pub successes_between_failures: usize,
    pub buckets_5m_with_attempts: usize,
    pub buckets_5m_with_failures: usize,
    pub share_5m_buckets_failing: f64,
    pub max_failure_rate_5m: f64,
    pub buckets_1m_last_hour_with_attempts: usize,
    pub buckets_1m_last_hour_with_failures: usize,
    pub max_failure_rate_1m_last_hour: f64,
    pub inter_failure_cv: f64,
}

/// (buckets with attempts, buckets with failures, max failure rate) for one bucket width.
fn buckets(attempts: &[(Millis, bool)], width: Millis) -> (usize, usize, f64) {
    let b = bucket_counts(attempts, width);
    let with_fail = b.values().filter(|(f, _)| *f > 0).count();
    let max_rate = b
        .values()
        .map(|(f, n)| f64::from(*f) / f64::from((*n).max(1)))
        .fold(0.0, f64::max);
    (b.len(), with_fail, max_rate)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn eval(p: &Pass) -> Finding {
    let ix = p.ix;
    if p.t0.is_none() || !p.principal.kind.has_iam_devices() {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    }
    let typos = p.failures.len() - p.real_failures.len();
    let (fails, kind): (&[Ev], &str) = if !p.real_failures.is_empty() {
        (&p.real_failures, "MFA failures")
    } else if !p.denials.is_empty() {
        (&p.denials, "MFA-required denials")
    } else {
        // T0 from typos or stale-MFA denials only: nothing that could be intermittent.
        let (pattern, status, summary) = if typos > 0 {
            (
                "typing",
                Status::RuledOut,
                format!(
                    "Every one of the {typos} MFA failure(s) was resolved by a success within minutes: typing, not an intermittent problem."
                ),
            )
        } else {
            (
                "too_few",
                Status::Inconclusive,
                "No MFA failure or MFA-required denial to see a pattern in (only denials of MFA sessions).".to_string(),
            )
        };
        return Finding::new(&META, status, summary).with_metrics(M::D7(Metrics {
            pattern,
            typo_failures: typos,
            ..Metrics::default()
        }));
    };
    // Intermittency is about one credential: when the failures name serials, only successes
    // with those serials count (a second device working does not make the first intermittent).
    let failing_serials: Vec<SerialKey> = fails
        .iter()
        .filter_map(|&i| {
            let e = ix.event(i);
            e.mfa_serial.as_deref().map(|s| SerialKey::of(e, s))
        })
        .collect();
    let succ: Vec<Ev> = p
        .own(&[EventClass::MfaSuccess])
        .into_iter()
        .filter(|&i| {
            let e = ix.event(i);
            failing_serials.is_empty()
                || e.mfa_serial
                    .as_deref()
                    .is_none_or(|s| failing_serials.contains(&SerialKey::of(e, s)))
        })
        .collect();
    let time = |i: Ev| ix.event(i).event_time;
    let mut attempts: Vec<(Millis, bool)> = fails
        .iter()
        .map(|&i| (time(i), true))
        .chain(succ.iter().map(|&i| (time(i), false)))
        .collect();
    attempts.sort_unstable();
    let (first, last) = (time(fails[0]), time(fails[fails.len() - 1]));
    let between: Vec<Ev> = succ
        .iter()
        .copied()
        .filter(|&i| time(i) > first && time(i) < last)
        .collect();
    let after_first = succ.iter().filter(|&&i| time(i) > first).count();
    let (b5, b5_fail, rate5) = buckets(&attempts, 5 * MINUTE);
    let last_hour: Vec<(Millis, bool)> = attempts.iter().copied().filter(|(t, _)| *t > p.until - HOUR).collect();
    let (b1, b1_fail, rate1) = buckets(&last_hour, MINUTE);
    let gaps: Vec<f64> = fails
        .windows(2)
        .map(|w| (time(w[1]) - time(w[0])) as f64 / 1000.0)
        .collect();
    let cv = if gaps.len() >= 2 {
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        if mean > 0.0 { round2(var.sqrt() / mean) } else { 0.0 }
    } else {
        0.0
    };
    let pattern = if fails.len() < MIN_FAILURES {
        "too_few"
    } else if last - first <= BURST {
        "burst"
    } else if b5_fail >= 2 && !between.is_empty() {
        "intermittent"
    } else if after_first == 0 {
        "constant"
    } else {
        "recovered"
    };
    let mut ev = vec![Evidence::of(ix, fails[0], format!("first of {} {kind}", fails.len()))];
    ev.extend(
        between
            .iter()
            .take(3)
            .map(|&i| Evidence::of(ix, i, "success between failures")),
    );
    if fails.len() > 1 {
        ev.push(Evidence::of(ix, fails[fails.len() - 1], "last failure"));
    }
    let m = Metrics {
        pattern,
        failures: fails.len(),
        typo_failures: typos,
        successes: succ.len(),
        successes_between_failures: between.len(),
        buckets_5m_with_attempts: b5,
        buckets_5m_with_failures: b5_fail,
        share_5m_buckets_failing: if b5 > 0 {
            round2(b5_fail as f64 / b5 as f64)
        } else {
            0.0
        },
        max_failure_rate_5m: round2(rate5),
        buckets_1m_last_hour_with_attempts: b1,
        buckets_1m_last_hour_with_failures: b1_fail,
        max_failure_rate_1m_last_hour: round2(rate1),
        inter_failure_cv: cv,
    };
    let span = format!("{} to {}", format_millis(first), format_millis(last));
    let typo_note = if typos > 0 {
        format!(" ({typos} typo(s) resolved within minutes left out)")
    } else {
        String::new()
    };
    let (status, summary) = match pattern {
        "intermittent" => (
            Status::Confirmed,
            format!(
                "Intermittent: {} {kind} in {b5_fail} five-minute buckets ({span}) with {} success(es) between them{typo_note}: token timing or a passing service problem.",
                fails.len(),
                between.len()
            ),
        ),
        "constant" => (
            Status::RuledOut,
            format!(
                "Constant: {} {kind} ({span}) and no success after the first{typo_note}: a standing cause, not timing.",
                fails.len()
            ),
        ),
        "burst" => (
            Status::Inconclusive,
            format!(
                "Burst: all {} {kind} within 15 minutes ({span}){typo_note}.",
                fails.len()
            ),
        ),
        "too_few" => (
            Status::Inconclusive,
            format!("Too few {kind} ({}){typo_note} to see a pattern.", fails.len()),
        ),
        _ => (
            Status::Inconclusive,
            format!(
                "{} {kind} ({span}), then success only after the last one{typo_note}: recovered, not intermittent.",
                fails.len()
            ),
        ),
    };
    Finding::new(&META, status, summary)
        .with_evidence(ev)
        .with_metrics(M::D7(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventClass::*;
    use crate::event::EventRow;
    use crate::index::tests::ev;
    use crate::rules::pass::tests::{index, pass};

    fn run(events: Vec<EventRow>, user: &str) -> Finding {
        let ix = index(events);
        eval(&pass(&ix, user))
    }

    fn pattern(spec: &[(i64, bool)]) -> (Status, &'static str) {
        let events: Vec<EventRow> = spec
            .iter()
            .map(|(m, fail)| {
                ev(
                    *m,
                    if *fail { MfaFailure } else { MfaSuccess },
                    Some("carol"),
                    None,
                    Some("s"),
                )
            })
            .collect();
        let f = run(events, "carol");
        let p = match &f.metrics {
            M::D7(m) => m.pattern,
            _ => "",
        };
        (f.status, p)
    }

    #[test]
    fn patterns() {
        assert_eq!(
            pattern(&[(10, true), (30, false), (50, true), (70, true)]),
            (Status::Confirmed, "intermittent")
        );
        assert_eq!(
            pattern(&[(10, true), (50, true), (70, true)]),
            (Status::RuledOut, "constant")
        );
        assert_eq!(
            pattern(&[(10, true), (11, true), (12, true), (14, true)]),
            (Status::Inconclusive, "burst")
        );
        assert_eq!(pattern(&[(10, true), (50, true)]), (Status::Inconclusive, "too_few"));
        assert_eq!(
            pattern(&[(10, true), (50, true), (70, true), (90, false)]),
            (Status::Inconclusive, "recovered")
        );
    }

    #[test]
    fn typos_through_the_day_are_typing_not_intermittency() {
        // Fail, succeed a minute later; six times over a day.
        let spec: Vec<(i64, bool)> = (0..6).flat_map(|k| [(k * 180, true), (k * 180 + 1, false)]).collect();
        assert_eq!(pattern(&spec), (Status::RuledOut, "typing"));
    }

    #[test]
    fn another_device_succeeding_is_not_intermittency() {
        let f = run(
            vec![
                ev(10, MfaFailure, Some("henry"), None, Some("phone")),
                ev(30, MfaSuccess, Some("henry"), None, Some("GAHT1")),
                ev(50, MfaFailure, Some("henry"), None, Some("phone")),
                ev(70, MfaFailure, Some("henry"), None, Some("phone")),
            ],
            "henry",
        );
        assert!(matches!(&f.metrics, M::D7(m) if m.pattern == "constant"), "{f:?}");
    }

    #[test]
    fn t0_from_stale_mfa_denials_only_does_not_panic() {
        // The first wave crashed here: T0 came from denials and the failure list was empty.
        let ix = index(vec![ev(5, ExplicitDenyWithMfa, Some("kim"), None, None)]);
        let f = eval(&pass(&ix, "kim"));
        assert_eq!(f.status, Status::NotEvaluable);
    }
}
