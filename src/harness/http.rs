//! The control plane's HTTP client: the harness's checks and probes, logins outside the load,
//! revocation probes and `/metrics` reads (not the load: that is loadgen's hot path), on reqwest.
//!
//! - Plain HTTP and HTTPS, HTTP/1.1 and HTTP/2 (ALPN): a server the harness started with `--tls`
//!   is registered here with the certificate it trusts ([`trust`]); every other address is
//!   plain HTTP.
//! - Never through an environment proxy (`.no_proxy()`): `HTTP_PROXY` must not divert loopback
//!   traffic, nor see credentials.
//! - A timeout on every call ([`TIMEOUT`], connect included), and an error that says which:
//!   nothing listening, or no answer in time.
//! - No pooled connections: each call opens its own, so each probe is independent of the last
//!   (a revocation probe never rides a connection an earlier request warmed up).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;

/// How long one control-plane call may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting may take (a loopback connect is immediate or refused).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A response: status, headers, body.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// The protocol it came over (`HTTP/1.1`, `HTTP/2.0`).
    pub version: http::Version,
}

impl Resp {
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("response body is not JSON")
    }

    /// `name=value` of the Set-Cookie header.
    pub fn cookie_pair(&self) -> Option<String> {
        let v = self.headers.get(http::header::SET_COOKIE)?.to_str().ok()?;
        Some(v.split(';').next()?.trim().to_owned())
    }
}

/// Servers reached over HTTPS, with the client that trusts each one's certificate.
fn registry() -> &'static Mutex<HashMap<SocketAddr, reqwest::Client>> {
    static TLS: OnceLock<Mutex<HashMap<SocketAddr, reqwest::Client>>> = OnceLock::new();
    TLS.get_or_init(Default::default)
}

/// The client every plain-HTTP call shares.
fn plain() -> &'static reqwest::Client {
    static PLAIN: OnceLock<reqwest::Client> = OnceLock::new();
    PLAIN.get_or_init(|| client(None, TIMEOUT).expect("a plain reqwest client builds"))
}

/// Which HTTP a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 in clear text; over TLS what ALPN agrees (h2 first).
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only: over TLS by ALPN, in clear text with prior knowledge (h2c).
    Http2,
}

/// A control-plane client: no proxy, no pooling, `timeout` per call; trusting only `ca` (PEM)
/// when given (HTTPS, ALPN h2 and http/1.1).
pub fn client(ca: Option<&[u8]>, timeout: Duration) -> Result<reqwest::Client> {
    client_speaking(ca, timeout, Protocol::Auto)
}

/// [`client`] held to one protocol.
pub fn client_speaking(ca: Option<&[u8]>, timeout: Duration, protocol: Protocol) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .pool_max_idle_per_host(0);
    b = match protocol {
        Protocol::Auto => b,
        Protocol::Http1 => b.http1_only(),
        Protocol::Http2 => b.http2_prior_knowledge(),
    };
    if let Some(pem) = ca {
        let cert = reqwest::Certificate::from_pem(pem).context("the server's certificate (PEM)")?;
        b = b.tls_certs_only([cert]);
    }
    b.build().context("build the control-plane HTTP client")
}

/// From now on, reach `addr` over HTTPS, trusting the certificate `ca` (PEM).
pub fn trust(addr: SocketAddr, ca: &[u8]) -> Result<()> {
    let c = client(Some(ca), TIMEOUT)?;
    registry().lock().unwrap_or_else(|e| e.into_inner()).insert(addr, c);
    Ok(())
}

/// `https://addr` when `addr` was registered with [`trust`], else `http://addr`; and its client.
fn route(addr: SocketAddr) -> (String, reqwest::Client) {
    match registry().lock().unwrap_or_else(|e| e.into_inner()).get(&addr) {
        Some(c) => (format!("https://{addr}"), c.clone()),
        None => (format!("http://{addr}"), plain().clone()),
    }
}

/// Send one request with the given headers (and JSON body, if any) to the server at `addr`.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> Result<Resp> {
    let (base, client) = route(addr);
    request(&client, &base, method, path, headers, json).await
}

/// [`send`] with an explicit client and base URL (`http://IP:PORT`, `https://…`).
pub async fn request(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> Result<Resp> {
    let url = format!("{base}{path}");
    let method =
        reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| anyhow!("bad method {method}"))?;
    let mut req = client.request(method.clone(), &url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = json {
        req = req.header(http::header::CONTENT_TYPE, "application/json").body(body.to_owned());
    }
    let said = |e: reqwest::Error| explain(&e, &format!("{method} {url}"));
    let resp = req.send().await.map_err(said)?;
    let (status, version, headers) = (resp.status().as_u16(), resp.version(), resp.headers().clone());
    let body = resp.bytes().await.map_err(said)?;
    Ok(Resp { status, headers, body, version })
}

/// One line that says what failed: nothing listening, no answer in time, or reqwest's own words.
fn explain(e: &reqwest::Error, what: &str) -> anyhow::Error {
    let chain = {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s = format!("{s}: {inner}");
            src = inner.source();
        }
        s
    };
    if e.is_timeout() {
        anyhow!("{what}: no answer within the control plane's timeout ({chain})")
    } else if e.is_connect() {
        anyhow!("{what}: cannot connect ({chain})")
    } else {
        anyhow!("{what}: {chain}")
    }
}
