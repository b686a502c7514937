//! `jwt::bearer` over any set of `Authorization` headers (one per input line). Properties: never
//! panics; a token is returned only from exactly one header whose scheme is `Bearer` (any case),
//! trimmed, and is that header's tail.
#![no_main]

use authbench_fuzz::header_values;
use authbench_servers::jwt::bearer;
use http::{HeaderMap, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for v in header_values(data) {
        headers.append(header::AUTHORIZATION, v);
    }
    let Ok(token) = bearer(&headers) else { return };
    let all: Vec<_> = headers.get_all(header::AUTHORIZATION).iter().collect();
    assert_eq!(all.len(), 1, "token taken from one of several Authorization headers");
    let value = all[0].to_str().expect("a returned token comes from a visible-ASCII header");
    assert!(value.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("bearer ")), "scheme of {value:?}");
    assert_eq!(token, token.trim());
    assert!(value.trim_end().ends_with(token), "{token:?} is not the tail of {value:?}");
});
