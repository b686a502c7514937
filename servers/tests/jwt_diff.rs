//! Differential property test of the hand-written HS256 verification (`jwt::Codec::verify`)
//! against `jsonwebtoken::decode`, the function it replaced on the hot path, with the same
//! validation: algorithm HS256, `exp` required and checked with a 5 s leeway, issuer `authbench`,
//! audience `authbench-api`. `decode` cannot express two rules of ours, so the reference verdict is
//! `decode` *and* those two, checked on what `decode` returned: the `typ` claim is `access`, and
//! `sub` parses as a user id (u64).
//!
//! Tokens: issued by the codec (valid, or issued long ago so expired), re-signed with the same key
//! from claims and headers built here (every claim missing, mistyped or off by one value; other
//! headers), signed with another key, and all of those mutated byte by byte.
//!
//! Properties, on every token:
//! 1. ours accepts ⇒ `decode` accepts (with the same user id);
//! 2. on a token that keeps the issued header and is at most 4096 bytes, ours and the reference
//!    agree exactly.
//!
//! Every divergence, all of them ours being stricter by design:
//! - **Pinned header bytes.** Ours accepts only the exact base64url header it issues
//!   (`{"typ":"JWT","alg":"HS256"}`); `decode` accepts any header whose `alg` is HS256: other key
//!   order, whitespace, a `kid`, another or no `typ`. (Counted below: the test fails if the
//!   generator never produces such a token, so the divergence stays observed, not assumed.)
//! - **Length cap.** Ours rejects any token over `api::MAX_CREDENTIAL_BYTES` (4096) before any
//!   crypto; `decode` has no cap.
//! - **`typ` claim and numeric `sub`.** Not JWT validation options: `decode` accepts a refresh-typed
//!   or non-numeric-`sub` token that has the access audience; ours does not (the reference above
//!   adds both checks, so property 2 still holds).
//!
//! Boundary note: both sides read the clock, so `exp` values within 2 s of the leeway boundary are
//! not generated (a second ticking between the two calls would flip one verdict).

use std::cell::RefCell;
use std::time::Duration;

use authbench_servers::JwtAlg;
use authbench_servers::api::{self, MAX_CREDENTIAL_BYTES};
use authbench_servers::jwt::{ACCESS_AUDIENCE, Claims, Codec, ISSUER, LEEWAY_SECS, TokenType};
use authbench_servers::key_file::{self, Purpose};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// The key file's bytes; the HS256 secret is derived from them (`key_file`, HKDF).
const KEY_FILE: [u8; 32] = [0xd7; 32];
/// The secret the server signs with: derived from [`KEY_FILE`], as `serve --key-file` does.
static SECRET: std::sync::LazyLock<[u8; 32]> =
    std::sync::LazyLock::new(|| key_file::derive(&KEY_FILE, Purpose::JwtHs256).unwrap());
const OTHER_SECRET: &[u8; 32] = b"another-key-of-exactly-32-bytes!";

fn codec() -> Codec {
    Codec::from_key_file(JwtAlg::Hs256, &KEY_FILE, Duration::from_secs(900), Duration::from_secs(86_400))
        .unwrap()
}

fn validation() -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.leeway = LEEWAY_SECS;
    v.validate_exp = true;
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[ACCESS_AUDIENCE]);
    v
}

/// `jsonwebtoken::decode`'s verdict: the claims it returned, or `None`.
fn decode(token: &str) -> Option<Claims> {
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&*SECRET), &validation())
        .ok()
        .map(|d| d.claims)
}

/// The reference: `decode` plus the two rules it cannot express.
fn reference(decoded: &Option<Claims>) -> Option<u64> {
    decoded.as_ref().filter(|c| c.typ == TokenType::Access).and_then(|c| c.sub.parse().ok())
}

fn hs256(key: &[u8], signed: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    B64.encode(aws_lc_rs::hmac::sign(&key, signed.as_bytes()).as_ref())
}

/// Header JSON texts; index 0 is replaced by the issued header's exact bytes.
const HEADERS: &[&str] = &[
    "(issued)",
    r#"{"alg":"HS256","typ":"JWT"}"#,
    r#"{"typ": "JWT", "alg": "HS256"}"#,
    r#"{"typ":"JWT","alg":"HS256","kid":"k1"}"#,
    r#"{"alg":"HS256"}"#,
    r#"{"typ":"at+jwt","alg":"HS256"}"#,
    r#"{"typ":"JWT","alg":"HS384"}"#,
    r#"{"typ":"JWT","alg":"none"}"#,
    r#"{"typ":"JWT","alg":"RS256"}"#,
    r#"{"typ":"JWT"}"#,
    "not json",
];

