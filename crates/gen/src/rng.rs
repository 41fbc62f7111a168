//! Deterministic randomness: SplitMix64 for seeding and hashing, xoshiro256** for streams.
//!
//! Every stream is derived from the user seed plus a fixed tag and an index, so the output of a
//! file never depends on which thread made it or on what was generated before it.

/// Stream tags: each consumer of randomness gets its own, so adding draws in one place never
/// shifts the values drawn in another.
pub const TAG_PLAN: u64 = 0x504c_414e;
pub const TAG_FILE: u64 = 0x4649_4c45;
pub const TAG_ACCOUNT: u64 = 0x4143_4354;
pub const TAG_SCENARIO: u64 = 0x5343_454e;
pub const TAG_IDENT: u64 = 0x4944_454e;
pub const TAG_SESSION: u64 = 0x5345_5353;
pub const TAG_DIGEST: u64 = 0x4447_5354;

/// SplitMix64 finalizer: a strong 64-bit mixer.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a list of words into one seed (order-sensitive).
pub fn mix_parts(parts: &[u64]) -> u64 {
    let mut h = 0x6d66_6174_7261_696c; // "mfatrail"
    for &p in parts {
        h = mix64(h ^ p);
    }
    h
}

/// FNV-1a over bytes, then mixed: turns names into stream parts.
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix64(h)
}

pub const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// xoshiro256** (Blackman & Vigna).
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut s = [0u64; 4];
        for w in &mut s {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            *w = mix64(x);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    pub fn from_parts(parts: &[u64]) -> Self {
        Rng::new(mix_parts(parts))
    }

    pub fn next_u64(&mut self) -> u64 {
        let r = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }

    /// Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for our n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [lo, hi); `lo` when the range is empty.
    pub fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi.abs_diff(lo)) as i64
    }

    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.index(xs.len())]
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Index drawn with probability proportional to `weights` (which must not all be zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            let w = u64::from(w);
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Appends `n` characters drawn from `alphabet` (at most 256 symbols).
    pub fn push_chars(&mut self, out: &mut String, alphabet: &[u8], n: usize) {
        let m = alphabet.len() as u64;
        let mut left = 0;
        let mut word = 0u64;
        for _ in 0..n {
            if left == 0 {
                word = self.next_u64();
                left = 2;
            }
            let half = word & 0xffff_ffff;
            word >>= 32;
            left -= 1;
            out.push(char::from(alphabet[((half * m) >> 32) as usize]));
        }
    }

    pub fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        let mut s = String::with_capacity(n);
        self.push_chars(&mut s, alphabet, n);
        s
    }

    /// Base64 body characters, 10 per 64-bit draw: session tokens and similar blobs.
    pub fn push_b64(&mut self, out: &mut String, n: usize) {
        let mut left = 0;
        let mut word = 0u64;
        for _ in 0..n {
            if left == 0 {
                word = self.next_u64();
                left = 10;
            }
            out.push(char::from(B64[(word & 63) as usize]));
            word >>= 6;
            left -= 1;
        }
    }

    pub fn push_hex(&mut self, out: &mut String, n: usize) {
        let mut left = 0;
        let mut word = 0u64;
        for _ in 0..n {
            if left == 0 {
                word = self.next_u64();
                left = 16;
            }
            out.push(char::from(HEX[(word & 15) as usize]));
            word >>= 4;
            left -= 1;
        }
    }

    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        self.push_hex(&mut s, n);
        s
    }

    /// A version-4 UUID in lowercase hex, the shape of eventID and requestID.
    pub fn push_uuid(&mut self, out: &mut String) {
        let a = self.next_u64();
        let b = self.next_u64();
        let a = (a & !0xf000) | 0x4000; // version nibble of the third group
        let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000; // RFC 4122 variant
        let mut hexes = [0u8; 32];
        for i in 0..16 {
            hexes[i] = HEX[((a >> (60 - 4 * i)) & 15) as usize];
            hexes[16 + i] = HEX[((b >> (60 - 4 * i)) & 15) as usize];
        }
        for (i, &h) in hexes.iter().enumerate() {
            if matches!(i, 8 | 12 | 16 | 20) {
                out.push('-');
            }
            out.push(char::from(h));
        }
    }

    pub fn uuid(&mut self) -> String {
        let mut s = String::with_capacity(36);
        self.push_uuid(&mut s);
        s
    }
}

/// Lowercase hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}
