//! Bytes on the wire are counted at the socket: against a server that records exactly what it
//! received and answers a known response, the generator's bytes per request equal the request
//! the server saw and the response it sent, byte for byte; over TLS (the real `serve --tls`) the
//! same request costs at least a record's header and tag more, and the handshake is counted.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use authbench_loadgen::{CancellationToken, LoadConfig, LoadModel, Ramp, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";

/// A keep-alive HTTP/1.1 server answering [`RESPONSE`] to every bodiless request; it keeps each
/// request's raw bytes.
async fn recording_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (mut buf, mut chunk) = (Vec::new(), [0u8; 4096]);
                loop {
                    let Ok(n @ 1..) = s.read(&mut chunk).await else { return };
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let request: Vec<u8> = buf.drain(..end + 4).collect();
                        kept.lock().unwrap().push(request);
                        if s.write_all(RESPONSE).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, seen)
}

fn one_user(secs: f64) -> LoadModel {
    LoadModel::Closed { stages: Ramp::constant(1.0, Duration::from_secs_f64(secs)) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_per_request_are_the_request_and_response_on_the_socket() {
    let (addr, seen) = recording_server().await;
    let config = LoadConfig::new(addr, None, one_user(0.5));
    let summary = authbench_loadgen::run(config, CancellationToken::new()).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    // The pre-flight `GET /healthz` is the first request the server saw; it is not the load's.
    let load = &seen[1..];
    assert!(load.len() > 50, "{} requests", load.len());
    let request = &load[0];
    assert!(load.iter().all(|r| r == request), "every request the same bytes");
    let text = String::from_utf8_lossy(request);
    assert_eq!(text, format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n"), "the known request");
    assert_eq!(summary.total.count as usize, load.len());
    assert_eq!(summary.total.bytes_sent_per_req, request.len() as f64, "sent per request");
    assert_eq!(summary.total.bytes_received_per_req, RESPONSE.len() as f64, "received per request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_bytes_are_counted_below_tls_and_its_handshake_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let tls = common::Server::spawn(&common::ServeArgs {
        tls: true,
        cert_out: Some(cert.clone()),
        ..common::serve("jwt")
    });
    let plain = common::Server::spawn(&common::serve("jwt"));
    let run = |addr, transport: Transport| {
        let mut c = LoadConfig::new(addr, None, one_user(0.5));
        c.transport = transport;
        authbench_loadgen::run(c, CancellationToken::new())
    };
    let clear = run(plain.addr, Transport::default()).await.unwrap();
    let https = Transport {
        tls: Some(authbench_loadgen::Tls {
            config: authbench_loadgen::tls_config(&cert, false, true).unwrap(),
            name: authbench_loadgen::server_name(tls.addr),
        }),
        ..Transport::default()
    };
    let over_tls = run(tls.addr, https.clone()).await.unwrap();
    // The same request and answer in TLS records: each direction at least one record's header and
    // tag (5 + 16 bytes, TLS 1.3 adds its content-type byte) more, and the handshake on top.
    let (s0, s1) = (clear.total.bytes_sent_per_req, over_tls.total.bytes_sent_per_req);
    let (r0, r1) = (clear.total.bytes_received_per_req, over_tls.total.bytes_received_per_req);
    assert!(s1 >= s0 + 22.0 && s1 < s0 + 200.0, "sent {s0} in clear, {s1} over TLS");
    assert!(r1 >= r0 + 22.0 && r1 < r0 + 400.0, "received {r0} in clear, {r1} over TLS");
    assert_eq!(over_tls.transport.as_deref(), Some("h1-tls"));
    let h = over_tls.tls.expect("handshakes counted");
    assert_eq!(h.full + h.resumed, 1, "one keep-alive connection: {h:?}");

    // HTTP/2 over TLS by ALPN: answered, and counted under its name.
    let h2 = run(
        tls.addr,
        Transport {
            http2: true,
            tls: https.tls.clone().map(|t| authbench_loadgen::Tls {
                config: authbench_loadgen::tls_config(&cert, true, true).unwrap(),
                ..t
            }),
            ..Transport::default()
        },
    )
    .await
    .unwrap();
    assert!(h2.total.count > 50 && h2.total.errors == 0, "{:?}", h2.total);
    assert_eq!(h2.transport.as_deref(), Some("h2-tls"));
}
