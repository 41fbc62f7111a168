//! CSV for spreadsheets (RFC 4180: CRLF line ends, fields quoted when they
//! hold a comma, a quote or a line break, quotes doubled). A cell that a
//! spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or
//! a carriage return) gets a leading `'`, so log strings stay text; control,
//! bidi and zero-width characters are made visible as in the text report (a CSV
//! ends up on terminals too). JSON keeps the exact strings.

use std::io::Write;

/// One CSV field, neutralised and quoted as needed.
pub fn field(raw: &str) -> String {
    // A leading tab or CR is judged before sanitising turns it into text.
    let formula = raw.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let s = super::sanitize(raw);
    let neutral = if formula { format!("'{s}") } else { s.to_owned() };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// Writes one record.
pub fn row<I, S>(w: &mut dyn Write, fields: I) -> std::io::Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let line: Vec<String> = fields.into_iter().map(|f| field(f.as_ref())).collect();
    write!(w, "{}\r\n", line.join(","))
}

/// The timeline's events, one per line.
pub fn write_events(w: &mut dyn Write, events: &[crate::event::EventRow]) -> std::io::Result<()> {
    row(
        w,
        [
            "event_time",
            "class",
            "event_source",
            "event_name",
            "outcome",
            "user_name",
            "role_name",
            "account",
            "source_ip",
            "target_user",
            "mfa_serial",
            "error_code",
            "error_message",
            "user_agent",
            "event_id",
            "source_object",
        ],
    )?;
    for e in events {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        row(
            w,
            [
                crate::event::format_millis(e.event_time),
                e.class.as_str().to_owned(),
                e.event_source.clone(),
                e.event_name.clone(),
                e.outcome.as_str().to_owned(),
                o(&e.user_name),
                o(&e.role_name),
                e.account().unwrap_or("").to_owned(),
                o(&e.source_ip),
                o(&e.target_user),
                o(&e.mfa_serial),
                o(&e.error_code),
                o(&e.error_message),
                o(&e.user_agent),
                e.event_id.clone(),
                e.source_object.clone(),
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quoting_follows_rfc_4180() {
        assert_eq!(field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\tx"), "'\\tx");
        assert_eq!(field("\rx"), "'\\rx");
        assert_eq!(field("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("2026-11-27T10:00:00Z"), "2026-11-27T10:00:00Z");
        let mut out = Vec::new();
        row(&mut out, ["a", "b,c"]).unwrap();
        assert_eq!(out, b"a,\"b,c\"\r\n");
    }
}
