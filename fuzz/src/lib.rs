//! Helpers shared by the fuzz targets in `fuzz_targets/`:
//!
//! - [`mutate`]: byte-driven edits of a real, issued credential, so the fuzzer starts next to the
//!   values that matter (a random string almost never gets past base64 or the token's shape). The
//!   edits are the servers crate's (`authbench_servers::testing`, feature `testing`), the same
//!   ones the property tests in `servers/tests/fuzz/` draw.
//! - [`header_values`]: one header value per input line, as a client could send them.

use http::HeaderValue;

pub use authbench_servers::testing::mutate;

/// Header values from `data`, one per `\n`-separated line; lines that are not valid header
/// values (control bytes) are skipped, as no HTTP parser would deliver them.
pub fn header_values(data: &[u8]) -> Vec<HeaderValue> {
    data.split(|&b| b == b'\n').filter_map(|line| HeaderValue::from_bytes(line).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply() {
        assert_eq!(mutate("abc", &[]), b"abc");
        assert_eq!(mutate("abc", &[0, 0, 0]), b"`bc");
        assert_eq!(mutate("abc", &[4, 1, 0]), b"a");
        assert_eq!(mutate("a+b", &[6, 0, 0]), b"a-b");
        assert_eq!(header_values(b"a=1\nb=\x01\nc").len(), 2);
    }
}
