//! Credential mutations for the property tests (`tests/fuzz/`) and the cargo-fuzz targets
//! (`fuzz/`): one copy, behind the `testing` feature, never in a release build.
//!
//! An [`Edit`] changes the bytes of a credential the code really issued, so a search starts next
//! to the values that matter (a random string almost never gets past base64 or a token's shape).
//! The property tests draw edits with proptest; the fuzz targets decode them from raw fuzzer bytes
//! with [`mutate`].

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

/// A position in a byte string of any length: `Pos(n)` is byte `n % len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos(pub u64);

impl Pos {
    /// The index this position picks in `0..len` (`len` > 0).
    pub fn index(self, len: usize) -> usize {
        (self.0 % len as u64) as usize
    }
}

/// One edit of a credential's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Flip bit `n % 8` of one byte.
    FlipBit(Pos, u8),
    /// Keep the bytes before one position.
    Truncate(Pos),
    Extend(Vec<u8>),
    ExtendAlphabet(String),
    Replace(Pos, u8),
    /// Delete up to `n` bytes from a position.
    Delete(Pos, u8),
    /// Insert bytes at a position (the end included).
    Insert(Pos, Vec<u8>),
    /// base64 standard <-> base64url.
    AlphabetSwap,
    /// add or strip '=' padding.
    TogglePadding,
    /// Swap the case of one ASCII letter, or of all of them.
    SwapCase(Pos, bool),
    /// this credential's prefix + another issued credential's suffix.
    Splice(Pos, Pos),
    /// JWT-shaped edits on the '.'-separated segments: swap, drop, duplicate, or take the
    /// segment from another issued credential.
    Segment(u8, Pos, Pos),
    /// Forged JWT header or payload, signature kept.
    Forge(Forgery),
    Double,
}

/// A change to a JWT's header or claims that keeps its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    AlgNone,
    AlgNoneNoSignature,
    AlgSwap(&'static str),
    SubOtherUser,
    AudRefresh,
    TypRefresh,
    ExpFuture,
    ReEncodeStdBase64,
}

fn b64_json(segment: &[u8]) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
}

