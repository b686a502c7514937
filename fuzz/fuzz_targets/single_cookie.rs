//! `api::single_cookie` over any set of `Cookie` headers (one per input line). Properties: never
//! panics; a returned value is non-empty, bounded, trimmed, free of `;`, and occurs in a header
//! right after `<name>=` (modulo spaces).
#![no_main]

use authbench_fuzz::header_values;
use authbench_servers::api::{MAX_CREDENTIAL_BYTES, single_cookie};
use http::{HeaderMap, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for v in header_values(data) {
        headers.append(header::COOKIE, v);
    }
    for name in ["ab_auth", "ab_sid"] {
        let Ok(value) = single_cookie(&headers, name) else { continue };
        assert!(!value.is_empty() && value.len() <= MAX_CREDENTIAL_BYTES);
        assert!(!value.contains(';'));
        assert_eq!(value, value.trim_matches(|c: char| c.is_ascii_whitespace()));
        let found = headers.get_all(header::COOKIE).iter().any(|h| {
            let h = h.as_bytes();
            h.windows(value.len()).enumerate().any(|(i, w)| {
                w == value.as_bytes() && {
                    let before = h[..i].trim_ascii_end();
                    before.ends_with(b"=")
                        && before[..before.len() - 1].trim_ascii_end().ends_with(name.as_bytes())
                }
            })
        });
        assert!(found, "{value:?} is not the value of a `{name}` pair");
    }
});
