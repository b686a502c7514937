//! The control plane's client (reqwest, `authbench::harness::http`): against a dead target
//! (nothing listening) and a hung one (accepts, never answers), a call fails within its timeout
//! with an error that says which; against a live server it answers over HTTP/1.1.

use std::time::{Duration, Instant};

use authbench::harness::http;

const LIMIT: Duration = Duration::from_millis(600);

#[tokio::test]
async fn a_dead_target_fails_at_once_saying_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = http::client(None, LIMIT).unwrap();
    let t = Instant::now();
    let err = http::request(&client, &format!("http://127.0.0.1:{port}"), "GET", "/healthz", &[], None)
        .await
        .expect_err("nothing listens there");
    let msg = format!("{err:#}");
    assert!(t.elapsed() < LIMIT, "took {:?}", t.elapsed());
    assert!(msg.contains("cannot connect") && msg.contains("/healthz"), "{msg}");
}

#[tokio::test]
async fn a_hung_target_fails_within_the_timeout_saying_so() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and holds every connection, reading nothing, answering nothing.
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            open.push(s);
        }
    });
    let client = http::client(None, LIMIT).unwrap();
    let t = Instant::now();
    let err = http::request(&client, &format!("http://{addr}"), "POST", "/auth/login", &[], Some("{}"))
        .await
        .expect_err("it never answers");
    let took = t.elapsed();
    let msg = format!("{err:#}");
    assert!(took >= LIMIT && took < LIMIT * 3, "took {took:?}");
    assert!(msg.contains("no answer within") && msg.contains("/auth/login"), "{msg}");
    held.abort();
}

#[tokio::test]
async fn a_live_target_answers_over_http1() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let _ = s.read(&mut buf).await;
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await.unwrap();
    });
    let client = http::client(None, LIMIT).unwrap();
    let resp = http::request(&client, &format!("http://{addr}"), "GET", "/healthz", &[], None).await.unwrap();
    assert_eq!((resp.status, &resp.body[..]), (200, &b"ok"[..]));
    assert_eq!(resp.version, ::http::Version::HTTP_11);
    server.await.unwrap();
}
