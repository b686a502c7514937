//! Helpers shared by the fuzz targets in `fuzz_targets/`:
//!
//! - [`mutate`]: byte-driven edits of a real, issued credential, so the fuzzer starts next to the
//!   values that matter (a random string almost never gets past base64 or the token's shape).
//! - [`header_values`]: one header value per input line, as a client could send them.

use http::HeaderValue;

/// Apply the edits `ops` describes to `base`: each 3-byte group is (operation, position, value);
/// positions wrap around the current length. Operations: flip a bit, replace a byte, insert a
/// byte, delete a byte, truncate, append, swap the base64 alphabet, change a letter's case.
pub fn mutate(base: &str, ops: &[u8]) -> Vec<u8> {
    let mut v = base.as_bytes().to_vec();
    for op in ops.chunks_exact(3) {
        let (kind, pos, val) = (op[0], op[1] as usize, op[2]);
        let len = v.len();
        let at = if len == 0 { 0 } else { pos % len };
        match kind % 8 {
            0 if len > 0 => v[at] ^= 1 << (val % 8),
            1 if len > 0 => v[at] = val,
            2 => v.insert(pos % (len + 1), val),
            3 if len > 0 => {
                v.remove(at);
            }
            4 => v.truncate(pos % (len + 1)),
            5 => v.push(val),
            6 => {
                for b in v.iter_mut() {
                    *b = match *b {
                        b'+' => b'-',
                        b'-' => b'+',
                        b'/' => b'_',
                        b'_' => b'/',
                        x => x,
                    };
                }
            }
            7 if len > 0 => v[at] ^= 0x20 * u8::from(v[at].is_ascii_alphabetic()),
            _ => {}
        }
    }
    v
}

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
