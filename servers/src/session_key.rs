//! The session scheme's Redis key layout and session-id format: one layout for a single Redis and
//! for a Redis Cluster.
//!
//! A session id is `<tag><random>`: 16 lowercase hex characters of the user's *tag* followed by
//! the 32 of a 128-bit random id ([`crate::id::new_sid`]), 48 characters in all. The tag is the
//! first 64 bits of HMAC-SHA256(tag key, user id): opaque to a client (it does not reveal the user
//! id; the user-id space is small enough to brute-force an unkeyed hash) and the same for every
//! session of one user. The tag key is shared by every server using one store and prefix: the
//! first server to start writes it under the prefix (`SET … NX`), the others read it.
//!
//! Keys (all under the server's prefix, which may not contain `{` or `}`):
//! - `<prefix>{<tag>}s:<random>` → the session record;
//! - `<prefix>{<tag>}u:<uid>` → that user's sessions (random parts), a sorted set scored by login
//!   time, for logout-all and the per-user cap;
//! - `<prefix>{<tag>}r:<random>` → a rotated-away session's family (a tombstone), so a replay of
//!   it at refresh ends the family (reuse detection); lives one idle TTL at most;
//! - `<prefix>{<tag>}f:<family>` → the family's current session (random part), written from the
//!   family's first refresh on; lives until the family's absolute lifetime ends.
//!
//! The `{<tag>}` hash tag puts every key of one user in one Cluster slot, so login, rotation and
//! logout-all (one Lua script each over the user's index and sessions) and logout (DEL + ZREM)
//! never cross slots, and an authenticated request is still one
//! `GETEX`. Two users whose tags collide (2^-64 per pair) share a slot, never an index: the uid is
//! in the index key. The random part alone decides whether a session exists; a client that edits
//! the tag names another key, which does not exist.

use aws_lc_rs::hmac;

pub use authbench_procs::slot::key_slot;

use crate::error::{Error, Result};
use crate::id::{SID_LEN, new_sid};

/// Length of the tag part of a session id (64 bits as hex).
pub const TAG_LEN: usize = 16;
/// Length of a session id: tag + 128-bit random part.
pub const SESSION_ID_LEN: usize = TAG_LEN + SID_LEN;
/// Key (under the prefix) holding the shared tag key, hex.
pub const TAG_KEY_NAME: &str = "tag-key";

/// The key layout of one store: prefix and tag key.
#[derive(Clone)]
pub struct Layout {
    prefix: String,
    tag_key: hmac::Key,
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    s
}

/// Whether `s` is all lowercase hex.
fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `sid` has the shape a session id has: 48 lowercase hex characters.
pub fn is_well_formed(sid: &str) -> bool {
    sid.len() == SESSION_ID_LEN && is_lower_hex(sid)
}

/// Check a key prefix: a `{` or `}` in it would make the prefix, not the user's tag, the hash tag.
pub fn check_prefix(prefix: &str) -> Result<()> {
    if prefix.contains(['{', '}']) {
        return Err(Error::Config(format!(
            "Redis key prefix `{prefix}` contains `{{` or `}}`: the session layout's hash tag must be the user's"
        )));
    }
    Ok(())
}

impl Layout {
    /// A layout with this prefix and tag key (the key's bytes, any length ≥ 16).
    pub fn new(prefix: &str, tag_key: &[u8]) -> Result<Layout> {
        check_prefix(prefix)?;
        if tag_key.len() < 16 {
            return Err(Error::Config("session tag key shorter than 16 bytes".into()));
        }
        Ok(Layout { prefix: prefix.to_owned(), tag_key: hmac::Key::new(hmac::HMAC_SHA256, tag_key) })
    }

