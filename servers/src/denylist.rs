//! `jwt-pubsub`'s in-process denylist: revoked access-token `jti`s, revoked refresh-token
//! families and per-user logout-all epochs, each kept until the moment no token it could match is
//! still valid (then pruned), plus whether the list is known to be complete ("ready").
//!
//! The list is fed by [`crate::subscriber`] (the stored revocations, then the pub/sub messages)
//! and by this server's own logouts. While it is not ready (subscription down, reloading) every
//! authenticated request answers 503: a missed message can never let a revoked token through.
//!
//! Wire form of an entry (a pub/sub message carries one or more, separated by spaces):
//! `j:<jti>:<until>`, `f:<fid>:<until>`, `e:<uid>:<epoch_ms>:<until>`; `until` in Unix seconds.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An access token, by `jti`.
    Jti { jti: String, until: u64 },
    /// Every token of a refresh-token family (logout, reuse detection).
    Family { fid: String, until: u64 },
    /// Every token of `uid` issued at or before `epoch_ms` (logout-all).
    Epoch { uid: u64, epoch_ms: u64, until: u64 },
}

impl Entry {
    /// The entry's wire form.
    pub fn encode(&self) -> String {
        match self {
            Entry::Jti { jti, until } => format!("j:{jti}:{until}"),
            Entry::Family { fid, until } => format!("f:{fid}:{until}"),
            Entry::Epoch { uid, epoch_ms, until } => format!("e:{uid}:{epoch_ms}:{until}"),
        }
    }

    /// Parse one entry's wire form; `None` for anything else.
    pub fn parse(s: &str) -> Option<Entry> {
        let mut it = s.split(':');
        let kind = it.next()?;
        let id = it.next()?;
        let entry = match kind {
            "j" if !id.is_empty() => Entry::Jti { jti: id.to_owned(), until: it.next()?.parse().ok()? },
            "f" if !id.is_empty() => Entry::Family { fid: id.to_owned(), until: it.next()?.parse().ok()? },
            "e" => Entry::Epoch {
                uid: id.parse().ok()?,
                epoch_ms: it.next()?.parse().ok()?,
                until: it.next()?.parse().ok()?,
            },
            _ => return None,
        };
        it.next().is_none().then_some(entry)
    }
}

/// Encode several entries as one message.
pub fn message(entries: &[Entry]) -> String {
    entries.iter().map(Entry::encode).collect::<Vec<_>>().join(" ")
}

#[derive(Default)]
struct Lists {
    jtis: HashMap<String, u64>,
    families: HashMap<String, u64>,
    /// uid → (epoch_ms, until).
    epochs: HashMap<u64, (u64, u64)>,
}

/// The denylist and its readiness.
#[derive(Default)]
pub struct Denylist {
    lists: RwLock<Lists>,
    ready: AtomicBool,
}

impl Denylist {
    pub fn new() -> Denylist {
        Denylist::default()
    }

    /// Whether the list is complete (subscribed and loaded).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }

    /// Add a revocation (idempotent; a later `until` or epoch wins).
    pub fn insert(&self, entry: Entry) {
        let mut l = self.lists.write().unwrap_or_else(|p| p.into_inner());
        match entry {
            Entry::Jti { jti, until } => {
                let u = l.jtis.entry(jti).or_insert(until);
                *u = (*u).max(until);
            }
            Entry::Family { fid, until } => {
                let u = l.families.entry(fid).or_insert(until);
                *u = (*u).max(until);
            }
            Entry::Epoch { uid, epoch_ms, until } => {
                let e = l.epochs.entry(uid).or_insert((epoch_ms, until));
                *e = (e.0.max(epoch_ms), e.1.max(until));
            }
        }
    }

    /// Apply a message (entries separated by spaces); returns how many entries it held, ignoring
    /// malformed ones.
    pub fn apply_message(&self, payload: &str) -> usize {
        payload.split(' ').filter_map(Entry::parse).map(|e| self.insert(e)).count()
    }

    /// The per-request check, no I/O: 503 while the list is not known to be complete, 401 when
    /// the token's `jti` or family is listed or it is not newer than its user's epoch.
    pub fn check(&self, jti: &str, fid: &str, uid: u64, iat_ms: u64) -> Result<()> {
        if !self.is_ready() {
            return Err(Error::StoreUnavailable);
        }
        let l = self.lists.read().unwrap_or_else(|p| p.into_inner());
        let revoked = l.jtis.contains_key(jti)
            || l.families.contains_key(fid)
            || l.epochs.get(&uid).is_some_and(|&(epoch, _)| epoch >= iat_ms);
        if revoked { Err(Error::InvalidCredential) } else { Ok(()) }
    }

