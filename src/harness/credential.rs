//! A credential as a client holds it, obtained through the server's real login endpoint, and the
//! one probe every harness user makes with it: `GET /api/me`.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use authbench_contract::credential::BEARER;
use authbench_contract::path;

use super::http;

/// A credential as a client presents it.
#[derive(Debug, Clone)]
pub struct Cred {
    pub header: &'static str,
    pub value: String,
    /// JWT refresh token; cookie schemes refresh with the cookie itself.
    pub refresh_token: Option<String>,
}

impl Cred {
    /// The raw credential (cookie value or bearer token) without the header syntax.
    pub fn raw(&self) -> &str {
        match self.header {
            "authorization" => {
                self.value.strip_prefix(BEARER).and_then(|v| v.strip_prefix(' ')).unwrap_or(&self.value)
            }
            _ => self.value.split_once('=').map(|(_, v)| v).unwrap_or(&self.value),
        }
    }

    pub fn with_raw(&self, raw: &str) -> Cred {
        let value = match self.header {
            "authorization" => format!("{BEARER} {raw}"),
            _ => format!("{}={raw}", self.value.split_once('=').map(|(k, _)| k).unwrap_or("")),
        };
        Cred { header: self.header, value, refresh_token: self.refresh_token.clone() }
    }

    pub fn headers(&self) -> [(&str, &str); 1] {
        [(self.header, self.value.as_str())]
    }
}

/// Log `user{uid}` in through the real endpoint.
pub async fn login(addr: SocketAddr, uid: u64) -> Result<Cred> {
    let body = format!(r#"{{"username":"user{uid}","password":"password{uid}"}}"#);
    let resp = http::send(addr, "POST", path::LOGIN, &[], Some(&body)).await?;
    if resp.status != 200 {
        bail!("login of user{uid} answered {}", resp.status);
    }
    if let Some(pair) = resp.cookie_pair() {
        return Ok(Cred { header: "cookie", value: pair, refresh_token: None });
    }
    let j = resp.json()?;
    let access = j["access_token"].as_str().context("no access_token in login response")?;
    Ok(Cred {
        header: "authorization",
        value: format!("{BEARER} {access}"),
        refresh_token: j["refresh_token"].as_str().map(str::to_owned),
    })
}

pub async fn me_status(addr: SocketAddr, cred: &Cred) -> Result<u16> {
    Ok(http::send(addr, "GET", path::ME, &cred.headers(), None).await?.status)
}

/// `POST /auth/refresh` with a credential as its scheme refreshes it (the cookie itself, or the
/// JWT refresh token in the body). Returns the status and, on 200, the new credential.
pub async fn refresh(addr: SocketAddr, cred: &Cred) -> Result<(u16, Option<Cred>)> {
    let resp = match &cred.refresh_token {
        Some(token) => {
            let body = serde_json::json!({ "refresh_token": token }).to_string();
            http::send(addr, "POST", path::REFRESH, &[], Some(&body)).await?
        }
        None => http::send(addr, "POST", path::REFRESH, &cred.headers(), None).await?,
    };
    if resp.status != 200 {
        return Ok((resp.status, None));
    }
    if let Some(pair) = resp.cookie_pair() {
        return Ok((200, Some(Cred { header: "cookie", value: pair, refresh_token: None })));
    }
    let j = resp.json()?;
    let access = j["access_token"].as_str().context("no access_token in refresh response")?;
    Ok((
        200,
        Some(Cred {
            header: "authorization",
            value: format!("{BEARER} {access}"),
            refresh_token: j["refresh_token"].as_str().map(str::to_owned),
        }),
    ))
}
