//! S3 sources against a real S3 protocol server (s3s-fs) on 127.0.0.1,
//! started by the test: same findings as the local folder, organization
//! trails, pagination, pruning, per-object errors, wrong credentials, GETs
//! pinned to the version listed.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::SimpleAuth;
use s3s::dto::{ETag, GetObjectInput, GetObjectOutput, ListObjectsV2Input, ListObjectsV2Output};
use s3s::path::S3Path;
use s3s::service::S3ServiceBuilder;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use serde_json::Value;

use crate::util::{Out, repo, stable};

const AK: &str = "AKIAMFATRAILTEST";
pub(crate) const SK: &str = "mfatrail-test-secret-key";

/// Denies GetObject on keys containing "forbidden" (an object that fails), and listings of
/// such prefixes (a folder that cannot be listed). Logs the name of
/// every operation asked, in the order they arrive.
struct DenySome(Arc<Mutex<Vec<String>>>);

#[async_trait::async_trait]
impl S3Access for DenySome {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        self.0.lock().unwrap().push(cx.s3_op().name().to_string());
        if cx.s3_op().name() == "ListObjectsV2"
            && cx.uri().query().is_some_and(|q| {
                q.split('&')
                    .any(|kv| kv.starts_with("prefix=") && kv.contains("forbidden"))
            })
        {
            return Err(s3_error!(AccessDenied));
        }
        match cx.s3_path() {
            S3Path::Object { key, .. } if key.contains("forbidden") => Err(s3_error!(AccessDenied)),
            _ if cx.credentials().is_none() => Err(s3_error!(AccessDenied)),
            _ => Ok(()),
        }
    }
}

/// s3s-fs, with what S3 does and it does not for mfatrail: listings carry each object's ETag
/// (here its size and modification time: s3s-fs lists none), and a GET whose `If-Match` is not
/// the object's ETag is answered 412 Precondition Failed (s3s-fs ignores it), except for keys
/// containing "unpinned" (a server that ignores it). Objects whose key contains
/// "replaced-after-listing" (same size, other bytes) or "grows-after-listing" change right
/// after the first listing that lists them: between the LIST and the GET.
struct Pinning {
    fs: s3s_fs::FileSystem,
    root: PathBuf,
    /// Every GetObject: the key and its If-Match.
    gets: GetLog,
    changed: Mutex<HashSet<String>>,
}

/// Every GetObject: the key and its If-Match.
type GetLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn etag_of(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let t = m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("{:x}-{:x}", m.len(), t.as_nanos()))
}

#[async_trait::async_trait]
impl S3 for Pinning {
    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let bucket = self.root.join(&req.input.bucket);
        let mut resp = self.fs.list_objects_v2(req).await?;
        for o in resp.output.contents.iter_mut().flatten() {
            let Some(key) = o.key.clone() else { continue };
            let path = bucket.join(&key);
            o.e_tag = etag_of(&path).map(ETag::Strong);
            let change = key.contains("replaced-after-listing") || key.contains("grows-after-listing");
            if change && self.changed.lock().unwrap().insert(key.clone()) {
                let mut bytes = std::fs::read(&path).unwrap();
                if key.contains("grows") {
                    bytes.extend(b" ".repeat(1 << 20));
                } else {
                    // A new version of the same size, JSON still: its first space (between
                    // two tokens in the files the tests put) becomes a tab.
                    let at = bytes.iter().position(|b| *b == b' ').unwrap();
                    bytes[at] = b'\t';
                }
                // A new modification time even on the coarsest clock.
                std::thread::sleep(Duration::from_millis(20));
                std::fs::write(&path, bytes).unwrap();
            }
        }
        Ok(resp)
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let key = req.input.key.clone();
        let asked = req
            .input
            .if_match
            .as_ref()
            .and_then(|c| c.as_etag())
            .map(|t| t.value().to_owned());
        self.gets.lock().unwrap().push((key.clone(), asked.clone()));
        if let Some(asked) = asked
            && !key.contains("unpinned")
            && etag_of(&self.root.join(&req.input.bucket).join(&key)).as_deref() != Some(asked.as_str())
        {
            return Err(s3_error!(PreconditionFailed));
        }
        self.fs.get_object(req).await
    }
}

