//! Record boundaries without a parse. One pass over 64-byte blocks finds the
//! structural characters outside strings (simdjson's stage-1 bit tricks:
//! escaped-quote detection, prefix-xor for the in-string mask) and tracks
//! depth, so each top-level record's byte range is known without building
//! anything. Whether a record needs a real parse is then decided by byte
//! markers (see `markers`). On CPUs with AVX-512 VBMI the marker prefilter runs in the
//! same pass (`fused`).

#[cfg(target_arch = "x86_64")]
mod fused;
#[cfg(target_arch = "x86_64")]
pub use fused::{FINGERPRINTS, for_each_record_fused, fused_available};

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

/// The same masks with AVX-512BW: one compare per character class gives the 64-bit mask
/// directly. Only called from code compiled with AVX-512 enabled (see [`Scanner::feed`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn block_masks_avx512(block: &[u8; 64]) -> Masks {
    // SAFETY: called only where AVX-512F was detected at run time; the load reads the 64
    // bytes of the array.
    masks_avx512(unsafe { std::arch::x86_64::_mm512_loadu_si512(block.as_ptr().cast()) })
}

/// The masks of 64 bytes already in a register (the fused scan loads them itself).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn masks_avx512(v: std::arch::x86_64::__m512i) -> Masks {
    use std::arch::x86_64::{_mm512_cmpeq_epi8_mask, _mm512_or_si512, _mm512_set1_epi8};
    // SAFETY: called only where AVX-512F and AVX-512BW were detected at run time.
    unsafe {
        let folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
        Masks {
            quote: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'"' as i8)),
            backslash: _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'\\' as i8)),
            open: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'{' as i8)),
            close: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'}' as i8)),
        }
    }
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

/// AVX-512BW compares and a carry-less multiply.
#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx512 {
    #[inline(always)]
    fn masks(block: &[u8; 64]) -> Masks {
        block_masks_avx512(block)
    }
    #[inline(always)]
    fn prefix_xor(x: u64) -> u64 {
        prefix_xor_clmul(x)
    }
}

/// A kernel to run whatever the CPU's widest (tests compare them all).
#[cfg(all(test, target_arch = "x86_64"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    Baseline,
    Avx2,
    Avx512,
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("pclmulqdq")
        && std::is_x86_feature_detected!("popcnt")
}

