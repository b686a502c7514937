//! Framing a credential into headers, honestly (positive controls) and dishonestly.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::harness::Harness;

#[derive(Debug, Clone)]
pub enum CookieFrame {
    Plain,
    AmongOthers,
    /// next to another site cookie holding UTF-8 (obs-text), as a browser sends it
    AmongNonAscii,
    DuplicatedSameHeader,
    DuplicatedTwoHeaders,
    DuplicatedWithAnotherIssued(Index),
    EmptyThenValue,
    NameCase,
    OtherSchemesName,
    Spaces,
    Quoted,
    SplitAcrossHeaders(Index),
    CommaSeparated,
    NoName,
    InQueryOnly,
    RawHeader(Vec<u8>),
}

pub fn cookie_frame() -> impl Strategy<Value = CookieFrame> {
    prop_oneof![
        12 => Just(CookieFrame::Plain),
        3 => Just(CookieFrame::AmongOthers),
        1 => Just(CookieFrame::AmongNonAscii),
        1 => Just(CookieFrame::DuplicatedSameHeader),
        1 => Just(CookieFrame::DuplicatedTwoHeaders),
        1 => any::<Index>().prop_map(CookieFrame::DuplicatedWithAnotherIssued),
        1 => Just(CookieFrame::EmptyThenValue),
        1 => Just(CookieFrame::NameCase),
        1 => Just(CookieFrame::OtherSchemesName),
        1 => Just(CookieFrame::Spaces),
        1 => Just(CookieFrame::Quoted),
        1 => any::<Index>().prop_map(CookieFrame::SplitAcrossHeaders),
        1 => Just(CookieFrame::CommaSeparated),
        1 => Just(CookieFrame::NoName),
        1 => Just(CookieFrame::InQueryOnly),
        1 => vec(any::<u8>(), 0..200).prop_map(CookieFrame::RawHeader),
    ]
}

/// `Cookie` header values and a query string carrying `value`; and whether this is the
/// canonical framing a browser sends (positive control when the value is intact).
pub fn frame_cookie(h: &Harness, value: &[u8], frame: &CookieFrame) -> (Vec<Vec<u8>>, String, bool) {
    let name = h.cookie_name().as_bytes();
    let pair = |n: &[u8], v: &[u8]| [n, b"=", v].concat();
    let mut query = String::new();
    let headers = match frame {
        CookieFrame::Plain => return (vec![pair(name, value)], query, true),
        CookieFrame::AmongOthers => {
            return (vec![[b"theme=dark; ", &pair(name, value)[..], b"; lang=en"].concat()], query, true);
        }
        CookieFrame::AmongNonAscii => {
            return (vec![["pref=café; ".as_bytes(), &pair(name, value)[..]].concat()], query, true);
        }
        CookieFrame::DuplicatedSameHeader => {
            vec![[&pair(name, value)[..], b"; ", &pair(name, value)].concat()]
        }
        CookieFrame::DuplicatedTwoHeaders => vec![pair(name, value), pair(name, value)],
        CookieFrame::DuplicatedWithAnotherIssued(i) => {
            let other = h.pool_cred(i).access;
            vec![[&pair(name, value)[..], b"; ", &pair(name, other.as_bytes())].concat()]
        }
        CookieFrame::EmptyThenValue => vec![[&pair(name, b"")[..], b"; ", &pair(name, value)].concat()],
        CookieFrame::NameCase => vec![pair(&name.to_ascii_uppercase(), value)],
        CookieFrame::OtherSchemesName => vec![pair(h.other_cookie_name().as_bytes(), value)],
        CookieFrame::Spaces => vec![[b"  ", name, b" = ", value, b"  ;"].concat()],
        CookieFrame::Quoted => vec![[name, b"=\"", value, b"\""].concat()],
        CookieFrame::SplitAcrossHeaders(at) => {
            let cut = at.index(value.len() + 1);
            vec![pair(name, &value[..cut]), value[cut..].to_vec()]
        }
        CookieFrame::CommaSeparated => vec![[b"a=1, ", &pair(name, value)[..], b", b=2"].concat()],
        CookieFrame::NoName => vec![value.to_vec()],
        CookieFrame::InQueryOnly => {
            query = format!("?{}={}", h.cookie_name(), percent(value));
            vec![b"theme=dark".to_vec()]
        }
        CookieFrame::RawHeader(raw) => vec![raw.clone()],
    };
    (headers, query, false)
}

