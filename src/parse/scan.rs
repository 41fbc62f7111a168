//! Record boundaries without a parse. One pass over 64-byte blocks finds the
//! structural characters outside strings (simdjson's stage-1 bit tricks:
//! escaped-quote detection, prefix-xor for the in-string mask) and tracks
//! depth, so each top-level record's byte range is known without building
//! anything. Whether a record needs a real parse is then decided by byte
//! markers (see `markers`).

/// Where records sit in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"Records":[ {...}, ... ]}`: records are objects at depth 2.
    Records,
    /// `[ {...}, ... ]`: depth 1.
    Array,
    /// One object per line (or simply concatenated): depth 0.
    Lines,
}

impl Shape {
    fn record_depth(self) -> u32 {
        match self {
            Shape::Records => 2,
            Shape::Array => 1,
            Shape::Lines => 0,
        }
    }
}

/// Guesses the shape from the first bytes: `[` is an array; `{` followed by a
/// `"Records"` key is the CloudTrail wrapper; any other `{` is NDJSON.
/// `None`: empty or not JSON.
pub fn detect_shape(buf: &[u8]) -> Option<Shape> {
    let mut i = 0;
    if buf.starts_with(&[0xef, 0xbb, 0xbf]) {
        i = 3;
    }
    let skip_ws = |mut i: usize| {
        while i < buf.len() && buf[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    i = skip_ws(i);
    match buf.get(i)? {
        b'[' => Some(Shape::Array),
        b'{' => {
            let j = skip_ws(i + 1);
            if buf[j..].starts_with(b"\"Records\"") {
                let k = skip_ws(j + 9);
                if buf.get(k) == Some(&b':') && buf.get(skip_ws(k + 1)) == Some(&b'[') {
                    return Some(Shape::Records);
                }
            }
            Some(Shape::Lines)
        }
        _ => None,
    }
}

/// The scan ended with unclosed brackets or strings: the file is cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unbalanced {
    /// Bytes of the buffer that lie inside complete records (or before them).
    pub complete_until: usize,
    pub depth: u32,
    pub in_string: bool,
}

#[derive(Clone, Copy)]
struct Masks {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

/// Structural masks of one 64-byte block: SSE2 (the x86_64 baseline) compares
/// 16 bytes at a time; elsewhere a portable loop.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn block_masks_sse2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let mut m = Masks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    // SAFETY: SSE2 is always available on x86_64; each load reads 16 bytes at offsets
    // 0, 16, 32, 48 of a 64-byte array.
    unsafe {
        let q = _mm_set1_epi8(b'"' as i8);
        let bs = _mm_set1_epi8(b'\\' as i8);
        let lower = _mm_set1_epi8(0x20);
        // `{` 0x7B and `[` 0x5B (and `}` 0x7D, `]` 0x5D) differ only in bit 0x20.
        let open = _mm_set1_epi8(b'{' as i8);
        let close = _mm_set1_epi8(b'}' as i8);
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(i * 16).cast::<__m128i>());
            let folded = _mm_or_si128(v, lower);
            let bits = |x| u64::from(_mm_movemask_epi8(x) as u16) << (i * 16);
            m.quote |= bits(_mm_cmpeq_epi8(v, q));
            m.backslash |= bits(_mm_cmpeq_epi8(v, bs));
            m.open |= bits(_mm_cmpeq_epi8(folded, open));
            m.close |= bits(_mm_cmpeq_epi8(folded, close));
        }
    }
    m
}

