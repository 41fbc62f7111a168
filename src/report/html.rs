//! The diagnose and scan reports as one self-contained HTML file: inline CSS
//! and SVG, no script, no network, readable from disk or a mail attachment.
//! Every string that comes from the logs goes through `esc`: a hostile user
//! agent or error message stays inert text.

use std::fmt::Write as _;
use std::io::Write;

use super::scan::ScanReport;
use super::{Inputs, human_bytes};
use crate::event::{HOUR, MINUTE, Millis, format_millis};
use crate::rules::pass::{Mark, MarkKind};
use crate::rules::{Diagnosis, Finding, Status, all_meta};
use crate::stats::RunStats;
use crate::time::format_duration;

/// Makes control, bidi and zero-width characters visible (as the terminal report does), then
/// HTML-escapes (quotes too, for attributes): log strings stay inert text.
pub fn esc(s: &str) -> String {
    let clean = super::sanitize(s);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#1d2433;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d9dee8;padding-bottom:4px}
.meta{color:#5b6478}.conclusion{background:#f4f7fb;border-left:4px solid #3064d0;padding:10px 14px;margin:14px 0}
.badges{display:flex;flex-wrap:wrap;gap:6px;margin:10px 0}
.badge{border-radius:12px;padding:2px 10px;font-size:12px;font-weight:600;border:1px solid transparent}
.confirmed{background:#fde2e1;color:#9b1c17;border-color:#f3b1ad}.ruled_out{background:#e7f5ea;color:#1d6b32}
.inconclusive{background:#fff4d6;color:#7a5600}.not_evaluable{background:#eceff4;color:#4d566b}.error{background:#2b2b2b;color:#fff}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:6px 0}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #e6e9f0;vertical-align:top}
th{background:#f7f8fb;font-weight:600}td.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all}
.rule{border:1px solid #e1e5ee;border-radius:6px;padding:10px 14px;margin:10px 0}.rule h3{margin:0 0 6px;font-size:15px}
.next{color:#24417a;margin-top:6px}.legend span{margin-right:14px;font-size:12px}svg text{font:11px system-ui,sans-serif;fill:#4d566b}
"#;

/// Bucketed failures and successes for the chart.
fn buckets(marks: &[Mark], from: Millis, to: Millis, width: Millis) -> Vec<(Millis, u32, u32)> {
    let n = ((to - from) / width).max(0) as usize + 1;
    let mut v: Vec<(Millis, u32, u32)> = (0..n).map(|i| (from + i as Millis * width, 0, 0)).collect();
    for m in marks {
        if m.time < from || m.time > to {
            continue;
        }
        let i = ((m.time - from) / width) as usize;
        match m.kind {
            MarkKind::Failure | MarkKind::Denial | MarkKind::Typo => v[i].1 += 1,
            MarkKind::Success => v[i].2 += 1,
            _ => {}
        }
    }
    v
}

/// At most this many bars in a chart: a window of years (`--window 100000d`) would otherwise
/// allocate and draw millions of 5-minute buckets.
const MAX_BARS: i64 = 600;

/// The narrowest of the usual bucket widths (5 minutes and up) that keeps a span within
/// `MAX_BARS` bars.
fn bar_width(span: Millis) -> Millis {
    const D: Millis = 24 * HOUR;
    [
        5 * MINUTE,
        15 * MINUTE,
        30 * MINUTE,
        HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        D,
        7 * D,
        30 * D,
        365 * D,
    ]
    .into_iter()
    .find(|w| span / w < MAX_BARS)
    .unwrap_or_else(|| span / MAX_BARS + 1)
}

/// One chart: stacked bars per bucket (failures up in red, successes down in green), device
/// and policy events as markers, T0 and the window edges as lines. Every mark has a `<title>`
/// (hover, no script) and a `data-mark` attribute (tests count them).
/// What one chart shows.
struct Chart<'a> {
    title: &'a str,
    from: Millis,
    to: Millis,
    /// Bucket width.
    width: Millis,
    t0: Option<Millis>,
    /// Start of the first pass, when the window was extended.
    extended_from: Option<Millis>,
}

fn chart(out: &mut String, c: &Chart, marks: &[Mark]) {
    let Chart {
        title,
        from,
        to,
        width,
        t0,
        extended_from,
    } = *c;
    const W: f64 = 1040.0;
    const H: f64 = 150.0;
    const MID: f64 = 90.0;
    let span = (to - from).max(1) as f64;
    let x = |t: Millis| 40.0 + (t - from) as f64 / span * (W - 60.0);
    let b = buckets(marks, from, to, width);
    let peak = b.iter().map(|(_, f, s)| (*f).max(*s)).max().unwrap_or(1).max(1) as f64;
    let bw = ((W - 60.0) / b.len() as f64 - 1.0).max(1.0);
    let _ = write!(
        out,
        r#"<figure><figcaption><b>{}</b></figcaption><svg role="img" viewBox="0 0 {W} {H}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title),
        esc(title)
    );
    let _ = write!(
        out,
        r##"<line x1="40" y1="{MID}" x2="{}" y2="{MID}" stroke="#b8c0cf"/>"##,
        W - 20.0
    );
    for (t, f, s) in &b {
        let bx = x(*t);
        if *f > 0 {
            let h = *f as f64 / peak * 70.0;
            let _ = write!(
                out,
                r##"<rect data-mark="failures" x="{bx:.1}" y="{:.1}" width="{bw:.1}" height="{h:.1}" fill="#d2453b"><title>{} failure signal(s), {} .. {}</title></rect>"##,
                MID - h,
                f,
                format_millis(*t),
                format_millis(t + width)
            );
        }
        if *s > 0 {
            let h = *s as f64 / peak * 40.0;
            let _ = write!(
                out,
                r##"<rect data-mark="successes" x="{bx:.1}" y="{MID}" width="{bw:.1}" height="{h:.1}" fill="#2f9e55"><title>{} success(es), {} .. {}</title></rect>"##,
                s,
                format_millis(*t),
                format_millis(t + width)
            );
        }
    }
    for m in marks.iter().filter(|m| m.time >= from && m.time <= to) {
        let (color, y, shape) = match m.kind {
            MarkKind::Device => ("#6a3fc1", 12.0, "device"),
            MarkKind::Policy => ("#d98b00", 26.0, "policy"),
            _ => continue,
        };
        let mx = x(m.time);
        let _ = write!(
            out,
            r#"<circle data-mark="{shape}" cx="{mx:.1}" cy="{y}" r="5" fill="{color}"><title>{} {}</title></circle>"#,
            format_millis(m.time),
            esc(&m.label)
        );
    }
    if let Some(t) = t0.filter(|t| *t >= from && *t <= to) {
        let tx = x(t);
        let _ = write!(
            out,
            r##"<line data-mark="t0" x1="{tx:.1}" y1="4" x2="{tx:.1}" y2="{}" stroke="#1d2433" stroke-dasharray="4 3"><title>T0 {}</title></line><text x="{:.1}" y="{}">T0</text>"##,
            H - 18.0,
            format_millis(t),
            tx + 3.0,
            H - 20.0
        );
    }
    if let Some(e) = extended_from.filter(|e| *e > from && *e < to) {
        let ex = x(e);
        let _ = write!(
            out,
            r##"<rect data-mark="extension" x="40" y="2" width="{:.1}" height="{}" fill="#3064d0" fill-opacity="0.06"><title>extended window: no cause in the first pass, analysis repeated back to {}</title></rect><line x1="{ex:.1}" y1="2" x2="{ex:.1}" y2="{}" stroke="#3064d0" stroke-dasharray="2 2"/>"##,
            ex - 40.0,
            H - 16.0,
            format_millis(from),
            H - 16.0
        );
    }
    let _ = write!(
        out,
        r#"<text x="40" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></svg></figure>"#,
        H - 2.0,
        format_millis(from),
        W - 20.0,
        H - 2.0,
        format_millis(to)
    );
}

fn badge(s: Status) -> String {
    format!(
        r#"<span class="badge {}">{}</span>"#,
        s.as_str(),
        s.as_str().replace('_', " ")
    )
}

fn finding_html(out: &mut String, f: &Finding) {
    let next = all_meta()
        .into_iter()
        .find(|m| m.id == f.rule)
        .map(|m| m.next_step)
        .unwrap_or("");
    let _ = write!(
        out,
        r#"<section class="rule" id="{}"><h3>{} {} {}</h3><div>{}</div>"#,
        esc(f.rule.as_str()),
        badge(f.status),
        esc(f.rule.as_str()),
        esc(f.title),
        esc(&f.summary)
    );
    if !f.evidence.is_empty() {
        out.push_str("<table><tr><th>time</th><th>event</th><th>event id</th><th>why</th><th>source object</th></tr>");
        for e in &f.evidence {
            let _ = write!(
                out,
                r#"<tr><td class="mono">{}</td><td>{}</td><td class="mono">{}</td><td>{}</td><td class="mono">{}</td></tr>"#,
                esc(&e.event_time),
                esc(&e.event_name),
                esc(&e.event_id),
                esc(&e.note),
                esc(&e.source_object)
            );
        }
        out.push_str("</table>");
    }
    // The runbook's fix for a confirmed cause (D1 only sets the baseline).
    if f.status == Status::Confirmed && f.rule != crate::rules::RuleId::D1 && !next.is_empty() {
        let _ = write!(out, r#"<div class="next"><b>What to do next:</b> {}</div>"#, esc(next));
    }
    out.push_str("</section>");
}

fn inputs_html(out: &mut String, s: &RunStats, i: &Inputs) {
    let _ = write!(
        out,
        "<h2>Inputs</h2><table><tr><th>files</th><td>{} listed = {} pruned + {} digest/insight skipped + {} unchanged + {} read ({} partial) + {} failed</td></tr>\
         <tr><th>records</th><td>{} found = {} kept + {} not MFA-relevant + {} outside the window + {} duplicate copies + {} malformed + {} without a usable eventTime</td></tr>\
         <tr><th>bytes</th><td>{} compressed, {} decompressed; {:.2} s</td></tr></table>",
        s.files_listed,
        s.files_pruned,
        s.files_skipped_not_events,
        s.files_unchanged,
        s.files_read,
        s.files_partial.len(),
        s.files_failed.len(),
        s.records,
        s.records_kept,
        s.records_dropped,
        s.records_outside_window,
        s.records_duplicate,
        s.records_malformed,
        s.records_without_time,
        human_bytes(s.bytes_compressed),
        human_bytes(s.bytes_decompressed),
        i.elapsed_seconds
    );
    for f in s.files_failed.iter().chain(&s.files_partial) {
        let _ = write!(out, r#"<div class="mono">{}: {}</div>"#, esc(&f.object), esc(&f.reason));
    }
}

fn page(w: &mut dyn Write, title: &str, body: &str) -> std::io::Result<()> {
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>{}</title><style>{CSS}</style></head><body>{body}</body></html>\n",
        esc(title)
    )
}

/// The diagnose report.
pub fn write_diagnosis(
    w: &mut dyn Write,
    d: &Diagnosis,
    stats: &RunStats,
    elapsed: std::time::Duration,
) -> std::io::Result<()> {
    let mut b = String::new();
    let p = &d.principal;
    let _ = write!(
        b,
        r#"<h1>MFA diagnosis: {}</h1><div class="meta">{} · account {} · window {} .. {} ({}{})</div>"#,
        esc(&p.name),
        esc(p.kind.as_str()),
        esc(if p.account.is_empty() { "unknown" } else { &p.account }),
        format_millis(d.since),
        format_millis(d.until),
        format_duration(d.until - d.since),
        if d.extended {
            ", extended: no cause in the first pass"
        } else {
            ""
        }
    );
    let _ = write!(
        b,
        r#"<div class="conclusion">{}</div><div class="badges">"#,
        esc(&d.conclusion)
    );
    for f in &d.findings {
        let _ = write!(
            b,
            r##"<a href="#{}">{}</a> "##,
            esc(f.rule.as_str()),
            badge(f.status).replace("</span>", &format!(" {}</span>", esc(f.rule.as_str())))
        );
    }
    b.push_str("</div><h2>Timeline</h2>");
    b.push_str(r##"<div class="legend"><span style="color:#d2453b">■ failure signals</span><span style="color:#2f9e55">■ successes</span><span style="color:#6a3fc1">● device events</span><span style="color:#d98b00">● policy changes</span><span>┆ T0</span></div>"##);
    let t0 = d.t0;
    let first_pass = d.extended.then_some(d.first_since);
    let width = bar_width(d.until - d.since);
    let title = format!("Whole window, {} buckets", crate::time::format_duration(width));
    let whole = Chart {
        title: &title,
        from: d.since,
        to: d.until,
        width,
        t0,
        extended_from: first_pass,
    };
    chart(&mut b, &whole, &d.marks);
    let hour = Chart {
        title: "Last hour, 1-minute buckets",
        from: d.until - HOUR,
        width: MINUTE,
        extended_from: None,
        ..whole
    };
    chart(&mut b, &hour, &d.marks);
    if let Some(snap) = &d.snapshot {
        let how = match (&snap.other_accounts, &snap.not_replayed) {
            (Some(o), _) => format!("not used: {}", esc(o)),
            (None, Some(why)) => format!("dated facts only: {}", esc(why)),
            (None, None) => "replayed back to T0 over the logs".to_owned(),
        };
        b.push_str(&format!(
            "<h2>IAM snapshot</h2><p>{} as of {} ({}); {how}.</p>",
            esc(&snap.files.join(", ")),
            esc(&snap.time),
            esc(snap.time_from)
        ));
        if !snap.contradictions.is_empty() || !snap.warnings.is_empty() {
            b.push_str("<ul>");
            for c in &snap.contradictions {
                b.push_str(&format!("<li>contradiction: {}</li>", esc(c)));
            }
            for x in &snap.warnings {
                b.push_str(&format!("<li>warning: {}</li>", esc(x)));
            }
            b.push_str("</ul>");
        }
    }
    b.push_str("<h2>Findings</h2>");
    for f in &d.findings {
        finding_html(&mut b, f);
    }
    let i = Inputs::new(stats, elapsed);
    inputs_html(&mut b, stats, &i);
    page(w, &format!("MFA diagnosis: {}", p.name), &b)
}

/// The scan report.
pub fn write_scan(w: &mut dyn Write, r: &ScanReport) -> std::io::Result<()> {
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<h1>MFA failures by user</h1><div class="meta">{} .. {} · {} IAM users, {} role sessions, {} Identity Center users</div>"#,
        esc(r.since.as_deref().unwrap_or("(open)")),
        esc(r.until.as_deref().unwrap_or("(open)")),
        r.users.len(),
        r.role_sessions.len(),
        r.identity_center_users.len()
    );
    b.push_str("<h2>IAM users (and root)</h2><table><tr><th>user</th><th>account</th><th>failures</th><th>typos</th><th>denials</th><th>first failure</th><th>scope</th><th>causes</th><th>conclusion</th></tr>");
    for u in &r.users {
        let causes: String = if u.causes.is_empty() {
            "none".into()
        } else {
            u.causes
                .iter()
                .map(|c| format!(r#"<span class="badge confirmed">{c}</span>"#))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = write!(
            b,
            r#"<tr><td>{}</td><td class="mono">{}</td><td>{}</td><td>{}</td><td>{}</td><td class="mono">{}</td><td>{}</td><td>{causes}</td><td>{}</td></tr>"#,
            esc(&u.user),
            esc(&u.account),
            u.failures,
            u.typo_failures,
            u.mfa_required_denials,
            esc(u.first_failure.as_deref().unwrap_or("-")),
            esc(&u.scope),
            esc(&u.conclusion)
        );
    }
    b.push_str("</table>");
    for (title, list) in [
        ("Role sessions (not IAM users: no device to examine)", &r.role_sessions),
        (
            "IAM Identity Center users (MFA managed in Identity Center)",
            &r.identity_center_users,
        ),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(
            b,
            "<h2>{}</h2><table><tr><th>principal</th><th>account</th><th>failures</th><th>first</th><th>last</th></tr>",
            esc(title)
        );
        for o in list {
            let _ = write!(
                b,
                r#"<tr><td>{}</td><td class="mono">{}</td><td>{}</td><td class="mono">{}</td><td class="mono">{}</td></tr>"#,
                esc(&o.principal),
                esc(&o.account),
                o.failures,
                esc(&o.first_failure),
                esc(&o.last_failure)
            );
        }
        b.push_str("</table>");
    }
    inputs_html(&mut b, &r.inputs.stats, &r.inputs);
    page(w, "MFA failures by user", &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_of_centuries_draws_a_few_hundred_bars() {
        assert_eq!(bar_width(24 * HOUR), 5 * MINUTE);
        assert_eq!(bar_width(3 * 24 * HOUR), 15 * MINUTE);
        let ages = 100_000 * 24 * HOUR;
        assert!(ages / bar_width(ages) < MAX_BARS);
        assert!(buckets(&[], 0, ages, bar_width(ages)).len() <= MAX_BARS as usize + 1);
    }
}
