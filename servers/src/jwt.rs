//! Stateless JWT: a short-lived access token in `Authorization: Bearer`, and a refresh token that is
//! also a JWT with its own `typ` and audience, a longer lifetime, rotated on use. No store of any
//! kind: a rotated or logged-out refresh token stays valid until it expires (the measured tradeoff).
//!
//! The algorithm is pinned: a token's header must be byte-for-byte the header this server issues,
//! so `alg: none`, another algorithm and key confusion (an HS256 token signed with an RSA public
//! key) are rejected before any crypto. The payload holds ids and times only: no secret.
//!
//! Signing uses jsonwebtoken (aws-lc-rs backend). Verification — the hot path of every `/api/me` —
//! is written out here on the layer beneath: `jsonwebtoken::decode` measured 2.3-2.6 µs per HS256
//! token on this machine, parsing header and claims twice and building a new HMAC key per call,
//! against 0.29 µs for the HMAC itself (benches/micro.rs, results/micro/). [`Codec::verify`] checks
//! the header bytes, then the signature (a precomputed aws-lc HMAC key for HS256;
//! `jsonwebtoken::crypto::verify` for the others), and only then parses the claims and checks
//! `exp` (with leeway), `iss`, `aud` and `typ` — the same rules `Validation` applied.
//!
//! Absolute lifetime: the refresh token carries the login time (`auth_time`) through every
//! rotation; no token's `exp` goes past `auth_time + --max-age` (default: the refresh lifetime,
//! `--refresh-ttl`), and a refresh at or after it is refused, so a stolen refresh token refreshed
//! in a loop still dies then.

use std::sync::Arc;
use std::time::Duration;

use authbench_contract::{RefreshRequest, TokenPair};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{self as sig, KeyPair};
use axum::Json;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::api::{self, Principal, Scheme};
use crate::error::{Error, Result};
use crate::key_file::{self, Purpose};
use crate::kind::JwtAlg;
use crate::users::Users;

pub const ISSUER: &str = "authbench";
pub const ACCESS_AUDIENCE: &str = "authbench-api";
pub const REFRESH_AUDIENCE: &str = "authbench-refresh";
/// Clock skew tolerated on `exp`, in seconds.
pub const LEEWAY_SECS: u64 = 5;

/// Which of the two tokens a JWT is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The JWT payload. Public by design: base64url, not encrypted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
    pub typ: TokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// `jwt-revocable`: the refresh-token family both tokens of a login belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fid: Option<String>,
    /// `jwt-revocable`: issue time in milliseconds, compared with the user's logout-all epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<u64>,
    /// Refresh tokens: when the user logged in (Unix s, OIDC's `auth_time`), kept through every
    /// rotation; a refresh at or after `auth_time + --max-age` is refused. Access tokens do not
    /// carry it (their `exp` is already capped at that moment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
}

/// An authenticated access token.
#[derive(Debug, Clone)]
pub struct AccessAuth {
    pub uid: u64,
}

impl Principal for AccessAuth {
    fn user_id(&self) -> u64 {
        self.uid
    }
}

/// How a signature is checked: HS256 with a key prepared once, the rest through jsonwebtoken's
/// crypto layer.
#[derive(Clone)]
enum Verifier {
    Hmac(Box<aws_lc_rs::hmac::Key>),
    Asymmetric(DecodingKey),
}

/// Keys and validation rules for one pinned algorithm.
#[derive(Clone)]
pub struct Codec {
    alg: JwtAlg,
    encoding: EncodingKey,
    verifier: Verifier,
    /// base64url of the one header this codec issues; any other header is rejected.
    header_b64: String,
    access_ttl: u64,
    refresh_ttl: u64,
    /// Absolute lifetime of a login's tokens, refresh chain included (`serve --max-age`; by
    /// default the refresh-token lifetime), in seconds.
    max_age: u64,
}

impl Codec {
    /// Fresh keys from the OS CSPRNG (RSA: 2048-bit).
    pub fn generate(alg: JwtAlg, access_ttl: Duration, refresh_ttl: Duration) -> Result<Codec> {
        match alg {
            JwtAlg::Hs256 => {
                let mut secret = [0u8; 32];
                SystemRandom::new().fill(&mut secret).map_err(|_| Error::Config("no randomness".into()))?;
                Ok(Codec::hmac(&secret, access_ttl, refresh_ttl))
            }
            _ => {
                let (encoding, decoding) = asymmetric_keys(alg, &generate_pkcs8(alg)?)?;
                Ok(Codec::with_keys(alg, encoding, Verifier::Asymmetric(decoding), access_ttl, refresh_ttl))
            }
        }
    }

