//! Decompression. gzip goes through libdeflate (one shot into a buffer sized
//! from the gzip trailer: DESIGN §1 measured it at about twice flate2's
//! streaming decoder) member by member, so multi-member files are whole; any
//! failure is re-run through flate2's streaming decoder to name the problem
//! precisely. Output is capped to defuse gzip bombs.
#![allow(unsafe_code)] // FFI to libdeflate; each block states its invariant.

use std::io::Read;

use libdeflate_sys as sys;

/// Why a file could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated gzip: the data ends inside a member (after {inflated} bytes inflated)")]
    Truncated { inflated: u64 },
    #[error("corrupt gzip: {0}")]
    Corrupt(String),
    #[error("decompressed size exceeds the cap of {cap} bytes (gzip bomb? raise --max-file-bytes)")]
    TooLarge { cap: u64 },
    #[error("{0} bytes of non-gzip data after the last gzip member")]
    TrailingData(usize),
    /// The inflated data would pass [`ONE_SHOT_LIMIT`]: decode it with [`stream`] instead.
    #[error("the inflated data is larger than one buffer may be; it must be streamed")]
    NeedsStream,
}

/// The most one buffer may hold inflated. A file declaring more (in its gzip trailer) or
/// growing past it is decoded as a stream instead ([`stream`]), so that memory stays flat
/// whatever a file holds and `--max-file-bytes` limits work, not memory.
pub const ONE_SHOT_LIMIT: u64 = 32 << 20;

/// Deflate's largest expansion (258 bytes from about 2 bits): a declared size beyond
/// `MAX_RATIO` × the input cannot be true.
const MAX_RATIO: usize = 1032;

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// A libdeflate decompressor; one per thread, reused across files.
pub struct Inflater {
    d: *mut sys::libdeflate_decompressor,
}

// SAFETY: a libdeflate decompressor holds no thread-affine state; it is only
// used through &mut self, so never from two threads at once.
unsafe impl Send for Inflater {}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: `d` came from libdeflate_alloc_decompressor and is freed once.
        unsafe { sys::libdeflate_free_decompressor(self.d) }
    }
}

enum Member {
    Done { consumed: usize },
    NeedSpace,
    Bad,
}

impl Inflater {
    pub fn new() -> Self {
        // SAFETY: plain allocation call; null is checked below.
        let d = unsafe { sys::libdeflate_alloc_decompressor() };
        assert!(!d.is_null(), "libdeflate_alloc_decompressor: out of memory");
        Inflater { d }
    }

    /// Inflates one member starting at `input` into the spare capacity of `out`.
    fn member(&mut self, input: &[u8], out: &mut Vec<u8>) -> Member {
        let spare = out.spare_capacity_mut();
        let (mut consumed, mut produced) = (0usize, 0usize);
        // SAFETY: the pointers and lengths describe live buffers: `input` is read
        // only, `spare` is writable for `spare.len()` bytes; libdeflate writes at
        // most that many and reports how many in `produced`.
        let r = unsafe {
            sys::libdeflate_gzip_decompress_ex(
                self.d,
                input.as_ptr().cast(),
                input.len(),
                spare.as_mut_ptr().cast(),
                spare.len(),
                &mut consumed,
                &mut produced,
            )
        };
        match r {
            sys::libdeflate_result_LIBDEFLATE_SUCCESS => {
                // SAFETY: libdeflate initialised `produced` bytes of the spare capacity.
                unsafe { out.set_len(out.len() + produced) };
                Member::Done { consumed }
            }
            sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Member::NeedSpace,
            _ => Member::Bad,
        }
    }

