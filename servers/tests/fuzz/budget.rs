//! The case budget: per credential kind, summed over schemes, at least issue 6's 10,000; and every
//! scheme, the four variants included (issue 12), gets cases for each property that applies to it.
//! The variants' shares are sized to add 6 to 13 s to the suite (measured on a loaded 2-core
//! machine; see `fuzz/README.md`), the revocation oracles living mostly in the refresh cases.

use authbench_servers::SchemeKind;

pub const COOKIE_HEADER_CASES: [(SchemeKind, u32); 4] = [
    (SchemeKind::Cookie, 5_000),
    (SchemeKind::Session, 5_000),
    (SchemeKind::SessionCached, 5_000),
    (SchemeKind::SessionTracked, 5_000),
];
pub const AUTHORIZATION_CASES: [(SchemeKind, u32); 3] =
    [(SchemeKind::Jwt, 10_000), (SchemeKind::JwtRevocable, 5_000), (SchemeKind::JwtPubsub, 5_000)];
pub const LOGIN_CASES: [(SchemeKind, u32); 7] = [
    (SchemeKind::Cookie, 3_400),
    (SchemeKind::Session, 3_300),
    (SchemeKind::Jwt, 3_300),
    (SchemeKind::SessionCached, 1_000),
    (SchemeKind::SessionTracked, 1_000),
    (SchemeKind::JwtRevocable, 1_000),
    (SchemeKind::JwtPubsub, 1_000),
];
pub const REFRESH_CASES: [(SchemeKind, u32); 7] = [
    (SchemeKind::Cookie, 2_000),
    (SchemeKind::Session, 2_000),
    (SchemeKind::Jwt, 6_000),
    (SchemeKind::SessionCached, 3_000),
    (SchemeKind::SessionTracked, 3_000),
    (SchemeKind::JwtRevocable, 3_000),
    (SchemeKind::JwtPubsub, 3_000),
];
pub const FLOOR: u32 = 10_000;

/// Synthetic users in each Router; login bodies also name users just outside this range.
pub const USERS: u64 = 40;
/// Users holding a live credential that mutations start from.
pub const POOL: u64 = 6;
/// Logins ("devices") per pool user: logout and a detected reuse end one, logout-all all of them.
pub const DEVICES: u64 = 2;

#[test]
pub fn case_budget_meets_the_issue_floor() {
    for (kind, split) in [
        ("Cookie headers", &COOKIE_HEADER_CASES[..]),
        ("Authorization headers", &AUTHORIZATION_CASES[..]),
        ("login bodies", &LOGIN_CASES[..]),
        ("refresh bodies", &REFRESH_CASES[..]),
    ] {
        let total: u32 = split.iter().map(|(_, n)| n).sum();
        assert!(total >= FLOOR, "{kind}: {total} cases < {FLOOR}");
    }
}

#[test]
pub fn every_scheme_has_cases_for_each_property() {
    use clap::ValueEnum;
    for scheme in SchemeKind::value_variants() {
        let bearer = matches!(scheme, SchemeKind::Jwt | SchemeKind::JwtRevocable | SchemeKind::JwtPubsub);
        let header = if bearer { &AUTHORIZATION_CASES[..] } else { &COOKIE_HEADER_CASES[..] };
        for split in [header, &LOGIN_CASES[..], &REFRESH_CASES[..]] {
            assert!(split.iter().any(|(s, n)| s == scheme && *n > 0), "{scheme}: no cases in a split");
        }
    }
}

pub fn budget(split: &[(SchemeKind, u32)], scheme: SchemeKind) -> u32 {
    let mult =
        std::env::var("AUTHBENCH_FUZZ_MULT").ok().and_then(|m| m.parse::<u32>().ok()).unwrap_or(1).max(1);
    split.iter().find(|(s, _)| *s == scheme).map(|(_, n)| n * mult).expect("scheme in split")
}