pub fn percent(v: &[u8]) -> String {
    v.iter().map(|b| format!("%{b:02X}")).collect()
}

#[derive(Debug, Clone)]
pub enum AuthFrame {
    Bearer,
    LowerScheme,
    UpperScheme,
    DoubleSpace,
    Tab,
    NoSpace,
    Basic,
    TokenOnly,
    TwoHeaders,
    TwoHeadersWithAnotherIssued(Index),
    SplitAcrossHeaders(Index),
    TrailingJunk,
    CommaList,
    Quoted,
    AsCookie,
    InQueryOnly,
    RawHeader(Vec<u8>),
}

pub fn auth_frame() -> impl Strategy<Value = AuthFrame> {
    prop_oneof![
        12 => Just(AuthFrame::Bearer),
        1 => Just(AuthFrame::LowerScheme),
        1 => Just(AuthFrame::UpperScheme),
        1 => Just(AuthFrame::DoubleSpace),
        1 => Just(AuthFrame::Tab),
        1 => Just(AuthFrame::NoSpace),
        1 => Just(AuthFrame::Basic),
        1 => Just(AuthFrame::TokenOnly),
        1 => Just(AuthFrame::TwoHeaders),
        1 => any::<Index>().prop_map(AuthFrame::TwoHeadersWithAnotherIssued),
        1 => any::<Index>().prop_map(AuthFrame::SplitAcrossHeaders),
        1 => Just(AuthFrame::TrailingJunk),
        1 => Just(AuthFrame::CommaList),
        1 => Just(AuthFrame::Quoted),
        1 => Just(AuthFrame::AsCookie),
        1 => Just(AuthFrame::InQueryOnly),
        1 => vec(any::<u8>(), 0..200).prop_map(AuthFrame::RawHeader),
    ]
}

/// `(Authorization values, Cookie values, query, canonical?)` carrying `token`.
pub type AuthFramed = (Vec<Vec<u8>>, Vec<Vec<u8>>, String, bool);

pub fn frame_auth(h: &Harness, token: &[u8], frame: &AuthFrame) -> AuthFramed {
    let bearer = |scheme: &[u8], sep: &[u8], t: &[u8]| [scheme, sep, t].concat();
    let none = Vec::new();
    let mut query = String::new();
    let auth = match frame {
        AuthFrame::Bearer => return (vec![bearer(b"Bearer", b" ", token)], none, query, true),
        AuthFrame::LowerScheme => return (vec![bearer(b"bearer", b" ", token)], none, query, true),
        AuthFrame::UpperScheme => return (vec![bearer(b"BEARER", b" ", token)], none, query, true),
        AuthFrame::DoubleSpace => vec![bearer(b"Bearer", b"  ", token)],
        AuthFrame::Tab => vec![bearer(b"Bearer", b"\t", token)],
        AuthFrame::NoSpace => vec![bearer(b"Bearer", b"", token)],
        AuthFrame::Basic => vec![bearer(b"Basic", b" ", token)],
        AuthFrame::TokenOnly => vec![token.to_vec()],
        AuthFrame::TwoHeaders => vec![bearer(b"Bearer", b" ", token), bearer(b"Bearer", b" ", token)],
        AuthFrame::TwoHeadersWithAnotherIssued(i) => {
            let other = h.pool_cred(i).access;
            vec![bearer(b"Bearer", b" ", token), bearer(b"Bearer", b" ", other.as_bytes())]
        }
        AuthFrame::SplitAcrossHeaders(at) => {
            let cut = at.index(token.len() + 1);
            vec![bearer(b"Bearer", b" ", &token[..cut]), token[cut..].to_vec()]
        }
        AuthFrame::TrailingJunk => vec![[&bearer(b"Bearer", b" ", token)[..], b" extra"].concat()],
        AuthFrame::CommaList => vec![[&bearer(b"Bearer", b" ", token)[..], b", Basic Zm9v"].concat()],
        AuthFrame::Quoted => vec![[b"Bearer \"", token, b"\""].concat()],
        AuthFrame::AsCookie => {
            return (
                none,
                vec![[b"ab_auth=", token].concat(), [b"access_token=", token].concat()],
                query,
                false,
            );
        }
        AuthFrame::InQueryOnly => {
            query = format!("?access_token={}", percent(token));
            none
        }
        AuthFrame::RawHeader(raw) => vec![raw.clone()],
    };
    (auth, Vec::new(), query, false)
}