    /// Keys from `--key-file`: HS256's secret derived from the file (HKDF, [`crate::key_file`]:
    /// a file under 32 bytes or all printable ASCII is refused); the others a PKCS#8 PEM private
    /// key.
    pub fn from_key_file(
        alg: JwtAlg,
        material: &[u8],
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Result<Codec> {
        match alg {
            JwtAlg::Hs256 => {
                let secret: [u8; 32] = key_file::derive(material, Purpose::JwtHs256)?;
                Ok(Codec::hmac(&secret, access_ttl, refresh_ttl))
            }
            _ => {
                let (encoding, decoding) = asymmetric_keys(alg, &pem_to_der(material)?)?;
                Ok(Codec::with_keys(alg, encoding, Verifier::Asymmetric(decoding), access_ttl, refresh_ttl))
            }
        }
    }

    fn hmac(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Codec {
        let verifier =
            Verifier::Hmac(Box::new(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret)));
        Codec::with_keys(JwtAlg::Hs256, EncodingKey::from_secret(secret), verifier, access_ttl, refresh_ttl)
    }

    fn with_keys(
        alg: JwtAlg,
        encoding: EncodingKey,
        verifier: Verifier,
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Codec {
        let header = serde_json::to_vec(&Header::new(alg.algorithm())).expect("header serializes");
        Codec {
            alg,
            encoding,
            verifier,
            header_b64: B64.encode(header),
            access_ttl: access_ttl.as_secs(),
            refresh_ttl: refresh_ttl.as_secs(),
            max_age: refresh_ttl.as_secs(),
        }
    }

    /// Set the absolute lifetime of a login (`serve --max-age`): no token of it expires, and no
    /// refresh of it succeeds, past login + `max_age`. Default: the refresh-token lifetime.
    pub fn with_max_age(mut self, max_age: Duration) -> Codec {
        self.max_age = max_age.as_secs();
        self
    }

    pub fn max_age(&self) -> u64 {
        self.max_age
    }

    /// How long a login's refresh family can live: the refresh lifetime, at most the absolute one.
    pub fn family_ttl(&self) -> u64 {
        self.refresh_ttl.min(self.max_age)
    }

    /// A token's `exp`: `ttl` after `now`, but never past `auth_time + max_age`.
    pub fn capped_exp(&self, now: u64, ttl: u64, auth_time: u64) -> u64 {
        (now + ttl).min(auth_time.saturating_add(self.max_age))
    }

    /// The login time a verified refresh token carries, if a refresh may still happen now:
    /// 401 when it carries none, or when the login is `--max-age` old (the chain ends).
    pub fn refreshable(&self, refresh: &Claims) -> Result<u64> {
        let auth_time = refresh.auth_time.ok_or(Error::InvalidCredential)?;
        if api::now_secs() >= auth_time.saturating_add(self.max_age) {
            return Err(Error::Expired);
        }
        Ok(auth_time)
    }

    pub fn alg(&self) -> JwtAlg {
        self.alg
    }

    pub fn access_ttl(&self) -> u64 {
        self.access_ttl
    }

    pub fn refresh_ttl(&self) -> u64 {
        self.refresh_ttl
    }

    /// Sign a token of the given type for `uid`, valid from `now`, for a login made now.
    pub fn issue(&self, uid: u64, typ: TokenType, now: u64) -> Result<String> {
        self.issue_for(uid, typ, now, now)
    }

    /// Sign a token of the given type for `uid`, valid from `now`, for a login made at
    /// `auth_time` (its `exp` capped at the absolute lifetime).
    pub fn issue_for(&self, uid: u64, typ: TokenType, now: u64, auth_time: u64) -> Result<String> {
        let (aud, ttl, jti) = match typ {
            TokenType::Access => (ACCESS_AUDIENCE, self.access_ttl, None),
            TokenType::Refresh => (REFRESH_AUDIENCE, self.refresh_ttl, Some(crate::id::new_sid())),
        };
        let claims = Claims {
            sub: uid.to_string(),
            iat: now,
            exp: self.capped_exp(now, ttl, auth_time),
            iss: ISSUER.to_owned(),
            aud: aud.to_owned(),
            typ,
            jti,
            fid: None,
            iat_ms: None,
            auth_time: (typ == TokenType::Refresh).then_some(auth_time),
        };
        self.sign(&claims)
    }

    /// Sign arbitrary claims with this codec's key (tests forge edge cases with it).
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        jsonwebtoken::encode(&Header::new(self.alg.algorithm()), claims, &self.encoding)
            .map_err(|_| Error::Internal)
    }

    /// Verify header, signature, `exp` (with leeway), `iss`, `aud` and `typ`; return the user id.
    /// Nothing of the payload is parsed before its signature is known good.
    pub fn verify(&self, token: &str, typ: TokenType) -> Result<u64> {
        let claims = self.verify_claims(token, typ)?;
        claims.sub.parse().map_err(|_| Error::InvalidCredential)
    }

    /// [`verify`](Self::verify), returning the whole verified payload.
    pub fn verify_claims(&self, token: &str, typ: TokenType) -> Result<Claims> {
        if token.len() > api::MAX_CREDENTIAL_BYTES {
            return Err(Error::InvalidCredential);
        }
        let (signed, signature) = token.rsplit_once('.').ok_or(Error::InvalidCredential)?;
        let (header, payload) = signed.split_once('.').ok_or(Error::InvalidCredential)?;
        if header != self.header_b64 || payload.contains('.') {
            return Err(Error::InvalidCredential);
        }
        let good = match &self.verifier {
            Verifier::Hmac(key) => {
                let tag = B64.decode(signature).map_err(|_| Error::InvalidCredential)?;
                aws_lc_rs::hmac::verify(key, signed.as_bytes(), &tag).is_ok()
            }
            Verifier::Asymmetric(key) => {
                jsonwebtoken::crypto::verify(signature, signed.as_bytes(), key, self.alg.algorithm())
                    .unwrap_or(false)
            }
        };
        if !good {
            return Err(Error::InvalidCredential);
        }
        let claims: Claims = B64
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(Error::InvalidCredential)?;
        let audience = match typ {
            TokenType::Access => ACCESS_AUDIENCE,
            TokenType::Refresh => REFRESH_AUDIENCE,
        };
        if claims.typ != typ || claims.iss != ISSUER || claims.aud != audience {
            return Err(Error::InvalidCredential);
        }
        if claims.exp.saturating_add(LEEWAY_SECS) < api::now_secs() {
            return Err(Error::Expired);
        }
        Ok(claims)
    }

    fn pair(&self, uid: u64, auth_time: u64) -> Result<Response> {
        let now = api::now_secs();
        let body = TokenPair {
            access_token: self.issue_for(uid, TokenType::Access, now, auth_time)?,
            expires_in: self.capped_exp(now, self.access_ttl, auth_time).saturating_sub(now),
            refresh_token: self.issue_for(uid, TokenType::Refresh, now, auth_time)?,
            token_type: authbench_contract::credential::BEARER.into(),
        };
        Ok(Json(body).into_response())
    }
}

fn generate_pkcs8(alg: JwtAlg) -> Result<Vec<u8>> {
    let failed = |_| Error::Config(format!("cannot generate a {alg:?} key"));
    let rng = SystemRandom::new();
    Ok(match alg {
        JwtAlg::EdDsa => sig::Ed25519KeyPair::generate_pkcs8(&rng).map_err(failed)?.as_ref().to_vec(),
        JwtAlg::Es256 => sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(failed)?
            .as_ref()
            .to_vec(),
        JwtAlg::Rs256 => {
            use aws_lc_rs::encoding::AsDer;
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(failed)?;
            pair.as_der().map_err(failed)?.as_ref().to_vec()
        }
        JwtAlg::Hs256 => unreachable!("HS256 has no key pair"),
    })
}

/// Signing key from a PKCS#8 document; verification key derived from it.
fn asymmetric_keys(alg: JwtAlg, pkcs8: &[u8]) -> Result<(EncodingKey, DecodingKey)> {
    let bad = |what: &str| Error::KeyFile {
        path: "(key)".into(),
        reason: format!("not a PKCS#8 {what} private key"),
    };
    let pem = der_to_pem(pkcs8);
    Ok(match alg {
        JwtAlg::EdDsa => {
            let pair = sig::Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| bad("Ed25519"))?;
            let enc = EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|_| bad("Ed25519"))?;
            (enc, DecodingKey::from_ed_der(pair.public_key().as_ref()))
        }
        JwtAlg::Es256 => {
            let pair = sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map_err(|_| bad("P-256"))?;
            let enc = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|_| bad("P-256"))?;
            (enc, DecodingKey::from_ec_der(pair.public_key().as_ref()))
        }
        JwtAlg::Rs256 => {
            let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8).map_err(|_| bad("RSA"))?;
            let enc = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| bad("RSA"))?;
            (enc, DecodingKey::from_rsa_der(pair.public_key().as_ref()))
        }
        JwtAlg::Hs256 => unreachable!("HS256 is symmetric"),
    })
}

