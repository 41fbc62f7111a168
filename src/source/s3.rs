//! S3 sources (`s3://bucket[/prefix]`): aws-config's default chain (env,
//! profile incl. SSO, IMDS), `--profile`, `--aws-region`, `--endpoint-url`
//! (path-style). The listing walks the key layout with delimiter listings,
//! like the local walk: year/month/day prefixes outside the window are never
//! listed, digest/insight prefixes are skipped. Objects are fetched by many
//! concurrent GETs on tokio and handed, whole, to the CPU stage through a
//! bounded channel, so memory stays bounded and neither side idles. Every GET is
//! pinned to the version listed (`If-Match` with the listed ETag) and reads no more
//! than the listed size: an object replaced or grown since the listing fails, as
//! "changed since it was listed", and is read again by the next run.

use std::cell::Cell;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::local::{consider, folder_key_range_of};
use super::{Location, ObjectRef, Window};
use crate::error::{Error, Result};
use crate::stats::{RunStats, S3Flight};

/// How to reach S3.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// GETs in flight.
    pub concurrency: usize,
    /// Keys per ListObjectsV2 page (1-1000).
    pub page_size: i32,
    /// `--account`: only these account prefixes are listed.
    pub accounts: Vec<String>,
    /// `--region`: only these region prefixes (and us-east-1, where IAM, STS and
    /// sign-in events are recorded) are listed.
    pub regions: Vec<String>,
}

impl S3Options {
    /// Whether a discovered prefix is outside `--account`/`--region`.
    fn filtered_out(&self, comps: &[&str]) -> bool {
        let Some(i) = comps.iter().rposition(|c| *c == "AWSLogs") else {
            return false;
        };
        let mut rest = &comps[i + 1..];
        if rest.first().is_some_and(|o| o.starts_with("o-")) {
            rest = &rest[1..];
        }
        match rest {
            [acct] | [acct, ..]
                if !self.accounts.is_empty() && acct.len() == 12 && !self.accounts.iter().any(|a| a == acct) =>
            {
                true
            }
            [_, "CloudTrail", region] => {
                !self.regions.is_empty() && *region != "us-east-1" && !self.regions.iter().any(|r| r == region)
            }
            _ => false,
        }
    }
}

/// `s3://bucket[/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub prefix: String,
}

pub fn parse_s3_uri(s: &str) -> Option<S3Uri> {
    let rest = s.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    let mut prefix = prefix.to_string();
    if !prefix.is_empty() && !prefix.ends_with('/') && !prefix.ends_with(".gz") && !prefix.ends_with(".json") {
        prefix.push('/');
    }
    Some(S3Uri {
        bucket: bucket.to_string(),
        prefix,
    })
}

fn s3_error<E: ProvideErrorMetadata + std::error::Error + 'static>(what: &str, uri: &str, e: &SdkError<E>) -> Error {
    let code = e.code().or_else(|| e.as_service_error().and_then(|s| s.code()));
    let hint = match code {
        Some("NoSuchBucket") => "the bucket does not exist".to_string(),
        Some("AccessDenied") => "access denied: the credentials need s3:ListBucket on the prefix and s3:GetObject".to_string(),
        Some("InvalidAccessKeyId") | Some("SignatureDoesNotMatch") | Some("ExpiredToken") => {
            "the credentials were rejected (check --profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or refresh the session)".to_string()
        }
        Some("PermanentRedirect") | Some("AuthorizationHeaderMalformed") => {
            let region = e
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(|r| format!(" (the bucket is in {r})"))
                .unwrap_or_default();
            format!("wrong region: pass --aws-region{region}")
        }
        _ => {
            let full = format!("{}", DisplayErrorContext(e));
            if full.contains("loading credentials") || full.contains("no credentials found in chain") || full.contains("no providers in chain") {
                "no usable AWS credentials (use --profile, set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`)".to_string()
            } else {
                full
            }
        }
    };
    Error::usage("--source", uri.to_string(), format!("{what}: {hint}"))
}

