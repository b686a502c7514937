//! Bytes on the wire request by request: `n` `GET /api/me` in a row on one new connection of the
//! generator's own client (the same code, transport and counting as a load run), each request's
//! bytes sent and received at the socket. What HPACK's dynamic table does to a repeated
//! credential shows from request 2 on: the `h2` crate this client encodes with never indexes
//! `authorization` or `cookie` values (`skip_value_index`), so a credential costs the same on
//! every request; nghttp2 (h2load, curl) never indexes `authorization` nor a cookie under 20
//! bytes, and indexes longer cookies, which then cost one byte from the second request on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::client::{Call, Client};
use crate::transport::Transport;

/// One request's bytes at the socket (the connection's handshakes included in the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireBytes {
    pub sent: u64,
    pub received: u64,
    pub status: u16,
}

/// `n` `GET /api/me` with `credential` (or none) on one connection over `transport`.
pub async fn me_sequence(
    target: SocketAddr,
    transport: &Transport,
    credential: Option<(HeaderName, HeaderValue)>,
    n: usize,
) -> Vec<WireBytes> {
    let transport = Arc::new(Transport { new_connection_per_login: false, ..transport.clone() });
    let mut client = Client::new(target, Duration::from_secs(10)).with_transport(transport, None, None);
    let call = Call { credential: credential.as_ref(), ..Call::get(authbench_contract::path::ME) };
    let mut out = Vec::with_capacity(n);
    let mut last = (0, 0);
    for _ in 0..n {
        let status = client.call(&call, Instant::now()).await.map_or(0, |r| r.status.as_u16());
        let now = client.bytes();
        out.push(WireBytes { sent: now.0 - last.0, received: now.1 - last.1, status });
        last = now;
    }
    out
}
