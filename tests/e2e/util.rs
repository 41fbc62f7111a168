#![allow(clippy::disallowed_types)] // reading test inputs back, uncapped is fine

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }
}

/// Runs the binary from the repository root.
pub fn run(args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_mfatrail"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run mfatrail");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Every file under `dir`, recursively.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out.sort();
    out
}

/// The eventIDs of every record in the log files under `dir` (gzip or plain).
pub fn event_ids(dir: &Path) -> HashSet<String> {
    let mut ids = HashSet::new();
    for f in files(dir) {
        let name = f.to_string_lossy();
        if name.contains("CloudTrail-Digest") || !(name.ends_with(".json.gz") || name.ends_with(".json")) {
            continue;
        }
        let raw = std::fs::read(&f).expect("read");
        let text = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut s = String::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_string(&mut s)
                .expect("gunzip");
            s
        } else {
            String::from_utf8(raw).expect("utf8")
        };
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let recs = v.get("Records").cloned().unwrap_or(v);
        for r in recs.as_array().into_iter().flatten() {
            if let Some(id) = r.get("eventID").and_then(|x| x.as_str()) {
                ids.insert(id.to_string());
            }
        }
    }
    ids
}

/// Replaces run-dependent numbers (elapsed time, throughput) so outputs compare.
/// The finding of `rule` in a diagnosis report.
pub fn finding<'a>(r: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    r["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == rule))
        .unwrap_or_else(|| panic!("no finding {rule}"))
}

pub fn stable(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(i) = v.get_mut("inputs").and_then(|i| i.as_object_mut()) {
        i.remove("elapsed_seconds");
        i.remove("mb_per_second");
        i.remove("peak_rss_bytes");
    }
    v
}

/// A tool a test needs beyond Rust.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// `python3` (standard library).
    Python,
    /// A Python module (`duckdb`, `sqlglot`, `websocket`).
    Module(&'static str),
    /// A `chromium` on the PATH.
    Chromium,
}

fn has(n: Need) -> bool {
    let ok = |c: &mut Command| c.output().is_ok_and(|o| o.status.success());
    match n {
        Need::Python => ok(Command::new("python3").arg("--version")),
        Need::Module(m) => ok(Command::new("python3").args(["-c", &format!("import {m}")])),
        Need::Chromium => ok(Command::new("chromium").arg("--version")),
    }
}

/// Whether the tools `test` needs are here. On a machine with Rust alone, a test that needs
/// Python, DuckDB or Chromium is skipped with a line on the terminal (libtest does not capture
/// a direct write to stderr); with `CI` set (`.ci/run` installs them all) a missing tool fails
/// the test instead: CI runs every test.
pub fn available(test: &str, needs: &[Need]) -> bool {
    use std::io::Write;
    let missing: Vec<String> = needs
        .iter()
        .filter(|n| !has(**n))
        .map(|n| match n {
            Need::Python => "python3".to_owned(),
            Need::Module(m) => format!("the Python module {m}"),
            Need::Chromium => "chromium".to_owned(),
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let what = missing.join(", ");
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs {what}: CI runs every test (.ci/run installs them)"
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: needs {what} (`bash .ci/run` installs them; with CI set, this fails)"
    );
    false
}
