#!/usr/bin/env python3
"""Loads CloudTrail log files into DuckDB as the standard Athena CloudTrail table, runs the query
`mfatrail sql --engine duckdb` printed, and writes its result as Parquet (a --source for
mfatrail). With --compare-store, also compares every row and column of the result with an event
store that `mfatrail collect` wrote from the same files.

The table is what Athena's CloudTrail table gives (AWS docs, "Create the table for CloudTrail logs
in Athena"): lower-case columns, `useridentity` a struct, `requestparameters`,
`responseelements`, `additionaleventdata` and `serviceeventdetails` the JSON text of the record's
objects, `timestamp` the delivery day of the key (`yyyy/MM/dd`), and `filename` the file (the
column DuckDB's `read_json(..., filename = true)` adds; Athena's is the hidden `"$path"`).

    scripts/duckdb-cloudtrail.py --query q.sql --out result/ [--compare-store STORE] SOURCE...

Prints one JSON line: rows loaded, rows kept, seconds of the load and of the query, and the
comparison. Needs `pip install duckdb`.
"""

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import time

import duckdb

STRING_COLUMNS = [
    "eventversion", "eventtime", "eventsource", "eventname", "awsregion", "sourceipaddress",
    "useragent", "errorcode", "errormessage", "requestparameters", "responseelements",
    "additionaleventdata", "requestid", "eventid", "readonly", "eventtype", "apiversion",
    "recipientaccountid", "serviceeventdetails", "sharedeventid", "vpcendpointid",
]
IDENTITY = (
    "STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, invokedby VARCHAR, "
    "accesskeyid VARCHAR, username VARCHAR, "
    "onbehalfof STRUCT(userid VARCHAR, identitystorearn VARCHAR), "
    "sessioncontext STRUCT(attributes STRUCT(mfaauthenticated VARCHAR, creationdate VARCHAR), "
    "sessionissuer STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR)))"
)
DAY = re.compile(r"/CloudTrail/[^/]+/(\d{4})/(\d{2})/(\d{2})/")


def text(v):
    """A JSON value as a Hive STRING column reads it: scalars as text, objects as JSON text."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return json.dumps(v, separators=(",", ":"))


def struct(v, fields):
    """A JSON object as a Hive STRUCT: named fields (camelCase in CloudTrail, lower-case in
    the table), nested structs recursively; anything but an object is NULL."""
    if not isinstance(v, dict):
        return None
    lower = {k.lower(): val for k, val in v.items()}
    out = {}
    for name, sub in fields.items():
        val = lower.get(name)
        out[name] = struct(val, sub) if sub else text(val)
    return out


IDENTITY_FIELDS = {
    "type": None, "principalid": None, "arn": None, "accountid": None, "invokedby": None,
    "accesskeyid": None, "username": None,
    "onbehalfof": {"userid": None, "identitystorearn": None},
    "sessioncontext": {
        "attributes": {"mfaauthenticated": None, "creationdate": None},
        "sessionissuer": {"type": None, "principalid": None, "arn": None, "accountid": None, "username": None},
    },
}


def records(path):
    """The records of one log file: {"Records": [...]}, a JSON array, one object, or JSON lines."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            data = f.read()
    except (OSError, EOFError):
        return []
    try:
        doc = json.loads(data)
        if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
            return [r for r in doc["Records"] if isinstance(r, dict)]
        if isinstance(doc, list):
            return [r for r in doc if isinstance(r, dict)]
        if isinstance(doc, dict) and "digestStartTime" not in doc:
            return [doc]
        return []
    except RecursionError:
        return []  # nesting deeper than Python's parser goes: no engine reads it either
    except ValueError:
        out = []
        for line in data.splitlines():
            try:
                r = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(r, dict):
                out.append(r)
        return out


def files(sources):
    for s in sources:
        if os.path.isfile(s):
            yield s
            continue
        for root, dirs, names in os.walk(s):
            dirs[:] = sorted(d for d in dirs if d not in ("CloudTrail-Digest", "CloudTrail-Insight"))
            for n in sorted(names):
                if n.endswith((".json.gz", ".json", ".gz", ".jsonl", ".ndjson")):
                    yield os.path.join(root, n)


