//! `cookie::Sealer::open`: raw input, edits of a real sealed cookie, and seal/open round trips.
//! Properties: never panics; only the issued value opens; any claims round-trip; a value sealed
//! under one cookie name never opens under another.
#![no_main]

use std::sync::LazyLock;

use authbench_fuzz::mutate;
use authbench_servers::Error;
use authbench_servers::cookie::{COOKIE_NAME, Claims, Sealer};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_700_000_000;
static SEALER: LazyLock<Sealer> = LazyLock::new(|| Sealer::from_key_file(&[0xa5; 64]).expect("a 64-byte key file"));
static ISSUED: LazyLock<String> =
    LazyLock::new(|| SEALER.seal(COOKIE_NAME, &Claims { uid: 42, iat: NOW, exp: NOW + 900, auth_time: NOW }));

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        0 | 1 => {
            let candidate = if mode % 3 == 0 { rest.to_vec() } else { mutate(&ISSUED, rest) };
            let Ok(s) = std::str::from_utf8(&candidate) else { return };
            if let Ok(claims) = SEALER.open(COOKIE_NAME, s, NOW) {
                assert_eq!(s, ISSUED.as_str(), "a value that was never issued opened to {claims:?}");
            }
        }
        _ => {
            if rest.len() < 24 {
                return;
            }
            let claims = Claims { uid: u64_at(rest, 0), iat: u64_at(rest, 8), exp: u64_at(rest, 16), auth_time: u64_at(rest, 8) };
            let sealed = SEALER.seal(COOKIE_NAME, &claims);
            match SEALER.open(COOKIE_NAME, &sealed, NOW) {
                Ok(opened) => assert_eq!(opened, claims),
                Err(Error::Expired) => assert!(claims.exp <= NOW),
                Err(e) => panic!("sealed claims {claims:?} did not open: {e}"),
            }
            assert!(SEALER.open("ab_sid", &sealed, NOW).is_err(), "value opened under another name");
        }
    }
});