/// One claim as `(key, JSON value)`, `None` for "left out". Each list's first entry is the valid one.
fn claim(
    key: &'static str,
    values: Vec<Option<String>>,
) -> impl Strategy<Value = Option<(&'static str, String)>> + use<> {
    (0..values.len(), proptest::bool::weighted(0.8)).prop_map(move |(i, valid)| {
        // Mostly the valid value, so that whole tokens are often valid but for one claim.
        let v = if valid { values[0].clone() } else { values[i].clone() };
        v.map(|v| (key, v))
    })
}

fn q(s: &str) -> Option<String> {
    Some(format!("\"{s}\""))
}

/// `exp` relative to now, kept 2 s away from the leeway boundary (see the module note).
fn exp_offset() -> impl Strategy<Value = i64> {
    prop_oneof![3 => 1i64..100_000, 1 => -100_000i64..-(LEEWAY_SECS as i64) - 3, 1 => -(LEEWAY_SECS as i64) + 3..1]
}

#[derive(Debug, Clone)]
struct Forged {
    header: usize,
    claims: Vec<(&'static str, String)>,
    duplicate: Option<Index>,
    spaced: bool,
    other_key: bool,
}

fn forged() -> impl Strategy<Value = Forged> {
    let sub = claim(
        "sub",
        vec![
            q("42"),
            q("0"),
            q("18446744073709551615"),
            q("18446744073709551616"),
            q("-1"),
            q("abc"),
            q(" 42"),
            q("+7"),
            Some("42".into()),
            None,
        ],
    );
    let iss = claim("iss", vec![q(ISSUER), q("authbench "), q("other"), Some("1".into()), None]);
    let aud = claim(
        "aud",
        vec![
            q(ACCESS_AUDIENCE),
            q("authbench-refresh"),
            Some(format!("[\"{ACCESS_AUDIENCE}\"]")),
            q(""),
            None,
        ],
    );
    let typ = claim("typ", vec![q("access"), q("refresh"), q("Access"), Some("1".into()), None]);
    let iat = claim("iat", vec![Some("1700000000".into()), Some("-1".into()), Some("1.5".into()), None]);
    let jti = claim("jti", vec![None, q("abc"), Some("7".into()), Some(format!("\"{}\"", "j".repeat(3100)))]);
    let extra = claim("extra", vec![None, q("x"), Some("{\"a\":[1,2]}".into())]);
    let exp_kind = 0..6u8;
    (
        (prop_oneof![Just(0), 1..HEADERS.len()], sub, iss, aud, typ, iat, jti, extra),
        (
            exp_offset(),
            exp_kind,
            proptest::option::weighted(0.1, any::<Index>()),
            any::<bool>(),
            proptest::bool::weighted(0.1),
        ),
    )
        .prop_map(
            |(
                (header, sub, iss, aud, typ, iat, jti, extra),
                (offset, exp_kind, duplicate, spaced, other_key),
            )| {
                let now = api::now_secs() as i64;
                let exp = match exp_kind {
                    0..=2 => Some((now + offset).to_string()),
                    3 => Some(format!("{}.5", now + offset)),
                    4 => Some(format!("\"{}\"", now + offset)),
                    _ => None,
                };
                let claims = [sub, iss, aud, typ, iat, jti, extra, exp.map(|e| ("exp", e))]
                    .into_iter()
                    .flatten()
                    .collect();
                Forged { header, claims, duplicate, spaced, other_key }
            },
        )
}

#[derive(Debug, Clone)]
enum Mutation {
    None,
    Replace(Index, char),
    Delete(Index),
    Insert(Index, char),
    Truncate(Index),
    Append(&'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch =
        prop::sample::select(&['A', 'a', 'Q', 'w', '0', '9', '-', '_', '.', '=', '+', '/', ' ', 'é'][..]);
    prop_oneof![
        6 => Just(Mutation::None),
        2 => (any::<Index>(), ch.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        1 => any::<Index>().prop_map(Mutation::Delete),
        1 => (any::<Index>(), ch).prop_map(|(i, c)| Mutation::Insert(i, c)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => prop::sample::select(&["=", "==", ".", ".x", "A"][..]).prop_map(Mutation::Append),
    ]
}

fn mutate(token: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    match m {
        Mutation::None => {}
        Mutation::Replace(i, c) => {
            let i = i.index(chars.len());
            chars[i] = *c;
        }
        Mutation::Delete(i) => {
            chars.remove(i.index(chars.len()));
        }
        Mutation::Insert(i, c) => chars.insert(i.index(chars.len() + 1), *c),
        Mutation::Truncate(i) => chars.truncate(i.index(chars.len())),
        Mutation::Append(s) => chars.extend(s.chars()),
    }
    chars.into_iter().collect()
}

#[derive(Debug, Clone)]
enum Source {
    /// Issued by the codec `age` seconds ago (access or refresh).
    Issued {
        refresh: bool,
        age: u64,
    },
    Forged(Forged),
}

fn source() -> impl Strategy<Value = Source> {
    let ages = prop_oneof![Just(0u64), 0u64..800, 900 + LEEWAY_SECS + 3..100_000];
    prop_oneof![
        1 => (proptest::bool::weighted(0.2), ages).prop_map(|(refresh, age)| Source::Issued { refresh, age }),
        3 => forged().prop_map(Source::Forged),
    ]
}

fn materialise(codec: &Codec, issued_header: &str, src: &Source) -> String {
    match src {
        Source::Issued { refresh, age } => {
            let typ = if *refresh { TokenType::Refresh } else { TokenType::Access };
            codec.issue(42, typ, api::now_secs() - age).unwrap()
        }
        Source::Forged(f) => {
            let header = match f.header {
                0 => issued_header.to_owned(),
                i => B64.encode(HEADERS[i]),
            };
            let mut fields: Vec<String> = f.claims.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            if let Some(i) = &f.duplicate
                && !fields.is_empty()
            {
                let dup = fields[i.index(fields.len())].clone();
                fields.push(dup);
            }
            let payload = B64.encode(format!("{{{}}}", fields.join(if f.spaced { ", " } else { "," })));
            let signed = format!("{header}.{payload}");
            let key: &[u8] = if f.other_key { OTHER_SECRET } else { &*SECRET };
            format!("{signed}.{}", hs256(key, &signed))
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    cases: u32,
    ours_accepted: u32,
    reference_rejected_issued_header: u32,
    /// `decode` accepts, ours rejects: the pinned-header divergence.
    header_divergence: u32,
    /// Issued header and a valid signature, over 4096 bytes: the length-cap divergence.
    length_divergence: u32,
    /// `decode` accepts, the reference does not (typ / sub rules).
    claim_rule_divergence: u32,
}

#[test]
fn hand_written_hs256_verify_agrees_with_jsonwebtoken_decode() {
    let codec = codec();
    let issued = codec.issue(1, TokenType::Access, api::now_secs()).unwrap();
    let issued_header = issued.split('.').next().unwrap().to_owned();
    // The issued header is the one the module comment names.
    assert_eq!(B64.decode(&issued_header).unwrap(), br#"{"typ":"JWT","alg":"HS256"}"#);
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(Config { cases: 8_000, failure_persistence: None, ..Config::default() });
    runner
        .run(&(source(), mutation()), |(src, m)| {
            let token = mutate(&materialise(&codec, &issued_header, &src), &m);
            let ours = codec.verify(&token, TokenType::Access).ok();
            let decoded = decode(&token);
            let reference = reference(&decoded);
            let mut t = tally.borrow_mut();
            t.cases += 1;
            if let Some(uid) = ours {
                t.ours_accepted += 1;
                // Property 1: ours accepts ⇒ decode accepts, for the same user.
                let Some(claims) = &decoded else {
                    return Err(TestCaseError::fail(format!("ours accepted, decode rejected: {token}")));
                };
                prop_assert_eq!(claims.sub.parse::<u64>().ok(), Some(uid), "{}", token);
            }
            if decoded.is_some() && reference.is_none() {
                t.claim_rule_divergence += 1;
            }
            let keeps_header = token.split('.').next() == Some(issued_header.as_str());
            if keeps_header && token.len() <= MAX_CREDENTIAL_BYTES {
                // Property 2: exact agreement on the issued header.
                prop_assert_eq!(ours, reference, "disagree on {}", token);
                if reference.is_none() {
                    t.reference_rejected_issued_header += 1;
                }
            } else if ours.is_none() && reference.is_some() {
                if keeps_header {
                    t.length_divergence += 1;
                } else {
                    t.header_divergence += 1;
                }
            }
            Ok(())
        })
        .unwrap();
    let t = tally.into_inner();
    eprintln!("{t:?}");
    // The generator reaches every region the properties speak about (bounds about a third of the
    // expected counts: 8,000 cases give ~700 / ~3,700 / ~110 / ~13 / ~24).
    assert!(t.ours_accepted >= 250, "{t:?}");
    assert!(t.reference_rejected_issued_header >= 1200, "{t:?}");
    assert!(t.header_divergence >= 35, "{t:?}");
    assert!(t.length_divergence >= 3, "{t:?}");
    assert!(t.claim_rule_divergence >= 6, "{t:?}");
}
