//! CloudTrail digest files: one per hour per account and region, listing the log files
//! delivered in that hour with their SHA-256, chained to the previous digest. They are never
//! signed (there is no key), so they look real to a lister but fail a real validation.

use super::rng::{Rng, TAG_DIGEST, hash_str, to_hex};
use super::time::{day_path, iso, key_second};

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// One SHA-256 round with the working variables renamed instead of shifted.
macro_rules! round {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {
        let t1 = $h
            .wrapping_add($e.rotate_right(6) ^ $e.rotate_right(11) ^ $e.rotate_right(25))
            .wrapping_add(($e & $f) ^ (!$e & $g))
            .wrapping_add($kw);
        let t2 =
            ($a.rotate_right(2) ^ $a.rotate_right(13) ^ $a.rotate_right(22)).wrapping_add(($a & $b) | ($c & ($a | $b)));
        $d = $d.wrapping_add(t1);
        $h = t1.wrapping_add(t2);
    };
}

fn compress(state: &mut [u32; 8], block: &[u8]) {
    let mut w = [0u32; 64];
    for (wi, c) in w.iter_mut().zip(block.chunks_exact(4)) {
        *wi = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    for i in 16..64 {
        let (x, y) = (w[i - 15], w[i - 2]);
        let s0 = x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3);
        let s1 = y.rotate_right(17) ^ y.rotate_right(19) ^ (y >> 10);
        w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
    }
    let mut kw = [0u32; 64];
    for ((o, k), x) in kw.iter_mut().zip(K).zip(w) {
        *o = k.wrapping_add(x);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for r in kw.chunks_exact(8) {
        round!(a, b, c, d, e, f, g, h, r[0]);
        round!(h, a, b, c, d, e, f, g, r[1]);
        round!(g, h, a, b, c, d, e, f, r[2]);
        round!(f, g, h, a, b, c, d, e, r[3]);
        round!(e, f, g, h, a, b, c, d, r[4]);
        round!(d, e, f, g, h, a, b, c, r[5]);
        round!(c, d, e, f, g, h, a, b, r[6]);
        round!(b, c, d, e, f, g, h, a, r[7]);
    }
    for (x, y) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *x = x.wrapping_add(y);
    }
}

/// SHA-256 of `data` (FIPS 180-4), written here because the generator takes no hashing crate.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    let mut chunks = data.chunks_exact(64);
    for block in &mut chunks {
        compress(&mut h, block);
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let tail_len = if rest.len() < 56 { 64 } else { 128 };
    let bits = (data.len() as u64).wrapping_mul(8);
    tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
    for block in tail[..tail_len].chunks_exact(64) {
        compress(&mut h, block);
    }
    let mut out = [0u8; 32];
    for (o, v) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&v.to_be_bytes());
    }
    out
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
