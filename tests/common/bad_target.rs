//! A small misbehaving HTTP target for the load generator's tests: a tokio `TcpListener` on
//! 127.0.0.1:0 that answers the first request properly (the generator's pre-flight
//! `GET /healthz`) and every later one in the way its [`Misbehaviour`] says.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the target does after its first answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Bytes that are not HTTP at all.
    Garbage,
    /// A status line, then a line that is not a header.
    BadHeader,
    /// A response head with more headers than any client accepts (hyper: 100).
    OversizedHeader,
    /// `Content-Length: 100`, five bytes of body, then close.
    TruncatedBody,
    /// Read the request, close without a word.
    Close,
    /// Read the request, reset the connection (RST).
    Reset,
    /// Read the request, never answer, keep the connection open.
    Hang,
    /// Stop listening: every later connect is refused.
    Refuse,
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// The target, on its own thread and runtime; it lives as long as the test process.
pub struct BadTarget {
    pub addr: SocketAddr,
    pub base: String,
}

impl BadTarget {
    pub fn start(mode: Misbehaviour) -> BadTarget {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let answered = Arc::new(AtomicBool::new(false));
                loop {
                    let Ok((stream, _)) = listener.accept().await else { continue };
                    if mode == Misbehaviour::Refuse && answered.load(Ordering::SeqCst) {
                        // The listener goes away with this task: later connects are refused.
                        return;
                    }
                    let answered = answered.clone();
                    let first = !answered.load(Ordering::SeqCst);
                    let conn = tokio::spawn(serve(stream, mode, answered));
                    if mode == Misbehaviour::Refuse && first {
                        let _ = conn.await;
                        return;
                    }
                }
            });
            // Keep the thread (and with Hang, its connections) until the process ends.
            std::thread::park();
        });
        let addr = rx.recv().unwrap();
        BadTarget { addr, base: format!("http://{addr}") }
    }
}

/// Read one request head (up to the blank line); false if the peer closed first.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            return true;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn serve(mut stream: TcpStream, mode: Misbehaviour, answered: Arc<AtomicBool>) {
    let mut buf = Vec::new();
    while read_request(&mut stream, &mut buf).await {
        if !answered.swap(true, Ordering::SeqCst) {
            if stream.write_all(OK).await.is_err() {
                return;
            }
            if mode == Misbehaviour::Refuse {
                return;
            }
            continue;
        }
        let reply: Vec<u8> = match mode {
            Misbehaviour::Garbage => b"garbage, not a response\r\n\r\n".to_vec(),
            Misbehaviour::BadHeader => b"HTTP/1.1 200 OK\r\nthis line is no header\r\n\r\n".to_vec(),
            Misbehaviour::OversizedHeader => {
                let mut r = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
                for i in 0..200 {
                    r.extend_from_slice(format!("x-pad-{i}: {}\r\n", "v".repeat(50)).as_bytes());
                }
                r.extend_from_slice(b"\r\nok");
                r
            }
            Misbehaviour::TruncatedBody => b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort".to_vec(),
            Misbehaviour::Close | Misbehaviour::Refuse => return,
            Misbehaviour::Reset => {
                let _ = stream.set_zero_linger();
                return;
            }
            Misbehaviour::Hang => {
                std::future::pending::<()>().await;
                return;
            }
        };
        let _ = stream.write_all(&reply).await;
        // Every malformed answer ends its connection, as a real broken server's would.
        return;
    }
}