fn der_to_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).expect("base64 is ascii"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

fn pem_to_der(pem: &[u8]) -> Result<Vec<u8>> {
    let bad = |reason: &str| Error::KeyFile { path: "(key)".into(), reason: reason.into() };
    let text = std::str::from_utf8(pem).map_err(|_| bad("not a PEM text file"))?;
    if !text.contains("-----BEGIN PRIVATE KEY-----") {
        return Err(bad("expected a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)"));
    }
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body.trim()).map_err(|_| bad("PEM body is not base64"))
}

/// The JWT scheme's state.
#[derive(Clone)]
pub struct JwtScheme {
    inner: Arc<Inner>,
}

struct Inner {
    users: Arc<Users>,
    codec: Codec,
}

impl JwtScheme {
    pub fn new(users: Arc<Users>, codec: Codec) -> Self {
        JwtScheme { inner: Arc::new(Inner { users, codec }) }
    }

    #[cfg(feature = "testing")]
    pub fn codec(&self) -> &Codec {
        &self.inner.codec
    }
}

/// The bearer token of the one `Authorization` header.
pub fn bearer(headers: &HeaderMap) -> Result<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(Error::MissingCredential)?;
    if values.next().is_some() {
        return Err(Error::AmbiguousCredential);
    }
    let value = value.to_str().map_err(|_| Error::InvalidCredential)?;
    let (scheme, token) = value.split_once(' ').ok_or(Error::InvalidCredential)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Error::InvalidCredential);
    }
    Ok(token.trim())
}

