//! Untrusted strings (userAgent, errorMessage, policy text, file names) are
//! escaped before they reach a terminal: control characters, bidi overrides
//! and zero-width characters could otherwise rewrite what the analyst sees.

/// Escapes characters that can move the cursor, recolour or reorder text.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bad =
            c.is_control() || matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2069 | 0xFEFF | 0x061C);
        if bad {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                _ => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Sanitises and shortens to `max` characters (with an ellipsis).
pub fn clip(s: &str, max: usize) -> String {
    let s = sanitize(s);
    if s.chars().count() <= max {
        return s;
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_are_escaped() {
        assert_eq!(sanitize("Mozilla/5.0"), "Mozilla/5.0");
        assert_eq!(sanitize("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(sanitize("x\u{202e}gpj.exe"), "x\\u{202e}gpj.exe");
        assert_eq!(sanitize("zero\u{200b}width\u{feff}"), "zero\\u{200b}width\\u{feff}");
        assert_eq!(sanitize("c1\u{9b}2J"), "c1\\u{9b}2J");
        assert_eq!(sanitize("l1\nl2"), "l1\\nl2");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("café", 4), "café");
    }
}
