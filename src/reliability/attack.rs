//! The attack battery: bad credentials derived from a real one — every byte changed in turn,
//! truncations, extensions, garbage, oversized, moved under another name, duplicated, `alg: none`
//! — thrown at `GET /api/me` of a live server, each answer counted. None was issued by the server,
//! so every one must be rejected with a 4xx.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::Result;
use authbench_contract::credential::{BEARER, SEALED_COOKIE, SESSION_COOKIE};
use authbench_contract::path;
use authbench_servers::SchemeKind;

use super::AttackRow;
use crate::harness::credential::{Cred, login};
use crate::harness::http;

/// Credentials derived from a real one: bit flips at every position, truncations, extensions,
/// garbage, oversized, moved and duplicated. None of them was issued by the server.
fn attack_inputs(cred: &Cred, scheme: SchemeKind) -> Vec<(&'static str, Vec<(String, String)>)> {
    let raw = cred.raw().to_owned();
    let one = |v: String| vec![(cred.header.to_owned(), cred.with_raw(&v).value)];
    let mut out: Vec<(&'static str, Vec<(String, String)>)> = Vec::new();
    for i in 0..raw.len() {
        let mut b = raw.clone().into_bytes();
        b[i] = match b[i] {
            b'A' => b'B',
            b'0' => b'1',
            b'a' => b'b',
            b'.' => b'-',
            _ => b'A',
        };
        out.push(("byte_changed", one(String::from_utf8_lossy(&b).into_owned())));
    }
    for cut in (1..raw.len()).step_by(3) {
        out.push(("truncated", one(raw[..cut].to_owned())));
    }
    for ext in ["A", "AAAA", "=", ".", "%00", " x"] {
        out.push(("extended", one(format!("{raw}{ext}"))));
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for n in 0..100 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let len = 1 + (rng % 300) as usize;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%";
        let s: String = (0..len)
            .map(|k| alphabet[((rng >> (k % 50)) as usize + k * 7 + n) % alphabet.len()] as char)
            .collect();
        out.push(("garbage", one(s)));
    }
    for size in [4097, 8 * 1024, 64 * 1024] {
        out.push(("oversized", one("A".repeat(size))));
    }
    match scheme.parent() {
        SchemeKind::Jwt => {
            let parts: Vec<&str> = raw.split('.').collect();
            if parts.len() == 3 {
                out.push(("alg_none", one(format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]))));
                out.push(("signature_stripped", one(format!("{}.{}.", parts[0], parts[1]))));
            }
            out.push(("wrong_scheme", vec![("authorization".into(), format!("Basic {raw}"))]));
            out.push(("as_cookie", vec![("cookie".into(), format!("{SEALED_COOKIE}={raw}"))]));
        }
        _ => {
            let name = cred.value.split_once('=').map(|(k, _)| k).unwrap_or("");
            let other = if name == SESSION_COOKIE { SEALED_COOKIE } else { SESSION_COOKIE };
            out.push(("other_cookie_name", vec![("cookie".into(), format!("{other}={raw}"))]));
            out.push(("duplicate_cookie", vec![("cookie".into(), format!("{name}={raw}; {name}={raw}"))]));
            out.push(("as_bearer", vec![("authorization".into(), format!("{BEARER} {raw}"))]));
        }
    }
    out
}

/// Throw the attack inputs at `/api/me` of a live server and count how each was answered.
pub async fn run(scheme: SchemeKind, addr: SocketAddr) -> Result<Vec<AttackRow>> {
    let cred = login(addr, 3).await?;
    let mut rows: BTreeMap<&'static str, AttackRow> = BTreeMap::new();
    for (kind, headers) in attack_inputs(&cred, scheme) {
        let hs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let status = http::send(addr, "GET", path::ME, &hs, None).await.map(|r| r.status).unwrap_or(0);
        let row = rows.entry(kind).or_insert_with(|| AttackRow {
            scheme: scheme.to_string(),
            kind: kind.to_owned(),
            tried: 0,
            rejected_4xx: 0,
            accepted: 0,
            server_errors: 0,
        });
        row.tried += 1;
        match status {
            400..=499 => row.rejected_4xx += 1,
            200..=299 => row.accepted += 1,
            _ => row.server_errors += 1,
        }
    }
    // Control: the real credential still works after the barrage.
    let ok = http::send(addr, "GET", path::ME, &cred.headers(), None).await?.status;
    anyhow::ensure!(ok == 200, "{scheme}: the issued credential stopped working after the attacks ({ok})");
    Ok(rows.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_inputs_never_include_the_real_credential() {
        let cred = Cred {
            header: "cookie",
            value: format!("{SESSION_COOKIE}=0123456789abcdef0123456789abcdef"),
            refresh_token: None,
        };
        let inputs = attack_inputs(&cred, SchemeKind::Session);
        assert!(inputs.len() > 100);
        for (kind, headers) in &inputs {
            for (_, v) in headers {
                if *kind != "duplicate_cookie" && *kind != "other_cookie_name" && *kind != "as_bearer" {
                    assert_ne!(v, &cred.value, "{kind} repeats the issued credential");
                }
            }
        }
    }
}