    /// Inflates a whole gzip file (all members) into `out` (cleared first).
    pub fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, cap: u64) -> Result<(), DecodeError> {
        out.clear();
        // ISIZE (last 4 bytes) is exact for single-member files under 4 GiB; it is ignored
        // when deflate could not reach it (a cut file or trailing bytes end elsewhere).
        let hint = input
            .len()
            .checked_sub(4)
            .map(|i| u32::from_le_bytes([input[i], input[i + 1], input[i + 2], input[i + 3]]) as usize)
            .filter(|&h| h <= input.len().saturating_mul(MAX_RATIO))
            .unwrap_or(0);
        // Past this the buffer stops growing: over the cap, or handed to the stream path.
        let most = usize::try_from(cap.min(ONE_SHOT_LIMIT)).unwrap_or(usize::MAX);
        let over = || {
            if cap > ONE_SHOT_LIMIT {
                DecodeError::NeedsStream
            } else {
                DecodeError::TooLarge { cap }
            }
        };
        if hint as u64 > ONE_SHOT_LIMIT && cap > ONE_SHOT_LIMIT {
            return Err(DecodeError::NeedsStream);
        }
        out.reserve_exact(hint.clamp(4096, most.max(4096)));
        let mut pos = 0;
        while pos < input.len() {
            let rest = &input[pos..];
            if !is_gzip(rest) {
                // Zero padding after the last member is harmless (some writers pad blocks).
                if pos > 0 && rest.iter().all(|&b| b == 0) {
                    break;
                }
                return if pos > 0 {
                    Err(DecodeError::TrailingData(rest.len()))
                } else {
                    Err(DecodeError::Corrupt("not a gzip stream".into()))
                };
            }
            match self.member(rest, out) {
                Member::Done { consumed: 0 } => {
                    return Err(DecodeError::Corrupt("empty gzip member".into()));
                }
                Member::Done { consumed } => {
                    pos += consumed;
                    if out.len() > most {
                        return Err(over());
                    }
                }
                Member::NeedSpace => {
                    if out.capacity() > most {
                        return Err(over());
                    }
                    // Double the buffer (at least 64 KiB), but never far past the limit.
                    let target = (out.capacity().max(1 << 16) * 2).min(most.saturating_add(1));
                    out.reserve_exact(target.saturating_sub(out.len()));
                }
                Member::Bad => return Err(explain_failure(input, cap, out)),
            }
        }
        Ok(())
    }
}

/// A streaming decoder over gzip `input` (all members) that fails with
/// [`DecodeError::TooLarge`] once more than `cap` bytes come out: the path of files too
/// large for one buffer. Read errors carry a [`DecodeError`]; see [`stream_error`].
#[allow(clippy::disallowed_types)] // the one place allowed to use a raw decoder
pub fn stream<R: Read>(input: R, cap: u64) -> impl Read {
    Capped {
        inner: flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, input)),
        cap,
        out: 0,
    }
}

/// Plain (not gzip) input read as a stream, with the same cap.
pub fn stream_plain<R: Read>(input: R, cap: u64) -> impl Read {
    Capped {
        inner: input,
        cap,
        out: 0,
    }
}

struct Capped<R> {
    inner: R,
    cap: u64,
    out: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(std::io::Error::other(DecodeError::Truncated { inflated: self.out }));
            }
            Err(e) if e.get_ref().is_some_and(|i| i.is::<DecodeError>()) => return Err(e),
            Err(e) => return Err(std::io::Error::other(DecodeError::Corrupt(e.to_string()))),
        };
        self.out += n as u64;
        if self.out > self.cap {
            return Err(std::io::Error::other(DecodeError::TooLarge { cap: self.cap }));
        }
        Ok(n)
    }
}

/// The [`DecodeError`] behind a read error of [`stream`] (or a plain I/O error's text).
pub fn stream_error(e: &std::io::Error) -> DecodeError {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<DecodeError>())
        .cloned()
        .unwrap_or_else(|| DecodeError::Corrupt(format!("read failed: {e}")))
}