/// A connected S3 source: a tokio runtime and a client.
pub struct S3Source {
    rt: tokio::runtime::Runtime,
    client: Client,
    opts: S3Options,
    gauges: Arc<Gauges>,
}

/// Object bytes held at once between the network and the parsers (fetching, queued or
/// being parsed): with the one-shot limit on an object's size, what bounds the memory of
/// an S3 read whatever the objects' sizes and the concurrency. 32 MiB of CloudTrail gzip
/// is about a tenth of a second of parsing per core: enough to ride out slow GETs.
const BYTE_BUDGET_KIB: u32 = 32 << 10;

/// Budget that must be free again before the fetch loop, once out of budget, goes on.
const WAKE_KIB: u32 = BYTE_BUDGET_KIB / 4;

/// Live counts of requests and bytes in flight, and their peaks.
#[derive(Debug, Default)]
struct Gauges {
    lists: AtomicU64,
    gets: AtomicU64,
    gets_now: AtomicU64,
    gets_peak: AtomicU64,
    bytes_now: AtomicU64,
    bytes_peak: AtomicU64,
}

impl Gauges {
    fn get_started(&self) {
        self.gets.fetch_add(1, Ordering::Relaxed);
        let now = self.gets_now.fetch_add(1, Ordering::Relaxed) + 1;
        self.gets_peak.fetch_max(now, Ordering::Relaxed);
    }

    fn get_done(&self) {
        self.gets_now.fetch_sub(1, Ordering::Relaxed);
    }

    fn hold(&self, n: u64) {
        let now = self.bytes_now.fetch_add(n, Ordering::Relaxed) + n;
        self.bytes_peak.fetch_max(now, Ordering::Relaxed);
    }

    fn release(&self, n: u64) {
        self.bytes_now.fetch_sub(n, Ordering::Relaxed);
    }
}

/// An object's share of the byte budget: released when the parser is done with it.
pub struct Held {
    _permit: OwnedSemaphorePermit,
    bytes: u64,
    gauges: Arc<Gauges>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.gauges.release(self.bytes);
    }
}

/// What [`S3Source::fetch`] hands to the parsers: an object, its bytes or why not, and
/// its share of the byte budget (drop it once parsed).
pub type Fetched = (ObjectRef, std::result::Result<Vec<u8>, String>, Held);

impl S3Source {
    pub fn connect(opts: &S3Options) -> Result<S3Source> {
        // One thread does all the I/O (the one that calls `block_on`): the bytes are few
        // next to the CPU stage's work, and a pool of I/O workers only adds wake-ups and
        // context switches on the cores the parsers need.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::ThreadPool(e.to_string()))?;
        let client = rt.block_on(async {
            let mut loader = aws_config::defaults(BehaviorVersion::latest())
                .retry_config(RetryConfig::standard().with_max_attempts(5));
            if let Some(p) = &opts.profile {
                loader = loader.profile_name(p);
            }
            // Only when given: a None region would hide the profile's region.
            if let Some(r) = &opts.region {
                loader = loader.region(Region::new(r.clone()));
            }
            let sdk = loader.load().await;
            let mut conf = aws_sdk_s3::config::Builder::from(&sdk);
            if sdk.region().is_none() {
                conf = conf.region(Region::new("us-east-1"));
            }
            if let Some(url) = &opts.endpoint_url {
                conf = conf.endpoint_url(url).force_path_style(true);
            }
            Client::from_conf(conf.build())
        });
        Ok(S3Source {
            rt,
            gauges: Arc::default(),
            client,
            opts: opts.clone(),
        })
    }

    /// Lists the objects of `uri` that can hold events of `window`, sorted.
    pub fn list(&self, uri: &S3Uri, window: &Window, stats: &mut RunStats) -> Result<Vec<ObjectRef>> {
        let mut out = Vec::new();
        self.rt.block_on(self.walk(uri, window, stats, &mut |o| out.push(o)))?;
        out.sort_by(|a, b| a.uri.cmp(&b.uri));
        Ok(out)
    }

