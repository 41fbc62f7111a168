//! D7 — intermittent failures.
//!
//! ## Runbook step
//! > 7. If failure frequency shows intermittent patterns rather than constant failures (from
//! > Playbook step 9), token timing issues or temporary service availability problems are
//! > likely causes.
//!
//! ## What it checks
//! The user's MFA attempts in the window (failures: `mfa_failure`, or MFA-required denials when
//! there is no failure; successes: `mfa_success`) bucketed by 5 minutes over the window and by 1
//! minute over its last hour (polars group_by on the bucket): failure rate per bucket, share of
//! buckets with failures, successes between failures, variation of the time between failures.
//!
//! ## Verdicts
//! `pattern`: `too_few` (< 3 failures, inconclusive); `burst` (all failures within 15 min,
//! inconclusive); `intermittent` (>= 3 failures in >= 2 buckets with >= 1 success between the
//! first and last failure: confirmed, token timing or a passing service problem); `constant`
//! (no success after the first failure: ruled_out); `recovered` (successes only after the last
//! failure: inconclusive).
//!
//! ## Not evaluable when
//! there is no T0 (D1).

use polars::prelude::*;

use super::{Ctx, Evidence, Finding, RuleMeta, Status};
use crate::parse::EventClass;
use crate::time::{HOUR, MINUTE, Millis, format_millis};

pub const META: RuleMeta = RuleMeta {
    id: "D7",
    title: "Intermittent failures",
    runbook_step: "Diagnosis 7",
    checks: "failure pattern over 5-min (window) and 1-min (last hour) buckets: intermittent (>= 3 failures, >= 2 buckets, success between) vs constant, burst, too few",
};

pub const MIN_FAILURES: usize = 3;
pub const BURST: Millis = 15 * MINUTE;

/// (buckets with attempts, buckets with failures, max failure rate) for one bucket width.
#[allow(deprecated)] // eager GroupBy aggregations: the lazy API costs a much longer build.
fn buckets(times: &[(Millis, bool)], width: Millis) -> PolarsResult<(usize, usize, f64)> {
    if times.is_empty() {
        return Ok((0, 0, 0.0));
    }
    let df = DataFrame::new(
        times.len(),
        vec![
            Column::new(
                "bucket".into(),
                times.iter().map(|(t, _)| t.div_euclid(width)).collect::<Vec<i64>>(),
            ),
            Column::new(
                "fail".into(),
                times.iter().map(|(_, f)| u32::from(*f)).collect::<Vec<u32>>(),
            ),
            Column::new("n".into(), vec![1u32; times.len()]),
        ],
    )?;
    let g = df.group_by(["bucket"])?.select(["fail", "n"]).sum()?;
    let fails = g.column("fail_sum")?.cast(&DataType::Float64)?;
    let ns = g.column("n_sum")?.cast(&DataType::Float64)?;
    let (fails, ns) = (fails.f64()?, ns.f64()?);
    let mut with_fail = 0;
    let mut max_rate: f64 = 0.0;
    for i in 0..g.height() {
        let (f, n) = (fails.get(i).unwrap_or(0.0), ns.get(i).unwrap_or(1.0));
        if f > 0.0 {
            with_fail += 1;
        }
        max_rate = max_rate.max(f / n);
    }
    Ok((g.height(), with_fail, max_rate))
}