impl FromRequestParts<JwtScheme> for AccessAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, scheme: &JwtScheme) -> Result<Self> {
        let token = bearer(&parts.headers)?;
        let uid = scheme.inner.codec.verify(token, TokenType::Access)?;
        Ok(AccessAuth { uid })
    }
}

impl Scheme for JwtScheme {
    type Principal = AccessAuth;

    fn users(&self) -> &Arc<Users> {
        &self.inner.users
    }

    async fn login(&self, user_id: u64) -> Result<Response> {
        self.inner.codec.pair(user_id, api::now_secs())
    }

    /// A new pair for the same login, unless it is `--max-age` old (401: the chain ends).
    async fn refresh(&self, headers: HeaderMap, body: Bytes) -> Result<Response> {
        let request: RefreshRequest = api::parse_json(&headers, &body)?;
        let claims = self.inner.codec.verify_claims(&request.refresh_token, TokenType::Refresh)?;
        let uid = claims.sub.parse().map_err(|_| Error::InvalidCredential)?;
        let auth_time = self.inner.codec.refreshable(&claims)?;
        self.inner.codec.pair(uid, auth_time)
    }

    async fn logout(&self, _who: AccessAuth) -> Result<Response> {
        // Nothing to delete: the client forgets its tokens; copies stay valid until they expire.
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    async fn logout_all(&self, _who: AccessAuth) -> Result<Response> {
        Err(Error::CannotRevoke)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(alg: JwtAlg) -> Codec {
        Codec::generate(alg, Duration::from_secs(900), Duration::from_secs(86400)).unwrap()
    }

    #[test]
    fn every_algorithm_round_trips_and_rejects_the_other_type() {
        for alg in [JwtAlg::Hs256, JwtAlg::EdDsa, JwtAlg::Es256, JwtAlg::Rs256] {
            let c = codec(alg);
            let now = api::now_secs();
            let access = c.issue(42, TokenType::Access, now).unwrap();
            let refresh = c.issue(42, TokenType::Refresh, now).unwrap();
            assert_eq!(c.verify(&access, TokenType::Access).unwrap(), 42, "{alg:?}");
            assert_eq!(c.verify(&refresh, TokenType::Refresh).unwrap(), 42, "{alg:?}");
            assert!(c.verify(&access, TokenType::Refresh).is_err(), "{alg:?} access accepted as refresh");
            assert!(c.verify(&refresh, TokenType::Access).is_err(), "{alg:?} refresh accepted as access");
            assert!(codec(alg).verify(&access, TokenType::Access).is_err(), "{alg:?} wrong key accepted");
        }
    }

    #[test]
    fn expiry_honours_leeway() {
        let c = codec(JwtAlg::Hs256);
        let now = api::now_secs();
        let claims = |exp| Claims {
            sub: "1".into(),
            iat: now - 1000,
            exp,
            iss: ISSUER.into(),
            aud: ACCESS_AUDIENCE.into(),
            typ: TokenType::Access,
            jti: None,
            fid: None,
            iat_ms: None,
            auth_time: None,
        };
        let within = c.sign(&claims(now - 1)).unwrap();
        assert!(c.verify(&within, TokenType::Access).is_ok());
        let beyond = c.sign(&claims(now - LEEWAY_SECS - 60)).unwrap();
        assert!(matches!(c.verify(&beyond, TokenType::Access), Err(Error::Expired)));
    }

    #[test]
    fn only_the_exact_issued_header_and_a_canonical_signature_pass() {
        let c = codec(JwtAlg::Hs256);
        let token = c.issue(9, TokenType::Access, api::now_secs()).unwrap();
        let (h, rest) = token.split_once('.').unwrap();
        let (p, sig) = rest.split_once('.').unwrap();
        assert_eq!(c.verify(&token, TokenType::Access).unwrap(), 9);
        // Same meaning, other bytes: a header with a space is not the header we issue.
        let spaced = B64.encode(br#"{"typ": "JWT","alg":"HS256"}"#);
        assert!(c.verify(&format!("{spaced}.{p}.{sig}"), TokenType::Access).is_err());
        // Padding or a fourth segment.
        assert!(c.verify(&format!("{h}.{p}.{sig}="), TokenType::Access).is_err());
        assert!(c.verify(&format!("{h}.{p}.x.{sig}"), TokenType::Access).is_err());
        assert!(c.verify(&format!("{h}.{p}"), TokenType::Access).is_err());
        assert!(c.verify(&format!("{h}.{p}."), TokenType::Access).is_err());
        // Claims that are not ours, correctly signed, are still refused.
        let now = api::now_secs();
        let mut claims = Claims {
            sub: "not-a-number".into(),
            iat: now,
            exp: now + 60,
            iss: ISSUER.into(),
            aud: ACCESS_AUDIENCE.into(),
            typ: TokenType::Access,
            jti: None,
            fid: None,
            iat_ms: None,
            auth_time: None,
        };
        assert!(c.verify(&c.sign(&claims).unwrap(), TokenType::Access).is_err());
        claims.sub = "9".into();
        assert_eq!(c.verify(&c.sign(&claims).unwrap(), TokenType::Access).unwrap(), 9);
        claims.iss = "other".into();
        assert!(c.verify(&c.sign(&claims).unwrap(), TokenType::Access).is_err());
    }

    #[test]
    fn key_file_material_is_checked() {
        let ttl = Duration::from_secs(60);
        assert!(Codec::from_key_file(JwtAlg::Hs256, &[7u8; 16], ttl, ttl).is_err());
        assert!(
            Codec::from_key_file(JwtAlg::Hs256, b"a passphrase of more than 32 bytes", ttl, ttl).is_err()
        );
        let c = Codec::from_key_file(JwtAlg::Hs256, &[7u8; 32], ttl, ttl).unwrap();
        let t = c.issue(5, TokenType::Access, api::now_secs()).unwrap();
        // Signed with the derived secret, not with the file's bytes.
        assert!(Codec::hmac(&[7u8; 32], ttl, ttl).verify(&t, TokenType::Access).is_err());
        let derived: [u8; 32] = key_file::derive(&[7u8; 32], Purpose::JwtHs256).unwrap();
        assert_eq!(Codec::hmac(&derived, ttl, ttl).verify(&t, TokenType::Access).unwrap(), 5);
        assert!(Codec::from_key_file(JwtAlg::EdDsa, b"not a pem", ttl, ttl).is_err());
        let pem = der_to_pem(&generate_pkcs8(JwtAlg::Es256).unwrap());
        let c = Codec::from_key_file(JwtAlg::Es256, pem.as_bytes(), ttl, ttl).unwrap();
        let t = c.issue(5, TokenType::Access, api::now_secs()).unwrap();
        assert_eq!(c.verify(&t, TokenType::Access).unwrap(), 5);
    }
}
