//! The CloudTrail S3 key layout, parsed from a path or key:
//! `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz`.
//! The time in the name is the delivery time: every event in the file is older.

use chrono::{NaiveDate, TimeZone, Utc};

use crate::time::{HOUR, MINUTE, Millis};

/// What a key is, judged from its path alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// An event log file in (or named after) the AWS layout.
    Log(LogKey),
    /// `CloudTrail-Digest/` or `CloudTrail-Insight/`: not event logs.
    NotEvents(&'static str),
    /// Anything else: read, but without pruning.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey {
    pub org: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Start of the day folder (UTC), when the folders follow the layout.
    pub day_start: Option<Millis>,
    /// Delivery time from the file name, cut to the minute.
    pub key_time: Option<Millis>,
}

impl LogKey {
    /// The range the delivery time lies in: the exact minute from the name,
    /// else the whole day of the folder.
    pub fn delivery_range(&self) -> Option<(Millis, Millis)> {
        match (self.key_time, self.day_start) {
            (Some(t), _) => Some((t, t)),
            (None, Some(d)) => Some((d, d + 24 * HOUR - MINUTE)),
            (None, None) => None,
        }
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_org(s: &str) -> bool {
    s.len() > 2 && s.starts_with("o-") && s[2..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Parses `YYYY`, `MM`, `DD` folder names into the day's start.
pub fn day_start(y: &str, m: &str, d: &str) -> Option<Millis> {
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?).timestamp_millis())
}

/// Parses `YYYYMMDDTHHmmZ` (log files) or `YYYYMMDDTHHmmssZ` (digests).
fn parse_key_stamp(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if !(b.len() == 14 || b.len() == 16) || b[8] != b'T' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
    let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(4..6)?, digits(6..8)?)?;
    let t = date.and_hms_opt(digits(9..11)?, digits(11..13)?, 0)?;
    Some(Utc.from_utc_datetime(&t).timestamp_millis())
}

/// `ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz` → (account, region, time).
pub fn parse_file_name(name: &str) -> Option<(String, String, Millis)> {
    let mut parts = name.split('_');
    let account = parts.next()?;
    if !is_account(account) || parts.next()? != "CloudTrail" {
        return None;
    }
    let region = parts.next()?;
    let stamp = parts.next()?;
    parts.next()?; // the unique part must exist
    Some((account.to_string(), region.to_string(), parse_key_stamp(stamp)?))
}

/// Classifies a path or key (either separator).
pub fn classify_key(key: &str) -> KeyKind {
    let comps: Vec<&str> = key.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
    let name = comps.last().copied().unwrap_or("");
    if name.contains("_CloudTrail-Digest_") || name.contains("_CloudTrail-Insight_") {
        return KeyKind::NotEvents(if name.contains("Digest") { "digest" } else { "insight" });
    }
    let from_name = parse_file_name(name);
    if let Some(i) = comps.iter().rposition(|c| *c == "AWSLogs") {
        let rest = &comps[i + 1..];
        let (org, rest) = match rest.first() {
            Some(o) if is_org(o) => (Some((*o).to_string()), &rest[1..]),
            _ => (None, rest),
        };
        if rest.len() >= 2 && is_account(rest[0]) {
            match rest[1] {
                "CloudTrail-Digest" => return KeyKind::NotEvents("digest"),
                "CloudTrail-Insight" => return KeyKind::NotEvents("insight"),
                "CloudTrail" if rest.len() >= 7 => {
                    let day = day_start(rest[3], rest[4], rest[5]);
                    return KeyKind::Log(LogKey {
                        org,
                        account: Some(rest[0].to_string()),
                        region: Some(rest[2].to_string()),
                        day_start: day,
                        key_time: from_name.map(|(_, _, t)| t),
                    });
                }
                _ => {}
            }
        }
    }
    match from_name {
        Some((account, region, t)) => KeyKind::Log(LogKey {
            org: None,
            account: Some(account),
            region: Some(region),
            day_start: None,
            key_time: Some(t),
        }),
        None => KeyKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_millis;

    #[test]
    fn layouts() {
        let plain = "bucket/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz";
        let KeyKind::Log(k) = classify_key(plain) else {
            panic!("not a log: {plain}")
        };
        assert_eq!(k.org, None);
        assert_eq!(k.account.as_deref(), Some("111122223333"));
        assert_eq!(k.region.as_deref(), Some("us-east-2"));
        assert_eq!(format_millis(k.key_time.unwrap()), "2015-08-01T02:10:00Z");
        assert_eq!(format_millis(k.day_start.unwrap()), "2015-08-01T00:00:00Z");

        let org = "/data/my/prefix/AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/2026/11/27/111122223333_CloudTrail_eu-west-1_20261127T2355Z_abcdefghijklmnop.json.gz";
        let KeyKind::Log(k) = classify_key(org) else { panic!() };
        assert_eq!(k.org.as_deref(), Some("o-exampleorgid"));
        assert_eq!(k.region.as_deref(), Some("eu-west-1"));
        assert_eq!(format_millis(k.key_time.unwrap()), "2026-11-27T23:55:00Z");
    }

    #[test]
    fn digests_and_insights_are_not_events() {
        let d = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz";
        assert_eq!(classify_key(d), KeyKind::NotEvents("digest"));
        let i = "AWSLogs/o-abc123/111122223333/CloudTrail-Insight/us-east-1/2026/01/01/x.json.gz";
        assert_eq!(classify_key(i), KeyKind::NotEvents("insight"));
        // A digest copied out of its folder is still recognised by name.
        assert_eq!(
            classify_key("/tmp/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150817T150131Z.json.gz"),
            KeyKind::NotEvents("digest")
        );
    }

    #[test]
    fn odd_names() {
        // AWS file name without the folders: pruned by the name's time.
        let KeyKind::Log(k) = classify_key("111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json")
        else {
            panic!()
        };
        assert_eq!(k.day_start, None);
        assert!(k.key_time.is_some());
        // Layout folders with a renamed file: pruned by the day folder.
        let KeyKind::Log(k) = classify_key("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/27/export-1.json.gz")
        else {
            panic!()
        };
        assert_eq!(k.key_time, None);
        assert_eq!(
            k.delivery_range().unwrap().1 - k.delivery_range().unwrap().0,
            24 * HOUR - MINUTE
        );
        for other in [
            "logs/events.json",
            "AWSLogs/notanaccount/CloudTrail/us-east-1/2026/11/27/x.json.gz",
            "111122223333_CloudTrail_us-east-1_2026XX27T1200Z_x.json.gz",
            "111122223333_CloudTrail_us-east-1_20261127T1200Z",
            "",
        ] {
            assert_eq!(classify_key(other), KeyKind::Other, "{other}");
        }
        // Impossible dates in folders do not give a day.
        let KeyKind::Log(k) = classify_key("AWSLogs/111122223333/CloudTrail/us-east-1/2026/02/30/f.json.gz") else {
            panic!()
        };
        assert_eq!(k.day_start, None);
    }
}