    /// A fresh random tag key, hex (what the first server writes under [`TAG_KEY_NAME`]).
    pub fn random_tag_key() -> String {
        format!("{}{}", new_sid(), new_sid())
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key holding the shared tag key.
    pub fn tag_key_key(prefix: &str) -> String {
        format!("{prefix}{TAG_KEY_NAME}")
    }

    /// User `uid`'s tag: 64 bits of HMAC-SHA256(tag key, uid as 8 big-endian bytes), hex.
    pub fn tag(&self, uid: u64) -> String {
        let mac = hmac::sign(&self.tag_key, &uid.to_be_bytes());
        hex(&mac.as_ref()[..TAG_LEN / 2])
    }

    /// A new session id for `uid`.
    pub fn new_session_id(&self, uid: u64) -> String {
        let mut s = self.tag(uid);
        s.push_str(&new_sid());
        s
    }

    /// The (tag, random) parts of a well-formed session id.
    pub fn split(sid: &str) -> Option<(&str, &str)> {
        is_well_formed(sid).then(|| sid.split_at(TAG_LEN))
    }

    /// The key of session `sid` (well-formed or not: an ill-formed id names a key nobody writes).
    pub fn session_key(&self, sid: &str) -> String {
        match Self::split(sid) {
            Some((tag, random)) => format!("{}{{{tag}}}s:{random}", self.prefix),
            None => format!("{}{{}}s:{sid}", self.prefix),
        }
    }

    /// The key prefix of every session of the user whose tag is `tag` (for the logout-all script).
    pub fn session_key_prefix(&self, tag: &str) -> String {
        format!("{}{{{tag}}}s:", self.prefix)
    }

    /// The prefix every key of the user whose tag is `tag` starts with: `<prefix>{<tag>}` (the
    /// rotation script appends `s:`, `f:` and `r:` keys to it).
    pub fn tag_prefix(&self, tag: &str) -> String {
        format!("{}{{{tag}}}", self.prefix)
    }

    /// The tombstone a rotation leaves for the rotated-away session `sid` (reuse detection).
    pub fn tombstone_key(&self, sid: &str) -> String {
        match Self::split(sid) {
            Some((tag, random)) => format!("{}{{{tag}}}r:{random}", self.prefix),
            None => format!("{}{{}}r:{sid}", self.prefix),
        }
    }

    /// The key of user `uid`'s session index, under tag `tag`.
    pub fn user_key_tagged(&self, tag: &str, uid: u64) -> String {
        format!("{}{{{tag}}}u:{uid}", self.prefix)
    }

    /// The key of user `uid`'s session index.
    pub fn user_key(&self, uid: u64) -> String {
        self.user_key_tagged(&self.tag(uid), uid)
    }

    /// The random part as stored in the user's index (the tag is in the index's key already).
    pub fn member(sid: &str) -> &str {
        Self::split(sid).map_or(sid, |(_, random)| random)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout::new("ab:1:", &[7u8; 32]).unwrap()
    }

    #[test]
    fn ids_carry_the_users_tag_and_128_random_bits() {
        let l = layout();
        let a = l.new_session_id(42);
        let b = l.new_session_id(42);
        let c = l.new_session_id(43);
        assert_eq!(a.len(), SESSION_ID_LEN);
        assert!(is_well_formed(&a));
        assert_ne!(a, b);
        assert_eq!(a[..TAG_LEN], b[..TAG_LEN], "one user, one tag");
        assert_ne!(a[..TAG_LEN], c[..TAG_LEN]);
        assert!(!is_well_formed(&a.to_uppercase()));
        assert!(!is_well_formed(&a[1..]));
        assert!(!is_well_formed(&format!("{a}0")));
    }

    #[test]
    fn the_tag_is_keyed() {
        let other = Layout::new("ab:1:", &[8u8; 32]).unwrap();
        assert_ne!(layout().tag(42), other.tag(42));
        assert_eq!(layout().tag(42), layout().tag(42));
    }

    #[test]
    fn a_users_keys_share_one_slot() {
        let l = layout();
        for uid in [1, 2, 99, 1_000_000] {
            let sid = l.new_session_id(uid);
            let slot = key_slot(&l.user_key(uid));
            assert_eq!(key_slot(&l.session_key(&sid)), slot);
            assert_eq!(key_slot(&format!("{}x", l.session_key_prefix(&l.tag(uid)))), slot);
        }
        // Spread: 1,000 users fall in many slots.
        let slots: std::collections::HashSet<u16> = (0..1000).map(|u| key_slot(&l.user_key(u))).collect();
        assert!(slots.len() > 900, "{}", slots.len());
    }

    #[test]
    fn prefixes_with_braces_are_refused() {
        assert!(Layout::new("a{b}:", &[0; 32]).is_err());
        assert!(check_prefix("authbench:12:").is_ok());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The format check accepts exactly 48 lowercase hex characters.
        #[test]
        fn the_format_check_is_exact(s in "[0-9a-fA-F{}:]{0,60}") {
            let expected = s.len() == SESSION_ID_LEN && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            prop_assert_eq!(is_well_formed(&s), expected);
        }

        /// A session's key is decided by its whole id: changing the tag (to another user's, or any
        /// other) or the random part names a different key, in the tag's slot; an ill-formed id
        /// never names a well-formed session key.
        #[test]
        fn edited_ids_name_other_keys(uid in 1u64..1_000_000, other in 1u64..1_000_000, at in 0usize..SESSION_ID_LEN, to in 0u8..16) {
            let l = Layout::new("p:", &[9u8; 32]).unwrap();
            let sid = l.new_session_id(uid);
            let mut edited = sid.clone().into_bytes();
            let digit = b"0123456789abcdef"[to as usize];
            prop_assume!(edited[at] != digit);
            edited[at] = digit;
            let edited = String::from_utf8(edited).unwrap();
            prop_assert_ne!(l.session_key(&edited), l.session_key(&sid));
            let swapped = format!("{}{}", l.tag(other), &sid[TAG_LEN..]);
            prop_assert_eq!(l.session_key(&swapped) == l.session_key(&sid), l.tag(other) == l.tag(uid));
            let ill_formed = l.session_key(&sid[1..]);
            prop_assert!(ill_formed.starts_with("p:{}s:"), "{}", ill_formed);
        }
    }
}
