//! Where a case's credential comes from: an issued credential with edits drawn here (the edits
//! themselves are `authbench_servers::testing`, one copy shared with the cargo-fuzz targets), or
//! random bytes.

use authbench_servers::testing::{Edit, Forgery, Pos, apply};
use axum::http::HeaderValue;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::budget::POOL;
use crate::harness::{Cred, Harness};

fn pos() -> impl Strategy<Value = Pos> {
    any::<u64>().prop_map(Pos)
}

pub fn edit() -> impl Strategy<Value = Edit> {
    let forgery = prop_oneof![
        Just(Forgery::AlgNone),
        Just(Forgery::AlgNoneNoSignature),
        prop::sample::select(vec!["none", "None", "NONE", "HS384", "HS512", "RS256", "ES256", "EdDSA", ""])
            .prop_map(Forgery::AlgSwap),
        Just(Forgery::SubOtherUser),
        Just(Forgery::AudRefresh),
        Just(Forgery::TypRefresh),
        Just(Forgery::ExpFuture),
        Just(Forgery::ReEncodeStdBase64),
    ];
    prop_oneof![
        4 => (pos(), 0u8..8).prop_map(|(i, b)| Edit::FlipBit(i, b)),
        2 => pos().prop_map(Edit::Truncate),
        1 => vec(any::<u8>(), 1..8).prop_map(Edit::Extend),
        1 => "[A-Za-z0-9+/=_.-]{1,6}".prop_map(Edit::ExtendAlphabet),
        3 => (pos(), prop::char::ranges(vec!['0'..='9', 'A'..='Z', 'a'..='z', '+'..='+', '/'..='/', '-'..='-', '_'..='_', '='..='=', '.'..='.'].into()))
            .prop_map(|(i, c)| Edit::Replace(i, c as u8)),
        1 => (pos(), 1u8..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (pos(), vec(any::<u8>(), 1..4)).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => Just(Edit::AlphabetSwap),
        1 => Just(Edit::TogglePadding),
        1 => (pos(), any::<bool>()).prop_map(|(i, all)| Edit::SwapCase(i, all)),
        1 => (pos(), pos()).prop_map(|(a, b)| Edit::Splice(a, b)),
        1 => (0u8..4, pos(), pos()).prop_map(|(op, a, b)| Edit::Segment(op, a, b)),
        2 => forgery.prop_map(Edit::Forge),
        1 => Just(Edit::Double),
    ]
}

#[derive(Debug, Clone)]
pub enum Source {
    /// A pool user's live credential (or its refresh token), edited.
    Issued {
        who: Index,
        refresh: bool,
        edits: Vec<Edit>,
    },
    /// One of a pool user's stale refresh tokens (rotated out of its live family), maybe edited;
    /// the user's current refresh token where there is none.
    Stale {
        who: Index,
        pick: Index,
        edits: Vec<Edit>,
    },
    /// A credential revoked earlier in the run or past the maximum age ([`crate::aged`]), maybe
    /// edited; a pool user's live one while there is none.
    Revoked {
        who: Index,
        pick: Index,
        edits: Vec<Edit>,
    },
    RandomBytes(Vec<u8>),
    RandomAlphabet(String),
}

impl Source {
    /// Starts from a refresh token.
    pub fn is_refresh(&self) -> bool {
        matches!(self, Source::Issued { refresh: true, .. } | Source::Stale { .. })
    }
}

pub fn source(refresh_share: u32) -> impl Strategy<Value = Source> {
    let edits = prop_oneof![1 => Just(Vec::new()), 7 => vec(edit(), 1..4)];
    // Half of the replayed credentials are exact: the replay itself is the attack.
    let replay_edits = || prop_oneof![1 => Just(Vec::new()), 1 => vec(edit(), 1..3)];
    prop_oneof![
        16 => (any::<Index>(), prop::bool::weighted(f64::from(refresh_share) / 100.0), edits)
            .prop_map(|(who, refresh, edits)| Source::Issued { who, refresh, edits }),
        2 => (any::<Index>(), any::<Index>(), replay_edits())
            .prop_map(|(who, pick, edits)| Source::Stale { who, pick, edits }),
        2 => (any::<Index>(), any::<Index>(), replay_edits())
            .prop_map(|(who, pick, edits)| Source::Revoked { who, pick, edits }),
        2 => vec(any::<u8>(), 0..300).prop_map(Source::RandomBytes),
        2 => "[A-Za-z0-9+/=_.-]{0,300}".prop_map(Source::RandomAlphabet),
    ]
}

/// The credential bytes of a case, and whether they are a pool user's live credential (or its
/// current refresh token) left intact.
pub fn materialise(h: &Harness, src: &Source) -> (Vec<u8>, Option<Cred>) {
    match src {
        Source::Issued { who, refresh, edits } => {
            let cred = h.pool_cred(who);
            let base = match (refresh, &cred.refresh) {
                (true, Some(r)) => r.clone(),
                _ => cred.access.clone(),
            };
            let other_uid = cred.uid % POOL + 1;
            let out = apply(base.clone().into_bytes(), edits, &h.all_creds(), other_uid);
            let intact = out == base.as_bytes();
            (out, intact.then_some(cred))
        }
        Source::Stale { who, pick, edits } => match h.stale_of(who, pick) {
            Some(stale) => (replayed(h, who, stale, edits), None),
            None => materialise(h, &Source::Issued { who: *who, refresh: true, edits: edits.clone() }),
        },
        Source::Revoked { who, pick, edits } => match h.revoked_one(pick) {
            Some(dead) => {
                let mut st = h.state.borrow_mut();
                st.aged_replays += u32::from(edits.is_empty() && st.aged.contains(&dead));
                drop(st);
                (replayed(h, who, dead, edits), None)
            }
            None => materialise(h, &Source::Issued { who: *who, refresh: false, edits: edits.clone() }),
        },
        Source::RandomBytes(b) => (b.clone(), None),
        Source::RandomAlphabet(s) => (s.clone().into_bytes(), None),
    }
}

fn replayed(h: &Harness, who: &Index, base: String, edits: &[Edit]) -> Vec<u8> {
    let other_uid = h.pool_cred(who).uid % POOL + 1;
    apply(base.into_bytes(), edits, &h.all_creds(), other_uid)
}

/// Header bytes must be visible ASCII, obs-text or tab: map the rest so every case can be sent.
pub fn header_safe(mut v: Vec<u8>) -> Vec<u8> {
    for b in v.iter_mut() {
        if (*b < 0x20 && *b != b'\t') || *b == 0x7f {
            *b = b'~';
        }
    }
    v
}

pub fn hv(v: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(&header_safe(v.to_vec())).expect("header-safe bytes")
}
