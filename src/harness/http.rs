//! A small HTTP/1.1 client for the harness's own checks and probes (not the load: that is
//! loadgen's hot path). One connection per call keeps each probe independent of the last.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// A response: status, headers, body.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("response body is not JSON")
    }

    /// `name=value` of the Set-Cookie header.
    pub fn cookie_pair(&self) -> Option<String> {
        let v = self.headers.get(hyper::header::SET_COOKIE)?.to_str().ok()?;
        Some(v.split(';').next()?.trim().to_owned())
    }
}

/// Send one request with the given headers (and JSON body, if any).
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> Result<Resp> {
    let fut = async {
        let stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connect {addr}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let mut req = Request::builder().method(method).uri(path).header("host", addr.to_string());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if json.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(Full::new(Bytes::from(json.unwrap_or("").to_owned())))?;
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Resp { status, headers, body })
    };
    tokio::time::timeout(Duration::from_secs(10), fut).await.context("request timed out after 10 s")?
}
