//! Hand-rolled UTC formatting from unix seconds: chrono's format machinery re-parses the pattern
//! on every call, and the generator formats several timestamps per record.

/// (year, month 1-12, day 1-31) from days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

pub fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem / 60 % 60,
        second: rem % 60,
    }
}

fn push2(out: &mut String, v: u32) {
    out.push(char::from(b'0' + (v / 10 % 10) as u8));
    out.push(char::from(b'0' + (v % 10) as u8));
}

fn push_year(out: &mut String, y: i64) {
    if (0..10_000).contains(&y) {
        let y = y as u32;
        push2(out, y / 100);
        push2(out, y % 100);
    } else {
        out.push_str(&y.to_string());
    }
}

fn push_uint(out: &mut String, v: u32) {
    if v >= 10 {
        push_uint(out, v / 10);
    }
    out.push(char::from(b'0' + (v % 10) as u8));
}

/// `2024-10-29T14:43:20Z`: eventTime and the other ISO timestamps of a record.
pub fn push_iso(out: &mut String, secs: i64) {
    let c = civil(secs);
    push_year(out, c.year);
    out.push('-');
    push2(out, c.month);
    out.push('-');
    push2(out, c.day);
    out.push('T');
    push2(out, c.hour);
    out.push(':');
    push2(out, c.minute);
    out.push(':');
    push2(out, c.second);
    out.push('Z');
}

pub fn iso(secs: i64) -> String {
    let mut s = String::with_capacity(20);
    push_iso(&mut s, secs);
    s
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Java-style dates as IAM/STS put them in responseElements: `Oct 29, 2024 2:43:20 PM`
/// (`createDate`), or with a comma after the year, `Jul 18, 2014, 4:07:39 PM` (`expiration`).
pub fn push_java(out: &mut String, secs: i64, comma_after_year: bool) {
    let c = civil(secs);
    out.push_str(MONTHS[(c.month - 1) as usize]);
    out.push(' ');
    push_uint(out, c.day);
    out.push_str(", ");
    push_year(out, c.year);
    if comma_after_year {
        out.push(',');
    }
    out.push(' ');
    let h12 = match c.hour % 12 {
        0 => 12,
        h => h,
    };
    push_uint(out, h12);
    out.push(':');
    push2(out, c.minute);
    out.push(':');
    push2(out, c.second);
    out.push_str(if c.hour < 12 { " AM" } else { " PM" });
}

pub fn java(secs: i64, comma_after_year: bool) -> String {
    let mut s = String::with_capacity(26);
    push_java(&mut s, secs, comma_after_year);
    s
}

/// `20241029T1443Z`, the log file key time (cut to the minute).
pub fn key_minute(secs: i64) -> String {
    let c = civil(secs);
    let mut s = String::with_capacity(14);
    push_year(&mut s, c.year);
    push2(&mut s, c.month);
    push2(&mut s, c.day);
    s.push('T');
    push2(&mut s, c.hour);
    push2(&mut s, c.minute);
    s.push('Z');
    s
}

/// `20241029T144320Z`, the digest file key time.
pub fn key_second(secs: i64) -> String {
    let c = civil(secs);
    let mut s = String::with_capacity(16);
    push_year(&mut s, c.year);
    push2(&mut s, c.month);
    push2(&mut s, c.day);
    s.push('T');
    push2(&mut s, c.hour);
    push2(&mut s, c.minute);
    push2(&mut s, c.second);
    s.push('Z');
    s
}

/// `2024/10/29`, the day folders of the key layout.
pub fn day_path(secs: i64) -> String {
    let c = civil(secs);
    let mut s = String::with_capacity(10);
    push_year(&mut s, c.year);
    s.push('/');
    push2(&mut s, c.month);
    s.push('/');
    push2(&mut s, c.day);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn formats_match_chrono() {
        let mut x: i64 = 0x1234_5678;
        for _ in 0..2000 {
            x = (x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407))
            .rem_euclid(4_102_444_800);
            let dt = Utc.timestamp_opt(x, 0).single().expect("valid time");
            assert_eq!(iso(x), dt.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            assert_eq!(key_minute(x), dt.format("%Y%m%dT%H%MZ").to_string());
            assert_eq!(key_second(x), dt.format("%Y%m%dT%H%M%SZ").to_string());
            assert_eq!(day_path(x), dt.format("%Y/%m/%d").to_string());
            assert_eq!(java(x, false), dt.format("%b %-d, %Y %-I:%M:%S %p").to_string());
            assert_eq!(java(x, true), dt.format("%b %-d, %Y, %-I:%M:%S %p").to_string());
        }
    }

    #[test]
    fn java_noon_and_midnight() {
        // 2014-07-18T00:07:39Z and 12:07:39Z: the 12-hour clock shows 12, not 0.
        assert_eq!(java(1_405_642_059, true), "Jul 18, 2014, 12:07:39 AM");
        assert_eq!(java(1_405_685_259, false), "Jul 18, 2014 12:07:39 PM");
    }
}
