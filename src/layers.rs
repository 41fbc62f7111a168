//! Data flows one way: source → decode → parse → frame/index → rules → report
//! → commands. This test reads every source file and fails when a module
//! imports one above it (or a sibling of its own rank), so a cycle cannot
//! creep back in. `scripts/module-graph.sh` prints the graph it checks.

/// Each top-level module and its rank: a module may use only modules of a lower rank.
pub const RANKS: &[(&str, u8)] = &[
    ("event", 0),
    ("error", 1),
    ("exit", 1),
    ("policy", 1),
    ("progress", 1),
    ("stats", 1),
    ("time", 2),
    ("decode", 3),
    ("source", 3),
    ("snapshot", 3),
    ("parse", 4),
    ("frame", 5),
    ("index", 6),
    ("store", 6),
    ("sql", 6),
    ("pipeline", 7),
    ("rules", 8),
    ("report", 9),
    ("cli", 10),
    ("commands", 11),
];

fn rank(m: &str) -> Option<u8> {
    RANKS.iter().find(|(n, _)| *n == m).map(|(_, r)| *r)
}

/// The crate modules a source text refers to (`crate::x`), comments and doc lines skipped.
pub fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let name: String = rest[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
            rest = &rest[at + 7..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn imports_flow_one_way() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut all = Vec::new();
        files(&src, &mut all);
        let mut bad = Vec::new();
        for f in all {
            let rel = f.strip_prefix(&src).expect("under src");
            let top = rel
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .unwrap_or("")
                .trim_end_matches(".rs")
                .to_string();
            let Some(mine) = rank(&top) else {
                // lib.rs, main.rs and this file sit above the graph.
                continue;
            };
            let text = std::fs::read_to_string(&f).expect("read");
            for r in references(&text) {
                if r == top || matches!(r.as_str(), "Error" | "Result") && mine >= 1 {
                    continue;
                }
                match rank(&r) {
                    Some(theirs) if theirs < mine => {}
                    Some(_) => bad.push(format!("{}: {top} (rank {mine}) uses {r}", rel.display())),
                    None => bad.push(format!("{}: unknown module crate::{r}", rel.display())),
                }
            }
        }
        assert!(bad.is_empty(), "imports against the flow:\n{}", bad.join("\n"));
    }

    #[test]
    fn references_skip_comments() {
        assert_eq!(
            references("use crate::event::X; // crate::rules\n/// [`crate::stats`]\nlet a = crate::time::f();"),
            ["event", "time"]
        );
    }
}
