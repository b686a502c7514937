//! Bytes on the wire: the socket a connection writes to and reads from, counted at the socket
//! ([`CountingIo`], under TLS when there is TLS), and the one IO type a connection runs over
//! ([`Io`]: clear text, or TLS through tokio-rustls on top of the counting socket).
//!
//! Counting below TLS, not from header lengths, is what makes the figures comparable across
//! transports: TLS adds record headers and tags, HTTP/2 adds frame headers and compresses
//! headers with HPACK, and the handshake is bytes too.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Bytes written and read on a connection, at the socket (below TLS when there is TLS): one
/// writer, the task that polls the connection (a virtual user's own, or an h2 connection's driver).
#[derive(Debug, Default)]
pub struct IoCounters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    /// What [`IoCounters::claim`] has handed out so far (a shared HTTP/2 connection's requests
    /// each claim what is new, so every byte goes to exactly one request).
    claimed_sent: AtomicU64,
    claimed_received: AtomicU64,
    /// The first bytes read since the last write (up to [`HEAD_BYTES`], packed little-endian, the
    /// count in the top byte): what a response that does not parse started with.
    head: AtomicU64,
}

/// How many leading bytes of each answer are kept to classify one that does not parse.
const HEAD_BYTES: usize = 5;

impl IoCounters {
    // One writer (the connection's own task), so a plain load + store: no locked read-modify-write
    // on every socket call. Atomics only because the task may move between polls in principle.
    fn add_sent(&self, n: u64) {
        self.sent.store(self.sent.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }

    fn add_received(&self, n: u64) {
        self.received.store(self.received.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }

    /// Bytes counted since the last claim, by whichever caller (each byte goes to one claim).
    pub fn claim(&self) -> (u64, u64) {
        let (s, r) = (self.sent.load(Ordering::Relaxed), self.received.load(Ordering::Relaxed));
        let s0 = self.claimed_sent.fetch_max(s, Ordering::Relaxed);
        let r0 = self.claimed_received.fetch_max(r, Ordering::Relaxed);
        (s.saturating_sub(s0), r.saturating_sub(r0))
    }

    /// Add bytes claimed elsewhere (a virtual user's share of an HTTP/2 connection).
    pub fn add(&self, sent: u64, received: u64) {
        self.sent.fetch_add(sent, Ordering::Relaxed);
        self.received.fetch_add(received, Ordering::Relaxed);
    }

    /// The first bytes of the latest answer (see `head`).
    pub fn head(&self) -> ([u8; 8], usize) {
        let v = self.head.load(Ordering::Relaxed);
        (v.to_le_bytes(), ((v >> 56) as usize).min(HEAD_BYTES))
    }
}

/// A TcpStream that counts bytes both ways and keeps the first bytes of each answer. Under TLS it
/// sits below the TLS layer, so it counts records, handshakes and alerts: what the wire carries.
pub struct CountingIo {
    inner: TcpStream,
    counters: Arc<IoCounters>,
    /// Bytes of the current answer's head kept so far (`HEAD_BYTES`: done until the next write).
    head_len: usize,
    head: u64,
}

impl CountingIo {
    /// Off the common path: once per answer, until its first few bytes are in.
    #[cold]
    fn keep_head(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(HEAD_BYTES - self.head_len) {
            self.head |= u64::from(b) << (8 * self.head_len);
            self.head_len += 1;
        }
        self.counters.head.store(self.head | ((self.head_len as u64) << 56), Ordering::Relaxed);
    }

    fn wrote(&mut self) {
        self.head_len = 0;
        self.head = 0;
    }
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
        self.counters.add_received(n);
        if self.head_len < HEAD_BYTES && n > 0 {
            self.keep_head(&buf.filled()[before..]);
        }
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
            self.counters.add_sent(n as u64);
            self.wrote();
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
            self.counters.add_sent(n as u64);
            self.wrote();
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

impl CountingIo {
    pub fn new(inner: TcpStream, counters: Arc<IoCounters>) -> CountingIo {
        CountingIo { inner, counters, head_len: 0, head: 0 }
    }
}

/// What a connection runs over: the counting socket, or TLS on top of it.
pub enum Io {
    Plain(CountingIo),
    Tls(Box<tokio_rustls::client::TlsStream<CountingIo>>),
}

impl Io {
    /// Whether the TLS handshake resumed a session (None in clear text).
    pub fn resumed(&self) -> Option<bool> {
        match self {
            Io::Plain(_) => None,
            Io::Tls(t) => Some(t.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed)),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $io:ident => $e:expr) => {
        match $self.get_mut() {
            Io::Plain($io) => {
                let $io = Pin::new($io);
                $e
            }
            Io::Tls($io) => {
                let $io = Pin::new($io.as_mut());
                $e
            }
        }
    };
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        delegate!(self, io => io.poll_read(cx, buf))
    }
}

impl AsyncWrite for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        delegate!(self, io => io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        delegate!(self, io => io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(io) => io.is_write_vectored(),
            Io::Tls(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        delegate!(self, io => io.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        delegate!(self, io => io.poll_shutdown(cx))
    }
}