    /// Drop every entry whose `until` has passed (no token it could match is still valid).
    /// Returns how many were dropped.
    pub fn prune(&self, now_secs: u64) -> usize {
        let mut l = self.lists.write().unwrap_or_else(|p| p.into_inner());
        let before = l.jtis.len() + l.families.len() + l.epochs.len();
        l.jtis.retain(|_, &mut u| u > now_secs);
        l.families.retain(|_, &mut u| u > now_secs);
        l.epochs.retain(|_, &mut (_, u)| u > now_secs);
        before - (l.jtis.len() + l.families.len() + l.epochs.len())
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        let l = self.lists.read().unwrap_or_else(|p| p.into_inner());
        l.jtis.len() + l.families.len() + l.epochs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes the list holds, estimated from its tables' capacities and the ids' lengths
    /// (hashbrown: one control byte plus the slot per bucket, buckets ≈ capacity × 8/7).
    pub fn approx_bytes(&self) -> usize {
        let l = self.lists.read().unwrap_or_else(|p| p.into_inner());
        let table = |cap: usize, slot: usize| cap * 8 / 7 * (slot + 1);
        let strings = |m: &HashMap<String, u64>| m.keys().map(String::capacity).sum::<usize>();
        table(l.jtis.capacity(), size_of::<(String, u64)>())
            + strings(&l.jtis)
            + table(l.families.capacity(), size_of::<(String, u64)>())
            + strings(&l.families)
            + table(l.epochs.capacity(), size_of::<(u64, (u64, u64))>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Denylist {
        let d = Denylist::new();
        d.set_ready(true);
        d
    }

    #[test]
    fn entries_round_trip_and_junk_is_refused() {
        let es = [
            Entry::Jti { jti: "ab12".into(), until: 7 },
            Entry::Family { fid: "cd34".into(), until: 8 },
            Entry::Epoch { uid: 42, epoch_ms: 1_700_000_000_123, until: 9 },
        ];
        for e in &es {
            assert_eq!(Entry::parse(&e.encode()).as_ref(), Some(e));
        }
        for junk in ["", "j", "j::5", "j:ab", "j:ab:x", "x:ab:5", "e:u:1:2", "e:1:2", "j:ab:5:6", "f::1"] {
            assert_eq!(Entry::parse(junk), None, "{junk}");
        }
        let d = ready();
        assert_eq!(d.apply_message(&message(&es)), 3);
        assert_eq!(d.apply_message("garbage j:zz:notanumber"), 0);
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn not_ready_is_503_listed_is_401() {
        let d = Denylist::new();
        assert!(matches!(d.check("j1", "f1", 1, 10), Err(Error::StoreUnavailable)));
        d.set_ready(true);
        assert!(d.check("j1", "f1", 1, 10).is_ok());
        d.insert(Entry::Jti { jti: "j1".into(), until: u64::MAX });
        assert!(matches!(d.check("j1", "f1", 1, 10), Err(Error::InvalidCredential)));
        d.insert(Entry::Family { fid: "f2".into(), until: u64::MAX });
        assert!(matches!(d.check("j9", "f2", 1, 10), Err(Error::InvalidCredential)));
        assert!(d.check("j9", "f3", 1, 10).is_ok());
        // Epoch: issued at or before it is revoked, after it is not; a later epoch wins.
        d.insert(Entry::Epoch { uid: 5, epoch_ms: 100, until: u64::MAX });
        d.insert(Entry::Epoch { uid: 5, epoch_ms: 50, until: u64::MAX });
        assert!(matches!(d.check("j9", "f3", 5, 100), Err(Error::InvalidCredential)));
        assert!(d.check("j9", "f3", 5, 101).is_ok());
        assert!(d.check("j9", "f3", 6, 1).is_ok());
        d.set_ready(false);
        assert!(matches!(d.check("j9", "f3", 6, 1), Err(Error::StoreUnavailable)));
    }

    #[test]
    fn prune_drops_only_expired_entries_and_bytes_track_size() {
        let d = ready();
        let empty = d.approx_bytes();
        for i in 0..1000u64 {
            d.insert(Entry::Jti { jti: format!("{i:032x}"), until: 100 + i % 2 });
        }
        d.insert(Entry::Family { fid: "f".into(), until: 100 });
        d.insert(Entry::Epoch { uid: 1, epoch_ms: 1, until: 200 });
        let full = d.approx_bytes();
        assert!(full > empty + 1000 * 32, "{full} bytes for 1000 32-char ids");
        assert_eq!(d.prune(99), 0);
        assert_eq!(d.prune(100), 501);
        assert_eq!(d.len(), 501);
        assert!(d.check(&format!("{:032x}", 1), "x", 9, 9).is_err());
        assert!(d.check(&format!("{:032x}", 0), "f", 9, 9).is_ok());
        assert_eq!(d.prune(u64::MAX), 501);
        assert!(d.is_empty());
    }
}
