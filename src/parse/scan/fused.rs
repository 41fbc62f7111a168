//! The marker prefilter fused into the structural scan (AVX-512 with VBMI): one pass over
//! each 64-byte block finds the record boundaries and the bytes where a marker may start,
//! so the separate marker search over the whole file is skipped. Only records holding such
//! a candidate are searched for the markers themselves (the exact test), so the prefilter
//! may say "maybe" too often but must never miss: every marker contains one of the
//! trigrams below (a unit test in `parse` checks it against `MARKERS`).
//!
//! How: Teddy's bucket idea with exact bytes instead of nibbles. A 128-entry table per
//! trigram position maps a byte (its low 7 bits: a byte ≥ 0x80 only adds false
//! candidates) to the buckets whose trigrams have it there; `vpermt2b` looks up 64 bytes
//! at once, and a byte starts a candidate when one bucket holds it, the next byte and the
//! one after. A bucket with two trigrams also accepts their mixes (`Pol`, `tSe` also
//! accept `Poe`), hence trigrams chosen to be rare in CloudTrail JSON even when mixed.
//! `\u` (any escape may spell a marker) is found from the backslash mask and one compare.

use super::{Scanner, Shape, Unbalanced};
use std::sync::OnceLock;

/// Eight buckets of trigrams; each marker of `parse::MARKERS` contains one of them. Chosen
/// on the bench archive and AWS's own samples so that ordinary records rarely hold one,
/// mixes included: not `Ses` (every `roleSessionName`), `eLo` (`CreateLogStream`), `eUs`
/// (`assumedRoleUser`), `onT` (STS credentials' `sessionToken`).
pub const FINGERPRINTS: [[&[u8; 3]; 2]; 8] = [
    [b"Pol", b"tSe"], // *Policy*, GetSessionToken
    [b"kMf", b"lNu"], // CheckMfa, serialNumber
    [b"yVe", b"lVe"], // *PolicyVersion, CredentialVerification
    [b"oGr", b"mGr"], // AddUserToGroup, RemoveUserFromGroup
    [b"iFa", b"ogi"], // MultiFactorAuth…, ConsoleLogin
    [b"ADe", b"teR"], // *MFADevice, CreateRole
    [b"teU", b"rAu"], // CreateUser, UserAuthentication
    [b"t d", b"n r"], // "explicit deny", "AssumeRole on resource"
];

/// Three 128-byte tables: bucket bits per byte value, per trigram position.
struct Tables([[u8; 128]; 3]);

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = [[0u8; 128]; 3];
        for (bucket, grams) in FINGERPRINTS.iter().enumerate() {
            for gram in grams {
                for (pos, &b) in gram.iter().enumerate() {
                    t[pos][usize::from(b & 0x7f)] |= 1 << bucket;
                }
            }
        }
        Tables(t)
    })
}

/// Whether this CPU runs the fused scan.
pub fn fused_available() -> bool {
    super::has_avx512() && std::is_x86_feature_detected!("avx512vbmi")
}

/// [`super::for_each_record`] with the prefilter's verdict per record: `f(start, end,
/// candidate)`; `candidate` is false only when no marker nor `\u` can be in the record.
/// `None` when this CPU cannot run it.
pub fn for_each_record_fused(
    buf: &[u8],
    shape: Shape,
    mut f: impl FnMut(usize, usize, bool),
) -> Option<Result<(), Unbalanced>> {
    if !fused_available() {
        return None;
    }
    let mut s = Scanner::new(shape);
    // SAFETY: the features were detected above.
    #[allow(unsafe_code)]
    let end = unsafe { s.run_fused(buf, tables(), &mut f) };
    Some(s.finish(&[], end, &mut |a, b| f(a, b, true)))
}

/// Records queued before they are handed on; a block ends at most this many (a record
/// takes two bytes at least).
const QUEUE: usize = 96;
const MAX_PER_BLOCK: usize = 32;

impl Scanner {
    /// Scans all of `buf` (the last bytes through a padded copy); returns where it ended.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,pclmulqdq,popcnt")]
    #[allow(unsafe_code)]
    fn run_fused(&mut self, buf: &[u8], t: &Tables, f: &mut impl FnMut(usize, usize, bool)) -> usize {
        use std::arch::x86_64::{__m512i, _mm512_loadu_si512};
        // SAFETY: each load reads 64 bytes of its table.
        let tab: [__m512i; 6] =
            std::array::from_fn(|i| unsafe { _mm512_loadu_si512(t.0[i / 2][i % 2 * 64..].as_ptr().cast()) });
        let mut s = self.clone();
        // A block reads two bytes past its end (the trigram's tail).
        let mut off = 0;
        // Records found are queued and handed to `f` between runs of blocks: with no call
        // inside the block loop, the tables stay in registers (a call may clobber every
        // vector register, so the compiler kept them on the stack and reloaded six 64-byte
        // tables per block).
        let mut found = [(0usize, 0usize, false); QUEUE + MAX_PER_BLOCK];
        while off + 66 <= buf.len() {
            let mut n = 0usize;
            while off + 66 <= buf.len() && n <= QUEUE {
                let mut queue = |a, b, c| {
                    found[n] = (a, b, c);
                    n += 1;
                };
                // SAFETY: off + 66 <= buf.len(): the three loads at off, off + 1, off + 2 are in bounds.
                unsafe { s.block_fused(buf.as_ptr().add(off), &tab, off, &mut queue) };
                off += 64;
            }
            for &(a, b, c) in &found[..n] {
                f(a, b, c);
            }
        }
        // The rest (at most 65 bytes) padded with spaces, which neither open nor close
        // anything, as `finish` pads.
        let rest = &buf[off..];
        let mut pad = [b' '; 192];
        pad[..rest.len()].copy_from_slice(rest);
        let mut at = 0;
        while at < rest.len() {
            // SAFETY: at < rest.len() <= 65, so at + 66 <= 130 <= 192.
            unsafe { s.block_fused(pad.as_ptr().add(at), &tab, off + at, f) };
            at += 64;
        }
        *self = s;
        off + at
    }