def table_rows(sources):
    for path in files(sources):
        m = DAY.search(path.replace(os.sep, "/"))
        day = "/".join(m.groups()) if m else None
        for r in records(path):
            lower = {k.lower(): v for k, v in r.items()}
            row = {c: text(lower.get(c)) for c in STRING_COLUMNS}
            row["useridentity"] = struct(lower.get("useridentity"), IDENTITY_FIELDS)
            row["timestamp"] = day
            row["filename"] = path
            yield row


def load(con, sources):
    columns = {c: "VARCHAR" for c in STRING_COLUMNS}
    columns["useridentity"] = IDENTITY
    columns["timestamp"] = "VARCHAR"
    columns["filename"] = "VARCHAR"
    fd, name = tempfile.mkstemp(suffix=".ndjson")
    try:
        n = 0
        with os.fdopen(fd, "w") as tmp:
            for row in table_rows(sources):
                tmp.write(json.dumps(row, separators=(",", ":")))
                tmp.write("\n")
                n += 1
        spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
        con.execute(
            f"CREATE OR REPLACE TABLE cloudtrail AS SELECT * FROM read_json('{name}', "
            f"format = 'newline_delimited', columns = {spec}, maximum_object_size = 1073741824)"
        )
    finally:
        os.unlink(name)
    return n


def compare(con, store):
    """Rows only in the result, and only in the store (every column but source_object)."""
    import glob

    cols = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE result)").fetchall()]
    keep = [c for c in cols if c != "source_object"]
    sel = ", ".join("epoch_ms(event_time) AS event_time" if c == "event_time" else f'"{c}"' for c in keep)
    if glob.glob(f"{store}/**/*.parquet", recursive=True):
        native = f"read_parquet('{store}/**/*.parquet', hive_partitioning = false)"
    else:  # nothing kept: an empty relation of the result's columns
        native = "(SELECT * FROM result WHERE false)"
    con.execute(f"CREATE OR REPLACE VIEW native AS SELECT {sel} FROM {native}")
    con.execute(f"CREATE OR REPLACE VIEW sql_rows AS SELECT {sel} FROM result WHERE event_time IS NOT NULL")
    only_sql = con.execute("SELECT * FROM (SELECT * FROM sql_rows EXCEPT ALL SELECT * FROM native) LIMIT 5").fetchall()
    only_native = con.execute("SELECT * FROM (SELECT * FROM native EXCEPT ALL SELECT * FROM sql_rows) LIMIT 5").fetchall()
    return {
        "native_rows": con.execute("SELECT count(*) FROM native").fetchone()[0],
        "sql_rows_without_time": con.execute("SELECT count(*) FROM result WHERE event_time IS NULL").fetchone()[0],
        "only_sql": [[str(v) for v in r] for r in only_sql],
        "only_native": [[str(v) for v in r] for r in only_native],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--query", required=True, help="file holding `mfatrail sql --engine duckdb` output")
    ap.add_argument("--out", required=True, help="folder for result.parquet")
    ap.add_argument("--compare-store", help="an event store collected from the same sources")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("sources", nargs="+")
    a = ap.parse_args()
    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    t0 = time.perf_counter()
    loaded = load(con, a.sources)
    t1 = time.perf_counter()
    with open(a.query) as f:
        query = f.read()
    con.execute(f"CREATE OR REPLACE TABLE result AS {query}")
    t2 = time.perf_counter()
    os.makedirs(a.out, exist_ok=True)
    con.execute(f"COPY result TO '{os.path.join(a.out, 'result.parquet')}' (FORMAT PARQUET)")
    out = {
        "loaded": loaded,
        "kept": con.execute("SELECT count(*) FROM result").fetchone()[0],
        "load_seconds": round(t1 - t0, 3),
        "query_seconds": round(t2 - t1, 3),
    }
    if a.compare_store:
        out["compare"] = compare(con, a.compare_store)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