/// Whether this CPU runs the AVX2 kernel (detected once, then a cached load).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("pclmulqdq")
        && std::is_x86_feature_detected!("popcnt")
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
    /// Where a marker may start in the record being read (the fused prefilter's verdict so
    /// far, as the OR of the blocks' candidate bits: one `or` per block, tested at the end).
    candidate: u64,
    /// The last byte of the previous block was a backslash (for `\u` across blocks).
    bs_top: u64,
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
            candidate: 0,
            bs_top: 0,
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
        if has_avx512() {
            #[allow(unsafe_code)]
            // SAFETY: AVX-512F, AVX-512BW and PCLMULQDQ were detected on this CPU.
            return unsafe { self.feed_avx512(chunk, base, f) };
        }
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            #[allow(unsafe_code)]
            // SAFETY: AVX2 and PCLMULQDQ were detected on this CPU.
            return unsafe { self.feed_avx2(chunk, base, f) };
        }
        self.run::<Baseline>(chunk, base, f)
    }

    /// `feed` with a chosen kernel, when this CPU has it (tests compare them all); `None`
    /// when it does not.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub fn feed_width(
        &mut self,
        width: Width,
        chunk: &[u8],
        base: usize,
        f: &mut impl FnMut(usize, usize),
    ) -> Option<usize> {
        #[allow(unsafe_code)]
        // SAFETY: each kernel runs only after its features were detected.
        match width {
            Width::Baseline => Some(self.run::<Baseline>(chunk, base, f)),
            Width::Avx2 => has_avx2().then(|| unsafe { self.feed_avx2(chunk, base, f) }),
            Width::Avx512 => has_avx512().then(|| unsafe { self.feed_avx512(chunk, base, f) }),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,pclmulqdq,popcnt")]
    fn feed_avx512(&mut self, chunk: &[u8], base: usize, f: &mut impl FnMut(usize, usize)) -> usize {
        self.run::<Avx512>(chunk, base, f)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,pclmulqdq,popcnt")]
    fn feed_avx2(&mut self, chunk: &[u8], base: usize, f: &mut impl FnMut(usize, usize)) -> usize {
        self.run::<Avx2>(chunk, base, f)
    }

    #[inline(always)]
    fn run<K: Kernel>(&mut self, chunk: &[u8], base: usize, f: &mut impl FnMut(usize, usize)) -> usize {
        let whole = chunk.len() / 64 * 64;
        // The state lives in registers for the loop, not behind `self`.
        let mut s = self.clone();
        for (i, block) in chunk[..whole].chunks_exact(64).enumerate() {
            let block: &[u8; 64] = block.try_into().expect("64 bytes");
            s.block::<K>(block, base + i * 64, f);
        }
        *self = s;
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
        self.structure::<K>(&m, 0, chunk, off, &mut |a, b, _| f(a, b));
    }

    /// The structural part of one block, given its masks. `cand` marks bytes where a marker
    /// may start (see `fused`); `f(start, end, candidate)` says whether a record holds one.
    #[inline(always)]
    fn structure<K: Kernel>(
        &mut self,
        m: &Masks,
        cand: u64,
        chunk: &[u8; 64],
        off: usize,
        f: &mut impl FnMut(usize, usize, bool),
    ) {
        // Most blocks hold no backslash: skip the escape arithmetic there.
        let esc = if m.backslash | self.bs_carry == 0 {
            0
        } else {
            escaped(m.backslash, &mut self.bs_carry)
        };
        let quotes = m.quote & !esc;
        let in_str = K::prefix_xor(quotes) ^ self.in_str_carry;
        self.in_str_carry = ((in_str as i64) >> 63) as u64;
        let mut structural = (m.open | m.close) & !in_str;
        // Deep inside a record, no bracket of this block can start or end one (nor
        // underflow): even if every close came first, the depth would stay above the
        // record's. Then the depth moves by counts alone.
        let closes = (m.close & structural).count_ones();
        if self.depth > self.target + closes {
            self.depth = self.depth + (m.open & structural).count_ones() - closes;
            self.candidate |= cand;
            return;
        }
        // Candidate bits from here on belong to the record being read.
        let mut from = 0u32;
        while structural != 0 {
            let i = structural.trailing_zeros();
            structural &= structural - 1;
            let pos = off + i as usize;
            if m.open & (1 << i) != 0 {
                if self.depth == self.target {
                    self.start = pos;
                    self.start_is_object = chunk[i as usize] == b'{';
                    self.candidate = 0;
                    from = i;
                }
                self.depth += 1;
            } else {
                if self.depth == 0 {
                    self.underflow = true;
                    continue;
                }
                self.depth -= 1;
                if self.depth == self.target && self.start_is_object {
                    // Bits from..=i of this block.
                    let inside = (u64::MAX << from) & (u64::MAX >> (63 - i));
                    f(self.start, pos + 1, (self.candidate | (cand & inside)) != 0);
                    self.last_complete = pos + 1;
                }
            }
        }
        self.candidate |= cand & (u64::MAX << from);
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

/// [`for_each_record`] with a chosen kernel (tests compare them all); `None` when this CPU
/// does not have it.
#[cfg(all(test, target_arch = "x86_64"))]
pub fn for_each_record_width(
    buf: &[u8],
    shape: Shape,
    width: Width,
    mut f: impl FnMut(usize, usize),
) -> Option<Result<(), Unbalanced>> {
    let mut s = Scanner::new(shape);
    let done = s.feed_width(width, buf, 0, &mut f)?;
    Some(s.finish(&buf[done..], done, &mut f))
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