/// Re-reads a file libdeflate rejected with flate2's streaming decoder, which
/// tells a truncated file from a corrupt one. What inflated before the cut is
/// left in `out`: a truncated file's complete records are still evidence.
#[allow(clippy::disallowed_types)] // the one place allowed to use a raw decoder
fn explain_failure(input: &[u8], cap: u64, out: &mut Vec<u8>) -> DecodeError {
    out.clear();
    let mut dec = flate2::read::MultiGzDecoder::new(input).take(cap.saturating_add(1));
    let mut sink = [0u8; 1 << 16];
    let mut inflated = 0u64;
    loop {
        match dec.read(&mut sink) {
            Ok(0) => {
                out.clear();
                return if inflated > cap {
                    DecodeError::TooLarge { cap }
                } else {
                    DecodeError::Corrupt("libdeflate rejected the stream (bad checksum or length?)".into())
                };
            }
            Ok(n) => {
                inflated += n as u64;
                out.extend_from_slice(&sink[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return DecodeError::Truncated { inflated };
            }
            Err(e) => {
                out.clear();
                return DecodeError::Corrupt(e.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn single_and_multi_member() {
        let mut inf = Inflater::new();
        let mut out = Vec::new();
        let a = b"{\"Records\":[".repeat(1000);
        inf.inflate(&gz(&a), &mut out, 1 << 30).unwrap();
        assert_eq!(out, a);
        // Three members; the first is much larger than the last's ISIZE hint.
        let (x, y, z) = (vec![b'x'; 300_000], vec![b'y'; 10], vec![b'z'; 70_000]);
        let mut multi = gz(&x);
        multi.extend(gz(&y));
        multi.extend(gz(&z));
        inf.inflate(&multi, &mut out, 1 << 30).unwrap();
        assert_eq!(out.len(), 370_010);
        assert!(out[..300_000].iter().all(|&b| b == b'x'));
        assert_eq!(&out[300_000..300_010], &y[..]);
        // Zero padding after the last member is accepted.
        multi.extend([0u8; 512]);
        inf.inflate(&multi, &mut out, 1 << 30).unwrap();
        assert_eq!(out.len(), 370_010);
    }

    #[test]
    fn truncated_corrupt_trailing_and_bombs() {
        let mut inf = Inflater::new();
        let mut out = Vec::new();
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let g = gz(&data);
        let cut = &g[..g.len() / 2];
        // (A cut file's "trailer" is any 4 bytes: with a cap above the one-shot limit it
        // may ask for the stream path, which tells truncation the same way.)
        assert!(matches!(
            inf.inflate(cut, &mut out, ONE_SHOT_LIMIT),
            Err(DecodeError::Truncated { .. })
        ));
        // The prefix that inflated before the cut is kept for salvage.
        assert!(!out.is_empty() && data.starts_with(&out));
        let mut bad = g.clone();
        let n = bad.len();
        bad[n - 6] ^= 0xff; // CRC
        assert!(matches!(
            inf.inflate(&bad, &mut out, 1 << 30),
            Err(DecodeError::Corrupt(_))
        ));
        let mut trailing = g.clone();
        trailing.extend(b"garbage");
        assert_eq!(
            inf.inflate(&trailing, &mut out, 1 << 30),
            Err(DecodeError::TrailingData(7))
        );
        let bomb = gz(&vec![0u8; 5_000_000]);
        assert_eq!(
            inf.inflate(&bomb, &mut out, 1_000_000),
            Err(DecodeError::TooLarge { cap: 1_000_000 })
        );
        assert!(matches!(
            inf.inflate(b"plain text", &mut out, 100),
            Err(DecodeError::Corrupt(_))
        ));
    }

    #[test]
    fn large_members_are_sent_to_the_stream_and_the_stream_keeps_the_cap() {
        let mut inf = Inflater::new();
        let mut out = Vec::new();
        let data = vec![b' '; 2 * ONE_SHOT_LIMIT as usize + 1000];
        let g = gz(&data);
        // Declared above the limit: refused before inflating, whatever the cap allows.
        assert_eq!(inf.inflate(&g, &mut out, 1 << 40), Err(DecodeError::NeedsStream));
        assert!(out.capacity() < 1 << 20);
        // A trailer that lies (says 100 bytes): found out once the buffer reaches the limit.
        let mut liar = g.clone();
        let n = liar.len();
        liar[n - 4..].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(inf.inflate(&liar, &mut out, 1 << 40), Err(DecodeError::NeedsStream));
        assert!(out.capacity() <= ONE_SHOT_LIMIT as usize + 1);
        // Below the limit the cap still says "too large".
        assert_eq!(
            inf.inflate(&liar, &mut out, 1 << 20),
            Err(DecodeError::TooLarge { cap: 1 << 20 })
        );
        // The stream: everything, or the cap's error once past it.
        let mut all = Vec::new();
        stream(&g[..], 1 << 40).read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), data.len());
        let e = stream(&g[..], 1 << 20).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(stream_error(&e), DecodeError::TooLarge { cap: 1 << 20 });
        let e = stream(&g[..g.len() / 2], 1 << 40)
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(matches!(stream_error(&e), DecodeError::Truncated { .. }), "{e}");
    }
}
