//! A loopback S3 protocol server for benchmarks and manual tries:
//! `cargo run --release --example s3_server -- ROOT PORT [LATENCY_MS]`. A bucket is a folder
//! under ROOT. Credentials: AKIAMFATRAILBENCH / mfatrail-bench-secret. With LATENCY_MS,
//! every LIST and GET answers that much later, as S3's time to first byte (tens of ms).
//!
//! It serves every object from memory, with its ETag (MD5) computed once at start, so
//! that a benchmark measures the client, not the server: s3s-fs walks the bucket's
//! folders on every listing and hashes each object on every GET.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::crypto::{Checksum, Md5};
use s3s::dto::*;
use s3s::service::S3ServiceBuilder;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

struct Obj {
    data: s3s::dto::Body,
    etag: String,
    modified: Timestamp,
}

#[derive(Default)]
struct Memory {
    buckets: BTreeMap<String, BTreeMap<String, Obj>>,
    latency: std::time::Duration,
}

impl Memory {
    async fn delay(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }

    fn load(root: &Path) -> std::io::Result<Memory> {
        let mut m = Memory::default();
        for b in std::fs::read_dir(root)? {
            let b = b?;
            if !b.file_type()?.is_dir() {
                continue;
            }
            let name = b.file_name().to_string_lossy().into_owned();
            let objects = m.buckets.entry(name).or_default();
            let mut stack = vec![b.path()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d)? {
                    let e = e?;
                    let p = e.path();
                    if e.file_type()?.is_dir() {
                        stack.push(p);
                        continue;
                    }
                    let key = p.strip_prefix(b.path()).expect("under the bucket");
                    let key = key.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
                    let data = std::fs::read(&p)?;
                    let mut md5 = Md5::new();
                    md5.update(&data);
                    let etag = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
                    let modified = Timestamp::from(e.metadata()?.modified()?);
                    objects.insert(
                        key,
                        Obj {
                            data: data.into(),
                            etag,
                            modified,
                        },
                    );
                }
            }
        }
        Ok(m)
    }

    fn bucket(&self, name: &str) -> S3Result<&BTreeMap<String, Obj>> {
        self.buckets.get(name).ok_or_else(|| s3_error!(NoSuchBucket))
    }
}

#[async_trait::async_trait]
impl S3 for Memory {
    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.bucket(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.delay().await;
        let input = req.input;
        let objects = self.bucket(&input.bucket)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
        let max_keys = input.max_keys.unwrap_or(1000).clamp(1, 1000) as usize;
        // Resume after the token (the last key or common prefix of the previous page).
        let after = input.continuation_token.clone().or_else(|| input.start_after.clone());
        let (mut contents, mut prefixes) = (Vec::new(), Vec::<CommonPrefix>::new());
        let mut last: Option<String> = None;
        let mut truncated = false;
        for (key, obj) in objects.range(prefix.clone()..) {
            if !key.starts_with(&prefix) {
                break;
            }
            if let Some(a) = &after
                && (key <= a || (a.ends_with(delimiter.as_deref().unwrap_or("\0")) && key.starts_with(a.as_str())))
            {
                continue;
            }
            let common = delimiter.as_deref().and_then(|d| {
                let rest = &key[prefix.len()..];
                rest.find(d).map(|i| format!("{prefix}{}", &rest[..i + d.len()]))
            });
            if let Some(cp) = &common
                && prefixes.last().and_then(|p| p.prefix.as_ref()) == Some(cp)
            {
                continue;
            }
            if contents.len() + prefixes.len() == max_keys {
                truncated = true;
                break;
            }
            match common {
                Some(cp) => {
                    last = Some(cp.clone());
                    prefixes.push(CommonPrefix { prefix: Some(cp) });
                }
                None => {
                    last = Some(key.clone());
                    contents.push(Object {
                        key: Some(key.clone()),
                        size: Some(obj.data.len() as i64),
                        e_tag: Some(ETag::Strong(obj.etag.clone())),
                        last_modified: Some(obj.modified.clone()),
                        ..Default::default()
                    });
                }
            }
        }
        let count = (contents.len() + prefixes.len()) as i32;
        Ok(S3Response::new(ListObjectsV2Output {
            key_count: Some(count),
            max_keys: Some(max_keys as i32),
            is_truncated: Some(truncated),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            continuation_token: input.continuation_token,
            next_continuation_token: if truncated { last } else { None },
            delimiter: input.delimiter,
            name: Some(input.bucket),
            prefix: input.prefix,
            start_after: input.start_after,
            ..Default::default()
        }))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.delay().await;
        let input = req.input;
        let obj = self
            .bucket(&input.bucket)?
            .get(&input.key)
            .ok_or_else(|| s3_error!(NoSuchKey))?;
        if let Some(ETagCondition::ETag(want)) = &input.if_match
            && want.value() != obj.etag
        {
            return Err(s3_error!(PreconditionFailed));
        }
        let len = obj.data.len() as u64;
        let (body, content_range) = match &input.range {
            None => (obj.data.clone(), None),
            Some(r) => {
                let r = r.check(len)?;
                let part = obj.data.slice(r.start as usize..r.end as usize);
                (part, Some(format!("bytes {}-{}/{len}", r.start, r.end - 1)))
            }
        };
        Ok(S3Response::new(GetObjectOutput {
            content_length: Some(body.len() as i64),
            body: Some(StreamingBlob::from(s3s::Body::from(body))),
            content_range,
            e_tag: Some(ETag::Strong(obj.etag.clone())),
            last_modified: Some(obj.modified.clone()),
            ..Default::default()
        }))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().ok_or("usage: s3_server ROOT PORT")?;
    let port: u16 = args.next().ok_or("usage: s3_server ROOT PORT")?.parse()?;
    let mut memory = Memory::load(Path::new(&root)).map_err(|e| format!("{root}: {e}"))?;
    memory.latency = std::time::Duration::from_millis(args.next().map_or(Ok(0), |ms| ms.parse())?);
    let n: usize = memory.buckets.values().map(BTreeMap::len).sum();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let mut b = S3ServiceBuilder::new(memory);
        b.set_auth(SimpleAuth::from_single("AKIAMFATRAILBENCH", "mfatrail-bench-secret"));
        let service = Arc::new(b.build());
        eprintln!("s3_server: http://127.0.0.1:{port}, {n} objects from {root} in memory");
        loop {
            let (socket, _) = listener.accept().await?;
            let svc = (*service).clone();
            tokio::spawn(async move {
                let _ = ConnBuilder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), svc)
                    .await;
            });
        }
    })
}
