//! D7 — intermittent failures.
//!
//! ## Runbook step
//! > 7. If failure frequency shows intermittent patterns rather than constant failures (from
//! > Playbook step 9), token timing issues or temporary service availability problems are
//! > likely causes.
//!
//! ## What it checks
//! The user's MFA *attempts* of the episode (failures that are not typing, and successes on the
//! same device, or on the same channel when the failures name none; never denials, which are a
//! requirement's consequence, not tries), bucketed by 5 minutes over the window and by 1 minute
//! over its last hour: failure rate per bucket, share of buckets with failures, successes
//! between failures, variation of the time between failures.
//!
//! ## Verdicts
//! `pattern`: `too_few` (< 3 failures, inconclusive); `burst` (all failures within 15 min,
//! inconclusive); `intermittent` (>= 3 failures in >= 2 buckets with >= 1 such success between
//! the first and last failure: confirmed, token timing or a passing service problem);
//! `constant` (no such success after the first failure: ruled_out); `recovered` (successes only
//! after the last failure: inconclusive). D4 and D7 may both be confirmed: the runbook names
//! token timing as D7's likely cause, and the conclusion reads them together.
//!
//! ## Not evaluable when
//! there is no T0 (D1), the principal is not an IAM user or root, or the episode holds denials
//! only (no attempt to see a pattern in).

use serde::Serialize;

use super::{Evidence, Finding, Metrics as M, Pass, RuleId, RuleMeta, Status};
use crate::event::{EventClass, HOUR, MINUTE, Millis, format_millis};
use crate::index::series::bucket_counts;
use crate::index::{Channel, Ev, SerialKey};

pub const META: RuleMeta = RuleMeta {
    id: RuleId::D7,
    title: "Intermittent failures",
    runbook_step: "Diagnosis 7",
    checks: "pattern of the episode's MFA attempts (typing and denials excluded) over 5-min (window) and 1-min (last hour) buckets: intermittent (>= 3 failures, >= 2 buckets, a success on the same device or channel between) vs constant, burst, too few",
    next_step: "Intermittent failures point at token timing (resync, automatic phone time) or a passing AWS problem (Health Dashboard at those times).",
};

pub const MIN_FAILURES: usize = 3;
pub const BURST: Millis = 15 * MINUTE;

/// The shape of the episode's attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    Intermittent,
    Constant,
    Burst,
    TooFew,
    Recovered,
    /// The episode holds denials only.
    DenialsOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub pattern: Pattern,
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

impl Metrics {
    fn empty(pattern: Pattern, typos: usize) -> Metrics {
        Metrics {
            pattern,
            failures: 0,
            typo_failures: typos,
            successes: 0,
            successes_between_failures: 0,
            buckets_5m_with_attempts: 0,
            buckets_5m_with_failures: 0,
            share_5m_buckets_failing: 0.0,
            max_failure_rate_5m: 0.0,
            buckets_1m_last_hour_with_attempts: 0,
            buckets_1m_last_hour_with_failures: 0,
            max_failure_rate_1m_last_hour: 0.0,
            inter_failure_cv: 0.0,
        }
    }
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

/// What D7 found: the pattern, the successes counted and those between failures.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub metrics: Metrics,
    pub between: Vec<Ev>,
}

/// The successes that say something about the failures: the same device where they name one,
/// else the same channel.
fn successes_for(p: &Pass, fails: &[Ev]) -> Vec<Ev> {
    let ix = p.ix;
    let serials: Vec<SerialKey> = fails
        .iter()
        .filter_map(|&i| {
            let e = ix.event(i);
            e.mfa_serial.as_deref().map(|s| SerialKey::of(e, s))
        })
        .collect();
    let channels: Vec<Channel> = fails
        .iter()
        .filter(|&&i| ix.event(i).mfa_serial.is_none())
        .map(|&i| Channel::of(ix.event(i)))
        .collect();
    p.own(&[EventClass::MfaSuccess])
        .into_iter()
        .filter(|&i| {
            let e = ix.event(i);
            let same_device = e
                .mfa_serial
                .as_deref()
                .is_some_and(|s| serials.contains(&SerialKey::of(e, s)));
            same_device || channels.contains(&Channel::of(e))
        })
        .collect()
}

pub fn verdict(p: &Pass) -> Option<Verdict> {
    let ix = p.ix;
    p.t0.filter(|_| p.principal.kind.has_iam_devices())?;
    let typos = p.typos.len();
    let fails: &[Ev] = &p.failures;
    if fails.is_empty() {
        return Some(Verdict {
            metrics: Metrics::empty(Pattern::DenialsOnly, typos),
            between: Vec::new(),
        });
    }
    let succ = successes_for(p, fails);
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
        Pattern::TooFew
    } else if last - first <= BURST {
        Pattern::Burst
    } else if b5_fail >= 2 && !between.is_empty() {
        Pattern::Intermittent
    } else if after_first == 0 {
        Pattern::Constant
    } else {
        Pattern::Recovered
    };
    Some(Verdict {
        metrics: Metrics {
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
        },
        between,
    })
}