/// The same masks with AVX2, 32 bytes at a time: half the compares of SSE2. Only called
/// from code compiled with AVX2 enabled (see [`Scanner::feed`]), where it is inlined.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn block_masks_avx2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };
    let mut m = Masks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    // SAFETY: called only where AVX2 was detected at run time; each load reads 32 bytes
    // at offsets 0 and 32 of a 64-byte array.
    unsafe {
        let q = _mm256_set1_epi8(b'"' as i8);
        let bs = _mm256_set1_epi8(b'\\' as i8);
        let lower = _mm256_set1_epi8(0x20);
        let open = _mm256_set1_epi8(b'{' as i8);
        let close = _mm256_set1_epi8(b'}' as i8);
        for i in 0..2 {
            let v = _mm256_loadu_si256(block.as_ptr().add(i * 32).cast::<__m256i>());
            let folded = _mm256_or_si256(v, lower);
            let bits = |x| u64::from(_mm256_movemask_epi8(x) as u32) << (i * 32);
            m.quote |= bits(_mm256_cmpeq_epi8(v, q));
            m.backslash |= bits(_mm256_cmpeq_epi8(v, bs));
            m.open |= bits(_mm256_cmpeq_epi8(folded, open));
            m.close |= bits(_mm256_cmpeq_epi8(folded, close));
        }
    }
    m
}

/// Prefix XOR as one carry-less multiply by all ones (PCLMULQDQ).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::{_mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_set1_epi8};
    // SAFETY: called only where PCLMULQDQ was detected at run time.
    unsafe { _mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0)) as u64 }
}

/// How one 64-byte block's masks and string regions are computed.
trait Kernel {
    fn masks(block: &[u8; 64]) -> Masks;
    fn prefix_xor(x: u64) -> u64;
}

/// The baseline: SSE2 on x86_64 (always there), a portable loop elsewhere.
struct Baseline;

impl Kernel for Baseline {
    #[inline(always)]
    fn masks(block: &[u8; 64]) -> Masks {
        block_masks(block)
    }
    #[inline(always)]
    fn prefix_xor(x: u64) -> u64 {
        prefix_xor(x)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_masks(block: &[u8; 64]) -> Masks {
    block_masks_sse2(block)
}

/// AVX2 compares and a carry-less multiply.
#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx2 {
    #[inline(always)]
    fn masks(block: &[u8; 64]) -> Masks {
        block_masks_avx2(block)
    }
    #[inline(always)]
    fn prefix_xor(x: u64) -> u64 {
        prefix_xor_clmul(x)
    }
}

/// Whether this CPU runs the AVX2 kernel (detected once, then a cached load).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("pclmulqdq")
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn block_masks(block: &[u8; 64]) -> Masks {
    let mut m = Masks {
        quote: 0,
        backslash: 0,
        open: 0,
        close: 0,
    };
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        m.quote |= if b == b'"' { bit } else { 0 };
        m.backslash |= if b == b'\\' { bit } else { 0 };
        m.open |= if b == b'{' || b == b'[' { bit } else { 0 };
        m.close |= if b == b'}' || b == b']' { bit } else { 0 };
    }
    m
}

/// Characters escaped by an odd run of backslashes (simdjson's algorithm);
/// `carry` says whether the previous block ended in such a run.
#[inline(always)]
fn escaped(backslash: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    const ODD: u64 = !EVEN;
    let starts = backslash & !(backslash << 1);
    let even_start_mask = EVEN ^ *carry;
    let even_starts = starts & even_start_mask;
    let odd_starts = starts & !even_start_mask;
    let even_carries = backslash.wrapping_add(even_starts);
    let (mut odd_carries, overflow) = backslash.overflowing_add(odd_starts);
    odd_carries |= *carry;
    *carry = u64::from(overflow);
    let even_carry_ends = even_carries & !backslash;
    let odd_carry_ends = odd_carries & !backslash;
    (even_carry_ends & ODD) | (odd_carry_ends & EVEN)
}

#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The structural scan as a state machine, so that a stream can be fed in chunks: the
/// string, escape and depth state carries across chunk edges. Positions are offsets in the
/// whole stream.
#[derive(Debug, Clone)]
pub struct Scanner {
    target: u32,
    depth: u32,
    /// Where the record being read started (stream offset), and whether it is an object.
    start: usize,
    start_is_object: bool,
    last_complete: usize,
    bs_carry: u64,
    /// All ones when the previous block ended inside a string.
    in_str_carry: u64,
    underflow: bool,
}

