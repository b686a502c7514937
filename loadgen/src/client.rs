//! One virtual user's HTTP/1.1 keep-alive connection, on hyper's client connection directly.
//!
//! The hyper `Connection` future is polled in the virtual user's own task together with the
//! request (no second task per connection, no cross-task wake-up per request; the wake-ups hyper's
//! two halves send each other are absorbed within that poll, see `Quiet`), and the
//! per-request timeout is one reusable timer that is only re-armed when it fires: no timer
//! is created or moved per request. Bytes are counted at the socket, so they include headers.
//! A failure is classified here, by phase (connect, head, body) and type: see [`ErrorKind`].

use std::cell::Cell;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures::task::AtomicWaker;
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::failure::ErrorKind;

/// Connect timeout (the per-request timeout applies on top, from the request's start).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Loopback source addresses a run's connections are spread over (127.0.0.1 to 127.0.0.8), so the
/// ~28k ephemeral ports of one source address do not cap the connections to one target.
pub const SOURCE_ADDRESSES: u8 = 8;

/// The source address of connection `n` to `target`: spread over 127.0.0.1..=8 for an IPv4
/// loopback target; the system's choice otherwise.
pub fn source_for(target: SocketAddr, n: u64) -> Option<std::net::IpAddr> {
    match target.ip() {
        std::net::IpAddr::V4(ip) if ip.is_loopback() => {
            Some(std::net::Ipv4Addr::new(127, 0, 0, 1 + (n % u64::from(SOURCE_ADDRESSES)) as u8).into())
        }
        _ => None,
    }
}

/// Connects refused by this process's own limits, counted for the run's summary: which limit
/// stopped the generator from opening more connections.
#[derive(Debug, Default)]
pub struct OsLimits {
    /// EMFILE / ENFILE: the open-file limit (per process, or the system's).
    pub files: AtomicU64,
    /// EADDRNOTAVAIL: no free ephemeral port for the source address.
    pub ports: AtomicU64,
}