/// Apply `forgery` to a JWT-shaped `cred`; anything else comes back unchanged.
pub fn forge(cred: &[u8], forgery: Forgery, other_uid: u64) -> Vec<u8> {
    let parts: Vec<&[u8]> = cred.split(|&b| b == b'.').collect();
    if parts.len() != 3 {
        return cred.to_vec();
    }
    let (mut head, mut claims) = match (b64_json(parts[0]), b64_json(parts[1])) {
        (Some(h), Some(c)) => (h, c),
        _ => return cred.to_vec(),
    };
    let mut sig = parts[2].to_vec();
    match forgery {
        Forgery::AlgNone => head["alg"] = "none".into(),
        Forgery::AlgNoneNoSignature => {
            head["alg"] = "none".into();
            sig.clear();
        }
        Forgery::AlgSwap(alg) => head["alg"] = alg.into(),
        Forgery::SubOtherUser => claims["sub"] = other_uid.to_string().into(),
        Forgery::AudRefresh => claims["aud"] = crate::jwt::REFRESH_AUDIENCE.into(),
        Forgery::TypRefresh => claims["typ"] = "refresh".into(),
        Forgery::ExpFuture => claims["exp"] = (crate::api::now_secs() + 10 * 365 * 86_400).into(),
        Forgery::ReEncodeStdBase64 => {
            let h = STANDARD.encode(URL_SAFE_NO_PAD.decode(parts[0]).unwrap_or_default());
            let c = STANDARD.encode(URL_SAFE_NO_PAD.decode(parts[1]).unwrap_or_default());
            return [h.as_bytes(), b".", c.as_bytes(), b".", &sig].concat();
        }
    }
    let h = URL_SAFE_NO_PAD.encode(head.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    [h.as_bytes(), b".", c.as_bytes(), b".", &sig].concat()
}

/// Apply `edits` in order. `others` are other issued credentials (for splices and segment
/// swaps); `other_uid` is the user a forged `sub` names.
pub fn apply(mut v: Vec<u8>, edits: &[Edit], others: &[String], other_uid: u64) -> Vec<u8> {
    for e in edits {
        let len = v.len();
        match e {
            Edit::FlipBit(i, bit) if len > 0 => v[i.index(len)] ^= 1 << (bit % 8),
            Edit::Truncate(i) if len > 0 => v.truncate(i.index(len)),
            Edit::Extend(tail) => v.extend_from_slice(tail),
            Edit::ExtendAlphabet(s) => v.extend_from_slice(s.as_bytes()),
            Edit::Replace(i, b) if len > 0 => v[i.index(len)] = *b,
            Edit::Delete(i, n) if len > 0 => {
                let start = i.index(len);
                v.drain(start..(start + *n as usize).min(len));
            }
            Edit::Insert(i, bytes) => {
                let at = i.index(len + 1);
                v.splice(at..at, bytes.iter().copied());
            }
            Edit::AlphabetSwap => {
                for b in v.iter_mut() {
                    *b = match *b {
                        b'+' => b'-',
                        b'-' => b'+',
                        b'/' => b'_',
                        b'_' => b'/',
                        x => x,
                    }
                }
            }
            Edit::TogglePadding => {
                if v.last() == Some(&b'=') {
                    while v.last() == Some(&b'=') {
                        v.pop();
                    }
                } else {
                    v.push(b'=');
                    while !v.len().is_multiple_of(4) {
                        v.push(b'=');
                    }
                }
            }
            Edit::SwapCase(i, all) if len > 0 => {
                let swap = |b: &mut u8| {
                    if b.is_ascii_lowercase() { b.make_ascii_uppercase() } else { b.make_ascii_lowercase() }
                };
                if *all {
                    v.iter_mut().for_each(swap);
                } else {
                    swap(&mut v[i.index(len)]);
                }
            }
            Edit::Splice(a, b) if !others.is_empty() => {
                let other = others[a.index(others.len())].as_bytes();
                let cut = b.index(len.min(other.len()) + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[cut.min(other.len())..]);
            }
            Edit::Segment(op, a, b) => {
                let mut segs: Vec<Vec<u8>> = v.split(|&x| x == b'.').map(<[u8]>::to_vec).collect();
                let n = segs.len();
                let (i, j) = (a.index(n), b.index(n));
                match op {
                    0 => segs.swap(i, j),
                    1 => {
                        segs.remove(i);
                    }
                    2 => {
                        let s = segs[i].clone();
                        segs.insert(j, s);
                    }
                    _ if !others.is_empty() => {
                        let other: Vec<&[u8]> =
                            others[j % others.len()].as_bytes().split(|&x| x == b'.').collect();
                        segs[i] = other[i.min(other.len() - 1)].to_vec();
                    }
                    _ => {}
                }
                v = segs.join(&b'.');
            }
            Edit::Forge(f) => v = forge(&v, *f, other_uid),
            Edit::Double => v = v.repeat(2),
            _ => {}
        }
    }
    v
}

/// The edits raw fuzzer bytes describe: each 3-byte group is (operation, position, value).
/// Operations: flip a bit, replace a byte, insert a byte, delete a byte, truncate, append, swap
/// the base64 alphabet, change a letter's case.
pub fn decode(ops: &[u8]) -> Vec<Edit> {
    ops.chunks_exact(3)
        .map(|op| {
            let (pos, val) = (Pos(u64::from(op[1])), op[2]);
            match op[0] % 8 {
                0 => Edit::FlipBit(pos, val % 8),
                1 => Edit::Replace(pos, val),
                2 => Edit::Insert(pos, vec![val]),
                3 => Edit::Delete(pos, 1),
                4 => Edit::Truncate(pos),
                5 => Edit::Extend(vec![val]),
                6 => Edit::AlphabetSwap,
                _ => Edit::SwapCase(pos, false),
            }
        })
        .collect()
}

/// `base` with the edits raw fuzzer bytes `ops` describe ([`decode`]).
pub fn mutate(base: &str, ops: &[u8]) -> Vec<u8> {
    apply(base.as_bytes().to_vec(), &decode(ops), &[], 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_driven_edits_apply() {
        assert_eq!(mutate("abc", &[]), b"abc");
        assert_eq!(mutate("abc", &[0, 0, 0]), b"`bc");
        assert_eq!(mutate("abc", &[4, 1, 0]), b"a");
        assert_eq!(mutate("a+b", &[6, 0, 0]), b"a-b");
        assert_eq!(mutate("abc", &[2, 3, b'x', 3, 0, 0]), b"bcx");
        assert_eq!(mutate("abc", &[7, 4, 0]), b"aBc");
    }

    #[test]
    fn segment_and_padding_edits_keep_their_meaning() {
        let others = ["x.y.z".to_owned()];
        assert_eq!(apply(b"a.b.c".to_vec(), &[Edit::Segment(0, Pos(0), Pos(2))], &others, 0), b"c.b.a");
        assert_eq!(apply(b"a.b.c".to_vec(), &[Edit::Segment(3, Pos(1), Pos(0))], &others, 0), b"a.y.c");
        assert_eq!(apply(b"ab".to_vec(), &[Edit::TogglePadding], &[], 0), b"ab==");
        assert_eq!(apply(b"ab==".to_vec(), &[Edit::TogglePadding], &[], 0), b"ab");
        assert_eq!(forge(b"not-a-jwt", Forgery::AlgNone, 2), b"not-a-jwt");
    }
}