    /// Walks the key layout under `uri`, handing each object that can hold events of
    /// `window` to `found` as soon as its page is listed. Folders are listed concurrently
    /// (a LIST costs a round trip; an organization trail has thousands of
    /// account/region/day folders), each one's pages in order.
    async fn walk(
        &self,
        uri: &S3Uri,
        window: &Window,
        stats: &mut RunStats,
        found: &mut impl FnMut(ObjectRef),
    ) -> Result<()> {
        let shown = format!("s3://{}/{}", uri.bucket, uri.prefix);
        let limit = Arc::new(Semaphore::new(LIST_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        let spawn = |tasks: &mut tokio::task::JoinSet<_>, prefix: String, token: Option<String>| {
            let (client, bucket, limit) = (self.client.clone(), uri.bucket.clone(), limit.clone());
            let (page_size, gauges) = (self.opts.page_size, self.gauges.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                gauges.lists.fetch_add(1, Ordering::Relaxed);
                list_page(&client, &bucket, prefix, token, page_size).await
            });
        };
        spawn(&mut tasks, uri.prefix.clone(), None);
        while let Some(done) = tasks.join_next().await {
            let page = done
                .map_err(|e| Error::usage("--source", shown.clone(), format!("listing failed: {e}")))?
                .map_err(|(prefix, e)| s3_error("cannot list", &format!("s3://{}/{prefix}", uri.bucket), &e))?;
            if let Some(token) = page.next {
                spawn(&mut tasks, page.prefix, Some(token));
            }
            for p in page.prefixes {
                let comps: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
                let last = comps.last().copied().unwrap_or("");
                if last == "CloudTrail-Digest" || last == "CloudTrail-Insight" {
                    stats.dirs_skipped_not_events += 1;
                } else if folder_key_range_of(&comps).is_some_and(|(lo, hi)| !window.overlaps_key_times(lo, hi))
                    || self.opts.filtered_out(&comps)
                {
                    stats.dirs_pruned += 1;
                } else {
                    spawn(&mut tasks, p, None);
                }
            }
            for (key, size, etag) in page.objects {
                let loc = Location::S3 {
                    bucket: uri.bucket.clone(),
                    key: key.clone(),
                };
                let named = key == uri.prefix;
                let version = etag.map(|t| format!("etag:{}", t.trim_matches('"')));
                if let Some(o) = consider(
                    format!("s3://{}/{key}", uri.bucket),
                    loc,
                    size,
                    version,
                    named,
                    window,
                    stats,
                ) {
                    found(o);
                }
            }
        }
        Ok(())
    }

    /// Requests made and the peaks in flight so far, since this source was connected.
    pub fn flight(&self) -> S3Flight {
        S3Flight {
            lists: self.gauges.lists.load(Ordering::Relaxed),
            gets: self.gauges.gets.load(Ordering::Relaxed),
            peak_gets_in_flight: self.gauges.gets_peak.load(Ordering::Relaxed),
            peak_bytes_in_flight: self.gauges.bytes_peak.load(Ordering::Relaxed),
        }
    }

    /// Fetches `objects` with bounded concurrency and bytes, and sends each, whole, to `tx`
    /// (blocking when the CPU stage is behind). Runs until all are sent.
    pub fn fetch(&self, objects: Vec<ObjectRef>, tx: mpsc::Sender<Fetched>) {
        let (found, queue) = mpsc::unbounded_channel();
        for o in objects {
            let _ = found.send(o);
        }
        drop(found);
        self.rt.block_on(self.fetch_queued(queue, tx, &Cell::new(false)));
    }

    /// Lists `uris` and fetches, as [`Self::fetch`] does, what the listing finds while it
    /// goes on: the first GETs start with the first page of objects, not once the last
    /// folder is listed (against S3, an organization trail's listing is thousands of
    /// round trips). Objects larger than `whole_limit` are not fetched but returned, to be
    /// read in ranges; `found` sees every object listed. An object under two of `uris` is
    /// read once.
    pub fn list_and_fetch(
        &self,
        uris: &[S3Uri],
        window: &Window,
        stats: &mut RunStats,
        whole_limit: u64,
        found: impl Fn(&ObjectRef),
        tx: mpsc::Sender<Fetched>,
    ) -> Result<Vec<ObjectRef>> {
        let (to_fetch, queue) = mpsc::unbounded_channel();
        let mut large = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let failed = Cell::new(false);
        let listing = async {
            // Moved in: the queue closes when the listing ends, Ok or not, and the fetch
            // loop then ends once it is empty.
            let to_fetch = to_fetch;
            let mut hand_on = |o: ObjectRef| {
                if !seen.insert(o.uri.clone()) {
                    return;
                }
                found(&o);
                if o.size > whole_limit {
                    large.push(o);
                } else {
                    let _ = to_fetch.send(o);
                }
            };
            for u in uris {
                if let Err(e) = self.walk(u, window, stats, &mut hand_on).await {
                    failed.set(true);
                    return Err(e);
                }
            }
            Ok(())
        };
        let (listed, ()) = self
            .rt
            .block_on(async { tokio::join!(listing, self.fetch_queued(queue, tx, &failed)) });
        listed?;
        large.sort_by(|a, b| a.uri.cmp(&b.uri));
        Ok(large)
    }

    /// The fetch loop of [`Self::fetch`] over the objects of `queue` until it is closed. Once
    /// `stop` is set (the listing failed) it fetches nothing more and drops the GETs in
    /// flight: the run ends with the listing's error, not after reading what came before.
    async fn fetch_queued(
        &self,
        mut queue: mpsc::UnboundedReceiver<ObjectRef>,
        tx: mpsc::Sender<Fetched>,
        stop: &Cell<bool>,
    ) {
        let client = &self.client;
        let limit = Arc::new(Semaphore::new(self.opts.concurrency.max(1)));
        let budget = Arc::new(Semaphore::new(BYTE_BUDGET_KIB as usize));
        let gauges = &self.gauges;
        let mut tasks = tokio::task::JoinSet::new();
        while let Some(obj) = queue.recv().await {
            if stop.get() {
                break;
            }
            let kib = u32::try_from(obj.size.div_ceil(1024))
                .unwrap_or(u32::MAX)
                .clamp(1, BYTE_BUDGET_KIB);
            let bytes_permit = match budget.clone().try_acquire_many_owned(kib) {
                Ok(p) => p,
                Err(tokio::sync::TryAcquireError::Closed) => break,
                // Out of budget: wait until a good share of it is free again, not just
                // this object's. The parsers then free many objects between two
                // wake-ups of this thread instead of one each (on a core they share, a
                // wake-up per object cost more than the GETs' own work).
                Err(tokio::sync::TryAcquireError::NoPermits) => {
                    let Ok(mut p) = budget.clone().acquire_many_owned(kib.max(WAKE_KIB)).await else {
                        break;
                    };
                    match p.split(kib as usize) {
                        Some(mine) => mine,
                        None => p,
                    }
                }
            };
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            gauges.hold(obj.size);
            let held = Held {
                _permit: bytes_permit,
                bytes: obj.size,
                gauges: gauges.clone(),
            };
            let (client, tx, gauges) = (client.clone(), tx.clone(), gauges.clone());
            tasks.spawn(async move {
                let bytes = get(&client, &obj, None, &gauges).await;
                // The body is read whole before waiting on the channel (an unread
                // body would trip the SDK's stall protection).
                let _ = tx.send((obj, bytes, held)).await;
                drop(permit);
            });
            while let Some(done) = tasks.try_join_next() {
                let _ = done;
            }
        }
        if stop.get() {
            // Waits until the aborted GETs are dropped, and with them their senders: the
            // parsers' queue must close before this runtime is left (its tasks do not run
            // outside `block_on`).
            tasks.shutdown().await;
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// Folders listed at once.
const LIST_CONCURRENCY: usize = 16;

type ListError =
    SdkError<aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error, aws_sdk_s3::config::http::HttpResponse>;

/// One page of a folder's listing: its subfolders, its objects (key, size, ETag), and the
/// token of the next page if there is one.
struct Page {
    prefix: String,
    prefixes: Vec<String>,
    objects: Vec<(String, u64, Option<String>)>,
    next: Option<String>,
}

async fn list_page(
    client: &Client,
    bucket: &str,
    prefix: String,
    token: Option<String>,
    page_size: i32,
) -> std::result::Result<Page, (String, ListError)> {
    let sent = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(&prefix)
        .delimiter("/")
        .max_keys(page_size)
        .set_continuation_token(token.clone())
        .send()
        .await;
    let out = match sent {
        Ok(out) => out,
        Err(e) => return Err((prefix, e)),
    };
    let prefixes = out
        .common_prefixes()
        .iter()
        .filter_map(|cp| cp.prefix().map(str::to_string))
        .collect();
    let objects = out
        .contents()
        .iter()
        .filter_map(|obj| {
            Some((
                obj.key()?.to_string(),
                obj.size().unwrap_or(0).max(0) as u64,
                obj.e_tag().map(str::to_string),
            ))
        })
        .collect();
    // As the SDK's paginator: no token, an empty one or the same one again ends the folder.
    let next = out
        .next_continuation_token()
        .filter(|t| !t.is_empty() && Some(*t) != token.as_deref() && out.is_truncated() != Some(false))
        .map(str::to_string);
    Ok(Page {
        prefix,
        prefixes,
        objects,
        next,
    })
}

/// Bytes per GET when an object is read in ranges.
const RANGE: u64 = 8 << 20;

impl S3Source {
    /// Reads `obj` in ranged GETs, one at a time on the calling thread: the path of objects
    /// too large to hold whole, so memory stays at one range.
    pub fn ranged<'a>(&'a self, obj: &'a ObjectRef) -> Ranged<'a> {
        Ranged {
            src: self,
            obj,
            pos: 0,
            buf: Vec::new(),
            at: 0,
        }
    }
}

impl Drop for Ranged<'_> {
    fn drop(&mut self) {
        self.src.gauges.release(self.buf.len() as u64);
    }
}

/// An S3 object as a [`std::io::Read`], fetched range by range.
pub struct Ranged<'a> {
    src: &'a S3Source,
    obj: &'a ObjectRef,
    pos: u64,
    buf: Vec<u8>,
    at: usize,
}

impl std::io::Read for Ranged<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.buf.len() {
            if self.pos >= self.obj.size {
                return Ok(0);
            }
            let end = (self.pos + RANGE).min(self.obj.size) - 1;
            let got = self
                .src
                .rt
                .block_on(get(&self.src.client, self.obj, Some((self.pos, end)), &self.src.gauges))
                .map_err(std::io::Error::other)?;
            if got.is_empty() {
                return Err(std::io::Error::other(
                    "GetObject returned an empty range (object shrank?)",
                ));
            }
            self.src.gauges.release(self.buf.len() as u64);
            self.src.gauges.hold(got.len() as u64);
            self.pos += got.len() as u64;
            self.buf = got;
            self.at = 0;
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// One GET (of the byte range `first..=last`, when given) with its body, retried on body
/// errors (the SDK retries only up to the headers).
async fn get(
    client: &Client,
    obj: &ObjectRef,
    range: Option<(u64, u64)>,
    gauges: &Gauges,
) -> std::result::Result<Vec<u8>, String> {
    gauges.get_started();
    let got = get_once(client, obj, range).await;
    gauges.get_done();
    got
}

/// The reason an object changed between the listing and its GET.
fn changed(what: &str) -> String {
    format!("changed since it was listed ({what}); not read: the next run reads it again")
}

/// The `If-Match` of an object's GETs: its ETag as listed, so that every byte read is of the
/// version listed (and of its size).
fn if_match(obj: &ObjectRef) -> Option<String> {
    obj.version
        .as_deref()?
        .strip_prefix("etag:")
        .map(|t| format!("\"{t}\""))
}

async fn get_once(client: &Client, obj: &ObjectRef, range: Option<(u64, u64)>) -> std::result::Result<Vec<u8>, String> {
    let Location::S3 { bucket, key } = &obj.loc else {
        return Err("not an S3 object".into());
    };
    // Exactly this many bytes, never more: the listed size (or the range's).
    let want = match range {
        Some((first, last)) => last + 1 - first,
        None => obj.size,
    };
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        match client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_range(range.map(|(a, b)| format!("bytes={a}-{b}")))
            .set_if_match(if_match(obj))
            .send()
            .await
        {
            Ok(out) => {
                let announced = out.content_length().map(|n| n.max(0) as u64);
                if let Some(n) = announced.filter(|n| *n != want) {
                    // Not the version listed (a server that ignores If-Match, or no ETag was
                    // listed): its body is not read.
                    return Err(changed(&format!(
                        "{} bytes listed, GetObject announced {n}{}",
                        obj.size,
                        if range.is_some() { " for a range" } else { "" }
                    )));
                }
                // Chunks appended into one buffer of the listed size: one copy, and no more
                // memory than the budget held for it.
                let mut body = out.body;
                let mut buf = Vec::with_capacity(want.min(1 << 30) as usize);
                let read = loop {
                    match body.next().await {
                        Some(Ok(chunk)) if (buf.len() + chunk.len()) as u64 > want => {
                            return Err(changed(&format!("{} bytes listed, GetObject sent more", obj.size)));
                        }
                        Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                        Some(Err(e)) => break Err(e.to_string()),
                        None if (buf.len() as u64) < want => {
                            break Err(format!("the body ended after {} of {want} bytes", buf.len()));
                        }
                        None => break Ok(()),
                    }
                };
                match read {
                    Ok(()) => return Ok(buf),
                    Err(e) => last = format!("reading the body failed: {e}"),
                }
            }
            Err(e) => {
                let code = e.code().map(str::to_owned);
                if code.as_deref() == Some("PreconditionFailed")
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 412)
                {
                    return Err(changed(&format!(
                        "412 Precondition Failed: its ETag is no longer {}, the one listed",
                        if_match(obj).unwrap_or_default()
                    )));
                }
                last = match code.as_deref() {
                    Some("NoSuchKey") => return Err("GetObject: NoSuchKey (deleted since the listing?)".into()),
                    Some("AccessDenied") => return Err("GetObject: AccessDenied (needs s3:GetObject)".into()),
                    _ => format!("GetObject failed: {}", DisplayErrorContext(&e)),
                };
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(
            parse_s3_uri("s3://b"),
            Some(S3Uri {
                bucket: "b".into(),
                prefix: "".into()
            })
        );
        assert_eq!(
            parse_s3_uri("s3://b/logs/AWSLogs"),
            Some(S3Uri {
                bucket: "b".into(),
                prefix: "logs/AWSLogs/".into()
            })
        );
        assert_eq!(parse_s3_uri("s3://b/x/f.json.gz").unwrap().prefix, "x/f.json.gz");
        assert_eq!(parse_s3_uri("s3:///x"), None);
        assert_eq!(parse_s3_uri("/tmp/x"), None);
    }

    #[test]
    fn account_and_region_filters_narrow_discovery() {
        let o = S3Options {
            accounts: vec!["111122223333".into()],
            regions: vec!["eu-west-1".into()],
            ..Default::default()
        };
        fn p(s: &str) -> Vec<&str> {
            s.split('/').collect()
        }
        assert!(o.filtered_out(&p("AWSLogs/o-abc/444455556666")));
        assert!(!o.filtered_out(&p("AWSLogs/o-abc/111122223333")));
        assert!(
            !o.filtered_out(&p("AWSLogs/111122223333/CloudTrail/us-east-1")),
            "global events live there"
        );
        assert!(!o.filtered_out(&p("AWSLogs/111122223333/CloudTrail/eu-west-1")));
        assert!(o.filtered_out(&p("AWSLogs/111122223333/CloudTrail/ap-south-1")));
        assert!(!S3Options::default().filtered_out(&p("AWSLogs/444455556666/CloudTrail/ap-south-1")));
    }
}