impl OsLimits {
    fn count(&self, e: &std::io::Error) {
        // Linux errno values: ENFILE 23, EMFILE 24.
        if matches!(e.raw_os_error(), Some(23 | 24)) {
            self.files.fetch_add(1, Ordering::Relaxed);
        } else if e.kind() == std::io::ErrorKind::AddrNotAvailable {
            self.ports.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Bytes written and read on a connection; only its own virtual user touches them.
#[derive(Debug, Default)]
pub struct IoCounters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
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

    /// The first bytes of the latest answer (see `head`).
    fn head(&self) -> ([u8; 8], usize) {
        let v = self.head.load(Ordering::Relaxed);
        (v.to_le_bytes(), ((v >> 56) as usize).min(HEAD_BYTES))
    }
}

/// A TcpStream that counts bytes both ways and keeps the first bytes of each answer.
struct CountingIo {
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
    /// First `Set-Cookie` value, if any (looked up only when the call wants the body).
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
    quiet: Quiet,
    /// The last path sent and its parsed form: a loop sends the same path again and again, and
    /// `Uri::from_static` parses it every time.
    uri: Option<(&'static str, Uri)>,
    /// `-H` headers, sent on every request (usually none).
    extra: Arc<[(HeaderName, HeaderValue)]>,
    /// Bind this source address before connecting (see [`source_for`]).
    source: Option<std::net::IpAddr>,
    /// Where connects refused by the process's own limits are counted.
    limits: Option<Arc<OsLimits>>,
}

static JSON: HeaderValue = HeaderValue::from_static("application/json");

impl Client {
    pub fn new(addr: SocketAddr, timeout: Duration) -> Client {
        let host =
            HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid header value");
        Client {
            addr,
            host,
            timeout,
            conn: None,
            timer: None,
            counters: Arc::new(IoCounters::default()),
            quiet: Quiet::new(),
            uri: None,
            extra: Arc::from([]),
            source: None,
            limits: None,
        }
    }

    /// Connect from `source` (None: the system's choice) and count limit failures in `limits`.
    pub fn with_source(mut self, source: Option<std::net::IpAddr>, limits: Arc<OsLimits>) -> Client {
        self.source = source;
        self.limits = Some(limits);
        self
    }

    async fn open(&self) -> std::io::Result<TcpStream> {
        let Some(source) = self.source else { return TcpStream::connect(self.addr).await };
        let socket = match source {
            std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(source, 0))?;
        socket.connect(self.addr).await
    }

    /// Total bytes sent and received on every connection this client opened.
    /// Send `headers` on every request as well (`-H`).
    pub fn with_headers(mut self, headers: Arc<[(HeaderName, HeaderValue)]>) -> Client {
        self.extra = headers;
        self
    }

    pub fn bytes(&self) -> (u64, u64) {
        (self.counters.sent.load(Ordering::Relaxed), self.counters.received.load(Ordering::Relaxed))
    }

    async fn connect(&mut self, deadline: Instant) -> Result<(), ErrorKind> {
        let limit = CONNECT_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
        let stream = match tokio::time::timeout(limit, self.open()).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                if let Some(l) = &self.limits {
                    l.count(&e);
                }
                return Err(ErrorKind::of_connect(&e));
            }
            // The connect limit is the request's own deadline when that comes first.
            Err(_) if Instant::now() >= deadline => return Err(ErrorKind::Timeout),
            Err(_) => return Err(ErrorKind::Connect),
        };
        let _ = stream.set_nodelay(true);
        let io =
            TokioIo::new(CountingIo { inner: stream, counters: self.counters.clone(), head_len: 0, head: 0 });
        // Flatten: a request's head and small body go out in one `write` from one buffer, rather
        // than a `writev` of a queue of buffers (measured: less user time per request).
        let (sender, driver) =
            http1::Builder::new().writev(false).handshake(io).await.map_err(|_| ErrorKind::Closed)?;
        self.conn = Some(Conn { sender, driver: Box::pin(driver), done: false });
        Ok(())
    }

    /// Send one request and read its whole response; the timeout counts from `start` (the caller's
    /// clock reading, so the hot path reads the clock once per end). Any failure closes the connection.
    pub async fn call(&mut self, call: &Call, start: Instant) -> Result<Reply, ErrorKind> {
        let deadline = start + self.timeout;
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
        *req.uri_mut() = match &self.uri {
            Some((path, uri)) if std::ptr::eq(*path, call.path) => uri.clone(),
            _ => {
                let uri = Uri::from_static(call.path);
                self.uri = Some((call.path, uri.clone()));
                uri
            }
        };
        let h = req.headers_mut();
        h.insert(header::HOST, self.host.clone());
        if let Some((name, value)) = &call.credential {
            h.insert(name.clone(), value.clone());
        }
        if call.json.is_some() {
            h.insert(header::CONTENT_TYPE, JSON.clone());
        }
        for (name, value) in self.extra.iter() {
            h.append(name.clone(), value.clone());
        }
        let Client { conn, timer, quiet, counters, .. } = self;
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        let conn = conn.as_mut().expect("connected above");
        // hyper's `send_request` future owns a channel receiver and does not borrow the sender.
        // Sending wakes the dispatcher, which `drive` polls next anyway.
        let sent = std::pin::pin!(quiet.round(|| conn.sender.send_request(req)).0);
        let response = drive(conn, timer, deadline, quiet, sent).await?.map_err(|e| {
            let (head, n) = counters.head();
            ErrorKind::of_head_error(&e, &head[..n])
        })?;
        let status = response.status();
        let set_cookie =
            if call.want_body { response.headers().get(header::SET_COOKIE).cloned() } else { None };
        let mut body = response.into_body();
        let mut kept = Vec::new();
        // A Content-Length body reports its end with its last frame: no extra poll for `None`.
        while !hyper::body::Body::is_end_stream(&body) {
            match drive(conn, timer, deadline, quiet, std::pin::pin!(body.frame())).await? {
                None => break,
                Some(Err(e)) => return Err(ErrorKind::of_body_error(&e)),
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
    quiet: &Quiet,
    // Pinned by the caller: hyper's request future is a few hundred bytes, not worth moving.
    mut fut: Pin<&mut F>,
) -> Result<F::Output, ErrorKind> {
    std::future::poll_fn(|cx| {
        quiet.state.task.register(cx.waker());
        let mut icx = Context::from_waker(&quiet.waker);
        for _ in 0..QUIET_ROUNDS {
            let (polled, woken) = quiet.round(|| {
                if let Poll::Ready(v) = fut.as_mut().poll(&mut icx) {
                    return Some(Ok(v));
                }
                if !conn.done && conn.driver.as_mut().poll(&mut icx).is_ready() {
                    conn.done = true;
                    // The dispatcher is gone: the request future resolves now (with an error) or never.
                    return Some(match fut.as_mut().poll(&mut icx) {
                        Poll::Ready(v) => Ok(v),
                        Poll::Pending => Err(ErrorKind::Closed),
                    });
                }
                while timer.as_mut().poll(&mut icx).is_ready() {
                    if Instant::now() >= deadline {
                        return Some(Err(ErrorKind::Timeout));
                    }
                    timer.as_mut().reset(deadline);
                }
                None
            });
            if let Some(out) = polled {
                return Poll::Ready(out);
            }
            // Woken by our own polling (the driver handed `fut` its answer, or took a request
            // off its channel): poll again now instead of a round trip through the scheduler.
            if !woken {
                return Poll::Pending;
            }
        }
        // Still being woken (a cooperative-budget yield, say): give the task back to the scheduler.
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// How many times [`drive`] re-polls in place before yielding to the scheduler.
const QUIET_ROUNDS: usize = 4;

/// The waker [`drive`] polls hyper's futures with. In a closed loop, most wake-ups of a virtual
/// user's task come from its own polling: hyper's dispatcher and its `SendRequest` talk over
/// channels, and each hand-over wakes the other side — which is this same task. Through tokio's
/// waker each such wake-up costs a reschedule and a spurious full poll of the task (measured:
/// about one per request, ~0.3 µs of user CPU). This waker notes a wake-up raised *on this thread
/// while this client polls* (it re-polls at once) and forwards every other one (socket readiness,
/// the timer, any other thread) to the task, so no wake-up is ever lost. Hand-written because no
/// crate offers "coalesce self-wakes" for futures polled in place.
struct Quiet {
    state: Arc<QuietState>,
    waker: Waker,
}

#[derive(Default)]
struct QuietState {
    task: AtomicWaker,
}

thread_local! {
    /// The [`QuietState`] this thread is polling under right now (null: none), and whether it
    /// was woken meanwhile.
    static POLLING: Cell<*const QuietState> = const { Cell::new(std::ptr::null()) };
    static WOKEN: Cell<bool> = const { Cell::new(false) };
}

impl Wake for QuietState {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if POLLING.get() == Arc::as_ptr(self) {
            WOKEN.set(true);
        } else {
            self.task.wake();
        }
    }
}

impl Quiet {
    fn new() -> Quiet {
        let state = Arc::new(QuietState::default());
        Quiet { waker: Waker::from(state.clone()), state }
    }

    /// Run `f` with this client's self-wakes noted rather than forwarded; returns `f`'s result
    /// and whether anything woke it meanwhile.
    fn round<T>(&self, f: impl FnOnce() -> T) -> (T, bool) {
        // Restores the thread's previous state even if `f` panics (tokio keeps running other
        // tasks on this thread; a stale pointer here could swallow another client's wake-ups).
        struct Restore(*const QuietState, bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                POLLING.set(self.0);
                WOKEN.set(self.1);
            }
        }
        let restore = Restore(POLLING.replace(Arc::as_ptr(&self.state)), WOKEN.replace(false));
        let out = f();
        let woken = WOKEN.get();
        drop(restore);
        (out, woken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_connections_spread_over_eight_source_addresses() {
        let target: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let sources: std::collections::BTreeSet<_> =
            (0..100).map(|n| source_for(target, n).unwrap()).collect();
        assert_eq!(sources.len(), 8);
        assert!(sources.iter().all(|s| s.is_loopback()));
        assert_eq!(
            source_for("10.0.0.1:80".parse().unwrap(), 3),
            None,
            "a remote target: the system's route"
        );
        assert_eq!(source_for("[::1]:80".parse().unwrap(), 3), None);
    }

    #[tokio::test]
    async fn a_client_connects_from_its_source_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = Client::new(addr, Duration::from_secs(1))
            .with_source(source_for(addr, 2), Arc::new(OsLimits::default()));
        let (_stream, (_, peer)) = tokio::join!(client.open(), async { listener.accept().await.unwrap() });
        assert_eq!(peer.ip(), "127.0.0.3".parse::<std::net::IpAddr>().unwrap());
    }

    /// A task waker that counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicU64);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn quiet_with_task() -> (Quiet, Arc<Count>) {
        let quiet = Quiet::new();
        let count = Arc::new(Count::default());
        quiet.state.task.register(&Waker::from(count.clone()));
        (quiet, count)
    }

    #[test]
    fn a_wake_raised_while_polling_on_this_thread_is_noted_not_forwarded() {
        let (quiet, task) = quiet_with_task();
        let ((), woken) = quiet.round(|| quiet.waker.wake_by_ref());
        assert!(woken);
        assert_eq!(task.0.load(Ordering::SeqCst), 0);
        // And the next round starts clean.
        let ((), woken) = quiet.round(|| ());
        assert!(!woken);
    }

    #[test]
    fn wakes_outside_a_round_or_from_another_thread_reach_the_task() {
        let (quiet, task) = quiet_with_task();
        quiet.waker.wake_by_ref();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);

        quiet.state.task.register(&Waker::from(task.clone()));
        let waker = quiet.waker.clone();
        let ((), woken) = quiet.round(|| std::thread::spawn(move || waker.wake()).join().unwrap());
        assert!(!woken, "another thread's wake is not this round's");
        assert_eq!(task.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn another_clients_wake_during_a_round_is_forwarded() {
        let (a, _) = quiet_with_task();
        let (b, b_task) = quiet_with_task();
        let ((), woken) = a.round(|| b.waker.wake_by_ref());
        assert!(!woken);
        assert_eq!(b_task.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panicking_round_leaves_the_thread_clean() {
        let (quiet, task) = quiet_with_task();
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| quiet.round(|| panic!("boom"))));
        assert!(caught.is_err());
        assert!(POLLING.get().is_null());
        quiet.waker.wake_by_ref();
        assert_eq!(task.0.load(Ordering::SeqCst), 1, "wakes are forwarded again after the panic");
    }
}
