//! Random identifiers: session ids (session scheme) and refresh-token ids (`jti`, jwt scheme).

use rand::RngCore;

/// Length of an id: 16 random bytes as lowercase hex.
pub const SID_LEN: usize = 32;

/// 128 bits from the thread-local CSPRNG (ChaCha12 seeded from the OS), as 32 hex characters.
pub fn new_sid() -> String {
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let mut s = String::with_capacity(SID_LEN);
    for b in raw {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `sid` has the shape [`new_sid`] gives: 32 lowercase hex characters.
    fn is_well_formed_sid(sid: &str) -> bool {
        sid.len() == SID_LEN && sid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    #[test]
    fn sids_are_128_bit_hex_and_distinct() {
        let a = new_sid();
        let b = new_sid();
        assert_eq!(a.len(), SID_LEN);
        assert!(is_well_formed_sid(&a));
        assert_ne!(a, b);
        assert!(!is_well_formed_sid("ABCDEF0123456789abcdef0123456789"));
        assert!(!is_well_formed_sid("abc"));
        assert!(!is_well_formed_sid(&format!("{a}0")));
    }
}
