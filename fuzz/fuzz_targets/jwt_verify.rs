//! `jwt::Codec::verify` (HS256, pinned): raw input, edits of real access and refresh tokens, and
//! tokens with a fuzzed header and payload carrying a real signature. Properties: never panics;
//! only the issued token of a type verifies as that type, for the issued user.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use authbench_fuzz::mutate;
use authbench_servers::JwtAlg;
use authbench_servers::api::now_secs;
use authbench_servers::jwt::{Codec, TokenType};
use libfuzzer_sys::fuzz_target;

const UID: u64 = 7;
static CODEC: LazyLock<Codec> = LazyLock::new(|| {
    Codec::from_key_file(
        JwtAlg::Hs256,
        &[0xc2; 32],
        Duration::from_secs(900),
        Duration::from_secs(86_400),
    )
    .expect("HS256 key")
});
static TOKENS: LazyLock<[(TokenType, String); 2]> = LazyLock::new(|| {
    let now = now_secs();
    [TokenType::Access, TokenType::Refresh].map(|t| (t, CODEC.issue(UID, t, now).expect("sign")))
});

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=c.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn check(candidate: &[u8]) {
    let Ok(token) = std::str::from_utf8(candidate) else { return };
    for (typ, issued) in TOKENS.iter() {
        if let Ok(uid) = CODEC.verify(token, *typ) {
            assert_eq!(token, issued, "a token that was never issued verified as {typ:?}");
            assert_eq!(uid, UID);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 4 {
        0 => check(rest),
        1 => check(&mutate(&TOKENS[0].1, rest)),
        2 => check(&mutate(&TOKENS[1].1, rest)),
        _ => {
            // header JSON 0xff payload JSON, signed with a real token's signature
            let mut parts = rest.splitn(2, |&b| b == 0xff);
            let (header, payload) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            for (_, issued) in TOKENS.iter() {
                let sig = issued.rsplit('.').next().expect("three segments");
                check(format!("{}.{}.{sig}", b64url(header), b64url(payload)).as_bytes());
            }
        }
    }
});
