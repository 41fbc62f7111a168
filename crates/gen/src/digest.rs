//! CloudTrail digest files: one per hour per account and region, listing the log files
//! delivered in that hour with their SHA-256, chained to the previous digest. They are never
//! signed (there is no key), so they look real to a lister but fail a real validation.

use super::rng::{Rng, TAG_DIGEST, hash_str, to_hex};
use super::time::{day_path, iso, key_second};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).into()
}

/// A delivered log file as the digest lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub key: String,
    pub key_time: i64,
    pub sha256_hex: String,
    pub oldest: Option<i64>,
    pub newest: Option<i64>,
}

/// One digest file to write: its key and uncompressed body.
pub struct DigestFile {
    pub key: String,
    pub body: String,
}

/// The digest chain of one account and region. `files` must be sorted by key time; windows
/// are whole hours (shifted by a per-trail offset, as AWS delivers them a little after the hour)
/// from the hour of `since` until every file delivered is covered.
#[allow(clippy::too_many_arguments)]
pub fn chain(
    seed: u64,
    prefix: &str,
    account: &str,
    region: &str,
    bucket: &str,
    since: i64,
    last_key: i64,
    files: &[Listed],
) -> Vec<DigestFile> {
    let mut rng = Rng::from_parts(&[seed, TAG_DIGEST, hash_str(account), hash_str(region)]);
    let offset = 10 * 60 + rng.range_i64(0, 60);
    let fingerprint = rng.hex(32);
    let mut out = Vec::new();
    let mut prev: Option<(String, String)> = None;
    let mut start = since.div_euclid(3600) * 3600 - 3600 + offset;
    let mut idx = 0;
    while start <= last_key {
        let end = start + 3600;
        if end <= since {
            start = end;
            continue;
        }
        let from = idx;
        while idx < files.len() && files[idx].key_time < end {
            idx += 1;
        }
        let listed = &files[from..idx];
        let key = format!(
            "{prefix}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_mfatrail-trail_{region}_{}.json.gz",
            day_path(end),
            key_second(end)
        );
        let newest = listed.iter().filter_map(|f| f.newest).max();
        let oldest = listed.iter().filter_map(|f| f.oldest).min();
        let opt_time = |t: Option<i64>| t.map_or("null".to_string(), |t| format!("\"{}\"", iso(t)));
        let mut body = String::with_capacity(1024 + listed.len() * 400);
        body.push_str(&format!(
            "{{\"awsAccountId\":\"{account}\",\"digestStartTime\":\"{}\",\"digestEndTime\":\"{}\",\"digestS3Bucket\":\"{bucket}\",\"digestS3Object\":\"{key}\",\"digestPublicKeyFingerprint\":\"{fingerprint}\",\"digestSignatureAlgorithm\":\"SHA256withRSA\",\"newestEventTime\":{},\"oldestEventTime\":{},",
            iso(start),
            iso(end),
            opt_time(newest),
            opt_time(oldest)
        ));
        match &prev {
            Some((pkey, phash)) => body.push_str(&format!(
                "\"previousDigestS3Bucket\":\"{bucket}\",\"previousDigestS3Object\":\"{pkey}\",\"previousDigestHashValue\":\"{phash}\",\"previousDigestHashAlgorithm\":\"SHA-256\",\"previousDigestSignature\":\"{}\",",
                rng.hex(512)
            )),
            None => body.push_str(
                "\"previousDigestS3Bucket\":null,\"previousDigestS3Object\":null,\"previousDigestHashValue\":null,\"previousDigestHashAlgorithm\":null,\"previousDigestSignature\":null,",
            ),
        }
        body.push_str("\"logFiles\":[");
        for (i, f) in listed.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!(
                "{{\"s3Bucket\":\"{bucket}\",\"s3Object\":\"{}\",\"hashValue\":\"{}\",\"hashAlgorithm\":\"SHA-256\",\"newestEventTime\":{},\"oldestEventTime\":{}}}",
                f.key,
                f.sha256_hex,
                opt_time(f.newest),
                opt_time(f.oldest)
            ));
        }
        body.push_str("]}");
        prev = Some((key.clone(), to_hex(&sha256(body.as_bytes()))));
        out.push(DigestFile { key, body });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_vectors() {
        assert_eq!(
            to_hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            to_hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(
            to_hex(&sha256(long)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            to_hex(&sha256(&million)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }
}