pub fn eval(ctx: &Ctx) -> Finding {
    if ctx.t0.is_none() {
        return Finding::new(&META, Status::NotEvaluable, "No failure baseline (D1).");
    }
    let fails = if ctx.failures.is_empty() {
        ctx.denials.clone()
    } else {
        ctx.failures.clone()
    };
    // Intermittency is about one credential: when the failures name serials, only successes
    // with those serials count (a second device working does not make the first intermittent).
    let failing_serials: Vec<&str> = fails.iter().filter_map(|e| e.mfa_serial.as_deref()).collect();
    let succ: Vec<_> = ctx
        .mine(&[EventClass::MfaSuccess])
        .into_iter()
        .filter(|e| failing_serials.is_empty() || e.mfa_serial.as_deref().is_none_or(|s| failing_serials.contains(&s)))
        .collect();
    let mut attempts: Vec<(Millis, bool)> = fails
        .iter()
        .map(|e| (e.event_time, true))
        .chain(succ.iter().map(|e| (e.event_time, false)))
        .collect();
    attempts.sort();
    let (first, last) = (fails[0].event_time, fails[fails.len() - 1].event_time);
    let between: Vec<_> = succ
        .iter()
        .filter(|e| e.event_time > first && e.event_time < last)
        .collect();
    let after_first = succ.iter().filter(|e| e.event_time > first).count();
    let (b5, b5_fail, rate5) = buckets(&attempts, 5 * MINUTE).unwrap_or((0, 0, 0.0));
    let last_hour: Vec<(Millis, bool)> = attempts
        .iter()
        .copied()
        .filter(|(t, _)| *t > ctx.until - HOUR)
        .collect();
    let (b1, b1_fail, rate1) = buckets(&last_hour, MINUTE).unwrap_or((0, 0, 0.0));
    let gaps: Vec<f64> = fails
        .windows(2)
        .map(|w| (w[1].event_time - w[0].event_time) as f64 / 1000.0)
        .collect();
    let cv = if gaps.len() >= 2 {
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        if mean > 0.0 {
            (var.sqrt() / mean * 100.0).round() / 100.0
        } else {
            0.0
        }
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
    let kind = if ctx.failures.is_empty() {
        "MFA-required denials"
    } else {
        "MFA failures"
    };
    let mut ev = vec![Evidence::of(fails[0], format!("first of {} {kind}", fails.len()))];
    ev.extend(
        between
            .iter()
            .take(3)
            .map(|e| Evidence::of(e, "success between failures")),
    );
    if fails.len() > 1 {
        ev.push(Evidence::of(fails[fails.len() - 1], "last failure"));
    }
    let f = Finding::new(&META, Status::Inconclusive, "")
        .metric("pattern", pattern)
        .metric("failures", fails.len())
        .metric("successes", succ.len())
        .metric("successes_between_failures", between.len())
        .metric("buckets_5m_with_attempts", b5)
        .metric("buckets_5m_with_failures", b5_fail)
        .metric(
            "share_5m_buckets_failing",
            if b5 > 0 {
                ((b5_fail as f64 / b5 as f64) * 100.0).round() / 100.0
            } else {
                0.0
            },
        )
        .metric("max_failure_rate_5m", rate5)
        .metric("buckets_1m_last_hour_with_attempts", b1)
        .metric("buckets_1m_last_hour_with_failures", b1_fail)
        .metric("max_failure_rate_1m_last_hour", rate1)
        .metric("inter_failure_cv", cv)
        .with_evidence(ev);
    let span = format!("{} to {}", format_millis(first), format_millis(last));
    match pattern {
        "intermittent" => Finding {
            status: Status::Confirmed,
            summary: format!(
                "Intermittent: {} {kind} in {b5_fail} five-minute buckets ({span}) with {} success(es) between them: token timing or a passing service problem.",
                fails.len(),
                between.len()
            ),
            ..f
        },
        "constant" => Finding {
            status: Status::RuledOut,
            summary: format!(
                "Constant: {} {kind} ({span}) and no success after the first: a standing cause, not timing.",
                fails.len()
            ),
            ..f
        },
        "burst" => Finding {
            summary: format!("Burst: all {} {kind} within 15 minutes ({span}).", fails.len()),
            ..f
        },
        "too_few" => Finding {
            summary: format!("Too few {kind} ({}) to see a pattern.", fails.len()),
            ..f
        },
        _ => Finding {
            summary: format!(
                "{} {kind} ({span}), then success only after the last one: recovered, not intermittent.",
                fails.len()
            ),
            ..f
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::EventClass::*;
    use crate::parse::EventRow;
    use crate::rules::context::tests::ev;

    fn pattern(spec: &[(i64, bool)]) -> (Status, String) {
        let mut events: Vec<EventRow> = spec
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
        events.sort_by_key(|e| e.event_time);
        let leaked: &'static [EventRow] = Box::leak(events.into_boxed_slice());
        let f = eval(&Ctx::new(leaked, "carol", 0, 1_000 * 60_000, false));
        (f.status, f.metrics["pattern"].as_str().unwrap_or("").to_string())
    }

    #[test]
    fn patterns() {
        assert_eq!(
            pattern(&[(10, true), (30, false), (50, true), (70, true)]),
            (Status::Confirmed, "intermittent".into())
        );
        assert_eq!(
            pattern(&[(10, true), (50, true), (70, true)]),
            (Status::RuledOut, "constant".into())
        );
        assert_eq!(
            pattern(&[(10, true), (12, false), (14, true), (16, true)]),
            (Status::Inconclusive, "burst".into())
        );
        assert_eq!(
            pattern(&[(10, true), (50, true)]),
            (Status::Inconclusive, "too_few".into())
        );
        assert_eq!(
            pattern(&[(10, true), (50, true), (70, true), (90, false)]),
            (Status::Inconclusive, "recovered".into())
        );
    }

    #[test]
    fn another_device_succeeding_is_not_intermittency() {
        let mut events = vec![
            ev(10, MfaFailure, Some("henry"), None, Some("phone")),
            ev(30, MfaSuccess, Some("henry"), None, Some("GAHT1")),
            ev(50, MfaFailure, Some("henry"), None, Some("phone")),
            ev(70, MfaFailure, Some("henry"), None, Some("phone")),
        ];
        events.sort_by_key(|e| e.event_time);
        let leaked: &'static [EventRow] = Box::leak(events.into_boxed_slice());
        let f = eval(&Ctx::new(leaked, "henry", 0, 1_000 * 60_000, false));
        assert_eq!(f.metrics["pattern"], "constant");
    }
}