impl Scanner {
    pub fn new(shape: Shape) -> Scanner {
        Scanner {
            target: shape.record_depth(),
            depth: 0,
            start: 0,
            start_is_object: false,
            last_complete: 0,
            bs_carry: 0,
            in_str_carry: 0,
            underflow: false,
        }
    }

    /// Where the record being read started, when the scan is inside one.
    pub fn open_record(&self) -> Option<usize> {
        (self.depth > self.target).then_some(self.start)
    }

    /// Scans the whole 64-byte blocks of `chunk`, which starts at stream offset `base`.
    /// Returns how many bytes were scanned (a multiple of 64); the rest must be fed again
    /// with more data, or to `finish`.
    pub fn feed(&mut self, chunk: &[u8], base: usize, f: &mut impl FnMut(usize, usize)) -> usize {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            #[allow(unsafe_code)]
            // SAFETY: AVX2 and PCLMULQDQ were detected on this CPU.
            return unsafe { self.feed_avx2(chunk, base, f) };
        }
        self.run::<Baseline>(chunk, base, f)
    }

    /// `feed` with the baseline kernel whatever the CPU (tests compare both).
    #[cfg(test)]
    pub fn feed_baseline(&mut self, chunk: &[u8], base: usize, f: &mut impl FnMut(usize, usize)) -> usize {
        self.run::<Baseline>(chunk, base, f)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,pclmulqdq")]
    fn feed_avx2(&mut self, chunk: &[u8], base: usize, f: &mut impl FnMut(usize, usize)) -> usize {
        self.run::<Avx2>(chunk, base, f)
    }

    #[inline(always)]
    fn run<K: Kernel>(&mut self, chunk: &[u8], base: usize, f: &mut impl FnMut(usize, usize)) -> usize {
        let whole = chunk.len() / 64 * 64;
        let mut off = 0;
        while off < whole {
            let block: &[u8; 64] = chunk[off..off + 64].try_into().expect("64 bytes");
            self.block::<K>(block, base + off, f);
            off += 64;
        }
        whole
    }

    /// Scans the last, partial block (padded) and says whether the stream ended cleanly.
    pub fn finish(&mut self, tail: &[u8], base: usize, f: &mut impl FnMut(usize, usize)) -> Result<(), Unbalanced> {
        debug_assert!(tail.len() < 64);
        if !tail.is_empty() {
            let mut block = [b' '; 64];
            block[..tail.len()].copy_from_slice(tail);
            self.block::<Baseline>(&block, base, f);
        }
        if self.depth != 0 || self.in_str_carry != 0 || self.underflow {
            return Err(Unbalanced {
                complete_until: self.last_complete,
                depth: self.depth,
                in_string: self.in_str_carry != 0,
            });
        }
        Ok(())
    }

    #[inline(always)]
    fn block<K: Kernel>(&mut self, chunk: &[u8; 64], off: usize, f: &mut impl FnMut(usize, usize)) {
        let m = K::masks(chunk);
        let esc = escaped(m.backslash, &mut self.bs_carry);
        let quotes = m.quote & !esc;
        let in_str = K::prefix_xor(quotes) ^ self.in_str_carry;
        self.in_str_carry = ((in_str as i64) >> 63) as u64;
        let mut structural = (m.open | m.close) & !in_str;
        while structural != 0 {
            let i = structural.trailing_zeros() as usize;
            structural &= structural - 1;
            let pos = off + i;
            if m.open & (1 << i) != 0 {
                if self.depth == self.target {
                    self.start = pos;
                    self.start_is_object = chunk[i] == b'{';
                }
                self.depth += 1;
            } else {
                if self.depth == 0 {
                    self.underflow = true;
                    continue;
                }
                self.depth -= 1;
                if self.depth == self.target && self.start_is_object {
                    f(self.start, pos + 1);
                    self.last_complete = pos + 1;
                }
            }
        }
    }
}

