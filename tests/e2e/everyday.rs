//! Everyday accounts that this project did not write (`tests/everyday/`, vendored unmodified):
//! for three seeds, two weeks of two ordinary accounts with every injected incident. `scan`
//! must confirm no D2-D7 cause for anyone outside the incidents, and each incident's
//! `diagnose` must confirm what its `expect.json` says and nothing it says must not.

use std::process::Command;

use crate::util::repo;

/// The vendored files, as copied: an edit to make a test pass must show.
const VENDORED: [(&str, &str); 2] = [
    (
        "gen_everyday.py",
        "46fa4bb7caf720179618934fe8206cfb0637269f588563efb6c5c007a9fcb3d9",
    ),
    (
        "check_everyday.py",
        "fb2163f251086a811835522ebeab585b97e24affd9b8ea4f106cc4b4482e605b",
    ),
];

/// SHA-256 by the system's tool: `sha256sum` (GNU), else `shasum -a 256` (macOS).
fn sha256(path: &std::path::Path) -> String {
    let o = Command::new("sha256sum")
        .arg(path)
        .output()
        .or_else(|_| Command::new("shasum").args(["-a", "256"]).arg(path).output())
        .expect("sha256sum or shasum");
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_vendored_generator_is_unmodified() {
    for (name, want) in VENDORED {
        assert_eq!(
            sha256(&repo().join("tests/everyday").join(name)),
            want,
            "{name} was edited"
        );
    }
}

fn seed(n: u32) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("everyday");
    let dir = repo().join("tests/everyday");
    let g = Command::new("python3")
        .arg(dir.join("gen_everyday.py"))
        .arg(&out)
        .args(["--seed", &n.to_string(), "--inject", "all"])
        .output()
        .expect("python3");
    assert!(
        g.status.success(),
        "gen_everyday.py: {}",
        String::from_utf8_lossy(&g.stderr)
    );
    let c = Command::new("python3")
        .arg(dir.join("check_everyday.py"))
        .arg(&out)
        .args(["--mfatrail", env!("CARGO_BIN_EXE_mfatrail")])
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&c.stdout);
    eprintln!("seed {n}:\n{text}");
    assert_eq!(
        c.status.code(),
        Some(0),
        "seed {n}: everyday check failed:\n{text}\n{}",
        String::from_utf8_lossy(&c.stderr)
    );
    assert!(text.contains("0 with a confirmed D2-D7 cause"), "{text}");
}

#[test]
fn everyday_seed_1() {
    if !crate::util::available("everyday_seed_1", &[crate::util::Need::Python]) {
        return;
    }
    seed(1);
}

#[test]
fn everyday_seed_2() {
    if !crate::util::available("everyday_seed_2", &[crate::util::Need::Python]) {
        return;
    }
    seed(2);
}

#[test]
fn everyday_seed_3() {
    if !crate::util::available("everyday_seed_3", &[crate::util::Need::Python]) {
        return;
    }
    seed(3);
}