pub(crate) struct Server {
    endpoint: String,
    pub(crate) root: tempfile::TempDir,
    /// The operations asked, in order.
    ops: Arc<Mutex<Vec<String>>>,
    /// Every GetObject: the key and its If-Match.
    gets: GetLog,
    _rt: tokio::runtime::Runtime,
}

pub(crate) fn start() -> Server {
    let root = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let gets = Arc::new(Mutex::new(Vec::new()));
    let mut b = S3ServiceBuilder::new(Pinning {
        fs: s3s_fs::FileSystem::new(root.path()).unwrap(),
        root: root.path().to_path_buf(),
        gets: gets.clone(),
        changed: Mutex::default(),
    });
    b.set_auth(SimpleAuth::from_single(AK, SK));
    let ops = Arc::new(Mutex::new(Vec::new()));
    b.set_access(DenySome(ops.clone()));
    let service = b.build();
    rt.spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let svc = service.clone();
            tokio::spawn(async move {
                let _ = ConnBuilder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), svc)
                    .await;
            });
        }
    });
    Server {
        endpoint: format!("http://{addr}"),
        root,
        ops,
        gets,
        _rt: rt,
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for f in crate::util::files(from) {
        let rel = f.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

impl Server {
    /// Puts `testdata/<dir>` under `bucket/prefix`.
    fn put(&self, dir: &str, bucket: &str, prefix: &str) {
        copy_tree(&repo().join(dir), &self.root.path().join(bucket).join(prefix));
    }

    pub(crate) fn run(&self, args: &[&str], secret: &str) -> Out {
        let home = self.root.path().join(".no-aws");
        let mut o = Command::new(env!("CARGO_BIN_EXE_mfatrail"))
            .args(args)
            .args(["--endpoint-url", &self.endpoint, "-q"])
            .current_dir(repo())
            .env("AWS_ACCESS_KEY_ID", AK)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", home.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run mfatrail");
        // A fetch that never ends must fail the test, not stall CI: the pipes are read on
        // threads while the run is watched.
        let read = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut b = Vec::new();
                let _ = r.read_to_end(&mut b);
                String::from_utf8_lossy(&b).into_owned()
            })
        };
        let out = read(Box::new(o.stdout.take().unwrap()));
        let err = read(Box::new(o.stderr.take().unwrap()));
        let limit = Instant::now() + Duration::from_secs(180);
        let status = loop {
            if let Some(st) = o.try_wait().unwrap() {
                break st;
            }
            if Instant::now() > limit {
                let _ = o.kill();
                let _ = o.wait();
                panic!("mfatrail {args:?} still running after 180 s: {}", err.join().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Out {
            code: status.code().unwrap_or(-1),
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        }
    }
}

/// The report without what depends on where the files came from.
fn comparable(mut v: Value) -> Value {
    v = stable(v);
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("source_object");
                m.remove("object");
                for x in m.values_mut() {
                    strip(x);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    if let Some(i) = v.get_mut("inputs").and_then(Value::as_object_mut) {
        for k in ["files_ignored", "dirs_pruned", "dirs_skipped_not_events", "s3"] {
            i.remove(k); // folders and GEN.txt are listed differently; files and records are not
        }
    }
    v
}

#[test]
fn s3_gives_the_same_findings_as_local() {
    let s = start();
    for (name, user) in [
        ("device_deleted", "alice"),
        ("group_mfa_no_device", "bob"),
        ("clock_drift", "carol"),
        ("account_wide", "team-01"),
        ("org_multi_account", "org-user-1"),
        ("managed_policy_version", "dave"),
        ("extend_48h", "erin"),
        ("negative_control", "frank"),
        ("late_delivery", "grace"),
        ("two_devices_one_removed", "henry"),
    ] {
        s.put(
            &format!("testdata/scenarios/{name}"),
            "trail-bucket",
            &format!("{name}/"),
        );
        let local = crate::util::run(&[
            "diagnose",
            "-u",
            user,
            "-s",
            &format!("testdata/scenarios/{name}"),
            "--format",
            "json",
            "-q",
        ]);
        let remote = s.run(
            &[
                "diagnose",
                "-u",
                user,
                "-s",
                &format!("s3://trail-bucket/{name}"),
                "--format",
                "json",
            ],
            SK,
        );
        assert_eq!(remote.code, local.code, "{name}: {}", remote.stderr);
        assert_eq!(comparable(remote.json()), comparable(local.json()), "{name}");
        let r = remote.json();
        let objects: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["evidence"].as_array().unwrap().iter())
            .filter_map(|e| e["source_object"].as_str())
            .collect();
        assert!(
            objects.iter().all(|o| o.starts_with("s3://trail-bucket/")),
            "{name}: {objects:?}"
        );
        // One GET per object read, whatever the phases of the read; LISTs counted once.
        let (inputs, flight) = (&r["inputs"], &r["inputs"]["s3"]);
        assert_eq!(flight["gets"], inputs["files_read"], "{name}: {inputs}");
        assert!(flight["lists"].as_u64().unwrap() >= 5, "{name}: {flight}");
    }
    // Timelines too.
    let local = crate::util::run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "--format",
        "json",
        "-q",
    ]);
    let remote = s.run(
        &[
            "timeline",
            "-u",
            "alice",
            "-s",
            "s3://trail-bucket/device_deleted/",
            "--format",
            "json",
        ],
        SK,
    );
    assert_eq!(comparable(remote.json()), comparable(local.json()));
}