/// Calls `f(start, end)` for every record (an object at the shape's depth;
/// `end` is exclusive). Returns `Err` when the buffer ends inside a string or
/// bracket; the records reported before that are complete.
pub fn for_each_record(buf: &[u8], shape: Shape, mut f: impl FnMut(usize, usize)) -> Result<(), Unbalanced> {
    let mut s = Scanner::new(shape);
    let done = s.feed(buf, 0, &mut f);
    s.finish(&buf[done..], done, &mut f)
}

/// [`for_each_record`] with the baseline kernel (tests compare it with the fast one).
#[cfg(test)]
pub fn for_each_record_baseline(buf: &[u8], shape: Shape, mut f: impl FnMut(usize, usize)) -> Result<(), Unbalanced> {
    let mut s = Scanner::new(shape);
    let done = s.feed_baseline(buf, 0, &mut f);
    s.finish(&buf[done..], done, &mut f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(s: &str) -> (Vec<String>, Result<(), Unbalanced>) {
        let shape = detect_shape(s.as_bytes()).unwrap();
        let mut out = Vec::new();
        let r = for_each_record(s.as_bytes(), shape, |a, b| out.push(s[a..b].to_string()));
        (out, r)
    }

    #[test]
    fn three_shapes() {
        let wrapped = r#"{"Records":[{"a":1},{"b":{"c":[1,2,{"d":3}]}}]}"#;
        assert_eq!(detect_shape(wrapped.as_bytes()), Some(Shape::Records));
        assert_eq!(records(wrapped).0, vec![r#"{"a":1}"#, r#"{"b":{"c":[1,2,{"d":3}]}}"#]);
        let arr = " [ {\"a\":1} ,\n {\"a\":2} ] ";
        assert_eq!(detect_shape(arr.as_bytes()), Some(Shape::Array));
        assert_eq!(records(arr).0.len(), 2);
        let nd = "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n";
        assert_eq!(detect_shape(nd.as_bytes()), Some(Shape::Lines));
        assert_eq!(records(nd).0.len(), 3);
        assert_eq!(detect_shape(b"   "), None);
        assert_eq!(detect_shape(b"hello"), None);
        // BOM and spacing around the wrapper key.
        let bom = "\u{feff}{ \"Records\" : [ {\"x\":1} ] }";
        assert_eq!(detect_shape(bom.as_bytes()), Some(Shape::Records));
    }

    #[test]
    fn strings_hide_brackets_and_escapes_are_exact() {
        // Braces, quotes and backslash runs inside strings, straddling 64-byte blocks.
        let tricky = [
            r#"{"k":"}{][","e":"\"}","b":"\\","c":"\\\"{"}"#.to_string(),
            format!(r#"{{"pad":"{}","t":"a\\\\\\\"}}]"}}"#, "x".repeat(57)),
            format!(r#"{{"pad":"{}\\","z":1}}"#, "y".repeat(61)),
        ];
        for rec in &tricky {
            let doc = format!("{{\"Records\":[{rec},{rec}]}}");
            let (got, r) = records(&doc);
            assert!(r.is_ok(), "{doc}");
            assert_eq!(got, vec![rec.clone(), rec.clone()], "{doc}");
        }
        // Every split position of a long document gives the same records.
        let body: Vec<String> = (0..40)
            .map(|i| format!(r#"{{"i":{i},"s":"a\\\"b{{[{}"}}"#, "q".repeat(i)))
            .collect();
        let doc = format!("{{\"Records\":[{}]}}", body.join(","));
        let (got, r) = records(&doc);
        assert!(r.is_ok());
        assert_eq!(got, body);
    }

    #[test]
    fn truncated_input_reports_complete_prefix() {
        let doc = r#"{"Records":[{"a":1},{"b":2},{"c":"unterminated"#;
        let (got, r) = records(doc);
        assert_eq!(got.len(), 2);
        let e = r.unwrap_err();
        assert!(e.in_string);
        assert_eq!(&doc[..e.complete_until], r#"{"Records":[{"a":1},{"b":2}"#);
        let (_, r) = records(r#"{"a":1}}"#);
        assert!(r.is_err(), "unbalanced close");
    }
}
