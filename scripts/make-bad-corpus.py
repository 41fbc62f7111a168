#!/usr/bin/env python3
"""Writes testdata/bad/: one hostile or broken input per file (see tests/e2e/corpus.rs)."""
import gzip, json, os, zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "testdata", "bad")
os.makedirs(OUT, exist_ok=True)

def ev(i, **kw):
    r = {"eventVersion": "1.08", "eventTime": "2026-11-27T10:%02d:00Z" % i, "eventSource": "signin.amazonaws.com",
         "eventName": "ConsoleLogin", "eventID": "bad-%02d" % i, "awsRegion": "us-east-1",
         "userIdentity": {"type": "IAMUser", "userName": "mallory", "accountId": "111122223333", "accessKeyId": ""},
         "responseElements": {"ConsoleLogin": "Failure"}, "additionalEventData": {"MFAUsed": "Yes"},
         "errorMessage": "Failed authentication", "recipientAccountId": "111122223333", "userAgent": "Mozilla/5.0"}
    r.update(kw)
    return r

def records(*recs):
    return json.dumps({"Records": list(recs)}).encode()

def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)

def gz(data):
    return gzip.compress(data, mtime=0)

import hashlib
good = records(*[ev(i, userAgent=hashlib.sha256(str(i).encode()).hexdigest() * 4) for i in range(20, 60)])
full = gz(good)
write("truncated.json.gz", full[: len(full) * 2 // 3])
crc = bytearray(full); crc[-6] ^= 0xFF
write("bad-crc.json.gz", bytes(crc))
write("garbage.json.gz", bytes((i * 131 + 7) % 256 for i in range(4000)))
write("empty.json", b"")
write("empty-records.json", b'{"Records":[]}')
write("bomb.json.gz", gz(b" " * 3_000_000))  # inflates past --max-file-bytes 1000000
write("object-not-cloudtrail.json", b'{"trailName":"x","settings":{"a":1}}')
write("number.json", b"42")
write("digest-content.json.gz", gz(b'{"awsAccountId":"111122223333","digestStartTime":"2026-11-27T09:00:00Z","digestEndTime":"2026-11-27T10:00:00Z","logFiles":[]}'))
os.makedirs(os.path.join(OUT, "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/27"), exist_ok=True)
write("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/27/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261127T100000Z.json.gz",
      gz(b'{"awsAccountId":"111122223333","logFiles":[]}'))
lines = [json.dumps(ev(3)), '{"eventTime":"2026-11-27T10:04:00Z","eventName":"ConsoleLogin",', json.dumps(ev(5))]
write("ndjson-broken-line.jsonl", ("\n".join(lines) + "\n").encode())
write("bare-array.json", json.dumps([ev(6), ev(7)]).encode())
no_time = ev(8); del no_time["eventTime"]
write("time-problems.json", records(no_time, ev(9, eventTime="last tuesday"), ev(10, eventTime="2999-01-01T00:00:00Z"), ev(11)))
write("huge-record.json", records(ev(12, userAgent="A" * 1_200_000)))
deep = '{"n":' * 1000 + '"x"' + "}" * 1000  # written by hand: Python's json recurses
r = json.dumps(ev(13, requestParameters="DEEP")).replace('"DEEP"', deep)
write("deep-nesting.json", ('{"Records":[' + r + "]}").encode())
inv = records(ev(14), ev(15)).replace(b"bad-15", b"bad-\xff\xfe5")
write("invalid-utf8.json", inv)
write("policy-not-json.json", records({"eventVersion": "1.08", "eventTime": "2026-11-27T09:16:00Z", "eventSource": "iam.amazonaws.com",
    "eventName": "PutUserPolicy", "eventID": "bad-16", "userIdentity": {"type": "IAMUser", "userName": "ops"},
    "requestParameters": {"userName": "mallory", "policyName": "p", "policyDocument": "{this is not json"},
    "recipientAccountId": "111122223333"}))
hostile = "\x1b[2J\x1b[31mred\r\x00<script>alert(1)</script>\u202egpj.exe\u200b"
write("hostile-strings.json", records(ev(17, userAgent=hostile, errorMessage="Failed authentication" + hostile)))
print("wrote", len(os.listdir(OUT)), "entries to", OUT)
