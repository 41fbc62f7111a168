//! `mfatrail sql` (DESIGN §8): the classifier as SQL gives the native path's rows and findings.
//!
//! For every fixture (the runbook scenarios, the hand-written rule cases, the noisy account
//! week, real AWS-written samples and odd timestamps), `scripts/duckdb-cloudtrail.py` loads the
//! raw CloudTrail into DuckDB as the standard Athena table and runs the query that
//! `mfatrail sql --engine duckdb` prints. Then:
//! - every row and column of the result equals the event store `mfatrail collect` writes from
//!   the same files (only `source_object` differs: the engine names the file, not the record);
//! - `scan` and `diagnose` (every user the scan lists) on the result give the report the raw
//!   files give: statuses, summaries, metrics, evidence event ids, conclusion, exit code.
//!
//! The Athena and Trino queries and the DDL are parsed by sqlglot in their dialects, and
//! hostile command-line values are refused with exit 2.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{repo, run};

/// The fixtures, relative to the repository. Left out: `testdata/bad` (it tests the native
/// reader on broken files, where an engine has its own reader) and Panther's normalised
/// exports in `testdata/real` (their `p_event_time` is not a CloudTrail field).
fn fixtures() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["testdata/scenarios"] {
        for e in std::fs::read_dir(repo().join(dir)).expect("scenarios").flatten() {
            out.push(format!("{dir}/{}", e.file_name().to_string_lossy()));
        }
    }
    for e in std::fs::read_dir(repo().join("testdata/rules"))
        .expect("rules")
        .flatten()
    {
        for f in std::fs::read_dir(e.path()).expect("rule dir").flatten() {
            let p = f.path();
            // One-file cases, and archives in the key layout (folders).
            if p.extension().is_some_and(|x| x == "json") || p.join("AWSLogs").is_dir() {
                out.push(p.strip_prefix(repo()).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.extend(
        [
            "testdata/noisy",
            "testdata/real/DataDog__stratus-red-team",
            "testdata/real/flosell__trailscraper",
            "testdata/bad/time-problems.json",
            "testdata/bad/hostile-strings.json",
        ]
        .map(String::from),
    );
    out.sort();
    out
}

/// Drops what names files or measures the run: the rest must be equal.
fn comparable(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "source_object" | "inputs"))
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(comparable).collect()),
        other => other.clone(),
    }
}

/// What the issue asks to be identical: each rule's status and evidence, and the conclusion.
fn findings(r: &Value) -> Value {
    let rules: Vec<Value> = r["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let ids: Vec<&Value> = f["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| &e["event_id"])
                .collect();
            serde_json::json!([f["rule"], f["status"], ids])
        })
        .collect();
    serde_json::json!({"findings": rules, "causes": r["conclusion"]["causes"], "conclusion": r["conclusion"]["text"]})
}

fn python(args: &[&str]) -> std::process::Output {
    Command::new("python3")
        .args(args)
        .current_dir(repo())
        .output()
        .expect("python3 (with duckdb and sqlglot: .ci/run installs them)")
}

