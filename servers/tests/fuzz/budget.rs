//! The case budget: per credential kind, summed over schemes, at least the issue's 10,000.

use authbench_servers::SchemeKind;

pub const COOKIE_HEADER_CASES: [(SchemeKind, u32); 2] =
    [(SchemeKind::Cookie, 5_000), (SchemeKind::Session, 5_000)];
pub const AUTHORIZATION_CASES: [(SchemeKind, u32); 1] = [(SchemeKind::Jwt, 10_000)];
pub const LOGIN_CASES: [(SchemeKind, u32); 3] =
    [(SchemeKind::Cookie, 3_400), (SchemeKind::Session, 3_300), (SchemeKind::Jwt, 3_300)];
pub const REFRESH_CASES: [(SchemeKind, u32); 3] =
    [(SchemeKind::Cookie, 2_000), (SchemeKind::Session, 2_000), (SchemeKind::Jwt, 6_000)];
pub const FLOOR: u32 = 10_000;

/// Synthetic users in each Router; login bodies also name users just outside this range.
pub const USERS: u64 = 40;
/// Users holding a live credential that mutations start from.
pub const POOL: u64 = 6;

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

pub fn budget(split: &[(SchemeKind, u32)], scheme: SchemeKind) -> u32 {
    let mult =
        std::env::var("AUTHBENCH_FUZZ_MULT").ok().and_then(|m| m.parse::<u32>().ok()).unwrap_or(1).max(1);
    split.iter().find(|(s, _)| *s == scheme).map(|(_, n)| n * mult).expect("scheme in split")
}
