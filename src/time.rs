//! Time arguments and durations. chrono stays at this edge; the frame holds
//! epoch milliseconds (UTC).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::error::{Error, Result};
pub use crate::event::{HOUR, MINUTE, Millis, format_millis};

/// Which end of a day a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEnd {
    Start,
    End,
}

/// Parses `--since`/`--until`: RFC 3339 (`2026-11-27T10:00:00Z`), or a date
/// (`2026-11-27`, start or end of that day, UTC).
pub fn parse_time_arg(s: &str, end: DayEnd) -> Result<Millis> {
    let t = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc).timestamp_millis());
    }
    if let Ok(ndt) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S") {
        return Ok(Utc.from_utc_datetime(&ndt).timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let start = Utc
            .from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .timestamp_millis();
        return Ok(match end {
            DayEnd::Start => start,
            DayEnd::End => start + 24 * HOUR - 1,
        });
    }
    Err(Error::usage(
        "time",
        s,
        "expected RFC 3339 like 2026-11-27T10:00:00Z or a date like 2026-11-27",
    ))
}

/// clap value parser for durations (`24h`, `90m`, `2d`, `1h30m`, humantime's syntax), in
/// milliseconds.
pub fn duration_arg(s: &str) -> std::result::Result<Millis, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| format!("{e}: expected e.g. 24h, 90m, 2d, 1h30m"))?;
    Millis::try_from(d.as_millis()).map_err(|_| "duration too long".to_string())
}

/// Parses a CloudTrail `eventTime` (`2026-11-27T10:00:00Z`, fractional
/// seconds and offsets tolerated). Returns None for anything else.
pub fn parse_event_time(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    // Fast path for the exact shape AWS writes: YYYY-MM-DDTHH:MM:SSZ.
    if b.len() == 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[19] == b'Z' {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let mut v = 0u32;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u32::from(c - b'0');
            }
            Some(v)
        };
        let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let ndt = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
        return Some(Utc.from_utc_datetime(&ndt).timestamp_millis());
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc).timestamp_millis());
    }
    // Shapes seen in exported or normalised logs, all UTC: a space instead of
    // `T`, no zone, any fraction (`2022-03-29 17:16:36.000000000`), and the
    // basic form of old docs (`20131102T010628Z`).
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.fZ",
        "%Y%m%dT%H%M%SZ",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s.trim(), f).ok())
    .map(|n| Utc.from_utc_datetime(&n).timestamp_millis())
}

/// A duration for humans: `2h 5m`, `45s`, `3d 4h`.
pub fn format_duration(ms: Millis) -> String {
    let s = ms.unsigned_abs() / 1000;
    let sign = if ms < 0 { "-" } else { "" };
    let (d, h, m, sec) = (s / 86_400, (s / 3600) % 24, (s / 60) % 60, s % 60);
    let out = if s.is_multiple_of(3600) && s > 0 && s < 100 * 3600 {
        format!("{}h", s / 3600)
    } else if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {sec}s")
    } else {
        format!("{sec}s")
    };
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_args() {
        let t = parse_time_arg("2026-11-27T10:00:00Z", DayEnd::Start).unwrap();
        assert_eq!(format_millis(t), "2026-11-27T10:00:00Z");
        let s = parse_time_arg("2026-11-27", DayEnd::Start).unwrap();
        let e = parse_time_arg("2026-11-27", DayEnd::End).unwrap();
        assert_eq!(format_millis(s), "2026-11-27T00:00:00Z");
        assert_eq!(e - s, 24 * HOUR - 1);
        assert!(parse_time_arg("yesterday", DayEnd::Start).is_err());
        let off = parse_time_arg("2026-11-27T12:00:00+02:00", DayEnd::Start).unwrap();
        assert_eq!(off, t);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_arg("24h").unwrap(), 24 * HOUR);
        assert_eq!(duration_arg("1h30m").unwrap(), 90 * MINUTE);
        assert_eq!(duration_arg("2d").unwrap(), 48 * HOUR);
        for bad in ["", "h", "12", "3x", "-1h"] {
            assert!(duration_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_times() {
        let a = parse_event_time("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(format_millis(a), "2024-02-29T23:59:59Z");
        let b = parse_event_time("2024-02-29T23:59:59.250Z").unwrap();
        assert_eq!(b - a, 250);
        assert_eq!(parse_event_time("2024-02-29 23:59:59"), Some(a));
        assert_eq!(parse_event_time("2024-02-29 23:59:59.250000000"), Some(b));
        assert_eq!(parse_event_time("20240229T235959Z"), Some(a));
        assert_eq!(parse_event_time("2024-03-01T01:59:59+02:00"), Some(a));
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "not a time",
            "",
            "2024-01-01T25:00:00Z",
            "1700000000",
        ] {
            assert_eq!(parse_event_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn human_durations() {
        assert_eq!(format_duration(2 * HOUR + 5 * MINUTE), "2h 5m");
        assert_eq!(format_duration(45_000), "45s");
        assert_eq!(format_duration(48 * HOUR), "48h");
        assert_eq!(format_duration(5 * 24 * HOUR + HOUR), "5d 1h");
        assert_eq!(format_duration(-90_000), "-1m 30s");
    }
}