/// Runs the DuckDB query over `sources` into `out` (result.parquet); returns the helper's report.
fn duckdb(query: &Path, out: &Path, store: Option<&Path>, sources: &[&str]) -> Value {
    let mut args = vec![
        "scripts/duckdb-cloudtrail.py".to_owned(),
        "--query".into(),
        query.to_string_lossy().into_owned(),
        "--out".into(),
        out.to_string_lossy().into_owned(),
    ];
    if let Some(s) = store {
        args.push("--compare-store".into());
        args.push(s.to_string_lossy().into_owned());
    }
    args.extend(sources.iter().map(|s| s.to_string()));
    let o = python(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        o.status.success(),
        "duckdb-cloudtrail.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("helper prints JSON")
}

fn sql(args: &[&str], to: &Path) {
    let mut all = vec!["sql"];
    all.extend_from_slice(args);
    let to_s = to.to_string_lossy().into_owned();
    all.extend(["--output", &to_s]);
    let o = run(&all);
    assert_eq!(o.code, 0, "mfatrail sql: {}", o.stderr);
}

/// The DuckDB query over the helper's table (no partitions), written into `dir`.
fn duckdb_query(dir: &Path) -> PathBuf {
    let query = dir.join("q.sql");
    sql(
        &[
            "--engine",
            "duckdb",
            "--table",
            "cloudtrail",
            "--date-partition",
            "none",
        ],
        &query,
    );
    query
}

fn report(args: &[&str]) -> (i32, Value) {
    let o = run(args);
    let v = serde_json::from_str(&o.stdout).unwrap_or(Value::Null);
    (o.code, v)
}

#[test]
fn duckdb_query_gives_the_native_rows_and_findings_on_every_fixture() {
    if !crate::util::available(
        "duckdb_query_gives_the_native_rows_and_findings_on_every_fixture",
        &[crate::util::Need::Python, crate::util::Need::Module("duckdb")],
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let query = duckdb_query(tmp.path());
    let mut compared = 0;
    let mut diagnosed = 0;
    let mut against_raw = 0;
    for (n, fixture) in fixtures().iter().enumerate() {
        let store = tmp.path().join(format!("store-{n}"));
        let out = tmp.path().join(format!("result-{n}"));
        let o = run(&[
            "collect",
            "--source",
            fixture,
            "--store",
            &store.to_string_lossy(),
            "-q",
        ]);
        assert_eq!(o.code, 0, "{fixture}: collect: {}", o.stderr);
        let got = duckdb(&query, &out, Some(&store), &[fixture]);
        let cmp = &got["compare"];
        assert_eq!(
            cmp["only_sql"],
            Value::Array(vec![]),
            "{fixture}: rows only the SQL keeps"
        );
        assert_eq!(
            cmp["only_native"],
            Value::Array(vec![]),
            "{fixture}: rows only mfatrail keeps"
        );
        let kept = got["kept"].as_u64().unwrap();
        let untimed = cmp["sql_rows_without_time"].as_u64().unwrap();
        assert_eq!(
            kept - untimed,
            cmp["native_rows"].as_u64().unwrap(),
            "{fixture}: row counts"
        );
        compared += kept;

        let res = out.to_string_lossy().into_owned();
        let (code_raw, scan_raw) = report(&["scan", "--source", fixture, "--format", "json", "-q"]);
        let (code_sql, scan_sql) = report(&["scan", "--source", &res, "--format", "json", "-q"]);
        assert_eq!(code_raw, code_sql, "{fixture}: scan exit code");
        assert_eq!(comparable(&scan_raw), comparable(&scan_sql), "{fixture}: scan");
        assert_eq!(
            scan_raw["inputs"]["records_without_time"], scan_sql["inputs"]["records_without_time"],
            "{fixture}: records without a time are counted alike"
        );
        for u in scan_raw["users"].as_array().into_iter().flatten().take(6) {
            let (user, account) = (u["user"].as_str().unwrap(), u["account"].as_str().unwrap_or(""));
            let mut args = vec!["diagnose", "--user", user, "--format", "json", "-q"];
            if !account.is_empty() {
                args.extend(["--account", account]);
            }
            let with = |src: &str| {
                let mut a = args.clone();
                a.extend(["--source", src]);
                report(&a)
            };
            let (raw, stored, via_sql) = (with(fixture), with(&store.to_string_lossy()), with(&res));
            // A raw archive is read newest days first, down to where the user's episode begins
            // and the 48 h before it; a store and a query result are read whole. Either way the
            // rules see the same stretch (DESIGN §6.0): the findings are identical, exit code,
            // statuses, evidence and conclusion.
            assert_eq!(raw.0, via_sql.0, "{fixture} {user}: diagnose exit code");
            assert_eq!(findings(&raw.1), findings(&via_sql.1), "{fixture} {user}: diagnose");
            against_raw += 1;
            // Against the store, which reads the same rows: the whole report.
            assert_eq!(stored.0, via_sql.0, "{fixture} {user}: exit code (store)");
            assert_eq!(
                comparable(&stored.1),
                comparable(&via_sql.1),
                "{fixture} {user}: diagnose (store)"
            );
            diagnosed += 1;
        }
    }
    eprintln!("{compared} rows compared, {diagnosed} diagnoses ({against_raw} against raw)");
    // The fixtures hold hundreds of kept rows and dozens of principals: the loop did compare.
    assert!(
        compared > 1000 && diagnosed > 40 && against_raw == diagnosed,
        "{compared} rows, {diagnosed} diagnoses ({against_raw} against raw)"
    );
}

#[test]
fn partition_pruning_and_the_window_keep_what_the_native_window_keeps() {
    if !crate::util::available(
        "partition_pruning_and_the_window_keep_what_the_native_window_keeps",
        &[crate::util::Need::Python, crate::util::Need::Module("duckdb")],
    ) {
        return;
    }
    // Late delivery: events land in files (and day folders) hours after they happened.
    let fixture = "testdata/scenarios/late_delivery";
    let tmp = tempfile::tempdir().unwrap();
    // Grace's failures from 22:30 are delivered after midnight, into the next day's folder.
    let window = ["--since", "2026-11-26T12:00:00Z", "--until", "2026-11-26T23:30:00Z"];
    let pruned = tmp.path().join("pruned.sql");
    let mut args = vec!["--engine", "duckdb", "--table", "cloudtrail", "--delivery-lag", "3h"];
    args.extend(window);
    sql(&args, &pruned);
    let text = std::fs::read_to_string(&pruned).unwrap();
    assert!(text.contains("\"timestamp\" >= '2026/11/26'") && text.contains("\"timestamp\" <= '2026/11/27'"));
    let out = tmp.path().join("out");
    duckdb(&pruned, &out, None, &[fixture]);

    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v["events"]
            .as_array()
            .expect("timeline events")
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let mut native = vec![
        "timeline", "--user", "grace", "--source", fixture, "--format", "json", "-q",
    ];
    native.extend(window);
    native.extend(["--delivery-lag", "3h"]);
    let (_, raw) = report(&native);
    let res = out.to_string_lossy().into_owned();
    let (_, via_sql) = report(&[
        "timeline", "--user", "grace", "--source", &res, "--format", "json", "-q",
    ]);
    assert!(!ids(&raw).is_empty());
    assert_eq!(ids(&raw), ids(&via_sql));
}

#[test]
fn athena_trino_queries_and_the_ddl_parse_in_their_dialects() {
    if !crate::util::available(
        "athena_trino_queries_and_the_ddl_parse_in_their_dialects",
        &[crate::util::Need::Python, crate::util::Need::Module("sqlglot")],
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let athena = tmp.path().join("athena.sql");
    sql(
        &[
            "--engine",
            "athena",
            "--table",
            "security.cloudtrail_mfa",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-28",
            "--account",
            "111122223333",
            "--region",
            "eu-west-1",
            "--account-partition",
            "account",
            "--region-partition",
            "region",
            "--unload-to",
            "s3://results-bucket/mfa/run-1/",
        ],
        &athena,
    );
    let trino = tmp.path().join("trino.sql");
    sql(
        &[
            "--engine",
            "trino",
            "--table",
            "hive.security.cloudtrail",
            "--since",
            "2026-11-20",
        ],
        &trino,
    );
    let ddl = tmp.path().join("ddl.sql");
    sql(
        &[
            "--ddl",
            "--location",
            "s3://org-trail-bucket/AWSLogs/o-abc123def4/",
            "--account",
            "111122223333",
            "--table",
            "security.cloudtrail_mfa",
        ],
        &ddl,
    );
    // sqlglot has no UNLOAD: the wrapper is checked as text, the SELECT inside is parsed.
    let check = r#"
import sys, sqlglot
athena, trino, ddl = (open(p).read() for p in sys.argv[1:4])
head, tail = "UNLOAD (\n", "\n)\nTO 's3://results-bucket/mfa/run-1/'\nWITH (format = 'PARQUET', compression = 'SNAPPY')\n"
assert athena.startswith(head) and athena.endswith(tail), athena[-200:]
inner = athena[len(head):-len(tail)]
kinds = []
for text, dialect in [(inner, "athena"), (trino, "trino"), (ddl, "athena")]:
    (tree,) = sqlglot.parse(text, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
    kinds.append(type(tree).__name__)
# The check can fail: a query with a lost parenthesis does not parse.
try:
    sqlglot.parse(trino.replace("FROM (", "FROM ", 1), read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    kinds.append("broken query parsed")
except sqlglot.errors.ParseError:
    pass
print(" ".join(kinds))
"#;
    let paths: Vec<String> = [&athena, &trino, &ddl]
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let o = python(&["-c", check, &paths[0], &paths[1], &paths[2]]);
    assert!(o.status.success(), "sqlglot: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "Select Select Create");
}

#[test]
fn hostile_command_line_values_are_refused_with_exit_2() {
    for (args, what) in [
        (vec!["--account", "1' OR '1'='1"], "--account"),
        (vec!["--table", "cloudtrail; DROP TABLE x"], "--table"),
        (vec!["--region", "us-east-1'"], "--region"),
        (vec!["--date-partition", "dt) OR (1=1"], "--date-partition"),
        (vec!["--unload-to", "s3://bucket/x' --"], "--unload-to"),
        (
            vec!["--engine", "trino", "--unload-to", "s3://results-bucket/x/"],
            "--unload-to",
        ),
        (
            vec![
                "--ddl",
                "--location",
                "s3://bucket/not-awslogs/",
                "--account",
                "111122223333",
            ],
            "--location",
        ),
    ] {
        let mut all = vec!["sql"];
        all.extend(args.iter().copied());
        let o = run(&all);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(what) && o.stdout.is_empty(), "{args:?}: {}", o.stderr);
    }
}

#[test]
fn parquet_that_is_not_a_query_result_is_a_counted_failure() {
    if !crate::util::available(
        "parquet_that_is_not_a_query_result_is_a_counted_failure",
        &[crate::util::Need::Python, crate::util::Need::Module("duckdb")],
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let path: PathBuf = tmp.path().join("other.parquet");
    let script = format!(
        "import duckdb; duckdb.sql(\"COPY (SELECT 1 AS a, 'x' AS event_time) TO '{}' (FORMAT PARQUET)\")",
        path.display()
    );
    let o = python(&["-c", &script]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = tmp.path().to_string_lossy().into_owned();
    let (code, r) = report(&["scan", "--source", &dir, "--format", "json", "-q"]);
    assert_eq!(code, 0);
    let failed = r["inputs"]["files_failed"].as_array().expect("files_failed");
    assert_eq!(failed.len(), 1, "{r:#}");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("missing: ") && reason.contains("event_source"),
        "{reason}"
    );
}

#[test]
fn an_athena_unload_prefix_on_s3_is_a_source() {
    if !crate::util::available(
        "an_athena_unload_prefix_on_s3_is_a_source",
        &[crate::util::Need::Python, crate::util::Need::Module("duckdb")],
    ) {
        return;
    }
    let fixture = "testdata/scenarios/device_deleted";
    let tmp = tempfile::tempdir().unwrap();
    let query = duckdb_query(tmp.path());
    let out = tmp.path().join("out");
    duckdb(&query, &out, None, &[fixture]);
    // UNLOAD names its files after the query id, with no extension.
    let s = crate::s3::start();
    let prefix = s.root.path().join("results-bucket/mfa/run-1");
    std::fs::create_dir_all(&prefix).unwrap();
    std::fs::copy(
        out.join("result.parquet"),
        prefix.join("20261129_101500_00042_abcde_0c1f6a4e-7d1b-4b8e-9a57-3f7c2d1e9b10"),
    )
    .unwrap();
    let args = ["diagnose", "--user", "alice", "--format", "json"];
    let remote = s.run(
        &[&args[..], &["-s", "s3://results-bucket/mfa/run-1/"]].concat(),
        crate::s3::SK,
    );
    assert_eq!(remote.code, 0, "{}", remote.stderr);
    let (_, raw) = report(&[&args[..], &["-q", "-s", fixture]].concat());
    let r = remote.json();
    assert_eq!(r["inputs"]["files_read"], 1, "{}", r["inputs"]);
    assert_eq!(findings(&raw), findings(&r));
    assert!(
        findings(&r)["causes"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("D2"))
    );
}