#[test]
fn listing_paginates_prunes_and_counts_failures() {
    let s = start();
    s.put("testdata/scenarios/device_deleted", "bucket-one", "");
    // Small pages force many continuation tokens.
    let all = s.run(
        &[
            "timeline",
            "-u",
            "alice",
            "-s",
            "s3://bucket-one",
            "--format",
            "json",
            "--s3-page-size",
            "7",
        ],
        SK,
    );
    assert_eq!(all.code, 0, "{}", all.stderr);
    let local = crate::util::run(&[
        "timeline",
        "-u",
        "alice",
        "-s",
        "testdata/scenarios/device_deleted",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(all.json()["inputs"]["files_read"], local.json()["inputs"]["files_read"]);
    assert_eq!(comparable(all.json())["events"], comparable(local.json())["events"]);
    // A one-day window: other day prefixes are never listed, so far fewer keys are fetched.
    let day = s.run(
        &[
            "timeline",
            "-u",
            "alice",
            "-s",
            "s3://bucket-one",
            "--format",
            "json",
            "--since",
            "2026-11-27",
            "--until",
            "2026-11-27",
            "--delivery-lag",
            "0m",
        ],
        SK,
    );
    let d = day.json();
    assert!(d["inputs"]["dirs_pruned"].as_u64().unwrap() > 0);
    assert!(d["inputs"]["files_read"].as_u64() < all.json()["inputs"]["files_read"].as_u64());
    // An object that fails: counted with its key and reason, the run goes on; --strict exits 3.
    let src = repo().join("testdata/bad/bare-array.json");
    let dest = s.root.path().join("bucket-one/loose");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::copy(&src, dest.join("ok.json")).unwrap();
    std::fs::copy(&src, dest.join("forbidden.json")).unwrap();
    let out = s.run(
        &[
            "timeline",
            "-u",
            "mallory",
            "-s",
            "s3://bucket-one/loose",
            "--format",
            "json",
        ],
        SK,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    let failed = v["inputs"]["files_failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["object"], "s3://bucket-one/loose/forbidden.json");
    assert!(failed[0]["reason"].as_str().unwrap().contains("AccessDenied"));
    assert_eq!(v["events"].as_array().unwrap().len(), 2, "the good object is read");
    let strict = s.run(
        &["timeline", "-u", "mallory", "-s", "s3://bucket-one/loose", "--strict"],
        SK,
    );
    assert_eq!(strict.code, 3);
    // More than 1,000 keys under one prefix: the default 1,000-key pages are followed.
    let many = s.root.path().join("bucket-one/many");
    std::fs::create_dir_all(&many).unwrap();
    for i in 0..1100 {
        std::fs::copy(&src, many.join(format!("part-{i:04}.json"))).unwrap();
    }
    let out = s.run(
        &[
            "timeline",
            "-u",
            "mallory",
            "-s",
            "s3://bucket-one/many",
            "--format",
            "json",
        ],
        SK,
    );
    let v = out.json();
    assert_eq!(v["inputs"]["files_listed"], 1100, "{}", out.stderr);
    assert_eq!(v["inputs"]["files_read"], 1100);
}

#[test]
fn bad_credentials_and_missing_bucket_are_clear_errors() {
    let s = start();
    s.put("testdata/scenarios/device_deleted", "bucket-two", "");
    let out = s.run(&["timeline", "-u", "alice", "-s", "s3://bucket-two"], "wrong-secret");
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("cannot list"), "{}", out.stderr);
    let out = s.run(&["timeline", "-u", "alice", "-s", "s3://no-such-bucket"], SK);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    // No credentials at all (nothing in the environment, no profile files, no IMDS).
    let o = Command::new(env!("CARGO_BIN_EXE_mfatrail"))
        .args([
            "timeline",
            "-u",
            "alice",
            "-s",
            "s3://bucket-two",
            "-q",
            "--endpoint-url",
            &s.endpoint,
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", s.root.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", s.root.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no usable AWS credentials"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn objects_too_large_to_hold_are_read_in_ranges_with_the_same_result() {
    use std::io::Write;
    let s = start();
    let dir = s.root.path().join("bucket-one/large");
    std::fs::create_dir_all(&dir).unwrap();
    // 40 MB each (above the one-shot limit), events at both ends: a stored (level 0) gzip
    // file and a plain JSON file. Both are read as streams; over S3 in ranged GETs.
    let event = |id: &str| {
        format!(
            r#"{{"eventTime":"2026-11-27T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventID":"{id}","userIdentity":{{"type":"IAMUser","userName":"mallory","accountId":"111122223333"}},"responseElements":{{"ConsoleLogin":"Failure"}},"additionalEventData":{{"MFAUsed":"Yes"}},"errorMessage":"Failed authentication"}}"#
        )
    };
    let doc = |a: &str, b: &str| format!("{{\"Records\":[{},{}{}]}}", event(a), " ".repeat(40 << 20), event(b));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    gz.write_all(doc("gz-first", "gz-last").as_bytes()).unwrap();
    std::fs::write(dir.join("stored.json.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(dir.join("plain.json"), doc("plain-first", "plain-last")).unwrap();
    let args = ["timeline", "-u", "mallory", "--format", "json"];
    let remote = s.run(&[&args[..], &["-s", "s3://bucket-one/large"]].concat(), SK);
    assert_eq!(remote.code, 0, "{}", remote.stderr);
    let local = crate::util::run(&[&args[..], &["-q", "-s", &dir.to_string_lossy()]].concat());
    let (r, l) = (remote.json(), local.json());
    let ids = |v: &Value| {
        let mut ids: Vec<String> = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&r),
        ["gz-first", "gz-last", "plain-first", "plain-last"],
        "{}",
        r["inputs"]
    );
    assert_eq!(ids(&l), ids(&r));
    for k in ["bytes_compressed", "bytes_decompressed", "records", "files_read"] {
        assert_eq!(r["inputs"][k], l["inputs"][k], "{k}");
    }
    // Read in 8 MiB ranges, one range held at a time per object, each pinned to the ETag listed.
    let f = &r["inputs"]["s3"];
    assert!(f["gets"].as_u64().unwrap() >= 10, "{f}");
    let gets = s.gets.lock().unwrap().clone();
    assert!(gets.iter().all(|(_, tag)| tag.is_some()), "{gets:?}");
    assert!(f["peak_bytes_in_flight"].as_u64().unwrap() <= 2 * (8 << 20), "{f}");
}

#[test]
fn objects_past_the_byte_budget_are_all_read_and_the_budget_holds() {
    use std::io::Write;
    let s = start();
    let dir = s.root.path().join("bucket-one/many");
    std::fs::create_dir_all(&dir).unwrap();
    // 40 objects of 1 MiB (stored gzip: the size on the wire), 40 MiB in all: past the
    // 32 MiB budget of object bytes held, so the fetching waits for the parser (one thread)
    // to free a share of it, again and again, and must neither stall nor lose an object.
    let n = 40;
    for i in 0..n {
        let event = format!(
            r#"{{"eventTime":"2026-11-27T10:{:02}:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventID":"ev-{i}","userIdentity":{{"type":"IAMUser","userName":"mallory","accountId":"111122223333"}},"responseElements":{{"ConsoleLogin":"Failure"}},"additionalEventData":{{"MFAUsed":"Yes"}},"errorMessage":"Failed authentication"}}"#,
            i % 60
        );
        let doc = format!("{{\"Records\":[{event}{}]}}", " ".repeat(1 << 20));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        gz.write_all(doc.as_bytes()).unwrap();
        std::fs::write(dir.join(format!("part-{i:02}.json.gz")), gz.finish().unwrap()).unwrap();
    }
    let out = s.run(
        &[
            "timeline",
            "-u",
            "mallory",
            "--format",
            "json",
            "--threads",
            "1",
            "-s",
            "s3://bucket-one/many",
        ],
        SK,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["inputs"]["files_read"], n, "{}", v["inputs"]);
    assert_eq!(v["events"].as_array().unwrap().len(), n as usize);
    let f = &v["inputs"]["s3"];
    assert_eq!(f["gets"], n, "{f}");
    // The first 32 GETs alone start with 32 MiB held: the budget, not the GETs, was the limit.
    let peak = f["peak_bytes_in_flight"].as_u64().unwrap();
    assert!(peak > 24 << 20 && peak <= 32 << 20, "{f}");
}

#[test]
fn the_first_gets_start_while_the_listing_goes_on() {
    let s = start();
    s.put("testdata/scenarios/device_deleted", "bucket-three", "");
    // Two keys a page: the 13 objects of the last day folder take 7 LISTs, one after another.
    let args = ["timeline", "-u", "alice", "--format", "json", "--threads", "1"];
    let remote = s.run(
        &[&args[..], &["-s", "s3://bucket-three", "--s3-page-size", "2"]].concat(),
        SK,
    );
    assert_eq!(remote.code, 0, "{}", remote.stderr);
    let ops = s.ops.lock().unwrap().clone();
    let first_get = ops.iter().position(|o| o == "GetObject").expect("objects fetched");
    let last_list = ops.iter().rposition(|o| o == "ListObjectsV2").expect("listed");
    assert!(first_get < last_list, "the GETs waited for the whole listing: {ops:?}");
    // Nothing lost or read twice on the way, even with a source inside another.
    let local = crate::util::run(&[&args[..], &["-q", "-s", "testdata/scenarios/device_deleted"]].concat());
    assert_eq!(comparable(remote.json()), comparable(local.json()));
    let count = |op: &str| ops.iter().filter(|o| *o == op).count() as u64;
    assert_eq!(
        count("GetObject"),
        local.json()["inputs"]["files_read"].as_u64().unwrap()
    );
    let flight = &remote.json()["inputs"]["s3"];
    assert_eq!(flight["gets"].as_u64(), Some(count("GetObject")), "{flight}");
    assert_eq!(flight["lists"].as_u64(), Some(count("ListObjectsV2")), "{flight}");
    let both = s.run(
        &[
            &args[..],
            &[
                "-s",
                "s3://bucket-three",
                "-s",
                "s3://bucket-three/AWSLogs/567219600790/CloudTrail/us-east-1/",
            ],
        ]
        .concat(),
        SK,
    );
    assert_eq!(both.code, 0, "{}", both.stderr);
    let (b, l) = (both.json(), local.json());
    assert_eq!(b["inputs"]["files_read"], l["inputs"]["files_read"], "{}", b["inputs"]);
    assert_eq!(comparable(b)["events"], comparable(l)["events"]);
    // A folder that cannot be listed, found (last page of the last day) while objects are
    // already read: the run fails with the folder named, as when nothing was read yet.
    let denied = s
        .root
        .path()
        .join("bucket-three/AWSLogs/567219600790/CloudTrail/us-east-1/2026/11/27/forbidden");
    std::fs::create_dir_all(&denied).unwrap();
    std::fs::write(denied.join("a.json"), "{}").unwrap();
    let before = s.ops.lock().unwrap().len();
    let out = s.run(
        &[&args[..], &["-s", "s3://bucket-three", "--s3-page-size", "2"]].concat(),
        SK,
    );
    let ops = s.ops.lock().unwrap()[before..].to_vec();
    assert!(ops.iter().any(|o| o == "GetObject"), "{ops:?}");
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("cannot list") && out.stderr.contains("/2026/11/27/forbidden/"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn gets_are_pinned_to_the_version_and_size_listed() {
    let s = start();
    let dir = s.root.path().join("bucket-four/loose");
    std::fs::create_dir_all(&dir).unwrap();
    let src = repo().join("testdata/bad/bare-array.json");
    for name in [
        "ok.json",
        "replaced-after-listing.json",
        "unpinned-grows-after-listing.json",
    ] {
        std::fs::copy(&src, dir.join(name)).unwrap();
    }
    let store = tempfile::tempdir().unwrap();
    let collect = || {
        let out = s.run(
            &[
                "collect",
                "--store",
                store.path().to_str().unwrap(),
                "-s",
                "s3://bucket-four/loose",
                "--format",
                "json",
            ],
            SK,
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.json()
    };
    let first = collect();
    let inputs = &first["inputs"];
    // Replaced between LIST and GET (same size): the GET's If-Match fails, 412. Grown, on a
    // server that ignores If-Match: more bytes than listed, not read. Both a clear failure of
    // that object; the run goes on.
    let failed: Vec<(String, String)> = inputs["files_failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["object"].as_str().unwrap().into(),
                f["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(failed.len(), 2, "{inputs:#}");
    assert_eq!(failed[0].0, "s3://bucket-four/loose/replaced-after-listing.json");
    assert!(
        failed[0].1.contains("changed since it was listed") && failed[0].1.contains("412"),
        "{failed:?}"
    );
    assert_eq!(failed[1].0, "s3://bucket-four/loose/unpinned-grows-after-listing.json");
    assert!(
        failed[1].1.contains("changed since it was listed") && failed[1].1.contains("bytes listed"),
        "{failed:?}"
    );
    assert_eq!(inputs["files_read"], 1, "{inputs:#}");
    assert_eq!(first["objects_read"], 3);
    // Every GET carried the ETag listed.
    let gets = s.gets.lock().unwrap().clone();
    assert_eq!(gets.len(), 3, "{gets:?}");
    assert!(gets.iter().all(|(_, tag)| tag.is_some()), "{gets:?}");
    // The next collect reads the two again, their new versions, and nothing else.
    let second = collect();
    assert_eq!(second["objects_read"], 2, "{second:#}");
    assert_eq!(second["objects_unchanged"], 1);
    assert_eq!(
        second["inputs"]["files_failed"].as_array().map(Vec::len),
        Some(0),
        "{second:#}"
    );
    assert_eq!(second["inputs"]["files_read"], 2);
}