pub fn eval(p: &Pass) -> Finding {
    let ix = p.ix;
    let Some(v) = verdict(p) else {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1) for an IAM user.");
    };
    let m = v.metrics;
    let fails = &p.failures;
    if m.pattern == Pattern::DenialsOnly {
        return Finding::new(
            &META,
            Status::NotEvaluable,
            format!(
                "The episode holds {} MFA denial(s) and no MFA attempt that failed: denials are a requirement's consequence, not tries that come and go.",
                p.denials.len() + p.stale_denials.len()
            ),
        )
        .with_metrics(M::D7(m));
    }
    let time = |i: Ev| ix.event(i).event_time;
    let mut ev = vec![Evidence::of(
        ix,
        fails[0],
        format!("first of {} MFA failures", fails.len()),
    )];
    ev.extend(
        v.between
            .iter()
            .take(3)
            .map(|&i| Evidence::of(ix, i, "success between failures")),
    );
    if fails.len() > 1 {
        ev.push(Evidence::of(ix, fails[fails.len() - 1], "last failure"));
    }
    let span = format!(
        "{} to {}",
        format_millis(time(fails[0])),
        format_millis(time(fails[fails.len() - 1]))
    );
    let typo_note = if m.typo_failures > 0 {
        format!(" ({} typo(s) resolved within minutes left out)", m.typo_failures)
    } else {
        String::new()
    };
    let n = m.failures;
    let (status, summary) = match m.pattern {
        Pattern::Intermittent => (
            Status::Confirmed,
            format!(
                "Intermittent: {n} MFA failures in {} five-minute buckets ({span}) with {} success(es) on the same device or channel between them{typo_note}: token timing or a passing service problem.",
                m.buckets_5m_with_failures, m.successes_between_failures
            ),
        ),
        Pattern::Constant => (
            Status::RuledOut,
            format!(
                "Constant: {n} MFA failures ({span}) and no success after the first{typo_note}: a standing cause, not timing."
            ),
        ),
        Pattern::Burst => (
            Status::Inconclusive,
            format!("Burst: all {n} MFA failures within 15 minutes ({span}){typo_note}."),
        ),
        Pattern::TooFew => (
            Status::Inconclusive,
            format!("Too few MFA failures ({n}){typo_note} to see a pattern."),
        ),
        _ => (
            Status::Inconclusive,
            format!(
                "{n} MFA failures ({span}), then success only after the last one{typo_note}: recovered, not intermittent."
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
    use crate::rules::pass::tests::{index, with_pass};

    fn run(events: Vec<EventRow>, user: &str) -> Option<Pattern> {
        let ix = index(events);
        with_pass(&ix, user, |p| verdict(p).map(|v| v.metrics.pattern))
    }

    fn pattern(spec: &[(i64, bool)]) -> Option<Pattern> {
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
        run(events, "carol")
    }

    #[test]
    fn patterns() {
        use Pattern::*;
        assert_eq!(
            pattern(&[(10, true), (30, false), (50, true), (70, true)]),
            Some(Intermittent)
        );
        assert_eq!(pattern(&[(10, true), (50, true), (70, true)]), Some(Constant));
        assert_eq!(pattern(&[(10, true), (11, true), (12, true), (14, true)]), Some(Burst));
        assert_eq!(pattern(&[(10, true), (50, true)]), Some(TooFew));
        assert_eq!(
            pattern(&[(10, true), (50, true), (70, true), (90, false)]),
            Some(Recovered)
        );
    }

    #[test]
    fn typos_through_the_day_are_no_episode() {
        // Fail, succeed a minute later; six times over a day: typing, never a signal.
        let spec: Vec<(i64, bool)> = (0..6).flat_map(|k| [(k * 180, true), (k * 180 + 1, false)]).collect();
        assert_eq!(pattern(&spec), None);
    }

    #[test]
    fn denials_are_not_attempts() {
        // A console MFA user whose long-term-key calls are denied all day: enforcement working
        // as intended, not intermittency.
        let s = "arn:aws:iam::111122223333:mfa/kim";
        let mut events = vec![];
        for k in 0..5 {
            let mut ok = ev(k * 120, MfaSuccess, Some("kim"), None, Some(s));
            ok.event_source = "signin.amazonaws.com".into();
            events.push(ok);
            events.push(ev(k * 120 + 20, MfaRequiredDenied, Some("kim"), None, None));
        }
        assert_eq!(run(events, "kim"), Some(Pattern::DenialsOnly));
    }

    #[test]
    fn another_device_succeeding_is_not_intermittency() {
        let p = run(
            vec![
                ev(10, MfaFailure, Some("henry"), None, Some("phone")),
                ev(30, MfaSuccess, Some("henry"), None, Some("GAHT1")),
                ev(50, MfaFailure, Some("henry"), None, Some("phone")),
                ev(70, MfaFailure, Some("henry"), None, Some("phone")),
            ],
            "henry",
        );
        assert_eq!(p, Some(Pattern::Constant));
    }

    #[test]
    fn stale_mfa_denials_without_a_known_age_limit_are_no_signal() {
        let ix = index(vec![ev(5, ExplicitDenyWithMfa, Some("kim"), None, None)]);
        with_pass(&ix, "kim", |p| {
            assert_eq!(verdict(p), None);
            assert_eq!(eval(p).status, Status::NotEvaluable);
        });
    }
}
