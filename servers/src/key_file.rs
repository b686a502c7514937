//! `serve --key-file` for the symmetric keys (the cookie's AES-256-GCM key, the JWT HS256 secret):
//! the file is a secret from which each key is derived with HKDF-SHA256 (RFC 5869), one `info`
//! per use, never used as raw key bytes. One function for the server and for every tool that
//! issues credentials the server must accept (`compare`'s key files and its preloader).
//!
//! Refused, with a message that never shows the file's bytes: a file under [`MIN_BYTES`] bytes,
//! and one that is all printable ASCII (a passphrase or a hex/base64 string typed by a person,
//! far less entropy than its length suggests: RFC 8725 §3.5). Generate one with
//! `head -c 32 /dev/urandom > key`.

use aws_lc_rs::hkdf;

use crate::error::{Error, Result};

/// Fewest bytes a key file may hold: 256 bits.
pub const MIN_BYTES: usize = 32;

/// HKDF's salt: fixed, naming the scheme of derivation (RFC 5869 §3.1 allows a non-secret one).
const SALT: &[u8] = b"authbench key-file v1";

/// What a derived key is for: its HKDF `info`, so no two uses share a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The `cookie` crate's 64-byte private-jar key (signing half + AES-256-GCM half).
    Cookie,
    /// The HS256 secret of the JWT schemes.
    JwtHs256,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Purpose::Cookie => b"authbench cookie aes-256-gcm",
            Purpose::JwtHs256 => b"authbench jwt hs256",
        }
    }
}

/// Why a key file is refused, or `None` if it will do.
pub fn refusal(material: &[u8]) -> Option<String> {
    if material.len() < MIN_BYTES {
        return Some(format!(
            "holds {} bytes, fewer than {MIN_BYTES}: use random bytes (`head -c 32 /dev/urandom > key`)",
            material.len()
        ));
    }
    let typed = |b: &u8| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    if material.iter().all(typed) {
        return Some(
            "is all printable ASCII, a passphrase rather than a key: use random bytes \
             (`head -c 32 /dev/urandom > key`)"
                .into(),
        );
    }
    None
}

/// The `N`-byte key for `purpose` derived from a key file's `material` (checked first).
pub fn derive<const N: usize>(material: &[u8], purpose: Purpose) -> Result<[u8; N]> {
    if let Some(reason) = refusal(material) {
        return Err(Error::KeyFile { path: "(key)".into(), reason });
    }
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let mut out = [0u8; N];
    hkdf::Salt::new(hkdf::HKDF_SHA256, SALT)
        .extract(material)
        .expand(&[purpose.info()], Len(N))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| Error::Internal)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_typed_files_are_refused_random_ones_derive_per_purpose() {
        assert!(refusal(&[0xa5; 31]).is_some());
        assert!(refusal(b"correct horse battery staple, twice over\n").is_some());
        assert!(refusal(&[b'Z'; 64]).is_some());
        assert!(refusal(b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").is_some());
        let mut random = [0u8; 32];
        random.iter_mut().enumerate().for_each(|(i, b)| *b = (i as u8).wrapping_mul(73) ^ 0x9c);
        assert!(refusal(&random).is_none());
        let cookie: [u8; 64] = derive(&random, Purpose::Cookie).unwrap();
        let jwt: [u8; 32] = derive(&random, Purpose::JwtHs256).unwrap();
        assert_ne!(&cookie[..32], &jwt[..], "one key per purpose");
        assert_eq!(derive::<32>(&random, Purpose::JwtHs256).unwrap(), jwt, "deterministic");
        assert!(!cookie.windows(8).any(|w| random.windows(8).any(|r| r == w)), "not the raw bytes");
        assert!(derive::<32>(b"passphrase passphrase passphrase", Purpose::JwtHs256).is_err());
    }

    /// RFC 5869 test case 1 (HKDF-SHA256), through the same calls [`derive`] makes.
    #[test]
    fn hkdf_matches_rfc_5869() {
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        struct Len(usize);
        impl hkdf::KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        let mut okm = [0u8; 42];
        hkdf::Salt::new(hkdf::HKDF_SHA256, &salt)
            .extract(&ikm)
            .expand(&[&info], Len(42))
            .unwrap()
            .fill(&mut okm)
            .unwrap();
        let hex: String = okm.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }
}
