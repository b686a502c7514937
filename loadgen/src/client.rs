//! One virtual user's HTTP/1.1 keep-alive connection, on hyper's client connection directly.
//!
//! The hyper `Connection` future is polled in the virtual user's own task together with the
//! request (no second task per connection, no cross-task wake-up per request), and the
//! per-request timeout is one reusable timer that is only re-armed when it fires: no timer
//! is created or moved per request. Bytes are counted at the socket, so they include headers.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::record::ErrorKind;

/// Connect timeout (the per-request timeout applies on top, from the request's start).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Bytes written and read on a connection; only its own virtual user touches them.
#[derive(Debug, Default)]
pub struct IoCounters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
}

/// A TcpStream that counts bytes both ways.
struct CountingIo {
    inner: TcpStream,
    counters: Arc<IoCounters>,
}

impl AsyncRead for CountingIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.counters.received.fetch_add(n, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for CountingIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            self.counters.sent.fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = r {
            self.counters.sent.fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

type Body = Full<Bytes>;

struct Conn {
    sender: http1::SendRequest<Body>,
    driver: Pin<Box<http1::Connection<TokioIo<CountingIo>, Body>>>,
    done: bool,
}

/// What the flows need from a response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    /// First `Set-Cookie` value, if any.
    pub set_cookie: Option<HeaderValue>,
    /// The body, when asked for; empty otherwise (it is still read to keep the connection).
    pub body: Bytes,
}

/// A request as the flows describe it: static path, at most one credential header, optional body.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: &'static str,
    pub credential: Option<(HeaderName, HeaderValue)>,
    pub json: Option<Bytes>,
    pub want_body: bool,
}

/// A lazily (re)connected HTTP/1.1 connection with a per-request timeout.
pub struct Client {
    addr: SocketAddr,
    host: HeaderValue,
    timeout: Duration,
    conn: Option<Conn>,
    /// Created on first use, so it belongs to the runtime the client runs on.
    timer: Option<Pin<Box<Sleep>>>,
    counters: Arc<IoCounters>,
}

static JSON: HeaderValue = HeaderValue::from_static("application/json");

impl Client {
    pub fn new(addr: SocketAddr, timeout: Duration) -> Client {
        let host =
            HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid header value");
        Client { addr, host, timeout, conn: None, timer: None, counters: Arc::new(IoCounters::default()) }
    }

    /// Total bytes sent and received on every connection this client opened.
    pub fn bytes(&self) -> (u64, u64) {
        (self.counters.sent.load(Ordering::Relaxed), self.counters.received.load(Ordering::Relaxed))
    }

    /// Close the connection (after a failure the next call reconnects).
    pub fn close(&mut self) {
        self.conn = None;
    }

    async fn connect(&mut self, deadline: Instant) -> Result<(), ErrorKind> {
        let limit = CONNECT_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
        let stream = match tokio::time::timeout(limit, TcpStream::connect(self.addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(_)) => return Err(ErrorKind::Connect),
            Err(_) => return Err(ErrorKind::Connect),
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(CountingIo { inner: stream, counters: self.counters.clone() });
        let (sender, driver) = http1::handshake(io).await.map_err(|_| ErrorKind::Closed)?;
        self.conn = Some(Conn { sender, driver: Box::pin(driver), done: false });
        Ok(())
    }

    /// Send one request and read its whole response. Any failure closes the connection.
    pub async fn call(&mut self, call: &Call) -> Result<Reply, ErrorKind> {
        let deadline = Instant::now() + self.timeout;
        let result = self.exchange(call, deadline).await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    async fn exchange(&mut self, call: &Call, deadline: Instant) -> Result<Reply, ErrorKind> {
        if self.conn.as_ref().is_none_or(|c| c.done || c.sender.is_closed()) {
            self.connect(deadline).await?;
        }
        let mut req = Request::new(call.json.clone().map(Full::new).unwrap_or_default());
        *req.method_mut() = call.method.clone();
        *req.uri_mut() = Uri::from_static(call.path);
        let h = req.headers_mut();
        h.insert(header::HOST, self.host.clone());
        if let Some((name, value)) = &call.credential {
            h.insert(name.clone(), value.clone());
        }
        if call.json.is_some() {
            h.insert(header::CONTENT_TYPE, JSON.clone());
        }
        let Client { conn, timer, .. } = self;
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        let conn = conn.as_mut().expect("connected above");
        // hyper's `send_request` future owns a channel receiver and does not borrow the sender.
        let sent = conn.sender.send_request(req);
        let response = drive(conn, timer, deadline, sent).await?.map_err(|_| ErrorKind::Closed)?;
        let status = response.status();
        let set_cookie = response.headers().get(header::SET_COOKIE).cloned();
        let mut body = response.into_body();
        let mut kept = Vec::new();
        // A Content-Length body reports its end with its last frame: no extra poll for `None`.
        while !hyper::body::Body::is_end_stream(&body) {
            match drive(conn, timer, deadline, body.frame()).await? {
                None => break,
                Some(Err(_)) => return Err(ErrorKind::Closed),
                Some(Ok(frame)) => {
                    if call.want_body
                        && let Some(data) = frame.data_ref()
                    {
                        kept.extend_from_slice(data);
                    }
                }
            }
        }
        Ok(Reply { status, set_cookie, body: Bytes::from(kept) })
    }
}

/// Poll `fut` and the connection driver together until `fut` is ready, the connection ends, or the
/// request's deadline passes. The timer is re-armed only when it fires early (it was set for an
/// earlier request), so the common case costs no timer operation at all.
async fn drive<F: Future>(
    conn: &mut Conn,
    timer: &mut Pin<Box<Sleep>>,
    deadline: Instant,
    fut: F,
) -> Result<F::Output, ErrorKind> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        if !conn.done && conn.driver.as_mut().poll(cx).is_ready() {
            conn.done = true;
            // The dispatcher is gone: the request future resolves now (with an error) or never.
            return match fut.as_mut().poll(cx) {
                Poll::Ready(v) => Poll::Ready(Ok(v)),
                Poll::Pending => Poll::Ready(Err(ErrorKind::Closed)),
            };
        }
        // The driver may just have delivered what `fut` waits for (it wakes this very task):
        // look again now rather than going through the scheduler for another poll.
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        while timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= deadline {
                return Poll::Ready(Err(ErrorKind::Timeout));
            }
            timer.as_mut().reset(deadline);
        }
        Poll::Pending
    })
    .await
}