    /// One block at `p` (64 bytes, and 2 more readable after them), stream offset `off`.
    #[inline(always)]
    #[allow(unsafe_code)]
    unsafe fn block_fused(
        &mut self,
        p: *const u8,
        tab: &[__m512i; 6],
        off: usize,
        f: &mut impl FnMut(usize, usize, bool),
    ) {
        use std::arch::x86_64::{
            _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_permutex2var_epi8, _mm512_set1_epi8,
            _mm512_ternarylogic_epi32, _mm512_test_epi8_mask,
        };
        // SAFETY: the caller guarantees 66 readable bytes at `p` and the CPU features.
        unsafe {
            let v0 = _mm512_loadu_si512(p.cast());
            let v1 = _mm512_loadu_si512(p.add(1).cast());
            let v2 = _mm512_loadu_si512(p.add(2).cast());
            let c0 = _mm512_permutex2var_epi8(tab[0], v0, tab[1]);
            let c1 = _mm512_permutex2var_epi8(tab[2], v1, tab[3]);
            let c2 = _mm512_permutex2var_epi8(tab[4], v2, tab[5]);
            // 0x80: a AND b AND c.
            let all = _mm512_ternarylogic_epi32::<0x80>(c0, c1, c2);
            let m = super::masks_avx512(v0);
            let mut cand = _mm512_test_epi8_mask(all, all);
            // Few blocks hold a backslash (nor follow one).
            if m.backslash | self.bs_top != 0 {
                let u = _mm512_cmpeq_epi8_mask(v0, _mm512_set1_epi8(b'u' as i8));
                cand |= u & ((m.backslash << 1) | self.bs_top);
                self.bs_top = m.backslash >> 63;
            }
            let block: &[u8; 64] = &*p.cast::<[u8; 64]>();
            self.structure::<super::Avx512>(&m, cand, block, off, f);
        }
    }
}

use std::arch::x86_64::__m512i;

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes where the prefilter says a marker may start, by a plain loop over the tables.
    fn reference(buf: &[u8]) -> Vec<usize> {
        let t = tables();
        let at = |i: usize| buf.get(i).map_or(b' ', |&b| b) & 0x7f;
        (0..buf.len())
            .filter(|&i| {
                let gram = t.0[0][usize::from(at(i))] & t.0[1][usize::from(at(i + 1))] & t.0[2][usize::from(at(i + 2))];
                gram != 0 || (i > 0 && buf[i - 1] == b'\\' && buf[i] == b'u')
            })
            .collect()
    }

    #[test]
    fn the_densest_records_pass_through_the_queue_in_order() {
        if !fused_available() {
            return;
        }
        // `{},` is a record every 3 bytes (21 a block); `{}` back to back, 32 a block: the
        // queue fills and is flushed many times, mid-file and at the padded tail.
        for (sep, n) in [(",", 5000), ("", 3000), (",", 95), (",", 97)] {
            let mut recs: Vec<String> = (0..n).map(|_| "{}".to_string()).collect();
            recs[n / 2] = r#"{"e":"Policy"}"#.into();
            let doc = format!("{{\"Records\":[{}]}}", recs.join(sep));
            let buf = doc.as_bytes();
            let mut want = Vec::new();
            let r = super::super::for_each_record(buf, Shape::Records, |a, b| want.push((a, b)));
            assert!(r.is_ok());
            let mut got = Vec::new();
            let r = for_each_record_fused(buf, Shape::Records, |a, b, c| got.push((a, b, c))).expect("available");
            assert!(r.is_ok());
            assert_eq!(
                got.iter().map(|&(a, b, _)| (a, b)).collect::<Vec<_>>(),
                want,
                "sep {sep:?}, {n}"
            );
            let flagged: Vec<&str> = got.iter().filter(|g| g.2).map(|&(a, b, _)| &doc[a..b]).collect();
            assert_eq!(flagged, [r#"{"e":"Policy"}"#], "sep {sep:?}, {n}");
        }
    }

    #[test]
    fn candidates_follow_the_tables_across_block_edges() {
        if !fused_available() {
            return;
        }
        // One record per offset, so each trigram straddles every block edge once.
        let mut recs = Vec::new();
        for pad in 0..70 {
            recs.push(format!(r#"{{"p":"{}","n":"xPolicy","e":"a\u0041"}}"#, "z".repeat(pad)));
            recs.push(format!(r#"{{"p":"{}","n":"nothing here"}}"#, "z".repeat(pad)));
        }
        let doc = format!("{{\"Records\":[{}]}}", recs.join(","));
        let buf = doc.as_bytes();
        let want = reference(buf);
        let mut got = Vec::new();
        let r = for_each_record_fused(buf, Shape::Records, |a, b, c| got.push((a, b, c))).expect("available");
        assert!(r.is_ok());
        assert_eq!(got.len(), recs.len());
        for (a, b, c) in got {
            let expect = want.iter().any(|&p| p >= a && p < b);
            assert_eq!(c, expect, "{}", &doc[a..b]);
            assert_eq!(c, doc[a..b].contains("Policy"), "{}", &doc[a..b]);
        }
    }
}
